"""The planted truths the demo is generated from, so that analytics can be checked against them.

Driver weights are in NPS points per rating point: a client whose rating of a touchpoint is one
point higher gives, other things equal, a recommendation score that many points higher.
"""

import datetime as dt
from dataclasses import asdict, dataclass, field

from cxloop.demo.organisation import FIRM, LUCKY_TEAM, PRACTICES, TARGET_SEGMENT, TEAMS
from cxloop.demo.themes import THEMES, TOUCHPOINT_THEMES

MONTHS = 24

# Clients outside the target segment care most about being answered quickly, deadlines and
# accurate invoices; strategic and key clients care most about expertise and the review meeting.
DRIVER_WEIGHTS = {
    "team_responsiveness": 0.90,
    "deadlines": 0.65,
    "billing_accuracy": 0.45,
    "expertise": 0.28,
    "invoice_clarity": 0.22,
    "kickoff_meeting": 0.18,
    "status_updates": 0.14,
    "final_report": 0.12,
    "results_review": 0.10,
    "proposal_document": 0.08,
    "document_request": 0.08,
    "fee_negotiation": 0.06,
    "first_call": 0.05,
    "engagement_letter": 0.05,
    "payment_terms": 0.04,
    "renewal_proposal": 0.04,
    "intro_meeting": 0.03,
    "needs_assessment": 0.03,
    "ongoing_contact": 0.02,
    "website_inquiry": 0.02,
}
TARGET_DRIVER_WEIGHTS = {
    "expertise": 0.95,
    "results_review": 0.70,
    "status_updates": 0.50,
    "team_responsiveness": 0.30,
    "final_report": 0.22,
    "deadlines": 0.18,
    "kickoff_meeting": 0.14,
    "renewal_proposal": 0.12,
    "needs_assessment": 0.10,
    "first_call": 0.08,
    "ongoing_contact": 0.08,
    "proposal_document": 0.06,
    "intro_meeting": 0.05,
    "billing_accuracy": 0.05,
    "invoice_clarity": 0.04,
    "fee_negotiation": 0.04,
    "engagement_letter": 0.03,
    "document_request": 0.03,
    "payment_terms": 0.02,
    "website_inquiry": 0.02,
}
ROLLBACK_TOUCHPOINT, ROLLBACK_MONTHS_BEFORE_END, ROLLBACK_DROP = "billing_accuracy", 5, -0.8
IMPROVEMENT_TOUCHPOINT, IMPROVEMENT_MONTHS_BEFORE_END, IMPROVEMENT_LIFT = "kickoff_meeting", 14, 0.7
LUCKY_STREAK_MONTHS_BEFORE_END, LUCKY_STREAK_LENGTH = 9, 3
LUCK_DRAWS = 2  # on its lucky streak a team's clients score as the best of this many draws
# A large team that is truly better (latent quality points on the 1–5 scale): the fair weigh-in
# ranks it first in the lucky streak's quarter, where raw averages may put the lucky team first.
STEADY_TEAM, STEADY_EDGE = "msk_legal", 0.3
# Every team has a CX champion but these (the champions page lists them as having none).
CHAMPIONLESS_TEAMS = ("kzn_tax", "spb_tax")
# The closed loop's history: cases opened by the demo's rules over this many months, up to this
# many days before the end (the live rules open the cases of the last days themselves). From
# the roll-back's month on, unhappy customers of billing are given the invoice-error cause.
CASE_HISTORY_MONTHS, RULES_WINDOW_DAYS = 18, 14
ROLLBACK_ROOT_CAUSE = ("Ошибка в счёте", "Invoice error")
# The improvement cycle (cxloop/demo/initiatives.py): the billing initiative's standard is in
# force from this many months before the end (a quarter's start, five quarters before the
# roll-back: the data plant no gain for it, billing's level is stable until the roll-back);
# the in-progress initiative's overdue item was due this many days before the end.
BILLING_INITIATIVE_MONTHS_BEFORE_END, OVERDUE_DAYS = 20, 12
# The decision log (cxloop/demo/decisions.py), each decision in force from this many months
# before the end, decided that many before, with the change expected on the rating of its
# touchpoints and the verdict its measured effect earns. The new billing system is in force
# from the roll-back's month: it is the roll-back's cause, expected to help, measured worse. The
# data plant no change for the price rise's and the reorganisation's touchpoints; the kick-off
# standard expects half a point, less than the planted rise (about 0.65 on the rating scale).
DECISIONS = {
    "billing_system": {
        "kind": "system",
        "touchpoints": [ROLLBACK_TOUCHPOINT],
        "months_before_end": ROLLBACK_MONTHS_BEFORE_END,
        "decided_months_before_end": ROLLBACK_MONTHS_BEFORE_END + 2,
        "expected_direction": "up",
        "expected_size": 0.2,
        "verdict": "worse",
    },
    "rate_rise": {
        "kind": "price",
        "touchpoints": ["fee_negotiation"],
        "months_before_end": 12,
        "decided_months_before_end": 13,
        "expected_direction": "down",
        "expected_size": 0.2,
        "verdict": "better",
    },
    "assistant_pool": {
        "kind": "reorg",
        "touchpoints": ["team_responsiveness", "status_updates"],
        "months_before_end": 8,
        "decided_months_before_end": 10,
        "expected_direction": "none",
        "expected_size": 0.0,
        "verdict": "as_expected",
    },
    "kickoff_standard": {
        "kind": "policy",
        "touchpoints": [IMPROVEMENT_TOUCHPOINT],
        "months_before_end": IMPROVEMENT_MONTHS_BEFORE_END,
        "decided_months_before_end": IMPROVEMENT_MONTHS_BEFORE_END + 1,
        "expected_direction": "up",
        "expected_size": 0.5,
        "verdict": "better",
    },
}

# Training (cxloop/demo/training.py): two courses rolled out team by team over the practices,
# one practice every ROLLOUT_STEP_DAYS from this many months before the end, in this order. The
# clients of a person who completed the effective course rate its touchpoint this much higher
# (latent quality points) from the day they completed it; the other course changes nothing. The
# null course reaches the Moscow practices last, in the final weeks: their courses are open or
# wait for the partner's confirmation.
PRACTICE_KEYS = [key for key, _staff in PRACTICES]
TRAINING = {
    "effective": {
        "touchpoint": "proposal_document",
        "lift": 0.5,
        "months_before_end": 17,
        "teams": PRACTICE_KEYS,
    },
    "null": {
        "touchpoint": "deadlines",
        "lift": 0.0,
        "months_before_end": 10,
        "teams": PRACTICE_KEYS[::-1],
    },
}
ROLLOUT_STEP_DAYS = 50

# Reward plans (cxloop/demo/rewards.py) start this many quarters before the first quarter the
# demo has not finished, with a baseline of a year before. From the plan's start the partner of
# GAMING_TEAM games it: GAMING_SHARE of their clients' recommendation scores below 9 become a 10,
# in surveys and in meetings (the clients were asked for a top score; their touchpoint ratings
# do not change). The plan's safeguards flag the partner's score distribution.
REWARD_FINISHED_QUARTERS, REWARD_BASELINE_MONTHS = 2, 12
GAMING_TEAM, GAMING_SHARE = "spb_audit", 0.8
# The employee pulse survey: one wave a quarter, the last PULSE_LAST_DAYS before the end; the
# mean answer (0–10, before rounding; standard deviation PULSE_SD) rises in equal steps from the
# first wave to the last.
PULSE_WAVES, PULSE_LAST_DAYS, PULSE_WAVE_MONTHS = 6, 10, 3
PULSE_MEAN_FIRST, PULSE_MEAN_LAST, PULSE_SD = 6.6, 7.8, 1.9


def month_start(day: dt.date, months_back: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months_back
    return dt.date(index // 12, index % 12 + 1, 1)


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def reward_plan_start(end: dt.date) -> dt.date:
    """The day the demo's reward plans start: REWARD_FINISHED_QUARTERS before the first quarter
    not finished by ``end``."""
    unfinished = quarter_start(end + dt.timedelta(days=1))
    return month_start(unfinished, 3 * REWARD_FINISHED_QUARTERS)


def pulse_wave_days(end: dt.date) -> list[dt.date]:
    """The days of the pulse survey's waves, oldest first."""
    last = end - dt.timedelta(days=PULSE_LAST_DAYS)
    return [_months_before(last, PULSE_WAVE_MONTHS * k) for k in reversed(range(PULSE_WAVES))]


def _months_before(day: dt.date, months: int) -> dt.date:
    first = month_start(day, months)
    return first + dt.timedelta(days=min(day.day, 28) - 1)


@dataclass(frozen=True)
class PlantedTruth:
    seed: int
    start: dt.date
    end: dt.date
    driver_weights: dict[str, float]
    target_segment: str
    target_driver_weights: dict[str, float]
    rollback: dict = field(default_factory=dict)
    improvement: dict = field(default_factory=dict)
    lucky_team: dict = field(default_factory=dict)
    steady_team: dict = field(default_factory=dict)
    teams_without_champion: list = field(default_factory=list)
    cases: dict = field(default_factory=dict)
    initiatives: dict = field(default_factory=dict)
    decisions: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)
    rewards: dict = field(default_factory=dict)
    pulse: dict = field(default_factory=dict)
    comments: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        data["units"] = {
            "driver_weights": "NPS points (0-10 scale) per rating point (1-5 scale)",
            "rollback.drop": "rating points",
            "decisions.*.expected_size": "rating points",
            "improvement.lift": "rating points",
            "training.*.lift": "rating points (latent quality)",
            "rewards.gaming.share": "share of the partner's answers below 9 turned into a 10",
            "pulse.mean_*": "mean answer to the eNPS question (0-10)",
        }
        return data


def planted_truth(*, seed: int, end: dt.date) -> PlantedTruth:
    """The truths of the demo whose data ends on ``end`` (the truths themselves do not depend on
    ``seed``; the noise around them does)."""
    lucky_start = month_start(end, LUCKY_STREAK_MONTHS_BEFORE_END)
    team_names = dict((key, name) for key, name, _ in TEAMS)
    lucky_team_name = team_names[LUCKY_TEAM]
    plans_start = reward_plan_start(end)
    return PlantedTruth(
        seed=seed,
        start=month_start(end, MONTHS),
        end=end,
        driver_weights=DRIVER_WEIGHTS,
        target_segment=TARGET_SEGMENT,
        target_driver_weights=TARGET_DRIVER_WEIGHTS,
        rollback={
            "touchpoint": ROLLBACK_TOUCHPOINT,
            "from_month": month_start(end, ROLLBACK_MONTHS_BEFORE_END).isoformat()[:7],
            "drop": ROLLBACK_DROP,
        },
        improvement={
            "touchpoint": IMPROVEMENT_TOUCHPOINT,
            "from_date": month_start(end, IMPROVEMENT_MONTHS_BEFORE_END).isoformat(),
            "lift": IMPROVEMENT_LIFT,
        },
        lucky_team={
            "team": lucky_team_name,
            "true_effect": 0.0,
            "draws": LUCK_DRAWS,
            "streak_months": [
                month_start(lucky_start, -i).isoformat()[:7] for i in range(LUCKY_STREAK_LENGTH)
            ],
            "explanation": (
                f"A team of two at {FIRM}: its clients' scores in these months are the best of "
                f"{LUCK_DRAWS} equally likely draws — luck, not skill; its true effect is zero."
            ),
        },
        teams_without_champion=[team_names[key] for key in CHAMPIONLESS_TEAMS],
        steady_team={
            "team": team_names[STEADY_TEAM],
            "edge": STEADY_EDGE,
            "explanation": (
                f"A large team whose clients' every touchpoint is {STEADY_EDGE} rating points "
                "better: a real edge, which the fair weigh-in ranks above the lucky team."
            ),
        },
        cases={
            "since": month_start(end, CASE_HISTORY_MONTHS).isoformat(),
            "rules_from": (end - dt.timedelta(days=RULES_WINDOW_DAYS)).isoformat(),
            "rollback_root_cause": ROLLBACK_ROOT_CAUSE[1],
            "rollback_touchpoint": ROLLBACK_TOUCHPOINT,
            "rollback_from_month": month_start(end, ROLLBACK_MONTHS_BEFORE_END).isoformat()[:7],
            "explanation": (
                "Cases before rules_from are the demo's history; the live rules open those of "
                "later answers. From the roll-back's month, billing's cases are mostly invoice "
                "errors (before it, one cause among four)."
            ),
        },
        initiatives={
            "kickoff": {
                "touchpoint": IMPROVEMENT_TOUCHPOINT,
                "state": "done",
                "effective_from": month_start(end, IMPROVEMENT_MONTHS_BEFORE_END).isoformat(),
            },
            "billing": {
                "touchpoint": ROLLBACK_TOUCHPOINT,
                "state": "done",
                "effective_from": month_start(
                    end, BILLING_INITIATIVE_MONTHS_BEFORE_END
                ).isoformat(),
                "rollback_from_month": month_start(end, ROLLBACK_MONTHS_BEFORE_END).isoformat()[:7],
            },
            "in_progress": {
                "touchpoint": "invoice_clarity",
                "overdue_due_on": (end - dt.timedelta(days=OVERDUE_DAYS)).isoformat(),
            },
            "abandoned": {"touchpoint": "fee_negotiation"},
            "proposed": {
                "started_from": "opportunities",
                "touchpoint": "the target segment's top opportunity on the journey map",
            },
            "explanation": (
                "Planted through the improvement services: the kick-off meeting's initiative is "
                "done with its new standard from the planted rise; the billing initiative is done "
                "earlier (no gain planted: billing is stable until the roll-back), so the "
                "roll-back watch holds its level and alarms from the roll-back's period, opening "
                "a case for its owner. The proposed one is added after the fact store is built."
            ),
        },
        training={
            **{
                name: {
                    "touchpoint": planted["touchpoint"],
                    "lift": planted["lift"],
                    "rollout_from": month_start(end, planted["months_before_end"]).isoformat(),
                    "rollout_step_days": ROLLOUT_STEP_DAYS,
                    "rollout_teams": planted["teams"],
                }
                for name, planted in TRAINING.items()
            },
            "explanation": (
                "Each course is assigned to one practice team after another (rollout_teams), "
                "every rollout_step_days from rollout_from; most people complete it within weeks, "
                "some never. From the day a person completes the effective course, their "
                "clients rate its touchpoint lift points higher; the null course changes "
                "nothing. The course page's staggered difference-in-differences recovers both."
            ),
        },
        rewards={
            "plans_start": plans_start.isoformat(),
            "baseline_since": month_start(plans_start, REWARD_BASELINE_MONTHS).isoformat(),
            "gaming": {
                "team": team_names[GAMING_TEAM],
                "title": "Партнёр",
                "from": plans_start.isoformat(),
                "share": GAMING_SHARE,
            },
            "explanation": (
                "The reward plans start on plans_start. From that day the partner of the gaming "
                "team asks clients for a top score: that share of their answers below 9 become a "
                "10. The plan's safeguards flag the partner's score distribution."
            ),
        },
        pulse={
            "waves": [day.isoformat() for day in pulse_wave_days(end)],
            "mean_first": PULSE_MEAN_FIRST,
            "mean_last": PULSE_MEAN_LAST,
            "sd": PULSE_SD,
            "explanation": (
                "The pulse survey runs once a quarter; four in five employees answer each wave, "
                "a normal draw around the wave's mean (sd), rounded and clipped to 0-10. The "
                "mean rises in equal steps from the first wave to the last, so the firm's eNPS "
                "rises over the waves."
            ),
        },
        comments={
            "themes": [spec.key for spec in THEMES],
            "touchpoint_themes": {code: list(keys) for code, keys in TOUCHPOINT_THEMES.items()},
            "explanation": (
                "Each comment is written about a touchpoint (its response's event, or a low or "
                "high rating of a relationship survey) with the sentiment of its score; the "
                "firm's taxonomy (cxloop/demo/themes.py) names, for each touchpoint, the themes "
                "its comments are about. Every comment is enriched with language, sentiment and "
                "themes."
            ),
        },
        decisions={
            **{
                name: {
                    "kind": planted["kind"],
                    "touchpoints": planted["touchpoints"],
                    "decided_on": month_start(
                        end, planted["decided_months_before_end"]
                    ).isoformat(),
                    "in_force_from": month_start(end, planted["months_before_end"]).isoformat(),
                    "expected_direction": planted["expected_direction"],
                    "expected_size": planted["expected_size"],
                    "verdict": planted["verdict"],
                }
                for name, planted in DECISIONS.items()
            },
            "explanation": (
                "Planted through the decision services. The new billing system is in force from "
                "the roll-back's month and caused it: a rise was expected, the measured effect "
                "is worse, and the cycle review of that quarter lists it. The rate rise and the "
                "assistants' pool touch touchpoints the data leave unchanged, so their measured "
                "effect is near zero; the kick-off standard's is the planted rise. Each verdict "
                "is that of the measured effect (difference in differences, as of the end) "
                "against the expectation."
            ),
        },
    )
