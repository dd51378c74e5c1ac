"""Read side of the closed loop: which cases a user may see and act on."""

from django.db.models import Q, QuerySet

from cxloop.cases.models import Case
from cxloop.people.models import Role
from cxloop.people.queries import ORGANISATION_WIDE, employee_of, role_of, subtree_ids


def visible_cases(user) -> QuerySet[Case]:
    """Administrators, executives and viewers see every case; a manager the cases owned in,
    assigned to, or about customers owned in their part of the hierarchy; an employee the cases
    they own or that are on customers they own; anyone else none."""
    cases = Case.objects.all()
    role, employee = role_of(user), employee_of(user)
    if role in ORGANISATION_WIDE:
        return cases
    if employee is None:
        return cases.none()
    if role == Role.MANAGER:
        teams = subtree_ids(employee.team_id)
        return cases.filter(
            Q(team_id__in=teams)
            | Q(owner__team_id__in=teams)
            | Q(customer__owner__team_id__in=teams)
        )
    return cases.filter(Q(owner=employee) | Q(customer__owner=employee))


def may_act(user, case: Case) -> bool:
    """Whether ``user`` may change ``case``: anyone who sees it except a read-only viewer."""
    if role_of(user) == Role.VIEWER:
        return False
    return visible_cases(user).filter(pk=case.pk).exists()
