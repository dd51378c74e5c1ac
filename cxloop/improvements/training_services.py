"""Write side of training: courses, assignments (by hand or when a standard changes), a
person's "done" and their manager's confirmation. Each write is one function here; pages,
the improvement cycle and the demo call these (docs/decisions/017-training-in-improvements.md)."""

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from cxloop.audit.choices import Action
from cxloop.audit.services import record as audit
from cxloop.improvements.training import Assignment, Course
from cxloop.people.models import Employee
from cxloop.people.queries import subtree_ids


class TrainingError(ValueError):
    """A training write refused, with the form field it is about."""

    def __init__(self, message: str, field: str = "__all__"):
        super().__init__(message)
        self.field = field


def _audit(action: str, course: Course, **details) -> None:
    audit(
        action,
        kind="course",
        object_id=course.pk,
        label=f"{course.reference} {course.title}",
        details=details,
    )


def create_course(
    *,
    title: str,
    touchpoints: Iterable,
    by,
    now: dt.datetime,
    title_en: str = "",
    description: str = "",
    due_days: int | None = None,
    assign_on_change: bool = True,
    standards: Iterable = (),
) -> Course:
    """A course on ``touchpoints``; ``standards``: the versions it teaches (default: the
    touchpoints' current ones)."""
    title, title_en = title.strip(), title_en.strip()
    touchpoints = list(touchpoints)
    if not title:
        raise TrainingError(_("Give the course a title."), "title")
    if not touchpoints:
        raise TrainingError(_("Choose the touchpoints the course covers."), "touchpoints")
    if due_days is not None and not 1 <= int(due_days) <= 365:
        raise TrainingError(
            _("Days to complete must be from 1 to 365, not %(value)s.") % {"value": due_days},
            "due_days",
        )
    with transaction.atomic():
        course = Course.objects.create(
            title=title,
            title_en=title_en,
            description=description.strip(),
            due_days=due_days or Course._meta.get_field("due_days").default,
            assign_on_change=assign_on_change,
            created_at=now,
            created_by=by,
        )
        course.touchpoints.set(touchpoints)
        standards = list(standards) or _current_standards(touchpoints)
        course.standards.set(standards)
        _audit(Action.CREATE, course, touchpoints=[getattr(t, "pk", t) for t in touchpoints])
    return course


def _current_standards(touchpoints) -> list:
    """The latest standard version of each touchpoint that has one."""
    latest = []
    for touchpoint in touchpoints:
        standard = touchpoint.standards.order_by("-version").first()
        if standard is not None:
            latest.append(standard)
    return latest


def assign_course(
    course: Course,
    employees: Iterable[Employee],
    *,
    by,
    now: dt.datetime,
    due_on: dt.date | None = None,
    standard=None,
) -> list[Assignment]:
    """Assign ``course`` to each of ``employees`` (a team's: :func:`people_of_teams`), due
    by ``due_on`` (default: the course's days to complete from today); ``standard``: the new
    standard version that caused it. A person who already has the course open keeps that
    assignment. Returns the assignments made."""
    due_on = due_on or now.date() + dt.timedelta(days=course.due_days)
    if due_on < now.date():
        raise TrainingError(
            _("The due date %(value)s has passed.") % {"value": due_on.strftime("%d.%m.%Y")},
            "due_on",
        )
    with transaction.atomic():
        wanted = {e.pk: e for e in employees}
        open_already = set(
            course.assignments.filter(
                employee_id__in=list(wanted), confirmed_at__isnull=True
            ).values_list("employee_id", flat=True)
        )
        made = Assignment.objects.bulk_create(
            Assignment(
                course=course,
                employee=employee,
                standard=standard,
                due_on=due_on,
                assigned_at=now,
                assigned_by=by,
            )
            for pk, employee in sorted(wanted.items())
            if pk not in open_already
        )
        if made:
            _audit(
                Action.CHANGE,
                course,
                assigned=[a.employee_id for a in made],
                due_on=due_on.isoformat(),
            )
    return made


def people_of_teams(team_ids: Iterable[int]) -> list[Employee]:
    """The active people of the teams (their own people, not their sub-teams')."""
    return list(
        Employee.objects.filter(team_id__in=list(team_ids), user__is_active=True).order_by("pk")
    )


def assign_for_new_standards(standards: Iterable, *, by, now: dt.datetime) -> list[Assignment]:
    """A touchpoint got a new standard version: each course on it that is assigned on change
    now teaches that version and is assigned to the people of the team owning the touchpoint
    and of the teams below it,
    due after the course's days to complete. Called by the improvement cycle when an initiative
    is finished, in its transaction."""
    made: list[Assignment] = []
    for standard in standards:
        touchpoint = standard.touchpoint
        for course in Course.objects.filter(touchpoints=touchpoint, assign_on_change=True):
            course.standards.add(standard)
            if touchpoint.team_id is not None:
                # The team that owns it and the teams below it: a region owns the touchpoint,
                # its practices carry it out.
                people = people_of_teams(subtree_ids(touchpoint.team_id))
                made += assign_course(course, people, by=by, now=now, standard=standard)
    return made


def mark_completed(assignment: Assignment, *, by, now: dt.datetime) -> bool:
    """The person says they took the course; False when it was already marked (nothing
    written). Only the assignment's own person may."""
    if by is None or by.pk != assignment.employee_id:
        raise TrainingError(_("Only the person assigned may mark the course done."))
    with transaction.atomic():
        marked = Assignment.objects.filter(pk=assignment.pk, completed_at__isnull=True).update(
            completed_at=now
        )
        if marked:
            _audit(Action.CHANGE, assignment.course, completed=assignment.pk)
    return bool(marked)


def confirm_completion(assignment: Assignment, *, by, now: dt.datetime) -> bool:
    """The manager confirms a course the person marked done; False when it was already
    confirmed (a second click). Who may is :func:`cxloop.improvements.training_queries.
    may_confirm`'s rule, checked by the caller that knows the user."""
    if assignment.completed_at is None:
        raise TrainingError(_("The person has not marked this course done yet."))
    with transaction.atomic():
        confirmed = Assignment.objects.filter(
            pk=assignment.pk, completed_at__isnull=False, confirmed_at__isnull=True
        ).update(confirmed_at=now, confirmed_by=by)
        if confirmed:
            _audit(Action.CHANGE, assignment.course, confirmed=assignment.pk)
    return bool(confirmed)


def send_back(assignment: Assignment, *, by, now: dt.datetime) -> bool:
    """The manager does not confirm: the course is open again for the person (False when it
    was not waiting for confirmation)."""
    with transaction.atomic():
        reopened = Assignment.objects.filter(
            pk=assignment.pk, completed_at__isnull=False, confirmed_at__isnull=True
        ).update(completed_at=None)
        if reopened:
            _audit(Action.CHANGE, assignment.course, sent_back=assignment.pk)
    return bool(reopened)
