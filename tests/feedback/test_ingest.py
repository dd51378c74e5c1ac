"""feedback.services.ingest: whole responses from imports and the API."""

import datetime as dt
import threading

from django.db import connection
from django.test import TransactionTestCase

from cxloop.customers.models import Contact, Customer
from cxloop.feedback.services import ingest
from cxloop.surveys.models import Answer, Question, Response, Survey
from cxloop.surveys.services import AnswerError
from cxloop.test import BaseTestCase
from tests.surveys.test_respond import make_survey

WHEN = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)


class IngestTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.survey = make_survey()
        Question.objects.create(
            survey=cls.survey,
            order=5,
            kind="multiple",
            text_ru="?",
            text_en="?",
            choices=[{"value": "a", "ru": "А", "en": "A"}, {"value": "b", "ru": "Б", "en": "B"}],
        )
        customer = Customer.objects.create(external_id="C-1", name="Acme")
        cls.contact = Contact.objects.create(
            customer=customer, name="Ann", email="ann@acme.example"
        )

    def _ingest(self, answers, **fields):
        fields = {"channel": "import", "submitted_at": WHEN, "contact": self.contact, **fields}
        return ingest(survey=self.survey, answers=answers, **fields)

    def test_it_stores_a_completed_response_with_its_answers(self):
        result = self._ingest({1: "9", 2: 4.0, 4: " Отлично ", 5: ["a", "b"]}, source_key="row-1")
        self.assertTrue(result.created)
        response = result.response
        self.assertEqual(
            (response.state, response.channel, response.submitted_at), ("completed", "import", WHEN)
        )
        self.assertEqual(response.customer, self.contact.customer)
        answers = {a.question.order: a for a in response.answers.select_related("question")}
        self.assertEqual((answers[1].score, answers[2].score), (9, 4))
        self.assertEqual(answers[4].text, "Отлично")
        self.assertEqual(answers[5].choices, ["a", "b"])

    def test_it_changes_nothing_for_a_key_it_has_seen(self):
        first = self._ingest({1: 9}, source_key="row-1")
        again = self._ingest({1: 2}, source_key="row-1")
        self.assertFalse(again.created)
        self.assertEqual(again.response, first.response)
        self.assertEqual(Answer.objects.get(question__order=1).score, 9)

    def test_it_names_the_question_value_and_reason_and_writes_nothing(self):
        cases = [
            ({1: 11}, "question 1: 11 — expected a whole number 0–10"),
            ({1: 7.5}, "question 1: 7.5 — expected a whole number 0–10"),
            ({1: "nine"}, "question 1: 'nine'"),
            ({2: 4}, "question 1: None — an answer is required"),
            ({1: 9, 9: 3}, "question 9: 3 — the survey has no such question"),
            ({1: 9, 5: ["c"]}, "question 5: ['c'] — expected one of a, b"),
        ]
        for answers, message in cases:
            with self.subTest(answers=answers), self.assertRaisesMessage(AnswerError, message):
                self._ingest(answers)
        self.assertFalse(Response.objects.exists())

    def test_it_keeps_an_anonymous_survey_anonymous(self):
        Survey.objects.filter(pk=self.survey.pk).update(is_anonymous=True)
        self.survey.refresh_from_db()
        self.assertIsNone(self._ingest({1: 9}).response.contact)


class SimultaneousIngestTests(TransactionTestCase):
    def test_it_stores_one_response_for_one_key_sent_twice_at_once(self):
        survey = make_survey()
        barrier, results = threading.Barrier(2), []

        def send():
            try:
                barrier.wait()
                results.append(
                    ingest(
                        survey=survey,
                        answers={1: 8},
                        channel="api",
                        submitted_at=WHEN,
                        source_key="k-1",
                    )
                )
            finally:
                connection.close()

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(sorted(r.created for r in results), [False, True])
        self.assertEqual(Response.objects.count(), 1)
