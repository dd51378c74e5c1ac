"""The weekly weigh-in: teams, or people by their customers, ranked fairly on NPS.

A raw average of a handful of answers puts a lucky small team first. Here each team's NPS is
shrunk toward the level of all teams (empirical Bayes: :func:`cxloop.analytics.shrink_nps`),
each person's toward their team's level (:func:`cxloop.analytics.shrink_nps_in_teams`),
the ranks carry an interval (:func:`cxloop.analytics.rank_intervals`), groups with fewer than
``min_n`` answers are listed as "not enough answers" instead of ranked, and a funnel plot
(:func:`cxloop.analytics.nps_funnel`) says who differs from the rest beyond chance.

Whose answers count for whom, defined once here: a **team**'s are the responses of the
customers whose relationship owner was in the team when the month was written (the store's
``team_id``, as on every dashboard); a **person**'s are the responses of the customers they own
now (the store's ``customers.owner_id``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import ibis.expr.types as ir

from cxloop.analytics import (
    Estimate,
    Funnel,
    RankInterval,
    nps_funnel,
    rank_intervals,
    shrink_nps,
    shrink_nps_in_teams,
)
from cxloop.insights.store import FactTables, Scope

from . import _scans as scans
from ._base import DashboardQuery, Rows, Scoped, check_whole
from ._scores import Plain, Scores

__all__ = ["LEADERBOARD_BY", "MIN_RANKED", "LeaderboardQuery", "LeaderboardResult", "Standing"]

LEADERBOARD_BY = ("team", "person")
# Fewer answers than this and a group is shown, not ranked: its place would be noise.
MIN_RANKED = 10
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Standing(Plain):
    """One team or person. ``key``: the team's or the employee's id. ``raw``: the NPS of their
    answers with its interval; ``score``: a team's shrunk toward all teams' level, a person's
    toward their team's (what they are ranked by); ``rank``: None when ``low_n`` (fewer than
    ``min_n`` answers). ``funnel``: −2…2, where the raw NPS lies against the funnel's limits
    for its n (0: within chance)."""

    key: int
    n: int
    promoters: int
    detractors: int
    raw: Estimate
    score: Estimate
    rank: RankInterval | None
    funnel: int
    low_n: bool


@dataclass(frozen=True)
class LeaderboardResult(Plain):
    """``standings``: ranked groups by rank, then the groups with too few answers by n.
    ``overall``: the NPS of every answer in the scope; ``funnel``: its limits (None under two
    groups with answers)."""

    version: str | None
    by: str
    min_n: int
    overall: Estimate | None
    n: int
    standings: tuple[Standing, ...]
    funnel: Funnel | None

    def standing(self, key: int) -> Standing | None:
        return next((s for s in self.standings if s.key == key), None)

    @property
    def ranked(self) -> tuple[Standing, ...]:
        return tuple(s for s in self.standings if s.rank is not None)


@dataclass(frozen=True)
class LeaderboardQuery(DashboardQuery):
    """The scope's teams or people on NPS, shrunk and ranked (see the module).

    Parameters
    ----------
    scope : Scope
        Period, segment and the teams whose answers count (for people: their customers'
        answers within those teams).
    by : {"team", "person"}
    min_n : int
        Groups with fewer answers are listed, flagged ``low_n``, and not ranked.
    teams : tuple of (employee id, team id), optional
        For people: the team each belongs to (whose level they are shrunk toward); read from
        the people's records by :meth:`run` when not given, so that a move between teams is
        a new cache entry.
    """

    scope: Scope
    by: str = "team"
    min_n: int = MIN_RANKED
    teams: tuple[tuple[int, int], ...] | None = None

    def __post_init__(self) -> None:
        self.check_scope()
        if self.by not in LEADERBOARD_BY:
            raise ValueError(f"by must be one of {', '.join(LEADERBOARD_BY)}; got {self.by!r}")
        check_whole("min_n", self.min_n)

    def run(self, *, store=None, cache: bool = True) -> LeaderboardResult:
        if self.by == "person" and self.teams is None:
            # Imported here: the Spark side runs the queries without Django's apps.
            from cxloop.people.queries import team_members

            return replace(self, teams=tuple(sorted(team_members().items()))).run(
                store=store, cache=cache
            )
        return super().run(store=store, cache=cache)

    def to_query(self, tables: FactTables) -> dict[str, ir.Table]:
        scoped = Scoped.of(tables, self.scope)
        # From the responses, not the pre-counted answers: a response's NPS is its first NPS
        # answer (the counts count every one), and a person's are their customers' now.
        answers = scans.nps_answers(scoped.responses)
        keyed = scans.keyed_by(answers, self.by, tables.customers)
        return {
            "groups": scans.score_counts(keyed, {"key": keyed.key}),
            "total": scans.score_counts(answers),
        }

    def assemble(self, version: str | None, rows: Rows) -> LeaderboardResult:
        total = scans.total(
            scans.scores_by(rows.get("total", []), "nps", lambda r: None).values(), "nps"
        )
        groups = scans.scores_by(rows.get("groups", []), "nps", lambda r: int(r["key"]))
        return LeaderboardResult(
            version=version,
            by=self.by,
            min_n=self.min_n,
            overall=total.nps(),
            n=total.n,
            **self._standings(groups),
        )

    def _standings(self, groups: dict[int, Scores]) -> dict[str, Any]:
        keys = sorted(k for k, scores in groups.items() if scores.n > 0)
        if len(keys) < 2:
            # Nothing to shrink toward or rank against: one group is listed as it is.
            alone = [self._row(k, groups[k], groups[k].nps(), None, 0) for k in keys]
            return {"standings": tuple(alone), "funnel": None}
        counts = [groups[k].nps_counts() for k in keys]
        promoters, detractors, n = (list(column) for column in zip(*counts, strict=True))
        shrunk = (
            shrink_nps(promoters, detractors, n)
            if self.by == "team"
            else shrink_nps_in_teams(promoters, detractors, n, self._teams_of(keys))
        )
        funnel = nps_funnel(promoters, detractors, n)
        eligible = [i for i, size in enumerate(n) if size >= self.min_n]
        ranks: dict[int, RankInterval] = {}
        if len(eligible) >= 2:
            found = rank_intervals(
                [shrunk[i].value for i in eligible],
                [(shrunk[i].high - shrunk[i].low) / (2 * Z95) for i in eligible],
            )
            ranks = dict(zip(eligible, found, strict=True))
        elif eligible:
            ranks = {eligible[0]: RankInterval(1, 1, 1, 1.0)}
        rows = [
            self._row(k, groups[k], shrunk[i], ranks.get(i), int(funnel.position[i]))
            for i, k in enumerate(keys)
        ]
        rows.sort(key=lambda s: (s.rank is None, s.rank.rank if s.rank else 0, -s.score.value))
        return {"standings": tuple(rows), "funnel": funnel}

    def _teams_of(self, employee_ids: list[int]) -> list[object]:
        """Each person's team; someone no longer employed is a team of their own."""
        teams = dict(self.teams or ())
        return [teams.get(k, f"former {k}") for k in employee_ids]

    def _row(self, key: int, scores: Scores, score, rank, position: int) -> Standing:
        promoters, detractors, n = scores.nps_counts()
        return Standing(
            key=key,
            n=n,
            promoters=promoters,
            detractors=detractors,
            raw=scores.nps(),
            score=score,
            rank=rank,
            funnel=position,
            low_n=n < self.min_n,
        )
