"""Face-to-face follow-ups as tracked actions: what was agreed with a client at a meeting, with
an owner and a due date. Read and write side in one place, small as they are.

Scope as for meetings: a follow-up is seen by whoever sees its meeting's customer (the customer's
team decides) and by its owner; a read-only viewer sees them all and changes none."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from cxloop.feedback.models import FaceToFaceRecord, FollowUp
from cxloop.people.models import Employee, Role
from cxloop.people.queries import employee_of, role_of, visible_team_ids


def visible_follow_ups(user) -> QuerySet[FollowUp]:
    follow_ups = FollowUp.objects.select_related("record__customer", "owner__user", "owner__team")
    team_ids = visible_team_ids(user)
    if team_ids is None:
        return follow_ups
    employee = employee_of(user)
    if employee is None:
        return follow_ups.none()
    return follow_ups.filter(
        Q(owner=employee)
        | Q(owner__team_id__in=team_ids)
        | Q(record__customer__owner__team_id__in=team_ids)
    )


@dataclass(frozen=True)
class FollowUpFilter:
    """``mine``: owned by the user; ``overdue``: not done and due before ``today``; ``done``:
    True only done ones, False only open ones, None both."""

    mine: bool = False
    owner_id: int | None = None
    overdue: bool = False
    done: bool | None = False


def follow_ups_matching(user, where: FollowUpFilter, *, today: dt.date) -> QuerySet[FollowUp]:
    """The user's visible follow-ups narrowed by ``where``: open ones first by due date (the
    overdue lead), then those done, latest first."""
    follow_ups = visible_follow_ups(user)
    if where.mine:
        follow_ups = follow_ups.filter(owner=employee_of(user))
    if where.owner_id is not None:
        follow_ups = follow_ups.filter(owner_id=where.owner_id)
    if where.done is not None:
        follow_ups = follow_ups.filter(done_at__isnull=not where.done)
    if where.overdue:
        follow_ups = follow_ups.filter(done_at__isnull=True, due_on__lt=today)
    return follow_ups.order_by("-done_at", "due_on", "pk")


def follow_up_owners(user) -> QuerySet[Employee]:
    """The owners of the follow-ups the user sees, for the list's filter."""
    owner_ids = visible_follow_ups(user).order_by().values("owner_id")
    return (
        Employee.objects.filter(pk__in=owner_ids)
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
    )


def visible_follow_up(user, pk: int) -> FollowUp:
    return get_object_or_404(visible_follow_ups(user), pk=pk)


def may_complete(user) -> bool:
    """Anyone who sees a follow-up may mark it done, except a read-only viewer."""
    return role_of(user) != Role.VIEWER and employee_of(user) is not None


def mark_done(follow_up: FollowUp, *, now: dt.datetime) -> bool:
    """Mark the follow-up done (False, changing nothing, when it already was: a second click
    keeps the first time)."""
    updated = FollowUp.objects.filter(pk=follow_up.pk, done_at__isnull=True).update(done_at=now)
    return updated == 1


def visible_meeting(user, pk: int) -> FaceToFaceRecord:
    """A face-to-face record the user may see (its customer's team decides), or 404."""
    records = FaceToFaceRecord.objects.select_related("customer", "response")
    team_ids = visible_team_ids(user)
    if team_ids is not None:
        records = records.filter(customer__owner__team_id__in=team_ids)
    return get_object_or_404(records.prefetch_related("contacts"), pk=pk)
