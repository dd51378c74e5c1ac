"""What the API tests share: customers of team A and team B, a survey, and a token per user."""

import datetime as dt
import json

from cxloop.api.services import issue_token
from cxloop.customers.models import Contact, Customer
from cxloop.feedback.services import ingest
from cxloop.journeys.models import Journey, Stage, Touchpoint
from cxloop.people.models import Role
from cxloop.surveys.models import Question
from cxloop.test import BaseTestCase
from tests.surveys.test_respond import make_survey

WHEN = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)


class ApiTestCase(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)
        cls.acme = Customer.objects.create(
            external_id="C-1", name="Acme", owner=cls.teammate.employee
        )
        cls.ann = Contact.objects.create(
            customer=cls.acme, name="Ann", email="ann@acme.example", language="en"
        )
        cls.beta = Customer.objects.create(
            external_id="C-2", name="Beta", owner=cls.outsider.employee
        )
        cls.bob = Contact.objects.create(customer=cls.beta, name="Bob", email="bob@beta.example")
        stage = Stage.objects.create(journey=Journey.objects.create(), order=1)
        cls.kickoff = Touchpoint.objects.create(
            stage=stage, order=1, code="kickoff", channel="meeting"
        )
        cls.billing = Touchpoint.objects.create(
            stage=stage, order=2, code="billing", channel="invoice"
        )
        cls.survey = make_survey()  # 1 NPS (required), 2 CSAT, 3 and 4 texts
        cls.survey.touchpoints.set([cls.kickoff])
        Question.objects.create(
            survey=cls.survey,
            order=5,
            kind="rating",
            text_ru="Счёт",
            text_en="Invoice",
            touchpoint=cls.billing,
        )
        Question.objects.create(
            survey=cls.survey,
            order=6,
            kind="multiple",
            text_ru="Что понравилось?",
            text_en="What did you like?",
            choices=[{"value": "a", "ru": "А", "en": "A"}, {"value": "b", "ru": "Б", "en": "B"}],
        )
        cls.tokens = {
            user.username: issue_token(user.employee, f"{user.username}'s script")[1]
            for user in (cls.owner, cls.teammate, cls.outsider, cls.viewer)
        }

    def get(self, path: str, *, as_user: str = "owner", **params):
        headers = {"Authorization": f"Bearer {self.tokens[as_user]}"}
        return self.client.get(path, params, headers=headers)

    def post(self, body, *, as_user: str = "owner", key: str | None = "key-1"):
        headers = {"Authorization": f"Bearer {self.tokens[as_user]}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        content = body if isinstance(body, str) else json.dumps(body)
        return self.client.post(
            "/api/responses", content, content_type="application/json", headers=headers
        )

    def stored(self, *, customer=None, when=WHEN, channel="api", key="", touchpoint=None):
        """A response stored the way the API stores one."""
        return ingest(
            survey=self.survey,
            answers={1: 9, 5: 4},
            channel=channel,
            submitted_at=when,
            customer=customer or self.acme,
            touchpoint=touchpoint,
            source_key=key,
        ).response
