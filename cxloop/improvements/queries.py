"""Read side of the improvement cycle: which initiatives a user sees and what they may do with
them, the list's filters and the initiative page's context.

Who sees what: the CX lead (administrator), executives and viewers every initiative; a manager
those of their part of the hierarchy (its team, its owner's team or an action item's owner's
team in their subtree); an employee those they own or have an action item in; anyone else
none. Who acts: the CX lead and executives create, approve and change any; a manager proposes
for their part and changes, starts, finishes and abandons what they see; an employee ticks
their own action items; a viewer reads."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404

from cxloop.customers.models import Segment
from cxloop.improvements.choices import ACTIVE_STATES, TRANSITIONS, InitiativeState
from cxloop.improvements.models import (
    ActionItem,
    Decision,
    DecisionEvent,
    Initiative,
    InitiativeEvent,
    RollbackAlert,
)
from cxloop.journeys.models import Touchpoint
from cxloop.people.models import Employee, Role, Team
from cxloop.people.queries import (
    ORGANISATION_WIDE,
    employee_of,
    role_of,
    subtree_ids,
    visible_team_ids,
)

LEADS = frozenset({Role.ADMIN, Role.EXECUTIVE})


def visible_initiatives(user) -> QuerySet[Initiative]:
    initiatives = Initiative.objects.all()
    role, employee = role_of(user), employee_of(user)
    if role in ORGANISATION_WIDE:
        return initiatives
    if employee is None:
        return initiatives.none()
    if role == Role.MANAGER:
        teams = subtree_ids(employee.team_id)
        items = ActionItem.objects.filter(owner__team_id__in=teams).values("initiative_id")
        return initiatives.filter(
            Q(team_id__in=teams) | Q(owner__team_id__in=teams) | Q(pk__in=items)
        )
    items = ActionItem.objects.filter(owner=employee).values("initiative_id")
    return initiatives.filter(Q(owner=employee) | Q(pk__in=items))


def leads_initiatives(user) -> bool:
    """The CX lead and executives: create, approve and change any initiative."""
    return role_of(user) in LEADS  # a superuser without an employee record acts as admin


def may_propose(user) -> bool:
    """Whether the user may start initiatives: leads for anyone, managers for their part."""
    return leads_initiatives(user) or (
        employee_of(user) is not None and role_of(user) == Role.MANAGER
    )


def may_edit(user, initiative: Initiative) -> bool:
    """Change it, add action items, start, finish or abandon it: a lead, or a manager who
    sees it."""
    if leads_initiatives(user):
        return True
    if role_of(user) != Role.MANAGER or employee_of(user) is None:
        return False
    return visible_initiatives(user).filter(pk=initiative.pk).exists()


def may_tick(user, item: ActionItem, *, editing: bool | None = None) -> bool:
    """Tick or untick an action item: whoever may edit its initiative, and its owner (not a
    viewer). ``editing``: :func:`may_edit` of its initiative, already known."""
    if role_of(user) == Role.VIEWER:
        return False
    employee = employee_of(user)
    if employee is not None and item.owner_id == employee.pk:
        return True
    return may_edit(user, item.initiative) if editing is None else editing


def moves_for(user, initiative: Initiative) -> list[str]:
    """The states the user may move the initiative to now: approving is the leads'."""
    if not may_edit(user, initiative):
        return []
    moves = TRANSITIONS.get(initiative.state, ())
    if not leads_initiatives(user):
        moves = tuple(m for m in moves if m != InitiativeState.APPROVED)
    return list(moves)


def initiatives_from_ideas(idea_ids) -> dict[int, Initiative]:
    """The initiative started from each idea of ``idea_ids`` (those that have one), by idea id."""
    found = Initiative.objects.filter(from_idea_id__in=list(idea_ids))
    return {initiative.from_idea_id: initiative for initiative in found}


def visible_initiative(user, pk: int) -> Initiative:
    """The initiative, or 404 when the user may not see it."""
    initiatives = visible_initiatives(user).select_related(
        "owner__user", "team", "segment", "created_by__user"
    )
    return get_object_or_404(initiatives, pk=pk)


@dataclass(frozen=True)
class InitiativeFilter:
    """What the list narrows to; every field optional. ``state`` is a state or "active"."""

    state: str = ""
    touchpoint_id: int | None = None
    owner_id: int | None = None
    overdue: bool = False


def _open_on(day: dt.date, prefix: str = "") -> Q:
    """Action items not done by the end of ``day`` (``prefix``: the path to them)."""
    return Q(**{f"{prefix}done_at__isnull": True}) | Q(**{f"{prefix}done_at__date__gt": day})


def _overdue_items(today: dt.date):
    return ActionItem.objects.filter(_open_on(today), initiative=OuterRef("pk"), due_on__lt=today)


def initiatives_matching(user, where: InitiativeFilter, *, today: dt.date) -> QuerySet[Initiative]:
    """The user's visible initiatives narrowed by ``where``, each with ``overdue_items`` (action
    items past their day and not done by the end of ``today``, which a review of a past period
    sets to its last day) and ``open_items``: active ones first, by target date."""
    initiatives = visible_initiatives(user)
    if where.state == "active":
        initiatives = initiatives.filter(state__in=ACTIVE_STATES)
    elif where.state:
        initiatives = initiatives.filter(state=where.state)
    if where.touchpoint_id is not None:
        initiatives = initiatives.filter(touchpoints__id=where.touchpoint_id)
    if where.owner_id is not None:
        initiatives = initiatives.filter(owner_id=where.owner_id)
    if where.overdue:
        initiatives = initiatives.filter(Exists(_overdue_items(today)))
    return (
        initiatives.annotate(
            overdue_items=Count(
                "action_items",
                filter=_open_on(today, "action_items__") & Q(action_items__due_on__lt=today),
                distinct=True,
            ),
            open_items=Count(
                "action_items", filter=Q(action_items__done_at__isnull=True), distinct=True
            ),
        )
        .select_related("owner__user", "team")
        .prefetch_related("touchpoints")
        .order_by("target_date", "-created_at", "-pk")
        .distinct()
    )


def initiative_owners(user) -> QuerySet[Employee]:
    """The owners of the initiatives the user sees, for the list's owner filter."""
    owner_ids = visible_initiatives(user).values("owner_id")
    return (
        Employee.objects.filter(pk__in=owner_ids)
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
    )


def initiative_history(initiative: Initiative) -> QuerySet[InitiativeEvent]:
    return initiative.events.select_related("by__user").order_by("at", "pk")


def action_items_of(initiative: Initiative) -> QuerySet[ActionItem]:
    return initiative.action_items.select_related("owner__user", "done_by__user").order_by(
        "done_at", "due_on", "pk"
    )


def visible_action_item(user, initiative: Initiative, pk: int) -> ActionItem:
    """One action item of an initiative the user sees, or 404."""
    return get_object_or_404(
        ActionItem.objects.select_related("initiative"), pk=pk, initiative=initiative
    )


# --- choices for the forms ----------------------------------------------------------------


def touchpoint_choices() -> QuerySet[Touchpoint]:
    """Every touchpoint, in journey order. (Root causes and cases to link come from the
    closed loop's own read side: this app sits beside it and does not import it.)"""
    return Touchpoint.objects.select_related("stage__journey").order_by(
        "stage__journey__name_ru", "stage__order", "order"
    )


def segment_choices() -> QuerySet[Segment]:
    return Segment.objects.all()


def team_choices(user) -> QuerySet[Team]:
    """Teams an initiative may belong to: every team for a lead, a manager's subtree."""
    ids = None if leads_initiatives(user) else visible_team_ids(user)
    teams = Team.objects.select_related("parent").order_by("name")
    return teams if ids is None else teams.filter(pk__in=ids)


def owner_choices(user) -> QuerySet[Employee]:
    """Who may own an initiative or an action item the user writes: active employees of the
    teams they may give work to, viewers aside."""
    employees = (
        Employee.objects.select_related("user", "team")
        .exclude(role=Role.VIEWER)
        .filter(user__is_active=True)
    )
    if not leads_initiatives(user):
        employees = employees.filter(team__in=team_choices(user))
    return employees.order_by("user__last_name", "user__first_name")


def touchpoint_by_id(pk: int) -> Touchpoint | None:
    return Touchpoint.objects.filter(pk=pk).first()


# --- the roll-back watch -------------------------------------------------------------------


def watched_initiatives() -> QuerySet[Initiative]:
    """Done initiatives, each with its touchpoints and scope teams: the roll-back watch holds
    the level after the latest one of each touchpoint (:mod:`cxloop.insights.rollback`)."""
    return (
        Initiative.objects.filter(state=InitiativeState.DONE, effective_from__isnull=False)
        .prefetch_related("touchpoints", "scope_teams")
        .order_by("effective_from", "pk")
    )


def _alerts() -> QuerySet[RollbackAlert]:
    return RollbackAlert.objects.select_related(
        "touchpoint__stage__journey", "initiative", "case"
    ).order_by("-period_start", "-pk")


def rollback_alerts(since: dt.date, until: dt.date) -> QuerySet[RollbackAlert]:
    """Roll-back alerts of a cycle (for its review): those whose drop began from ``since``
    to ``until`` (inclusive), or that were detected then (a drop found late is still listed
    in the cycle that found it)."""
    return _alerts().filter(
        Q(period_start__range=(since, until)) | Q(detected_at__date__range=(since, until))
    )


def rollback_alerts_of(initiative: Initiative) -> QuerySet[RollbackAlert]:
    """The initiative's roll-back alerts, latest drop first."""
    return _alerts().filter(initiative=initiative)


def latest_rollback_alerts(touchpoint_ids=None, *, case_states=None) -> dict[int, RollbackAlert]:
    """Touchpoint id → its latest roll-back alert (of the ``touchpoint_ids`` given, default
    all), for badges; ``case_states``: only alerts whose case is in one of these states (the
    closed loop's open states, given by the caller: this app does not import it)."""
    alerts = _alerts()
    if touchpoint_ids is not None:
        alerts = alerts.filter(touchpoint_id__in=list(touchpoint_ids))
    if case_states is not None:
        alerts = alerts.filter(case__state__in=list(case_states))
    latest: dict[int, RollbackAlert] = {}
    for alert in alerts:
        latest.setdefault(alert.touchpoint_id, alert)
    return latest


# --- the decision log ----------------------------------------------------------------------
#
# Who: every role that sees the organisation's data reads the log (a decision is the
# organisation's, not a team's); the CX lead and executives record and change any decision; a
# manager records decisions for their part (a team in their subtree) and changes those; an
# employee and a viewer read; a user without an employee record (not a superuser) sees none.

VERDICTS = ("as_expected", "better", "worse", "unclear")


def verdict(expected: float, low: float, high: float) -> str:
    """A measured change's interval (``low``..``high``) against the ``expected`` change (with
    its sign; 0: no change expected): ``worse`` when the interval lies wholly on the bad side
    of the expectation (below it when a rise or no change was expected, above it when a fall
    was), ``better`` when wholly on the good side, ``as_expected`` when it contains the
    expectation and excludes the opposite sign, ``unclear`` otherwise (a wide interval)."""
    if expected < 0:  # a fall expected: higher is better for the customer
        if low > expected:
            return "better"
        if high < expected:
            return "worse"
    else:
        if high < expected:
            return "worse"
        if low > expected:
            return "better"
    # The interval contains the expectation: as expected when it rules out the other side.
    if expected > 0 and low > 0:
        return "as_expected"
    if expected < 0 and high < 0:
        return "as_expected"
    if expected == 0:
        return "as_expected"
    return "unclear"


def visible_decisions(user) -> QuerySet[Decision]:
    if role_of(user) is None or (employee_of(user) is None and not leads_initiatives(user)):
        return Decision.objects.none()
    return Decision.objects.all()


def may_record_decision(user) -> bool:
    return may_propose(user)


def may_edit_decision(user, decision: Decision) -> bool:
    if leads_initiatives(user):
        return True
    if role_of(user) != Role.MANAGER or employee_of(user) is None:
        return False
    return decision.team_id is not None and decision.team_id in subtree_ids(
        employee_of(user).team_id
    )


def visible_decision(user, pk: int) -> Decision:
    decisions = visible_decisions(user).select_related("recorded_by__user", "initiative", "team")
    return get_object_or_404(decisions, pk=pk)


@dataclass(frozen=True)
class DecisionFilter:
    kind: str = ""
    touchpoint_id: int | None = None


def decisions_matching(user, where: DecisionFilter) -> QuerySet[Decision]:
    decisions = visible_decisions(user)
    if where.kind:
        decisions = decisions.filter(kind=where.kind)
    if where.touchpoint_id is not None:
        decisions = decisions.filter(touchpoints__id=where.touchpoint_id)
    return (
        decisions.select_related("recorded_by__user", "team", "initiative")
        .prefetch_related("touchpoints")
        .order_by("-in_force_from", "-pk")
        .distinct()
    )


def decisions_in_force(since: dt.date, until: dt.date) -> QuerySet[Decision]:
    """Decisions in force from ``since`` to ``until`` (inclusive), with their touchpoints."""
    return (
        Decision.objects.filter(in_force_from__range=(since, until))
        .prefetch_related("touchpoints")
        .order_by("in_force_from", "pk")
    )


def decision_history(decision: Decision) -> QuerySet[DecisionEvent]:
    return decision.events.select_related("by__user").order_by("at", "pk")


def initiative_choices(user) -> QuerySet[Initiative]:
    return visible_initiatives(user).order_by("-created_at")


def initiatives_led(employee_ids, since: dt.date, until: dt.date) -> dict[int, int]:
    """How many initiatives each employee owns that were proposed or finished from ``since``
    to ``until``, by employee id."""
    rows = Initiative.objects.filter(owner_id__in=list(employee_ids)).filter(
        Q(created_at__date__gte=since, created_at__date__lte=until)
        | Q(finished_at__date__gte=since, finished_at__date__lte=until)
    )
    return _count_by(rows, "owner_id")


def initiatives_delivered(
    *, owner_ids=(), team_ids=(), since: dt.date, until: dt.date
) -> tuple[dict[int, int], dict[int, int]]:
    """Initiatives done (finished) from ``since`` to ``until``: how many each of ``owner_ids``
    owns, and how many are of each of ``team_ids`` (the initiative's team)."""
    done = Initiative.objects.filter(
        state=InitiativeState.DONE, finished_at__date__gte=since, finished_at__date__lte=until
    )
    return (
        _count_by(done.filter(owner_id__in=list(owner_ids)), "owner_id"),
        _count_by(done.filter(team_id__in=list(team_ids)), "team_id"),
    )


def action_items_done(employee_ids, since: dt.date, until: dt.date) -> dict[int, int]:
    """How many action items each employee owned and ticked off from ``since`` to ``until``."""
    items = ActionItem.objects.filter(
        owner_id__in=list(employee_ids), done_at__date__gte=since, done_at__date__lte=until
    )
    return _count_by(items, "owner_id")


def _count_by(rows: QuerySet, field: str) -> dict[int, int]:
    return dict(rows.values(field).annotate(n=Count("pk")).values_list(field, "n"))


# Training's read side, importable from here as the app's face (docs/decisions/017).
from cxloop.improvements.training_queries import (  # noqa: E402, F401
    TrainingStatus,
    training_coverage_by_team,
    training_status,
)
