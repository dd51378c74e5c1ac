"""The executive sponsor's dashboard and quarterly review pack (issue #13, point 7): one period's
figures gathered from the queries that already compute them, never computed again here.

* NPS of the target segment against the other customers, for the period and by month over the
  year to its end (:class:`cxloop.insights.dashboards.ComparisonQuery` by segment: the rest is
  every answer of the scope outside the segment, with the difference's test);
* the revenue held by detractors and silent customers at the period's end, for the target
  segment and the rest (:class:`cxloop.insights.dashboards.PortfolioQuery`);
* the closed loop, the initiatives finished with their measured effects, those in progress,
  the roll-back alerts and the next top opportunities (:func:`cxloop.insights.cycle.cycle_review`);
* the organisation's eNPS from the pulse surveys of the period
  (:func:`cxloop.insights.queries.enps_between`);
* training coverage at the period's end, summed over the teams
  (:func:`cxloop.improvements.queries.training_coverage_by_team`);
* the reward plans' payout totals of the periods that start within it
  (:func:`cxloop.insights.rewards.payout_totals`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from cxloop.analytics import Difference, Estimate
from cxloop.improvements.queries import TrainingStatus, training_coverage_by_team
from cxloop.insights import charts
from cxloop.insights.cycle import CycleReview, review_context
from cxloop.insights.dashboards import ComparisonQuery, PortfolioQuery, RevenueAtRisk
from cxloop.insights.queries import GroupScore, enps_between
from cxloop.insights.rewards import PlanTotal, payout_totals
from cxloop.insights.store import Scope
from cxloop.people.choices import Role
from cxloop.people.queries import employee_of, role_of

__all__ = [
    "TREND_MONTHS",
    "ExecutiveReview",
    "SegmentMonth",
    "SegmentNps",
    "allowed_executive",
    "executive_context",
    "executive_review",
]

# The NPS trend reaches back a year from the period's end: four quarters, enough to tell a
# season from a trend.
TREND_MONTHS = 12


def allowed_executive(user) -> bool:
    """Who sees the executive dashboard and its pack: executives, the CX lead and viewers
    (read-only board members); managers and employees have their own dashboards."""
    if employee_of(user) is None and not user.is_superuser:
        return False
    return role_of(user) in (Role.ADMIN, Role.EXECUTIVE, Role.VIEWER)


@dataclass(frozen=True)
class SegmentNps:
    """NPS of the target segment (``target``) and of every other answer (``rest``) in a
    period, with their difference and whether it is significant (Benjamini–Hochberg over the
    segments tested)."""

    target: Estimate | None
    target_n: int
    rest: Estimate | None
    rest_n: int
    difference: Difference | None = None
    significant: bool = False


@dataclass(frozen=True)
class SegmentMonth:
    """One month of the target-against-rest trend; ``period`` its first day."""

    period: dt.date
    nps: SegmentNps


@dataclass(frozen=True)
class ExecutiveReview:
    since: dt.date
    until: dt.date
    target_segment: Any
    nps: SegmentNps | None  # None without a target segment
    trend: tuple[SegmentMonth, ...]
    revenue_target: tuple[RevenueAtRisk, ...]
    revenue_rest: tuple[RevenueAtRisk, ...]
    revenue_overall: tuple[RevenueAtRisk, ...]
    cycle: CycleReview
    enps: GroupScore
    training: TrainingStatus
    payouts: tuple[PlanTotal, ...]


def _segment_nps(since: dt.date, until: dt.date, target_id: int) -> SegmentNps:
    result = ComparisonQuery(
        scope=Scope(since=since, until=until), by="segment", metric="nps"
    ).run()
    group = next((g for g in result.groups if g.key == target_id), None)
    if group is None:  # no answer of the segment: the rest is everyone
        return SegmentNps(None, 0, result.overall, result.n)
    return SegmentNps(
        group.estimate,
        group.n,
        group.reference,
        group.reference_n,
        group.difference,
        group.significant,
    )


def _months(until: dt.date) -> list[tuple[dt.date, dt.date]]:
    """The TREND_MONTHS calendar months ending with the one holding ``until``, oldest first."""
    months, first = [], until.replace(day=1)
    for _i in range(TREND_MONTHS):
        next_first = (first + dt.timedelta(days=32)).replace(day=1)
        months.append((first, min(until, next_first - dt.timedelta(days=1))))
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return months[::-1]


def _training_total(as_of: dt.date) -> TrainingStatus:
    by_team = training_coverage_by_team(as_of).values()
    return TrainingStatus(
        assigned=sum(s.assigned for s in by_team),
        done=sum(s.done for s in by_team),
        overdue=sum(s.overdue for s in by_team),
    )


def _payouts(since: dt.date, until: dt.date) -> tuple[PlanTotal, ...]:
    """The payout totals of plan periods starting on a first of a month within the period
    (monthly and quarterly plans alike)."""
    found, first = [], since.replace(day=1)
    while first <= until:
        if first >= since:
            found.extend(payout_totals(first))
        first = (first + dt.timedelta(days=32)).replace(day=1)
    return tuple(found)


def executive_review(cycle: CycleReview, *, today: dt.date) -> ExecutiveReview:
    """The executive figures of the cycle review's period, beside the review itself (which
    holds what the user may see of initiatives and cases)."""
    since, until, target = cycle.since, cycle.until, cycle.target_segment
    portfolio = PortfolioQuery(
        scope=Scope(),
        today=min(until, today),
        target_segment_id=None if target is None else target.pk,
    ).run()
    return ExecutiveReview(
        since=since,
        until=until,
        target_segment=target,
        nps=None if target is None else _segment_nps(since, until, target.pk),
        trend=()
        if target is None
        else tuple(
            SegmentMonth(first, _segment_nps(first, last, target.pk))
            for first, last in _months(until)
        ),
        revenue_target=portfolio.target,
        revenue_rest=portfolio.rest,
        revenue_overall=portfolio.overall,
        cycle=cycle,
        enps=enps_between(since, until),
        training=_training_total(min(until, today)),
        payouts=_payouts(since, until),
    )


def _point(period: dt.date, estimate: Estimate | None, n: int) -> dict:
    return {
        "period": period.isoformat(),
        "value": None if estimate is None else estimate.value,
        "low": None if estimate is None else estimate.low,
        "high": None if estimate is None else estimate.high,
        "n": n,
    }


def trend_chart(review: ExecutiveReview) -> dict:
    """NPS of the target segment and of the other customers by month."""
    label = review.target_segment.label if review.target_segment is not None else ""
    series = (
        [
            {
                "label": str(label),
                "points": [_point(m.period, m.nps.target, m.nps.target_n) for m in review.trend],
            },
            {
                "label": _("Other customers"),
                "points": [_point(m.period, m.nps.rest, m.nps.rest_n) for m in review.trend],
            },
        ]
        if review.trend
        else []
    )
    return charts.series_trend(
        series, title=_("NPS by month"), y_title=_("NPS"), domain=(-100, 100)
    )


def executive_context(
    user, *, since: dt.date, until: dt.date, today: dt.date, now: dt.datetime
) -> dict[str, Any]:
    """What the page and the pack both show: the cycle review's context (its loop figures,
    initiatives, alerts, opportunities and chart) and the executive figures beside it."""
    context = review_context(user, since=since, until=until, today=today, now=now)
    review = executive_review(context["review"], today=today)
    context.update(
        executive=review,
        nps_chart=trend_chart(review),
        revenue_groups=[
            (review.target_segment.label, review.revenue_target),
            (_("Other customers"), review.revenue_rest),
        ]
        if review.target_segment is not None
        else [(_("All customers"), review.revenue_overall)],
        title=_("Executive review"),
        subtitle=_("%(since)s to %(until)s")
        % {
            "since": date_format(since, "SHORT_DATE_FORMAT"),
            "until": date_format(until, "SHORT_DATE_FORMAT"),
        },
    )
    return context
