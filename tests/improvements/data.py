"""Records the improvement tests share: a journey with two touchpoints, the roles of
cxloop.test.BaseTestCase (a manager and an employee of team A, an employee of team B) plus the
CX lead and a viewer, and an initiative of team A."""

import datetime as dt
from decimal import Decimal

from cxloop.improvements import services
from cxloop.improvements.models import RollbackAlert
from cxloop.journeys.models import Journey, Stage, Touchpoint
from cxloop.people.models import Role
from cxloop.test import BaseTestCase

NOW = dt.datetime(2026, 3, 16, 10, 0, tzinfo=dt.UTC)


class ImprovementTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)
        cls.manager_b = cls._user("managerb", cls.team_b, Role.MANAGER)
        journey = Journey.objects.create(name_ru="Путь клиента", name_en="Customer journey")
        stage = Stage.objects.create(journey=journey, order=1, name_ru="Начало", name_en="Start")
        cls.kickoff = touchpoint(stage, 1, "kickoff", "Установочная встреча", "Kick-off meeting")
        cls.billing = touchpoint(stage, 2, "billing", "Счета", "Billing")


def touchpoint(stage, order, code, name_ru, name_en) -> Touchpoint:
    return Touchpoint.objects.create(
        stage=stage, order=order, code=code, channel="meeting", name_ru=name_ru, name_en=name_en
    )


def propose(owner, touchpoints, *, by=None, now=NOW, **fields):
    """An initiative of ``owner``'s team on ``touchpoints``, proposed at ``now``."""
    values = {
        "title": "Повестка встречи заранее",
        "title_en": "Agenda sent ahead",
        "problem": "Клиенты не знают, чего ждать от встречи",
        "hypothesis": "Повестка за два дня поднимет оценку встречи",
        "metric": "rating",
        "target_value": Decimal("4.5"),
        "target_date": dt.date(2026, 6, 30),
        **fields,
    }
    return services.create_initiative(
        touchpoints=touchpoints, owner=owner, by=by or owner, now=now, **values
    )


def rollback_alert(touchpoint, initiative, month_start: dt.date, **fields) -> RollbackAlert:
    """A recorded roll-back alert of a monthly drop from ``month_start``, as the watch records
    one; ``fields`` set what a test reads (the level, the baseline, the case…)."""
    next_month = (month_start + dt.timedelta(days=31)).replace(day=1)
    return RollbackAlert.objects.create(
        **{
            "touchpoint": touchpoint,
            "initiative": initiative,
            "grain": "month",
            "period_start": month_start,
            "period_end": next_month - dt.timedelta(days=1),
            "center": 4.0,
            "level": 3.3,
            "answers": 80,
            "statistic": 5.0,
            "limit": 4.0,
            **fields,
        }
    )
