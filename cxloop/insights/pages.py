"""The analytical pages' questions, asked once for every face that asks them: the pages
(:mod:`cxloop.front`), the JSON API (:mod:`cxloop.api`) and the analyst's notebook
(:mod:`cxloop.notebook`). Each returns the typed query the page runs, so that the three get
the same numbers from the same code: the default period, the scope a viewer's role allows,
the journey map of a journey, a comparison, a scorecard's figures.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from cxloop.customers.queries import target_segments
from cxloop.insights import accountability
from cxloop.insights.accountability import Figure
from cxloop.insights.dashboards import ComparisonQuery
from cxloop.insights.journey import JourneyMapQuery, journey_of
from cxloop.insights.store import Scope
from cxloop.journeys.queries import journey_touchpoints
from cxloop.people.queries import subtree_ids, visible_team_ids

DEFAULT_MONTHS = 12  # the pages' default period: this month and the eleven before it

__all__ = [
    "DEFAULT_MONTHS",
    "ScorecardFigures",
    "comparison_query",
    "default_since",
    "journey_map_query",
    "scorecard_figures",
    "target_segment_id",
    "viewer_scope",
]


def default_since(today: dt.date) -> dt.date:
    """The first day of the default period: whole months, so that the pages read the fact
    store's pre-counted months and the journey map fits its drivers on every response
    (docs/decisions/022), where a year back to the day starts inside a month."""
    index = today.year * 12 + today.month - DEFAULT_MONTHS
    return dt.date(index // 12, index % 12 + 1, 1)


def viewer_scope(
    user,
    *,
    since: dt.date | None,
    until: dt.date | None,
    segment_id: int | None = None,
    team_id: int | None = None,
) -> Scope:
    """The scope of a page for ``user`` (None: the whole organisation, as an analyst with the
    data directory sees it): the period and segment chosen, and the teams the role shows —
    narrowed to ``team_id`` and the teams below it where one is chosen. The caller checks that
    the chosen team is one the user may see (the pages' filter form offers only those)."""
    team_ids = None if user is None else visible_team_ids(user)
    if team_id is not None:
        chosen = subtree_ids(team_id)
        team_ids = chosen if team_ids is None else [t for t in chosen if t in team_ids]
    return Scope(since=since, until=until, segment_id=segment_id, team_ids=team_ids)


def target_segment_id() -> int | None:
    """The target segment's id (the journey map's default segment and its opportunities'
    "why"); None when no segment is the target."""
    target = target_segments().first()
    return None if target is None else target.pk


def journey_map_query(journey, scope: Scope) -> JourneyMapQuery:
    """The journey map's query of ``journey`` (an active journey from
    :func:`cxloop.journeys.queries.active_journeys`, its stages and touchpoints prefetched in
    map order) for ``scope``, as the journey map page runs it."""
    touchpoints = {tp.pk: tp for stage in journey.stages.all() for tp in stage.touchpoints.all()}
    return JourneyMapQuery(
        touchpoint_stages=journey_of((tp.pk, tp.stage_id) for tp in touchpoints.values()),
        scope=scope,
        target_segment_id=target_segment_id(),
    )


def comparison_query(
    scope: Scope, *, by: str, metric: str, grain: str, touchpoint_id: int | None = None
) -> ComparisonQuery:
    """The comparison page's query: segments are each compared with the rest, so the scope's
    own segment is dropped; a rating is of ``touchpoint_id``, by default the first touchpoint
    of the active journeys. ValueError naming the parameter for a touchpoint that is not one
    of theirs, or a rating without any touchpoint."""
    if by == "segment":
        scope = dataclasses.replace(scope, segment_id=None)  # every segment against the rest
    if metric == "rating":
        touchpoints = [tp.pk for tp in journey_touchpoints()]
        if touchpoint_id is None and touchpoints:
            touchpoint_id = touchpoints[0]
        if touchpoint_id not in touchpoints:
            raise ValueError(
                f"touchpoint: {touchpoint_id!r} is not a touchpoint of the active journeys"
            )
    else:
        touchpoint_id = None
    return ComparisonQuery(
        scope=scope, by=by, metric=metric, touchpoint_id=touchpoint_id, grain=grain
    )


@dataclass(frozen=True)
class ScorecardFigures:
    """A scorecard's figures: every metric over the weigh-in's window ending ``until``, and the
    same a week before (``before``), by metric key."""

    since: dt.date
    until: dt.date
    now: dict[str, Figure]
    before: dict[str, Figure]


def scorecard_figures(*, until: dt.date, team_id=None, employee_id=None) -> ScorecardFigures:
    """A team's (``team_id``) or a person's (``employee_id``) scorecard figures as the
    scorecard pages show them: the weigh-in's window ending ``until`` and a week before."""
    if (team_id is None) == (employee_id is None):
        raise ValueError("name either team_id or employee_id")
    of = accountability.team_figures if team_id is not None else accountability.person_figures
    pk = team_id if team_id is not None else employee_id
    since = accountability.weigh_in_scope(until).since
    week = dt.timedelta(days=7)
    return ScorecardFigures(
        since=since,
        until=until,
        now=of([pk], since=since, until=until)[pk],
        before=of([pk], since=since - week, until=until - week)[pk],
    )
