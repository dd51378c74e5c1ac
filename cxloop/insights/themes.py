"""What drives detractors: each theme of the customers' comments by how often it comes up and by
how the NPS of those who raise it differs from that of those who comment on something else.

The unit is the commented response: a response with at least one enriched comment in the scope
(about ``touchpoint_id`` when given); frequencies count every one, the NPS figures those with an
NPS answer (the comments about one touchpoint mostly come from its event surveys, which ask CSAT
instead: there the page shows how often each theme comes up and how negative it is). A response
"raises" a theme when any of its comments does, so a response with two comments on billing
counts once and its NPS is never counted twice. The sentiment is the comments' own:
``negative`` counts the comments with the theme that read negative.

The scan (Ibis, unnesting each comment's ``themes`` list) returns counts only — responses per
theme and NPS score, per theme and month, comments per theme and sentiment — a few rows per
theme whatever the volume; the NPS, its difference and intervals come from
:mod:`cxloop.analytics` (:func:`~cxloop.analytics.nps_difference_from_counts`: the
adjusted-Wald z interval of Sauro & Lewis), and the monthly shares from Wilson's interval.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from cxloop.analytics import Difference, Estimate, nps_difference_from_counts, wilson_interval
from cxloop.insights.dashboards import _scans as scans
from cxloop.insights.dashboards._base import DashboardQuery, Rows, check_id, check_whole
from cxloop.insights.dashboards._scores import Plain, Scores, month_start, months_from_to
from cxloop.insights.store import FactTables, Scope

__all__ = [
    "MIN_COMMENTS",
    "ORDERS",
    "SharePoint",
    "ThemeImpact",
    "ThemeImpactQuery",
    "ThemeImpactResult",
]

# Under this many commented responses with the theme (or without it), the NPS difference has an
# interval too wide to tell anything: 9 answers move an NPS by 11 points each.
MIN_COMMENTS = 10
ORDERS = ("impact", "frequency")


@dataclass(frozen=True)
class SharePoint(Plain):
    """One month of a theme's trend: ``value`` the per cent of the month's ``n`` commented
    responses that raise the theme (``mentions``), with Wilson's 95 % interval; ``value``,
    ``low`` and ``high`` are None for a month without commented responses. ``period`` is the
    ISO date the month starts on."""

    period: str
    value: float | None
    low: float | None
    high: float | None
    n: int
    mentions: int


@dataclass(frozen=True)
class ThemeImpact(Plain):
    """One theme in the scope.

    Attributes
    ----------
    n : int
        Commented responses whose comment raises the theme.
    rated : int
        Those of them with an NPS answer (a transactional survey asks CSAT, not NPS).
    share : float or None
        ``n`` as a per cent of all commented responses (None when there are none).
    comments, negative : int
        Comments with the theme, and those of them whose sentiment is negative.
    nps_with, nps_without : Estimate or None
        NPS of the commented responses that raise the theme and of those that do not (None for
        an empty group), each with its adjusted-Wald interval.
    difference : Difference or None
        ``nps_with − nps_without`` with its 95 % interval and z test; None when either group
        has fewer than ``min_n`` responses with an NPS (``enough`` False: "not enough
        comments").
    trend : tuple of SharePoint
        The share of commented responses raising the theme, month by month.
    """

    theme_id: int
    code: str
    name_ru: str
    name_en: str
    is_active: bool
    n: int
    rated: int
    share: float | None
    comments: int
    negative: int
    nps_with: Estimate | None
    nps_without: Estimate | None
    difference: Difference | None
    enough: bool
    trend: tuple[SharePoint, ...] = ()

    @property
    def negative_share(self) -> float | None:
        """Per cent of the theme's comments that read negative."""
        return 100.0 * self.negative / self.comments if self.comments else None

    @property
    def significant(self) -> bool:
        """Whether the difference's interval excludes 0."""
        return self.difference is not None and self.difference.significant


@dataclass(frozen=True)
class ThemeImpactResult(Plain):
    """Every theme in a scope, in ``order``: by ``"impact"`` the most negative difference first
    (themes without one after, most frequent first), by ``"frequency"`` the most raised first.
    ``responses`` is the number of commented responses, ``rated`` those with an NPS answer,
    ``nps`` their NPS,
    ``months`` the ISO first days of the trend's months (first to last with comments)."""

    version: str | None
    touchpoint_id: int | None
    order: str
    min_n: int
    responses: int
    rated: int
    nps: Estimate | None
    themes: tuple[ThemeImpact, ...]
    months: tuple[str, ...]


@dataclass(frozen=True)
class ThemeImpactQuery(DashboardQuery):
    """Themes by frequency and by their effect on NPS.

    Parameters
    ----------
    scope : Scope
        Period, segment and teams, applied to the comments' responses.
    touchpoint_id : int, optional
        Only comments about this touchpoint (the comment's question's, else the response's).
    order : {"impact", "frequency"}
    min_n : int
        Fewest responses with the theme, and without it, for a difference to be given.
    """

    scope: Scope
    touchpoint_id: int | None = None
    order: str = "impact"
    min_n: int = MIN_COMMENTS

    def __post_init__(self) -> None:
        self.check_scope()
        check_id("touchpoint_id", self.touchpoint_id)
        if self.order not in ORDERS:
            raise ValueError(f"order must be one of {', '.join(ORDERS)}; got {self.order!r}")
        check_whole("min_n", self.min_n)

    def calculate(self, tables: FactTables | None = None) -> ThemeImpactResult:
        if tables is not None and (tables.comments is None or tables.themes is None):
            # An engine that did not register the comments has none to tell of.
            return self.assemble(tables.manifest.version, {})
        return super().calculate(tables)

    def to_query(self, tables: FactTables) -> dict[str, ir.Table]:
        comments = self.scope.filter(tables.comments, tables.segments)
        if self.touchpoint_id is not None:
            comments = comments.filter(
                comments.touchpoint_id == ibis.literal(self.touchpoint_id, "int32")
            )
        # One row per commented response (its NPS, if asked, and month are its own, whatever
        # the comment).
        responses = comments.select("response_id", "month", score=comments.nps).distinct()
        mentions = comments.select(
            "response_id",
            "month",
            "sentiment",
            score=comments.nps,
            theme_id=comments.themes.unnest(),
        )
        raised = mentions.select("response_id", "month", "score", "theme_id").distinct()
        rated, raised_rated = (
            responses.filter(responses.score.notnull()),
            raised.filter(raised.score.notnull()),
        )
        themes = tables.themes
        return {
            "scores": scans.score_counts(rated),
            "months": responses.group_by("month").agg(n=responses.count()),
            "theme_scores": scans.score_counts(raised_rated, {"theme_id": raised_rated.theme_id}),
            "theme_months": raised.group_by("theme_id", "month").agg(n=raised.count()),
            "theme_comments": mentions.group_by("theme_id").agg(
                comments=mentions.count(),
                negative=(mentions.sentiment == "negative").cast("int64").sum(),
            ),
            "themes": themes.select("theme_id", "code", "name_ru", "name_en", "is_active"),
        }

    def assemble(self, version: str | None, rows: Rows) -> ThemeImpactResult:
        total = Scores.from_pairs(
            "nps",
            [r["score"] for r in rows.get("scores", [])],
            [r["n"] for r in rows.get("scores", [])],
        )
        by_theme = scans.scores_by(rows.get("theme_scores", []), "nps", lambda r: r["theme_id"])
        month_totals = {r["month"]: int(r["n"]) for r in rows.get("months", [])}
        months = months_from_to(min(month_totals), max(month_totals)) if month_totals else []
        theme_months: dict[int, dict[str, int]] = defaultdict(dict)
        for r in rows.get("theme_months", []):
            theme_months[int(r["theme_id"])][r["month"]] = int(r["n"])
        said = {int(r["theme_id"]): r for r in rows.get("theme_comments", [])}
        commented = sum(month_totals.values())
        known = {int(r["theme_id"]): r for r in rows.get("themes", [])}
        # Every active theme (one never raised shows 0) and any other raised in the scope.
        shown = [t for t, r in known.items() if r["is_active"] or t in by_theme]
        themes = [
            self._impact(
                known[t],
                by_theme.get(t, Scores.empty("nps")),
                total,
                said.get(t),
                theme_months.get(t, {}),
                month_totals,
                months,
                commented,
            )
            for t in shown
        ]
        return ThemeImpactResult(
            version=version,
            touchpoint_id=self.touchpoint_id,
            order=self.order,
            min_n=self.min_n,
            responses=commented,
            rated=total.n,
            nps=total.nps(),
            themes=tuple(sorted(themes, key=self._sort_key)),
            months=tuple(month_start(m) for m in months),
        )

    def _impact(
        self,
        theme: dict[str, Any],
        with_theme: Scores,
        total: Scores,
        said: dict[str, Any] | None,
        by_month: dict[str, int],
        month_totals: dict[str, int],
        months: list[str],
        commented: int,
    ) -> ThemeImpact:
        without = total - with_theme
        n = sum(by_month.values())
        enough = with_theme.n >= self.min_n and without.n >= self.min_n
        difference = None
        if enough:
            difference = nps_difference_from_counts(with_theme.nps_counts(), without.nps_counts())
        return ThemeImpact(
            theme_id=int(theme["theme_id"]),
            code=theme["code"],
            name_ru=theme["name_ru"],
            name_en=theme["name_en"],
            is_active=bool(theme["is_active"]),
            n=n,
            rated=with_theme.n,
            share=100.0 * n / commented if commented else None,
            comments=int(said["comments"]) if said else 0,
            negative=int(said["negative"] or 0) if said else 0,
            nps_with=with_theme.nps(),
            nps_without=without.nps(),
            difference=difference,
            enough=enough,
            trend=tuple(_share(m, by_month.get(m, 0), month_totals.get(m, 0)) for m in months),
        )

    def _sort_key(self, theme: ThemeImpact) -> tuple:
        if self.order == "frequency":
            return (-theme.n, theme.theme_id)
        if theme.difference is None:
            return (1, 0.0, -theme.n, theme.theme_id)
        return (0, theme.difference.value, -theme.n, theme.theme_id)


def _share(month: str, mentions: int, n: int) -> SharePoint:
    if not n:
        return SharePoint(month_start(month), None, None, None, 0, 0)
    interval = wilson_interval(mentions, n)
    return SharePoint(
        month_start(month),
        100.0 * mentions / n,
        100.0 * interval.low,
        100.0 * interval.high,
        n,
        mentions,
    )
