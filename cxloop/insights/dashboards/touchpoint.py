"""The touchpoint dashboard: trends, a control chart that tells a roll-back from noise, the
score distribution, and how the touchpoint moves with NPS."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir
import numpy as np

from cxloop.analytics import Estimate
from cxloop.insights.signals import (
    BASELINE_MONTHS,
    ChartPoint,
    ChartSignal,
    ControlChartResult,
    control_chart,
    periods,
    rhythm,
)
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
    "PeriodPoint",
    "RATING_KINDS",
    "TouchpointQuery",
    "TouchpointResult",
]

RATING_KINDS = ("rating", "csat")  # the 1–5 answers about a touchpoint
DEFAULT_KINDS = ("rating",)  # the journey map's touchpoint score


@dataclass(frozen=True)
class PeriodPoint(Plain):
    """The mean rating of one period (``period`` and ``end``: its first and last day), with
    its interval and ``n``; ``low_n`` under :data:`~cxloop.analytics.MIN_N`
    answers, ``partial`` not over yet."""

    period: str
    end: str
    value: float | None
    low: float | None
    high: float | None
    n: int
    low_n: bool
    partial: bool


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
    ``grain`` is the rhythm of the answers ("quarter" for a survey in waves) and
    ``mean_by_period`` the mean rating per period of that rhythm, the periods of the control
    chart, with ``low_n`` and ``partial`` flags: the trend a page should draw.
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
    grain: str = "month"
    mean_by_period: tuple[PeriodPoint, ...] = ()

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
        The first months with answers whose periods set the control chart's centre; None: all.
        The chart's periods, rules and limits are :func:`cxloop.insights.signals.control_chart`'s,
        the same as the journey map's badges.
    min_n : int
        Under this many answers (or pairs, for a correlation) a figure is flagged ``low_n``.
    as_of : datetime.date, optional
        The day the data are read to, for the control chart's incomplete period (default: the
        scope's end or today).
    """

    scope: Scope
    touchpoint_id: int
    kinds: tuple[str, ...] = DEFAULT_KINDS
    baseline_months: int | None = BASELINE_MONTHS
    min_n: int = MIN_N
    as_of: dt.date | None = None

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
        counted = self.scope.counted(tables, by_team=False)
        counted = scans.kind_answers(counted, self.kinds, self.touchpoint_id)
        return {
            "scores": scans.counted_scores(counted, scans.months(counted)),
            "pairs": pairs.group_by("x", "y").agg(n=pairs.count()),
            "segment_pairs": by_segment.group_by("segment_id", "x", "y").agg(n=by_segment.count()),
        }

    def assemble(self, version: str | None, rows: Rows) -> TouchpointResult:
        # Both kinds are on the 1–5 scale; "rating" names that scale here.
        by_month = scans.scores_by(rows.get("scores", []), "rating", scans.by_month_key)
        total = scans.total(by_month.values(), "rating")
        months = months_from_to(min(by_month), max(by_month)) if by_month else []
        grain = rhythm({m: s.n for m, s in by_month.items()})
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
            grain=grain,
            mean_by_period=tuple(self._by_period(by_month, months, grain)),
        )

    def _by_period(self, by_month: dict[str, Scores], months: list[str], grain: str):
        if not months:
            return
        empty = Scores.empty("rating")
        for period in periods(months[0], months[-1], grain, as_of=self.scope.as_of(self.as_of)):
            scores = empty
            for month in period.months:
                scores = scores + by_month.get(month, empty)
            estimate = scores.mean()
            yield PeriodPoint(
                period=period.start,
                end=period.end,
                value=None if estimate is None else estimate.value,
                low=None if estimate is None else estimate.low,
                high=None if estimate is None else estimate.high,
                n=scores.n,
                low_n=scores.n < MIN_N,
                partial=period.partial,
            )

    def _control(self, by_month: dict[str, Scores]) -> ControlChartResult | None:
        counts = {m: (s.top_box_count(), s.n) for m, s in by_month.items()}
        as_of = self.scope.as_of(self.as_of)
        return control_chart(counts, as_of=as_of, baseline_months=self.baseline_months)

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
