"""Read side of people: roles and the part of the team hierarchy a user may see."""

from collections.abc import Collection

from django.db.models import Count, QuerySet

from cxloop.people.models import Employee, Idea, Role, Team

ORGANISATION_WIDE = frozenset({Role.ADMIN, Role.EXECUTIVE, Role.VIEWER})


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
