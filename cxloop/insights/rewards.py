"""Reward plans' payouts and safeguards (issue #13, point 4).

- :func:`period_payouts`: each person's payout for a period, line by line — live from the
  figures of :mod:`cxloop.insights.accountability` while the period is a draft, as frozen once
  approved (a locked period never changes).
- :func:`simulate`: the payout for hypothetical figures (the what-if simulator).
- :func:`payout_totals`: every plan's totals for the periods that start on a day (the executive
  dashboard).
- :func:`gaming_check`: the safeguards of a plan — a baseline of a year at least, pilot periods
  without pay — and the people whose response rate or score distribution changed sharply after
  the plan started (two-proportion z test; χ² of homogeneity over detractors, passives and
  promoters).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal

import ibis
import ibis.expr.types as ir

from cxloop.analytics import distribution_shift, proportion_difference
from cxloop.insights import accountability
from cxloop.insights.dashboards import _scans as scans
from cxloop.insights.dashboards._base import DashboardQuery, Rows, Scoped
from cxloop.insights.store import FactStore, FactTables, Scope
from cxloop.lib import payouts
from cxloop.lib.scales import NPS_DETRACTORS, NPS_PASSIVES, NPS_PROMOTERS
from cxloop.people.reward_choices import MeasuredOn, PeriodState
from cxloop.people.reward_queries import (
    all_team_ids,
    frozen_payouts,
    periods_starting,
    plan_members,
)
from cxloop.people.reward_services import FrozenPayout, payout_amount
from cxloop.surveys.queries import invitation_counts_by_owner

# A baseline shorter than a year mistakes the seasons for a change (safeguard on the plan).
BASELINE_DAYS = 365
# A change is flagged only when both unlikely by chance and large enough to matter.
FLAG_P = 0.01
FLAG_RATE_POINTS = 10.0
FLAG_MIN_ANSWERS = 20  # χ² needs expected counts of about 5 in each of three categories
SURVEY_KIND = "survey"
COUNT_UNIT = "count"


def definitions() -> dict[str, accountability.MetricDefinition]:
    """Every metric a plan may pay on, by key, in the order of ``METRICS``."""
    return {metric.key: metric for metric in accountability.METRICS}


def arithmetic(plan) -> payouts.Plan:
    """The plan's arithmetic (:class:`cxloop.lib.payouts.Plan`) from its stored record."""
    known = definitions()
    lines = []
    for row in plan.metrics.all():
        metric = known.get(row.metric)
        if metric is None:
            raise ValueError(f"{plan.name}: {row.metric!r} is not a metric cxloop measures")
        lines.append(
            payouts.Line(
                row.metric,
                float(row.weight),
                row.threshold,
                row.target,
                row.maximum,
                higher_is_better=metric.higher_is_better,
                survey=metric.kind == SURVEY_KIND,
            )
        )
    return payouts.Plan(
        lines=tuple(lines),
        threshold_payout=plan.threshold_payout / 100,
        max_payout=plan.max_payout / 100,
        cap=None if plan.cap is None else plan.cap / 100,
        min_n=plan.min_n,
        fallback=plan.fallback,
        basis=plan.basis,
    )


def _plain_figure(figure) -> payouts.Figure:
    return payouts.Figure(figure.value, figure.n, figure.shrunk, figure.low, figure.high)


def _figures(found: Mapping[int, Mapping[str, object]], key: int) -> dict[str, payouts.Figure]:
    return {name: _plain_figure(figure) for name, figure in found.get(key, {}).items()}


def measured(plan, people, *, since: dt.date, until: dt.date) -> dict[int, payouts.Measured]:
    """Each person's figures over ``since``–``until``, by employee id: their own and their
    team's, or, for a plan measured on the organisation, the organisation's (every team's
    figures pooled, :func:`cxloop.lib.payouts.pooled`) for everyone."""
    if plan.measured_on == MeasuredOn.ORGANISATION:
        whole = payouts.Measured(own=organisation_figures(since=since, until=until), team={})
        return {p.pk: whole for p in people}
    own = accountability.person_figures([p.pk for p in people], since=since, until=until)
    teams = accountability.team_figures({p.team_id for p in people}, since=since, until=until)
    return {
        p.pk: payouts.Measured(own=_figures(own, p.pk), team=_figures(teams, p.team_id))
        for p in people
    }


def organisation_figures(*, since: dt.date, until: dt.date) -> dict[str, payouts.Figure]:
    """Every metric of the whole organisation: each team's figure (a team is itself, not its
    sub-teams, so the teams do not overlap) pooled over all teams."""
    found = accountability.team_figures(all_team_ids(), since=since, until=until)
    return {
        metric.key: payouts.pooled(
            (_plain_figure(f[metric.key]) for f in found.values() if metric.key in f),
            additive=metric.unit == COUNT_UNIT,
        )
        for metric in accountability.METRICS
    }


@dataclass(frozen=True)
class PersonPayout:
    """One person's payout for a period: ``share`` of their target bonus (after the cap),
    ``paid_share`` (0 in a pilot period), ``amount`` in roubles, and the breakdown."""

    employee_id: int
    name: str
    team_id: int
    share: float
    uncapped: float
    paid_share: float
    amount: Decimal
    lines: tuple[payouts.LineResult, ...]
    frozen: bool

    @property
    def capped(self) -> bool:
        return self.share < self.uncapped

    @property
    def rescaled(self) -> bool:
        return any(line.source == "dropped" for line in self.lines)


def _live(period, people) -> list[PersonPayout]:
    plan = period.plan
    rules = arithmetic(plan)
    until = min(period.ends_on, dt.date.today())
    found = measured(plan, people, since=period.starts_on, until=until)
    rows = []
    for person in people:
        result = payouts.payout(rules, found[person.pk])
        paid = 0.0 if period.is_pilot else result.total
        rows.append(
            PersonPayout(
                employee_id=person.pk,
                name=str(person),
                team_id=person.team_id,
                share=result.total,
                uncapped=result.uncapped,
                paid_share=paid,
                amount=payout_amount(plan, paid),
                lines=result.lines,
                frozen=False,
            )
        )
    return rows


def _frozen(period, payees: Collection[int] | None) -> list[PersonPayout]:
    rows = frozen_payouts(period)
    if payees is not None:
        rows = rows.filter(employee_id__in=list(payees))
    return [
        PersonPayout(
            employee_id=row.employee_id,
            name=str(row.employee),
            team_id=row.team_id,
            share=row.share,
            uncapped=row.uncapped,
            paid_share=row.paid_share,
            amount=row.amount,
            lines=tuple(payouts.LineResult.from_dict(line) for line in row.lines),
            frozen=True,
        )
        for row in rows
    ]


def period_payouts(period, *, payees: Collection[int] | None = None) -> list[PersonPayout]:
    """The payouts of ``period`` of the people in ``payees`` (None: everyone the plan pays),
    by name: computed now for a draft, as frozen for an approved or locked period."""
    if period.state == PeriodState.DRAFT:
        people = plan_members(period.plan)
        if payees is not None:
            people = people.filter(pk__in=list(payees))
        rows = _live(period, list(people))
    else:
        rows = _frozen(period, payees)
    return sorted(rows, key=lambda row: row.name)


def to_freeze(period) -> list[FrozenPayout]:
    """Every payout of the draft ``period``, computed now, as the service freezes them."""
    return [
        FrozenPayout(
            employee_id=row.employee_id,
            team_id=row.team_id,
            share=row.share,
            uncapped=row.uncapped,
            lines=tuple(line.to_dict() for line in row.lines),
        )
        for row in _live(period, list(plan_members(period.plan)))
    ]


def simulate(plan, values: Mapping[str, float | None]) -> payouts.Payout:
    """The payout under ``plan`` if the figures were ``values`` (by metric key; None or absent:
    no figure), each taken as measured on enough answers and on the plan's basis."""
    rules = arithmetic(plan)
    own = {
        key: payouts.Figure(value, rules.min_n, shrunk=value, low=value, high=value)
        for key, value in values.items()
        if value is not None
    }
    return payouts.payout(rules, payouts.Measured(own=own, team={}))


@dataclass(frozen=True)
class PlanTotal:
    """A plan's period: how many people it pays, the sum of their paid shares of a target
    bonus (2.4: 2.4 target bonuses), their mean, and the amount in roubles."""

    plan_id: int
    plan: str
    period_id: int
    starts_on: dt.date
    ends_on: dt.date
    state: str
    is_pilot: bool
    people: int
    share_sum: float
    mean_share: float | None
    amount: Decimal


def payout_totals(period_start: dt.date) -> list[PlanTotal]:
    """Every plan's period that starts on ``period_start``, with its totals."""
    totals = []
    for period in periods_starting(period_start):
        rows = period_payouts(period)
        share_sum = sum(row.paid_share for row in rows)
        totals.append(
            PlanTotal(
                plan_id=period.plan_id,
                plan=period.plan.label,
                period_id=period.pk,
                starts_on=period.starts_on,
                ends_on=period.ends_on,
                state=period.state,
                is_pilot=period.is_pilot,
                people=len(rows),
                share_sum=share_sum,
                mean_share=share_sum / len(rows) if rows else None,
                amount=sum((row.amount for row in rows), Decimal(0)),
            )
        )
    return sorted(totals, key=lambda total: total.plan)


# --- safeguards against gaming ------------------------------------------------------------------

NPS_CATEGORIES = (NPS_DETRACTORS, NPS_PASSIVES, NPS_PROMOTERS)


@dataclass(frozen=True)
class ScoreShiftQuery(DashboardQuery):
    """Counts of NPS answers of the customers each of ``owner_ids`` owns, by score, before
    ``split`` and from it on, within ``scope``'s period."""

    scope: Scope
    split: dt.date
    owner_ids: tuple[int, ...]

    def to_query(self, tables: FactTables) -> dict[str, ir.Table]:
        scoped = Scoped.of(tables, self.scope)
        answers = scans.nps_answers(scoped.responses)
        owners = tables.customers.select("customer_id", "owner_id")
        joined = answers.join(owners, answers.customer_id == owners.customer_id)
        mine = joined.filter(joined.owner_id.isin(list(self.owner_ids)))
        split = dt.datetime.combine(self.split, dt.time(), tzinfo=dt.UTC)
        after = mine.submitted_at >= ibis.timestamp(split)
        return {"counts": scans.score_counts(mine, {"owner_id": mine.owner_id, "after": after})}

    def assemble(self, version: str | None, rows: Rows) -> dict[int, tuple[list, list]]:
        found: dict[int, tuple[list[int], list[int]]] = {}
        for row in rows.get("counts", []):
            sides = found.setdefault(int(row["owner_id"]), ([0, 0, 0], [0, 0, 0]))
            category = next(
                i for i, (lo, hi) in enumerate(NPS_CATEGORIES) if lo <= row["score"] <= hi
            )
            sides[1 if row["after"] else 0][category] += int(row["n"])
        return found


@dataclass(frozen=True)
class GamingFlag:
    """A person whose figures changed sharply after the plan started. ``kind``:
    "response_rate" (``before``/``after`` in per cent) or "scores" (the share of promoters
    minus detractors, i.e. the NPS, of each side); ``p_value`` of the test."""

    employee_id: int
    name: str
    kind: str
    before: float
    after: float
    n_before: int
    n_after: int
    p_value: float


@dataclass(frozen=True)
class GamingCheck:
    """The plan's safeguards: the baseline's length in days (``baseline_ok``: a year at
    least), its pilot periods, and the flags raised (none before the plan starts)."""

    baseline_days: int
    baseline_ok: bool
    pilot_periods: int
    started: bool
    flags: tuple[GamingFlag, ...]


def _rate_flag(person, before, after) -> GamingFlag | None:
    (sent_before, done_before), (sent_after, done_after) = before, after
    if not sent_before or not sent_after:
        return None
    change = proportion_difference(done_after, sent_after, done_before, sent_before)
    if change.p_value >= FLAG_P or abs(change.value) < FLAG_RATE_POINTS:
        return None
    return GamingFlag(
        person.pk,
        str(person),
        "response_rate",
        100 * done_before / sent_before,
        100 * done_after / sent_after,
        sent_before,
        sent_after,
        change.p_value,
    )


def _nps(counts: list[int]) -> float:
    return 100 * (counts[2] - counts[0]) / sum(counts)


def _score_flag(person, before: list[int], after: list[int]) -> GamingFlag | None:
    if min(sum(before), sum(after)) < FLAG_MIN_ANSWERS:
        return None
    shift = distribution_shift(before, after)
    if shift.p_value >= FLAG_P:
        return None
    return GamingFlag(
        person.pk,
        str(person),
        "scores",
        _nps(before),
        _nps(after),
        shift.n_before,
        shift.n_after,
        shift.p_value,
    )


def gaming_check(plan, *, today: dt.date, store: FactStore | None = None) -> GamingCheck:
    """The plan's safeguards and the people flagged: each person's response rate and NPS
    answers from ``plan.baseline_since`` to the day before the plan started, against those
    from its start to ``today``."""
    baseline_days = (plan.starts_on - plan.baseline_since).days
    started = plan.starts_on <= today
    flags: list[GamingFlag] = []
    if started:
        people = list(plan_members(plan))
        ids = [p.pk for p in people]
        last_before = plan.starts_on - dt.timedelta(days=1)
        rate_before = invitation_counts_by_owner(ids, since=plan.baseline_since, until=last_before)
        rate_after = invitation_counts_by_owner(ids, since=plan.starts_on, until=today)
        query = ScoreShiftQuery(
            scope=Scope(since=plan.baseline_since, until=today),
            split=plan.starts_on,
            owner_ids=tuple(sorted(ids)),
        )
        scores = query.run(store=store) if ids else {}
        for person in people:
            flag = _rate_flag(
                person, rate_before.get(person.pk, (0, 0)), rate_after.get(person.pk, (0, 0))
            )
            flags.extend([flag] if flag else [])
            if person.pk in scores:
                flag = _score_flag(person, *scores[person.pk])
                flags.extend([flag] if flag else [])
    return GamingCheck(
        baseline_days=baseline_days,
        baseline_ok=baseline_days >= BASELINE_DAYS,
        pilot_periods=plan.pilot_periods,
        started=started,
        flags=tuple(flags),
    )
