"""Write side of the improvement cycle: proposing an initiative (its baseline measured from the
data), changing it, moving it along its states, finishing it (a new version of each changed
touchpoint's standard) and its action items. Each change and its history event
(:class:`InitiativeEvent`) are written in one transaction, and logged in the audit trail.

Every function takes ``by`` (the Employee acting; None: the system) and ``now``; callers check
that ``by`` may act (:mod:`cxloop.improvements.queries`)."""

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from cxloop.audit.choices import Action
from cxloop.audit.services import record as audit
from cxloop.improvements import webhook_events
from cxloop.improvements.choices import (
    TARGET_SCALES,
    TRANSITIONS,
    EventKind,
    InitiativeState,
    Scope,
    StartedFrom,
    TargetMetric,
)
from cxloop.improvements.models import (
    ActionItem,
    Decision,
    DecisionEvent,
    DecisionKind,
    Direction,
    Initiative,
    InitiativeEvent,
    RollbackAlert,
)
from cxloop.improvements.training_services import assign_for_new_standards
from cxloop.journeys.services import new_standard_version
from cxloop.people.queries import subtree_ids
from cxloop.people.services import IdeaError, idea_became_initiative


class InitiativeError(ValueError):
    """A change an initiative cannot take; the message, translated, says why and ``field``
    names the form field it is about (None: the whole form)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- the baseline -------------------------------------------------------------------------


@dataclass(frozen=True)
class Baseline:
    """The target metric as the data had it before the change: its value, the number of
    answers it rests on and the days it covers (both inclusive)."""

    value: float
    n: int
    since: dt.date
    until: dt.date


@dataclass(frozen=True)
class BaselineScope:
    """Whose answers a baseline reads: a segment's customers, the customers of some teams
    (each with the teams below it), or (neither: no segment, no teams) everyone's."""

    segment_id: int | None = None
    team_ids: tuple[int, ...] = ()


EVERYONE = BaselineScope()

# (touchpoint ids, metric, until, scope) → Baseline or None. The fact store is read by
# cxloop.insights, a layer above this app, so the source is given to us at start-up (decision
# 014) rather than imported; without one, initiatives are proposed without a baseline.
BaselineSource = Callable[[Sequence[int], str, dt.date, BaselineScope], Baseline | None]
_baseline_source: BaselineSource | None = None


def set_baseline_source(source: BaselineSource | None) -> BaselineSource | None:
    """Name the function that measures baselines (None: none); the one it replaces, which a
    test that sets its own puts back."""
    global _baseline_source
    previous, _baseline_source = _baseline_source, source
    return previous


def baseline_for(
    touchpoints: Iterable, metric: str, until: dt.date, scope: BaselineScope = EVERYONE
) -> Baseline | None:
    """The ``metric`` (:class:`TargetMetric`) on ``touchpoints`` (records or ids) among the
    answers of ``scope`` over the period the source chooses that ends on ``until``; None
    without a source or without data."""
    if metric not in TargetMetric.values:
        raise ValueError(f"no such metric: {metric!r}")
    if _baseline_source is None:
        return None
    ids = sorted({getattr(t, "pk", t) for t in touchpoints})
    return _baseline_source(ids, metric, until, scope) if ids else None


def baseline_scope(scope: str, segment, scope_teams: Iterable) -> BaselineScope:
    """The answers an initiative of this ``scope`` (:class:`Scope`) changes: its baseline is
    theirs, the level its effect is measured from."""
    if scope == Scope.SEGMENT and segment is not None:
        return BaselineScope(segment_id=getattr(segment, "pk", segment))
    if scope == Scope.TEAMS:
        roots = {getattr(team, "pk", team) for team in scope_teams}
        return BaselineScope(team_ids=tuple(sorted({t for r in roots for t in subtree_ids(r)})))
    return EVERYONE


# --- history ------------------------------------------------------------------------------


def record(
    initiative: Initiative, kind: str, *, by, now: dt.datetime, text: str = "", **data
) -> InitiativeEvent:
    """Append one event to the initiative's history."""
    return InitiativeEvent.objects.create(
        initiative=initiative, at=now, by=by, kind=kind, text=text, data=data
    )


def _audit(action: str, initiative: Initiative, **details) -> None:
    audit(
        action,
        kind="initiative",
        object_id=initiative.pk,
        label=f"{initiative.reference} {initiative.title}",
        details=details,
    )


def _employee_ref(employee) -> dict:
    return {"id": employee.pk, "name": str(employee)} if employee is not None else {}


# --- proposing and changing ---------------------------------------------------------------

# The fields :func:`update_initiative` takes (many-to-many ones are given as iterables).
EDITABLE = (
    "title",
    "title_en",
    "problem",
    "hypothesis",
    "metric",
    "target_value",
    "target_date",
    "owner",
    "team",
    "scope",
    "segment",
)
MANY = ("touchpoints", "root_causes", "cases", "scope_teams")
# The fields a proposed initiative's baseline is measured from: a change measures it again.
BASELINE_FIELDS = {"metric", "touchpoints", "scope", "segment", "scope_teams"}


def check_target(metric: str, value) -> None:
    """Refuse a target value off the scale of ``metric`` (:data:`TARGET_SCALES`)."""
    low, high = TARGET_SCALES[metric]
    try:
        target = Decimal(str(value))
    except ArithmeticError:
        target = Decimal("NaN")
    if not (target.is_finite() and low <= target <= high):
        raise InitiativeError(
            _("Give a target from %(low)s to %(high)s (%(metric)s), not %(value)s.")
            % {
                "low": number_format(low),
                "high": number_format(high),
                "metric": TargetMetric(metric).label,
                "value": number_format(target) if target.is_finite() else value,
            },
            "target_value",
        )


def _check(fields: dict) -> None:
    """Refuse, by field, what the records' constraints would refuse less kindly."""
    if not str(fields.get("title", "")).strip():
        raise InitiativeError(_("Give the initiative a title."), "title")
    if not list(fields.get("touchpoints", ())):
        raise InitiativeError(_("Choose at least one touchpoint it changes."), "touchpoints")
    if fields.get("metric") not in TargetMetric.values:
        raise InitiativeError(_("Choose the target metric."), "metric")
    check_target(fields["metric"], fields.get("target_value"))
    scope = fields.get("scope", Scope.ALL)
    if scope not in Scope.values:
        raise InitiativeError(_("Choose whom the change reaches."), "scope")
    if scope == Scope.SEGMENT and fields.get("segment") is None:
        raise InitiativeError(_("Choose the segment the change reaches."), "segment")
    if scope == Scope.TEAMS and not list(fields.get("scope_teams", ())):
        raise InitiativeError(_("Choose the teams the change reaches."), "scope_teams")
    if fields.get("owner") is None:
        raise InitiativeError(_("Choose the owner."), "owner")


# An initiative's measured baseline: what measuring it again rewrites.
BASELINE_VALUES = ("baseline", "baseline_n", "baseline_since", "baseline_until")


def measure_baseline(initiative: Initiative, *, now: dt.datetime) -> Initiative:
    """Measure the initiative's baseline again as of ``now``, from what the fact store holds
    today: for an initiative recorded before its data reached the store (the demo plants its
    history before it writes the store)."""
    _apply_baseline(
        initiative, list(initiative.touchpoints.all()), list(initiative.scope_teams.all()), now
    )
    Initiative.objects.filter(pk=initiative.pk).update(
        **{name: getattr(initiative, name) for name in BASELINE_VALUES}
    )
    return initiative


def _apply_baseline(initiative: Initiative, touchpoints, scope_teams, now: dt.datetime) -> None:
    scope = baseline_scope(initiative.scope, initiative.segment_id, scope_teams)
    found = baseline_for(touchpoints, initiative.metric, now.date(), scope)
    initiative.baseline = found.value if found else None
    initiative.baseline_n = found.n if found else None
    initiative.baseline_since = found.since if found else None
    initiative.baseline_until = found.until if found else None


def create_initiative(
    *,
    title: str,
    touchpoints: Iterable,
    problem: str,
    hypothesis: str,
    metric: str,
    target_value: Decimal,
    target_date: dt.date,
    owner,
    by,
    now: dt.datetime,
    title_en: str = "",
    team=None,
    scope: str = Scope.ALL,
    segment=None,
    scope_teams: Iterable = (),
    root_causes: Iterable = (),
    cases: Iterable = (),
    started_from: str = StartedFrom.MANUAL,
    from_idea=None,
) -> Initiative:
    """A proposed initiative with its baseline measured now (:func:`baseline_for`, up to
    today) and its first event. ``team`` defaults to the owner's. ``from_idea``: the
    employee's idea it carries out, which becomes "an initiative" in the same transaction
    (:func:`cxloop.people.services.idea_became_initiative`). Raises :class:`InitiativeError`
    naming the field at fault, writing nothing."""
    touchpoints, scope_teams = list(touchpoints), list(scope_teams)
    _check(
        {
            "title": title,
            "touchpoints": touchpoints,
            "metric": metric,
            "target_value": target_value,
            "scope": scope,
            "segment": segment,
            "scope_teams": scope_teams,
            "owner": owner,
        }
    )
    if started_from not in StartedFrom.values:
        raise InitiativeError(_("No such starting point."), "started_from")
    initiative = Initiative(
        title=title.strip()[:300],
        title_en=title_en.strip()[:300],
        problem=problem.strip(),
        hypothesis=hypothesis.strip(),
        metric=metric,
        target_value=target_value,
        target_date=target_date,
        owner=owner,
        team=team if team is not None else owner.team,
        scope=scope,
        segment=segment if scope == Scope.SEGMENT else None,
        started_from=started_from,
        from_idea=from_idea,
        created_at=now,
        created_by=by,
        updated_at=now,
    )
    _apply_baseline(initiative, touchpoints, scope_teams, now)
    with transaction.atomic():
        if from_idea is not None:
            try:
                idea_became_initiative(from_idea, by=by)
            except IdeaError as error:
                raise InitiativeError(str(error), error.field) from error
        initiative.save()
        initiative.touchpoints.set(touchpoints)
        initiative.root_causes.set(list(root_causes))
        initiative.cases.set(list(cases))
        initiative.scope_teams.set(scope_teams if scope == Scope.TEAMS else [])
        record(
            initiative,
            EventKind.CREATED,
            by=by,
            now=now,
            started_from=started_from,
            owner=_employee_ref(owner),
            baseline=initiative.baseline,
        )
        _audit(Action.CREATE, initiative)
    return initiative


def _locked(initiative: Initiative) -> Initiative:
    return Initiative.objects.select_for_update().get(pk=initiative.pk)


def _ids(values) -> list:
    return sorted(getattr(v, "pk", v) for v in values)


def update_initiative(initiative: Initiative, *, by, now: dt.datetime, **fields) -> Initiative:
    """Change the fields given (:data:`EDITABLE` and :data:`MANY`) of an initiative not yet
    done or abandoned; the history names the fields that changed. While it is proposed, a
    new metric or set of touchpoints measures the baseline again."""
    unknown = set(fields) - set(EDITABLE) - set(MANY)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    with transaction.atomic():
        initiative = _locked(initiative)
        if not initiative.is_active:
            raise InitiativeError(
                _("A %(state)s initiative is not changed any more.")
                % {"state": InitiativeState(initiative.state).label}
            )
        current = {name: getattr(initiative, name) for name in EDITABLE}
        current.update({name: list(getattr(initiative, name).all()) for name in MANY})
        merged = {**current, **fields}
        _check(merged)
        changed = [
            name
            for name in fields
            if (
                _ids(fields[name]) != _ids(current[name])
                if name in MANY
                else fields[name] != current[name]
            )
        ]
        if not changed:
            return initiative
        for name in changed:
            if name not in MANY:
                setattr(initiative, name, fields[name])
        if initiative.scope != Scope.SEGMENT:
            initiative.segment = None
        if initiative.state == InitiativeState.PROPOSED and BASELINE_FIELDS & set(changed):
            _apply_baseline(initiative, merged["touchpoints"], merged["scope_teams"], now)
        initiative.updated_at = now
        initiative.save()
        for name in changed:
            if name in MANY:
                getattr(initiative, name).set(list(fields[name]))
        if initiative.scope != Scope.TEAMS:
            initiative.scope_teams.clear()
        record(initiative, EventKind.EDITED, by=by, now=now, fields=sorted(changed))
        _audit(Action.CHANGE, initiative, fields=sorted(changed))
    return initiative


# --- states -------------------------------------------------------------------------------

# The moment and person each state keeps on the initiative.
STAMPS = {
    InitiativeState.APPROVED: ("approved_at", "approved_by"),
    InitiativeState.IN_PROGRESS: ("started_at", "started_by"),
    InitiativeState.DONE: ("finished_at", "finished_by"),
    InitiativeState.ABANDONED: ("abandoned_at", "abandoned_by"),
}


def _refuse_move(initiative: Initiative, to: str) -> None:
    if to not in InitiativeState.values or to not in TRANSITIONS.get(initiative.state, ()):
        label = InitiativeState(to).label if to in InitiativeState.values else to
        raise InitiativeError(
            _("An initiative that is %(state)s cannot become %(to)s.")
            % {"state": InitiativeState(initiative.state).label, "to": label},
            "state",
        )


def _move(initiative: Initiative, to: str, *, by, now: dt.datetime, text: str, **data) -> None:
    before = initiative.state
    at_field, by_field = STAMPS[to]
    setattr(initiative, at_field, now)
    setattr(initiative, by_field, by)
    initiative.state, initiative.updated_at = to, now
    initiative.save()
    record(initiative, EventKind.STATE, by=by, now=now, text=text, before=before, after=to, **data)
    _audit(Action.CHANGE, initiative, state=[before, to])


def change_state(
    initiative: Initiative, to: str, *, by, now: dt.datetime, text: str = ""
) -> Initiative:
    """Approve, start or abandon the initiative along :data:`TRANSITIONS`. Done is reached
    only through :func:`finish`, which says what changed."""
    with transaction.atomic():
        initiative = _locked(initiative)
        _refuse_move(initiative, to)
        if to == InitiativeState.DONE:
            raise InitiativeError(_("Say what changed and from when to finish it."), "state")
        _move(initiative, to, by=by, now=now, text=text.strip())
    return initiative


def finish(
    initiative: Initiative,
    *,
    change_ru: str,
    effective_from: dt.date,
    by,
    now: dt.datetime,
    change_en: str = "",
    training: str = "",
    text: str = "",
) -> Initiative:
    """The new way becomes the standard: the initiative is done, and each touchpoint it
    changed gets a new version of its standard (``change_ru``/``change_en``: the standard as
    it now reads, in force from ``effective_from``), with ``training``, the training people at
    those touchpoints must take (decision 014); the courses on those touchpoints are assigned
    to the people of the teams owning them (decision 017). All or nothing."""
    change_ru, change_en, training = change_ru.strip(), change_en.strip(), training.strip()
    if not change_ru:
        raise InitiativeError(_("Say what changed: the new standard's text."), "change_ru")
    if effective_from is None:
        raise InitiativeError(_("Say from when the new standard is in force."), "effective_from")
    with transaction.atomic():
        initiative = _locked(initiative)
        _refuse_move(initiative, InitiativeState.DONE)
        touchpoints = list(initiative.touchpoints.order_by("pk"))
        standards = [
            new_standard_version(
                touchpoint, text_ru=change_ru, text_en=change_en, effective_from=effective_from
            )
            for touchpoint in touchpoints
        ]
        initiative.change_ru, initiative.change_en = change_ru, change_en
        initiative.effective_from, initiative.training = effective_from, training
        initiative.standards.add(*standards)
        assign_for_new_standards(standards, by=by, now=now)
        _move(initiative, InitiativeState.DONE, by=by, now=now, text=text.strip())
        record(
            initiative,
            EventKind.STANDARD,
            by=by,
            now=now,
            text=change_ru,
            effective_from=effective_from.isoformat(),
            training=training,
            standards=[
                {"id": s.pk, "touchpoint": t.code, "version": s.version}
                for s, t in zip(standards, touchpoints, strict=True)
            ],
        )
        webhook_events.initiative_finished(initiative, standards, touchpoints, now=now)
    return initiative


# --- action items -------------------------------------------------------------------------


def add_action_item(
    initiative: Initiative, *, text: str, owner, due_on: dt.date, by, now: dt.datetime
) -> ActionItem:
    """A step of an active initiative, for ``owner`` by ``due_on``."""
    text = text.strip()
    if not text:
        raise InitiativeError(_("Say what is to be done."), "text")
    if owner is None:
        raise InitiativeError(_("Choose who does it."), "owner")
    if due_on is None:
        raise InitiativeError(_("Say by when."), "due_on")
    with transaction.atomic():
        initiative = _locked(initiative)
        if not initiative.is_active:
            raise InitiativeError(
                _("A %(state)s initiative takes no new action items.")
                % {"state": InitiativeState(initiative.state).label}
            )
        item = ActionItem.objects.create(
            initiative=initiative,
            text=text,
            owner=owner,
            due_on=due_on,
            created_at=now,
            created_by=by,
        )
        Initiative.objects.filter(pk=initiative.pk).update(updated_at=now)
        record(
            initiative,
            EventKind.ACTION_ADDED,
            by=by,
            now=now,
            text=text,
            item=item.pk,
            owner=_employee_ref(owner),
            due_on=due_on.isoformat(),
        )
    return item


def set_action_item_done(item: ActionItem, done: bool, *, by, now: dt.datetime) -> bool:
    """Tick (``done``) or untick an action item; False when it already was so (nothing
    written: a second click, or two people at once)."""
    with transaction.atomic():
        items = ActionItem.objects.filter(pk=item.pk, done_at__isnull=done)
        changes = {"done_at": now, "done_by": by} if done else {"done_at": None, "done_by": None}
        if not items.update(**changes):
            return False
        Initiative.objects.filter(pk=item.initiative_id).update(updated_at=now)
        kind = EventKind.ACTION_DONE if done else EventKind.ACTION_REOPENED
        record(item.initiative, kind, by=by, now=now, text=item.text, item=item.pk)
    return True


# --- the roll-back watch -------------------------------------------------------------------


@dataclass(frozen=True)
class NewRollbackAlert:
    """What the roll-back watch (:mod:`cxloop.insights.rollback`) found: the touchpoint, the
    done initiative whose level it held (None: its whole history), the first period of the
    drop (``grain`` "month" or "quarter"), the baseline's days and level, the mean and answers
    in that period, the CUSUM statistic and its limit, and ``episode``: the first days of every
    alarming period of the same watch (an alert recorded at any of them is this drop)."""

    touchpoint_id: int
    initiative_id: int | None
    grain: str
    period_start: dt.date
    period_end: dt.date
    baseline_since: dt.date
    baseline_until: dt.date
    center: float
    level: float
    answers: int
    statistic: float
    limit: float
    episode: tuple[dt.date, ...] = ()


def record_rollback_alert(found: NewRollbackAlert, *, now: dt.datetime) -> RollbackAlert | None:
    """Record ``found`` once: None when this drop is already recorded (an alert of the same
    touchpoint and initiative at its first period or any later alarming period of the same
    watch), or when another worker recorded it at the same moment (the database's unique
    constraint; only this function's savepoint is rolled back)."""
    days = {found.period_start, *found.episode}
    existing = RollbackAlert.objects.filter(
        touchpoint_id=found.touchpoint_id,
        initiative_id=found.initiative_id,
        period_start__in=days,
    )
    if existing.exists():
        return None
    try:
        with transaction.atomic():
            alert = RollbackAlert.objects.create(
                touchpoint_id=found.touchpoint_id,
                initiative_id=found.initiative_id,
                grain=found.grain,
                period_start=found.period_start,
                period_end=found.period_end,
                baseline_since=found.baseline_since,
                baseline_until=found.baseline_until,
                center=found.center,
                level=found.level,
                answers=found.answers,
                statistic=found.statistic,
                limit=found.limit,
                detected_at=now,
            )
            webhook_events.rollback_alert_raised(alert, now=now)
            return alert
    except IntegrityError:
        return None


def attach_rollback_case(alert: RollbackAlert, case) -> None:
    """Keep the closed-loop case opened for the alert (a record or its id)."""
    alert.case_id = getattr(case, "pk", case)
    RollbackAlert.objects.filter(pk=alert.pk).update(case_id=alert.case_id)


# --- the decision log ----------------------------------------------------------------------

DECISION_FIELDS = (
    "title",
    "title_en",
    "description",
    "kind",
    "decided_on",
    "in_force_from",
    "metric",
    "expected_direction",
    "expected_size",
    "initiative",
    "team",
)


def _check_decision(fields: dict) -> dict:
    """The fields cleaned, or :class:`InitiativeError` naming the first one at fault."""
    if not str(fields.get("title") or "").strip():
        raise InitiativeError(_("Give the decision a title."), "title")
    if fields.get("kind") not in DecisionKind.values:
        raise InitiativeError(_("Choose the kind of decision."), "kind")
    decided, in_force = fields.get("decided_on"), fields.get("in_force_from")
    if not isinstance(decided, dt.date):
        raise InitiativeError(_("Give the day it was decided."), "decided_on")
    if not isinstance(in_force, dt.date):
        raise InitiativeError(_("Give the day it is in force from."), "in_force_from")
    if in_force < decided:
        raise InitiativeError(
            _("A decision cannot be in force before it was decided."), "in_force_from"
        )
    touchpoints = list(fields.get("touchpoints") or ())
    if not touchpoints:
        raise InitiativeError(_("Choose at least one touchpoint it may affect."), "touchpoints")
    if fields.get("metric") not in TargetMetric.values:
        raise InitiativeError(_("Choose the metric."), "metric")
    if fields.get("expected_direction") not in Direction.values:
        raise InitiativeError(_("Choose the expected direction."), "expected_direction")
    try:
        size = Decimal(str(fields.get("expected_size", 0)))
    except ArithmeticError:
        raise InitiativeError(_("The expected size is a number."), "expected_size") from None
    if not size.is_finite() or size < 0 or size >= Decimal("10000"):
        raise InitiativeError(
            _("The expected size is a number of points, zero or more."), "expected_size"
        )
    size = Decimal(0) if fields["expected_direction"] == Direction.NONE else size
    size = size.quantize(Decimal("0.01"))
    return {
        **fields,
        "title": str(fields["title"]).strip()[:300],
        "title_en": str(fields.get("title_en") or "").strip()[:300],
        "description": str(fields.get("description") or "").strip(),
        "expected_size": size,
        "touchpoints": touchpoints,
    }


def _decision_snapshot(decision) -> dict:
    return {
        "title": decision.title,
        "title_en": decision.title_en,
        "description": decision.description,
        "kind": decision.kind,
        "decided_on": decision.decided_on.isoformat(),
        "in_force_from": decision.in_force_from.isoformat(),
        "metric": decision.metric,
        "expected_direction": decision.expected_direction,
        "expected_size": str(decision.expected_size),
        "initiative": decision.initiative_id,
        "team": decision.team_id,
        "touchpoints": sorted(decision.touchpoints.values_list("pk", flat=True)),
    }


def _record_decision(decision, kind: str, *, by, now: dt.datetime) -> None:
    DecisionEvent.objects.create(
        decision=decision, at=now, by=by, kind=kind, data=_decision_snapshot(decision)
    )
    audit(
        Action.CREATE if kind == "created" else Action.CHANGE,
        kind="decision",
        object_id=decision.pk,
        label=f"{decision.reference} {decision.title}",
        details={},
    )


def create_decision(*, by, now: dt.datetime, touchpoints: Iterable, **fields):
    """A decision in the log with its first history event; :class:`InitiativeError` naming the
    field at fault, writing nothing."""
    unknown = set(fields) - set(DECISION_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    clean = _check_decision({**fields, "touchpoints": touchpoints})
    touchpoints = clean.pop("touchpoints")
    with transaction.atomic():
        decision = Decision.objects.create(**clean, recorded_at=now, recorded_by=by, updated_at=now)
        decision.touchpoints.set(touchpoints)
        _record_decision(decision, "created", by=by, now=now)
    return decision


def update_decision(decision, *, by, now: dt.datetime, **fields):
    """Change the given fields (``touchpoints`` an iterable); one history event. Nothing is
    written when a field is refused."""
    unknown = set(fields) - set(DECISION_FIELDS) - {"touchpoints"}
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    with transaction.atomic():
        decision = Decision.objects.select_for_update().get(pk=decision.pk)
        current = {name: getattr(decision, name) for name in DECISION_FIELDS}
        current["touchpoints"] = list(decision.touchpoints.all())
        clean = _check_decision({**current, **fields})
        touchpoints = clean.pop("touchpoints")
        for name in DECISION_FIELDS:
            setattr(decision, name, clean[name])
        decision.updated_at = now
        decision.save()
        decision.touchpoints.set(touchpoints)
        _record_decision(decision, "edited", by=by, now=now)
    return decision
