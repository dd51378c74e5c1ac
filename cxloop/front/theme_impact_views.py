"""What drives detractors: the themes of the customers' comments by how often they come up and by
how the NPS of those who raise them differs from the rest. The numbers come from
:class:`cxloop.insights.themes.ThemeImpactQuery`, the charts from :mod:`cxloop.insights.charts`,
the scope from the viewer's role and the page's filters."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxloop.front.filters import refuse_filter, row_id_filter
from cxloop.front.forms import InsightFilters
from cxloop.front.insight_views import insight_filters
from cxloop.i18n import pick
from cxloop.insights import charts
from cxloop.insights.themes import ORDERS, ThemeImpactQuery, ThemeImpactResult
from cxloop.journeys.queries import journey_touchpoints

ORDER_LABELS = {
    "impact": gettext_lazy("Effect on NPS, most harmful first"),
    "frequency": gettext_lazy("How often raised, most first"),
}
TREND_SERIES = 5  # the trend chart tells at most five lines apart (charts.series_trend)


def _explorer_url(theme_id: int, params: dict[str, str]) -> str:
    """The comment explorer filtered by the theme and the page's filters (the explorer takes
    the same names: since, until, segment, team, touchpoint); its literal path while the
    explorer's view is not installed, so that this page never breaks on it."""
    try:
        path = reverse("comment_list")
    except NoReverseMatch:
        path = "/comments/"
    return f"{path}?{urlencode({'theme': theme_id, **params})}"


def _name(theme) -> str:
    return pick({"ru": theme.name_ru, "en": theme.name_en}) or theme.code


@dataclass(frozen=True)
class ThemeImpacts:
    """The theme-impact page for a query string: its filters (``accepted``: the touchpoint
    kept), the touchpoints to choose from, the order, the query's result and one row a theme
    (its name, told apart from a namesake by its code, and its comments' link)."""

    filters: InsightFilters
    accepted: dict[str, str]
    touchpoints: list
    touchpoint_id: int | None
    order: str
    result: ThemeImpactResult
    rows: list[dict]


def theme_impacts(request: HttpRequest) -> ThemeImpacts:
    """The themes the page shows for ``request`` (its user's scope and query string); a
    touchpoint or an order it does not know is left out with a message, as the page does."""
    filters, scope = insight_filters(request)
    accepted: dict[str, str] = {}
    touchpoints = journey_touchpoints()
    touchpoint_id = row_id_filter(request, "touchpoint", _("Touchpoint"), accepted)
    if touchpoint_id is not None and touchpoint_id not in {tp.pk for tp in touchpoints}:
        refuse_filter(request, _("Touchpoint"), _("no such touchpoint in the active journeys"))
        touchpoint_id = None
    order = request.GET.get("order") or "impact"
    if order not in ORDERS:
        refuse_filter(request, _("Order"), _("no such order"))
        order = "impact"
    query = ThemeImpactQuery(scope=scope, touchpoint_id=touchpoint_id, order=order)
    result = query.run()
    names: dict[int, str] = {}
    for theme in result.themes:
        name = _name(theme)
        # Charts merge equal names into one mark: a second theme of the same name shows its code.
        names[theme.theme_id] = f"{name} ({theme.code})" if name in names.values() else name
    params = {**filters.link_params(), **accepted}
    rows = [
        {
            "theme": theme,
            "name": names[theme.theme_id],
            "href": _explorer_url(theme.theme_id, params),
        }
        for theme in result.themes
    ]
    return ThemeImpacts(filters, accepted, touchpoints, touchpoint_id, order, result, rows)


def theme_impact_charts(shown: ThemeImpacts) -> dict:
    """The page's charts: the difference in NPS of each theme compared (``differences``) and
    the monthly share of the first :data:`TREND_SERIES` themes raised (``trend``); None for
    one the page does not draw (no theme compared, none raised)."""
    rows = shown.rows
    compared = [row for row in rows if row["theme"].difference is not None]
    trending = [row for row in rows if row["theme"].n][:TREND_SERIES]
    differences = charts.comparison(
        [
            {
                "name": row["name"],
                "value": row["theme"].difference.value,
                "low": row["theme"].difference.low,
                "high": row["theme"].difference.high,
                "significant": row["theme"].significant,
                "n": row["theme"].n,
                "href": row["href"],
            }
            for row in compared
        ],
        x_title=_("NPS of those who raise it minus the rest"),
    )
    trend = charts.series_trend(
        [{"label": row["name"], "points": row["theme"].trend} for row in trending],
        title=_("Share of commented responses raising the theme, by month"),
        y_title=_("Per cent of commented responses"),
    )
    return {
        "differences": differences if compared else None,
        "trend": trend if trending else None,
    }


@login_required
def theme_impact(request: HttpRequest) -> HttpResponse:
    """Each theme: how many commented responses raise it and what share, how many of its
    comments read negative, the NPS of those who raise it against those who comment on
    something else, and the difference with its 95 % interval (marked where it excludes 0);
    a chart of the differences and one of the most telling themes' monthly shares. Filters:
    period, segment (the target segment first), team, touchpoint; ordered by effect or by
    frequency."""
    shown = theme_impacts(request)
    filters, accepted, rows = shown.filters, shown.accepted, shown.rows
    drawn = theme_impact_charts(shown)
    context = {
        "filters": filters,
        "result": shown.result,
        "rows": rows,
        "order": shown.order,
        "order_labels": ORDER_LABELS,
        "touchpoint_chosen": "" if shown.touchpoint_id is None else str(shown.touchpoint_id),
        "touchpoint_choices": [(str(tp.pk), tp.name) for tp in shown.touchpoints],
        "differences": drawn["differences"],
        "trend": drawn["trend"],
        "has_trend": drawn["trend"] is not None,
        "compared": drawn["differences"] is not None,
        "order_params": urlencode(
            {
                key: value
                for key, value in request.GET.items()
                if key != "order" and (key in filters.fields or key in accepted)
            }
        ),
    }
    return render(request, "front/comments/impact.html", context)
