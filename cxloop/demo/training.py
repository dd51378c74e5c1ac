"""The demo's training (issue #13, point 3): two courses on the standards of the demo's
touchpoints, rolled out practice team by practice team, with assignments, completions and the
managers' confirmations planted through the training services. The effective course teaches
the proposal's new standard, written by a done initiative on the roll-out's first day.

Who completes when is drawn here (:func:`draw_training`, from a random stream of its own, so
that the rest of the simulation draws what it drew without training); the simulator raises the
ratings of the effective course's touchpoint for the clients of the people who completed it,
from that day on (:func:`training_lift`); :func:`plant_training` writes the records.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from cxloop.demo import organisation as org
from cxloop.demo.truth import PlantedTruth
from cxloop.improvements import services as improvements
from cxloop.improvements import training_services as services
from cxloop.people.models import Employee
from cxloop.people.queries import manager_chain

COURSES = {
    "effective": (
        "Коммерческое предложение по стандарту",
        "The proposal by the standard",
        "Структура предложения, расчёт гонорара, сроки и ответ на вопросы клиента за 48 часов.",
    ),
    "null": (
        "Управление сроками проекта",
        "Managing project deadlines",
        "План-график, контрольные точки и предупреждение клиента о риске срыва заранее.",
    ),
}
PROPOSAL_STANDARD = (
    "Предложение по единой структуре: задача клиента, объём работ, команда, сроки, гонорар с "
    "расчётом; ответ на вопросы клиента в течение 48 часов.",
    "One structure for every proposal: the client's task, the scope, the team, the timeline "
    "and the fee with its calculation; the client's questions answered within 48 hours.",
)
DUE_DAYS = 45
# Days from the assignment to its completion, and the share who never complete it.
COMPLETION_DAYS, NEVER_COMPLETE = (7, 70), 0.12
# Completions of the last days are waiting for their manager's confirmation.
CONFIRMATION_DAYS, AWAITING_DAYS = (1, 7), 20


@dataclass(frozen=True)
class TrainingRecord:
    """One person's assignment of a course (``course``: a key of the truth's training) and,
    where they took it, when they said so and when their manager confirmed it."""

    course: str
    person: int  # index into the simulated people
    assigned_on: dt.date
    completed_on: dt.date | None
    confirmed_on: dt.date | None


def draw_training(truth: PlantedTruth, people) -> list[TrainingRecord]:
    """Every practice's people are assigned each course in turn, one practice every
    ``rollout_step_days``; each completes it within weeks, or never."""
    rng = np.random.default_rng([truth.seed, 13])
    records = []
    for course, planted in _courses(truth):
        start = dt.date.fromisoformat(planted["rollout_from"])
        for step, team in enumerate(planted["rollout_teams"]):
            assigned_on = start + dt.timedelta(days=step * planted["rollout_step_days"])
            for person in (i for i, p in enumerate(people) if p.team == team):
                completed_on = None
                if rng.random() >= NEVER_COMPLETE:
                    completed_on = assigned_on + dt.timedelta(int(rng.integers(*COMPLETION_DAYS)))
                    if completed_on >= truth.end:
                        completed_on = None
                confirmed_on = None
                if completed_on is not None and (truth.end - completed_on).days > AWAITING_DAYS:
                    delay = int(rng.integers(*CONFIRMATION_DAYS))
                    confirmed_on = completed_on + dt.timedelta(delay)
                records.append(
                    TrainingRecord(course, person, assigned_on, completed_on, confirmed_on)
                )
    return records


def _courses(truth: PlantedTruth):
    return [(name, truth.training[name]) for name in COURSES]


def _seconds(day: dt.date) -> int:
    return int((day - dt.date(1970, 1, 1)).total_seconds())


def training_lift(
    truth: PlantedTruth, records: list[TrainingRecord], owners: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """What the simulator adds to each touchpoint's latent quality for each client: from
    when (seconds; shape clients × touchpoints, a far future where never) and how much (per
    touchpoint): the lift of each course whose owner completed it."""
    codes = [tp.code for tp in org.TOUCHPOINTS]
    lift = np.zeros(len(codes))
    never = np.iinfo(np.int64).max
    since = np.full((len(owners), len(codes)), never, dtype=np.int64)
    for course, planted in _courses(truth):
        if not planted["lift"]:
            continue
        tp = codes.index(planted["touchpoint"])
        lift[tp] = planted["lift"]
        for record in records:
            if record.course == course and record.completed_on is not None:
                since[owners == record.person, tp] = _seconds(record.completed_on)
    return since, lift


def _new_proposal_standard(truth: PlantedTruth, touchpoint, lead: Employee) -> None:
    """The effective course teaches a standard the improvement cycle wrote: an initiative on
    its touchpoint, done with the new standard in force from the roll-out's first day (so the
    roll-back watch holds the touchpoint's level from then, as the rise the course brings
    comes in team by team)."""
    start = dt.date.fromisoformat(truth.training["effective"]["rollout_from"])
    owner = Employee.objects.get(user__username="manager")
    initiative = improvements.create_initiative(
        title="Коммерческое предложение по единому стандарту",
        title_en="One standard for the proposal",
        touchpoints=[touchpoint],
        problem="Предложения разных команд устроены по-разному; клиенты сравнивают их с трудом.",
        hypothesis="Единая структура и обучение всех партнёров поднимут оценку предложения.",
        metric="rating",
        target_value=Decimal("4.00"),
        target_date=start + dt.timedelta(days=365),
        owner=owner,
        by=lead,
        now=_at(start - dt.timedelta(days=90)),
    )
    improvements.change_state(initiative, "approved", by=lead, now=_at(start - dt.timedelta(80)))
    improvements.change_state(
        initiative, "in_progress", by=owner, now=_at(start - dt.timedelta(70))
    )
    improvements.finish(
        initiative,
        change_ru=PROPOSAL_STANDARD[0],
        change_en=PROPOSAL_STANDARD[1],
        effective_from=start,
        training=COURSES["effective"][1],
        by=owner,
        now=_at(start - dt.timedelta(days=1), 17),
    )


def plant_training(
    truth: PlantedTruth, records: list[TrainingRecord], *, employees: list[Employee], touchpoints
) -> dict:
    """The courses, each on its touchpoint's current standard (the effective one's written by
    an initiative first), with every drawn assignment, completion and confirmation, written
    through the services as of their days. Returns the courses by the truth's key."""
    lead = Employee.objects.get(user__username="cx.lead")
    by_code = {tp.code: tp for tp in touchpoints}
    _new_proposal_standard(truth, by_code[truth.training["effective"]["touchpoint"]], lead)
    courses = {}
    for name, planted in _courses(truth):
        title, title_en, description = COURSES[name]
        created = dt.date.fromisoformat(planted["rollout_from"]) - dt.timedelta(days=1)
        courses[name] = services.create_course(
            title=title,
            title_en=title_en,
            description=description,
            touchpoints=[by_code[planted["touchpoint"]]],
            due_days=DUE_DAYS,
            by=lead,
            now=_at(created, 18),
        )
    for record in records:
        employee = employees[record.person]
        (assignment,) = services.assign_course(
            courses[record.course], [employee], by=lead, now=_at(record.assigned_on, 9)
        )
        if record.completed_on is None:
            continue
        services.mark_completed(assignment, by=employee, now=_at(record.completed_on, 17))
        if record.confirmed_on is not None:
            assignment.refresh_from_db()
            manager = (manager_chain(employee.team_id, skip=[employee.pk]) or [lead])[0]
            services.confirm_completion(assignment, by=manager, now=_at(record.confirmed_on))
    return courses


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)
