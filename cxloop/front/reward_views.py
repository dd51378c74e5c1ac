"""The reward plan pages (issue #13, point 4).

Everyone signed in reads the plans — their basket, curve, safeguards and periods — and tries
the what-if simulator: the rules of pay are no secret. Payouts are: an employee sees their own,
a manager their teams' people, administrators and executives everyone, a viewer nobody's
(:func:`cxloop.people.reward_queries.visible_payees`). Only administrators and executives
change a plan, open, approve or lock a period and export it for payroll (403 for the others).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cxloop.audit.choices import Action
from cxloop.audit.queries import events
from cxloop.front.reward_exports import payroll_csv, payroll_parquet, payroll_xlsx
from cxloop.front.reward_forms import OpenPeriodForm, PeriodStepForm, PlanForm, SimulatorForm
from cxloop.insights import rewards
from cxloop.people.queries import employee_of, team_paths
from cxloop.people.reward_choices import PeriodState
from cxloop.people.reward_queries import (
    opened_starts,
    plan_field_labels,
    plan_periods,
    reward_period,
    reward_plan,
    reward_plans,
    visible_payees,
)
from cxloop.people.reward_services import (
    approve_period,
    lock_period,
    may_decide,
    open_period,
    payout_amount,
    period_end,
    period_starts,
    reopen_period,
    save_plan,
)

HISTORY_ROWS = 50


def _plan_or_404(pk: int):
    plan = reward_plan(pk)
    if plan is None:
        raise Http404
    return plan


def _period_or_404(pk: int):
    period = reward_period(pk)
    if period is None:
        raise Http404
    return period


def _decider(request: HttpRequest):
    """The signed-in administrator or executive; PermissionDenied for anyone else."""
    me = employee_of(request.user)
    if not may_decide(me):
        raise PermissionDenied
    return me


def _period_label(start: dt.date, end: dt.date) -> str:
    return f"{date_format(start, 'SHORT_DATE_FORMAT')} – {date_format(end, 'SHORT_DATE_FORMAT')}"


def _basket(plan) -> list[dict]:
    known = rewards.definitions()
    return [{"row": row, "metric": known.get(row.metric)} for row in plan.metrics.all()]


@login_required
def reward_plan_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "front/rewards/plan_list.html",
        {"plans": reward_plans(), "may_decide": may_decide(employee_of(request.user))},
    )


def _plan_form_page(request: HttpRequest, plan) -> HttpResponse:
    me = _decider(request)
    data = request.POST if request.method == "POST" else None
    form = (
        PlanForm.of_plan(plan, data)
        if plan
        else PlanForm(data, initial=_new_plan_dates(timezone.localdate()))
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = save_plan(plan, form.plan_fields(), form.basket(), by=me)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, problems in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
            else:
                form.add_error(None, error)
        else:
            messages.success(request, _("The reward plan is saved."))
            return redirect("reward_plan_detail", pk=saved.pk)
    return render(request, "front/rewards/plan_edit.html", {"form": form, "plan": plan})


def _new_plan_dates(today: dt.date) -> dict[str, dt.date]:
    """A new plan starts with the next quarter, its baseline the year before (the least the
    safeguards ask for)."""
    quarter = (today.month - 1) // 3
    year, month = today.year + (quarter == 3), (quarter + 1) % 4 * 3 + 1
    starts = dt.date(year, month, 1)
    return {"starts_on": starts, "baseline_since": starts.replace(year=year - 1)}


@login_required
def reward_plan_new(request: HttpRequest) -> HttpResponse:
    return _plan_form_page(request, None)


@login_required
def reward_plan_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _plan_form_page(request, _plan_or_404(pk))


def _openable(plan, today: dt.date) -> list[tuple[dt.date, str]]:
    """The plan's periods that have started by ``today`` and are not opened yet."""
    opened = opened_starts(plan)
    return [
        (start, _period_label(start, period_end(start, plan.period_months)))
        for start in period_starts(plan, today)
        if start not in opened
    ]


def _history(plan) -> list[dict]:
    """The plan's audit events, each change as (field's name, before, after); the basket as
    one line (before and after are on the audit log's page)."""
    labels = {**plan_field_labels(), "metrics": _("basket of metrics")}
    rows = []
    for event in events(kind="rewardplan", object_id=str(plan.pk))[:HISTORY_ROWS]:
        # A plan's creation lists every field as changed: its page shows them already.
        changes = (event.details or {}).get("changes", {}) if event.action == Action.CHANGE else {}
        rows.append(
            {
                "event": event,
                "changes": [
                    (labels.get(name, name), None if name == "metrics" else change)
                    for name, change in changes.items()
                ],
            }
        )
    return rows


@login_required
def reward_plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(pk)
    today = timezone.localdate()
    deciding = may_decide(employee_of(request.user))
    check = rewards.gaming_check(plan, today=today)
    payees = visible_payees(request.user)
    flags = [f for f in check.flags if payees is None or f.employee_id in payees]
    history = _history(plan) if deciding else []
    return render(
        request,
        "front/rewards/plan_detail.html",
        {
            "plan": plan,
            "basket": _basket(plan),
            "check": check,
            "flags": flags,
            "periods": plan_periods(plan),
            "may_decide": deciding,
            "open_form": OpenPeriodForm(None, starts=_openable(plan, today)) if deciding else None,
            "history": history,
        },
    )


@login_required
def reward_simulate(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(pk)
    form = SimulatorForm(request.GET or None, plan=plan)
    result = rewards.simulate(plan, form.values())
    known = rewards.definitions()
    return render(
        request,
        "front/rewards/simulate.html",
        {
            "plan": plan,
            "form": form,
            "result": result,
            "lines": [(line, known[line.key]) for line in result.lines],
            "amount": payout_amount(plan, result.total),
        },
    )


@login_required
@require_POST
def reward_period_open(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_or_404(pk)
    me = _decider(request)
    form = OpenPeriodForm(request.POST, starts=_openable(plan, timezone.localdate()))
    if not form.is_valid():
        messages.error(request, _("Choose one of the plan’s periods that have started."))
        return redirect("reward_plan_detail", pk=plan.pk)
    period = open_period(plan, dt.date.fromisoformat(form.cleaned_data["starts_on"]), by=me)
    return redirect("reward_period_detail", pk=period.pk)


@login_required
def reward_period_detail(request: HttpRequest, pk: int) -> HttpResponse:
    period = _period_or_404(pk)
    me = employee_of(request.user)
    rows = rewards.period_payouts(period, payees=visible_payees(request.user))
    known = rewards.definitions()
    teams = team_paths(sorted({row.team_id for row in rows}))
    return render(
        request,
        "front/rewards/period_detail.html",
        {
            "period": period,
            "plan": period.plan,
            "label": _period_label(period.starts_on, period.ends_on),
            "rows": [
                {
                    "payout": row,
                    "team": teams.get(row.team_id, ""),
                    "mine": me is not None and row.employee_id == me.pk,
                    "lines": [(line, known.get(line.key)) for line in row.lines],
                }
                for row in rows
            ],
            "may_decide": may_decide(me),
            "steps": _steps(period.state),
        },
    )


def _steps(state: str) -> list[str]:
    return {
        PeriodState.DRAFT: ["approve"],
        PeriodState.APPROVED: ["lock", "reopen"],
    }.get(state, [])


@login_required
@require_POST
def reward_period_state(request: HttpRequest, pk: int) -> HttpResponse:
    period = _period_or_404(pk)
    me = _decider(request)
    form = PeriodStepForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a step: approve, back to draft or lock."))
        return redirect("reward_period_detail", pk=period.pk)
    step = form.cleaned_data["step"]
    try:
        if step == "approve":
            approve_period(period, rewards.to_freeze(period), by=me)
        elif step == "reopen":
            reopen_period(period, by=me)
        else:
            lock_period(period, by=me)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The period is now: %(state)s.") % {"state": _state(step)})
    return redirect("reward_period_detail", pk=period.pk)


def _state(step: str) -> str:
    state = {"approve": PeriodState.APPROVED, "reopen": PeriodState.DRAFT}.get(
        step, PeriodState.LOCKED
    )
    return str(PeriodState(state).label)


@login_required
def reward_period_csv(request: HttpRequest, pk: int) -> HttpResponse:
    period = _period_or_404(pk)
    _decider(request)
    return payroll_csv(period, rewards.period_payouts(period))


@login_required
def reward_period_parquet(request: HttpRequest, pk: int) -> HttpResponse:
    period = _period_or_404(pk)
    _decider(request)
    return payroll_parquet(period, rewards.period_payouts(period))


@login_required
def reward_period_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    period = _period_or_404(pk)
    _decider(request)
    return payroll_xlsx(period, rewards.period_payouts(period), rewards.definitions())
