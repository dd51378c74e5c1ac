"""What the tests of the analytical pages share: a journey of two touchpoints, 40 answers from a
customer of team A and 10 from one of team B, a target segment, and the fact store built from
them in a folder of the test's own."""

import datetime as dt
from types import SimpleNamespace

from cxloop.customers.models import Customer, Segment
from cxloop.facts.sync import rebuild
from cxloop.feedback.services import ingest
from cxloop.journeys.models import Journey, Stage, Touchpoint
from cxloop.surveys.models import Question, Survey
from cxloop.test import BaseTestCase, OwnFactStore

FIRST_DAY = dt.date(2026, 1, 5)


def make_insight_data(*, ours, theirs) -> SimpleNamespace:
    """The journey, survey, customers (owned by the employees ``ours`` and ``theirs``), target
    segment and answers; the caller builds the fact store."""
    journey = Journey.objects.create(name_ru="Путь клиента", name_en="Client journey")
    stage = Stage.objects.create(journey=journey, order=1, name_ru="Работа", name_en="Work")
    kickoff = Touchpoint.objects.create(
        stage=stage, order=1, code="kickoff", channel="meeting", name_en="Kick-off meeting"
    )
    billing = Touchpoint.objects.create(
        stage=stage, order=2, code="billing", channel="invoice", name_en="Billing"
    )
    survey = Survey.objects.create(
        name_ru="Опрос", name_en="Survey", kind="relationship", languages=["ru", "en"]
    )
    questions = (
        (1, "nps", None),
        (2, "rating", kickoff),
        (3, "rating", billing),
        (4, "text", billing),
    )
    for order, kind, touchpoint in questions:
        Question.objects.create(
            survey=survey, order=order, kind=kind, text_ru="?", text_en="?", touchpoint=touchpoint
        )
    our_customer = Customer.objects.create(
        external_id="A", name="Ours", owner=ours, annual_value=1000
    )
    their_customer = Customer.objects.create(
        external_id="B", name="Theirs", owner=theirs, annual_value=500
    )
    target = Segment.objects.create(name="Key clients", kind="manual", is_target=True)
    target.members.set([our_customer])
    for i in range(40):
        rating = 1 + i % 5  # NPS follows the kick-off rating; billing is independent of it
        answers = {1: min(10, 2 * rating), 2: rating, 3: 1 + (i // 5) % 5}
        answers[4] = "Счёт с ошибкой" if i == 39 else ""
        ingest(
            survey=survey,
            answers=answers,
            channel="email",
            submitted_at=_day(i),
            customer=our_customer,
        )
    for i in range(10):
        ingest(
            survey=survey,
            answers={1: 3, 2: 2, 3: 2},
            channel="visit",
            submitted_at=_day(i),
            customer=their_customer,
        )
    return SimpleNamespace(
        kickoff=kickoff, billing=billing, ours=our_customer, theirs=their_customer, target=target
    )


def _day(i: int) -> dt.datetime:
    day = FIRST_DAY + dt.timedelta(days=2 * i)
    return dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)


class InsightPageTestCase(OwnFactStore, BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        data = make_insight_data(ours=cls.teammate.employee, theirs=cls.outsider.employee)
        for name, value in vars(data).items():
            setattr(cls, name, value)
        rebuild()

    def get(self, url: str, *, as_user, language: str = "en", **params):
        self.client.force_login(as_user)
        self.client.cookies["django_language"] = language
        return self.client.get(url, {"since": "2025-12-01", **params})
