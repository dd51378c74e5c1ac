"""Score distributions: the sufficient statistics every dashboard figure is computed from.

Every score in the fact store is a whole number on a short scale (NPS 0–10, CSAT 1–5, CES 1–7,
touchpoint rating 1–5), so the number of answers with each score is all the scans need to bring
back: a few rows per group, whatever the volume. From those counts come the NPS counts, the
top-box count, the mean and the variance, and a Welch test from those moments: the estimators
from histograms of :mod:`cxloop.analytics`, the same the journey map uses; this module only
feeds them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cxloop.analytics import (
    Difference,
    Estimate,
    histogram_moments,
    mean_difference_from_moments,
    mean_from_histogram,
    nps_difference_from_counts,
    nps_from_histogram,
    proportion_difference,
    top_box_from_counts,
)
from cxloop.analytics.results import to_plain
from cxloop.lib.scales import NPS_DETRACTORS, NPS_PROMOTERS, SCORE_RANGES

TOP_BOX = {"csat": (4, 5), "rating": (4, 5)}  # "satisfied": 4 and 5 on a 1–5 scale

# What each metric reports: NPS on −100..100, CSAT as the per cent of 4s and 5s, CES and
# touchpoint ratings as means on their own scale.
METRICS = ("nps", "csat", "ces", "rating")


def check_metric(metric: Any) -> str:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}; got {metric!r}")
    return metric


@dataclass(frozen=True, eq=False)
class Scores:
    """How many answers gave each score of the ``kind``'s scale (``counts[i]`` is the count of
    score ``low + i``)."""

    kind: str
    counts: np.ndarray

    @classmethod
    def empty(cls, kind: str) -> Scores:
        low, high = SCORE_RANGES[kind]
        return cls(kind, np.zeros(high - low + 1, dtype=np.int64))

    @classmethod
    def from_pairs(cls, kind: str, scores: Iterable[int], counts: Iterable[int]) -> Scores:
        """From (score, count) pairs as a scan returns them; a score off the scale is an error in
        the store, named rather than dropped."""
        low, high = SCORE_RANGES[kind]
        out = np.zeros(high - low + 1, dtype=np.int64)
        for score, count in zip(scores, counts, strict=True):
            if score is None or not low <= int(score) <= high:
                raise ValueError(
                    f"the fact store holds a {kind} score of {score!r}, off the {low}–{high} "
                    "scale; run cxloop facts rebuild"
                )
            out[int(score) - low] += int(count)
        return cls(kind, out)

    @property
    def low(self) -> int:
        return SCORE_RANGES[self.kind][0]

    @property
    def values(self) -> np.ndarray:
        """The scores of the scale, in the order of ``counts``."""
        return np.arange(self.low, self.low + self.counts.size)

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    def __add__(self, other: Scores) -> Scores:
        return Scores(self.kind, self.counts + other.counts)

    def __sub__(self, other: Scores) -> Scores:
        return Scores(self.kind, self.counts - other.counts)

    def count_of(self, scores: Iterable[int]) -> int:
        return int(sum(self.counts[s - self.low] for s in scores))

    def nps_counts(self) -> tuple[int, int, int]:
        """(promoters 9–10, detractors 0–6, answers)."""
        promoters = range(NPS_PROMOTERS[0], NPS_PROMOTERS[1] + 1)
        detractors = range(NPS_DETRACTORS[0], NPS_DETRACTORS[1] + 1)
        return self.count_of(promoters), self.count_of(detractors), self.n

    def top_box_count(self) -> int:
        return self.count_of(TOP_BOX[self.kind])

    def nps(self) -> Estimate | None:
        return nps_from_histogram(self.counts) if self.n else None

    def top_box(self) -> Estimate | None:
        """Per cent of answers in the top box with the Wilson interval."""
        return top_box_from_counts(self.top_box_count(), self.n) if self.n else None

    def mean(self) -> Estimate | None:
        """Mean with its t interval; None under two answers, where there is no interval."""
        return mean_from_histogram(self.values, self.counts) if self.n >= 2 else None

    def moments(self) -> tuple[int, float, float]:
        """(answers, mean, sample variance) of the answers these counts stand for."""
        return histogram_moments(self.values, self.counts)

    def estimate(self, metric: str) -> Estimate | None:
        """The figure ``metric`` reports for these answers; None when there are too few."""
        if metric == "nps":
            return self.nps()
        if metric == "csat":
            return self.top_box()
        return self.mean()

    def distribution(self) -> tuple[ScoreCount, ...]:
        return tuple(
            ScoreCount(int(s), int(c)) for s, c in zip(self.values, self.counts, strict=True)
        )


def difference(metric: str, a: Scores, b: Scores) -> Difference:
    """``a`` minus ``b`` with its interval and p-value, by the test that suits ``metric``:
    NPS by the adjusted-Wald z test, CSAT by the two-proportion z test with Newcombe's
    interval, means by Welch's t test. ValueError when the test is undefined (e.g. both groups
    constant)."""
    if metric == "nps":
        return nps_difference_from_counts(a.nps_counts(), b.nps_counts())
    if metric == "csat":
        return proportion_difference(a.top_box_count(), a.n, b.top_box_count(), b.n)
    return mean_difference_from_moments(a.moments(), b.moments())


# --- results shared by the dashboards ----------------------------------------------------------


class Plain:
    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON-ready types (dates as ISO strings)."""
        return _iso(to_plain(self))


def _iso(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class ScoreCount(Plain):
    """How many answers gave ``score``."""

    score: int
    n: int


@dataclass(frozen=True)
class Point(Plain):
    """One period of a trend: ``period`` is the ISO date it starts on ("2025-03-01"); ``value``,
    ``low`` and ``high`` are None when the period has too few answers for an estimate (none for
    NPS and shares, fewer than two for means); ``n`` is always given; ``end`` is the ISO date it
    ends on where the period is longer than a month (a quarter's wave), else None."""

    period: str
    value: float | None
    low: float | None
    high: float | None
    n: int
    end: str | None = None

    @classmethod
    def of(cls, period: str, estimate: Estimate | None, n: int, *, end: str | None = None) -> Point:
        if estimate is None:
            return cls(period, None, None, None, n, end)
        return cls(period, estimate.value, estimate.low, estimate.high, n, end)


# --- months --------------------------------------------------------------------------------------


def month_key(year: int, month: int) -> str:
    """The month as "YYYY-MM"."""
    return f"{int(year):04d}-{int(month):02d}"


def month_start(key: str) -> str:
    """The ISO date a "YYYY-MM" month starts on."""
    return f"{key}-01"


def months_from_to(first: str, last: str) -> list[str]:
    """Every "YYYY-MM" from ``first`` to ``last`` inclusive."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while (key := month_key(year, month)) <= last:
        out.append(key)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


GRAINS = ("month", "quarter", "year")


def check_grain(grain: Any) -> str:
    if grain not in GRAINS:
        raise ValueError(f"grain must be one of {', '.join(GRAINS)}; got {grain!r}")
    return grain


def period_of(month: str, grain: str) -> str:
    """The ISO start date of the ``grain`` period that holds "YYYY-MM" ``month``."""
    year, number = int(month[:4]), int(month[5:7])
    if grain == "year":
        number = 1
    elif grain == "quarter":
        number = 3 * ((number - 1) // 3) + 1
    return f"{month_key(year, number)}-01"


def previous_period(period: str, grain: str) -> str:
    """The ISO start date of the ``grain`` period before the one starting on ``period``."""
    year, number = int(period[:4]), int(period[5:7])
    step = {"month": 1, "quarter": 3, "year": 12}[grain]
    index = year * 12 + number - 1 - step
    return f"{month_key(index // 12, index % 12 + 1)}-01"
