"""The demo's decision log (issue #12, points 6 and 7), planted through the decision services so
that each decision has its history and audit:

- the new billing system, in force from the planted roll-back's month: it replaced the billing
  initiative's manual checks, a small rise was expected, and billing accuracy fell — the
  roll-back's cause, measured worse than expected and listed on that quarter's cycle review;
- a rise of the hourly rates, feared to make fee negotiation harder: the data plant no change
  there, so it measures better than feared;
- a reorganisation of Moscow's assistants that clients were not to notice: the data plant no
  change, so it measures as expected;
- the kick-off meeting's script made the firm's standard, from its initiative: half a point was
  expected, and the planted rise is more.

Dates, touchpoints and expectations are the truth's (``PlantedTruth.decisions``); the texts are
the demo's data, titles in Russian and English.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from cxloop.demo.truth import PlantedTruth
from cxloop.improvements import services
from cxloop.improvements.models import Decision, Initiative
from cxloop.journeys.models import Touchpoint
from cxloop.people.models import Employee


@dataclass(frozen=True)
class DecisionSpec:
    """A planted decision's texts; ``name`` keys its facts in ``PlantedTruth.decisions``, and
    ``initiative`` names the planted initiative it comes from, if any."""

    name: str
    title: tuple[str, str]  # Russian, English
    description: str
    initiative: str = ""


DECISION_SPECS = (
    DecisionSpec(
        name="billing_system",
        title=("Новая система выставления счетов", "New billing system"),
        description="Счета формируются автоматически из системы учёта времени; ручная сверка "
        "с табелем и вторая проверка отменены. Ожидали, что ошибок в счетах станет меньше.",
    ),
    DecisionSpec(
        name="rate_rise",
        title=("Почасовые ставки повышены на 7 %", "Hourly rates raised by 7%"),
        description="Ежегодная индексация ставок во всех практиках. Опасались, что согласовать "
        "гонорар станет труднее.",
    ),
    DecisionSpec(
        name="assistant_pool",
        title=(
            "Общий пул ассистентов налоговой практики и аудита в Москве",
            "One pool of assistants for Moscow's tax and audit teams",
        ),
        description="Ассистенты закреплены не за командами, а за общим пулом. Для клиентов "
        "ничего не должно измениться.",
    ),
    DecisionSpec(
        name="kickoff_standard",
        title=(
            "Сценарий стартовой встречи — стандарт фирмы",
            "The kick-off meeting's script becomes the firm's standard",
        ),
        description="По итогам инициативы сценарий стартовой встречи обязателен для всех "
        "команд. Ожидали, что средняя оценка встречи вырастет на полбалла.",
        initiative="kickoff",
    ),
)


def plant_decisions(
    truth: PlantedTruth, *, touchpoints: list[Touchpoint], initiatives: dict[str, Initiative]
) -> dict[str, Decision]:
    """The decisions of the module's docstring, recorded by the CX lead on the day each was
    taken, by name."""
    by_code = {tp.code: tp for tp in touchpoints}
    lead = Employee.objects.get(user__username="cx.lead")
    out: dict[str, Decision] = {}
    for spec in DECISION_SPECS:
        planted = truth.decisions[spec.name]
        decided_on = dt.date.fromisoformat(planted["decided_on"])
        out[spec.name] = services.create_decision(
            title=spec.title[0],
            title_en=spec.title[1],
            description=spec.description,
            kind=planted["kind"],
            decided_on=decided_on,
            in_force_from=dt.date.fromisoformat(planted["in_force_from"]),
            touchpoints=[by_code[code] for code in planted["touchpoints"]],
            metric="rating",
            expected_direction=planted["expected_direction"],
            expected_size=Decimal(str(planted["expected_size"])),
            initiative=initiatives.get(spec.initiative),
            by=lead,
            now=dt.datetime.combine(decided_on, dt.time(10), tzinfo=dt.UTC),
        )
    return out
