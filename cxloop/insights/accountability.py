"""What counts for whom (issue #13): the one definition of every figure a scorecard, a reward
plan, the weekly digest and the executive dashboard show of a person or a team.

Whose customers' answers count is the weigh-in's (:mod:`cxloop.insights.dashboards.leaderboard`): a
**person**'s are the answers of the customers they own now, a **team**'s those of the customers its
people owned when the month was written; the NPS is shrunk exactly as the weigh-in ranks it (the
same query), CSAT toward every group's level (:func:`cxloop.analytics.shrink_proportions`). A
team's touchpoint NPS is that of the answers about the touchpoints it owns; a person carries their
team's. The closed loop counts the cases a person owns, or those of the team (the case's team),
opened in the period, with the loop page's definitions (:mod:`cxloop.insights.loop`). Initiatives
count when done in the period (the person's own, the team's); action items, meetings with customers
and training are those of the person, or summed over the team's own people. The team's eNPS comes
from the pulse surveys, withheld under five answers (:func:`cxloop.insights.queries.team_enps`); a
person carries their team's.

A team is the team itself, not its sub-teams: as on the weigh-in, where parents and children
stand side by side.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cxloop.analytics import Estimate, shrink_nps, shrink_proportions
from cxloop.cases.queries import LoopCase, accountable_loop_cases
from cxloop.feedback.queries import meetings_led
from cxloop.improvements.queries import (
    action_items_done,
    initiatives_delivered,
    training_coverage_by_team,
    training_status,
)
from cxloop.insights import charts, loop
from cxloop.insights.dashboards import MIN_RANKED, LeaderboardQuery, Standing
from cxloop.insights.dashboards._scores import Scores
from cxloop.insights.dashboards.scorecard import ScorecardScoresQuery
from cxloop.insights.queries import GroupScore, team_enps
from cxloop.insights.store import Scope
from cxloop.journeys.queries import touchpoints_owned
from cxloop.people.queries import employees_named, team_members, teams_ranking_people

__all__ = [
    "METRICS",
    "METRIC_KEYS",
    "WINDOW_DAYS",
    "Figure",
    "MetricDefinition",
    "Place",
    "metric",
    "monthly_figures",
    "person_figures",
    "team_figures",
    "trend_chart",
    "weigh_in_place",
    "weigh_in_scope",
]

# The weigh-in's and every scorecard's period: thirteen weeks, enough answers for most teams,
# recent enough to be this quarter's news.
WINDOW_DAYS = 91

# Units: "nps" −100…100, "percent" 0…100, "hours" working hours, "count" whole numbers.
# Kinds: "survey" (customers' answers), "loop" (cases), "delivery" (what was done), "people".


@dataclass(frozen=True)
class MetricDefinition:
    key: str
    label: Promise
    unit: str
    higher_is_better: bool
    kind: str
    for_person: Promise = _("—")
    for_team: Promise = _("—")


METRICS: tuple[MetricDefinition, ...] = (
    MetricDefinition(
        "own_nps",
        _("Customers’ NPS"),
        "nps",
        True,
        "survey",
        _("NPS answers of the customers they own now; ranked as on the weekly weigh-in."),
        _(
            "NPS answers of the customers the team’s people owned when the answer came; ranked "
            "as on the weekly weigh-in."
        ),
    ),
    MetricDefinition(
        "own_csat",
        _("Customers’ CSAT"),
        "percent",
        True,
        "survey",
        _("Per cent of CSAT answers of 4 or 5 from the customers they own now."),
        _("Per cent of CSAT answers of 4 or 5 from the team’s customers."),
    ),
    MetricDefinition(
        "touchpoint_nps",
        _("Touchpoints’ NPS"),
        "nps",
        True,
        "survey",
        _("Their team’s figure."),
        _("NPS answers about the touchpoints the team owns, whoever the customer’s owner."),
    ),
    MetricDefinition(
        "touchpoint_csat",
        _("Touchpoints’ CSAT"),
        "percent",
        True,
        "survey",
        _("Their team’s figure."),
        _("Per cent of CSAT answers of 4 or 5 about the touchpoints the team owns."),
    ),
    MetricDefinition(
        "loop_in_sla",
        _("First contact within SLA"),
        "percent",
        True,
        "loop",
        _(
            "Of the detractor cases they own opened in the period and decided, the per cent "
            "first contacted by the deadline."
        ),
        _("The same over the cases of the team."),
    ),
    MetricDefinition(
        "first_contact_hours",
        _("Time to first contact"),
        "hours",
        False,
        "loop",
        _("Median working hours from opening to first contact of the cases they own."),
        _("The same over the cases of the team."),
    ),
    MetricDefinition(
        "initiatives_delivered",
        _("Initiatives delivered"),
        "count",
        True,
        "delivery",
        _("Initiatives they own finished (done) in the period."),
        _("Initiatives of the team finished (done) in the period."),
    ),
    MetricDefinition(
        "action_items_done",
        _("Action items done"),
        "count",
        True,
        "delivery",
        _("Action items they own ticked off in the period."),
        _("The same, over the team’s people."),
    ),
    MetricDefinition(
        "training_done",
        _("Training done"),
        "percent",
        True,
        "people",
        _("Of the training assigned to them and due, the per cent their manager confirmed done."),
        _("The same, over the team’s people."),
    ),
    MetricDefinition(
        "meetings_held",
        _("Meetings with customers"),
        "count",
        True,
        "delivery",
        _("Face-to-face meetings with customers they led in the period."),
        _("The same, over the team’s people."),
    ),
    MetricDefinition(
        "team_enps",
        _("Team eNPS"),
        "nps",
        True,
        "people",
        _("Their team’s figure."),
        _(
            "eNPS of the team’s answers to the pulse surveys in the period; not shown under "
            "five answers, so that answers stay anonymous."
        ),
    ),
)

METRIC_KEYS = tuple(m.key for m in METRICS)


def metric(key: str) -> MetricDefinition:
    """The definition of ``key``; ValueError naming it when there is none."""
    for definition in METRICS:
        if definition.key == key:
            return definition
    raise ValueError(f"metric must be one of {', '.join(METRIC_KEYS)}; got {key!r}")


@dataclass(frozen=True)
class Figure:
    """One metric of one person or team. ``value``: None where there is no data (or, for eNPS,
    too few answers); ``n``: what it rests on (answers, decided cases, assignments, or the
    count itself); ``low``/``high``: its 95 % interval where it is an estimate; ``shrunk``: the
    empirical-Bayes score of a survey metric (what the weigh-in ranks by)."""

    key: str
    value: float | None
    n: int
    low: float | None = None
    high: float | None = None
    shrunk: float | None = None

    @classmethod
    def of(cls, key: str, estimate: Estimate | None, n: int, shrunk: float | None = None):
        if estimate is None:
            return cls(key, None, n, shrunk=shrunk)
        return cls(key, estimate.value, n, estimate.low, estimate.high, shrunk)

    @classmethod
    def count(cls, key: str, value: int) -> Figure:
        return cls(key, float(value), value)


Figures = dict[str, Figure]


def person_figures(
    employee_ids: Collection[int], *, since: dt.date, until: dt.date
) -> dict[int, Figures]:
    """Every metric of each employee of ``employee_ids`` (unknown ids are left out) from
    ``since`` to ``until`` (inclusive)."""
    _check_period(since, until)
    people = employees_named(employee_ids)
    ids = sorted(people)
    teams = {pk: people[pk].team_id for pk in ids}
    scope = Scope(since=since, until=until)
    team_level = _team_level(set(teams.values()), since, until)
    surveys = _survey_figures(scope, "person", ids)
    cases = _loop_figures(
        accountable_loop_cases(owner_ids=ids, **_opened(since, until)), lambda c: c.owner_id
    )
    delivered, _by_team = initiatives_delivered(owner_ids=ids, since=since, until=until)
    counts = {
        "initiatives_delivered": delivered,
        "action_items_done": action_items_done(ids, since, until),
        "meetings_held": meetings_led(ids, since, until),
    }
    return _assembled(
        ids,
        lambda pk: {**surveys[pk], **team_level[teams[pk]], **cases.get(pk, _no_loop())},
        counts,
        _training(ids, until),
    )


def team_figures(
    team_ids: Collection[int], *, since: dt.date, until: dt.date
) -> dict[int, Figures]:
    """Every metric of each team of ``team_ids`` from ``since`` to ``until`` (inclusive)."""
    _check_period(since, until)
    ids = sorted({int(t) for t in team_ids})
    scope = Scope(since=since, until=until)
    surveys = _survey_figures(scope, "team", ids)
    level = _team_level(ids, since, until)
    cases = _loop_figures(
        accountable_loop_cases(team_ids=ids, **_opened(since, until)), lambda c: c.team_id
    )
    _by_owner, delivered = initiatives_delivered(team_ids=ids, since=since, until=until)
    members = team_members(ids)
    counts = {
        "initiatives_delivered": delivered,
        "action_items_done": _summed(action_items_done(members, since, until), members),
        "meetings_held": _summed(meetings_led(members, since, until), members),
    }
    return _assembled(
        ids,
        lambda pk: {**surveys[pk], **level[pk], **cases.get(pk, _no_loop())},
        counts,
        _team_training(ids, until),
    )


def _assembled(
    ids: list[int],
    estimates: Callable[[int], Figures],
    counts: dict[str, dict[int, int]],
    training: dict[int, Figure],
) -> dict[int, Figures]:
    """Each key's figures in :data:`METRICS`' order: its ``estimates``, its ``counts`` (none:
    0) and its training (none: no value)."""
    return {
        pk: _ordered(
            {
                **estimates(pk),
                **{key: Figure.count(key, found.get(pk, 0)) for key, found in counts.items()},
                "training_done": training.get(pk, Figure("training_done", None, 0)),
            }
        )
        for pk in ids
    }


def weigh_in_scope(until: dt.date, team_ids: Collection[int] | None = None) -> Scope:
    """The weigh-in's window: the WINDOW_DAYS ending on ``until``, of ``team_ids`` (None: all)."""
    return Scope(
        since=until - dt.timedelta(days=WINDOW_DAYS - 1),
        until=until,
        team_ids=None if team_ids is None else tuple(team_ids),
    )


@dataclass(frozen=True)
class Place:
    """Where someone stands on the weigh-in ending on a day: by ``"person"`` where their team
    ranks its people by name, else by ``"team"`` (their team's place); ``standing`` None when
    there are no answers; ``ranked``: how many have a rank there."""

    by: str
    standing: Standing | None
    ranked: int


def weigh_in_place(employee_id: int, team_id: int, *, until: dt.date) -> Place:
    ranking = teams_ranking_people()
    by, key = ("person", employee_id) if team_id in ranking else ("team", team_id)
    scope = weigh_in_scope(until, ranking if by == "person" else None)
    result = LeaderboardQuery(scope, by).run()
    return Place(by, result.standing(key), len(result.ranked))


def monthly_figures(
    of: Callable[..., dict[int, Figures]], keys: Collection[int], *, months: int, until: dt.date
) -> list[tuple[dt.date, dict[int, Figures]]]:
    """``of`` (:func:`person_figures` or :func:`team_figures`) of ``keys`` in each of the last
    ``months`` calendar months to ``until`` (the last one up to ``until``), oldest first."""
    out = []
    first = until.replace(day=1)
    for back in range(months - 1, -1, -1):
        index = first.year * 12 + first.month - 1 - back
        start = dt.date(index // 12, index % 12 + 1, 1)
        following = dt.date((index + 1) // 12, (index + 1) % 12 + 1, 1)
        end = min(until, following - dt.timedelta(days=1))
        out.append((start, of(keys, since=start, until=end)))
    return out


# The metric a scorecard's trend draws: the one the weigh-in ranks by.
TREND_METRIC = "own_nps"
TREND_MONTHS = 6


def trend_chart(
    monthly: list[tuple[dt.date, dict[int, Figures]]],
    key: int,
    *,
    href: Callable[[dt.date], str] | None = None,
) -> dict:
    """The Vega-Lite spec of :data:`TREND_METRIC` of ``key`` by month, from
    :func:`monthly_figures` (over :data:`TREND_MONTHS`); ``href`` gives a month's link to the
    answers behind its point."""
    points = []
    for start, found in monthly:
        figure = found.get(key, {}).get(TREND_METRIC) or Figure(TREND_METRIC, None, 0)
        point = {
            "period": start.isoformat(),
            "value": figure.value,
            "low": figure.low,
            "high": figure.high,
            "n": figure.n,
            # Fewer answers than the weigh-in ranks on: drawn hollow, read with care.
            "low_n": figure.n < MIN_RANKED,
        }
        if href is not None:
            point["href"] = href(start)
        points.append(point)
    return charts.trend(
        points, title=str(metric(TREND_METRIC).label), y_title=str(_("NPS")), domain=(-100, 100)
    )


# --- survey metrics ------------------------------------------------------------------------------


def _survey_figures(scope: Scope, by: str, keys: list[int]) -> dict[int, Figures]:
    """own_nps as the weigh-in has it, and own_csat shrunk across every group with answers."""
    board = LeaderboardQuery(scope, by).run()
    csat = _shrunk_top_box("own_csat", ScorecardScoresQuery(scope, by).run().csat)
    out = {}
    for key in keys:
        standing = board.standing(key)
        nps = (
            Figure("own_nps", None, 0)
            if standing is None
            else Figure.of("own_nps", standing.raw, standing.n, standing.score.value)
        )
        out[key] = {"own_nps": nps, "own_csat": csat.get(key, Figure("own_csat", None, 0))}
    return out


def _shrunk_top_box(key: str, groups: dict[int, Scores]) -> dict[int, Figure]:
    keys = sorted(k for k, scores in groups.items() if scores.n > 0)
    shrunk = _shrunk(
        shrink_proportions,
        [groups[k].top_box_count() for k in keys],
        [groups[k].n for k in keys],
    )
    return {
        k: Figure.of(key, groups[k].top_box(), groups[k].n, None if s is None else 100.0 * s.value)
        for k, s in zip(keys, shrunk, strict=True)
    }


def _shrunk_nps(key: str, groups: dict[int, Scores]) -> dict[int, Figure]:
    keys = sorted(k for k, scores in groups.items() if scores.n > 0)
    counts = [groups[k].nps_counts() for k in keys]
    shrunk = _shrunk(shrink_nps, *([list(c) for c in zip(*counts, strict=True)] or [[], [], []]))
    return {
        k: Figure.of(key, groups[k].nps(), groups[k].n, None if s is None else s.value)
        for k, s in zip(keys, shrunk, strict=True)
    }


def _shrunk(shrink: Callable[..., list[Estimate]], *counts: list[int]) -> list[Estimate | None]:
    """``shrink(*counts)``; None for each group where there is nothing to shrink toward (fewer
    than two groups) or the fit is undefined."""
    size = len(counts[0])
    if size < 2:
        return [None] * size
    try:
        return list(shrink(*counts))
    except ValueError:
        return [None] * size


def _team_level(team_ids: Iterable[int], since: dt.date, until: dt.date) -> dict[int, Figures]:
    """The metrics a person carries from their team: the touchpoints' NPS and CSAT, eNPS."""
    owned = touchpoints_owned()
    found = ScorecardScoresQuery(Scope(since=since, until=until), "team").run()

    def summed(answers: dict[int, Scores], kind: str) -> dict[int, Scores]:
        return {
            team: sum((answers[tp] for tp in tps if tp in answers), Scores.empty(kind))
            for team, tps in owned.items()
        }

    nps = _shrunk_nps("touchpoint_nps", summed(found.touchpoint_nps, "nps"))
    csat = _shrunk_top_box("touchpoint_csat", summed(found.touchpoint_csat, "csat"))
    enps = team_enps(since, until)
    return {
        team: {
            "touchpoint_nps": nps.get(team, Figure("touchpoint_nps", None, 0)),
            "touchpoint_csat": csat.get(team, Figure("touchpoint_csat", None, 0)),
            "team_enps": _enps(enps.get(team)),
        }
        for team in team_ids
    }


def _enps(group: GroupScore | None) -> Figure:
    if group is None:
        return Figure("team_enps", None, 0)
    return Figure.of("team_enps", group.enps, group.n)


# --- the closed loop -----------------------------------------------------------------------------


def _opened(since: dt.date, until: dt.date) -> dict[str, dt.datetime]:
    """Cases opened on the period's days in the site's time zone, as the loop page counts them."""
    start = timezone.make_aware(dt.datetime.combine(since, dt.time()))
    end = timezone.make_aware(dt.datetime.combine(until + dt.timedelta(days=1), dt.time()))
    return {"opened_since": start, "opened_before": end}


def _loop_figures(
    cases: list[LoopCase], key: Callable[[LoopCase], int | None]
) -> dict[int, Figures]:
    groups: dict[int, list[LoopCase]] = defaultdict(list)
    for case in cases:
        if key(case) is not None:
            groups[key(case)].append(case)
    now = timezone.now()
    out = {}
    for group, opened in groups.items():
        found = loop.figures(opened, [], now)
        out[group] = {
            "loop_in_sla": Figure.of("loop_in_sla", found.in_time, found.decided),
            "first_contact_hours": Figure.of(
                "first_contact_hours", found.first_contact, found.contacted
            ),
        }
    return out


def _no_loop() -> Figures:
    return {
        "loop_in_sla": Figure("loop_in_sla", None, 0),
        "first_contact_hours": Figure("first_contact_hours", None, 0),
    }


# --- training and sums ---------------------------------------------------------------------------


def _training_figure(status) -> Figure:
    share = status.share
    return Figure("training_done", None if share is None else 100.0 * share, status.assigned)


def _training(employee_ids: list[int], as_of: dt.date) -> dict[int, Figure]:
    return {pk: _training_figure(s) for pk, s in training_status(employee_ids, as_of=as_of).items()}


def _team_training(team_ids: list[int], as_of: dt.date) -> dict[int, Figure]:
    found = training_coverage_by_team(as_of)
    return {pk: _training_figure(found[pk]) for pk in team_ids if pk in found}


def _summed(per_person: dict[int, int], members: dict[int, int]) -> dict[int, int]:
    """Per-person counts summed per team (``members``: employee id → team id)."""
    totals: dict[int, int] = defaultdict(int)
    for person, count in per_person.items():
        totals[members[person]] += count
    return dict(totals)


def _ordered(figures: Figures) -> Figures:
    return {key: figures[key] for key in METRIC_KEYS}


def _check_period(since: dt.date, until: dt.date) -> None:
    if since > until:
        raise ValueError(f"since ({since}) is after until ({until})")
