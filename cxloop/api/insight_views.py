"""The analytics already on pages, as JSON: the journey map, comparisons and scorecards.

Each endpoint asks the page's own question (:mod:`cxloop.insights.pages`) with the page's
filters and defaults, scoped as the page is for the token's employee: the teams their role
shows (a manager their part of the hierarchy, an employee their own team), a scorecard only
where the page would show it (404 otherwise). A filter that the page's form would refuse is
refused here with 422 and a message naming the parameter.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Schema
from ninja.errors import HttpError
from pydantic import BeforeValidator

from cxloop.api import auth
from cxloop.api.schemas import Error, InvalidRequest, RowId
from cxloop.api.views import UNAUTHORIZED, api
from cxloop.customers.queries import all_segments
from cxloop.insights.accountability import METRICS as SCORECARD_METRICS
from cxloop.insights.dashboards import BY, METRICS
from cxloop.insights.dashboards._scores import GRAINS
from cxloop.insights.pages import (
    comparison_query,
    default_since,
    journey_map_query,
    scorecard_figures,
    target_segment_id,
    viewer_scope,
)
from cxloop.insights.store import Scope
from cxloop.journeys.queries import active_journeys
from cxloop.lib.params import ParamError, check_date
from cxloop.people.queries import scorecard_people, scorecard_teams, visible_teams

INVALID = {422: Error | InvalidRequest}
# The earliest "week ending" day of a scorecard, as on the scorecard pages.
SCORECARD_EARLIEST = dt.date(2000, 1, 1)


def _iso_day(value: object) -> object:
    # pydantic would also read a number as days since 1970; the API takes only YYYY-MM-DD.
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("expected a date as YYYY-MM-DD")
    return value


# A day as YYYY-MM-DD, as the pages' date fields take it.
Day = Annotated[dt.date, BeforeValidator(_iso_day)]


class InsightFilters(Schema):
    """The filters of every analytical page."""

    since: Day | None = Field(
        None,
        description="First day (YYYY-MM-DD, inclusive). Default: the first day of the month "
        "eleven months back, as on the pages.",
    )
    until: Day | None = Field(None, description="Last day (inclusive). Default: open.")
    segment: str | None = Field(
        None,
        description="A segment's id, or `all` for every customer. Default: the target segment "
        "on the journey map, every customer elsewhere.",
        max_length=20,
    )
    team: RowId | None = Field(
        None, description="A team you may see: it and the teams below it. Default: every team "
        "you may see."
    )  # fmt: skip


class JourneyMapFilters(InsightFilters):
    journey: RowId | None = Field(None, description="An active journey. Default: the first.")


class CompareFilters(InsightFilters):
    by: Literal[BY] = "segment"
    metric: Literal[METRICS] = "nps"
    grain: Literal[GRAINS] = Field("month", description="The periods compared when `by=period`.")
    touchpoint: RowId | None = Field(
        None,
        description="For `metric=rating`: a touchpoint of the active journeys. Default: the first.",
    )


class ScorecardFilters(Schema):
    until: Day | None = Field(
        None, description="The week's last day (the weigh-in's window ends on it). Default: today."
    )


class JourneyMapOut(Schema):
    journey_id: int
    journey_name: str
    touchpoints: dict[int, str] = Field(description="The journey's touchpoints, by id.")
    result: dict[str, Any] = Field(
        description="The journey map page's figures: `cards` (per touchpoint: `n`, `score`, "
        "`top_box`, `nps`, `importance`, `opportunity`, `trend`, `signal`, `change`), "
        "`stages`, `opportunities`, `nps`, `nps_trend`, `changes`, `drivers` and the `scope` "
        "they are of. Every estimate is `{value, low, high, n}` at 95 %."
    )


class CompareOut(Schema):
    scope: dict[str, Any]
    result: dict[str, Any] | None = Field(
        description="The comparison page's figures: `overall`, and `groups` with their "
        "`estimate`, `reference`, `difference`, `q_value` and `significant`; null when no "
        "answer rates the touchpoint yet."
    )


class ScorecardFigure(Schema):
    key: str
    value: float | None
    n: int
    low: float | None
    high: float | None
    shrunk: float | None
    before: float | None = Field(description="The same figure a week before.")
    higher_is_better: bool


class ScorecardOut(Schema):
    since: dt.date
    until: dt.date
    figures: list[ScorecardFigure]


def _scope(request: HttpRequest, filters: InsightFilters, *, target_first: bool) -> Scope:
    """The page's scope of these filters for the token's employee; HttpError 422 naming the
    parameter that the page's filter form would refuse."""
    user = request.auth.employee.user
    for name in ("since", "until"):
        value = getattr(filters, name)
        if value is not None:
            try:
                check_date(name, value)
            except ParamError as error:
                raise HttpError(422, str(error)) from None
    since = filters.since or default_since(timezone.localdate())
    if filters.until is not None and since > filters.until:
        raise HttpError(422, f"until: the period ends ({filters.until}) before it starts ({since})")
    if filters.segment is None:
        segment_id = target_segment_id() if target_first else None
    elif filters.segment == "all":
        segment_id = None
    elif (
        re.fullmatch(r"[0-9]{1,18}", filters.segment)
        and all_segments().filter(pk=int(filters.segment)).exists()
    ):
        segment_id = int(filters.segment)
    else:
        raise HttpError(422, f"segment: {filters.segment!r} is neither a segment's id nor 'all'")
    if filters.team is not None and not visible_teams(user).filter(pk=filters.team).exists():
        # Another team's id is answered as one that does not exist.
        raise HttpError(422, f"team: {filters.team} is not a team you may see")
    return viewer_scope(
        user, since=since, until=filters.until, segment_id=segment_id, team_id=filters.team
    )


@api.get(
    "/insights/journey-map",
    response={200: JourneyMapOut, 404: Error, **INVALID, **UNAUTHORIZED},
    auth=auth.read,
    tags=["insights"],
    summary="The journey map's figures",
    operation_id="journey_map",
)
def journey_map(request: HttpRequest, filters: Query[JourneyMapFilters]):
    """Every touchpoint's score, top box, NPS, importance and opportunity, the stages, what
    changed: the figures of the journey map page for the same filters (the target segment
    unless `segment` says otherwise), of the customers of the teams you may see."""
    scope = _scope(request, filters, target_first=True)
    journeys = list(active_journeys())
    if filters.journey is None:
        journey = journeys[0] if journeys else None
    else:
        journey = next((j for j in journeys if j.pk == filters.journey), None)
    if journey is None:
        raise HttpError(404, f"journey: {filters.journey or '(any)'} is not an active journey")
    result = journey_map_query(journey, scope).run()
    return {
        "journey_id": journey.pk,
        "journey_name": journey.name,
        "touchpoints": {
            tp.pk: tp.name for stage in journey.stages.all() for tp in stage.touchpoints.all()
        },
        "result": result.to_dict(),
    }


@api.get(
    "/insights/compare",
    response={200: CompareOut, **INVALID, **UNAUTHORIZED},
    auth=auth.read,
    tags=["insights"],
    summary="Segments, teams or periods compared",
    operation_id="compare",
)
def compare(request: HttpRequest, filters: Query[CompareFilters]):
    """Each segment, team or period on one metric with its interval, against the rest (periods:
    the period before), significance after Benjamini–Hochberg: the comparison page's figures
    for the same filters, of the customers of the teams you may see."""
    scope = _scope(request, filters, target_first=False)
    try:
        query = comparison_query(
            scope,
            by=filters.by,
            metric=filters.metric,
            grain=filters.grain,
            touchpoint_id=filters.touchpoint,
        )
    except ValueError as error:
        raise HttpError(422, str(error)) from None
    try:
        result = query.run()
    except ValueError:  # no answer in the store rates this touchpoint yet, as the page says
        result = None
    return {
        "scope": query.scope.to_dict(),
        "result": None if result is None else result.to_dict(),
    }


def _scorecard(filters: ScorecardFilters, **subject) -> dict:
    today = timezone.localdate()
    until = filters.until or today
    if not SCORECARD_EARLIEST <= until <= today:
        raise HttpError(
            422, f"until: choose a day from {SCORECARD_EARLIEST.isoformat()} to today, got {until}"
        )
    figures = scorecard_figures(until=until, **subject)
    return {
        "since": figures.since,
        "until": figures.until,
        "figures": [
            {
                "key": metric.key,
                "value": figures.now[metric.key].value,
                "n": figures.now[metric.key].n,
                "low": figures.now[metric.key].low,
                "high": figures.now[metric.key].high,
                "shrunk": figures.now[metric.key].shrunk,
                "before": figures.before[metric.key].value,
                "higher_is_better": metric.higher_is_better,
            }
            for metric in SCORECARD_METRICS
        ],
    }


@api.get(
    "/scorecards/teams/{team_id}",
    response={200: ScorecardOut, 404: Error, **INVALID, **UNAUTHORIZED},
    auth=auth.read,
    tags=["scorecards"],
    summary="A team's scorecard",
    operation_id="team_scorecard",
)
def team_scorecard(request: HttpRequest, team_id: RowId, filters: Query[ScorecardFilters]):
    """The team's figures over the weigh-in's window ending `until`, and a week before, as on
    its scorecard page; 404 for a team whose scorecard you may not see (an employee sees
    none, a manager those of their part of the hierarchy)."""
    if not scorecard_teams(request.auth.employee.user).filter(pk=team_id).exists():
        raise HttpError(404, f"team {team_id} has no scorecard you may see")
    return _scorecard(filters, team_id=team_id)


@api.get(
    "/scorecards/people/{employee_id}",
    response={200: ScorecardOut, 404: Error, **INVALID, **UNAUTHORIZED},
    auth=auth.read,
    tags=["scorecards"],
    summary="A person's scorecard",
    operation_id="person_scorecard",
)
def person_scorecard(request: HttpRequest, employee_id: RowId, filters: Query[ScorecardFilters]):
    """The person's figures over the weigh-in's window ending `until`, and a week before, as on
    their scorecard page; 404 for a person whose scorecard you may not see (an employee sees
    their own)."""
    if not scorecard_people(request.auth.employee.user).filter(pk=employee_id).exists():
        raise HttpError(404, f"employee {employee_id} has no scorecard you may see")
    return _scorecard(filters, employee_id=employee_id)
