"""Overdue action items reach their owners, and overdue training assignments their people: one
e-mail per item through the outbox, in the recipient's language and time zone, sent only within
their working hours (their team's business calendar) — the way the closed loop tells case
owners (cxloop.cases.notify and mail), read here from people's calendars since this app sits
beside the cases and does not import them. Run by the worker each round (:func:`run_due`).

An item is overdue once its due day has passed in the owner's time zone. Each item is told
once: the claim is a conditional UPDATE of ``overdue_told_at`` in the same transaction as the
outbox row (whose key is unique too), so two workers, or a round run twice, send one e-mail."""

import datetime as dt
from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cxloop.improvements.choices import ACTIVE_STATES, EventKind
from cxloop.improvements.models import ActionItem
from cxloop.improvements.services import record
from cxloop.improvements.training import Assignment
from cxloop.improvements.training_queries import overdue_candidates
from cxloop.lib import workhours
from cxloop.outbox.services import enqueue_email
from cxloop.people.queries import Calendars


def initiative_link(initiative) -> str:
    return f"{settings.BASE_URL.rstrip('/')}/initiatives/{initiative.pk}/"


def run_due(now: dt.datetime, calendars: Calendars | None = None) -> int:
    """Queue the e-mail of each overdue action item and training assignment whose person is
    now at work; how many."""
    calendars = calendars or Calendars()
    return _action_items_due(now, calendars) + _training_due(now, calendars)


def _told_now(
    due_on: dt.date, team_id: int, calendars: Calendars, now: dt.datetime
) -> workhours.Calendar | None:
    """The person's calendar when ``due_on`` has passed in their time zone and they are at
    work now; None otherwise (after hours they hear of it when their working day starts)."""
    calendar = calendars.for_team(team_id)
    if due_on >= now.astimezone(calendar.zone).date():
        return None
    if workhours.next_working_moment(calendar, now) > now:
        return None
    return calendar


def _action_items_due(now: dt.datetime, calendars: Calendars) -> int:
    # Coarse in SQL (a day's slack covers every time zone), exact per owner below.
    candidates = ActionItem.objects.filter(
        done_at__isnull=True,
        overdue_told_at__isnull=True,
        due_on__lt=now.date() + dt.timedelta(days=1),
        initiative__state__in=ACTIVE_STATES,
    ).select_related("owner__user", "initiative")
    told = 0
    for item in candidates:
        calendar = _told_now(item.due_on, item.owner.team_id, calendars, now)
        if calendar is None:
            continue
        with transaction.atomic():
            if not _claim(ActionItem, item.pk, now):
                continue  # another worker told them
            record(
                item.initiative,
                EventKind.ACTION_OVERDUE,
                by=None,
                now=now,
                item=item.pk,
                owner={"id": item.owner_id, "name": str(item.owner)},
                due_on=item.due_on.isoformat(),
            )
            initiative = item.initiative
            told += _email(
                item.owner,
                calendar,
                now,
                template="action_overdue",
                key=f"action-overdue:{item.pk}",
                context={
                    "item": item,
                    "initiative": initiative,
                    "link": initiative_link(initiative),
                },
                subject=partial(_action_subject, item),
            )
    return told


def training_link() -> str:
    return f"{settings.BASE_URL.rstrip('/')}/training/mine/"


def _training_due(now: dt.datetime, calendars: Calendars) -> int:
    told = 0
    for assignment in overdue_candidates(now.date()):
        employee, course = assignment.employee, assignment.course
        calendar = _told_now(assignment.due_on, employee.team_id, calendars, now)
        if calendar is None:
            continue
        with transaction.atomic():
            if not _claim(Assignment, assignment.pk, now):
                continue  # another worker told them
            told += _email(
                employee,
                calendar,
                now,
                template="training_overdue",
                key=f"training-overdue:{assignment.pk}",
                context={"assignment": assignment, "course": course, "link": training_link()},
                subject=partial(_training_subject, assignment),
            )
    return told


def _action_subject(item: ActionItem) -> str:
    initiative = item.initiative
    return _("Action item overdue since %(day)s: %(initiative)s") % {
        "day": item.due_on.strftime("%d.%m.%Y"),
        "initiative": " ".join(f"{initiative.reference} {initiative.label}".split()),
    }


def _training_subject(assignment: Assignment) -> str:
    return _("Training overdue since %(day)s: %(course)s") % {
        "day": assignment.due_on.strftime("%d.%m.%Y"),
        "course": assignment.course.label,
    }


def _claim(model, pk: int, now: dt.datetime) -> bool:
    """Mark the row told at ``now``; False when it already was (another worker told them)."""
    return bool(
        model.objects.filter(pk=pk, overdue_told_at__isnull=True).update(overdue_told_at=now)
    )


def _email(
    recipient,
    calendar: workhours.Calendar,
    now: dt.datetime,
    *,
    template: str,
    key: str,
    context: dict,
    subject: Callable[[], str],
) -> bool:
    """Queue ``template``'s e-mail (text and HTML) to ``recipient`` in their language and time
    zone, with ``subject()`` worded in that language; False when they have no active address."""
    user = recipient.user
    if not (user.email and user.is_active):
        return False
    with translation.override(recipient.language), timezone.override(calendar.zone):
        context = {"recipient": recipient, **context}
        text = render_to_string(f"improvements/email/{template}.txt", context)
        html = render_to_string(f"improvements/email/{template}.html", context)
        worded = subject()
    enqueue_email(user.email, worded[:250], text, html=html, key=key, now=now)
    return True
