"""The measured effect of a decision in the log (issue #12, point 6) beside the expected one.

A decision is measured as a done initiative for all customers would be
(:func:`cxloop.insights.initiatives.initiative_effect`): its touchpoints, its metric, the day it
is in force from as the change date; the other touchpoints of the same journeys are the
comparison group, or, without enough answers there, an interrupted time series. The measured
change is the difference-in-differences effect, else the time series' level change, else the
before/after difference, each with its 95 % interval; :func:`cxloop.improvements.queries.
verdict` sets it against the expected change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cxloop.analytics import Difference
from cxloop.improvements.queries import decisions_in_force, verdict
from cxloop.insights.initiatives import InitiativeEffect, initiative_effect
from cxloop.insights.store import FactStore

__all__ = ["DecisionEffect", "decision_effect", "decisions_worse_than_expected"]


@dataclass(frozen=True)
class _AsInitiative:
    """The parts of an initiative :func:`initiative_effect` reads, for a decision."""

    metric: str
    effective_from: dt.date
    touchpoints: object
    state: str = "done"
    started_at: None = None
    scope: str = "all"
    segment_id: None = None
    target_value: None = None
    baseline: None = None


@dataclass(frozen=True)
class DecisionEffect:
    """``effect``: the initiatives' measured effect (its blocks for the include);
    ``measured``: the change taken with its interval (None when nothing was measured);
    ``method``: "did", "its" or "before_after"; ``expected``: the expected change with its
    sign; ``verdict``: as_expected / better / worse / unclear, None when not measured."""

    effect: InitiativeEffect
    expected: float
    measured: Difference | None = None
    method: str | None = None
    verdict: str | None = None


def decision_effect(
    decision, *, today: dt.date, store: FactStore | None = None, cache: bool = True
) -> DecisionEffect:
    stand_in = _AsInitiative(
        metric=decision.metric,
        effective_from=decision.in_force_from,
        touchpoints=decision.touchpoints,
    )
    effect = initiative_effect(stand_in, today=today, store=store, cache=cache)
    expected = decision.expected_change
    measured, method = None, None
    if effect.did is not None:
        measured, method = effect.did.effect, "did"
    elif effect.its is not None:
        measured, method = effect.its.level_change, "its"
    elif effect.before_after is not None:
        measured, method = effect.before_after.change, "before_after"
    if measured is None:
        return DecisionEffect(effect=effect, expected=expected)
    return DecisionEffect(
        effect=effect,
        expected=expected,
        measured=measured,
        method=method,
        verdict=verdict(expected, measured.low, measured.high),
    )


def decisions_worse_than_expected(
    since: dt.date, until: dt.date, *, today: dt.date, store: FactStore | None = None
) -> list[tuple[object, DecisionEffect]]:
    """Decisions in force from ``since`` to ``until`` whose measured effect (as of ``today``)
    was worse than expected, each with its effect: for the cycle review."""
    found = []
    for decision in decisions_in_force(since, until):
        effect = decision_effect(decision, today=today, store=store)
        if effect.verdict == "worse":
            found.append((decision, effect))
    return found
