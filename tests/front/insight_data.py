"""What the tests of the analytical pages share: a journey of two touchpoints, 40 answers from a
customer of team A and 10 from one of team B, a target segment, and the fact store built from
them in a folder of the test's own."""

import datetime as dt
import shutil
import tempfile

from django.test import override_settings

from cxloop.customers.models import Customer, Segment
from cxloop.facts.sync import rebuild
from cxloop.feedback.services import ingest
from cxloop.journeys.models import Journey, Stage, Touchpoint
from cxloop.surveys.models import Question, Survey
from cxloop.test import BaseTestCase

FIRST_DAY = dt.date(2026, 1, 5)


class InsightPageTestCase(BaseTestCase):
    @classmethod
    def setUpClass(cls):
        cls.facts_dir = tempfile.mkdtemp(prefix="cxloop-facts-")
        cls.facts = override_settings(FACTS_DIR=cls.facts_dir)
        cls.facts.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.facts.disable()
        shutil.rmtree(cls.facts_dir, ignore_errors=True)

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        journey = Journey.objects.create(name_ru="Путь клиента", name_en="Client journey")
        stage = Stage.objects.create(journey=journey, order=1, name_ru="Работа", name_en="Work")
        cls.kickoff = Touchpoint.objects.create(
            stage=stage, order=1, code="kickoff", channel="meeting", name_en="Kick-off meeting"
        )
        cls.billing = Touchpoint.objects.create(
            stage=stage, order=2, code="billing", channel="invoice", name_en="Billing"
        )
        survey = Survey.objects.create(
            name_ru="Опрос", name_en="Survey", kind="relationship", languages=["ru", "en"]
        )
        for order, kind, touchpoint in (
            (1, "nps", None),
            (2, "rating", cls.kickoff),
            (3, "rating", cls.billing),
            (4, "text", cls.billing),
        ):
            Question.objects.create(
                survey=survey,
                order=order,
                kind=kind,
                text_ru="?",
                text_en="?",
                touchpoint=touchpoint,
            )
        cls.ours = Customer.objects.create(
            external_id="A", name="Ours", owner=cls.teammate.employee, annual_value=1000
        )
        cls.theirs = Customer.objects.create(
            external_id="B", name="Theirs", owner=cls.outsider.employee, annual_value=500
        )
        cls.target = Segment.objects.create(name="Key clients", kind="manual", is_target=True)
        cls.target.members.set([cls.ours])
        for i in range(40):
            kickoff = 1 + i % 5
            ingest(
                survey=survey,
                answers={
                    1: min(10, 2 * kickoff),
                    2: kickoff,
                    3: 1 + (i // 5) % 5,
                    4: "Счёт с ошибкой" if i == 39 else "",
                },
                channel="email",
                submitted_at=cls._day(i),
                customer=cls.ours,
            )
        for i in range(10):
            ingest(
                survey=survey,
                answers={1: 3, 2: 2, 3: 2},
                channel="visit",
                submitted_at=cls._day(i),
                customer=cls.theirs,
            )
        rebuild()

    @staticmethod
    def _day(i: int) -> dt.datetime:
        day = FIRST_DAY + dt.timedelta(days=2 * i)
        return dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)

    def get(self, url: str, *, as_user, language: str = "en", **params):
        self.client.force_login(as_user)
        self.client.cookies["django_language"] = language
        return self.client.get(url, {"since": "2025-12-01", **params})
