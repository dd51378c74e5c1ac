"""The overview dashboard: NPS, CSAT and CES of a scope with intervals, trends and channels."""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir

from cxloop.analytics import Estimate
from cxloop.insights.signals import MONTH, QUARTER, periods, rhythm
from cxloop.insights.store import FactTables, Scope

from . import _scans as scans
from ._base import MIN_N, DashboardQuery, Rows, Scoped, check_whole
from ._scores import Plain, Point, Scores, month_start, months_from_to

__all__ = ["ChannelCount", "OverviewQuery", "OverviewResult", "Summary"]


@dataclass(frozen=True)
class Summary(Plain):
    """One figure of the scope with its trend at the rhythm of its answers.

    ``metric``: ``"nps"`` (−100..100), ``"csat"`` (per cent of 4s and 5s), ``"csat_mean"``
    (mean on 1–5) or ``"ces"`` (mean on 1–7, 7 = very easy). ``estimate`` is None when there
    are no answers (or one, for a mean); ``low_n`` is true when ``n`` is under the query's
    ``min_n``, so the page shows a warning next to the figure. ``grain`` is the rhythm of the
    answers (:func:`cxloop.insights.signals.rhythm`: "quarter" for a survey in waves, else
    "month") and ``trend`` has a point for every such period of the result's ``months`` — the
    months between an NPS survey's waves would otherwise be points of a handful of late answers.
    """

    metric: str
    estimate: Estimate | None
    n: int
    low_n: bool
    trend: tuple[Point, ...]
    grain: str = MONTH


@dataclass(frozen=True)
class ChannelCount(Plain):
    channel: str
    responses: int


@dataclass(frozen=True)
class OverviewResult(Plain):
    """``months``: the ISO start dates of the trend's months, from the first month with a
    response in the scope to the last (empty when there is none). ``channels``: responses per
    channel, most first."""

    version: str | None
    responses: int
    nps: Summary
    csat: Summary
    csat_mean: Summary
    ces: Summary
    channels: tuple[ChannelCount, ...]
    months: tuple[str, ...]


@dataclass(frozen=True)
class OverviewQuery(DashboardQuery):
    """NPS, CSAT (top-2-box share and mean) and CES of ``scope``, each with its interval, n and
    a monthly trend, and the responses by channel.

    Three scans, each returning a few rows per month: NPS answers by month and score, CSAT and
    CES answers by kind, month and score (summed from the store's pre-counted answers),
    responses by channel and month.

    Parameters
    ----------
    scope : Scope
    min_n : int
        Under this many answers a figure is flagged ``low_n``.
    """

    scope: Scope
    min_n: int = MIN_N

    def __post_init__(self) -> None:
        self.check_scope()
        check_whole("min_n", self.min_n)

    def to_query(self, tables: FactTables) -> dict[str, ir.Table]:
        scoped = Scoped.of(tables, self.scope)
        responses = scoped.responses
        # A response's NPS is its first NPS answer: the pre-counted answers count every one.
        nps = scans.nps_answers(responses)
        rated = scans.kind_answers(self.scope.counted(tables, by_team=False), ("csat", "ces"))
        return {
            "nps": scans.score_counts(nps, scans.months(nps)),
            "rated": scans.counted_scores(rated, {"kind": rated.kind, **scans.months(rated)}),
            "channels": responses.group_by(
                channel=responses.channel, **scans.months(responses)
            ).agg(n=responses.count()),
        }

    def assemble(self, version: str | None, rows: Rows) -> OverviewResult:
        rated = rows.get("rated", [])
        nps = scans.scores_by(rows.get("nps", []), "nps", scans.by_month_key)
        csat = scans.scores_by(
            (r for r in rated if r["kind"] == "csat"), "csat", scans.by_month_key
        )
        ces = scans.scores_by((r for r in rated if r["kind"] == "ces"), "ces", scans.by_month_key)
        by_channel: dict[str, int] = {}
        seen = set(nps) | set(csat) | set(ces)
        for r in rows.get("channels", []):
            by_channel[r["channel"]] = by_channel.get(r["channel"], 0) + r["n"]
            seen.add(scans.by_month_key(r))
        months = months_from_to(min(seen), max(seen)) if seen else []
        return OverviewResult(
            version=version,
            responses=sum(by_channel.values()),
            nps=self._summary("nps", nps, months, Scores.nps),
            csat=self._summary("csat", csat, months, Scores.top_box),
            csat_mean=self._summary("csat_mean", csat, months, Scores.mean),
            ces=self._summary("ces", ces, months, Scores.mean),
            channels=tuple(
                ChannelCount(channel, n)
                for channel, n in sorted(by_channel.items(), key=lambda item: (-item[1], item[0]))
            ),
            months=tuple(month_start(m) for m in months),
        )

    def _summary(self, metric, by_month: dict, months: list[str], figure) -> Summary:
        kind = {"csat_mean": "csat"}.get(metric, metric)
        overall = scans.total(by_month.values(), kind)
        empty = Scores.empty(kind)
        grain = rhythm({month: scores.n for month, scores in by_month.items()})
        trend = []
        for period in periods(months[0], months[-1], grain) if months else ():
            scores = scans.total((by_month.get(m, empty) for m in period.months), kind)
            end = period.end if grain == QUARTER else None
            trend.append(Point.of(period.start, figure(scores), scores.n, end=end))
        return Summary(
            metric=metric,
            estimate=figure(overall),
            n=overall.n,
            low_n=overall.n < self.min_n,
            trend=tuple(trend),
            grain=grain,
        )
