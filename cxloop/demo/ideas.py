"""The demo's ideas box answered (issue #13, point 6): the ideas the simulation drew, moved
through every state with an answer to their authors by the people who answer them (the author's
nearest manager, the CX lead for anonymous ideas), through the people services; the idea of one
weekly status template became an initiative, linked to it and approved.

Answers are the firm's own words, in Russian like the ideas; dates follow each idea's own, so
that the demo stays deterministic.
"""

import datetime as dt
from decimal import Decimal

from cxloop.demo import organisation as org
from cxloop.demo.truth import PlantedTruth
from cxloop.improvements import services as improvements
from cxloop.improvements.choices import InitiativeState
from cxloop.journeys.models import Touchpoint
from cxloop.people.choices import IdeaStatus
from cxloop.people.models import Employee, Idea
from cxloop.people.queries import manager_chain
from cxloop.people.services import set_idea_status

# Each idea of org.IDEAS (by its text's place there): the states it passes through, in order,
# and the answer given with the last of them ("" for none).
ANSWERS: dict[int, tuple[tuple[str, ...], str]] = {
    0: (
        (IdeaStatus.REVIEWING, IdeaStatus.ACCEPTED),
        "Берём в работу: единый шаблон статуса запускаем инициативой по статус-отчётам.",
    ),
    1: (
        (IdeaStatus.ACCEPTED,),
        "Принято: протокол в течение 24 часов вошёл в новый стандарт стартовой встречи.",
    ),
    2: (
        (IdeaStatus.REVIEWING, IdeaStatus.ACCEPTED),
        "Принято: вторая проверка счёта вошла в стандарт выставления счетов.",
    ),
    3: (
        (IdeaStatus.REVIEWING,),
        "Собираем вопросы клиентов за квартал, чтобы понять, какие повторяются чаще всего.",
    ),
    4: (
        (IdeaStatus.DECLINED,),
        "Спасибо! Через месяц после проекта клиент уже получает опрос; второй звонок в то же "
        "время клиенты воспринимают как лишний.",
    ),
    5: ((), ""),  # new: not read yet
    6: (
        (IdeaStatus.REVIEWING, IdeaStatus.DECLINED),
        "Список документов задан требованиями к аудиту; сократить его мы не можем, но "
        "объясним клиентам, зачем нужен каждый документ.",
    ),
    7: ((IdeaStatus.REVIEWING,), ""),
}
# The idea that became an initiative, and its initiative.
INITIATIVE_IDEA = 0
INITIATIVE = {
    "title": ("Единый шаблон статус-отчёта", "One status report template"),
    "touchpoint": "status_updates",
    "hypothesis": "Единый шаблон сделает статус-отчёты понятнее и поднимет их оценку клиентами.",
    "target": Decimal("4.3"),
}


def _at(day: dt.date, hour: int = 11) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def _answerer(idea: Idea, lead: Employee) -> Employee:
    """The author's nearest manager (not the author), or the CX lead."""
    if idea.team_id is None:
        return lead
    skip = [] if idea.author_id is None else [idea.author_id]
    chain = manager_chain(idea.team_id, skip=skip)
    return chain[0] if chain else lead


def answer_ideas(truth: PlantedTruth) -> Idea:
    """Move and answer the demo's ideas (:data:`ANSWERS`) and start the initiative of
    :data:`INITIATIVE_IDEA`; returns that idea."""
    lead = Employee.objects.get(user__username="cx.lead")
    ideas = {idea.text: idea for idea in Idea.objects.all()}
    for place, (states, answer) in ANSWERS.items():
        idea = ideas[org.IDEAS[place]]
        by = _answerer(idea, lead)
        for step, status in enumerate(states, start=1):
            day = min(truth.end, idea.created_on + dt.timedelta(days=3 * step))
            last = step == len(states)
            set_idea_status(idea, status, answer=answer if last else "", by=by, now=_at(day))
    idea = ideas[org.IDEAS[INITIATIVE_IDEA]]
    day = min(truth.end, idea.created_on + dt.timedelta(days=10))
    owner = _answerer(idea, lead)
    initiative = improvements.create_initiative(
        title=INITIATIVE["title"][0],
        title_en=INITIATIVE["title"][1],
        touchpoints=[Touchpoint.objects.get(code=INITIATIVE["touchpoint"])],
        problem=idea.text,
        hypothesis=INITIATIVE["hypothesis"],
        metric="rating",
        target_value=INITIATIVE["target"],
        target_date=truth.end + dt.timedelta(days=120),
        owner=owner,
        by=lead,
        now=_at(day),
        from_idea=idea,
    )
    improvements.change_state(initiative, InitiativeState.APPROVED, by=lead, now=_at(day, hour=15))
    idea.refresh_from_db()
    return idea
