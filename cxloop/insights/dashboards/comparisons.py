"""Comparisons between segments, teams or periods, with significance after Benjamini–Hochberg."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir

from cxloop.analytics import Difference, Estimate, benjamini_hochberg
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
from ._scores import (
    Plain,
    Scores,
    check_grain,
    check_metric,
    difference,
    period_of,
    previous_period,
)

__all__ = ["BY", "ComparisonQuery", "ComparisonResult", "GroupComparison", "UNTESTED"]

BY = ("segment", "team", "period")

# Why a group has no test (codes for the page to translate).
UNTESTED = {
    "too_few": "fewer answers than the minimum in the group or in what it is compared with",
    "no_previous": "no answers in the previous period",
    "undefined": "the test is undefined (both groups gave one and the same answer each)",
}


@dataclass(frozen=True)
class GroupComparison(Plain):
    """One group, and the group against its reference.

    ``key``: the segment id, the team id, or for periods the ISO date the period starts on.
    ``estimate``: the group's figure (see :class:`ComparisonResult`); ``reference`` the same
    figure for the rest of the scope (segments, teams) or for the previous period (periods), with
    ``reference_n`` answers. ``difference`` is group − reference with its interval and
    (unadjusted) p-value; ``q_value`` the Benjamini–Hochberg adjusted p-value over the result's
    family of tests, and ``significant`` whether it is at most the query's ``alpha``. ``low_n``:
    the group has fewer than ``min_n`` answers. ``untested``: None when tested, else a code of
    :data:`UNTESTED`.
    """

    key: int | str
    estimate: Estimate | None
    n: int
    reference: Estimate | None
    reference_n: int
    difference: Difference | None
    q_value: float | None
    significant: bool
    low_n: bool
    untested: str | None


@dataclass(frozen=True)
class ComparisonResult(Plain):
    """Groups of the scope compared on ``metric``: ``"nps"`` (−100..100), ``"csat"`` (per cent
    of 4s and 5s, differences in per cent points), ``"ces"`` or ``"rating"`` (means, differences
    in scale points). ``overall`` is the whole scope's figure; ``tests`` the size of the family
    that Benjamini–Hochberg adjusted over (the groups tested)."""

    version: str | None
    by: str
    metric: str
    touchpoint_id: int | None
    grain: str | None
    alpha: float
    min_n: int
    overall: Estimate | None
    n: int
    groups: tuple[GroupComparison, ...]
    tests: int

    @property
    def significant(self) -> tuple[GroupComparison, ...]:
        return tuple(g for g in self.groups if g.significant)


@dataclass(frozen=True)
class ComparisonQuery(DashboardQuery):
    """Each segment, team or period of ``scope`` on ``metric`` with its interval and n, and each
    against the rest of the scope (segments, teams) or against the previous period (periods).

    Parameters
    ----------
    scope : Scope
        Period, segment and visible teams.
    by : {"segment", "team", "period"}
        Segments may overlap: a segment is compared with every answer of the scope outside it.
        Answers without a team (or a customer) are in no team (segment) but are in "the rest".
        Periods are calendar months, quarters or years (``grain``) in UTC; each is compared with
        the calendar period just before it, within the scope (the scope's first period, or one
        after a period without answers, is not tested: ``"no_previous"``).
    metric : {"nps", "csat", "ces", "rating"}
        NPS by the adjusted-Wald z test, CSAT (top-2-box share) by the two-proportion z test with
        Newcombe's interval, CES and ratings (means) by Welch's t test.
    touchpoint_id : int, optional
        Required for ``"rating"``; allowed for ``"csat"`` and ``"ces"`` (their answers about that
        touchpoint); not for ``"nps"``, which is about the whole relationship. ``ValueError``
        from :meth:`calculate` when no answer in the store rates it.
    grain : {"month", "quarter", "year"}
        The periods of ``by="period"`` (ignored otherwise).
    alpha : float
        False discovery rate of the Benjamini–Hochberg procedure over the tested groups.
    min_n : int
        Groups (or references) with fewer answers are shown, flagged ``low_n``, and not tested.
    """

    scope: Scope
    by: str
    metric: str
    touchpoint_id: int | None = None
    grain: str = "month"
    alpha: float = 0.05
    min_n: int = MIN_N

    def __post_init__(self) -> None:
        self.check_scope()
        if self.by not in BY:
            raise ValueError(f"by must be one of {', '.join(BY)}; got {self.by!r}")
        check_metric(self.metric)
        check_id("touchpoint_id", self.touchpoint_id)
        if self.metric == "rating" and self.touchpoint_id is None:
            raise ValueError("metric 'rating' needs a touchpoint_id: ratings are per touchpoint")
        if self.metric == "nps" and self.touchpoint_id is not None:
            raise ValueError(
                f"touchpoint_id {self.touchpoint_id!r} does not apply to metric 'nps', which is "
                "asked about the whole relationship"
            )
        check_grain(self.grain)
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, int | float):
            raise ValueError(f"alpha must be a number between 0 and 1; got {self.alpha!r}")
        if not 0 < self.alpha < 1:
            raise ValueError(f"alpha must be between 0 and 1; got {self.alpha!r}")
        check_whole("min_n", self.min_n)

    def check_tables(self, tables: FactTables) -> None:
        if self.touchpoint_id is not None:
            require_touchpoint(tables, self.touchpoint_id)

    @property
    def from_counts(self) -> bool:
        """Whether the groups are summed from the store's pre-counted answers (by team,
        touchpoint, kind, month and one segment). Not for NPS: a response's NPS is its first NPS
        answer, where the counts count every one; nor for segments within the scope's segment,
        whose customers are in two segments at once."""
        return self.metric != "nps" and (self.by != "segment" or self.scope.segment_id is None)

    def to_query(self, tables: FactTables) -> dict[str, ir.Table]:
        metric, touchpoint_id = self.metric, self.touchpoint_id
        if self.from_counts:
            base = scans.kind_answers(self.scope.counted(tables), [metric], touchpoint_id)
            count = scans.counted_scores
        else:
            scoped = Scoped.of(tables, self.scope)
            base = scans.metric_answers(scoped.responses, scoped.answers, metric, touchpoint_id)
            count = scans.score_counts
        if self.by == "team":
            teams = base.filter(base.team_id.notnull())
            groups = count(teams, {"key": teams.team_id})
        elif self.by == "segment":
            if self.from_counts:
                joined = self.scope.counted(tables, per_segment=True)
                joined = scans.kind_answers(joined, [metric], touchpoint_id)
            else:
                joined = scans.in_segments(base, tables.segments)
            groups = count(joined, {"key": joined.segment_id})
        else:
            groups = count(base, scans.months(base))
        return {"groups": groups, "total": count(base)}

    def assemble(self, version: str | None, rows: Rows) -> ComparisonResult:
        kind = self.metric
        total = scans.total(
            scans.scores_by(rows.get("total", []), kind, lambda r: None).values(), kind
        )
        if self.by == "period":
            grain = self.grain
            groups = scans.scores_by(
                rows.get("groups", []), kind, lambda r: period_of(scans.by_month_key(r), grain)
            )
            references = {
                key: groups.get(previous_period(key, grain), Scores.empty(kind)) for key in groups
            }
        else:
            groups = scans.scores_by(rows.get("groups", []), kind, lambda r: int(r["key"]))
            references = {key: total - scores for key, scores in groups.items()}
        return self._compare(version, total, groups, references)

    def _compare(
        self,
        version: str | None,
        total: Scores,
        groups: dict[Any, Scores],
        references: dict[Any, Scores],
    ) -> ComparisonResult:
        metric = self.metric
        rows: list[dict[str, Any]] = []
        for key in sorted(groups):
            scores, reference = groups[key], references[key]
            row = {
                "key": key,
                "estimate": scores.estimate(metric),
                "n": scores.n,
                "reference": reference.estimate(metric),
                "reference_n": reference.n,
                "difference": None,
                "untested": None,
            }
            if self.by == "period" and reference.n == 0:
                row["untested"] = "no_previous"
            elif scores.n < self.min_n or reference.n < self.min_n:
                row["untested"] = "too_few"
            else:
                try:
                    row["difference"] = difference(metric, scores, reference)
                except ValueError:
                    row["untested"] = "undefined"
            rows.append(row)
        tested = [row for row in rows if row["difference"] is not None]
        q_values = benjamini_hochberg([row["difference"].p_value for row in tested])
        for row, q in zip(tested, q_values, strict=True):
            row["q_value"] = float(q)
        for row in rows:
            row.setdefault("q_value", None)
        return ComparisonResult(
            version=version,
            by=self.by,
            metric=metric,
            touchpoint_id=self.touchpoint_id,
            grain=self.grain if self.by == "period" else None,
            alpha=self.alpha,
            min_n=self.min_n,
            overall=total.estimate(metric),
            n=total.n,
            groups=tuple(
                GroupComparison(
                    **row,
                    significant=row["q_value"] is not None and row["q_value"] <= self.alpha,
                    low_n=row["n"] < self.min_n,
                )
                for row in rows
            ),
            tests=len(tested),
        )
