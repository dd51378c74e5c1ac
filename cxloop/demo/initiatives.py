"""The demo's improvement cycle (issue #12, point 7), planted through the improvements services so
that its history, standards and audit are the real ones:

- the kick-off meeting's initiative, done, its new standard in force from the planted improvement's
  date (the rise the data carry from that day);
- an earlier one on billing accuracy, done well before the planted roll-back, whose level the
  roll-back watch holds (the data plant no gain for it: billing's level is stable until the
  roll-back, so the watch's baseline is that level and the roll-back's drop alarms);
- one in progress with an overdue action item, and one abandoned;
- after the fact store is built, one proposed from the target segment's top opportunity
  (:func:`propose_top_opportunity`), ranked by the journey map's own query.

The texts are the demo's data, in Russian and English; dates are the truth's, so the demo stays
deterministic. The decisions taken beside them are planted by :mod:`cxloop.demo.decisions`.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from cxloop.customers.models import Segment
from cxloop.demo.truth import PlantedTruth
from cxloop.improvements import services
from cxloop.improvements.choices import InitiativeState, StartedFrom
from cxloop.improvements.models import Initiative
from cxloop.insights.journey import JourneyMapQuery, journey_of
from cxloop.insights.store import Scope
from cxloop.journeys.models import Touchpoint
from cxloop.people.models import Employee, Role, Team

KICKOFF_STANDARD = (
    "Стартовая встреча по единому сценарию: план на 90 дней, роли, контакты, график статусов; "
    "протокол клиенту в течение 24 часов.",
    "Kick-off by one script: a 90-day plan, roles, contacts and the status schedule; minutes "
    "to the client within 24 hours.",
)
BILLING_STANDARD = (
    "Счёт сверяется с табелем и письмом о привлечении до отправки; второй сотрудник биллинга "
    "проверяет ставки и часы; исправленный счёт клиенту в течение 2 рабочих дней.",
    "Each invoice is checked against the timesheet and the engagement letter before it goes "
    "out; a second billing clerk checks rates and hours; a corrected invoice reaches the client "
    "within 2 working days.",
)


def _at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=dt.UTC)


def _manager_of(team: Team) -> Employee:
    """The team's first manager (a partner), or the first in the teams below it."""
    teams, frontier = [team], [team]
    while frontier:
        frontier = list(Team.objects.filter(parent__in=frontier).order_by("pk"))
        teams += frontier
    for t in teams:
        found = Employee.objects.filter(team=t, role=Role.MANAGER).order_by("pk").first()
        if found is not None:
            return found
    raise LookupError(f"no manager in or below {team}")


def _staff_of(team: Team, but: Employee) -> Employee:
    """Someone else of the team (or below it) to own an action item."""
    found = (
        Employee.objects.filter(team=team).exclude(pk=but.pk).order_by("pk").first()
        or Employee.objects.filter(team__parent=team).exclude(pk=but.pk).order_by("pk").first()
    )
    return found or but


@dataclass(frozen=True)
class ActionItemSpec:
    """An action item added on the day the initiative starts (one an hour from 11:00, in
    order); a done one was done two days before it was due."""

    text: str
    due_on: dt.date
    by_helper: bool = False  # owned by a colleague of the initiative's owner
    done: bool = True


@dataclass(frozen=True)
class InitiativeSpec:
    """One planted initiative: its texts, and the days it reached each of its states (None: it
    never did). Proposed by the CX lead unless ``proposed_by_owner``."""

    name: str
    touchpoint: str
    title: tuple[str, str]  # Russian, English
    problem: str
    hypothesis: str
    target_value: Decimal
    target_date: dt.date
    proposed: dt.date
    proposed_by_owner: bool = False
    approved: dt.date | None = None
    started: dt.date | None = None
    items: tuple[ActionItemSpec, ...] = ()
    finished: dt.date | None = None
    standard: tuple[str, str] = ("", "")  # what changed, Russian and English
    effective_from: dt.date | None = None
    training: str = ""
    abandoned: dt.date | None = None
    abandoned_because: str = ""


def initiative_specs(truth: PlantedTruth) -> tuple[InitiativeSpec, ...]:
    """The initiatives of the module's docstring that need no fact store, dated by ``truth``."""
    days = dt.timedelta
    # (a) the kick-off meeting: proposed four months before the planted rise, done on its eve.
    change = dt.date.fromisoformat(truth.improvement["from_date"])
    # (b) billing accuracy: done long before the roll-back; the roll-back undoes its standard.
    billing = dt.date.fromisoformat(truth.initiatives["billing"]["effective_from"])
    # (c) in progress, with an item overdue on the demo's last day; (d) one abandoned.
    started = truth.end - days(75)
    return (
        InitiativeSpec(
            name="kickoff",
            touchpoint=truth.improvement["touchpoint"],
            title=(
                "Стартовая встреча по единому сценарию",
                "One script for the kick-off meeting",
            ),
            problem="После стартовой встречи клиенты не знают плана работ, ролей команды и к "
            "кому обращаться; каждая команда проводит встречу по-своему.",
            hypothesis="Единый сценарий (план на 90 дней, роли, контакты, график статусов) и "
            "протокол в течение суток поднимут среднюю оценку стартовой встречи до 4,1.",
            target_value=Decimal("4.10"),
            target_date=change + days(270),
            proposed=change - days(120),
            approved=change - days(110),
            started=change - days(100),
            items=(
                ActionItemSpec(
                    "Написать сценарий стартовой встречи и шаблон плана на 90 дней",
                    change - days(60),
                ),
                ActionItemSpec(
                    "Шаблон протокола и рассылка клиенту в течение 24 часов",
                    change - days(40),
                    by_helper=True,
                ),
                ActionItemSpec(
                    "Провести обучение партнёров и менеджеров по сценарию", change - days(15)
                ),
            ),
            finished=change - days(3),
            standard=KICKOFF_STANDARD,
            effective_from=change,
            training="Сценарий стартовой встречи (1 час)",
        ),
        InitiativeSpec(
            name="billing",
            touchpoint=truth.rollback["touchpoint"],
            title=(
                "Сверка счетов с табелем до отправки",
                "Invoices checked against the timesheet before they go out",
            ),
            problem="Клиенты находят в счетах лишние часы и неверные ставки; исправление "
            "занимает недели.",
            hypothesis="Сверка с табелем и письмом о привлечении и проверка вторым сотрудником "
            "удержат оценку точности счетов не ниже 4,0.",
            target_value=Decimal("4.00"),
            target_date=billing + days(180),
            proposed=billing - days(90),
            approved=billing - days(85),
            started=billing - days(80),
            items=(
                ActionItemSpec(
                    "Чек-лист сверки счёта с табелем и письмом о привлечении", billing - days(50)
                ),
                ActionItemSpec(
                    "Вторая проверка ставок и часов перед отправкой",
                    billing - days(20),
                    by_helper=True,
                ),
            ),
            finished=billing - days(5),
            standard=BILLING_STANDARD,
            effective_from=billing,
            training="Сверка счетов (30 минут)",
        ),
        InitiativeSpec(
            name="in_progress",
            touchpoint=truth.initiatives["in_progress"]["touchpoint"],
            title=(
                "Расшифровка работ и часов в каждом счёте",
                "Every invoice itemised by work and hours",
            ),
            problem="Клиенты не понимают, за какие работы выставлен счёт, и переспрашивают "
            "партнёра; оплата задерживается.",
            hypothesis="Приложение к счёту с расшифровкой работ, исполнителей и часов поднимет "
            "оценку понятности счетов до 4,0.",
            target_value=Decimal("4.00"),
            target_date=truth.end + days(120),
            proposed=started - days(20),
            approved=started - days(10),
            started=started,
            items=(
                ActionItemSpec(
                    "Шаблон приложения к счёту: работы, исполнители, часы", started + days(20)
                ),
                ActionItemSpec(
                    "Выгрузка расшифровки из системы учёта времени",
                    dt.date.fromisoformat(truth.initiatives["in_progress"]["overdue_due_on"]),
                    by_helper=True,
                    done=False,
                ),
                ActionItemSpec(
                    "Согласовать формат расшифровки с пятью ключевыми клиентами",
                    truth.end + days(30),
                    done=False,
                ),
            ),
        ),
        InitiativeSpec(
            name="abandoned",
            touchpoint=truth.initiatives["abandoned"]["touchpoint"],
            title=(
                "Фиксированный гонорар для небольших проектов",
                "Fixed fees for small engagements",
            ),
            problem="Обсуждение гонорара затягивает начало небольших проектов.",
            hypothesis="Фиксированный гонорар по прейскуранту ускорит согласование.",
            target_value=Decimal("3.90"),
            target_date=truth.end - days(60),
            proposed=truth.end - days(200),
            proposed_by_owner=True,
            abandoned=truth.end - days(170),
            abandoned_because="Партнёры решили сохранить почасовые ставки; вернёмся к вопросу "
            "при пересмотре цен.",
        ),
    )


def _plant(spec: InitiativeSpec, touchpoint: Touchpoint, lead: Employee) -> Initiative:
    """The initiative of ``spec``, taken through its states by the improvement services."""
    owner = _manager_of(touchpoint.team)
    initiative = services.create_initiative(
        title=spec.title[0],
        title_en=spec.title[1],
        touchpoints=[touchpoint],
        problem=spec.problem,
        hypothesis=spec.hypothesis,
        metric="rating",
        target_value=spec.target_value,
        target_date=spec.target_date,
        owner=owner,
        team=touchpoint.team,
        by=owner if spec.proposed_by_owner else lead,
        now=_at(spec.proposed),
    )
    if spec.approved is not None:
        services.change_state(initiative, InitiativeState.APPROVED, by=lead, now=_at(spec.approved))
    if spec.started is not None:
        services.change_state(
            initiative, InitiativeState.IN_PROGRESS, by=owner, now=_at(spec.started)
        )
    for hour, planned in enumerate(spec.items, start=11):
        item_owner = _staff_of(owner.team, owner) if planned.by_helper else owner
        item = services.add_action_item(
            initiative,
            text=planned.text,
            owner=item_owner,
            due_on=planned.due_on,
            by=owner,
            now=_at(spec.started, hour),
        )
        if planned.done:
            services.set_action_item_done(
                item, True, by=item_owner, now=_at(planned.due_on - dt.timedelta(days=2), 16)
            )
    if spec.finished is not None:
        return services.finish(
            initiative,
            change_ru=spec.standard[0],
            change_en=spec.standard[1],
            effective_from=spec.effective_from,
            training=spec.training,
            by=owner,
            now=_at(spec.finished, 17),
        )
    if spec.abandoned is not None:
        return services.change_state(
            initiative,
            InitiativeState.ABANDONED,
            by=lead,
            now=_at(spec.abandoned),
            text=spec.abandoned_because,
        )
    return Initiative.objects.get(pk=initiative.pk)


def plant_initiatives(
    truth: PlantedTruth, *, touchpoints: list[Touchpoint]
) -> dict[str, Initiative]:
    """The demo's initiatives that need no fact store (see the module's docstring), by name."""
    by_code = {tp.code: tp for tp in touchpoints}
    lead = Employee.objects.get(user__username="cx.lead")
    return {
        spec.name: _plant(spec, by_code[spec.touchpoint], lead) for spec in initiative_specs(truth)
    }


def complete_with_facts(truth: PlantedTruth) -> Initiative | None:
    """What the demo's initiatives need the fact store for, once it is written: the planted
    initiatives' baselines (measured as of the day each was proposed) and the initiative
    proposed from the top opportunity, which it returns (see :func:`propose_top_opportunity`)."""
    for initiative in Initiative.objects.filter(baseline__isnull=True).order_by("pk"):
        services.measure_baseline(initiative, now=initiative.created_at)
    return propose_top_opportunity(truth)


def propose_top_opportunity(truth: PlantedTruth) -> Initiative | None:
    """An initiative proposed on the demo's last day from the target segment's top opportunity,
    ranked by the journey map's query (the page's default segment, the last 365 days); needs
    the fact store. None when the map ranks nothing."""
    target = Segment.objects.filter(is_target=True).order_by("pk").first()
    touchpoints = Touchpoint.objects.select_related("team").order_by("stage__order", "order")
    scope = Scope(
        since=truth.end - dt.timedelta(days=364),
        until=truth.end,
        segment_id=None if target is None else target.pk,
    )
    result = JourneyMapQuery(
        touchpoint_stages=journey_of(touchpoints.values_list("pk", "stage_id")),
        scope=scope,
        target_segment_id=None if target is None else target.pk,
        as_of=truth.end,
    ).run(cache=False)
    if not result.opportunities:
        return None
    top = result.opportunities[0]
    touchpoint = touchpoints.get(pk=top.touchpoint_id)
    owner = _manager_of(touchpoint.team)
    lead = Employee.objects.get(user__username="cx.lead")
    target_value = Decimal(str(round(top.target, 2))) if top.target else Decimal("4.20")
    return services.create_initiative(
        title=f"Стратегические клиенты: {touchpoint.name_ru.lower()}",
        title_en=f"Strategic clients: {touchpoint.name_en.lower()}",
        touchpoints=[touchpoint],
        problem=f"Для стратегических и ключевых клиентов «{touchpoint.name_ru}» — главная "
        "возможность карты пути: важна для их рекомендации и оценена ниже цели.",
        hypothesis="Отдельный стандарт для стратегических и ключевых клиентов поднимет оценку "
        "до цели карты пути.",
        metric="rating",
        target_value=target_value,
        target_date=truth.end + dt.timedelta(days=180),
        owner=owner,
        team=touchpoint.team,
        scope="segment" if target is not None else "all",
        segment=target,
        started_from=StartedFrom.OPPORTUNITIES,
        by=lead,
        now=_at(truth.end, 9),
    )
