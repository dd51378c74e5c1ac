"""Write side of reward plans: every change to a plan and every step of a period goes through
here, is checked, is atomic and is recorded in the audit log with what changed."""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cxloop.audit import services as audit
from cxloop.audit.choices import Action
from cxloop.people.choices import Role
from cxloop.people.models import Employee
from cxloop.people.reward_choices import PeriodState
from cxloop.people.rewards import (
    LockedPeriodError,
    RewardMetric,
    RewardPayout,
    RewardPeriod,
    RewardPlan,
)
from cxloop.people.services import OutOfScope

PLAN_FIELDS = (
    "name",
    "name_en",
    "role",
    "title",
    "measured_on",
    "threshold_payout",
    "max_payout",
    "cap",
    "min_n",
    "fallback",
    "basis",
    "period_months",
    "starts_on",
    "baseline_since",
    "pilot_periods",
    "target_bonus",
)
METRIC_FIELDS = ("metric", "weight", "threshold", "target", "maximum")
DECIDES = frozenset({Role.ADMIN, Role.EXECUTIVE})
KOPECK = Decimal("0.01")


@dataclass(frozen=True)
class FrozenPayout:
    """A person's payout as computed for a period, ready to be frozen (see RewardPayout)."""

    employee_id: int
    team_id: int
    share: float
    uncapped: float
    lines: tuple[dict, ...]


def may_decide(employee: Employee | None) -> bool:
    """Administrators and executives edit plans and move periods on; nobody else."""
    return employee is not None and employee.role in DECIDES


def _check_decides(employee: Employee | None) -> None:
    if not may_decide(employee):
        raise OutOfScope("only an administrator or an executive changes reward plans")


def _plain(value):
    return value if value is None or isinstance(value, int | float | str) else str(value)


def _metric_rows(plan: RewardPlan) -> list[dict]:
    return [
        {name: _plain(getattr(row, name)) for name in METRIC_FIELDS} for row in plan.metrics.all()
    ]


def _check_metrics(metrics: list[Mapping]) -> None:
    if not metrics:
        raise ValidationError(_("A plan needs at least one metric."))
    seen = set()
    for row in metrics:
        if row["metric"] in seen:
            raise ValidationError(
                _("The metric %(metric)s appears twice."), params={"metric": row["metric"]}
            )
        seen.add(row["metric"])
        if row["weight"] is None or row["weight"] <= 0:
            raise ValidationError(
                _("The weight of %(metric)s must be above 0."), params={"metric": row["metric"]}
            )


@transaction.atomic
def save_plan(
    plan: RewardPlan | None,
    fields: Mapping,
    metrics: Iterable[Mapping],
    *,
    by: Employee | None,
) -> RewardPlan:
    """Create a plan (``plan`` None) or change one: its fields and its whole basket of metrics
    (each a mapping of :data:`METRIC_FIELDS`, in order). Records the change with every field
    that differs, before and after. Raises ValidationError naming the field for a value the
    plan cannot take, OutOfScope for anyone but an administrator or an executive."""
    _check_decides(by)
    metrics = [dict(row) for row in metrics]
    _check_metrics(metrics)
    created = plan is None
    plan = plan or RewardPlan()
    before = {name: _plain(getattr(plan, name)) for name in PLAN_FIELDS}
    before_metrics = [] if created else _metric_rows(plan)
    for name in PLAN_FIELDS:
        if name in fields:
            setattr(plan, name, fields[name])
    plan.full_clean()
    plan.save()
    plan.metrics.all().delete()
    RewardMetric.objects.bulk_create(
        RewardMetric(plan=plan, position=i, **{name: row[name] for name in METRIC_FIELDS})
        for i, row in enumerate(metrics)
    )
    after = {name: _plain(getattr(plan, name)) for name in PLAN_FIELDS}
    changes = {
        name: [before[name], after[name]] for name in PLAN_FIELDS if before[name] != after[name]
    }
    after_metrics = _metric_rows(plan)
    if after_metrics != before_metrics:
        changes["metrics"] = [before_metrics, after_metrics]
    if created or changes:
        audit.record(
            Action.CREATE if created else Action.CHANGE,
            kind="rewardplan",
            object_id=plan.pk,
            label=plan.name,
            details={"changes": changes},
        )
    return plan


def period_end(starts_on: dt.date, months: int) -> dt.date:
    """The last day of the period of ``months`` that starts on ``starts_on``."""
    month = starts_on.month - 1 + months
    year, month = starts_on.year + month // 12, month % 12 + 1
    day = min(starts_on.day, calendar.monthrange(year, month)[1])
    return dt.date(year, month, day) - dt.timedelta(days=1)


def period_starts(plan: RewardPlan, until: dt.date) -> list[dt.date]:
    """The first days of the plan's periods that start by ``until``."""
    starts, start = [], plan.starts_on
    while start <= until:
        starts.append(start)
        start = period_end(start, plan.period_months) + dt.timedelta(days=1)
    return starts


@transaction.atomic
def open_period(plan: RewardPlan, starts_on: dt.date, *, by: Employee | None) -> RewardPeriod:
    """The plan's period that starts on ``starts_on`` (one of :func:`period_starts`), made a
    draft if it is not there yet; the first ``pilot_periods`` are pilots."""
    _check_decides(by)
    starts = period_starts(plan, starts_on)
    if not starts or starts[-1] != starts_on:
        raise ValidationError(
            _("%(day)s is not the first day of one of the plan's periods."),
            params={"day": starts_on.isoformat()},
        )
    period, created = RewardPeriod.objects.get_or_create(
        plan=plan,
        starts_on=starts_on,
        defaults={
            "ends_on": period_end(starts_on, plan.period_months),
            "is_pilot": len(starts) <= plan.pilot_periods,
        },
    )
    if created:
        _record_period(period, "opened")
    return period


def _record_period(period: RewardPeriod, step: str, **details) -> None:
    audit.record(
        Action.CHANGE if step != "opened" else Action.CREATE,
        kind="rewardperiod",
        object_id=period.pk,
        label=str(period),
        details={"step": step, "plan": period.plan_id, **details},
    )


def payout_amount(plan: RewardPlan, paid_share: float) -> Decimal:
    """The roubles of ``paid_share`` of the plan's target bonus, to the kopeck."""
    return (plan.target_bonus * Decimal(repr(paid_share))).quantize(KOPECK, ROUND_HALF_UP)


def _locked_fresh(period: RewardPeriod) -> RewardPeriod:
    """The period as stored, its row locked for this transaction (two approvals at once
    freeze one set of payouts)."""
    fresh = RewardPeriod.objects.select_for_update().select_related("plan").get(pk=period.pk)
    if fresh.state == PeriodState.LOCKED:
        raise LockedPeriodError()
    return fresh


@transaction.atomic
def approve_period(
    period: RewardPeriod, payouts: Iterable[FrozenPayout], *, by: Employee | None
) -> RewardPeriod:
    """Freeze ``payouts`` (computed by :func:`cxloop.insights.rewards.period_payouts`) and mark
    the draft period approved; a pilot period's payouts are shown but pay 0."""
    _check_decides(by)
    period = _locked_fresh(period)
    if period.state != PeriodState.DRAFT:
        raise ValidationError(_("Only a draft period can be approved."))
    rows = []
    for payout in payouts:
        paid = 0.0 if period.is_pilot else payout.share
        rows.append(
            RewardPayout(
                period=period,
                employee_id=payout.employee_id,
                team_id=payout.team_id,
                share=payout.share,
                uncapped=payout.uncapped,
                paid_share=paid,
                amount=payout_amount(period.plan, paid),
                lines=list(payout.lines),
            )
        )
    RewardPayout.objects.bulk_create(rows)
    period.state, period.approved_by, period.approved_at = PeriodState.APPROVED, by, timezone.now()
    period.save(update_fields=["state", "approved_by", "approved_at"])
    total = sum((row.amount for row in rows), Decimal(0))
    _record_period(period, "approved", people=len(rows), amount=str(total))
    return period


@transaction.atomic
def reopen_period(period: RewardPeriod, *, by: Employee | None) -> RewardPeriod:
    """An approved period back to draft: its frozen payouts are discarded."""
    _check_decides(by)
    period = _locked_fresh(period)
    if period.state != PeriodState.APPROVED:
        raise ValidationError(_("Only an approved period can go back to draft."))
    period.payouts.all().delete()
    period.state, period.approved_by, period.approved_at = PeriodState.DRAFT, None, None
    period.save(update_fields=["state", "approved_by", "approved_at"])
    _record_period(period, "reopened")
    return period


@transaction.atomic
def lock_period(period: RewardPeriod, *, by: Employee | None) -> RewardPeriod:
    """An approved period locked for payroll: from now on it never changes."""
    _check_decides(by)
    period = _locked_fresh(period)
    if period.state != PeriodState.APPROVED:
        raise ValidationError(_("Only an approved period can be locked."))
    period.state, period.locked_by, period.locked_at = PeriodState.LOCKED, by, timezone.now()
    period.save(update_fields=["state", "locked_by", "locked_at"])
    _record_period(period, "locked")
    return period
