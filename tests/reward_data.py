"""A reward plan for the managers of the shared test organisation (cxloop.test.BaseTestCase),
with figures set by hand so that every payout can be computed in a comment."""

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from unittest import mock

from cxloop.insights import rewards
from cxloop.people.models import Role
from cxloop.people.reward_services import save_plan


@dataclass(frozen=True)
class Definition:
    key: str
    label: str
    unit: str
    higher_is_better: bool
    kind: str


@dataclass(frozen=True)
class Figure:
    value: float | None
    n: int
    low: float | None = None
    high: float | None = None
    shrunk: float | None = None


METRICS = (
    Definition("own_nps", "Own customers' NPS", "points", True, rewards.SURVEY_KIND),
    Definition("loop_in_sla", "Closed loop within SLA", "percent", True, "loop"),
    Definition("first_contact_hours", "Hours to first contact", "hours", False, "loop"),
)
BASKET = [
    {"metric": "own_nps", "weight": 50, "threshold": 20, "target": 40, "maximum": 60},
    {"metric": "loop_in_sla", "weight": 30, "threshold": 70, "target": 85, "maximum": 95},
    {"metric": "first_contact_hours", "weight": 20, "threshold": 48, "target": 24, "maximum": 8},
]
PLAN = {
    "name": "Партнёры",
    "name_en": "Partners",
    "role": Role.MANAGER,
    "measured_on": "person",
    "threshold_payout": 50,
    "max_payout": 150,
    "cap": 120,
    "min_n": 10,
    "fallback": "team",
    "basis": "raw",
    "period_months": 3,
    "starts_on": dt.date(2026, 1, 1),
    "baseline_since": dt.date(2025, 1, 1),
    "pilot_periods": 1,
    "target_bonus": 100000,
}


def make_plan(by, **changes):
    return save_plan(None, {**PLAN, **changes}, BASKET, by=by)


def figures_of(owner, partner, team_b):
    """The owner: NPS 30 (25 answers), 90 % in SLA, 36 h → 0.90 of the target bonus.
    The partner: NPS 90 from 5 answers (< 10: team B's 50 from 80 answers counts), 100 % in SLA,
    4 h → 1.25 × 0.5 + 1.5 × 0.3 + 1.5 × 0.2 = 1.375, capped at 1.20."""
    return {
        "people": {
            owner: {
                "own_nps": Figure(30, 25),
                "loop_in_sla": Figure(90, 40),
                "first_contact_hours": Figure(36, 40),
            },
            partner: {
                "own_nps": Figure(90, 5),
                "loop_in_sla": Figure(100, 12),
                "first_contact_hours": Figure(4, 12),
            },
        },
        "teams": {team_b: {"own_nps": Figure(50, 80)}},
    }


@contextmanager
def measured_as(figures):
    """cxloop.insights.rewards reading ``figures`` instead of the accountability queries."""
    fake = SimpleNamespace(
        METRICS=METRICS,
        MetricDefinition=Definition,
        person_figures=lambda ids, *, since, until: {
            i: figures["people"][i] for i in ids if i in figures["people"]
        },
        team_figures=lambda ids, *, since, until: {
            i: figures["teams"][i] for i in ids if i in figures["teams"]
        },
    )
    with mock.patch.object(rewards, "accountability", fake):
        yield
