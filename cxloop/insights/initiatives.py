"""The measured effect of an initiative, and the baseline it starts from (issue #12, point 3).

Read from the fact store's ``answers`` (the target metric's kind at the initiative's
touchpoints) and handed to :mod:`cxloop.analytics.impact`:

**The metric on one scale per answer.** So that every estimator below averages answers:
``rating`` and ``ces`` are the score itself (1–5, 1–7); ``csat`` is 100 for a 4 or 5 and 0
otherwise (the share of satisfied answers in per cent); ``nps`` is +100 for a promoter (9–10),
−100 for a detractor (0–6) and 0 otherwise, whose mean is the NPS.

**The change date.** ``effective_from`` of a done initiative, the day the work started for one
in progress (the page calls that provisional); proposed, approved and abandoned initiatives
have no effect to show (``status``), nor has one whose change is not yet in force.

**(a) Before/after** (:func:`~cxloop.analytics.before_after`): the answers of the
:data:`BEFORE_AFTER_DAYS` days before the change against those of as many days from it, both
windows shortened to the days since the change while fewer have passed, so the two are always of
equal length. For NPS the difference of NPS (adjusted-Wald z), otherwise of means (Welch).

**Periods** at the rhythm of the initiative's answers (:func:`~cxloop.insights.signals.
rhythm`: months, or quarters for a survey in waves), at most :data:`PERIODS_BEFORE` complete
periods before the change and :data:`PERIODS_AFTER` after it (so at most 25 periods are read);
the period that is not over is left out, and so is the period the change falls in unless the
change is on its first day (its answers are part before, part after): the DiD numbers periods in
calendar time, so that one is a gap; the time series joins the periods on either side of it.

**(b) Difference-in-differences** (:func:`~cxloop.analytics.did_regression`) against the
comparison group the scope gives: for *all customers*, the other touchpoints of the same
journeys (the same kind of answer); for *a segment*, the customers outside the segment at the
same touchpoints; for *some teams*, the other teams (customers of teams outside the scope teams
and their sub-teams) at the same touchpoints. Taken when each of its four cells has at least
:data:`MIN_N` answers; both groups' per-period means are returned for the parallel-trends plot.

**(c) Interrupted time series** (:func:`~cxloop.analytics.interrupted_time_series`) on the
initiative's per-period values when no comparison group has enough answers: it needs an answer
in every period kept and two periods on each side (its claim says when it has fewer than the
eight a side it wants).

**Target against achieved**: the metric over the after window with its interval, against the
initiative's target (reached when the interval is on the target's side, missed when wholly on
the other, else undecided).

**The baseline** (:func:`baseline_for`, the improvements app's baseline source): the metric
over the last three complete calendar months before the day asked — at either rhythm one
quarter, so it holds one wave of a relationship survey — with its number of answers.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow.compute as pc
from django.db.models import Min

from cxloop.analytics import MIN_N, Difference, Estimate
from cxloop.analytics.impact import (
    CellCounts,
    before_after,
    did_regression,
    interrupted_time_series,
)
from cxloop.analytics.results import to_plain
from cxloop.facts.store import FactStoreError
from cxloop.improvements.models import Initiative
from cxloop.improvements.queries import rollback_alerts_of
from cxloop.improvements.services import Baseline, BaselineScope
from cxloop.insights.signals import MONTH, QUARTER, Period, periods, rhythm
from cxloop.insights.store import FactStore, FactTables, Scope, get_store, run_cached
from cxloop.journeys.queries import touchpoints_with_stage
from cxloop.lib.scales import NPS_DETRACTORS, NPS_PROMOTERS
from cxloop.people.queries import subtree_ids

__all__ = [
    "BEFORE_AFTER_DAYS",
    "BASELINE_MONTHS",
    "MIN_N",
    "PERIODS_AFTER",
    "PERIODS_BEFORE",
    "BeforeAfterBlock",
    "DidBlock",
    "EffectQuery",
    "InitiativeEffect",
    "ItsBlock",
    "SeriesPoint",
    "TargetCheck",
    "baseline_for",
    "baseline_source",
    "code_scores",
    "initiative_effect",
]

#: Days on each side of the change for the before/after comparison (about six months).
BEFORE_AFTER_DAYS = 182
#: Complete periods read before and after the change for the DiD and the time series.
PERIODS_BEFORE = 12
PERIODS_AFTER = 12
#: Complete calendar months the baseline covers.
BASELINE_MONTHS = 3

#: The answer kind of each target metric in the fact store.
KIND = {"nps": "nps", "rating": "rating", "csat": "csat", "ces": "ces"}


def code_scores(metric: str, scores: Any) -> np.ndarray:
    """Each answer on the scale whose mean is the metric (see the module's docstring)."""
    s = np.asarray(scores, dtype=np.float64)
    if metric == "nps":
        promoter, detractor = s >= NPS_PROMOTERS[0], s <= NPS_DETRACTORS[1]
        return np.where(promoter, 100.0, np.where(detractor, -100.0, 0.0))
    if metric == "csat":
        return np.where(s >= 4, 100.0, 0.0)
    if metric in ("rating", "ces"):
        return s
    raise ValueError(f"no such metric: {metric!r}")


# ----------------------------------------------------------------------------------------------
# Results


class _Plain:
    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)


@dataclass(frozen=True)
class BeforeAfterBlock(_Plain):
    """The metric in the window before the change and in the window after it (each day
    inclusive) and the change, after − before; ``claim`` is ``"association_only"``."""

    before_since: dt.date
    before_until: dt.date
    after_since: dt.date
    after_until: dt.date
    before: Estimate
    after: Estimate
    change: Difference
    claim: str


@dataclass(frozen=True)
class SeriesPoint(_Plain):
    """One period of a chart: ``period`` its first day (ISO), ``end`` its last, ``after`` on
    or after the change; the initiative's value and answers (``value``, ``n``), the comparison
    group's (``control``, ``control_n``), and for a time series the model's ``fitted`` value and
    the ``counterfactual`` (the pre-change line carried on). None where there is none."""

    period: str
    end: str
    after: bool
    value: float | None
    n: int
    control: float | None = None
    control_n: int = 0
    fitted: float | None = None
    counterfactual: float | None = None


@dataclass(frozen=True)
class DidBlock(_Plain):
    """Difference-in-differences against ``comparison`` ("touchpoints", "segment" or
    "teams"): the effect, the test of the groups' pre-trends, the answers in each cell, the
    periods of both groups and the first period after the change (``change_period``, ISO)."""

    comparison: str
    effect: Difference
    pre_trends: Difference | None
    cells: CellCounts
    cov: str
    claim: str
    points: tuple[SeriesPoint, ...]
    change_period: str


@dataclass(frozen=True)
class ItsBlock(_Plain):
    """Interrupted time series of the initiative's per-period values: the pre-trend (per
    period), the jump at the change and the change of slope; answers before and after; the
    points with the fitted line and the counterfactual."""

    pre_trend: Difference
    level_change: Difference
    slope_change: Difference
    periods_before: int
    periods_after: int
    answers_before: int
    answers_after: int
    claim: str
    points: tuple[SeriesPoint, ...]
    change_period: str


@dataclass(frozen=True)
class TargetCheck(_Plain):
    """The metric achieved after the change against the target: ``direction`` "up" when the
    target is above the baseline (or no baseline), else "down"; ``verdict`` "reached",
    "missed" or "undecided" (the interval holds the target)."""

    target: float
    achieved: Estimate
    baseline: float | None
    direction: str
    verdict: str


@dataclass(frozen=True)
class InitiativeEffect(_Plain):
    """What the initiative page shows of the effect.

    ``status``: ``"measured"`` (some block below is filled), ``"not_started"`` (proposed or
    approved), ``"abandoned"``, ``"not_in_force"`` (the change date is after ``today``),
    ``"no_data"`` (no answers of the metric at the touchpoints), ``"too_few"`` (answers,
    but too few on one side for any estimate) or ``"unavailable"`` (the store cannot be read).
    ``provisional``: the work is in progress and
    the change date is the day it started. ``answers_before``/``answers_after``: the
    initiative's answers in the before/after windows.
    """

    status: str
    metric: str
    change: dt.date | None = None
    provisional: bool = False
    grain: str | None = None
    comparison: str | None = None
    answers_before: int = 0
    answers_after: int = 0
    before_after: BeforeAfterBlock | None = None
    did: DidBlock | None = None
    its: ItsBlock | None = None
    target: TargetCheck | None = None
    rolled_back: dt.date | None = None  # the first roll-back's period began: measured before it


# ----------------------------------------------------------------------------------------------
# The query


@dataclass(frozen=True)
class EffectQuery:
    """The answers of ``metric`` by day, group and score over ``since``..``today``.

    ``touchpoint_ids``: the initiative's; ``comparison_ids``: the other touchpoints of their
    journeys (used when ``comparison`` is "touchpoints"). ``scope`` is the treated group's
    segment or teams (``Scope.segment_id``, ``Scope.team_ids``; both None: all customers);
    ``comparison`` "touchpoints", "segment" or "teams".
    """

    touchpoint_ids: tuple[int, ...]
    comparison_ids: tuple[int, ...]
    metric: str
    change: dt.date
    today: dt.date
    since: dt.date
    comparison: str
    scope: Scope = Scope()

    def to_query(self, tables: FactTables):
        a = tables.answers
        ids = list(self.touchpoint_ids)
        wanted = ids + list(self.comparison_ids) if self.comparison == "touchpoints" else ids
        first, last = f"{self.since:%Y-%m}", f"{self.today:%Y-%m}"
        a = a.filter(
            a.month >= first,
            a.month <= last,
            a.kind == KIND[self.metric],
            a.touchpoint_id.isin(wanted),
        )
        if self.comparison == "touchpoints":
            treated = a.touchpoint_id.isin(ids)
        elif self.comparison == "segment":
            s = tables.segments
            members = s.filter(s.segment_id == self.scope.segment_id).customer_id
            treated = a.customer_id.notnull() & a.customer_id.isin(members)
        else:
            treated = a.team_id.notnull() & a.team_id.isin(list(self.scope.team_ids or ()))
        a = a.mutate(day=a.submitted_at.date(), treated=treated.fill_null(False))
        return a.group_by(["day", "treated", "score"]).agg(n=a.count())

    def calculate(self, tables: FactTables | None) -> dict[str, np.ndarray]:
        """Columns ``day`` (days since 1970-01-01), ``treated``, ``score``, ``n``."""
        empty = {
            "day": np.zeros(0, np.int64),
            "treated": np.zeros(0, bool),
            "score": np.zeros(0, np.float64),
            "n": np.zeros(0, np.int64),
        }
        if tables is None:
            return empty
        table = self.to_query(tables).to_pyarrow()
        if table.num_rows == 0:
            return empty
        days = pc.cast(table["day"], "date32").to_numpy(zero_copy_only=False).astype(np.int64)
        return {
            "day": days,
            "treated": table["treated"].to_numpy(zero_copy_only=False).astype(bool),
            "score": table["score"].to_numpy(zero_copy_only=False).astype(np.float64),
            "n": table["n"].to_numpy(zero_copy_only=False).astype(np.int64),
        }


_EPOCH = dt.date(1970, 1, 1)


def _ordinal(day: dt.date) -> int:
    return (day - _EPOCH).days


def _months(iso_day: str) -> int:
    """Months since year 0 of the month of an ISO day."""
    return int(iso_day[:4]) * 12 + int(iso_day[5:7]) - 1


def _month_start(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _periods_around(change: dt.date, today: dt.date, grain: str) -> tuple[list[Period], int]:
    """The complete periods kept and the index of the first one after the change."""
    step = 3 if grain == QUARTER else 1
    start = _month_start(change, (change.month - 1) % step if grain == QUARTER else 0)
    first = _month_start(start, step * PERIODS_BEFORE)
    cut = periods(f"{first:%Y-%m}", f"{today:%Y-%m}", grain, as_of=today)
    kept, after_at = [], None
    for p in cut:
        begins, ends = dt.date.fromisoformat(p.start), dt.date.fromisoformat(p.end)
        if p.partial:
            continue
        if begins < change <= ends and begins != change:
            continue  # the change falls inside it: part before, part after
        if begins >= change:
            if after_at is None:
                after_at = len(kept)
            if len(kept) - after_at >= PERIODS_AFTER:
                break
        kept.append(p)
    return kept, len(kept) if after_at is None else after_at


def _since(change: dt.date) -> dt.date:
    # Wide enough for the before/after window and PERIODS_BEFORE quarters.
    return min(
        change - dt.timedelta(days=BEFORE_AFTER_DAYS),
        _month_start(change, 3 * PERIODS_BEFORE + 2),
    )


def _expand(data: dict[str, np.ndarray], mask: np.ndarray) -> np.ndarray:
    return np.repeat(data["score"][mask], data["n"][mask])


def _grain(data: dict[str, np.ndarray]) -> str:
    treated = data["treated"]
    by_month: dict[str, int] = {}
    for day, n in zip(data["day"][treated], data["n"][treated], strict=True):
        key = f"{_EPOCH + dt.timedelta(days=int(day)):%Y-%m}"
        by_month[key] = by_month.get(key, 0) + int(n)
    return rhythm(by_month) if by_month else MONTH


def _before_after(
    metric: str, data: dict[str, np.ndarray], change: dt.date, today: dt.date
) -> tuple[BeforeAfterBlock | None, int, int]:
    days = min(BEFORE_AFTER_DAYS, (today - change).days + 1)
    c = _ordinal(change)
    treated = data["treated"]
    before = treated & (data["day"] >= c - days) & (data["day"] < c)
    after = treated & (data["day"] >= c) & (data["day"] < c + days)
    nb, na = int(data["n"][before].sum()), int(data["n"][after].sum())
    if nb < MIN_N or na < MIN_N:
        return None, nb, na
    raw_b, raw_a = _expand(data, before), _expand(data, after)
    if metric == "nps":
        res = before_after(raw_b, raw_a, nps=True)
        b, a, d = res.nps_before, res.nps_after, res.nps_change
    else:
        res = before_after(code_scores(metric, raw_b), code_scores(metric, raw_a), nps=False)
        b, a, d = res.mean_before, res.mean_after, res.mean_change
    block = BeforeAfterBlock(
        before_since=change - dt.timedelta(days=days),
        before_until=change - dt.timedelta(days=1),
        after_since=change,
        after_until=change + dt.timedelta(days=days - 1),
        before=b,
        after=a,
        change=d,
        claim=res.claim,
    )
    return block, nb, na


def _period_index(data: dict[str, np.ndarray], kept: Sequence[Period]) -> np.ndarray:
    """The index into ``kept`` of each row's period; -1 outside them."""
    starts = np.array([_ordinal(dt.date.fromisoformat(p.start)) for p in kept], np.int64)
    ends = np.array([_ordinal(dt.date.fromisoformat(p.end)) for p in kept], np.int64)
    at = np.searchsorted(starts, data["day"], side="right") - 1
    ok = (at >= 0) & (data["day"] <= ends[np.clip(at, 0, None)])
    return np.where(ok, at, -1)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def _did(
    metric: str, data: dict[str, np.ndarray], kept: list[Period], after_at: int, comparison: str
) -> DidBlock | None:
    at = _period_index(data, kept)
    keep = at >= 0
    if not keep.any() or after_at in (0, len(kept)):
        return None
    # Periods numbered in time (months, or quarters, since year 0), so that a period left out
    # at the change leaves a gap and the pre-trends' slopes are per period of the calendar.
    step = 3 if kept[0].grain == QUARTER else 1
    number = np.array([_months(p.start) // step for p in kept], np.float64)
    counts = data["n"][keep]
    y = code_scores(metric, np.repeat(data["score"][keep], counts))
    g = np.repeat(data["treated"][keep].astype(np.float64), counts)
    p = np.repeat(number[at[keep]], counts)
    post = p >= number[after_at]
    cells = [int(((g == t) & (post == s)).sum()) for t in (1, 0) for s in (False, True)]
    if min(cells) < MIN_N:
        return None
    try:
        res = did_regression(y, g, p, change=number[after_at])
    except ValueError:
        return None  # e.g. every answer the same: nothing to estimate
    position = {v: i for i, v in enumerate(number)}
    by_index = {position[float(v)]: i for i, v in enumerate(res.periods)}
    points = []
    for i, period in enumerate(kept):
        j = by_index.get(i)
        points.append(
            SeriesPoint(
                period=period.start,
                end=period.end,
                after=i >= after_at,
                value=None if j is None else _finite(res.treated_mean[j]),
                n=0 if j is None else int(res.treated_n[j]),
                control=None if j is None else _finite(res.control_mean[j]),
                control_n=0 if j is None else int(res.control_n[j]),
            )
        )
    return DidBlock(
        comparison=comparison,
        effect=res.effect,
        pre_trends=res.pre_trends,
        cells=res.cells,
        cov=res.cov,
        claim=res.claim,
        points=tuple(points),
        change_period=kept[after_at].start,
    )


def _its(
    metric: str, data: dict[str, np.ndarray], kept: list[Period], after_at: int
) -> ItsBlock | None:
    at = _period_index(data, kept)
    mask = (at >= 0) & data["treated"]
    n = np.bincount(at[mask], weights=data["n"][mask], minlength=len(kept)).astype(np.int64)
    total = np.bincount(
        at[mask], weights=code_scores(metric, data["score"][mask]) * data["n"][mask],
        minlength=len(kept),
    )  # fmt: skip
    # The longest run of answered periods that holds the change: the series has no gaps.
    lo, hi = after_at, after_at
    while lo > 0 and n[lo - 1] > 0:
        lo -= 1
    while hi < len(kept) and n[hi] > 0:
        hi += 1
    T, t0 = hi - lo, after_at - lo
    if t0 < 2 or T - t0 < 2 or T < 5:
        return None
    values = total[lo:hi] / n[lo:hi]
    try:
        res = interrupted_time_series(values, change=t0)
    except ValueError:
        return None
    points = tuple(
        SeriesPoint(
            period=kept[lo + i].start,
            end=kept[lo + i].end,
            after=i >= t0,
            value=float(values[i]),
            n=int(n[lo + i]),
            fitted=float(res.fitted[i]),
            counterfactual=float(res.counterfactual[i]),
        )
        for i in range(T)
    )
    return ItsBlock(
        pre_trend=res.pre_trend,
        level_change=res.level_change,
        slope_change=res.slope_change,
        periods_before=t0,
        periods_after=T - t0,
        answers_before=int(n[lo:after_at].sum()),
        answers_after=int(n[after_at:hi].sum()),
        claim=res.claim,
        points=points,
        change_period=kept[after_at].start,
    )


def _target(initiative, achieved: Estimate) -> TargetCheck | None:
    if initiative.target_value is None:
        return None
    target = float(initiative.target_value)
    baseline = None if initiative.baseline is None else float(initiative.baseline)
    direction = "down" if baseline is not None and target < baseline else "up"
    if direction == "up":
        verdict = (
            "reached" if achieved.low >= target else "missed" if achieved.high < target else None
        )
    else:
        verdict = (
            "reached" if achieved.high <= target else "missed" if achieved.low > target else None
        )
    return TargetCheck(target, achieved, baseline, direction, verdict or "undecided")


def _change_date(initiative, today: dt.date) -> tuple[str | None, dt.date | None, bool]:
    """(status when there is nothing to measure, the change date, provisional)."""
    state = initiative.state
    if state == "done" and initiative.effective_from is not None:
        change, provisional = initiative.effective_from, False
    elif state == "in_progress" and initiative.started_at is not None:
        change, provisional = initiative.started_at.date(), True
    elif state == "abandoned":
        return "abandoned", None, False
    else:
        return "not_started", None, False
    if change > today:
        return "not_in_force", change, provisional
    return None, change, provisional


def _rolled_back(initiative, change: dt.date) -> dt.date | None:
    """The first day of the earliest roll-back recorded for the initiative after its change
    (None for what measures like an initiative but is not one: a decision)."""
    if not isinstance(initiative, Initiative):
        return None
    starts = rollback_alerts_of(initiative).filter(period_start__gt=change)
    return starts.aggregate(first=Min("period_start"))["first"]


def _comparison_touchpoints(touchpoint_ids: Sequence[int]) -> tuple[int, ...]:
    journeys = touchpoints_with_stage().filter(pk__in=touchpoint_ids).values("stage__journey_id")
    others = (
        touchpoints_with_stage()
        .filter(stage__journey_id__in=journeys)
        .exclude(pk__in=touchpoint_ids)
        .values_list("pk", flat=True)
    )
    return tuple(sorted(others))


def _scope_of(initiative) -> tuple[str, Scope]:
    if initiative.scope == "segment" and initiative.segment_id is not None:
        return "segment", Scope(segment_id=initiative.segment_id)
    if initiative.scope == "teams":
        teams = {t for root in initiative.scope_teams.values_list("pk", flat=True)
                 for t in subtree_ids(root)}  # fmt: skip
        return "teams", Scope(team_ids=tuple(sorted(teams)))
    return "touchpoints", Scope()


def initiative_effect(
    initiative, *, today: dt.date, store: FactStore | None = None, cache: bool = True
) -> InitiativeEffect:
    """The measured effect of ``initiative`` (an :class:`~cxloop.improvements.models.
    Initiative`) as of ``today``: before/after, and a difference-in-differences against its
    comparison group or, without one, an interrupted time series, with the target against
    what was achieved. See the module's docstring for the windows, periods and groups."""
    metric = initiative.metric
    status, change, provisional = _change_date(initiative, today)
    if status is not None:
        return InitiativeEffect(status=status, metric=metric, change=change,
                                provisional=provisional)  # fmt: skip
    ids = tuple(sorted(initiative.touchpoints.values_list("pk", flat=True)))
    comparison, scope = _scope_of(initiative)
    query = EffectQuery(
        touchpoint_ids=ids,
        comparison_ids=_comparison_touchpoints(ids) if comparison == "touchpoints" else (),
        metric=metric,
        change=change,
        today=today,
        since=_since(change),
        comparison=comparison,
        scope=scope,
    )
    try:
        data = run_cached(query, store=store or get_store(), cache=cache)
    except FactStoreError:
        # A store being rebuilt or damaged: the page says so instead of failing.
        return InitiativeEffect(status="unavailable", metric=metric, change=change,
                                provisional=provisional)  # fmt: skip
    rolled_back = _rolled_back(initiative, change)
    common = {
        "metric": metric,
        "change": change,
        "provisional": provisional,
        "rolled_back": rolled_back,
    }
    if not data["n"][data["treated"]].sum():
        return InitiativeEffect(status="no_data", **common)
    grain = _grain(data)
    # The initiative's effect is what it held: after a roll-back the touchpoint measures the
    # roll-back (its alert says so), so the after windows end the day before its period.
    until = today if rolled_back is None else min(today, rolled_back - dt.timedelta(days=1))
    ba, nb, na = _before_after(metric, data, change, until)
    kept, after_at = _periods_around(change, until, grain)
    did = _did(metric, data, kept, after_at, comparison) if kept else None
    its = None if did is not None or not kept else _its(metric, data, kept, after_at)
    measured = ba is not None or did is not None or its is not None
    return InitiativeEffect(
        status="measured" if measured else "too_few",
        grain=grain,
        comparison=comparison,
        answers_before=nb,
        answers_after=na,
        before_after=ba,
        did=did,
        its=its,
        target=_target(initiative, ba.after) if ba is not None else None,
        **common,
    )


# ----------------------------------------------------------------------------------------------
# The baseline


@dataclass(frozen=True)
class BaselineValue(_Plain):
    """The metric over ``since``..``until`` (inclusive) and its answers."""

    value: float
    n: int
    since: dt.date
    until: dt.date


def baseline_for(
    touchpoint_ids: Sequence[int],
    metric: str,
    until: dt.date,
    *,
    scope: Scope | None = None,
    store: FactStore | None = None,
) -> BaselineValue | None:
    """``metric`` at the touchpoints over the :data:`BASELINE_MONTHS` complete calendar months
    before the month of ``until`` (one quarter: one wave of a survey in waves, three months of
    monthly feedback), among the customers or teams of ``scope``; None without answers."""
    if metric not in KIND:
        raise ValueError(f"no such metric: {metric!r}")
    ids = [int(t) for t in touchpoint_ids]
    if not ids:
        return None
    since = _month_start(until, BASELINE_MONTHS)
    last = _month_start(until) - dt.timedelta(days=1)
    store = store or get_store()
    manifest = store.manifest()
    tables = store.tables(manifest) if manifest is not None else None
    if tables is None:
        return None
    scope = scope or Scope()
    a = Scope(since=since, until=last, segment_id=scope.segment_id, team_ids=scope.team_ids)
    answers = a.filter(tables.answers, tables.segments)
    answers = answers.filter(answers.kind == KIND[metric], answers.touchpoint_id.isin(ids))
    table = answers.group_by("score").agg(n=answers.count()).to_pyarrow()
    if table.num_rows == 0:
        return None
    scores = table["score"].to_numpy(zero_copy_only=False).astype(np.float64)
    counts = table["n"].to_numpy(zero_copy_only=False).astype(np.int64)
    n = int(counts.sum())
    if n == 0:
        return None
    value = float((code_scores(metric, scores) * counts).sum() / n)
    return BaselineValue(value=value, n=n, since=since, until=last)


def baseline_source(
    touchpoint_ids: Sequence[int], metric: str, until: dt.date, scope: BaselineScope
):
    """:func:`baseline_for` as the improvements app's baseline source, among the answers of
    the initiative's ``scope``: ``cxloop.improvements.services.set_baseline_source(
    baseline_source)`` at start-up. Returns the app's own ``Baseline``; a store that cannot be
    read gives no baseline rather than no initiative."""
    within = Scope(segment_id=scope.segment_id, team_ids=scope.team_ids or None)
    try:
        found = baseline_for(touchpoint_ids, metric, until, scope=within)
    except FactStoreError:
        return None
    if found is None:
        return None
    return Baseline(value=round(found.value, 4), n=found.n, since=found.since, until=found.until)
