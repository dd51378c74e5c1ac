"""POST /api/responses: a completed response, stored once per Idempotency-Key."""

import datetime as dt
import threading

from django.contrib.auth.models import User
from django.db import connection
from django.test import Client, TransactionTestCase
from django.utils import timezone

from cxloop.api.services import issue_token
from cxloop.people.models import Employee, Team
from cxloop.surveys.models import Answer, Response, Survey
from tests.api.base import WHEN, ApiTestCase
from tests.front.test_pulse import make_pulse
from tests.surveys.test_respond import make_survey


class SubmitResponseTests(ApiTestCase):
    def body(self, **fields):
        return {
            "survey_id": self.survey.pk,
            "answers": {"1": 9, "2": "4", "4": " Quick and friendly ", "5": 5, "6": ["a", "b"]},
            "submitted_at": WHEN.isoformat(),
            "customer_external_id": "C-1",
            "contact_email": "ANN@acme.example",
            "touchpoint_code": "kickoff",
            **fields,
        }

    def assertNothingWritten(self):
        self.assertFalse(Response.objects.exists())
        self.assertFalse(Answer.objects.exists())

    def test_it_stores_a_completed_api_response_with_its_answers(self):
        response = self.post(self.body(), key="crm-7")
        self.assertEqual(response.status_code, 201, response.content)
        stored = Response.objects.get()
        self.assertEqual(
            (stored.state, stored.channel, stored.submitted_at, stored.source_key),
            ("completed", "api", WHEN, "crm-7"),
        )
        self.assertEqual((stored.customer, stored.contact), (self.acme, self.ann))
        self.assertEqual((stored.touchpoint, stored.language), (self.kickoff, "en"))
        body = response.json()
        self.assertEqual(
            {k: body[k] for k in ("id", "channel", "customer_external_id", "contact_email")},
            {
                "id": stored.pk,
                "channel": "api",
                "customer_external_id": "C-1",
                "contact_email": "ann@acme.example",
            },
        )
        self.assertEqual((body["touchpoint_code"], body["idempotency_key"]), ("kickoff", "crm-7"))
        self.assertEqual(dt.datetime.fromisoformat(body["submitted_at"]), WHEN)
        self.assertEqual(
            body["answers"],
            [
                {
                    "question_number": 1,
                    "kind": "nps",
                    "score": 9,
                    "choices": [],
                    "text": "",
                    "touchpoint_code": "kickoff",
                },
                {
                    "question_number": 2,
                    "kind": "csat",
                    "score": 4,
                    "choices": [],
                    "text": "",
                    "touchpoint_code": "kickoff",
                },
                {
                    "question_number": 4,
                    "kind": "text",
                    "score": None,
                    "choices": [],
                    "text": "Quick and friendly",
                    "touchpoint_code": "kickoff",
                },
                {
                    "question_number": 5,
                    "kind": "rating",
                    "score": 5,
                    "choices": [],
                    "text": "",
                    "touchpoint_code": "billing",
                },
                {
                    "question_number": 6,
                    "kind": "multiple",
                    "score": None,
                    "choices": ["a", "b"],
                    "text": "",
                    "touchpoint_code": "kickoff",
                },
            ],
        )

    def test_it_takes_the_time_now_and_the_surveys_language_by_default(self):
        before = timezone.now()
        response = self.post({"survey_id": self.survey.pk, "answers": {"1": 10}})
        self.assertEqual(response.status_code, 201, response.content)
        stored = Response.objects.get()
        self.assertGreaterEqual(stored.submitted_at, before)
        self.assertEqual((stored.language, stored.customer, stored.contact), ("ru", None, None))

    def test_it_returns_the_stored_response_for_a_key_it_has_seen_and_changes_nothing(self):
        first = self.post(self.body(), key="crm-7")
        again = self.post(self.body(answers={"1": 0}, language="ru"), key="crm-7")
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json(), first.json())
        self.assertEqual(Response.objects.count(), 1)
        self.assertEqual(Answer.objects.get(question__order=1).score, 9)
        self.assertEqual(Response.objects.get().language, "en")

    def test_it_counts_a_key_once_per_survey(self):
        other = Survey.objects.create(
            name_ru="Другой", name_en="Other", kind="relationship", languages=["ru"]
        )
        self.assertEqual(self.post(self.body(), key="k").status_code, 201)
        response = self.post({"survey_id": other.pk, "answers": {}}, key="k")
        self.assertEqual(response.status_code, 201)
        self.assertEqual(Response.objects.count(), 2)

    def test_it_requires_an_idempotency_key_of_at_most_200_characters(self):
        for key in (None, "", "k" * 201):
            with self.subTest(key=key):
                response = self.post(self.body(), key=key)
                self.assertEqual(response.status_code, 422)
                (error,) = response.json()["detail"]
                self.assertEqual(error["loc"], ["header", "Idempotency-Key"])
        self.assertEqual(self.post(self.body(), key="k" * 200).status_code, 201)

    def test_it_names_the_question_value_and_reason_and_writes_nothing(self):
        cases = [
            ({"1": 11}, 1, 11, "expected a whole number 0–10"),
            ({"1": 7.5}, 1, 7.5, "expected a whole number 0–10"),
            ({"1": "nine"}, 1, "nine", "expected a whole number 0–10"),
            ({"1": "inf"}, 1, "inf", "expected a whole number 0–10"),
            ({"1": "nan"}, 1, "nan", "expected a whole number 0–10"),
            ({"1": "1e400"}, 1, "1e400", "expected a whole number 0–10"),
            ({"2": 4}, 1, None, "an answer is required"),
            ({"1": 9, "9": 3}, 9, 3, "the survey has no such question"),
            ({"1": 9, "6": ["c"]}, 6, ["c"], "expected one of a, b"),
        ]
        for answers, question, value, reason in cases:
            with self.subTest(answers=answers):
                response = self.post(self.body(answers=answers))
                self.assertEqual(response.status_code, 422)
                body = response.json()
                self.assertEqual(
                    (body["question"], body["value"], body["reason"]), (question, value, reason)
                )
                self.assertIn(f"question {question}", body["detail"])
        self.assertNothingWritten()

    def test_it_refuses_values_that_are_no_answer_at_all(self):
        for raw in ('{"1": true}', '{"1": {"score": 9}}', '{"1": NaN}', '{"1": 1e999}'):
            with self.subTest(raw=raw):
                body = f'{{"survey_id": {self.survey.pk}, "answers": {raw}}}'
                self.assertEqual(self.post(body).status_code, 422)
        self.assertEqual(self.post("{not JSON").status_code, 400)
        self.assertNothingWritten()

    def test_it_names_what_it_does_not_know(self):
        cases = [
            ({"customer_external_id": "C-404"}, "no customer has external id 'C-404'"),
            ({"contact_email": "bob@beta.example"}, "no contact at customer 'C-1' has e-mail"),
            ({"customer_external_id": None, "contact_email": "x@y.z"}, "no contact has e-mail"),
            ({"touchpoint_code": "billing"}, "does not ask about touchpoint 'billing'"),
            ({"submitted_at": "2026-03-01T10:00:00"}, "timezone"),
            ({"submitted_at": "0001-01-01T00:00:00+05:00"}, "between 1970 and 9000"),
            ({"submitted_at": "2999-01-01T00:00:00Z"}, "is in the future"),
            ({"submitted_at": 1772359200}, "expected an ISO 8601 date and time"),
            ({"language": "de"}, "'ru' or 'en'"),
        ]
        for fields, message in cases:
            with self.subTest(fields=fields):
                response = self.post(self.body(**fields))
                self.assertEqual(response.status_code, 422)
                self.assertIn(message, response.content.decode())
        self.assertNothingWritten()

    def test_it_asks_which_customer_when_an_address_belongs_to_several(self):
        self.bob.email = "ann@acme.example"
        self.bob.save()
        response = self.post(self.body(customer_external_id=None))
        self.assertEqual(response.status_code, 422)
        self.assertIn("say which with customer_external_id", response.json()["detail"])
        self.assertEqual(self.post(self.body()).status_code, 201)

    def test_it_names_a_survey_that_does_not_exist(self):
        response = self.post(self.body(survey_id=self.survey.pk + 1))
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.json(), {"detail": f"survey {self.survey.pk + 1} does not exist"})

    def test_it_refuses_a_closed_survey(self):
        Survey.objects.filter(pk=self.survey.pk).update(is_active=False)
        response = self.post(self.body())
        self.assertEqual(response.status_code, 422)
        self.assertIn("is closed", response.json()["detail"])
        self.assertNothingWritten()

    def test_it_keeps_a_key_used_by_an_import_apart(self):
        self.stored(channel="import", key="row-1")
        response = self.post(self.body(), key="row-1")
        self.assertEqual(response.status_code, 409)
        self.assertIn("use a new key", response.json()["detail"])

    def test_it_shows_a_replay_only_to_those_who_may_see_the_response(self):
        self.assertEqual(self.post(self.body(), as_user="teammate", key="k").status_code, 201)
        self.assertEqual(self.post(self.body(), as_user="owner", key="k").status_code, 200)
        replay = self.post(self.body(), as_user="outsider", key="k")
        self.assertEqual(replay.status_code, 422)  # another team's customer: as if unknown
        self.assertIn("no customer has external id 'C-1'", replay.json()["detail"])
        self.assertNotIn("ann@acme.example", replay.content.decode())

    def test_it_lets_a_viewer_read_but_not_submit(self):
        response = self.post(self.body(), as_user="viewer")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json(), {"detail": "This token's user may read but not submit."})
        self.assertEqual(self.post("not even JSON", as_user="viewer").status_code, 403)
        self.assertNothingWritten()

    def test_it_asks_for_a_token(self):
        response = self.client.post(
            "/api/responses",
            self.body(),
            content_type="application/json",
            headers={"Idempotency-Key": "k"},
        )
        self.assertEqual(response.status_code, 401)
        self.assertNothingWritten()


class SimultaneousSubmitTests(TransactionTestCase):
    def test_it_stores_one_response_when_a_key_arrives_twice_at_once(self):
        team = Team.objects.create(name="Team")
        user = User.objects.create_user("integration")
        token = issue_token(Employee.objects.create(user=user, team=team, role="admin"), "CRM")[1]
        survey = make_survey()
        barrier, statuses = threading.Barrier(2), []

        def send():
            try:
                barrier.wait()
                response = Client().post(
                    "/api/responses",
                    {"survey_id": survey.pk, "answers": {"1": 8}},
                    content_type="application/json",
                    headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "k-1"},
                )
                statuses.append(response.status_code)
            finally:
                connection.close()

        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        self.assertEqual(sorted(statuses), [200, 201])
        self.assertEqual(Response.objects.count(), 1)


class PulseSubmitTests(ApiTestCase):
    def test_it_refuses_answers_to_an_employee_pulse(self):
        pulse = make_pulse()
        response = self.post({"survey_id": pulse.pk, "answers": {"1": 9}}, key="p-1")
        self.assertEqual(response.status_code, 422)
        self.assertIn("employee pulse", response.json()["detail"])
        self.assertFalse(pulse.responses.exists())
