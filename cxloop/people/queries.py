"""Read side of people: roles and the part of the team hierarchy a user may see."""

import contextlib
import contextvars
import datetime as dt
from collections.abc import Collection, Iterator

from django.db.models import Count, Q, QuerySet

from cxloop.lib import workhours
from cxloop.people.models import (
    BusinessCalendar,
    CalendarDay,
    Employee,
    Idea,
    IdeaStatus,
    Role,
    Team,
)

ORGANISATION_WIDE = frozenset({Role.ADMIN, Role.EXECUTIVE, Role.VIEWER})
# The states of an idea an initiative may be started from (declined ones are reopened first).
INITIATIVE_FROM = (IdeaStatus.NEW, IdeaStatus.REVIEWING, IdeaStatus.ACCEPTED)


def employee_of(user) -> Employee | None:
    try:
        return user.employee
    except Employee.DoesNotExist:
        return None


def role_of(user) -> str:
    """A superuser without an employee record acts as an administrator."""
    employee = employee_of(user)
    if employee is not None:
        return employee.role
    return Role.ADMIN if user.is_superuser else Role.VIEWER


def subtree_ids(root_id: int) -> list[int]:
    """The team and every team below it, walked breadth-first over (id, parent) pairs."""
    children: dict[int | None, list[int]] = {}
    for team_id, parent_id in Team.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(team_id)
    found, frontier = [root_id], [root_id]
    while frontier:
        frontier = [child for team_id in frontier for child in children.get(team_id, [])]
        found.extend(frontier)
    return found


def visible_teams(user) -> QuerySet[Team]:
    """Administrators, executives and viewers see every team; managers their subtree; employees
    their own team."""
    role, employee = role_of(user), employee_of(user)
    teams = Team.objects.annotate(employee_count=Count("employees")).select_related("parent")
    if role in ORGANISATION_WIDE:
        return teams
    if employee is None:
        return teams.none()
    if role == Role.MANAGER:
        return teams.filter(id__in=subtree_ids(employee.team_id))
    return teams.filter(id=employee.team_id)


def administers_cx(user) -> bool:
    """Whether ``user`` runs the CX programme: designs and sends surveys."""
    return role_of(user) == Role.ADMIN


def visible_team_ids(user) -> list[int] | None:
    """The ids of :func:`visible_teams`, or None when the user sees the whole organisation."""
    if role_of(user) in ORGANISATION_WIDE:
        return None
    return list(visible_teams(user).values_list("id", flat=True))


def may_record_feedback(user) -> bool:
    """Everyone but read-only viewers logs what clients told them."""
    return employee_of(user) is not None and role_records_feedback(role_of(user))


def role_records_feedback(role: str) -> bool:
    return role != Role.VIEWER


def may_record_for_team(
    employee: Employee | None, team_id: int | None, *, with_parents: Collection[int] = ()
) -> bool:
    """Whether ``employee`` may record feedback about a customer owned by team ``team_id``
    (``with_parents``: that team and every team above it; None: a customer nobody owns).

    The same reach as reading (:func:`visible_teams`), less the viewers': administrators and
    executives record for any customer, managers for their subtree, employees for their own
    team, viewers for none. Reads nothing from the database."""
    if employee is None or not role_records_feedback(employee.role):
        return False
    if employee.role in ORGANISATION_WIDE:
        return True
    if team_id is None:
        return False
    if employee.role == Role.MANAGER:
        return employee.team_id == team_id or employee.team_id in with_parents
    return employee.team_id == team_id


def visible_ideas(user) -> QuerySet[Idea]:
    """Signed ideas of the teams the user sees; anonymous ones only for the CX lead and
    executives (a small team's manager could guess the author)."""
    ideas = Idea.objects.select_related("author__user", "team")
    team_ids = visible_team_ids(user)
    if team_ids is None:
        return ideas if role_of(user) in (Role.ADMIN, Role.EXECUTIVE) else ideas.exclude(team=None)
    return ideas.filter(team_id__in=team_ids)


def may_answer_idea(employee: Employee | None, idea: Idea) -> bool:
    """Who moves an idea and answers its author: the CX lead and executives any idea, a
    manager the signed ideas of their part of the hierarchy (an anonymous one keeps no team)."""
    if employee is None:
        return False
    if employee.role in (Role.ADMIN, Role.EXECUTIVE):
        return True
    return (
        employee.role == Role.MANAGER
        and idea.team_id is not None
        and idea.team_id in subtree_ids(employee.team_id)
    )


def answerable_ideas(user) -> QuerySet[Idea]:
    """The ideas ``user`` may move and answer (:func:`may_answer_idea`)."""
    role, employee = role_of(user), employee_of(user)
    if employee is None:
        return Idea.objects.none()
    if role in (Role.ADMIN, Role.EXECUTIVE):
        return Idea.objects.all()
    if role == Role.MANAGER:
        return Idea.objects.filter(team_id__in=subtree_ids(employee.team_id))
    return Idea.objects.none()


def ideas_for_initiatives(user) -> QuerySet[Idea]:
    """The ideas ``user`` may start an initiative from: those they answer, still open."""
    return answerable_ideas(user).filter(status__in=INITIATIVE_FROM)


def own_ideas(user) -> QuerySet[Idea]:
    """The ideas ``user`` sent under their name, with their answers."""
    employee = employee_of(user)
    if employee is None:
        return Idea.objects.none()
    return Idea.objects.filter(author=employee).select_related("answered_by__user")


def answered_anonymous_ideas() -> QuerySet[Idea]:
    """Anonymous ideas with an answer: the answer is public (the ideas page shows it to
    everyone), since it cannot be sent to an author nobody knows."""
    return Idea.objects.filter(author=None, team=None).exclude(answer="")


def teams_ranking_people() -> list[int]:
    """The teams whose people appear by name on the weekly weigh-in (``Team.ranks_people``)."""
    return list(Team.objects.filter(ranks_people=True).values_list("pk", flat=True))


def employees_named(ids: Collection[int]) -> dict[int, Employee]:
    """The employees of ``ids`` with their users, by id."""
    return Employee.objects.select_related("user").in_bulk(list(ids))


def employees_with_usernames(usernames: Collection[str]) -> QuerySet[Employee]:
    """The employees whose users are called one of ``usernames``, with their users."""
    return Employee.objects.select_related("user").filter(user__username__in=list(usernames))


def employees_with_role(role: str) -> QuerySet[Employee]:
    return Employee.objects.select_related("user").filter(role=role)


def teams_named(ids: list[int]) -> QuerySet[Team]:
    return Team.objects.filter(pk__in=ids)


def team_paths(ids: list[int]) -> dict[int, str]:
    """Each team's name after those of the teams above it ("Firm › Sales"), by id: two teams
    of the same name under different parents stay apart on a page."""
    teams = Team.objects.only("id", "parent_id", "name", "name_en")
    parents = {team.pk: team.parent_id for team in teams}
    names = {team.pk: team.label for team in teams}
    paths = {}
    for team_id in ids:
        chain, seen = [], set()
        current = team_id
        while current is not None and current not in seen:
            seen.add(current)
            chain.append(names.get(current, ""))
            current = parents.get(current)
        paths[team_id] = " › ".join(reversed(chain))
    return paths


# When no calendar is stored at all: Moscow, Monday to Friday 9–18, no holidays.
FALLBACK_CALENDAR = workhours.Calendar(
    time_zone="Europe/Moscow",
    work_days=frozenset(range(1, 6)),
    day_start=dt.time(9),
    day_end=dt.time(18),
)


class Calendars:
    """Every business calendar, and which one each team works to (its own, else its nearest
    parent's, else the default), read in three queries."""

    def __init__(self):
        exceptions: dict[int, dict[dt.date, bool]] = {}
        for calendar_id, date, is_working in CalendarDay.objects.values_list(
            "calendar_id", "date", "is_working"
        ):
            exceptions.setdefault(calendar_id, {})[date] = is_working
        self.by_id: dict[int | None, workhours.Calendar] = {None: FALLBACK_CALENDAR}
        self.default_id = None
        for row in BusinessCalendar.objects.all():
            self.by_id[row.pk] = _plain(row, exceptions.get(row.pk, {}))
            if row.is_default:
                self.default_id = row.pk
        self._teams = {
            pk: (parent_id, calendar_id)
            for pk, parent_id, calendar_id in Team.objects.values_list("pk", "parent", "calendar")
        }

    def id_for_team(self, team_id: int | None) -> int | None:
        seen = set()
        while team_id is not None and team_id not in seen:
            seen.add(team_id)
            parent_id, calendar_id = self._teams.get(team_id, (None, None))
            if calendar_id is not None:
                return calendar_id
            team_id = parent_id
        return self.default_id

    def for_team(self, team_id: int | None) -> workhours.Calendar:
        return self.by_id[self.id_for_team(team_id)]

    def teams_by_calendar(self) -> dict[int | None, list[int]]:
        """Each calendar's id with the ids of the teams that work to it."""
        grouped: dict[int | None, list[int]] = {}
        for team_id in self._teams:
            grouped.setdefault(self.id_for_team(team_id), []).append(team_id)
        return grouped


def _plain(row: BusinessCalendar, exceptions: dict[dt.date, bool]) -> workhours.Calendar:
    return workhours.Calendar(
        time_zone=row.time_zone,
        work_days=frozenset(int(day) for day in row.work_days),
        day_start=row.day_start,
        day_end=row.day_end,
        exceptions=exceptions,
    )


_kept: contextvars.ContextVar[list | None] = contextvars.ContextVar("calendars", default=None)


@contextlib.contextmanager
def calendars_kept() -> Iterator[None]:
    """Within it, :func:`current_calendars` (and so :func:`team_calendar`) reads the calendars
    once and reuses them: for work over many cases at once, such as evaluating alert rules
    over past days (each case opened read them twice: 15 ms of its 40). A calendar edited
    meanwhile is seen after it."""
    token = _kept.set([])
    try:
        yield
    finally:
        _kept.reset(token)


def current_calendars() -> Calendars:
    """The calendars: read now, or once inside :func:`calendars_kept`."""
    kept = _kept.get()
    if kept is None:
        return Calendars()
    if not kept:
        kept.append(Calendars())
    return kept[0]


def team_calendar(team_id: int | None) -> workhours.Calendar:
    """The calendar team ``team_id`` works to (None: the default calendar)."""
    return current_calendars().for_team(team_id)


def manager_chain(team_id: int, *, skip: Collection[int] = ()) -> list[Employee]:
    """The managers above a person of team ``team_id``: the first manager of that team, then of
    each team above it in turn, one per team, leaving out the employees in ``skip`` (the person
    themselves) and anyone already named."""
    managers: dict[int, Employee] = {}
    for employee in Employee.objects.filter(role=Role.MANAGER).exclude(pk__in=skip).order_by("pk"):
        managers.setdefault(employee.team_id, employee)
    parents = dict(Team.objects.values_list("pk", "parent"))
    chain, seen_teams = [], set()
    while team_id is not None and team_id not in seen_teams:
        seen_teams.add(team_id)
        manager = managers.get(team_id)
        if manager is not None and manager not in chain:
            chain.append(manager)
        team_id = parents.get(team_id)
    return chain


def employees_with_email(ids: Collection[int]) -> QuerySet[Employee]:
    """The employees among ``ids`` who have an e-mail address, with their login."""
    return _with_email(Employee.objects.filter(pk__in=ids))


def weekly_digest_due(monday: dt.date) -> QuerySet[Employee]:
    """The employees with an e-mail address who have not had the weekly digest of the week
    starting ``monday``."""
    not_yet = Q(weigh_in_sent_for__isnull=True) | Q(weigh_in_sent_for__lt=monday)
    return _with_email(Employee.objects.filter(not_yet))


def _with_email(employees: QuerySet[Employee]) -> QuerySet[Employee]:
    return employees.filter(user__is_active=True).exclude(user__email="").select_related("user")


def business_calendars() -> QuerySet[BusinessCalendar]:
    """Every business calendar with how many teams work to it by choice."""
    return BusinessCalendar.objects.annotate(team_count=Count("teams"))


def business_calendar(pk: int) -> BusinessCalendar | None:
    return BusinessCalendar.objects.filter(pk=pk).first()


def calendar_days(calendar: BusinessCalendar, year: int) -> QuerySet[CalendarDay]:
    """The calendar's holidays and transferred working days of ``year``."""
    return calendar.days.filter(date__year=year)


def ideas_signed(employee_ids, since: dt.date, until: dt.date) -> dict[int, int]:
    """How many ideas each employee sent under their name from ``since`` to ``until``."""
    rows = Idea.objects.filter(
        author_id__in=list(employee_ids), created_on__gte=since, created_on__lte=until
    )
    return dict(rows.values("author_id").annotate(n=Count("pk")).values_list("author_id", "n"))


def champions() -> QuerySet[Employee]:
    """The CX champions, with their users and teams."""
    return Employee.objects.filter(is_champion=True).select_related("user", "team")


def teams_with_people() -> QuerySet[Team]:
    """The teams that have employees of their own (not only sub-teams)."""
    return Team.objects.filter(employees__isnull=False).distinct()


def team_members(team_ids: Collection[int] | None = None) -> dict[int, int]:
    """The team of each employee of ``team_ids`` (its own people, not its sub-teams'; None:
    every team), by employee id."""
    rows = Employee.objects.all()
    if team_ids is not None:
        rows = rows.filter(team_id__in=list(team_ids))
    return dict(rows.values_list("pk", "team_id"))


def scorecard_people(user) -> QuerySet[Employee]:
    """Whose scorecards ``user`` sees: everyone's for administrators, executives and viewers;
    a manager those of the people of their part of the hierarchy; an employee their own."""
    role, employee = role_of(user), employee_of(user)
    people = Employee.objects.select_related("user", "team")
    if role in ORGANISATION_WIDE:
        return people
    if employee is None:
        return people.none()
    if role == Role.MANAGER:
        return people.filter(team_id__in=subtree_ids(employee.team_id))
    return people.filter(pk=employee.pk)


def scorecard_teams(user) -> QuerySet[Team]:
    """The teams whose scorecards ``user`` sees: every team for administrators, executives and
    viewers; a manager their part of the hierarchy; an employee none (their own scorecard is
    theirs to see, their colleagues' figures are not)."""
    role, employee = role_of(user), employee_of(user)
    if role in ORGANISATION_WIDE:
        return Team.objects.all()
    if role == Role.MANAGER and employee is not None:
        return Team.objects.filter(pk__in=subtree_ids(employee.team_id))
    return Team.objects.none()
