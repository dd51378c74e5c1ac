"""Dashboards over the fact store: typed queries whose scans are Ibis expressions and whose
figures come from :mod:`cxloop.analytics`.

Each query takes a :class:`cxloop.insights.store.Scope` and its own parameters; ``run()``
returns a frozen result (``to_dict()`` for JSON) cached by the store's data version;
``calculate()`` computes it afresh; ``to_query(tables)`` shows the expressions.

- :class:`OverviewQuery` — NPS, CSAT, CES with intervals, monthly trends, responses by channel.
- :class:`ComparisonQuery` — segments, teams or periods against the rest (or the previous
  period), Benjamini–Hochberg over the family.
- :class:`TouchpointQuery` — a touchpoint's trends, control chart, distribution, correlation
  with NPS.
- :class:`PortfolioQuery` — customers by value and latest NPS answer; revenue at risk.
- :class:`LeaderboardQuery` — the weekly weigh-in: teams or people on NPS, shrunk, ranked with
  intervals, against a funnel.
"""

from ._base import MIN_N, DashboardQuery
from ._scores import METRICS, Point, ScoreCount
from .comparisons import BY, UNTESTED, ComparisonQuery, ComparisonResult, GroupComparison
from .leaderboard import (
    LEADERBOARD_BY,
    MIN_RANKED,
    LeaderboardQuery,
    LeaderboardResult,
    Standing,
)
from .overview import ChannelCount, OverviewQuery, OverviewResult, Summary
from .portfolio import STATUSES, CustomerRow, PortfolioQuery, PortfolioResult, RevenueAtRisk
from .touchpoint import (
    BASELINE_MONTHS,
    DEFAULT_KINDS,
    RATING_KINDS,
    ChartPoint,
    ChartSignal,
    ControlChartResult,
    DriverCorrelation,
    TouchpointQuery,
    TouchpointResult,
)

__all__ = [
    "LEADERBOARD_BY",
    "MIN_RANKED",
    "LeaderboardQuery",
    "LeaderboardResult",
    "Standing",
    "BASELINE_MONTHS",
    "BY",
    "DEFAULT_KINDS",
    "METRICS",
    "MIN_N",
    "RATING_KINDS",
    "STATUSES",
    "UNTESTED",
    "ChannelCount",
    "ChartPoint",
    "ChartSignal",
    "ComparisonQuery",
    "ComparisonResult",
    "ControlChartResult",
    "CustomerRow",
    "DashboardQuery",
    "DriverCorrelation",
    "GroupComparison",
    "OverviewQuery",
    "OverviewResult",
    "Point",
    "PortfolioQuery",
    "PortfolioResult",
    "RevenueAtRisk",
    "ScoreCount",
    "Summary",
    "TouchpointQuery",
    "TouchpointResult",
]
