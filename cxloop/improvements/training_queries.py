"""Read side of training: how far people and teams have come (:func:`training_status`,
:func:`training_coverage_by_team`, the figures scorecards and dashboards read), who sees which
assignments and who may confirm them.

Who sees what: everyone signed in sees the courses; the assignments and coverage of the teams
they see (:func:`cxloop.people.queries.visible_teams`: all for the CX lead, executives and
viewers, a manager's part of the hierarchy, an employee their own). Who acts: the person marks
their own assignment done; a manager of the person's team or a team above it, the CX lead or an
executive confirms it (not their own) and assigns courses to the teams they see; the CX lead and
executives add courses; a viewer reads."""

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import Q, QuerySet

from cxloop.improvements.training import Assignment, Course
from cxloop.people.models import Employee, Role
from cxloop.people.queries import (
    ORGANISATION_WIDE,
    employee_of,
    role_of,
    subtree_ids,
    visible_team_ids,
)

ASSIGNERS = frozenset({Role.ADMIN, Role.EXECUTIVE, Role.MANAGER})


@dataclass(frozen=True)
class TrainingStatus:
    """Assignments given by a day (``assigned``), of them confirmed by then (``done``) and
    open past their due day (``overdue``)."""

    assigned: int = 0
    done: int = 0
    overdue: int = 0

    @property
    def share(self) -> float | None:
        """Done of assigned; None when nothing is assigned."""
        return self.done / self.assigned if self.assigned else None

    @property
    def open(self) -> int:
        return self.assigned - self.done

    def __add__(self, other: "TrainingStatus") -> "TrainingStatus":
        return TrainingStatus(
            self.assigned + other.assigned, self.done + other.done, self.overdue + other.overdue
        )


def _status_rows(assignments: QuerySet[Assignment], as_of: dt.date):
    """(employee id, team id, course id, confirmed, overdue) of each assignment given by
    ``as_of``, as it stood at the end of that day."""
    given = assignments.filter(assigned_at__date__lte=as_of)
    for employee_id, team_id, course_id, due_on, confirmed_at in given.values_list(
        "employee_id", "employee__team_id", "course_id", "due_on", "confirmed_at"
    ):
        confirmed = confirmed_at is not None and confirmed_at.date() <= as_of
        yield employee_id, team_id, course_id, confirmed, not confirmed and due_on < as_of


def _tally(rows, key) -> dict[int, TrainingStatus]:
    totals: dict[int, TrainingStatus] = {}
    for row in rows:
        _employee, _team, _course, confirmed, overdue = row
        one = TrainingStatus(1, int(confirmed), int(overdue))
        totals[key(row)] = totals.get(key(row), TrainingStatus()) + one
    return totals


def training_status(
    employee_ids: Collection[int] | None, *, as_of: dt.date
) -> dict[int, TrainingStatus]:
    """Each person's :class:`TrainingStatus` at the end of ``as_of`` (None: everyone's); a
    person with no assignment is absent. Trained means confirmed by the manager."""
    assignments = Assignment.objects.all()
    if employee_ids is not None:
        assignments = assignments.filter(employee_id__in=list(employee_ids))
    return _tally(_status_rows(assignments, as_of), key=lambda row: row[0])


def training_coverage_by_team(as_of: dt.date) -> dict[int, TrainingStatus]:
    """The totals of each team's own people (by their team now) at the end of ``as_of``."""
    return _tally(_status_rows(Assignment.objects.all(), as_of), key=lambda row: row[1])


def course_coverage_by_team(course: Course, as_of: dt.date) -> dict[int, TrainingStatus]:
    """:func:`training_coverage_by_team` of one course."""
    return _tally(_status_rows(course.assignments.all(), as_of), key=lambda row: row[1])


def coverage_by_course(
    as_of: dt.date, team_ids: Collection[int] | None
) -> dict[int, TrainingStatus]:
    """Each course's totals among the people of ``team_ids`` (None: everyone)."""
    assignments = Assignment.objects.all()
    if team_ids is not None:
        assignments = assignments.filter(employee__team_id__in=list(team_ids))
    return _tally(_status_rows(assignments, as_of), key=lambda row: row[2])


# --- pages ----------------------------------------------------------------------------------


def courses() -> QuerySet[Course]:
    return Course.objects.prefetch_related("touchpoints", "standards__touchpoint")


def course(pk: int) -> Course | None:
    return courses().filter(pk=pk).first()


def visible_assignments(user) -> QuerySet[Assignment]:
    """The assignments of the people of the teams ``user`` sees (an employee: their own)."""
    assignments = Assignment.objects.select_related(
        "course", "employee__user", "employee__team", "standard__touchpoint", "confirmed_by__user"
    )
    role, employee = role_of(user), employee_of(user)
    if role in ORGANISATION_WIDE:
        return assignments
    if employee is None:
        return assignments.none()
    if role == Role.MANAGER:
        return assignments.filter(employee__team_id__in=subtree_ids(employee.team_id))
    return assignments.filter(employee=employee)


def my_assignments(user) -> QuerySet[Assignment]:
    employee = employee_of(user)
    if employee is None:
        return Assignment.objects.none()
    return visible_assignments(user).filter(employee=employee)


def awaiting_confirmation(user) -> QuerySet[Assignment]:
    """The assignments marked done, not yet confirmed, that ``user`` may confirm."""
    waiting = visible_assignments(user).filter(
        completed_at__isnull=False, confirmed_at__isnull=True
    )
    if not may_assign(user):
        return waiting.none()
    employee = employee_of(user)
    return waiting.exclude(employee=employee) if employee is not None else waiting


def may_confirm(user, assignment: Assignment) -> bool:
    """A manager of the person's team or above, the CX lead or an executive; never one's own."""
    if not may_assign(user):
        return False
    employee = employee_of(user)
    if employee is not None and employee.pk == assignment.employee_id:
        return False
    return visible_assignments(user).filter(pk=assignment.pk).exists()


def may_create_course(user) -> bool:
    """The CX lead and executives add courses."""
    return role_of(user) in (Role.ADMIN, Role.EXECUTIVE)


def may_assign(user) -> bool:
    """Whether ``user`` gives courses (to the teams they see)."""
    return role_of(user) in ASSIGNERS


def assignable_people(user) -> QuerySet[Employee]:
    """The people ``user`` may assign a course to."""
    if not may_assign(user):
        return Employee.objects.none()
    people = Employee.objects.filter(user__is_active=True).select_related("user", "team")
    team_ids = visible_team_ids(user)
    return people if team_ids is None else people.filter(team_id__in=team_ids)


def overdue_candidates(today: dt.date) -> QuerySet[Assignment]:
    """Open assignments due before ``today`` (a day's slack covers every time zone) whose
    person has not been told yet: the overdue reminders' coarse list."""
    return Assignment.objects.filter(
        Q(confirmed_at__isnull=True),
        completed_at__isnull=True,
        overdue_told_at__isnull=True,
        due_on__lt=today + dt.timedelta(days=1),
    ).select_related("employee__user", "course")


def coverage_by_touchpoint(
    as_of: dt.date, team_ids: Collection[int] | None, *, course_id: int | None = None
) -> dict[int, TrainingStatus]:
    """For each touchpoint a course covers, the totals of the assignments of the courses on it
    (of ``course_id`` only when given) among the people of ``team_ids`` (None: everyone)."""
    assignments = Assignment.objects.all()
    if team_ids is not None:
        assignments = assignments.filter(employee__team_id__in=list(team_ids))
    if course_id is not None:
        assignments = assignments.filter(course_id=course_id)
    by_course = _tally(_status_rows(assignments, as_of), key=lambda row: row[2])
    totals: dict[int, TrainingStatus] = {}
    links = Course.touchpoints.through.objects.filter(course_id__in=list(by_course))
    for course_id_, touchpoint_id in links.values_list("course_id", "touchpoint_id"):
        totals[touchpoint_id] = totals.get(touchpoint_id, TrainingStatus()) + by_course[course_id_]
    return totals


def course_completions(course: Course) -> tuple[dict[int, dt.date], frozenset[int]]:
    """Who took ``course`` and on which day they said so (their first confirmed completion),
    and who said so but waits for their manager's confirmation (neither trained nor
    untrained: the course page leaves them out of its comparison)."""
    done: dict[int, dt.date] = {}
    waiting = set()
    rows = course.assignments.filter(completed_at__isnull=False).order_by("completed_at")
    for employee_id, completed_at, confirmed_at in rows.values_list(
        "employee_id", "completed_at", "confirmed_at"
    ):
        if confirmed_at is None:
            waiting.add(employee_id)
        else:
            done.setdefault(employee_id, completed_at.date())
    return done, frozenset(waiting - set(done))
