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
deterministic.
"""

import datetime as dt
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


def _done(
    initiative, lead, *, approved, started, items, finished, standard, effective_from, training
):
    services.change_state(initiative, InitiativeState.APPROVED, by=lead, now=_at(approved))
    services.change_state(
        initiative, InitiativeState.IN_PROGRESS, by=initiative.owner, now=_at(started)
    )
    for text, owner, due_on in items:
        item = services.add_action_item(
            initiative,
            text=text,
            owner=owner,
            due_on=due_on,
            by=initiative.owner,
            now=_at(started, 11),
        )
        services.set_action_item_done(
            item, True, by=owner, now=_at(due_on - dt.timedelta(days=2), 16)
        )
    return services.finish(
        initiative,
        change_ru=standard[0],
        change_en=standard[1],
        effective_from=effective_from,
        training=training,
        by=initiative.owner,
        now=_at(finished, 17),
    )


def plant_initiatives(
    truth: PlantedTruth, *, touchpoints: list[Touchpoint]
) -> dict[str, Initiative]:
    """The demo's initiatives that need no fact store (see the module's docstring), by name."""
    by_code = {tp.code: tp for tp in touchpoints}
    lead = Employee.objects.get(user__username="cx.lead")
    out: dict[str, Initiative] = {}

    # (a) the kick-off meeting: proposed four months before the planted rise, done on its eve.
    kickoff = by_code[truth.improvement["touchpoint"]]
    change = dt.date.fromisoformat(truth.improvement["from_date"])
    owner = _manager_of(kickoff.team)
    helper = _staff_of(owner.team, owner)
    initiative = services.create_initiative(
        title="Стартовая встреча по единому сценарию",
        title_en="One script for the kick-off meeting",
        touchpoints=[kickoff],
        problem="После стартовой встречи клиенты не знают плана работ, ролей команды и к кому "
        "обращаться; каждая команда проводит встречу по-своему.",
        hypothesis="Единый сценарий (план на 90 дней, роли, контакты, график статусов) и протокол "
        "в течение суток поднимут среднюю оценку стартовой встречи до 4,1.",
        metric="rating",
        target_value=Decimal("4.10"),
        target_date=change + dt.timedelta(days=270),
        owner=owner,
        team=kickoff.team,
        by=lead,
        now=_at(change - dt.timedelta(days=120)),
    )
    out["kickoff"] = _done(
        initiative,
        lead,
        approved=change - dt.timedelta(days=110),
        started=change - dt.timedelta(days=100),
        items=[
            (
                "Написать сценарий стартовой встречи и шаблон плана на 90 дней",
                owner,
                change - dt.timedelta(days=60),
            ),
            (
                "Шаблон протокола и рассылка клиенту в течение 24 часов",
                helper,
                change - dt.timedelta(days=40),
            ),
            (
                "Провести обучение партнёров и менеджеров по сценарию",
                owner,
                change - dt.timedelta(days=15),
            ),
        ],
        finished=change - dt.timedelta(days=3),
        standard=KICKOFF_STANDARD,
        effective_from=change,
        training="Сценарий стартовой встречи (1 час)",
    )

    # (b) billing accuracy: done long before the roll-back; the roll-back undoes its standard.
    billing = by_code[truth.rollback["touchpoint"]]
    effective = dt.date.fromisoformat(truth.initiatives["billing"]["effective_from"])
    owner = _manager_of(billing.team)
    helper = _staff_of(billing.team, owner)
    initiative = services.create_initiative(
        title="Сверка счетов с табелем до отправки",
        title_en="Invoices checked against the timesheet before they go out",
        touchpoints=[billing],
        problem="Клиенты находят в счетах лишние часы и неверные ставки; исправление занимает "
        "недели.",
        hypothesis="Сверка с табелем и письмом о привлечении и проверка вторым сотрудником "
        "удержат оценку точности счетов не ниже 4,0.",
        metric="rating",
        target_value=Decimal("4.00"),
        target_date=effective + dt.timedelta(days=180),
        owner=owner,
        team=billing.team,
        by=lead,
        now=_at(effective - dt.timedelta(days=90)),
    )
    out["billing"] = _done(
        initiative,
        lead,
        approved=effective - dt.timedelta(days=85),
        started=effective - dt.timedelta(days=80),
        items=[
            (
                "Чек-лист сверки счёта с табелем и письмом о привлечении",
                owner,
                effective - dt.timedelta(days=50),
            ),
            (
                "Вторая проверка ставок и часов перед отправкой",
                helper,
                effective - dt.timedelta(days=20),
            ),
        ],
        finished=effective - dt.timedelta(days=5),
        standard=BILLING_STANDARD,
        effective_from=effective,
        training="Сверка счетов (30 минут)",
    )

    # (d) in progress, with an item overdue on the demo's last day; and one abandoned.
    clarity = by_code[truth.initiatives["in_progress"]["touchpoint"]]
    owner = _manager_of(clarity.team)
    helper = _staff_of(owner.team, owner)
    started = truth.end - dt.timedelta(days=75)
    initiative = services.create_initiative(
        title="Расшифровка работ и часов в каждом счёте",
        title_en="Every invoice itemised by work and hours",
        touchpoints=[clarity],
        problem="Клиенты не понимают, за какие работы выставлен счёт, и переспрашивают "
        "партнёра; оплата задерживается.",
        hypothesis="Приложение к счёту с расшифровкой работ, исполнителей и часов поднимет "
        "оценку понятности счетов до 4,0.",
        metric="rating",
        target_value=Decimal("4.00"),
        target_date=truth.end + dt.timedelta(days=120),
        owner=owner,
        team=clarity.team,
        by=lead,
        now=_at(started - dt.timedelta(days=20)),
    )
    services.change_state(
        initiative, InitiativeState.APPROVED, by=lead, now=_at(started - dt.timedelta(days=10))
    )
    services.change_state(initiative, InitiativeState.IN_PROGRESS, by=owner, now=_at(started))
    item = services.add_action_item(
        initiative,
        text="Шаблон приложения к счёту: работы, исполнители, часы",
        owner=owner,
        due_on=started + dt.timedelta(days=20),
        by=owner,
        now=_at(started, 11),
    )
    services.set_action_item_done(item, True, by=owner, now=_at(started + dt.timedelta(days=18)))
    services.add_action_item(
        initiative,
        text="Выгрузка расшифровки из системы учёта времени",
        owner=helper,
        due_on=dt.date.fromisoformat(truth.initiatives["in_progress"]["overdue_due_on"]),
        by=owner,
        now=_at(started, 12),
    )
    services.add_action_item(
        initiative,
        text="Согласовать формат расшифровки с пятью ключевыми клиентами",
        owner=owner,
        due_on=truth.end + dt.timedelta(days=30),
        by=owner,
        now=_at(started, 13),
    )
    out["in_progress"] = Initiative.objects.get(pk=initiative.pk)

    fees = by_code["fee_negotiation"]
    owner = _manager_of(fees.team)
    initiative = services.create_initiative(
        title="Фиксированный гонорар для небольших проектов",
        title_en="Fixed fees for small engagements",
        touchpoints=[fees],
        problem="Обсуждение гонорара затягивает начало небольших проектов.",
        hypothesis="Фиксированный гонорар по прейскуранту ускорит согласование.",
        metric="rating",
        target_value=Decimal("3.90"),
        target_date=truth.end - dt.timedelta(days=60),
        owner=owner,
        team=fees.team,
        by=owner,
        now=_at(truth.end - dt.timedelta(days=200)),
    )
    out["abandoned"] = services.change_state(
        initiative,
        InitiativeState.ABANDONED,
        by=lead,
        now=_at(truth.end - dt.timedelta(days=170)),
        text="Партнёры решили сохранить почасовые ставки; вернёмся к вопросу при пересмотре цен.",
    )
    return out


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
