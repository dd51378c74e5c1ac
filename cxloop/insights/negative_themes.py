"""The theme customers complain of most at each touchpoint: of the negative comments about it in
the scope, the theme found in the most (the journey map's cards show it, issue #14)."""

from __future__ import annotations

from dataclasses import dataclass

import ibis.expr.types as ir

from cxloop.insights.dashboards._base import DashboardQuery, Rows
from cxloop.insights.store import FactTables, Scope


@dataclass(frozen=True)
class TopComplaint:
    touchpoint_id: int
    theme_id: int
    comments: int  # negative comments about the touchpoint with the theme
    negative: int  # negative comments about the touchpoint


@dataclass(frozen=True)
class TopComplaintQuery(DashboardQuery):
    """Per touchpoint, the theme of the most negative comments within ``scope`` (ties: the
    lower theme id), and how many negative comments there are in all."""

    scope: Scope

    def to_query(self, tables: FactTables) -> dict[str, ir.Table]:
        if tables.comments is None:
            return {}
        comments = self.scope.filter(tables.comments, tables.segments)
        negative = comments.filter(
            (comments.sentiment == "negative") & comments.touchpoint_id.notnull()
        )
        totals = negative.group_by("touchpoint_id").aggregate(negative=negative.count())
        themed = negative.select("touchpoint_id", theme_id=negative.themes.unnest())
        counts = themed.group_by(["touchpoint_id", "theme_id"]).aggregate(comments=themed.count())
        return {"totals": totals, "counts": counts}

    def assemble(self, version: str | None, rows: Rows) -> dict[int, TopComplaint]:
        totals = {int(r["touchpoint_id"]): int(r["negative"]) for r in rows.get("totals", [])}
        best: dict[int, tuple[int, int]] = {}
        for row in rows.get("counts", []):
            touchpoint, theme, n = (
                int(row["touchpoint_id"]),
                int(row["theme_id"]),
                int(row["comments"]),
            )
            held = best.get(touchpoint)
            if held is None or (n, -theme) > (held[1], -held[0]):
                best[touchpoint] = (theme, n)
        return {
            touchpoint: TopComplaint(touchpoint, theme, n, totals.get(touchpoint, n))
            for touchpoint, (theme, n) in best.items()
        }
