"""The journey map: a heat map of the touchpoints, what changed, and where improving matters.

Composition only: the numbers come from :class:`cxloop.insights.journey.JourneyMapQuery`, asked
as :func:`cxloop.insights.pages.journey_map_query` asks it for the API and notebook too (scores,
signals, changes, opportunities), the charts from :mod:`cxloop.insights.charts`; this module
picks each card's colour class and the links to the evidence.
"""

from __future__ import annotations

import datetime as dt
import statistics

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from cxloop.cases.choices import OPEN_STATES
from cxloop.comments.queries import themes
from cxloop.customers.queries import target_segments
from cxloop.front.insight_views import insight_filters
from cxloop.front.loop_views import widest_case_tab
from cxloop.improvements.queries import latest_rollback_alerts, may_propose
from cxloop.insights import charts
from cxloop.insights.loop import touchpoint_cases
from cxloop.insights.negative_themes import TopComplaintQuery
from cxloop.insights.pages import journey_map_query
from cxloop.journeys.queries import active_journeys
from cxloop.people.queries import subtree_ids

# How far (rating points) a touchpoint's whole interval must lie from the journey's reference
# for the darkest colours: nearer than that, a significant difference is a lighter shade.
FAR = 0.3


def score_class(score, reference: float | None) -> str:
    """The card's colour: ``cx-score-3`` while the 95 % interval holds the reference (the
    journey's target or median), 2/4 when the whole interval is below/above it, 1/5 when it is
    more than :data:`FAR` beyond it; ``cx-score-none`` without a score. A colour never claims
    a difference that the interval does not show."""
    if score is None or reference is None:
        return "cx-score-none"
    if score.high < reference - FAR:
        return "cx-score-1"
    if score.high < reference:
        return "cx-score-2"
    if score.low > reference + FAR:
        return "cx-score-5"
    if score.low > reference:
        return "cx-score-4"
    return "cx-score-3"


def chosen_journey(request: HttpRequest):
    """The active journey ``journey`` names (the first when none is named; 404 for another id),
    None when there is no active journey."""
    journeys = list(active_journeys())
    if not journeys:
        return None
    wanted = request.GET.get("journey")
    if wanted is None:
        return journeys[0]
    for journey in journeys:
        if str(journey.pk) == wanted:
            return journey
    raise Http404


def _stage_labels(stages) -> list[str]:
    """Stage names for the emotion curve's axis, which must be distinct (equal names would
    merge into one point): an empty or repeated name gets the stage's number beside it."""
    names = [stage.name for stage in stages]
    return [
        f"{name} ({stage.order})".strip() if not name or names.count(name) > 1 else name
        for name, stage in zip(names, stages, strict=True)
    ]


def _evidence(scope, filters, touchpoint_id: int) -> str:
    """The response list behind a card: its touchpoint's ratings in the page's period,
    segment and team (the response list's query-string contract)."""
    params = {"touchpoint": touchpoint_id, "kind": "rating", **_period_params(scope)}
    if filters.is_valid():
        if filters.segment_id is not None:
            params["segment"] = filters.segment_id
        if filters.team_id is not None:
            params["team"] = filters.team_id
    return f"{reverse('response_list')}?{urlencode(params)}"


def _complaint(scope, filters, found, names: dict[int, str]) -> dict | None:
    """The card's top complaint: the theme of the most negative comments about the touchpoint,
    linked to those comments in the explorer."""
    if found is None or found.theme_id not in names:
        return None
    params = {
        "touchpoint": found.touchpoint_id,
        "theme": found.theme_id,
        "sentiment": "negative",
        **_period_params(scope),
    }
    if filters.is_valid():
        if filters.segment_id is not None:
            params["segment"] = filters.segment_id
        if filters.team_id is not None:
            params["team"] = filters.team_id
    return {
        "theme": names[found.theme_id],
        "comments": found.comments,
        "negative": found.negative,
        "href": f"{reverse('comment_list')}?{urlencode(params)}",
    }


def _month(value: str | None) -> dt.date | None:
    """A "YYYY-MM" month as its first day, for the template's YEAR_MONTH_FORMAT."""
    return None if not value else dt.date.fromisoformat(f"{value}-01")


def _sparkline(trend, grain: str, evidence: str) -> dict:
    """The card's rating per period at the map's rhythm; each point links to its period's
    responses (the card's evidence narrowed to the period's months)."""
    points = []
    for p in trend:
        first = dt.date.fromisoformat(f"{p.month}-01")
        step = 3 if grain == "quarter" else 1
        index = first.year * 12 + first.month - 1 + step
        last = dt.date(index // 12, index % 12 + 1, 1) - dt.timedelta(days=1)
        points.append(
            {
                "period": first.isoformat(),
                "value": None if p.score is None else p.score.value,
                "n": p.n,
                "low_n": p.low_n,
                "partial": p.partial,
                "href": _narrowed(evidence, first, last),
            }
        )
    return charts.sparkline(points, grain=grain)


def _narrowed(evidence: str, first: dt.date, last: dt.date) -> str:
    """``evidence`` (a response-list link) with since/until narrowed to first..last."""
    path, _, query = evidence.partition("?")
    params = dict(QueryDict(query).items())
    since = max(first, dt.date.fromisoformat(params["since"])) if "since" in params else first
    until = min(last, dt.date.fromisoformat(params["until"])) if "until" in params else last
    params.update(since=since.isoformat(), until=until.isoformat())
    return f"{path}?{urlencode(params)}"


@login_required
def journey_map(request: HttpRequest) -> HttpResponse:
    """Stages with their touchpoints as a heat map, what changed in the period, the emotion
    curve and the ranked opportunities, for the chosen period, segment and team."""
    filters, scope = insight_filters(request)
    journey = chosen_journey(request)
    if journey is None:
        return render(request, "front/journey_map.html", {"filters": filters, "journey": None})
    stages = list(journey.stages.all())
    touchpoints = {tp.pk: tp for stage in stages for tp in stage.touchpoints.all()}
    target = target_segments().first()
    result = journey_map_query(journey, scope).run()
    scored = [c.score.value for c in result.cards if c.score is not None and not c.low_n]
    median = statistics.median(scored) if scored else None
    reference = result.opportunities[0].target if result.opportunities else median
    opportunity_of = {o.touchpoint_id: o for o in result.opportunities}
    query = request.GET.urlencode()
    # The loop on each card: the cases the viewer sees (of the chosen team), live, not cached.
    team_param = {"team": filters.team_id} if filters.team_id is not None else {}
    cases = touchpoint_cases(
        request.user,
        since=scope.since,
        until=scope.until,
        now=timezone.now(),
        team_ids=tuple(subtree_ids(filters.team_id)) if filters.team_id is not None else None,
    )
    complaints = TopComplaintQuery(scope=scope).run()
    theme_names = {theme.pk: theme.name for theme in themes()}
    # The roll-back watch's alerts whose case is still open: a badge linking to the case.
    rollbacks = latest_rollback_alerts(touchpoints, case_states=OPEN_STATES)
    columns = [
        {
            "stage": stage,
            "cards": [
                {
                    "touchpoint": tp,
                    "card": result.card(tp.pk),
                    "colour": score_class(result.card(tp.pk).score, reference),
                    "share": (
                        None
                        if result.card(tp.pk).importance_share is None
                        else 100.0 * result.card(tp.pk).importance_share
                    ),
                    "opportunity": opportunity_of.get(tp.pk),
                    "quadrant": charts.quadrant_label(result.card(tp.pk).quadrant)
                    if result.card(tp.pk).quadrant
                    else None,
                    "href": f"{reverse('touchpoint_detail', args=[tp.pk])}?{query}",
                    "evidence": _evidence(scope, filters, tp.pk),
                    "sparkline": _sparkline(
                        result.card(tp.pk).trend,
                        result.grain,
                        _evidence(scope, filters, tp.pk),
                    ),
                    "since": _month(result.card(tp.pk).signal and result.card(tp.pk).signal.since),
                    "cases": cases.get(tp.pk),
                    "rollback": rollbacks.get(tp.pk),
                    "complaint": _complaint(scope, filters, complaints.get(tp.pk), theme_names),
                }
                for tp in stage.touchpoints.all()
            ],
        }
        for stage in stages
    ]
    changes = [
        {
            "change": change,
            "touchpoint": touchpoints.get(change.touchpoint_id),
            "size": abs(change.after - change.before),
            "since": _month(change.since),
        }
        for change in result.changes
        if change.touchpoint_id is None or change.touchpoint_id in touchpoints
    ]
    opportunities = [
        {
            "item": o,
            "touchpoint": touchpoints[o.touchpoint_id],
            "quadrant": charts.quadrant_label(o.quadrant),
            "href": f"{reverse('touchpoint_detail', args=[o.touchpoint_id])}?{query}",
            "gap": abs(o.gap),
        }
        for o in result.opportunities
    ]
    context = {
        "filters": filters,
        "journey": journey,
        "result": result,
        "columns": columns,
        "curve": emotion_curve_chart(stages, result),
        "changes": changes,
        "opportunities": opportunities,
        "top_opportunities": opportunities[:5],
        "grid": opportunity_grid_chart(result, touchpoints, scope, filters),
        "target": target,
        "reference": reference,
        "reference_is_target": bool(result.opportunities),
        "case_tab": widest_case_tab(request.user),
        # The cards' case links narrowed as their counts are: the open cases by the map's team,
        # the top root cause by its period too.
        "cases_of_team": urlencode(team_param),
        "cases_of_period": urlencode({**team_param, **_period_params(scope)}),
        # "Start an initiative" on each card and opportunity, for those who may propose one.
        "may_propose": may_propose(request.user),
    }
    return render(request, "front/journey_map.html", context)


def emotion_curve_chart(stages: list, result) -> dict:
    """The map's emotion curve: the mean score of each of the journey's ``stages`` that has
    touchpoints, in their order, from the map's ``result`` (a JourneyMapQuery's)."""
    # A stage without touchpoints yet (just added in the admin) is a column but no point.
    point_of = {point.stage_id: point for point in result.stages}
    curved = [stage for stage in stages if stage.pk in point_of]
    points = [point_of[stage.pk] for stage in curved]
    return charts.emotion_curve(
        [
            {
                "stage": label,
                **(
                    {"value": point.score.value, "low": point.score.low, "high": point.score.high}
                    if point.score is not None
                    else {"value": None, "low": None, "high": None}
                ),
                "n": point.n,
            }
            for label, point in zip(_stage_labels(curved), points, strict=True)
        ]
    )


def opportunity_grid_chart(result, touchpoints: dict, scope, filters) -> dict | None:
    """The map's importance–performance grid of the ranked opportunities (``touchpoints`` by
    id), each point linked to its ratings in the page's period, segment and team; None when
    nothing is ranked."""
    if not result.opportunities:
        return None
    return charts.quadrant(
        [
            {
                "name": touchpoints[o.touchpoint_id].name,
                "performance": o.performance,
                "importance": o.importance,
                "href": _evidence(scope, filters, o.touchpoint_id),
            }
            for o in result.opportunities
        ],
        x_title=_("Mean rating (1–5)"),
        y_title=_("Importance (share of what drives NPS)"),
        x_split=result.opportunities[0].target,
        y_split=1 / len(result.opportunities),
    )


def _period_params(scope) -> dict[str, str]:
    return {
        name: day.isoformat()
        for name, day in (("since", scope.since), ("until", scope.until))
        if day is not None
    }
