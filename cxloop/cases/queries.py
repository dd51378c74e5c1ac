"""Read side of the closed loop: which cases a user may see and act on, the case list's filters
and the case page's context."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case as Choose
from django.db.models import F, Q, QuerySet, When
from django.shortcuts import get_object_or_404

from cxloop.cases.choices import OPEN_STATES
from cxloop.cases.models import Case, CaseEvent, CaseTrigger, RootCause, SlaPolicy
from cxloop.journeys.models import Touchpoint
from cxloop.people.models import Employee, Role
from cxloop.people.queries import (
    ORGANISATION_WIDE,
    employee_of,
    role_of,
    subtree_ids,
    visible_team_ids,
)
from cxloop.search import contains_text


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


# The case list's tabs: whose cases, and who gets which (decided by role).
MINE, TEAM, ALL = "mine", "team", "all"


def case_tabs(user) -> list[str]:
    """An employee sees their own cases; a manager theirs and their part of the hierarchy's;
    the CX lead, executives and viewers every case (their own too, but a viewer owns none)."""
    role = role_of(user)
    tabs = [] if role == Role.VIEWER or employee_of(user) is None else [MINE]
    if role == Role.MANAGER:
        tabs.append(TEAM)
    if role in ORGANISATION_WIDE:
        tabs.append(ALL)
    return tabs


@dataclass(frozen=True)
class CaseFilter:
    """What the case list narrows to; every field optional. ``state`` is a state or "open"."""

    tab: str = ""
    state: str = ""
    overdue: bool = False
    priority: str = ""
    touchpoint_id: int | None = None
    root_cause_id: int | None = None
    customer_id: int | None = None
    owner_id: int | None = None
    text: str = ""


def _next_due():
    """The deadline that runs now: first contact until it happened, then resolution."""
    return Choose(
        When(
            first_contacted_at__isnull=True,
            first_contact_due__isnull=False,
            then=F("first_contact_due"),
        ),
        default=F("resolution_due"),
    )


def cases_matching(user, where: CaseFilter, *, now: dt.datetime) -> QuerySet[Case]:
    """The user's visible cases narrowed by ``where``: open ones first, by the deadline that
    runs now (so the overdue lead), each with ``next_due``."""
    cases = visible_cases(user)
    employee = employee_of(user)
    if where.tab == MINE:
        cases = cases.filter(owner=employee)
    if where.state == "open":
        cases = cases.filter(state__in=OPEN_STATES)
    elif where.state:
        cases = cases.filter(state=where.state)
    cases = cases.annotate(
        next_due=_next_due(),
        is_closed=Choose(When(state__in=OPEN_STATES, then=0), default=1),
    )
    if where.overdue:
        cases = cases.filter(state__in=OPEN_STATES, paused_at__isnull=True, next_due__lt=now)
    if where.priority:
        cases = cases.filter(priority=where.priority)
    if where.touchpoint_id is not None:
        cases = cases.filter(touchpoints__id=where.touchpoint_id)
    if where.root_cause_id is not None:
        cases = cases.filter(root_causes__id=where.root_cause_id)
    if where.customer_id is not None:
        cases = cases.filter(customer_id=where.customer_id)
    if where.owner_id is not None:
        cases = cases.filter(owner_id=where.owner_id)
    if where.text:
        cases = contains_text(cases, where.text, "title", "customer__name", "resolution")
    return cases.select_related("customer", "owner__user", "team").order_by(
        "is_closed", F("next_due").asc(nulls_last=True), "-opened_at", "-pk"
    )


def visible_case(user, pk: int) -> Case:
    """The case, or 404 when the user may not see it (as every other detail page)."""
    cases = visible_cases(user).select_related(
        "customer__owner__user",
        "contact",
        "owner__user",
        "team",
        "sla_policy",
        "rule_version__rule",
    )
    return get_object_or_404(cases, pk=pk)


def case_timeline(case: Case) -> QuerySet[CaseEvent]:
    return case.events.select_related("by__user").order_by("at", "pk")


def case_triggers(case: Case) -> QuerySet[CaseTrigger]:
    """The responses that raised or joined the case, with their survey and the rule version."""
    return case.triggers.select_related(
        "response__survey", "response__contact", "rule_version__rule"
    ).order_by("created_at", "pk")


def earlier_cases(case: Case, *, limit: int = 10) -> QuerySet[Case]:
    """Other cases of the same customer, newest first."""
    if case.customer_id is None:
        return Case.objects.none()
    return (
        Case.objects.filter(customer_id=case.customer_id)
        .exclude(pk=case.pk)
        .select_related("owner__user")
        .order_by("-opened_at")[:limit]
    )


def cases_of_customer(user, customer_id: int, *, limit: int = 10) -> QuerySet[Case]:
    """The customer's cases the user may see, open first, newest first."""
    return (
        visible_cases(user)
        .filter(customer_id=customer_id)
        .annotate(is_closed=Choose(When(state__in=OPEN_STATES, then=0), default=1))
        .select_related("owner__user")
        .order_by("is_closed", "-opened_at")[:limit]
    )


def assignable_employees(user) -> QuerySet[Employee]:
    """Whom the user may give a case to: the employees of the teams they see, viewers aside."""
    employees = Employee.objects.select_related("user", "team").exclude(role=Role.VIEWER)
    team_ids = visible_team_ids(user)
    if team_ids is not None:
        employees = employees.filter(team_id__in=team_ids)
    return employees.filter(user__is_active=True).order_by("user__last_name", "user__first_name")


def case_owners(user) -> QuerySet[Employee]:
    """The owners of the cases the user sees, for the list's owner filter."""
    owner_ids = visible_cases(user).exclude(owner=None).values("owner_id")
    return (
        Employee.objects.filter(pk__in=owner_ids)
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
    )


def sla_policies() -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.all()


def root_cause_choices(case: Case) -> QuerySet[RootCause]:
    """The causes the case may be given: the active ones of its touchpoints and the general
    ones, plus any it has already (a retired cause stays until someone takes it off)."""
    touchpoint_ids = list(case.touchpoints.values_list("pk", flat=True))
    return (
        RootCause.objects.filter(
            Q(is_active=True, touchpoint__isnull=True)
            | Q(is_active=True, touchpoint_id__in=touchpoint_ids)
            | Q(cases=case)
        )
        .select_related("touchpoint")
        .distinct()
        .order_by(F("touchpoint__name_ru").asc(nulls_first=True), "name_ru")
    )


def root_cause_taxonomy() -> QuerySet[RootCause]:
    """Every cause, general ones first, then by touchpoint and name."""
    return RootCause.objects.select_related("touchpoint").order_by(
        F("touchpoint__name_ru").asc(nulls_first=True), "name_ru"
    )


def touchpoint_choices() -> QuerySet[Touchpoint]:
    """Every touchpoint of the active journeys' stages, in journey order."""
    return Touchpoint.objects.select_related("stage__journey").order_by(
        "stage__journey__name_ru", "stage__order", "order"
    )


def may_work_cases(user) -> bool:
    """Whether the user opens, assigns and works cases: anyone with an employee record except
    a read-only viewer (which cases, :func:`visible_cases` and :func:`may_act` decide)."""
    return employee_of(user) is not None and role_of(user) != Role.VIEWER
