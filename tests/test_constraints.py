"""Rules kept by the database itself, whatever code writes the rows."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from cxloop.customers.models import Contact, Customer
from cxloop.journeys.models import Journey, Stage, Standard, Touchpoint
from cxloop.people.models import Team
from cxloop.surveys.models import Answer, Invitation, Question, Response, Survey
from cxloop.test import BaseTestCase


class ConstraintTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.customer = Customer.objects.create(external_id="C-1", name="Acme")
        cls.contact = Contact.objects.create(customer=cls.customer, name="Ann", email="a@x.org")
        cls.survey = Survey.objects.create(name_ru="Опрос", name_en="Survey", kind="relationship")
        cls.questions = {
            kind: Question.objects.create(
                survey=cls.survey, order=order, kind=kind, text_ru="?", text_en="?"
            )
            for order, kind in enumerate(["nps", "csat", "ces", "rating", "text"], start=1)
        }
        cls.now = timezone.now()

    def assertRejected(self, make):
        with self.assertRaises(IntegrityError), transaction.atomic():
            make()

    def _invitation(self, token_hash="a" * 64, **fields):
        fields = {"expires_at": self.now + dt.timedelta(days=30), **fields}
        return Invitation.objects.create(
            survey=self.survey,
            contact=self.contact,
            token_hash=token_hash,
            created_at=self.now,
            **fields,
        )

    def _response(self, **fields):
        return Response.objects.create(
            survey=self.survey, channel="email", started_at=self.now, **fields
        )

    def _answer(self, response, kind, score=None, text=""):
        return Answer.objects.create(
            response=response, question=self.questions[kind], kind=kind, score=score, text=text
        )

    def test_it_keeps_scores_on_their_scales(self):
        response = self._response()
        for kind, low, high in [("nps", 0, 10), ("csat", 1, 5), ("ces", 1, 7), ("rating", 1, 5)]:
            self.assertRejected(lambda k=kind, s=low - 1: self._answer(response, k, s))
            self.assertRejected(lambda k=kind, s=high + 1: self._answer(response, k, s))
        for kind, score in [("nps", 0), ("csat", 5), ("ces", 7), ("rating", 1)]:
            self._answer(response, kind, score)
        self.assertEqual(response.answers.count(), 4)

    def test_it_keeps_text_answers_free_of_scores(self):
        response = self._response()
        self.assertRejected(lambda: self._answer(response, "text", 3, "great"))
        self._answer(response, "text", None, "great")

    def test_it_allows_one_answer_per_question(self):
        response = self._response()
        self._answer(response, "nps", 9)
        self.assertRejected(lambda: self._answer(response, "nps", 8))

    def test_it_keeps_invitation_token_hashes_unique(self):
        self._invitation("b" * 64)
        self.assertRejected(lambda: self._invitation("b" * 64))

    def test_it_allows_at_most_one_completed_response_per_invitation(self):
        invitation = self._invitation()
        self._response(invitation=invitation, state="partial")
        self._response(invitation=invitation, state="completed", submitted_at=self.now)
        self.assertRejected(
            lambda: self._response(invitation=invitation, state="completed", submitted_at=self.now)
        )

    def test_it_requires_a_submission_time_on_a_completed_response(self):
        self.assertRejected(lambda: self._response(state="completed"))

    def test_it_rejects_an_invitation_that_expires_before_it_exists(self):
        self.assertRejected(lambda: self._invitation(expires_at=self.now))

    def test_it_rejects_a_completion_without_a_start(self):
        self.assertRejected(lambda: self._invitation(completed_at=self.now))

    def test_it_rejects_a_team_that_is_its_own_parent(self):
        team = Team.objects.create(name="Loop")
        team.parent = team
        self.assertRejected(team.save)

    def test_it_keeps_stage_and_touchpoint_order_unique(self):
        journey = Journey.objects.create(name_ru="Путь", name_en="Journey")
        stage = Stage.objects.create(journey=journey, order=1, name_ru="Э", name_en="S")
        self.assertRejected(lambda: Stage.objects.create(journey=journey, order=1))
        self.assertRejected(lambda: Stage.objects.create(journey=journey, order=0))
        Touchpoint.objects.create(stage=stage, order=1, code="a", channel="web")
        self.assertRejected(
            lambda: Touchpoint.objects.create(stage=stage, order=1, code="b", channel="web")
        )
        self.assertRejected(
            lambda: Touchpoint.objects.create(stage=stage, order=2, code="c", channel="fax")
        )

    def test_it_keeps_standard_versions_unique(self):
        journey = Journey.objects.create(name_ru="Путь", name_en="Journey")
        stage = Stage.objects.create(journey=journey, order=1)
        touchpoint = Touchpoint.objects.create(stage=stage, order=1, code="a", channel="web")
        day = dt.date(2026, 1, 1)
        Standard.objects.create(touchpoint=touchpoint, version=1, effective_from=day)
        self.assertRejected(
            lambda: Standard.objects.create(touchpoint=touchpoint, version=1, effective_from=day)
        )

    def test_it_rejects_a_negative_annual_value_and_unknown_tier(self):
        self.assertRejected(
            lambda: Customer.objects.create(external_id="C-2", name="X", annual_value=-1)
        )
        self.assertRejected(lambda: Customer.objects.create(external_id="C-3", tier="platinum"))
        self.assertRejected(lambda: Customer.objects.create(external_id="C-1", name="Twin"))

    def test_it_keeps_contact_emails_unique_per_customer_but_allows_blanks(self):
        self.assertRejected(
            lambda: Contact.objects.create(customer=self.customer, name="B", email="a@x.org")
        )
        Contact.objects.create(customer=self.customer, name="C", email="")
        Contact.objects.create(customer=self.customer, name="D", email="")
        self.assertEqual(self.customer.contacts.count(), 3)
