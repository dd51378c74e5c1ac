"""The survey counts behind a scorecard (:mod:`cxloop.insights.accountability`) that the weigh-in
does not bring: CSAT answers per team or person, keyed as the weigh-in keys NPS answers
(:func:`._scans.keyed_by`), and NPS and CSAT answers per touchpoint they rate (a team's
touchpoints are summed by the caller, who knows which it owns)."""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir

from cxloop.insights.store import FactTables, Scope

from . import _scans as scans
from ._base import DashboardQuery, Rows, Scoped
from ._scores import Scores
from .leaderboard import LEADERBOARD_BY

__all__ = ["ScorecardScores", "ScorecardScoresQuery"]


@dataclass(frozen=True)
class ScorecardScores:
    """``csat``: CSAT score counts per key (team or employee id); ``touchpoint_nps`` and
    ``touchpoint_csat``: NPS and CSAT score counts per touchpoint id."""

    version: str | None
    csat: dict[int, Scores]
    touchpoint_nps: dict[int, Scores]
    touchpoint_csat: dict[int, Scores]


@dataclass(frozen=True)
class ScorecardScoresQuery(DashboardQuery):
    scope: Scope
    by: str = "team"

    def __post_init__(self) -> None:
        self.check_scope()
        if self.by not in LEADERBOARD_BY:
            raise ValueError(f"by must be one of {', '.join(LEADERBOARD_BY)}; got {self.by!r}")

    def to_query(self, tables: FactTables) -> dict[str, ir.Table]:
        # Answers, not responses (every NPS answer about a touchpoint, not a response's first):
        # the store's pre-counted answers hold them.
        counted = self.scope.counted(tables)
        if self.by == "team":
            csat = scans.keyed_by(scans.kind_answers(counted, ["csat"]), "team", tables.customers)
            own = scans.counted_scores(csat, {"key": csat.key})
        else:
            # A person's customers are those they own now, which the counts do not keep.
            answers = Scoped.of(tables, self.scope).answers
            csat = scans.keyed_by(scans.kind_answers(answers, ["csat"]), "person", tables.customers)
            own = scans.score_counts(csat, {"key": csat.key})
        about = counted.filter(counted.touchpoint_id.notnull())
        nps, satisfied = (scans.kind_answers(about, [kind]) for kind in ("nps", "csat"))
        return {
            "csat": own,
            "touchpoint_nps": scans.counted_scores(nps, {"key": nps.touchpoint_id}),
            "touchpoint_csat": scans.counted_scores(satisfied, {"key": satisfied.touchpoint_id}),
        }

    def assemble(self, version: str | None, rows: Rows) -> ScorecardScores:
        return ScorecardScores(
            version=version,
            csat=scans.scores_by(rows.get("csat", []), "csat", _key),
            touchpoint_nps=scans.scores_by(rows.get("touchpoint_nps", []), "nps", _key),
            touchpoint_csat=scans.scores_by(rows.get("touchpoint_csat", []), "csat", _key),
        )


def _key(record) -> int:
    return int(record["key"])
