"""Read side of the closed loop: which cases a user may see and act on, the case list's filters
and the case page's context."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Case as Choose
from django.db.models import Count, F, Q, QuerySet, When
from django.shortcuts import get_object_or_404

from cxloop.cases import clocks
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
from cxloop.surveys.bands import BANDS
from cxloop.surveys.models import Answer, QuestionKind, Response, ResponseState


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
    opened_since: dt.datetime | None = None  # inclusive
    opened_before: dt.datetime | None = None  # exclusive
    team_ids: tuple[int, ...] | None = None  # None: any team


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
        fields = ("title", "title_en", "customer__name", "resolution")
        cases = contains_text(cases, where.text, *fields)
    if where.opened_since is not None:
        cases = cases.filter(opened_at__gte=where.opened_since)
    if where.opened_before is not None:
        cases = cases.filter(opened_at__lt=where.opened_before)
    if where.team_ids is not None:
        cases = cases.filter(team_id__in=where.team_ids)
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


# --- The closed loop's figures (read by cxloop.insights.loop) --------------------------------

DETRACTOR_MAX = BANDS["nps"]["detractor"][1]  # NPS 0–6


@dataclass(frozen=True)
class LoopCase:
    """What the loop's figures need of one case: its team, touchpoints and root causes, its
    clocks, and the working hours it took to first contact and to resolution (None while it
    has not happened) on the business calendar its clocks run on."""

    pk: int
    team_id: int | None
    state: str
    opened_at: dt.datetime
    first_contact_due: dt.datetime | None
    first_contacted_at: dt.datetime | None
    resolution_due: dt.datetime | None
    resolved_at: dt.datetime | None
    paused_at: dt.datetime | None
    breached_at: dt.datetime | None
    escalation_level: int
    detractor: bool
    touchpoint_ids: tuple[int, ...]
    root_cause_ids: tuple[int, ...]
    hours_to_first_contact: float | None
    hours_to_resolution: float | None
    owner_id: int | None = None


def loop_cases(
    user,
    *,
    opened_since: dt.datetime | None = None,
    opened_before: dt.datetime | None = None,
    open_only: bool = False,
    team_ids: list[int] | None = None,
    touchpoint_id: int | None = None,
    with_hours: bool = True,
) -> list[LoopCase]:
    """The user's visible cases opened in [opened_since, opened_before) (or every open one with
    ``open_only``), of ``team_ids`` (None: any) and on ``touchpoint_id`` (None: any), as
    :class:`LoopCase` rows; ``with_hours=False`` leaves the working hours out (None), which
    saves the calendar arithmetic. Four queries whatever the number of cases."""
    cases = _opened_in(visible_cases(user), opened_since, opened_before, open_only=open_only)
    if team_ids is not None:
        cases = cases.filter(team_id__in=team_ids)
    if touchpoint_id is not None:
        cases = cases.filter(touchpoints__id=touchpoint_id)
    return _as_loop_cases(cases, with_hours=with_hours)


def accountable_loop_cases(
    *,
    owner_ids: list[int] | None = None,
    team_ids: list[int] | None = None,
    opened_since: dt.datetime | None = None,
    opened_before: dt.datetime | None = None,
    open_only: bool = False,
) -> list[LoopCase]:
    """Every case (no viewer's scope: a scorecard's figures are the same whoever reads them)
    owned by one of ``owner_ids`` or of one of ``team_ids``, opened in [opened_since,
    opened_before) or open now with ``open_only``, as :class:`LoopCase` rows."""
    cases = Case.objects.filter(Q(owner_id__in=owner_ids or []) | Q(team_id__in=team_ids or []))
    cases = _opened_in(cases, opened_since, opened_before, open_only=open_only)
    return _as_loop_cases(cases, with_hours=not open_only)


def _opened_in(
    cases: QuerySet[Case],
    since: dt.datetime | None,
    before: dt.datetime | None,
    *,
    open_only: bool,
) -> QuerySet[Case]:
    if since is not None:
        cases = cases.filter(opened_at__gte=since)
    if before is not None:
        cases = cases.filter(opened_at__lt=before)
    return cases.filter(state__in=OPEN_STATES) if open_only else cases


def _as_loop_cases(cases: QuerySet[Case], *, with_hours: bool) -> list[LoopCase]:
    """``cases`` as :class:`LoopCase` rows; four queries whatever their number."""
    rows = list(cases.select_related("team").order_by("opened_at", "pk"))
    ids = [case.pk for case in rows]
    touchpoints: dict[int, list[int]] = {}
    for case_id, tp_id in Case.touchpoints.through.objects.filter(case_id__in=ids).values_list(
        "case_id", "touchpoint_id"
    ):
        touchpoints.setdefault(case_id, []).append(tp_id)
    causes: dict[int, list[int]] = {}
    for case_id, cause_id in Case.root_causes.through.objects.filter(case_id__in=ids).values_list(
        "case_id", "rootcause_id"
    ):
        causes.setdefault(case_id, []).append(cause_id)
    # The cases' triggers first, then those responses' NPS answers: the other way round reads
    # every detractor answer of the firm (180 ms against 18 on the full demo's 200 cases).
    triggers = list(
        CaseTrigger.objects.filter(case_id__in=ids).values_list("case_id", "response_id")
    )
    detractor_responses = set(
        Answer.objects.filter(
            response_id__in={response for _case, response in triggers},
            kind=QuestionKind.NPS,
            score__lte=DETRACTOR_MAX,
        ).values_list("response_id", flat=True)
    )
    detractors = {case for case, response in triggers if response in detractor_responses}
    calendars: dict[int | None, object] = {}  # one calendar per owning team

    def hours(case: Case, start: dt.datetime, end: dt.datetime | None) -> float | None:
        if end is None or not with_hours:
            return None
        if case.team_id not in calendars:
            calendars[case.team_id] = clocks.calendar_for(case)
        return float(clocks.working_hours_between(calendars[case.team_id], start, end))

    return [
        LoopCase(
            pk=case.pk,
            team_id=case.team_id,
            state=case.state,
            opened_at=case.opened_at,
            first_contact_due=case.first_contact_due,
            first_contacted_at=case.first_contacted_at,
            resolution_due=case.resolution_due,
            resolved_at=case.resolved_at,
            paused_at=case.paused_at,
            breached_at=case.breached_at,
            escalation_level=case.escalation_level,
            detractor=case.pk in detractors,
            touchpoint_ids=tuple(sorted(touchpoints.get(case.pk, ()))),
            root_cause_ids=tuple(sorted(causes.get(case.pk, ()))),
            hours_to_first_contact=hours(case, case.opened_at, case.first_contacted_at),
            hours_to_resolution=hours(case, case.opened_at, case.resolved_at),
            owner_id=case.owner_id,
        )
        for case in rows
    ]


def detractors_without_case(
    team_ids: list[int] | None, *, since: dt.datetime, before: dt.datetime
) -> int:
    """Detractor answers (NPS 0–6) submitted in [since, before) on customers of ``team_ids``
    (None: all) whose response raised or joined no case: the loop's blind spot."""
    responses = Response.objects.filter(
        state=ResponseState.COMPLETED, submitted_at__gte=since, submitted_at__lt=before
    )
    if team_ids is not None:
        responses = responses.filter(customer__owner__team_id__in=team_ids)
    # The period's responses first, by their index, then their NPS answers: filtered through
    # the join the other way round, SQLite took 9 s on the full demo against 50 ms.
    detractors = set(
        Answer.objects.filter(
            kind=QuestionKind.NPS, score__lte=DETRACTOR_MAX, response__in=responses.values("pk")
        ).values_list("response_id", flat=True)
    )
    with_case = CaseTrigger.objects.filter(response_id__in=detractors).values_list(
        "response_id", flat=True
    )
    return len(detractors - set(with_case))


def root_cause_labels(ids) -> dict[int, tuple[str, int | None]]:
    """(label in the page's language, touchpoint id) of each root cause in ``ids``."""
    return {
        cause.pk: (cause.label, cause.touchpoint_id)
        for cause in RootCause.objects.filter(pk__in=list(ids))
    }


def cases_resolved(employee_ids, since: dt.date, until: dt.date) -> dict[int, int]:
    """How many cases each employee owned and resolved from ``since`` to ``until``."""
    rows = Case.objects.filter(
        owner_id__in=list(employee_ids),
        resolved_at__date__gte=since,
        resolved_at__date__lte=until,
    )
    return dict(rows.values("owner_id").annotate(n=Count("pk")).values_list("owner_id", "n"))


def open_cases_owned(employee_id: int) -> QuerySet[Case]:
    """The open cases an employee owns, with their customers, the nearest deadline first."""
    return (
        Case.objects.filter(owner_id=employee_id, state__in=OPEN_STATES)
        .select_related("customer")
        .order_by("resolution_due", "pk")
    )
