"""The dashboards: overview, comparisons, touchpoint page, portfolio. They compose: the numbers come
from the query objects of :mod:`cxloop.insights`, the charts from :mod:`cxloop.insights.charts`,
the scope from the viewer's role."""

import dataclasses
import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cxloop.customers.queries import all_segments, customer_names, target_segments
from cxloop.front.forms import InsightFilters
from cxloop.i18n import month_since
from cxloop.improvements.queries import may_propose
from cxloop.insights import charts
from cxloop.insights.dashboards import (
    BY,
    METRICS,
    MIN_N,
    ComparisonQuery,
    OverviewQuery,
    OverviewResult,
    PortfolioQuery,
    PortfolioResult,
    TouchpointQuery,
    TouchpointResult,
)
from cxloop.insights.pages import (
    DEFAULT_MONTHS,  # noqa: F401  (the pages' default period, as the API and notebook take it)
    comparison_query,
    default_since,
    journey_map_query,
    viewer_scope,
)
from cxloop.insights.queries import response_rates
from cxloop.insights.store import Scope
from cxloop.insights.team_voice import team_voices
from cxloop.journeys.queries import active_journeys, journey_touchpoints, touchpoints_with_stage
from cxloop.people.choices import Role
from cxloop.people.queries import (
    role_of,
    teams_named,
    visible_team_ids,
    visible_teams,
)
from cxloop.surveys.choices import Channel
from cxloop.surveys.queries import latest_comments

# The sign money is shown with, by ISO currency code; another currency shows its code.
CURRENCY_SIGNS = {"RUB": "₽"}


def insight_filters(
    request: HttpRequest, *, target_first: bool = True
) -> tuple[InsightFilters, Scope]:
    """The page's filters (defaults: the last twelve months, every visible team, and the target
    segment where ``target_first``, else all customers) and the scope they give, within what
    the viewer's role shows."""
    today = timezone.localdate()
    filters = InsightFilters(
        request.GET,
        segments=all_segments(),
        teams=visible_teams(request.user).order_by("name"),
        default_since=default_since(today),
        target_segment=target_segments().first() if target_first else None,
    )
    if not filters.is_valid():
        return filters, viewer_scope(request.user, since=default_since(today), until=None)
    data = filters.cleaned_data
    scope = viewer_scope(
        request.user,
        since=data["since"],
        until=data["until"],
        segment_id=filters.segment_id,
        team_id=filters.team_id,
    )
    return filters, scope


METRIC_LABELS = {
    "nps": gettext_lazy("NPS"),
    "csat": gettext_lazy("CSAT, per cent satisfied"),
    "ces": gettext_lazy("Customer effort (1–7, 7 = very easy)"),
    "rating": gettext_lazy("Touchpoint rating (1–5)"),
}
# What a reader who does not know the jargon needs to read each figure (tooltips).
METRIC_HELP = {
    "nps": gettext_lazy(
        "Net Promoter Score: the per cent of customers who would recommend us (9–10 of 10) "
        "minus the per cent who would not (0–6). From −100 to 100; higher is better."
    ),
    "csat": gettext_lazy(
        "Customer satisfaction: the per cent of answers of 4 or 5 on a scale of 1 to 5. "
        "Higher is better."
    ),
    "ces": gettext_lazy(
        "Customer effort: how easy customers found it, from 1 (very hard) to 7 (very easy). "
        "Higher is better."
    ),
    "rating": gettext_lazy("The mean rating of the touchpoint, from 1 (poor) to 5 (excellent)."),
}
# The overview's tiles: metric, its short name, the chart's fixed scale, decimals shown.
KPIS = (
    ("nps", gettext_lazy("NPS"), (-100, 100), "0g"),
    ("csat", gettext_lazy("Satisfied (CSAT)"), (0, 100), "0g"),
    ("ces", gettext_lazy("Ease (effort, 7 = very easy)"), (1, 7), "1g"),
)
BY_LABELS = {
    "segment": gettext_lazy("Segments"),
    "team": gettext_lazy("Teams"),
    "period": gettext_lazy("Periods"),
}
# The heading of the compare table's first column: one word for what the rows are.
BY_HEADINGS = {
    "segment": gettext_lazy("Segment"),
    "team": gettext_lazy("Team"),
    "period": gettext_lazy("Period"),
}
# The heading of the compare table's figure column: distinct from every other heading in
# both languages (the Russian page once had two columns both «Оценка»).
METRIC_HEADINGS = {
    "nps": gettext_lazy("NPS"),
    "csat": gettext_lazy("Satisfied, per cent"),
    "ces": gettext_lazy("Mean ease (1–7)"),
    "rating": gettext_lazy("Mean rating (1–5)"),
}
GRAIN_LABELS = {
    "month": gettext_lazy("Months"),
    "quarter": gettext_lazy("Quarters"),
    "year": gettext_lazy("Years"),
}
# The touchpoint's trend is drawn at the rhythm of its answers (a survey in waves: quarters).
TREND_TITLES = {
    "month": gettext_lazy("Mean rating by month"),
    "quarter": gettext_lazy("Mean rating by quarter"),
}
# The Western Electric rules of cxloop.analytics.run_rules, by number.
RULE_LABELS = {
    1: gettext_lazy("one point beyond 3 sigma"),
    2: gettext_lazy("two of three points in a row beyond 2 sigma on the same side"),
    3: gettext_lazy("four of five points in a row beyond 1 sigma on the same side"),
    4: gettext_lazy("eight points in a row on the same side of the centre line"),
}


def _responses_url(filters: InsightFilters, **params) -> str:
    """The response list behind a figure: the page's filters plus ``params`` (the list's
    query-string contract: since, until, segment, team, touchpoint, channel, survey, kind,
    band, period); None values are left out."""
    query = {**filters.link_params(), **{k: str(v) for k, v in params.items() if v is not None}}
    return f"{reverse('response_list')}?{urlencode(query)}"


def _point_params(point) -> dict:
    """The response list's parameters for one point of a chart over time: ``period`` (its
    month) for a month, its first and last day for a longer period (a quarter's wave)."""
    end = getattr(point, "end", None) or ""
    if end and end[:7] != point.period[:7]:
        return {"since": point.period[:10], "until": end[:10]}
    return {"period": point.period[:7]}


def _trend(
    points, *, title: str, y_title: str, domain=None, href=None, as_of=None, grain=None
) -> dict:
    """A trend chart of months or, with ``grain="quarter"``, quarters; ``href(point)`` gives
    each point's link to its responses. A period with fewer than :data:`MIN_N` answers is drawn
    hollow, and the period holding ``as_of`` (not over yet) is marked partial, so that four days
    of answers never read as a plunge."""
    rows = []
    for p in points:
        month_end = _add_months(dt.date.fromisoformat(p.period[:10]), 1) - dt.timedelta(days=1)
        period_end = dt.date.fromisoformat(p.end[:10]) if p.end else month_end
        rows.append(
            {
                "period": p.period,
                "value": p.value,
                "low": p.low,
                "high": p.high,
                "n": p.n,
                "low_n": p.value is not None and p.n < MIN_N,
                "partial": as_of is not None and period_end > as_of,
                **({"href": href(p)} if href else {}),
            }
        )
    return charts.trend(rows, title=title, y_title=y_title, domain=domain, grain=grain)


def _last_periods(
    scope: Scope, today: dt.date, grain: str
) -> tuple[dt.date, dt.date, dt.date] | None:
    """The scope's last complete month (or quarter) and the one before it, as (first day of
    the one before, first day of the last, last day of the last); None when the scope does not
    hold both whole. The current period is never complete: comparing four days of answers with
    a whole month would be no comparison."""
    step = {"month": 1, "quarter": 3}[grain]
    yesterday = today - dt.timedelta(days=1)
    end = scope.until if scope.until is not None and scope.until < yesterday else yesterday
    following = end + dt.timedelta(days=1)
    # The period holding the day after ``end`` is not complete (or starts that day): the last
    # complete one ends the day before it starts.
    after = dt.date(following.year, following.month - (following.month - 1) % step, 1)
    last_start = _add_months(after, -step)
    previous_start = _add_months(after, -2 * step)
    if scope.since is not None and scope.since > previous_start:
        return None
    return previous_start, last_start, after - dt.timedelta(days=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month ``months`` after (before, when negative) ``day``'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _changes(scope: Scope, today: dt.date) -> dict[str, tuple]:
    """Each headline metric of the last complete month against the month before, tested by
    :class:`ComparisonQuery` (NPS: adjusted-Wald z, CSAT: two proportions, effort: Welch's t);
    where either month has too few answers (a survey that runs in quarterly waves), the last
    complete quarter against the one before. {metric: (GroupComparison, grain, periods)}."""
    out = {}
    if scope.empty:
        return out
    for metric, *_rest in KPIS:
        for grain in ("month", "quarter"):
            periods = _last_periods(scope, today, grain)
            if periods is None:
                continue
            previous_start, last_start, last_end = periods
            two = dataclasses.replace(scope, since=previous_start, until=last_end)
            result = ComparisonQuery(scope=two, by="period", metric=metric, grain=grain).run()
            group = next((g for g in result.groups if g.key == last_start.isoformat()), None)
            if group is None:
                continue
            out[metric] = (group, grain, periods)
            if group.difference is not None:
                break
    return out


def _number(value: float, decimals: int) -> str:
    return number_format(value, decimals, use_l10n=True, force_grouping=True)


def _figure(metric: str, value: float, decimals: int) -> str:
    """A headline figure as text: CSAT is a per cent."""
    text = _number(value, decimals)
    return _("%(number)s%%") % {"number": text} if metric == "csat" else text


def _change_sentence(metric: str, group, decimals: int, month: str, previous: str) -> str:
    """The change of one metric in plain words."""
    label = next(name for key, name, *_rest in KPIS if key == metric)
    if group.difference is None or group.reference is None:
        return _("%(metric)s: too few answers in %(previous)s or %(month)s to compare.") % {
            "metric": label,
            "previous": previous,
            "month": month,
        }
    values = {
        "metric": label,
        "before": _figure(metric, group.reference.value, decimals),
        "after": _figure(metric, group.estimate.value, decimals),
        "previous": previous,
        "month": month,
    }
    if not group.significant:
        return (
            _(
                "%(metric)s: %(after)s in %(month)s against %(before)s in %(previous)s, "
                "no clear change."
            )
            % values
        )
    if group.difference.value > 0:
        return _("%(metric)s rose from %(before)s in %(previous)s to %(after)s in %(month)s.") % (
            values
        )
    return _("%(metric)s fell from %(before)s in %(previous)s to %(after)s in %(month)s.") % values


def _journey_changes(scope: Scope, *, limit: int = 6) -> list[dict]:
    """The touchpoints of the first active journey whose rating rose or fell significantly, or
    whose control chart signals, in the scope: what the journey map's "What changed" panel
    shows, most recent signals and largest changes first (the journey map's order)."""
    journey = active_journeys().first()
    if journey is None:
        return []
    touchpoints = {tp.pk: tp for stage in journey.stages.all() for tp in stage.touchpoints.all()}
    if not touchpoints:
        return []
    result = journey_map_query(journey, scope).run()
    return [
        {
            "change": change,
            "touchpoint": touchpoints[change.touchpoint_id],
            "size": abs(change.after - change.before),
            "since": change.since and dt.date.fromisoformat(f"{change.since}-01"),
        }
        for change in result.changes
        if change.touchpoint_id in touchpoints
    ][:limit]


@dataclasses.dataclass(frozen=True)
class Overview:
    """The overview's tiles for a query string: its filters and scope, the query's result, one
    tile a headline metric (its figure, the change it shows and its trend chart) and the
    changes in words."""

    filters: InsightFilters
    scope: Scope
    result: OverviewResult
    kpis: list[dict]
    changed: list[dict]


def overview_tiles(request: HttpRequest) -> Overview:
    """The tiles the overview shows for ``request`` (its user's scope and query string). A
    tile's ``compared`` names the two periods its change compares, (previous, last), or is
    None when the scope holds no two complete ones."""
    filters, scope = insight_filters(request, target_first=False)
    result = OverviewQuery(scope=scope).run()
    changes = _changes(scope, timezone.localdate())
    kpis, changed = [], []
    for key, label, domain, decimals in KPIS:
        summary = getattr(result, key)
        group, grain, periods = changes.get(key, (None, None, None))
        direction, compared = None, None
        if group is not None and group.significant and group.difference is not None:
            direction = "up" if group.difference.value > 0 else "down"
        if group is not None:
            compared = tuple(period_label(day.isoformat(), grain) for day in periods[:2])
            previous, last = compared
            changed.append(
                {
                    "direction": direction,
                    "label": label,
                    "text": _change_sentence(key, group, int(decimals[0]), last, previous),
                    "href": _responses_url(
                        filters,
                        kind=key,
                        since=periods[1].isoformat(),
                        until=periods[2].isoformat(),
                    ),
                }
            )
        kpis.append(
            {
                "key": key,
                "label": label,
                "help": METRIC_HELP[key],
                "summary": summary,
                "decimals": decimals,
                "direction": direction,
                "change": group,
                "compared": compared,
                "href": _responses_url(filters, kind=key),
                "chart": _trend(
                    summary.trend,
                    title=str(METRIC_LABELS[key]),
                    y_title=str(METRIC_LABELS[key]),
                    domain=domain,
                    href=lambda p, key=key: _responses_url(filters, kind=key, **_point_params(p)),
                    as_of=timezone.localdate(),
                    grain=summary.grain,
                ),
            }
        )
    return Overview(filters, scope, result, kpis, changed)


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """NPS, CSAT and customer effort: one figure each with its interval, an arrow when the last
    complete month differs significantly from the month before, what changed in words, the
    monthly trends, response rates and channels; every figure links to its responses."""
    shown = overview_tiles(request)
    filters, scope, result = shown.filters, shown.scope, shown.result
    team_ids = None if scope.team_ids is None else list(scope.team_ids)
    rates = response_rates(team_ids, since=scope.since, until=scope.until)
    most = max((c.responses for c in result.channels), default=0)
    context = {
        "filters": filters,
        "result": result,
        "kpis": shown.kpis,
        "changed": shown.changed,
        "journey_changes": _journey_changes(scope),
        "rates": [
            {"rate": rate, "href": _responses_url(filters, survey=rate.survey_id)} for rate in rates
        ],
        "channels": [
            {
                "label": Channel(c.channel).label,
                "responses": c.responses,
                "share": 100 * c.responses / result.responses if result.responses else 0,
                "bar": 100 * c.responses / most if most else 0,
                "href": _responses_url(filters, channel=c.channel),
            }
            for c in result.channels
        ],
        # A manager's teams: customers' NPS next to eNPS, over the weigh-in's window.
        "team_voices": team_voices(visible_team_ids(request.user), until=timezone.localdate())
        if role_of(request.user) == Role.MANAGER
        else None,
    }
    return render(request, "front/overview.html", context)


def _choice(request: HttpRequest, name: str, allowed, default: str) -> str:
    value = request.GET.get(name, default)
    if value not in allowed:
        raise Http404(
            _("%(field)s: expected one of %(values)s, not “%(value)s”")
            % {"field": name, "values": ", ".join(allowed), "value": value[:40]}
        )
    return value


def _month(iso_day: str) -> str:
    return date_format(dt.date.fromisoformat(iso_day), "YEAR_MONTH_FORMAT")


def period_label(iso_day: str, grain: str) -> str:
    """A period as the pages name it: its month, quarter ("Q1 2026") or year, by ``grain``."""
    day = dt.date.fromisoformat(iso_day)
    if grain == "quarter":
        return _("Q%(quarter)d %(year)d") % {"quarter": (day.month + 2) // 3, "year": day.year}
    if grain == "year":
        return str(day.year)
    return _month(iso_day)


def _group_names(by: str, groups, grain: str) -> dict:
    """Display names of the compared groups: segments and teams by id, periods by month."""
    keys = [g.key for g in groups]
    if by == "segment":
        return {s.pk: s.label for s in all_segments().filter(pk__in=keys)}
    if by == "team":
        return {t.pk: t.label for t in teams_named(keys)}
    return {key: period_label(str(key), grain) for key in keys}


def _group_params(by: str, key, grain: str, scope: Scope) -> dict:
    """The response list's parameters for one compared group (a quarter or a year within the
    scope's dates, as the comparison counted it)."""
    if by == "segment":
        return {"segment": key}
    if by == "team":
        return {"team": key}
    start = dt.date.fromisoformat(str(key))
    if grain == "month":
        return {"period": start.strftime("%Y-%m")}
    end = _add_months(start, 3 if grain == "quarter" else 12) - dt.timedelta(days=1)
    start = max(start, scope.since) if scope.since else start
    end = min(end, scope.until) if scope.until else end
    return {"since": start.isoformat(), "until": end.isoformat()}


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The comparison page's table for a query string: the groups with their names, figures,
    "why untested" and links to their responses."""

    filters: InsightFilters
    by: str
    metric: str
    grain: str
    touchpoint: object
    touchpoints: list
    result: object
    rows: list[dict]


def comparison(request: HttpRequest) -> Comparison:
    """The comparison the page shows for ``request`` (its user's scope and query string)."""
    filters, scope = insight_filters(request, target_first=False)
    by = _choice(request, "by", BY, "segment")
    metric = _choice(request, "metric", METRICS, "nps")
    grain = _choice(request, "grain", GRAIN_LABELS, "month")
    touchpoints = journey_touchpoints()
    touchpoint = None
    if metric == "rating":
        wanted = request.GET.get("touchpoint") or (str(touchpoints[0].pk) if touchpoints else "")
        touchpoint = next((tp for tp in touchpoints if str(tp.pk) == wanted), None)
        if touchpoint is None:
            raise Http404(_("touchpoint: choose one of the journey's touchpoints"))
    query = comparison_query(
        scope,
        by=by,
        metric=metric,
        grain=grain,
        touchpoint_id=None if touchpoint is None else touchpoint.pk,
    )
    scope = query.scope
    try:
        result = query.run()
    except ValueError:  # no answer rates this touchpoint yet
        result = None
    untested = {
        "too_few": _("too few answers to tell"),
        "no_previous": _("no answers the period before"),
        "undefined": _("cannot be told"),
    }
    names = {} if result is None else _group_names(by, result.groups, grain)
    kind = {"kind": metric, "touchpoint": touchpoint and touchpoint.pk}
    rows = []
    for g in () if result is None else result.groups:
        rows.append(
            {
                "name": str(names.get(g.key, g.key)),
                "group": g,
                "untested": untested.get(g.untested, ""),
                "href": _responses_url(filters, **kind, **_group_params(by, g.key, grain, scope)),
            }
        )
    return Comparison(filters, by, metric, grain, touchpoint, touchpoints, result, rows)


def comparison_chart(shown: Comparison) -> dict:
    """The comparison's bar chart: each group that has a figure, with its interval."""
    return charts.comparison(
        [
            {
                "name": row["name"],
                "value": row["group"].estimate.value,
                "low": row["group"].estimate.low,
                "high": row["group"].estimate.high,
                "significant": row["group"].significant,
                "n": row["group"].n,
                "href": row["href"],
            }
            for row in shown.rows
            if row["group"].estimate is not None
        ],
        x_title=str(METRIC_LABELS[shown.metric]),
    )


@login_required
def compare(request: HttpRequest) -> HttpResponse:
    """Segments, teams or months side by side on one metric, each against the rest (months:
    against the month before), significance marked after Benjamini–Hochberg."""
    shown = comparison(request)
    filters, by, metric, grain = shown.filters, shown.by, shown.metric, shown.grain
    touchpoint, touchpoints, result, rows = (
        shown.touchpoint,
        shown.touchpoints,
        shown.result,
        shown.rows,
    )
    chart = comparison_chart(shown)
    context = {
        "filters": filters,
        "by": by,
        "metric": metric,
        "touchpoint": touchpoint,
        "touchpoints": touchpoints,
        "grain": grain,
        "grain_labels": GRAIN_LABELS,
        "by_labels": BY_LABELS,
        "by_heading": BY_HEADINGS[by],
        "metric_labels": METRIC_LABELS,
        "metric_heading": METRIC_HEADINGS[metric],
        "metric_help": METRIC_HELP[metric],
        "decimals": "0g" if metric in ("nps", "csat") else "2g",
        "result": result,
        "rows": rows,
        "chart": chart,
        "heading": " · ".join(
            str(part)
            for part in (BY_LABELS[by], METRIC_LABELS[metric], touchpoint and touchpoint.name)
            if part
        ),
    }
    return render(request, "front/compare.html", context)


def _link_words(r: float | None) -> str:
    """How strongly a rating goes with NPS, in words; Cohen's conventional cut-offs for a
    correlation (0.1 small, 0.3 medium, 0.5 large: Cohen, Statistical Power Analysis, 1988)."""
    if r is None:
        return _("cannot be told")
    size = abs(r)
    if size < 0.1:
        return _("hardly goes with NPS")
    if r < 0:
        return _("goes against NPS")
    if size < 0.3:
        return _("goes weakly with NPS")
    if size < 0.5:
        return _("goes clearly with NPS")
    return _("goes strongly with NPS")


def _signal_sentence(signal) -> str:
    values = {
        "since": month_since(dt.date.fromisoformat(f"{signal.since}-01")),
        "before": _number(signal.before, 0),
        "after": _number(signal.after, 0),
    }
    if signal.direction == "down":
        return (
            _(
                "Worse since %(since)s: %(after)s%% of ratings are 4 or 5, down from "
                "%(before)s%% before. That is more than the usual ups and downs."
            )
            % values
        )
    return (
        _(
            "Better since %(since)s: %(after)s%% of ratings are 4 or 5, up from %(before)s%% "
            "before. That is more than the usual ups and downs."
        )
        % values
    )


@dataclasses.dataclass(frozen=True)
class TouchpointFigures:
    """One touchpoint's page for a query string: its filters and scope, the touchpoint and its
    figures (None when no answer in the store rates it yet)."""

    filters: InsightFilters
    scope: Scope
    touchpoint: object
    result: TouchpointResult | None


def touchpoint_figures(request: HttpRequest, pk: int) -> TouchpointFigures:
    """The figures touchpoint ``pk``'s page shows for ``request`` (its user's scope and query
    string); Http404 when there is no such touchpoint."""
    touchpoint = get_object_or_404(touchpoints_with_stage(), pk=pk)
    # All customers unless chosen: a roll-back is a change of how the work is done, and the
    # control chart sees it soonest on every answer about the touchpoint.
    filters, scope = insight_filters(request, target_first=False)
    try:
        result = TouchpointQuery(scope=scope, touchpoint_id=touchpoint.pk).run()
    except ValueError:  # no answer in the store rates it yet
        result = None
    return TouchpointFigures(filters, scope, touchpoint, result)


def touchpoint_charts(shown: TouchpointFigures) -> dict:
    """The touchpoint page's charts: the mean rating by period (``trend``), the control chart
    of the share of ratings 4–5 (``control``; None without one) and how the ratings spread
    (``distribution``); none without ratings. Each point links to its ratings."""
    filters, result = shown.filters, shown.result
    if result is None or not result.n:
        return {}
    ratings = {"touchpoint": shown.touchpoint.pk, "kind": "rating"}
    control = result.control
    return {
        "trend": charts.trend(
            [
                {
                    "period": p.period,
                    "value": p.value,
                    "low": p.low,
                    "high": p.high,
                    "n": p.n,
                    "low_n": p.low_n,
                    "partial": p.partial,
                    "href": _responses_url(filters, **ratings, **_point_params(p)),
                }
                for p in result.mean_by_period
            ],
            title=str(TREND_TITLES[result.grain]),
            y_title=_("Mean rating (1–5)"),
            domain=(1, 5),
        ),
        "control": control
        and charts.control_chart(
            [
                {
                    "period": p.period,
                    "value": p.value,
                    "n": p.n,
                    "low_n": p.low_n,
                    "partial": p.partial,
                    "href": _responses_url(
                        filters,
                        **ratings,
                        since=p.period,
                        until=p.end or None,
                    ),
                }
                for p in control.points
            ],
            control.centre,
            [p.lower for p in control.points],
            [p.upper for p in control.points],
            control.signals,
            title=_("Share of ratings 4–5 by quarter")
            if control.grain == "quarter"
            else _("Share of ratings 4–5 by month"),
            y_title=_("Per cent of ratings 4–5"),
            grain=control.grain,
        ),
        "distribution": charts.distribution(
            [c.n for c in result.distribution],
            labels=[str(c.score) for c in result.distribution],
        ),
    }


@login_required
def touchpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One touchpoint: its score in a sentence, whether it is changing (the control chart, in
    words first), how its ratings spread, how it goes with NPS, the customer's expectation and
    our standard, and the latest comments, each linked to its response."""
    shown = touchpoint_figures(request, pk)
    filters, scope, touchpoint, result = shown.filters, shown.scope, shown.touchpoint, shown.result
    today = timezone.localdate()
    ratings = {"touchpoint": touchpoint.pk, "kind": "rating"}
    # The export names the touchpoint in its query string: its page is one of many.
    export_query = request.GET.copy()
    export_query["touchpoint"] = str(touchpoint.pk)
    context = {
        "filters": filters,
        "touchpoint": touchpoint,
        "result": result,
        "standard": touchpoint.standards.filter(effective_from__lte=today)
        .order_by("-version")
        .first(),
        "responses_href": _responses_url(filters, touchpoint=touchpoint.pk),
        "may_propose": may_propose(request.user),
        "export_query": export_query.urlencode(),
    }
    if result is not None and result.n:
        control = result.control
        signal = control and control.signal_from(scope.since)
        context.update(
            touchpoint_charts(shown),
            ratings_href=_responses_url(filters, **ratings),
            signal=signal,
            signal_text=signal and _signal_sentence(signal),
            signal_href=signal and _responses_url(filters, **ratings, since=f"{signal.since}-01"),
            scores=[
                {
                    "score": c.score,
                    "n": c.n,
                    "href": _responses_url(
                        filters, **ratings, score_min=c.score, score_max=c.score
                    ),
                }
                for c in result.distribution
            ],
            drivers=[
                {
                    "name": names.get(d.segment_id, "") if d.segment_id else _("All in scope"),
                    "driver": d,
                    "words": _link_words(d.r),
                }
                for names in [{s.pk: s.label for s in all_segments()}]
                for d in result.drivers
            ],
            signals=[
                (_month(s.period), RULE_LABELS.get(s.rule, s.description))
                for s in control.rule_signals
            ]
            if control
            else [],
        )
    team_ids = None if scope.team_ids is None else list(scope.team_ids)
    context["comments"] = latest_comments(team_ids, touchpoint.pk, since=scope.since)
    return render(request, "front/touchpoint_detail.html", context)


@dataclasses.dataclass(frozen=True)
class Portfolio:
    """The portfolio page for a query string: its filters, the target segment (None without
    one), the query's result and the customers' names by id."""

    filters: InsightFilters
    target: object
    result: PortfolioResult
    names: dict[int, str]


def portfolio_figures(request: HttpRequest) -> Portfolio:
    """The portfolio the page shows for ``request`` (its user's scope and query string)."""
    filters, scope = insight_filters(request, target_first=False)
    target = target_segments().first()
    result = PortfolioQuery(
        scope=scope,
        today=timezone.localdate(),
        target_segment_id=None if target is None else target.pk,
    ).run()
    names = customer_names([row.customer_id for row in result.customers])
    return Portfolio(filters, target, result, names)


def portfolio_chart(shown: Portfolio) -> dict:
    """The customers with an annual value by that value and their latest NPS answer, each
    linked to their page."""
    return charts.portfolio(
        [
            {
                "name": shown.names.get(row.customer_id, str(row.customer_id)),
                "value": row.annual_value,
                "score": row.score,
                "status": row.status,
                "target": row.target,
                "href": reverse("customer_detail", args=[row.customer_id]),
            }
            for row in shown.result.customers
            if row.annual_value
        ]
    )


@login_required
def portfolio(request: HttpRequest) -> HttpResponse:
    """Customers by annual value against their latest NPS answer; the revenue held by
    detractors and by customers who have gone silent, for the target segment and the rest."""
    shown = portfolio_figures(request)
    filters, target, result, names = shown.filters, shown.target, shown.result, shown.names
    at_risk = sorted(
        (row for row in result.customers if row.status in ("detractor", "silent")),
        key=lambda row: -(row.annual_value or 0),
    )[:20]
    detractors = _responses_url(filters, kind="nps", band="detractor")
    context = {
        "filters": filters,
        "result": result,
        "target": target,
        "totals": [
            {"risk": risk, "sign": CURRENCY_SIGNS.get(risk.currency, risk.currency)}
            for risk in result.overall
        ],
        "detractors_href": detractors,
        "groups": [
            {
                "label": label,
                "risk": risk,
                "sign": CURRENCY_SIGNS.get(risk.currency, risk.currency),
            }
            for label, risks in (
                (_("All customers"), result.overall),
                *(
                    [(target.label, result.target), (_("Other customers"), result.rest)]
                    if target is not None
                    else []
                ),
            )
            for risk in risks
        ],
        "chart": portfolio_chart(shown),
        "at_risk": [
            {
                "name": names.get(row.customer_id, ""),
                "row": row,
                "status": charts.status_label(row.status),
                "sign": CURRENCY_SIGNS.get(row.currency, row.currency),
            }
            for row in at_risk
        ],
    }
    return render(request, "front/portfolio.html", context)
