"""The touchpoint dashboard: trends, a control chart that tells a roll-back from noise, the
score distribution, and how the touchpoint moves with NPS."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir
import numpy as np

from cxloop.analytics import Estimate, p_chart, run_rules
from cxloop.insights.store import FactTables, Scope

from . import _scans as scans
from ._base import (
    MIN_N,
    DashboardQuery,
    Rows,
    Scoped,
    check_id,
    check_whole,
    require_touchpoint,
)
from ._scores import Plain, Point, ScoreCount, Scores, month_start, months_from_to

__all__ = [
    "BASELINE_MONTHS",
    "DEFAULT_KINDS",
    "ChartPoint",
    "ChartSignal",
    "ControlChartResult",
    "DriverCorrelation",
    "RATING_KINDS",
    "TouchpointQuery",
    "TouchpointResult",
]

RATING_KINDS = ("rating", "csat")  # the 1–5 answers about a touchpoint
DEFAULT_KINDS = ("rating",)  # the journey map's touchpoint score
BASELINE_MONTHS = 6
RULE_SETS = ("western-electric", "nelson")


@dataclass(frozen=True)
class ChartPoint(Plain):
    """A month of the control chart: the top-2-box share in per cent and its control limits
    (which vary with the month's ``n``)."""

    period: str
    value: float
    lower: float
    upper: float
    n: int


@dataclass(frozen=True)
class ChartSignal(Plain):
    """A point that signals: ``index`` into the chart's points, the ``rule`` of the rule set that
    fired (rule 1 is a point beyond the control limits), what it says, and whether the share
    moved ``"down"`` (a roll-back) or ``"up"``."""

    period: str
    index: int
    rule: int
    description: str
    direction: str


@dataclass(frozen=True)
class ControlChartResult(Plain):
    """A p-chart of the monthly top-2-box share (Montgomery §7.2) with run rules.

    The centre line is the share over the ``baseline`` months — the first ``BASELINE_MONTHS``
    months with answers (phase I), so that a later roll-back is measured against the level the
    touchpoint held, not against an average it has already dragged down; with no more months
    than that, the centre is the share over all of them. Limits are centre ± 3 standard errors
    of each month's share. Run rules (Western Electric by default) are applied to the shares
    standardised by those standard errors, as a p-chart with varying n requires. Months without
    answers have no point. ``signals`` are the indices beyond the limits (for
    :func:`cxloop.insights.charts.control_chart`); ``rule_signals`` every rule that fired;
    ``first_signal`` and ``first_drop`` the ISO start of the first month that signals at all
    and of the first that signals a drop.
    """

    points: tuple[ChartPoint, ...]
    centre: float
    baseline: tuple[str, ...]
    rules: str
    signals: tuple[int, ...]
    rule_signals: tuple[ChartSignal, ...]
    first_signal: str | None
    first_drop: str | None


@dataclass(frozen=True)
class DriverCorrelation(Plain):
    """Pearson's correlation between the touchpoint's rating and the NPS answer of the same
    response, over the ``n`` responses with both (``segment_id`` None: the whole scope). A
    correlation, not a causal weight; ``r`` is None when it is undefined (fewer than three
    pairs, or one side constant). ``low_n``: fewer pairs than the query's ``min_n``."""

    segment_id: int | None
    r: float | None
    n: int
    low_n: bool


@dataclass(frozen=True)
class TouchpointResult(Plain):
    """One touchpoint in a scope.

    ``mean`` (on 1–5) and ``top_box`` (per cent of 4s and 5s) with intervals over the scope,
    from ``n`` answers of ``kinds``; ``mean_trend`` and ``top_box_trend`` a point per month of
    ``months`` (first to last month with answers); ``control`` the control chart (None without
    answers); ``distribution`` the answers per score 1–5; ``drivers`` the correlation with NPS
    for the scope and then per segment. ``comments`` is left empty by the query: comments live
    in the database, and the page adds the latest through ``cxloop.surveys.queries``
    (``completed_responses(..., touchpoint_code=...)``) with :meth:`with_comments`.
    """

    version: str | None
    touchpoint_id: int
    kinds: tuple[str, ...]
    n: int
    low_n: bool
    mean: Estimate | None
    top_box: Estimate | None
    mean_trend: tuple[Point, ...]
    top_box_trend: tuple[Point, ...]
    control: ControlChartResult | None
    distribution: tuple[ScoreCount, ...]
    drivers: tuple[DriverCorrelation, ...]
    months: tuple[str, ...]
    comments: tuple[Any, ...] = ()

    def with_comments(self, comments: Sequence[Any]) -> TouchpointResult:
        """The same result with the page's comments attached."""
        return dataclasses.replace(self, comments=tuple(comments))


@dataclass(frozen=True)
class TouchpointQuery(DashboardQuery):
    """Everything the touchpoint page shows from the fact store.

    Parameters
    ----------
    scope : Scope
    touchpoint_id : int
        A touchpoint that answers in the store rate; otherwise :meth:`calculate` raises
        ``ValueError`` naming it.
    kinds : tuple of {"rating", "csat"}
        Which answers about the touchpoint count. The default, ``("rating",)``, is the journey
        map's score (the 1–5 rating in relationship surveys); ``("csat",)`` is the 1–5 CSAT of the
        transactional survey after the event, and both together pool the two 1–5 scales.
    baseline_months : int or None
        Months with answers that set the control chart's centre; None: all months.
    rules : {"western-electric", "nelson"}
    min_n : int
        Under this many answers (or pairs, for a correlation) a figure is flagged ``low_n``.
    """

    scope: Scope
    touchpoint_id: int
    kinds: tuple[str, ...] = DEFAULT_KINDS
    baseline_months: int | None = BASELINE_MONTHS
    rules: str = "western-electric"
    min_n: int = MIN_N

    def __post_init__(self) -> None:
        self.check_scope()
        check_id("touchpoint_id", self.touchpoint_id, optional=False)
        kinds = (self.kinds,) if isinstance(self.kinds, str) else tuple(self.kinds)
        kinds = tuple(dict.fromkeys(kinds))
        if not kinds or any(k not in RATING_KINDS for k in kinds):
            raise ValueError(
                f"kinds must be taken from {', '.join(RATING_KINDS)}; got {list(kinds)!r}"
            )
        object.__setattr__(self, "kinds", kinds)
        check_whole("baseline_months", self.baseline_months, optional=True)
        if self.rules not in RULE_SETS:
            raise ValueError(f"rules must be one of {', '.join(RULE_SETS)}; got {self.rules!r}")
        check_whole("min_n", self.min_n)

    def check_tables(self, tables: FactTables) -> None:
        require_touchpoint(tables, self.touchpoint_id)

    def to_query(self, tables: FactTables) -> dict[str, ir.Table]:
        scoped = Scoped.of(tables, self.scope)
        rated = scans.kind_answers(scoped.answers, self.kinds, self.touchpoint_id)
        nps = scans.nps_answers(scoped.responses).select("response_id", nps_score="score")
        pairs = rated.join(nps, rated.response_id == nps.response_id)
        pairs = pairs.select(customer_id=rated.customer_id, x=rated.score, y=nps.nps_score)
        by_segment = scans.in_segments(pairs, scoped.segments)
        return {
            "scores": scans.score_counts(rated, scans.months(rated)),
            "pairs": pairs.group_by("x", "y").agg(n=pairs.count()),
            "segment_pairs": by_segment.group_by("segment_id", "x", "y").agg(n=by_segment.count()),
        }

    def assemble(self, version: str | None, rows: Rows) -> TouchpointResult:
        # Both kinds are on the 1–5 scale; "rating" names that scale here.
        by_month = scans.scores_by(rows.get("scores", []), "rating", scans.by_month_key)
        total = scans.total(by_month.values(), "rating")
        months = months_from_to(min(by_month), max(by_month)) if by_month else []
        empty = Scores.empty("rating")
        mean_trend, top_trend = [], []
        for month in months:
            scores = by_month.get(month, empty)
            mean_trend.append(Point.of(month_start(month), scores.mean(), scores.n))
            top_trend.append(Point.of(month_start(month), scores.top_box(), scores.n))
        segment_pairs: dict[int, list[dict]] = defaultdict(list)
        for row in rows.get("segment_pairs", []):
            segment_pairs[int(row["segment_id"])].append(row)
        drivers = [self._correlation(None, rows.get("pairs", []))]
        drivers += [self._correlation(s, segment_pairs[s]) for s in sorted(segment_pairs)]
        return TouchpointResult(
            version=version,
            touchpoint_id=self.touchpoint_id,
            kinds=self.kinds,
            n=total.n,
            low_n=total.n < self.min_n,
            mean=total.mean(),
            top_box=total.top_box(),
            mean_trend=tuple(mean_trend),
            top_box_trend=tuple(top_trend),
            control=self._control(by_month),
            distribution=total.distribution(),
            drivers=tuple(drivers),
            months=tuple(month_start(m) for m in months),
        )

    def _control(self, by_month: dict[str, Scores]) -> ControlChartResult | None:
        months = sorted(m for m, s in by_month.items() if s.n > 0)
        if not months:
            return None
        x = np.array([by_month[m].top_box_count() for m in months], dtype=float)
        n = np.array([by_month[m].n for m in months], dtype=float)
        size = len(months) if self.baseline_months is None else self.baseline_months
        baseline = slice(0, min(size, len(months)))
        centre = float(x[baseline].sum() / n[baseline].sum())
        chart = p_chart(x, n, center=centre)
        signals: list[ChartSignal] = []
        if 0.0 < centre < 1.0:
            # A p-chart's points have different standard errors (n varies by month), so the run
            # rules read the shares standardised by them: centre 0, sigma 1.
            z = (chart.statistic - centre) / np.sqrt(centre * (1.0 - centre) / n)
            signals = [
                ChartSignal(
                    period=month_start(months[s.index]),
                    index=s.index,
                    rule=s.rule,
                    description=s.description,
                    direction="down" if z[s.index] < 0 else "up",
                )
                for s in run_rules(z, center=0.0, sigma=1.0, rules=self.rules)
            ]
        else:
            # Every baseline answer was (or none was) in the top box: no spread to standardise
            # by; the limits still flag a month that leaves the centre.
            signals = [
                ChartSignal(
                    period=month_start(months[i]),
                    index=i,
                    rule=1,
                    description="one point beyond 3 sigma",
                    direction="down" if chart.statistic[i] < centre else "up",
                )
                for i in chart.signals
            ]
        drops = [s for s in signals if s.direction == "down"]
        first = min([s.index for s in signals] + list(chart.signals), default=None)
        return ControlChartResult(
            points=tuple(
                ChartPoint(
                    period=month_start(month),
                    value=100.0 * float(chart.statistic[i]),
                    lower=100.0 * float(chart.lower[i]),
                    upper=100.0 * float(chart.upper[i]),
                    n=int(n[i]),
                )
                for i, month in enumerate(months)
            ),
            centre=100.0 * centre,
            baseline=tuple(month_start(m) for m in months[baseline]),
            rules=self.rules,
            signals=tuple(chart.signals),
            rule_signals=tuple(signals),
            first_signal=None if first is None else month_start(months[first]),
            first_drop=drops[0].period if drops else None,
        )

    def _correlation(self, segment_id: int | None, cells: list[dict]) -> DriverCorrelation:
        n = int(sum(c["n"] for c in cells))
        r = None
        if n >= 3:
            xy = np.array([[c["x"], c["y"]] for c in cells], dtype=float).T
            weights = np.array([c["n"] for c in cells], dtype=np.int64)
            # The 2×2 covariance of the responses these cells stand for (frequency weights).
            cov = np.cov(xy, fweights=weights)
            if cov[0, 0] > 0 and cov[1, 1] > 0:
                r = float(np.clip(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]), -1.0, 1.0))
        return DriverCorrelation(segment_id, r, n, n < self.min_n)
