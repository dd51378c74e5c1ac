"""The closed loop's own numbers: how many unhappy customers were contacted within their SLA, how
soon they were contacted and their case resolved, what was breached and escalated, what is open
and overdue now, and why customers were unhappy (root causes ranked per touchpoint).

The cases are read from the database through :func:`cxloop.cases.queries.loop_cases` (the
working hours each took come from the SLA clocks' business calendar); every estimate comes from
:mod:`cxloop.analytics`: the share with Wilson's interval, medians with the order-statistic
interval. A figure on fewer than :data:`MIN_N` cases is marked ``low_n`` (drawn hollow, "few"),
and a median on fewer cases than its interval needs is not given at all.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils import timezone

from cxloop.analytics import Estimate, median_interval, median_interval_min_n, wilson_interval
from cxloop.analytics.results import to_plain
from cxloop.cases.choices import OPEN_STATES
from cxloop.cases.queries import (
    LoopCase,
    detractors_without_case,
    loop_cases,
    root_cause_labels,
)
from cxloop.insights.dashboards import MIN_N
from cxloop.people.queries import visible_team_ids

DEFAULT_PERIOD = dt.timedelta(days=90)
MEDIAN_MIN_N = median_interval_min_n()  # fewer cases: no median is given


def _share(successes: int, n: int) -> Estimate | None:
    """The share in per cent with Wilson's 95 % interval (None: no cases)."""
    if n == 0:
        return None
    interval = wilson_interval(successes, n)
    return Estimate(
        value=100.0 * successes / n, low=100.0 * interval.low, high=100.0 * interval.high, n=n
    )


def _median(hours: list[float]) -> Estimate | None:
    """The median with its 95 % interval; None on fewer values than the interval needs."""
    return median_interval(hours) if len(hours) >= MEDIAN_MIN_N else None


def contacted_in_time(case: LoopCase, now: dt.datetime) -> bool | None:
    """Whether the first contact came by its deadline; None while that is not yet decided (not
    contacted, deadline still ahead) or the case has no first-contact deadline."""
    if case.first_contact_due is None:
        return None
    if case.first_contacted_at is not None:
        return case.first_contacted_at <= case.first_contact_due
    return False if case.first_contact_due < now else None


def is_overdue(case: LoopCase, now: dt.datetime) -> bool:
    """An open case whose running deadline has passed; waiting on the customer stops the
    clocks, so a waiting case is never overdue."""
    if case.state not in OPEN_STATES or case.paused_at is not None:
        return False
    if case.first_contacted_at is None and case.first_contact_due is not None:
        return case.first_contact_due < now
    return case.resolution_due is not None and case.resolution_due < now


@dataclass(frozen=True)
class LoopFigures:
    """The loop's figures over a set of cases opened in the period (and those open now).

    ``in_time`` is the share (per cent) of detractor cases (raised by at least one NPS answer of
    0–6) whose first contact came by its deadline, with Wilson's 95 % interval, over the
    ``decided`` ones (contacted, or their deadline passed); ``pending`` are still within their
    deadline.
    ``first_contact`` and ``resolution`` are medians of working hours from opening, with the
    order-statistic 95 % interval, over the ``contacted`` and ``resolved`` cases (None: too few).
    """

    cases: int = 0
    detractor_cases: int = 0
    in_time: Estimate | None = None
    in_time_count: int = 0
    decided: int = 0
    pending: int = 0
    contacted: int = 0
    first_contact: Estimate | None = None
    resolved: int = 0
    resolution: Estimate | None = None
    breaches: int = 0
    escalations: int = 0
    open_now: int = 0
    overdue_now: int = 0

    @property
    def low_n(self) -> bool:
        """Too few decided detractor cases to compare the share with another group's."""
        return self.decided < MIN_N

    @property
    def first_contact_low_n(self) -> bool:
        return self.contacted < MIN_N

    @property
    def resolution_low_n(self) -> bool:
        return self.resolved < MIN_N

    def to_dict(self) -> dict:
        return {
            **to_plain(self),
            "low_n": self.low_n,
            "first_contact_low_n": self.first_contact_low_n,
            "resolution_low_n": self.resolution_low_n,
        }


def figures(opened: list[LoopCase], open_now: list[LoopCase], now: dt.datetime) -> LoopFigures:
    """:class:`LoopFigures` of the cases ``opened`` in the period and those ``open_now``."""
    detractor = [c for c in opened if c.detractor]
    verdicts = [contacted_in_time(c, now) for c in detractor]
    decided = [v for v in verdicts if v is not None]
    first = [c.hours_to_first_contact for c in opened if c.hours_to_first_contact is not None]
    resolution = [c.hours_to_resolution for c in opened if c.hours_to_resolution is not None]
    return LoopFigures(
        cases=len(opened),
        detractor_cases=len(detractor),
        in_time=_share(sum(decided), len(decided)),
        in_time_count=sum(decided),
        decided=len(decided),
        pending=len(verdicts) - len(decided),
        contacted=len(first),
        first_contact=_median(first),
        resolved=len(resolution),
        resolution=_median(resolution),
        breaches=sum(c.breached_at is not None for c in opened),
        escalations=sum(c.escalation_level > 0 for c in opened),
        open_now=len(open_now),
        overdue_now=sum(is_overdue(c, now) for c in open_now),
    )


@dataclass(frozen=True)
class LoopRow:
    """The figures of one team or touchpoint (``key``: its id; None: cases without one)."""

    key: int | None
    figures: LoopFigures

    def to_dict(self) -> dict:
        return {"key": self.key, "figures": self.figures.to_dict()}


@dataclass(frozen=True)
class CauseCount:
    """How many of a touchpoint's cases had this root cause, and their share of them."""

    root_cause_id: int
    label: str
    count: int
    share: float

    def to_dict(self) -> dict:
        return to_plain(self)


@dataclass(frozen=True)
class TouchpointCauses:
    """A touchpoint's root causes, most frequent first, over its ``cases`` in the period."""

    touchpoint_id: int
    cases: int
    causes: tuple[CauseCount, ...]

    @property
    def low_n(self) -> bool:
        return self.cases < MIN_N

    def to_dict(self) -> dict:
        return {**to_plain(self), "low_n": self.low_n}


def ranked_causes(cases: Iterable[LoopCase], labels: dict) -> tuple[TouchpointCauses, ...]:
    """Root causes ranked per touchpoint. A case counts under each of its touchpoints, with
    its causes of that touchpoint and its general causes (those of no touchpoint); the
    touchpoints with most cases come first, causes by count then name."""
    cases_of: Counter = Counter()
    counts: dict[int, Counter] = defaultdict(Counter)
    for case in cases:
        for tp in case.touchpoint_ids:
            cases_of[tp] += 1
            for cause in case.root_cause_ids:
                if labels.get(cause, ("", None))[1] in (tp, None):
                    counts[tp][cause] += 1
    return tuple(
        TouchpointCauses(
            touchpoint_id=tp,
            cases=n,
            causes=tuple(
                CauseCount(cause, labels[cause][0], count, count / n)
                for cause, count in sorted(
                    counts[tp].items(), key=lambda item: (-item[1], labels[item[0]][0])
                )
            ),
        )
        for tp, n in sorted(cases_of.items(), key=lambda item: (-item[1], item[0]))
    )


def _grouped(
    opened: list[LoopCase],
    open_now: list[LoopCase],
    keys: Callable[[LoopCase], Iterable[int | None]],
    now: dt.datetime,
) -> tuple[LoopRow, ...]:
    """Figures per key (a case may have several keys: its touchpoints), most cases first."""
    groups: dict[int | None, tuple[list, list]] = defaultdict(lambda: ([], []))
    for case in opened:
        for key in keys(case):
            groups[key][0].append(case)
    for case in open_now:
        for key in keys(case):
            groups[key][1].append(case)
    rows = [LoopRow(key, figures(a, b, now)) for key, (a, b) in groups.items()]
    return tuple(sorted(rows, key=lambda r: (-r.figures.cases, -r.figures.open_now, r.key or 0)))


@dataclass(frozen=True)
class LoopResult:
    """The loop's figures for a period: overall, by team, by touchpoint, and the root causes
    ranked per touchpoint; ``detractors_without_case`` counts detractor answers in the period
    that raised no case (None when the figures are narrowed to a touchpoint)."""

    total: LoopFigures
    by_team: tuple[LoopRow, ...] = ()
    by_touchpoint: tuple[LoopRow, ...] = ()
    root_causes: tuple[TouchpointCauses, ...] = ()
    detractors_without_case: int | None = None
    as_of: dt.datetime | None = None

    def causes_of(self, touchpoint_id: int) -> TouchpointCauses | None:
        return next((t for t in self.root_causes if t.touchpoint_id == touchpoint_id), None)

    def to_dict(self) -> dict:
        return {
            "total": self.total.to_dict(),
            "by_team": [r.to_dict() for r in self.by_team],
            "by_touchpoint": [r.to_dict() for r in self.by_touchpoint],
            "root_causes": [t.to_dict() for t in self.root_causes],
            "detractors_without_case": self.detractors_without_case,
            "as_of": None if self.as_of is None else self.as_of.isoformat(),
        }


def _day_start(day: dt.date) -> dt.datetime:
    """The first moment of ``day`` in the site's time zone: the days of the dashboard's period
    are the case list's (``since``/``until``), so a figure's link lists the cases it counted."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


@dataclass(frozen=True)
class LoopQuery:
    """The loop's figures for the cases a user sees, opened from ``since`` to ``until``
    (inclusive days in the site's time zone), of ``team_ids`` (None: every team the user
    sees) and on ``touchpoint_id`` (None: any), as of ``now``."""

    since: dt.date
    until: dt.date
    now: dt.datetime
    team_ids: tuple[int, ...] | None = None
    touchpoint_id: int | None = None

    def __post_init__(self) -> None:
        if self.since > self.until:
            raise ValueError("the period ends before it starts")
        if self.now.tzinfo is None:
            raise ValueError("now must be an aware datetime")

    def run(self, user) -> LoopResult:
        teams = None if self.team_ids is None else list(self.team_ids)
        # Cases are scoped by visible_cases; answers without a case by their customer's team,
        # as the response list scopes them.
        visible = visible_team_ids(user)
        answer_teams = visible if teams is None else teams
        if teams is not None and visible is not None:
            answer_teams = [t for t in teams if t in visible]
        start, end = _day_start(self.since), _day_start(self.until + dt.timedelta(days=1))
        opened = loop_cases(
            user,
            opened_since=start,
            opened_before=min(end, self.now + dt.timedelta(seconds=1)),
            team_ids=teams,
            touchpoint_id=self.touchpoint_id,
        )
        open_now = loop_cases(
            user, open_only=True, team_ids=teams, touchpoint_id=self.touchpoint_id
        )
        labels = root_cause_labels({c for case in opened for c in case.root_cause_ids})
        causes = ranked_causes(opened, labels)
        if self.touchpoint_id is not None:
            causes = tuple(t for t in causes if t.touchpoint_id == self.touchpoint_id)
        return LoopResult(
            total=figures(opened, open_now, self.now),
            by_team=_grouped(opened, open_now, lambda c: (c.team_id,), self.now),
            by_touchpoint=_grouped(opened, open_now, lambda c: c.touchpoint_ids, self.now),
            root_causes=causes,
            detractors_without_case=None
            if self.touchpoint_id is not None
            else detractors_without_case(answer_teams, since=start, before=end),
            as_of=self.now,
        )


@dataclass(frozen=True)
class TouchpointCases:
    """What a journey map card shows of the loop: the touchpoint's cases open and overdue now,
    and its most frequent root cause among the cases opened in the map's period."""

    open_now: int = 0
    overdue_now: int = 0
    top_cause: CauseCount | None = None


def touchpoint_cases(
    user,
    *,
    since: dt.date | None,
    until: dt.date | None,
    now: dt.datetime,
    team_ids: tuple[int, ...] | None = None,
) -> dict[int, TouchpointCases]:
    """:class:`TouchpointCases` by touchpoint id for the cases the user sees (of ``team_ids``;
    None: any), opened from ``since`` to ``until`` (None: open ends)."""
    teams = None if team_ids is None else list(team_ids)
    opened = loop_cases(
        user,
        opened_since=None if since is None else _day_start(since),
        opened_before=None if until is None else _day_start(until + dt.timedelta(days=1)),
        team_ids=teams,
        with_hours=False,
    )
    open_now = loop_cases(user, open_only=True, team_ids=teams, with_hours=False)
    labels = root_cause_labels({c for case in opened for c in case.root_cause_ids})
    top = {t.touchpoint_id: t.causes[0] for t in ranked_causes(opened, labels) if t.causes}
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for case in open_now:
        for tp in case.touchpoint_ids:
            counts[tp][0] += 1
            counts[tp][1] += is_overdue(case, now)
    return {
        tp: TouchpointCases(*counts.get(tp, (0, 0)), top_cause=top.get(tp))
        for tp in set(counts) | set(top)
    }
