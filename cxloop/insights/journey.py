"""The journey map's data: every touchpoint's score, importance, opportunity and trend.

:class:`JourneyMapQuery` is a :class:`~cxloop.insights.dashboards.DashboardQuery`, the typed
query of every dashboard (docs: STYLE.md): :meth:`~JourneyMapQuery.to_query` builds Ibis
expressions from :class:`~cxloop.insights.store.FactTables` of any backend (DuckDB or Spark),
:meth:`~JourneyMapQuery.read` runs them, :meth:`~JourneyMapQuery.assemble` applies
:mod:`cxloop.analytics` to the small aggregates they return, and the base's ``calculate`` and
``run`` give an empty map for an empty store or scope and cache the :class:`JourneyMap` per data
version and filters. The one thing the journey map adds to the pattern is a second phase in
:meth:`~JourneyMapQuery.read`: the driver sample, whose size depends on the histogram.

Two reads, both Ibis expressions:

1. **Score histograms** (exact): answers in scope counted by ``(month, touchpoint_id, kind,
   score)``, a few thousand rows, summed from the store's pre-counted ``answer_totals`` (every
   team) or ``answer_counts`` (some teams) (:meth:`~cxloop.insights.store.Scope.counted`: only
   a month the period starts or ends inside is counted from its answers). Every score,
   interval, n, trend point, volume and NPS below is computed from these counts, so they are
   exact whatever the size of the store; on the 10 M store they take 0.01 s where counting the
   59 M answers took 1.0 s.
2. **The driver model** (importance). LMG needs the covariance matrix of the touchpoint
   ratings and NPS over the responses that rate a touchpoint (any touchpoint: a journey's fit
   does not depend on what other journeys are mapped), with pairwise deletion, which takes
   only pairwise sums (:class:`~cxloop.analytics.PairwiseSums`). Where the store keeps them —
   ``answer_moments``, per month and segment; the period whole months, every team
   (:meth:`JourneyMapQuery.exact_drivers`) — the period's months are added in one read of a
   thousand rows and the fits are exact, over every response (``fraction`` 1; 0.01 s on the
   10 M store; docs/decisions/022). Otherwise the answers of each response must be side by
   side: pairing them in the engine (a pivot or a self-join of 45 M ratings) took 7–13 s on
   two cores and fetching every rating to NumPy needs about 2 GB, so the answers of a
   **sample** of responses are fetched (``response_id, customer_id, touchpoint_id, score``;
   -1 stands for the NPS answer), pivoted in NumPy (:func:`~cxloop.facts.derived.wide`) and
   summed the same way.

   Every response has the same chance ``fraction`` to be drawn, and the sample is the same on
   every engine and every run (so results can be cached and compared with Spark). It comes from
   one of two places:

   - **The store's pre-drawn sample** when ``fraction`` is at most
     :data:`~cxloop.facts.derived.SAMPLE_SHARE` (1/16): ``answer_sample`` holds the NPS and
     rating answers of the responses whose ``draw`` (a hash of the id, uniform in [0, 1)) is
     under 1/16, sorted by draw; the responses with ``draw < fraction`` are a simple random
     sample. On the 10 M store the default scenario's sample (3.6 % of the period, 1.6 M
     answers) takes 0.08–0.09 s this way.
   - Otherwise, **time windows** of the answers: the period is cut into ``windows`` (24) equal
     strata and from each, the responses submitted in one sub-window of ``fraction`` × its
     length, at a seeded random offset, are taken; because the store is sorted by time, DuckDB
     and Spark read only the row groups of the windows (0.4–0.6 s on the 10 M store, where a
     hash of ``response_id`` over the answers decoded every row group: 2.0–2.2 s).
     ``Table.sample`` was not used: it draws answers, not responses, and differs between
     engines. The price of windows is clustering (responses of one window are not independent
     draws); it did not show (below).

   ``fraction`` is chosen so that the filtered population has about ``sample_responses``
   (20,000) responses rating touchpoints in the sample, with at most ``MAX_SAMPLE_ANSWERS``
   answers fetched; above one half the whole scope is read (``fraction`` 1, exact). Measured on
   the 10 M synthetic store against the exact LMG of all 3.2 M relationship responses (importance
   shares of R² up to 0.36), over five seeds: the largest error of any share was
   0.004–0.011 in the target segment (≈ 24,000 sampled responses), 0.002–0.010 in the rest
   (≈ 84,000) and 0.001–0.009 overall; the three strongest drivers came out in the true order in
   all 15 fits, and drivers whose shares differ by less than 0.002 sometimes swapped places.
   A simple random sample of the same size (as the pre-drawn one is) erred by 0.008–0.012,
   0.003–0.007 and 0.004–0.007: neither way costs measurable precision. With 50,000 responses
   the errors were 0.001–0.010; the share of R² is an estimate to about ±0.01, and the page
   should say so.

Conventions: the scores are those of the dashboards, from the same
:class:`~cxloop.insights.dashboards._scores.Scores` of the histograms' counts — a touchpoint's
score is its mean rating (1–5) with a Student-t interval (:func:`~cxloop.analytics.
mean_from_histogram`), its top-2-box share (``TOP_BOX``: 4–5) with a Wilson interval, NPS by
:func:`~cxloop.analytics.nps_from_histogram` (the cut-offs of :mod:`cxloop.lib.scales`), changes
by Welch's test from moments — every interval at 95 %; a stage's score is
:func:`~cxloop.analytics.pooled_mean`; a score of fewer than :data:`MIN_N` answers carries
``low_n=True``; importance is the LMG share of R² of NPS regressed on the touchpoint ratings
(:func:`~cxloop.analytics.lmg_from_covariance`, on :func:`~cxloop.analytics.
nearest_psd_correlation` when the pairwise matrix is indefinite); opportunities are
:func:`~cxloop.analytics.importance_performance` of importance against the mean rating.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxloop.analytics import (
    MIN_N,
    Difference,
    Estimate,
    PairwiseSums,
    benjamini_hochberg,
    importance_performance,
    lmg_from_covariance,
    means_from_histograms,
    nearest_psd_correlation,
    pairwise_covariance_from_sums,
    pairwise_sums,
    pooled_mean,
)
from cxloop.analytics.results import to_plain
from cxloop.facts.derived import NPS_COLUMN, RATED, SAMPLE_SHARE, Wide, wide
from cxloop.insights.dashboards._base import DashboardQuery, check_whole
from cxloop.insights.dashboards._scores import TOP_BOX, Scores, difference
from cxloop.insights.signals import (
    Period,
    Signal,
    control_chart,
    periods,
    rhythm,
)
from cxloop.insights.store import FactTables, Scope
from cxloop.lib.scales import SCORE_RANGES

__all__ = [
    "Change",
    "FDR",
    "JourneyMap",
    "JourneyMapQuery",
    "JourneyExpressions",
    "DriverModel",
    "RankedOpportunity",
    "StagePoint",
    "TouchpointCard",
    "TrendPoint",
    "MIN_N",
    "journey_of",
]

SAMPLE_RESPONSES = 20_000  # sampled responses wanted in the filtered population (see above)
MAX_SAMPLE_ANSWERS = 4_000_000  # at most this many answers fetched for the sample (≈ 100 MB)
SAMPLE_WINDOWS = 24  # strata of the time-window sample
WHOLE_ABOVE = 0.5  # a sample fraction above this reads everything instead (exact, no windows)

NPS, RATING, CSAT, CES = "nps", "rating", "csat", "ces"
KINDS = (NPS, RATING, CSAT, CES)
FDR = 0.05  # false discovery rate of "what changed" (Benjamini–Hochberg over the touchpoints)
TARGET_WEIGHT = 1.2  # an opportunity "matters more to the target segment" above this ratio
_SCORES = 11  # histogram bins for scores 0..10


# ----------------------------------------------------------------------------------------------
# Results


def _plain(obj: Any) -> dict[str, Any]:
    return to_plain(obj)


@dataclass(frozen=True)
class TrendPoint:
    """One period of a sparkline at the map's ``grain``: ``month`` the period's first month
    ("YYYY-MM"; a quarter's first month), ``score`` (None when ``n`` < 2) and its answers ``n``;
    ``low_n`` under :data:`cxloop.analytics.MIN_N` answers, ``partial`` not over
    yet (drawn hollow)."""

    month: str
    n: int
    score: Estimate | None
    low_n: bool = False
    partial: bool = False

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class TouchpointCard:
    """Everything the journey map shows on one touchpoint.

    Attributes
    ----------
    touchpoint_id, stage_id : int
    n : int
        Ratings behind ``score`` and ``top_box``.
    low_n : bool
        ``n`` < :data:`MIN_N`: show the score with a warning.
    score : Estimate or None
        Mean rating 1–5, Student-t interval; None below two ratings.
    top_box : Estimate or None
        Per cent of ratings 4–5 (0–100), Wilson interval.
    csat : Estimate or None
        Per cent of CSAT answers 4–5 (transactional surveys), Wilson interval.
    ces : Estimate or None
        Mean customer effort 1–7, Student-t interval.
    nps : Estimate or None
        NPS of the NPS answers about this touchpoint (transactional surveys).
    volume : int
        Scored answers about the touchpoint in scope, of every kind.
    importance : float or None
        LMG share of R² of NPS (the shares of all drivers sum to ``DriverModel.r2``); None when
        the touchpoint had too few ratings in the sample to enter the model.
    importance_share : float or None
        ``importance / r2``: the fraction of what the model explains (sums to 1).
    opportunity, quadrant, rank
        From the importance–performance analysis; None when not ranked.
    trend : tuple of TrendPoint
        Mean rating per month of the scope, oldest first.
    change : Difference or None
        Mean rating of the period minus that of the previous period of the same length
        (Welch), None without a previous period or ratings in both.
    change_significant : bool
        The change is a discovery at :data:`FDR` (Benjamini–Hochberg over the touchpoints): the
        only case in which a page draws a trend arrow.
    signal : Signal or None
        The control chart's latest signal in the period (:func:`cxloop.insights.signals.
        control_chart` of the share of ratings 4–5 per period, reading the touchpoint's
        history before the period too): ``direction`` "down" (a roll-back) or "up", ``since``
        the first month of the signalled run, ``rule`` and ``reason``. None: no signal.
    """

    touchpoint_id: int
    stage_id: int
    n: int
    low_n: bool
    score: Estimate | None
    top_box: Estimate | None
    csat: Estimate | None
    ces: Estimate | None
    nps: Estimate | None
    volume: int
    importance: float | None
    importance_share: float | None
    opportunity: float | None
    quadrant: str | None
    rank: int | None
    trend: tuple[TrendPoint, ...]
    signal: Signal | None = None
    change: Difference | None = None
    change_significant: bool = False

    @property
    def trend_direction(self) -> str | None:
        """ "up" or "down" when the change from the previous period is significant, else None."""
        if not self.change_significant or self.change is None:
            return None
        return "up" if self.change.value > 0 else "down"

    def to_dict(self) -> dict[str, Any]:
        out = _plain(self)
        out["trend_direction"] = self.trend_direction
        return out


@dataclass(frozen=True)
class Change:
    """One line of "what changed" in the period.

    Attributes
    ----------
    source : {"comparison", "signal"}
        A significant difference from the previous period of the same length, or a control
        chart signal.
    touchpoint_id : int or None
        None: the NPS of every NPS answer.
    metric : {"rating", "nps", "top_box"}
        Mean rating 1–5, NPS −100..100, or the share of ratings 4–5 in per cent (signals).
    direction : {"up", "down"}
    before, after : float
        The metric in the previous period (or at the control chart's centre line) and now.
    difference : Difference or None
        ``after - before`` with its interval and p-value (comparisons).
    q_value : float or None
        Benjamini–Hochberg adjusted p-value over the touchpoints (comparisons).
    since : str or None
        First month ("YYYY-MM") of a signalled run.
    message : str
        Which sentence the page prints: ``rating_up``, ``rating_down``, ``nps_up``,
        ``nps_down``, ``signal_up`` or ``signal_down``; ``explanation`` is that sentence in
        English.
    """

    source: str
    touchpoint_id: int | None
    metric: str
    direction: str
    before: float
    after: float
    difference: Difference | None
    q_value: float | None
    since: str | None
    message: str
    explanation: str

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class StagePoint:
    """One point of the emotion curve: the mean of every rating given to the stage's
    touchpoints, with an interval that allows for one response rating several of them
    (the covariance of the ratings from the driver sample)."""

    stage_id: int
    touchpoint_ids: tuple[int, ...]
    n: int
    low_n: bool
    score: Estimate | None

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class RankedOpportunity:
    """A touchpoint in the ranked list of improvement opportunities, with why it is there.

    Attributes
    ----------
    rank : int
        1 is the best opportunity.
    score : float
        ``importance_share × gap`` (:func:`cxloop.analytics.importance_performance`).
    quadrant : str
        One of :data:`cxloop.analytics.QUADRANTS`.
    importance : float
        Share of R² (0–1) in the filtered population.
    performance : float
        Mean rating 1–5.
    target : float
        The rating aimed at (the query's ``target_score``, else the mean over touchpoints).
    gap : float
        ``target - performance``.
    best : float
        The best mean rating of any ranked touchpoint; ``gap_to_best = best - performance``.
    target_segment_importance, rest_importance : float or None
        Share of R² of this touchpoint among the target segment's responses and among the
        others' (same period and teams); None without a target segment or enough responses.
    target_weight : float or None
        ``target_segment_importance / rest_importance``: above 1 it matters more to the target
        segment than to the rest.
    low_n : bool
        The score rests on fewer than :data:`MIN_N` ratings.
    reason : str
        Why it is ranked, as a message id the page words: ``target_below`` (matters more to the
        target segment, ``target_weight`` ≥ :data:`TARGET_WEIGHT`, and rated below the target),
        ``important_below`` (rated below the target), ``target_above`` / ``important_above``
        (at or above it: keep it there). ``explanation`` the sentence in English, e.g.
        "important to the target segment (20 % of what drives NPS), rated 0.3 below target".
    """

    rank: int
    touchpoint_id: int
    stage_id: int
    score: float
    quadrant: str
    importance: float
    performance: float
    target: float
    gap: float
    best: float
    gap_to_best: float
    target_segment_importance: float | None
    rest_importance: float | None
    target_weight: float | None
    low_n: bool
    reason: str = ""
    explanation: str = ""

    @property
    def share_percent(self) -> float:
        """Importance as the per cent of what drives NPS (of the model's R²)."""
        return 100.0 * self.importance

    def to_dict(self) -> dict[str, Any]:
        out = _plain(self)
        out["share_percent"] = self.share_percent
        return out


@dataclass(frozen=True)
class DriverFit:
    """The driver model of one population: R², LMG shares, responses behind it."""

    r2: float
    importance: dict[int, float]
    responses: int
    n: int  # the smallest pairwise count of the matrix

    def share(self, touchpoint_id: int) -> float | None:
        value = self.importance.get(touchpoint_id)
        return None if value is None or self.r2 <= 0 else value / self.r2

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)


@dataclass(frozen=True)
class DriverModel:
    """How the importances were obtained.

    ``fraction`` is the share of the period's responses drawn into the sample (1.0: all of
    them, exact); ``responses`` the sampled responses rating touchpoints in the filtered
    population; ``filtered``, ``target`` and ``rest`` the fits (None when there was too little
    data: fewer than :data:`MIN_N` responses with NPS, or a degenerate matrix).
    """

    outcome: str
    method: str
    fraction: float
    responses: int
    filtered: DriverFit | None
    target: DriverFit | None
    rest: DriverFit | None

    @property
    def r2(self) -> float | None:
        return None if self.filtered is None else self.filtered.r2

    def to_dict(self) -> dict[str, Any]:
        out = _plain(self)
        out["r2"] = self.r2
        return out


@dataclass(frozen=True)
class JourneyMap:
    """The journey map's data for one scope (see :class:`JourneyMapQuery`).

    ``cards`` follow the journey's order; ``stages`` the stage order; ``opportunities`` are
    ranked, best first; ``nps`` is the NPS of every NPS answer in scope and ``nps_trend`` its
    months; ``months`` the months of the scope that the store holds. ``grain`` is the rhythm
    of the ratings ("quarter" for waves, else "month"); ``changes`` what changed in the period
    (significant differences from the ``previous`` period — ISO first and last day — and
    control-chart signals), largest first.
    """

    version: str | None
    scope: Scope
    target_segment_id: int | None
    months: tuple[str, ...]
    cards: tuple[TouchpointCard, ...]
    stages: tuple[StagePoint, ...]
    opportunities: tuple[RankedOpportunity, ...]
    nps: Estimate | None
    nps_trend: tuple[TrendPoint, ...]
    drivers: DriverModel
    min_n: int = MIN_N
    grain: str = "month"
    changes: tuple[Change, ...] = ()
    previous: tuple[str, str] | None = None

    @property
    def empty(self) -> bool:
        """No answer in scope."""
        return all(c.volume == 0 for c in self.cards) and self.nps is None

    def card(self, touchpoint_id: int) -> TouchpointCard:
        for card in self.cards:
            if card.touchpoint_id == touchpoint_id:
                return card
        raise KeyError(touchpoint_id)

    def to_dict(self) -> dict[str, Any]:
        out = _plain(dataclasses.replace(self, scope=None))
        out["scope"] = self.scope.to_dict()
        out["drivers"] = self.drivers.to_dict()
        out["empty"] = self.empty
        return out


# ----------------------------------------------------------------------------------------------
# The query

_MEMBERS = "members:"  # the name of a segment's members among the expressions: "members:3"


@dataclass(frozen=True, eq=False)
class JourneyExpressions(Mapping[str, ir.Table]):
    """The Ibis expressions of one journey map (see :meth:`JourneyMapQuery.to_query`).

    ``histogram``: ``month, touchpoint_id, kind, score, n`` over the answers in scope.
    ``sample``: ``response_id, customer_id, touchpoint_id, score`` (touchpoint_id -1 for NPS) of
    the sampled responses, period and teams only (no segment filter); None until the fraction
    is known. ``members``: segment id → its customers (``customer_id``), for the sample.
    ``moments``: ``segment_id, a, b, n, x, x2, xx``, the pairwise sums of the period's
    ``answer_moments`` for everyone and the segments the fits need, when they can replace the
    sample (:meth:`JourneyMapQuery.exact_drivers`); None otherwise. ``history``:
    ``month, touchpoint_id, top, n`` (ratings 4–5, ratings) of the journey's touchpoints from
    the first month up to the scope's end, for the control charts; None when the scope has no
    start, the histogram then counting those months already
    (:meth:`JourneyMapQuery.history_query` builds it anyway). ``previous``: ``touchpoint_id,
    kind, score, n`` of the rating and NPS answers of the previous period; None without one.

    As a mapping it holds the expressions to run, by name (``members:<segment id>`` for each
    segment's), which :meth:`~cxloop.insights.dashboards.DashboardQuery.read` fetches.
    """

    histogram: ir.Table
    sample: ir.Table | None
    members: dict[int, ir.Table]
    history: ir.Table | None = None
    previous: ir.Table | None = None
    moments: ir.Table | None = None

    def _named(self) -> dict[str, ir.Table]:
        named = {
            "histogram": self.histogram,
            "moments": self.moments,
            "history": self.history,
            "previous": self.previous,
            "sample": self.sample,
            **{f"{_MEMBERS}{s}": expr for s, expr in self.members.items()},
        }
        return {name: expr for name, expr in named.items() if expr is not None}

    def __getitem__(self, name: str) -> ir.Table:
        return self._named()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._named())

    def __len__(self) -> int:
        return len(self._named())


@dataclass(frozen=True)
class JourneyMapQuery(DashboardQuery):
    """The journey map of one journey for one scope: a
    :class:`~cxloop.insights.dashboards.DashboardQuery` whose :meth:`read` fetches in two
    phases (the histograms, then the driver sample they size).

    Parameters
    ----------
    touchpoint_stages : sequence of (touchpoint_id, stage_id)
        The journey's touchpoints in map order, each with its stage (from the database).
    scope : Scope
        Period, segment and visible teams. The page's default segment is the target segment.
    target_segment_id : int, optional
        The target segment, for the "why" of each opportunity (its importance there against the
        rest of the customers).
    target_score : float, optional
        The mean rating aimed at, for the gap; default the mean over the touchpoints.
    sample_responses : int
        Responses of the filtered population wanted in the driver sample.
    windows : int
        Strata of the time-window sample.
    seed : int
        Where in each stratum its window lies.
    use_moments : bool
        Whether the driver fits may come from the store's ``answer_moments`` (every response;
        :meth:`exact_drivers` says when they can); False always draws the sample.
    as_of : datetime.date, optional
        The day the data are read to, for the control charts' incomplete period (default: the
        scope's end or today).

    Every interval is at 95 %, as on the dashboards (:class:`~cxloop.insights.dashboards.
    _scores.Scores`).
    """

    touchpoint_stages: tuple[tuple[int, int], ...]
    scope: Scope = Scope()
    target_segment_id: int | None = None
    target_score: float | None = None
    sample_responses: int = SAMPLE_RESPONSES
    windows: int = SAMPLE_WINDOWS
    seed: int = 0
    as_of: dt.date | None = None
    use_moments: bool = True

    def __post_init__(self) -> None:
        self.check_scope()
        pairs = tuple((int(t), int(s)) for t, s in self.touchpoint_stages)
        ids = [t for t, _ in pairs]
        if len(set(ids)) != len(ids):
            raise ValueError(f"touchpoint_stages lists a touchpoint twice: {ids}")
        object.__setattr__(self, "touchpoint_stages", pairs)
        if self.target_segment_id is not None:
            object.__setattr__(self, "target_segment_id", int(self.target_segment_id))
        check_whole("windows", self.windows)
        check_whole("sample_responses", self.sample_responses)

    @property
    def touchpoint_ids(self) -> tuple[int, ...]:
        return tuple(t for t, _ in self.touchpoint_stages)

    @property
    def stage_ids(self) -> tuple[int, ...]:
        return tuple(dict.fromkeys(s for _, s in self.touchpoint_stages))

    # -- building -------------------------------------------------------------------------

    def to_query(self, tables: FactTables, *, fraction: float | None = None) -> JourneyExpressions:
        """The expressions, on the backend ``tables`` come from. ``fraction`` (from
        :meth:`sample_fraction`) adds the sample; 1.0 takes every response in scope."""
        counted = self.scope.counted(tables, by_team=False)
        histogram = counted.group_by(["month", "touchpoint_id", "kind", "score"]).aggregate(
            n=counted.n.sum()
        )
        exact = self.exact_drivers(tables)
        previous = None
        window = self.previous_period()
        if window is not None:
            before = dataclasses.replace(self.scope, since=window[0], until=window[1])
            counted_before = before.counted(tables, by_team=False)
            counted_before = counted_before.filter(counted_before.kind.isin([RATING, NPS]))
            previous = counted_before.group_by(["touchpoint_id", "kind", "score"]).aggregate(
                n=counted_before.n.sum()
            )
        return JourneyExpressions(
            histogram=histogram,
            sample=None if fraction is None else self.sample_query(tables, fraction),
            members={} if exact else self.members_queries(tables),
            moments=self.moments_query(tables) if exact else None,
            # Without a start, the histogram counts every month up to the scope's end: the
            # control charts' history is summed from it rather than counted again.
            history=None if self.scope.since is None else self.history_query(tables),
            previous=previous,
        )

    def members_queries(self, tables: FactTables) -> dict[int, ir.Table]:
        """The customers of the segments the sample's fits need, by segment."""
        segments = tables.segments
        return {
            s: segments.filter(segments.segment_id == s).select("customer_id")
            for s in sorted({self.scope.segment_id, self.target_segment_id} - {None})
        }

    def exact_drivers(self, tables: FactTables) -> bool:
        """Whether the driver fits can come from the store's ``answer_moments`` (every response,
        exact) instead of a sample: the period is whole months that all have them, and the
        scope is every team (the moments are summed per segment, not per team)."""
        return (
            self.use_moments
            and tables.answer_moments is not None
            and self.scope.team_ids is None
            and not self.scope.partial_months()
            and bool(self._months(tables))
            and tables.manifest.holds(
                "answer_moments", self.scope.first_month, self.scope.last_month
            )
        )

    def moments_query(self, tables: FactTables) -> ir.Table:
        """``segment_id, a, b, n, x, x2, xx``: the period's pairwise sums (``answer_moments``)
        of everyone (``segment_id`` empty) and of the scope's and the target segment."""
        m = tables.answer_moments
        segments = sorted({self.scope.segment_id, self.target_segment_id} - {None})
        predicates = [m.segment_id.isnull() | m.segment_id.isin(segments or [-1])]
        if self.scope.first_month is not None:
            predicates.append(m.month >= self.scope.first_month)
        if self.scope.last_month is not None:
            predicates.append(m.month <= self.scope.last_month)
        m = m.filter(*predicates)
        return m.group_by(["segment_id", "a", "b"]).aggregate(
            n=m.n.sum(), x=m.x.sum(), x2=m.x2.sum(), xx=m.xx.sum()
        )

    def history_query(self, tables: FactTables) -> ir.Table:
        """``month, touchpoint_id, top, n``: the journey's ratings in the top box and all of
        them, by month, from the first month up to the scope's end (a signal needs history:
        the control charts read the months before the period too)."""
        past = dataclasses.replace(self.scope, since=None).counted(tables, by_team=False)
        past = past.filter(past.kind == RATING, past.touchpoint_id.isin(list(self.touchpoint_ids)))
        top = ibis.ifelse(past.score.isin(list(TOP_BOX[RATING])), past.n, 0)
        return past.group_by(["month", "touchpoint_id"]).aggregate(top=top.sum(), n=past.n.sum())

    def previous_period(self) -> tuple[dt.date, dt.date] | None:
        """The period of the same length just before the scope's (first and last day): as many
        whole months when the scope is whole months, else as many days; None when the scope has
        no start."""
        if self.scope.since is None:
            return None
        since = self.scope.since
        end = self.scope.as_of(self.as_of)
        days = (end - since).days + 1
        if days < 1:
            return None
        last = since - dt.timedelta(days=1)
        after = end + dt.timedelta(days=1)
        if since.day == 1 and after.day == 1:
            # Whole months (a quarter, half a year): the same number of whole months before.
            months = (after.year - since.year) * 12 + after.month - since.month
            index = since.year * 12 + since.month - 1 - months
            return dt.date(index // 12, index % 12 + 1, 1), last
        return last - dt.timedelta(days=days - 1), last

    def sample_query(self, tables: FactTables, fraction: float) -> ir.Table:
        """``response_id, customer_id, touchpoint_id, score`` of the responses drawn with
        probability ``fraction`` (see the module's docstring)."""
        drawn = fraction <= SAMPLE_SHARE  # the store's pre-drawn sample holds them
        source = tables.answer_sample if drawn else tables.answers
        a = self.scope.filter(source, None, segment=False)
        if drawn:
            a = a.filter(a.draw < fraction)
        # Every touchpoint's ratings: a response that rates any is in the drivers' population.
        a = a.filter(((a.kind == RATING) & a.touchpoint_id.notnull()) | (a.kind == NPS))
        a = a.select(
            "response_id",
            customer_id=a.customer_id.fill_null(-1),
            touchpoint_id=ibis.ifelse(a.kind == NPS, NPS_COLUMN, a.touchpoint_id).cast("int32"),
            score=a.score,
            month=a.month,
            submitted_at=a.submitted_at,
        )
        windows = None if drawn else self.sample_windows(tables, fraction)
        if windows is not None:
            parts = [
                a.filter(
                    a.month >= f"{start:%Y-%m}",
                    a.month <= f"{end - dt.timedelta(microseconds=1):%Y-%m}",
                    a.submitted_at >= ibis.timestamp(start),
                    a.submitted_at < ibis.timestamp(end),
                )
                for start, end in windows
            ]
            a = parts[0] if len(parts) == 1 else ibis.union(*parts, distinct=False)
        return a.select("response_id", "customer_id", "touchpoint_id", "score")

    def sample_windows(
        self, tables: FactTables, fraction: float
    ) -> list[tuple[dt.datetime, dt.datetime]] | None:
        """The sample's time windows ``[start, end)``; None when everything is read."""
        if fraction > WHOLE_ABOVE:
            return None
        bounds = self.scope.bounds(tables.months)
        if bounds is None:
            return None
        start, end = bounds
        span = (end - start) / self.windows
        length = span * fraction
        rng = np.random.default_rng(self.seed)
        offsets = rng.random(self.windows)
        out = []
        for k in range(self.windows):
            w0 = start + span * k + (span - length) * float(offsets[k])
            out.append((w0, w0 + length))
        return out

    def sample_fraction(self, histogram: _Histogram, tables: FactTables) -> float:
        """Fraction of the period's responses to draw: about ``sample_responses`` of the
        filtered population (estimated by its most-rated touchpoint), with at most
        ``MAX_SAMPLE_ANSWERS`` of the period's answers (from the manifest); 1.0 (everything)
        when more than ``WHOLE_ABOVE`` would be drawn anyway and the bound allows it."""
        rated = int(
            histogram.counts[KINDS.index(RATING), :, :-1, :].sum(axis=(0, 2)).max(initial=0)
        )
        answers = tables.manifest.answers_in(self.scope.first_month, self.scope.last_month)
        bound = MAX_SAMPLE_ANSWERS / answers if answers else 1.0
        wanted = 1.0 if rated == 0 else min(1.0, self.sample_responses / rated)
        if wanted > WHOLE_ABOVE and bound >= 1.0:
            return 1.0
        return min(wanted, bound, WHOLE_ABOVE)

    # -- running --------------------------------------------------------------------------

    def fetch(self, expressions: Mapping[str, ir.Table]) -> dict[str, pa.Table]:
        """Run ``expressions``: the rows of each, by name, as an Arrow table (the driver sample
        holds up to :data:`MAX_SAMPLE_ANSWERS` answers, too many for Python dicts)."""
        return {name: expr.to_pyarrow() for name, expr in expressions.items()}

    def read(self, tables: FactTables) -> dict[str, Any]:
        """What :meth:`assemble` works from: the expressions of :meth:`to_query` (none for an
        empty scope, or one of no month in the store), which include the period's moments
        where :meth:`exact_drivers` holds; otherwise a second phase, the driver sample, whose
        fraction :meth:`sample_fraction` sets from the histogram the first returned."""
        months = self._months(tables)
        fetched = super().read(tables) if months else {}
        tps = self.touchpoint_ids
        histogram = _Histogram.from_arrow(fetched.get("histogram"), months, tps)
        rows: dict[str, Any] = {"months": months, "histogram": histogram}
        if "history" in fetched:
            rows["history"] = _history(fetched["history"])
        elif "histogram" in fetched:  # the histogram counted every month of the history
            rows["history"] = _history_of_histogram(fetched["histogram"], tps)
        if "previous" in fetched:
            rows["previous"] = _Histogram.from_arrow(fetched["previous"], None, tps).counts[:, 0]
        if not histogram.counts.any():
            return rows
        if "moments" in fetched:
            rows["fraction"] = 1.0
            drivers = _drivers_of_moments(fetched["moments"], tps, self.target_segment_id)
        else:
            fraction = self.sample_fraction(histogram, tables)
            sample = self.fetch({"sample": self.sample_query(tables, fraction)})["sample"]
            rows["fraction"] = fraction
            drivers = _drivers_of_sample(
                wide(sample, tps),
                {
                    int(name.removeprefix(_MEMBERS)): _ids(table["customer_id"])
                    for name, table in fetched.items()
                    if name.startswith(_MEMBERS)
                },
                self.target_segment_id,
            )
        rows["filtered"] = drivers.get(self.scope.segment_id)
        if self.target_segment_id is not None and self.target_segment_id in drivers:
            rows["target"] = drivers[self.target_segment_id]
            rows["rest"] = drivers[_REST]
        return rows

    def _months(self, tables: FactTables) -> tuple[str, ...]:
        """The months of the scope that the store holds."""
        first, last = self.scope.first_month, self.scope.last_month
        return tuple(
            m
            for m in tables.months
            if (first is None or m >= first) and (last is None or m <= last)
        )

    # -- computing ------------------------------------------------------------------------

    def assemble(self, version: str | None, rows: Mapping[str, Any]) -> JourneyMap:
        """The journey map from what :meth:`read` returned; from nothing (an empty store or
        scope), a map of the journey's touchpoints without answers."""
        tps = self.touchpoint_ids
        stage_of = dict(self.touchpoint_stages)
        months: tuple[str, ...] = rows.get("months", ())
        histogram: _Histogram = rows.get("histogram") or _Histogram.from_arrow(None, months, tps)
        filtered_drivers: _Drivers | None = rows.get("filtered")
        history: dict[int, dict[str, tuple[int, int]]] = rows.get("history", {})
        previous: np.ndarray | None = rows.get("previous")
        pooled: dict[str, int] = {}
        for counts in history.values():
            for month, (_, n) in counts.items():
                pooled[month] = pooled.get(month, 0) + n
        grain = rhythm(pooled)
        as_of = self.scope.as_of(self.as_of)
        signals = {}
        for tp in tps:
            chart = control_chart(history.get(tp, {}), grain=grain, as_of=as_of)
            signals[tp] = None if chart is None else chart.signal_from(self.scope.since)

        # Driver models of the filtered population, the target segment and the rest.
        fits: dict[str, DriverFit | None] = {"filtered": _fit(filtered_drivers, tps)}
        if "target" in rows:
            fits["target"] = (
                fits["filtered"]
                if self.target_segment_id == self.scope.segment_id
                else _fit(rows["target"], tps)
            )
            fits["rest"] = _fit(rows["rest"], tps)
        drivers = DriverModel(
            outcome=NPS,
            method="lmg",
            fraction=float(rows.get("fraction", 1.0)),
            responses=0 if filtered_drivers is None else filtered_drivers.responses,
            filtered=fits["filtered"],
            target=fits.get("target"),
            rest=fits.get("rest"),
        )
        filtered = drivers.filtered

        # Scores per touchpoint from the histograms.
        rating = histogram.kind(RATING)  # (months, touchpoints + other, scores)
        rated = {tp: _on_scale(RATING, rating[:, j].sum(axis=0)) for j, tp in enumerate(tps)}
        scores = {tp: rated[tp].mean() for tp in tps}
        n_of = {tp: rated[tp].n for tp in tps}

        # Importance–performance over the touchpoints that have both.
        ranked: dict[int, tuple[int, Any]] = {}
        opportunities: list[RankedOpportunity] = []
        if filtered is not None:
            eligible = [tp for tp in tps if tp in filtered.importance and scores[tp] is not None]
            importance = {str(tp): filtered.importance[tp] for tp in eligible}
            if eligible and sum(importance.values()) > 0:
                performance = {str(tp): scores[tp].value for tp in eligible}
                result = importance_performance(importance, performance, target=self.target_score)
                best = max(performance.values())
                for rank, o in enumerate(result, start=1):
                    tp = int(o.name)
                    ranked[tp] = (rank, o)
                    t_share = fits["target"].share(tp) if fits.get("target") else None
                    r_share = fits["rest"].share(tp) if fits.get("rest") else None
                    opportunities.append(
                        RankedOpportunity(
                            rank=rank,
                            touchpoint_id=tp,
                            stage_id=stage_of[tp],
                            score=o.score,
                            quadrant=o.quadrant,
                            importance=filtered.share(tp),
                            performance=o.performance,
                            target=o.performance + o.gap,
                            gap=o.gap,
                            best=best,
                            gap_to_best=best - o.performance,
                            target_segment_importance=t_share,
                            rest_importance=r_share,
                            target_weight=(
                                t_share / r_share
                                if t_share is not None and r_share is not None and r_share > 0
                                else None
                            ),
                            low_n=n_of[tp] < MIN_N,
                            **_reason(filtered.share(tp), o.gap, t_share, r_share),
                        )
                    )

        # What changed: each touchpoint's mean rating and the NPS against the previous period.
        comparisons: dict[int | None, tuple[Difference, float, float]] = {}
        if previous is not None:
            for j, tp in enumerate(tps):
                now = rated[tp]
                before = _on_scale(RATING, previous[KINDS.index(RATING), j])
                if now.n >= 2 and before.n >= 2:
                    comparisons[tp] = (
                        difference(RATING, now, before),
                        before.mean().value,
                        now.mean().value,
                    )
            now = _on_scale(NPS, histogram.kind(NPS).sum(axis=(0, 1)))
            before = _on_scale(NPS, previous[KINDS.index(NPS)].sum(axis=0))
            if now.n and before.n:
                comparisons[None] = (
                    difference(NPS, now, before),
                    before.nps().value,
                    now.nps().value,
                )
        tested = [k for k, (d, _, _) in comparisons.items() if np.isfinite(d.p_value)]
        q_values = {}
        if tested:
            q = benjamini_hochberg([comparisons[k][0].p_value for k in tested])
            q_values = {k: float(v) for k, v in zip(tested, q, strict=True)}
        significant = {k for k, q in q_values.items() if q <= FDR}

        # The sparklines' periods: the rhythm of the ratings (quarters for waves).
        cut = []
        if months:
            where = {m: i for i, m in enumerate(months)}
            for period in periods(months[0], months[-1], grain, as_of=as_of):
                cut.append((period, [where[m] for m in period.months if m in where]))
        # Each period's rating counts per touchpoint, on the rating scale: (periods, tps, scores).
        low, high = SCORE_RANGES[RATING]
        values = np.arange(low, high + 1)
        by_period = np.array([rating[at].sum(axis=0)[:, low : high + 1] for _, at in cut])
        cards = []
        for j, tp in enumerate(tps):
            counts_all = histogram.counts[:, :, j, :].sum(axis=1)  # (kinds, scores)
            means = means_from_histograms(values, by_period[:, j]) if cut else []
            rank_o = ranked.get(tp)
            cards.append(
                TouchpointCard(
                    touchpoint_id=tp,
                    stage_id=stage_of[tp],
                    n=n_of[tp],
                    low_n=n_of[tp] < MIN_N,
                    score=scores[tp],
                    top_box=rated[tp].top_box(),
                    csat=_on_scale(CSAT, counts_all[KINDS.index(CSAT)]).top_box(),
                    ces=_on_scale(CES, counts_all[KINDS.index(CES)]).mean(),
                    nps=_on_scale(NPS, counts_all[KINDS.index(NPS)]).nps(),
                    volume=int(counts_all.sum()),
                    importance=None if filtered is None else filtered.importance.get(tp),
                    importance_share=None if filtered is None else filtered.share(tp),
                    opportunity=None if rank_o is None else rank_o[1].score,
                    quadrant=None if rank_o is None else rank_o[1].quadrant,
                    rank=None if rank_o is None else rank_o[0],
                    trend=tuple(
                        _point(p, int(by_period[k, j].sum()), mean)
                        for k, ((p, _), mean) in enumerate(zip(cut, means, strict=True))
                    ),
                    signal=signals[tp],
                    change=comparisons[tp][0] if tp in comparisons else None,
                    change_significant=tp in significant,
                )
            )

        nps_counts = histogram.kind(NPS)  # every NPS answer, whatever its touchpoint
        nps_trend = []
        for p, at in cut:
            scores_in = _on_scale(NPS, nps_counts[at].sum(axis=(0, 1)))
            nps_trend.append(_point(p, scores_in.n, scores_in.nps()))
        return JourneyMap(
            version=version,
            scope=self.scope,
            target_segment_id=self.target_segment_id,
            months=months,
            cards=tuple(cards),
            stages=self._stages(rated, filtered_drivers),
            opportunities=tuple(opportunities),
            nps=_on_scale(NPS, nps_counts.sum(axis=(0, 1))).nps(),
            nps_trend=tuple(nps_trend),
            drivers=drivers,
            grain=grain,
            changes=_changes(comparisons, q_values, significant, signals),
            previous=(
                None if previous is None else tuple(d.isoformat() for d in self.previous_period())  # type: ignore[union-attr]
            ),
        )

    def _stages(self, rated: dict[int, Scores], drivers: _Drivers | None) -> tuple[StagePoint, ...]:
        """Pooled mean rating per stage (:func:`cxloop.analytics.pooled_mean`): its variance
        counts the touchpoints of a stage that one response rated together, with ``n_t``, the
        sums and squares exact from the histograms and the cross terms ``n_tu c_tu`` (pairs
        rated by one response, their covariance) from the drivers' sums (every response, or
        the sample scaled to the whole population)."""
        tps = self.touchpoint_ids
        cross = None if drivers is None else _cross_moments(drivers)
        out = []
        for stage in self.stage_ids:
            idx = [j for j, (_, s) in enumerate(self.touchpoint_stages) if s == stage]
            stage_scores = [rated[tps[j]] for j in idx]
            n_t = np.array([s.n for s in stage_scores], dtype=float)
            n = int(n_t.sum())
            score = None
            if n >= 2:
                score = pooled_mean(
                    n_t,
                    [s.counts @ s.values for s in stage_scores],
                    [s.counts @ s.values**2 for s in stage_scores],
                    None if cross is None else _cross_terms(cross, idx, n_t),
                )
            out.append(
                StagePoint(
                    stage_id=stage,
                    touchpoint_ids=tuple(tps[j] for j in idx),
                    n=n,
                    low_n=n < MIN_N,
                    score=score,
                )
            )
        return tuple(out)


# ----------------------------------------------------------------------------------------------
# Aggregates in NumPy


@dataclass(frozen=True)
class _Histogram:
    """Answer counts ``[kind, month, touchpoint (last: none or not in the journey), score]``,
    scores 0–10 whatever the kind's scale (:func:`_on_scale` takes a kind's own)."""

    counts: np.ndarray
    months: tuple[str, ...]

    def kind(self, kind: str) -> np.ndarray:
        return self.counts[KINDS.index(kind)]

    @classmethod
    def from_arrow(
        cls, table: pa.Table | None, months: Sequence[str] | None, touchpoint_ids: Sequence[int]
    ) -> _Histogram:
        """From rows of ``month, touchpoint_id, kind, score, n`` (None: no rows). ``months``
        None: rows without a month, counted as one period."""
        periods = ("",) if months is None else tuple(months)
        T = len(touchpoint_ids)
        counts = np.zeros((len(KINDS), len(periods), T + 1, _SCORES), dtype=np.int64)
        if table is None or not table.num_rows:
            return cls(counts, periods)
        if months is None:
            period = np.zeros(table.num_rows, dtype=np.int64)
        else:
            period = _positions(table["month"], periods)
        kind = _positions(table["kind"], KINDS)
        score = pc.fill_null(table["score"], -1).to_numpy().astype(np.int64)
        # Touchpoints outside the journey (or none) fall in the last column.
        tp = _positions(table["touchpoint_id"], touchpoint_ids)
        tp[tp < 0] = T
        kept = (period >= 0) & (kind >= 0) & (score >= 0) & (score < _SCORES)
        np.add.at(
            counts,
            (kind[kept], period[kept], tp[kept], score[kept]),
            table["n"].to_numpy()[kept],
        )
        return cls(counts, periods)


class _Drivers(NamedTuple):
    """What a driver fit is made from: the :class:`~cxloop.analytics.PairwiseSums` of the NPS
    (column 0) and the journey's touchpoint ratings over the responses of one population that
    rate a touchpoint, and how many they are."""

    sums: PairwiseSums
    responses: int

    def __sub__(self, other: _Drivers) -> _Drivers:
        return _Drivers(self.sums - other.sums, self.responses - other.responses)


_REST = "rest"  # the drivers' key of everyone but the target segment


def _drivers_of_sample(
    responses: Wide, members: Mapping[int, np.ndarray], target_segment_id: int | None
) -> dict[Any, _Drivers]:
    """The drivers of the sampled ``responses``: of everyone in it (key None), of each segment
    in ``members`` (its customers) and, with the target segment's members, of the rest."""
    rated = responses.rated

    def of(rows: np.ndarray) -> _Drivers:
        X = responses.matrix[rows & rated]
        return _Drivers(pairwise_sums(X, workers=1), X.shape[0])

    out: dict[Any, _Drivers] = {None: of(np.ones(len(rated), dtype=bool))}
    for segment, customers in members.items():
        out[segment] = of(np.isin(responses.customers, customers))
    if target_segment_id in members:
        out[_REST] = out[None] - out[target_segment_id]
    return out


def _drivers_of_moments(
    table: pa.Table, touchpoint_ids: Sequence[int], target_segment_id: int | None
) -> dict[Any, _Drivers]:
    """The drivers from the period's summed ``answer_moments`` (``segment_id, a, b, n, x, x2,
    xx``; :meth:`JourneyMapQuery.moments_query`), keyed as :func:`_drivers_of_sample`'s (a
    segment without rows has none of its customers' responses: zero sums). The columns of
    touchpoints outside the journey are left out; their raters stay in the population, as in
    the sample (:class:`~cxloop.facts.derived.Wide`)."""
    codes = np.array([RATED, NPS_COLUMN, *touchpoint_ids])
    journey = np.isin(table["a"].to_numpy(), codes) & np.isin(table["b"].to_numpy(), codes)
    table = table.filter(pa.array(journey))
    a, b = table["a"].to_numpy(), table["b"].to_numpy()
    order = np.argsort(codes)
    ia = order[np.searchsorted(codes, a, sorter=order)]
    ib = order[np.searchsorted(codes, b, sorter=order)]
    segment = pc.fill_null(table["segment_id"], -1).to_numpy()
    values = {name: table[name].to_numpy().astype(float) for name in ("n", "x", "x2", "xx")}
    P = len(codes)
    columns = range(1, P)  # NPS and the touchpoints, without RATED
    out: dict[Any, _Drivers] = {}
    for key in {-1, *(() if target_segment_id is None else (target_segment_id,)), *segment}:
        rows = segment == key
        arrays = {}
        for name, column in values.items():
            arrays[name] = np.zeros((P, P))
            arrays[name][ia[rows], ib[rows]] = column[rows]
        sums = PairwiseSums(**arrays)
        out[None if key == -1 else int(key)] = _Drivers(sums.take(columns), int(sums.n[0, 0]))
    if target_segment_id is not None:
        out[_REST] = out[None] - out[target_segment_id]
    return out


def _on_scale(kind: str, counts: np.ndarray) -> Scores:
    """Counts of scores 0–10 (a row of :class:`_Histogram`) as :class:`Scores` on ``kind``'s
    own scale."""
    low, high = SCORE_RANGES[kind]
    return Scores(kind, counts[low : high + 1])


def _point(period: Period, n: int, score: Estimate | None) -> TrendPoint:
    return TrendPoint(
        month=period.start[:7], n=n, score=score, low_n=n < MIN_N, partial=period.partial
    )


_CHANGE_TEXT = {
    "rating_up": "rated {size:.2f} higher than the period before ({before:.2f} → {after:.2f})",
    "rating_down": "rated {size:.2f} lower than the period before ({before:.2f} → {after:.2f})",
    "nps_up": "NPS rose by {size:.0f} points ({before:.0f} → {after:.0f})",
    "nps_down": "NPS fell by {size:.0f} points ({before:.0f} → {after:.0f})",
}


def _changes(
    comparisons: dict[int | None, tuple[Difference, float, float]],
    q_values: dict[int | None, float],
    significant: set[int | None],
    signals: dict[int, Signal | None],
) -> tuple[Change, ...]:
    """Signals first (a roll-back before a rise), then the significant differences, larger
    first."""
    out: list[Change] = []
    for tp, signal in signals.items():
        if signal is None:
            continue
        out.append(
            Change(
                source="signal",
                touchpoint_id=tp,
                metric="top_box",
                direction=signal.direction,
                before=signal.before,
                after=signal.after,
                difference=None,
                q_value=None,
                since=signal.since,
                message=signal.message,
                explanation=signal.reason,
            )
        )
    out.sort(key=lambda c: (c.direction != "down", -abs(c.after - c.before)))
    found = []
    for key in significant:
        d, before, after = comparisons[key]
        metric = "nps" if key is None else "rating"
        direction = "up" if d.value > 0 else "down"
        message = f"{metric}_{direction}"
        found.append(
            Change(
                source="comparison",
                touchpoint_id=key,
                metric=metric,
                direction=direction,
                before=before,
                after=after,
                difference=d,
                q_value=q_values[key],
                since=None,
                message=message,
                explanation=_CHANGE_TEXT[message].format(
                    size=abs(d.value), before=before, after=after
                ),
            )
        )
    found.sort(key=lambda c: (c.touchpoint_id is not None, -abs(c.difference.z or 0.0)))
    return tuple(out + found)


_REASON_TEXT = {
    "target_below": "important to the target segment ({share:.0f} % of what drives NPS), "
    "rated {gap:.1f} below target",
    "important_below": "{share:.0f} % of what drives NPS, rated {gap:.1f} below target",
    "target_above": "important to the target segment ({share:.0f} % of what drives NPS), "
    "rated at or above target: keep it there",
    "important_above": "{share:.0f} % of what drives NPS, rated at or above target: keep it there",
}


def _reason(
    share: float | None, gap: float, t_share: float | None, r_share: float | None
) -> dict[str, str]:
    """The ``reason`` message id and its English ``explanation`` of a ranked opportunity."""
    to_target = (
        t_share is not None and r_share is not None and r_share > 0
        and t_share / r_share >= TARGET_WEIGHT
    )  # fmt: skip
    # Within 0.05 of the target is on target: "rated 0.0 below" says nothing.
    reason = ("target" if to_target else "important") + ("_below" if gap >= 0.05 else "_above")
    text = _REASON_TEXT[reason].format(share=100.0 * (share or 0.0), gap=abs(gap))
    return {"reason": reason, "explanation": text}


def _history(table: pa.Table) -> dict[int, dict[str, tuple[int, int]]]:
    """touchpoint id → month → (ratings 4–5, ratings), from the ``history`` expression."""
    out: dict[int, dict[str, tuple[int, int]]] = {}
    cols = table.to_pydict()
    for month, tp, top, n in zip(
        cols["month"], cols["touchpoint_id"], cols["top"], cols["n"], strict=True
    ):
        if tp is None:
            continue
        out.setdefault(int(tp), {})[month] = (int(top or 0), int(n))
    return out


def _history_of_histogram(
    table: pa.Table, touchpoint_ids: Sequence[int]
) -> dict[int, dict[str, tuple[int, int]]]:
    """What :func:`_history` reads from the ``history`` expression, summed from the histogram's
    rows instead (when both cover the same months)."""
    out: dict[int, dict[str, list[int]]] = {}
    wanted = set(touchpoint_ids)
    cols = table.to_pydict()
    for month, tp, kind, score, n in zip(
        cols["month"], cols["touchpoint_id"], cols["kind"], cols["score"], cols["n"], strict=True
    ):
        if kind != RATING or tp not in wanted:
            continue
        top_and_n = out.setdefault(int(tp), {}).setdefault(month, [0, 0])
        top_and_n[0] += int(n) if score in TOP_BOX[RATING] else 0
        top_and_n[1] += int(n)
    return {tp: {m: (top, n) for m, (top, n) in months.items()} for tp, months in out.items()}


def _positions(column: pa.ChunkedArray, values: Sequence) -> np.ndarray:
    """Each row's position in ``values``; -1 for a value not in it, or none."""
    found = pc.index_in(column, value_set=pa.array(values, type=column.type))
    return pc.fill_null(found, -1).to_numpy().astype(np.int64)


def _ids(column: pa.ChunkedArray) -> np.ndarray:
    return np.unique(column.drop_null().to_numpy())


def _fit(drivers: _Drivers | None, touchpoint_ids: Sequence[int]) -> DriverFit | None:
    """LMG of NPS on the ratings of ``touchpoint_ids`` (the drivers' columns after the NPS) of
    ``drivers``' responses; None when there is too little to fit."""
    if drivers is None or drivers.responses < MIN_N:
        return None
    sums = drivers.sums
    counts = sums.n
    if counts[0, 0] < MIN_N:
        return None
    # Drivers: touchpoints rated with NPS often enough and not constant; then drop the least
    # rated of any pair never rated together (a pairwise covariance needs ≥ 3 rows).
    with np.errstate(invalid="ignore", divide="ignore"):
        squares = np.diag(sums.x2) - np.diag(sums.x) ** 2 / np.diag(counts)
    spread = squares > 1e-12 * np.maximum(np.diag(sums.x2), np.finfo(float).tiny)
    keep = [j for j in range(1, counts.shape[0]) if counts[0, j] >= MIN_N and spread[j]]
    while True:
        sub = counts[np.ix_(keep, keep)]
        low = np.argwhere(sub < 3)
        if not low.size:
            break
        a, b = keep[low[0][0]], keep[low[0][1]]
        keep.remove(a if counts[a, a] <= counts[b, b] else b)
    if not keep or counts[0, 0] < len(keep) + 2:
        return None
    columns = [0, *keep]
    try:
        cov, n_pairs = pairwise_covariance_from_sums(sums.take(columns))
    except ValueError:
        return None  # a rating constant over the rows it shares with another
    names = ["nps", *(str(touchpoint_ids[j - 1]) for j in keep)]
    n = int(n_pairs.min())
    try:
        fit = lmg_from_covariance(cov, names, outcome="nps", n=n)
    except ValueError:
        # A pairwise matrix of a small sample can be slightly indefinite: use the nearest
        # positive semi-definite correlation matrix (eigenvalues clipped at zero) instead.
        try:
            fit = lmg_from_covariance(nearest_psd_correlation(cov), names, outcome="nps", n=n)
        except ValueError:
            return None
    return DriverFit(
        r2=float(fit.r2),
        importance={int(k): float(v) for k, v in fit.importance.items()},
        responses=drivers.responses,
        n=n,
    )


def _cross_terms(cross, idx: list[int], n_t: np.ndarray) -> np.ndarray:
    """``n_tu c_tu`` of the touchpoints ``idx`` of a stage, from the sample's pairwise
    covariances and counts, each pair scaled from the sample to the population of its two
    touchpoints (``n_t`` ratings each); 0 for a touchpoint the sample did not rate."""
    cov, counts = cross
    sampled = np.array([counts[j, j] for j in idx], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(sampled > 0, n_t / sampled, 0.0)
    pairs = np.ix_(idx, idx)
    return np.sqrt(np.outer(scale, scale)) * counts[pairs] * cov[pairs]


def _cross_moments(drivers: _Drivers):
    """Pairwise covariances (``ddof=1``) and counts of the touchpoint ratings of ``drivers``,
    indexed by journey position; 0 where a pair has fewer than two rows (unchecked: a stage's
    interval needs whatever pairs there are, not a valid correlation matrix)."""
    if drivers.responses < 2:
        return None
    ratings = drivers.sums.take(range(1, drivers.sums.n.shape[0]))
    return pairwise_covariance_from_sums(ratings, checked=False)


def journey_of(pairs: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """``touchpoint_stages`` from any iterable of pairs (e.g. a queryset's values_list)."""
    return tuple((int(t), int(s)) for t, s in pairs)
