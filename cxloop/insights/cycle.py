"""The cycle review (issue #12, point 5): what one period of the improvement cycle did and what
comes next, gathered for a page and its printed copy.

:func:`cycle_review` reads, for the cases, initiatives and teams a user sees:

* the initiatives finished in the period with their measured effect against their targets
  (:func:`cxloop.insights.initiatives.initiative_effect`), and those in progress during it
  (started by its end, not abandoned before it, not done by its end) with their overdue
  action items;
* the roll-back alerts of the period with the state of the case each opened;
* the closed loop's figures and root causes (:class:`cxloop.insights.loop.LoopQuery`);
* the next top opportunities for the target segment, from the journey map's ranking
  (:class:`cxloop.insights.journey.JourneyMapQuery`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cxloop.customers.queries import target_segments
from cxloop.improvements.choices import InitiativeState
from cxloop.improvements.queries import (
    InitiativeFilter,
    initiatives_matching,
    rollback_alerts,
    visible_decisions,
    visible_initiatives,
)
from cxloop.insights import charts
from cxloop.insights.decisions import decisions_worse_than_expected
from cxloop.insights.initiatives import InitiativeEffect, initiative_effect
from cxloop.insights.journey import JourneyMapQuery, RankedOpportunity, journey_of
from cxloop.insights.loop import LoopQuery, LoopResult
from cxloop.insights.store import Scope
from cxloop.journeys.queries import active_journeys, journey_touchpoints
from cxloop.people.choices import Role
from cxloop.people.queries import employee_of, role_of, visible_team_ids

__all__ = [
    "TOP_OPPORTUNITIES",
    "allowed_reviewer",
    "CycleReview",
    "FinishedInitiative",
    "cycle_review",
    "last_complete_quarter",
    "period_of",
    "quarter_of",
    "recent_quarters",
    "review_context",
]

# The longest period a review covers: two years (a longer one is not a cycle).
MAX_DAYS = 731
# The days a period may name: those cxloop computes with (cxloop.front.forms.plausible_date).
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2200, 12, 31)

# How many of the journey map's ranked opportunities the review proposes for the next cycle.
TOP_OPPORTUNITIES = 5


def allowed_reviewer(user) -> bool:
    """Who sees a cycle review: the CX lead, executives and viewers (all of it) and managers
    (their part); not employees, nor anyone without an employee record but a superuser."""
    if employee_of(user) is None and not user.is_superuser:
        return False
    return role_of(user) != Role.EMPLOYEE


def quarter_of(day: dt.date) -> tuple[dt.date, dt.date]:
    """The first and last day of the calendar quarter holding ``day``."""
    first_month = 3 * ((day.month - 1) // 3) + 1
    since = dt.date(day.year, first_month, 1)
    next_since = (
        dt.date(day.year + 1, 1, 1) if first_month == 10 else dt.date(day.year, first_month + 3, 1)
    )
    return since, next_since - dt.timedelta(days=1)


def last_complete_quarter(today: dt.date) -> tuple[dt.date, dt.date]:
    """The last quarter that ended before ``today``."""
    since, _until = quarter_of(today)
    return quarter_of(since - dt.timedelta(days=1))


def recent_quarters(today: dt.date, count: int = 8) -> list[tuple[dt.date, dt.date]]:
    """The current quarter and the ``count - 1`` before it, latest first."""
    quarters = [quarter_of(today)]
    while len(quarters) < count:
        quarters.append(quarter_of(quarters[-1][0] - dt.timedelta(days=1)))
    return quarters


@dataclass(frozen=True)
class FinishedInitiative:
    """An initiative done in the period, with its effect as of the review's day."""

    initiative: Any
    effect: InitiativeEffect


@dataclass(frozen=True)
class CycleReview:
    """The parts of a cycle review for ``since``–``until`` (inclusive days)."""

    since: dt.date
    until: dt.date
    finished: tuple[FinishedInitiative, ...]
    in_progress: tuple[Any, ...]
    alerts: tuple[Any, ...]
    loop: LoopResult
    opportunities: tuple[RankedOpportunity, ...]
    # The segment the opportunities are ranked for (the first target segment), which an
    # initiative started from them is scoped to; None: no target, everyone.
    target_segment: Any = None


def _opportunities(user, since: dt.date, until: dt.date, target) -> tuple[RankedOpportunity, ...]:
    """The journey map's top opportunities of the first active journey for the target segment
    (the map's own ranking: its weighting by the target segment's importance), over the teams
    the user sees."""
    journey = active_journeys().first()
    if journey is None:
        return ()
    pairs = [(tp.pk, stage.pk) for stage in journey.stages.all() for tp in stage.touchpoints.all()]
    if not pairs:
        return ()
    team_ids = visible_team_ids(user)
    result = JourneyMapQuery(
        touchpoint_stages=journey_of(pairs),
        scope=Scope(
            since=since, until=until, team_ids=None if team_ids is None else tuple(team_ids)
        ),
        target_segment_id=None if target is None else target.pk,
    ).run()
    return tuple(result.opportunities[:TOP_OPPORTUNITIES])


def cycle_review(
    user, *, since: dt.date, until: dt.date, today: dt.date, now: dt.datetime
) -> CycleReview:
    """The review of the period as ``user`` may see it (a manager: their part)."""
    if since > until:
        raise ValueError("the period ends before it starts")
    initiatives = visible_initiatives(user)
    finished = (
        initiatives.filter(
            state=InitiativeState.DONE,
            finished_at__date__gte=since,
            finished_at__date__lte=until,
        )
        .prefetch_related("touchpoints")
        .order_by("finished_at", "pk")
    )
    # In progress during the period: started on or before its last day, neither abandoned
    # before its first day nor done by its last (one done in it is among the finished above).
    in_progress = (
        # Their action items overdue as of the period's last day (or today, for this one).
        initiatives_matching(user, InitiativeFilter(), today=min(today, until))
        .filter(started_at__date__lte=until)
        .exclude(finished_at__date__lte=until)
        .exclude(abandoned_at__date__lt=since)
        .prefetch_related("touchpoints")
        .select_related("owner__user")
    )
    alerts = rollback_alerts(since, until).filter(initiative__in=initiatives.values("pk"))
    target = target_segments().first()
    return CycleReview(
        since=since,
        until=until,
        finished=tuple(
            FinishedInitiative(initiative=i, effect=initiative_effect(i, today=today))
            for i in finished
        ),
        in_progress=tuple(in_progress),
        alerts=tuple(alerts),
        loop=LoopQuery(since=since, until=until, now=now).run(user),
        opportunities=_opportunities(user, since, until, target),
        target_segment=target,
    )


def quarter_key(since: dt.date) -> str:
    """A quarter's name in the query string: "2026-Q3"."""
    return f"{since.year}-Q{(since.month - 1) // 3 + 1}"


def _day(text: str) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        return None
    return day if EARLIEST <= day <= LATEST else None


def period_of(params, today: dt.date) -> tuple[dt.date, dt.date, dict[str, str]]:
    """The period a query string asks for (``since`` and ``until`` days, else ``quarter`` as
    "2026-Q3" among :func:`recent_quarters`, else the last complete quarter) and the errors of
    its fields by name; with errors, the period is the last complete quarter."""
    default = last_complete_quarter(today)
    errors: dict[str, str] = {}
    raw = {name: (params.get(name) or "").strip() for name in ("since", "until", "quarter")}
    days = {}
    for name in ("since", "until"):
        if raw[name]:
            days[name] = _day(raw[name])
            if days[name] is None:
                errors[name] = _("Enter a valid date.")
    if errors:
        return (*default, errors)
    if len(days) == 1:
        missing = "until" if "since" in days else "since"
        errors[missing] = _("Give both days of the period, or choose a quarter.")
        return (*default, errors)
    if days:
        since, until = days["since"], days["until"]
        if since > until:
            errors["until"] = _("The period ends before it starts.")
        elif (until - since).days > MAX_DAYS:
            errors["until"] = _("A review covers at most two years.")
        return (*default, errors) if errors else (since, until, errors)
    if raw["quarter"]:
        quarters = {quarter_key(s): (s, u) for s, u in recent_quarters(today)}
        if raw["quarter"] not in quarters:
            errors["quarter"] = _("Choose one of the quarters listed.")
            return (*default, errors)
        return (*quarters[raw["quarter"]], errors)
    return (*default, errors)


def _chart(review: CycleReview, names: dict) -> dict:
    """The loop's share contacted within the SLA by touchpoint, with its interval."""
    groups = [
        {
            "name": names.get(row.key, "—"),
            "value": row.figures.in_time.value,
            "low": row.figures.in_time.low,
            "high": row.figures.in_time.high,
            "n": row.figures.decided,
            "significant": False,
        }
        for row in review.loop.by_touchpoint
        if row.key is not None and row.figures.in_time is not None
    ]
    return charts.comparison(groups, x_title=_("Contacted within the SLA, %"))


def review_context(
    user, *, since: dt.date, until: dt.date, today: dt.date, now: dt.datetime
) -> dict[str, Any]:
    """What the page and the PDF both show (front/cycle/includes/figures.html): the review,
    its loop figures with the touchpoints' names, the opportunities and the chart."""
    review = cycle_review(user, since=since, until=until, today=today, now=now)
    names = {tp.pk: tp.name for tp in journey_touchpoints()}
    readable = set(visible_decisions(user).values_list("pk", flat=True))
    return {
        "review": review,
        # Decisions in force in the period whose measured effect was worse than expected.
        "worse_decisions": [
            {"decision": decision, "effect": effect}
            for decision, effect in decisions_worse_than_expected(since, until, today=today)
            if decision.pk in readable
        ],
        "since": since,
        "until": until,
        "total": review.loop.total,
        "causes": [
            {"touchpoint": names.get(item.touchpoint_id, "—"), "item": item}
            for item in review.loop.root_causes
        ],
        "opportunities": [
            {"item": o, "touchpoint": names.get(o.touchpoint_id, "—")} for o in review.opportunities
        ],
        "chart": _chart(review, names),
        "title": _("Cycle review"),
        "subtitle": _("%(since)s to %(until)s")
        % {
            "since": date_format(since, "SHORT_DATE_FORMAT"),
            "until": date_format(until, "SHORT_DATE_FORMAT"),
        },
    }
