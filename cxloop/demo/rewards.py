"""The demo's reward plans (issue #13, point 4): one for the partners (on their own figures),
one for the managing partner (the CEO, on the whole firm's figures), each with two finished
quarters — the first a pilot without pay — and the current quarter, if it has begun, open as
a draft.

The plans and their periods are planted with the rest of the demo (:func:`plant_reward_plans`);
the finished quarters are approved and locked once the fact store is written
(:func:`lock_finished_quarters`), for their payouts are computed from the demo's own figures.
Plans, periods and payouts all go through the reward services, so each has its audit trail.
"""

import datetime as dt

from cxloop.demo.truth import PlantedTruth
from cxloop.insights import rewards
from cxloop.people.choices import Role
from cxloop.people.models import Employee
from cxloop.people.reward_choices import Basis, Fallback, MeasuredOn, PeriodState
from cxloop.people.reward_queries import plan_periods, reward_plans
from cxloop.people.reward_services import (
    approve_period,
    lock_period,
    open_period,
    period_starts,
    save_plan,
)

PARTNERS = {
    "name": "Партнёры: клиентский опыт",
    "name_en": "Partners: customer experience",
    "role": Role.MANAGER,
    "title": "Партнёр",
    "measured_on": MeasuredOn.PERSON,
    "target_bonus": 600_000,
    "threshold_payout": 50,
    "max_payout": 150,
    "cap": 130,
    "min_n": 10,
    "fallback": Fallback.TEAM,
    "basis": Basis.SHRUNK,
}
PARTNERS_BASKET = [
    {"metric": "own_nps", "weight": 40, "threshold": 0, "target": 20, "maximum": 45},
    {"metric": "loop_in_sla", "weight": 25, "threshold": 70, "target": 85, "maximum": 95},
    {"metric": "first_contact_hours", "weight": 15, "threshold": 4, "target": 2, "maximum": 0.5},
    {"metric": "training_done", "weight": 10, "threshold": 50, "target": 80, "maximum": 100},
    {"metric": "team_enps", "weight": 10, "threshold": 0, "target": 20, "maximum": 40},
]
CEO = {
    "name": "Управляющий партнёр",
    "name_en": "Managing partner",
    "role": Role.EXECUTIVE,
    "title": "Управляющий партнёр",
    "measured_on": MeasuredOn.ORGANISATION,
    "target_bonus": 2_500_000,
    "threshold_payout": 50,
    "max_payout": 150,
    "cap": 120,
    "min_n": 30,
    "fallback": Fallback.DROP,
    "basis": Basis.RAW,
}
CEO_BASKET = [
    {"metric": "own_nps", "weight": 40, "threshold": 5, "target": 20, "maximum": 35},
    {"metric": "loop_in_sla", "weight": 20, "threshold": 70, "target": 85, "maximum": 95},
    {"metric": "initiatives_delivered", "weight": 20, "threshold": 1, "target": 2, "maximum": 4},
    {"metric": "team_enps", "weight": 20, "threshold": 0, "target": 20, "maximum": 40},
]


def plant_reward_plans(truth: PlantedTruth) -> None:
    """The two plans, from the planted start (two quarters before the first quarter not
    finished by the demo's last day), with every period that has started by then opened as a
    draft."""
    ceo = Employee.objects.get(user__username="ceo")
    schedule = {
        "period_months": 3,
        "starts_on": dt.date.fromisoformat(truth.rewards["plans_start"]),
        "baseline_since": dt.date.fromisoformat(truth.rewards["baseline_since"]),
        "pilot_periods": 1,
    }
    for fields, basket in ((PARTNERS, PARTNERS_BASKET), (CEO, CEO_BASKET)):
        plan = save_plan(None, {**fields, **schedule}, basket, by=ceo)
        for start in period_starts(plan, truth.end):
            open_period(plan, start, by=ceo)


def lock_finished_quarters(truth: PlantedTruth) -> None:
    """Approve (the CEO) and lock for payroll (the CX lead) every planted period that ended by
    the demo's last day; needs the fact store."""
    ceo = Employee.objects.get(user__username="ceo")
    lead = Employee.objects.get(user__username="cx.lead")
    for plan in reward_plans():
        for period in plan_periods(plan).order_by("starts_on"):
            if period.ends_on > truth.end or period.state != PeriodState.DRAFT:
                continue
            approved = approve_period(period, rewards.to_freeze(period), by=ceo)
            lock_period(approved, by=lead)
