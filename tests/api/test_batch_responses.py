"""POST /api/responses/batch: up to 1,000 responses, each stored whole or refused on its own."""

import datetime as dt
import json
import threading
from collections import Counter
from unittest import mock

from django.contrib.auth.models import User
from django.db import DatabaseError, connection
from django.test import Client, TransactionTestCase
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cxloop.api.services import issue_token
from cxloop.feedback import services as feedback_services
from cxloop.people.models import Employee, Team
from cxloop.surveys.announce import announce_pending
from cxloop.surveys.models import Answer, Response, Survey
from tests.api.base import WHEN, ApiTestCase
from tests.feedback.test_intake import Deliveries
from tests.front.test_pulse import make_pulse
from tests.surveys.test_respond import make_survey

BATCH = "/api/responses/batch"


class BatchTestCase(ApiTestCase):
    def item(self, key: str, **fields) -> dict:
        return {
            "survey_id": self.survey.pk,
            "answers": {"1": 9, "5": 4},
            "submitted_at": WHEN.isoformat(),
            "customer_external_id": "C-1",
            "idempotency_key": key,
            **fields,
        }

    def send(self, body, *, as_user: str = "owner"):
        headers = {"Authorization": f"Bearer {self.tokens[as_user]}"}
        content = body if isinstance(body, str) else json.dumps(body)
        return self.client.post(BATCH, content, content_type="application/json", headers=headers)

    def results(self, body, **kwargs) -> list[dict]:
        response = self.send(body, **kwargs)
        self.assertEqual(response.status_code, 200, response.content)
        return response.json()["items"]

    def assertNothingWritten(self):
        self.assertFalse(Response.objects.exists())
        self.assertFalse(Answer.objects.exists())


class MixedBatchTests(BatchTestCase):
    def test_it_stores_the_good_items_and_names_the_item_field_and_value_of_each_refusal(self):
        future = (timezone.now() + dt.timedelta(days=1)).isoformat()
        body = [
            self.item("good-0", contact_email="ANN@acme.example", touchpoint_code="kickoff"),
            self.item("bad-1", answers={"1": 11}),
            self.item("good-2", answers={"1": 3, "4": " Slow ", "6": ["a", "b"]}, language="ru"),
            self.item("bad-3", customer_external_id="C-404"),
            self.item("bad-4", survey_id=self.survey.pk + 100),
            self.item("bad-5", language="de"),
            self.item("bad-6", submitted_at=future),
            {k: v for k, v in self.item("").items() if k != "idempotency_key"},
            self.item("bad-8", answers={"1": True}),
            self.item("bad-9", touchpoint_code="billing"),
            5,
            self.item("bad-11", contact_email="bob@beta.example"),
            self.item("bad-12", answers={"1": 9, "x": 1}),
            self.item("bad-13", answers={"2": 4}),
        ]
        items = self.results(body)
        self.assertEqual([i["index"] for i in items], list(range(len(body))))
        expected = [
            (201, None, None),
            (422, "answers.1", "item 1: question 1: 11 — expected a whole number 0–10"),
            (201, None, None),
            (
                422,
                "customer_external_id",
                "item 3: customer_external_id: no customer has external id 'C-404'",
            ),
            (404, "survey_id", f"item 4: survey {self.survey.pk + 100} does not exist"),
            (422, "language", "item 5: language: Input should be 'ru' or 'en', got 'de'"),
            (422, "submitted_at", f"item 6: submitted_at: {future} is in the future"),
            (422, "idempotency_key", "item 7: idempotency_key: Field required"),
            (
                422,
                "answers.1",
                "item 8: question 1: True — expected a number, a text, a list of choices or null",
            ),
            (
                422,
                "touchpoint_code",
                f"item 9: touchpoint_code: survey {self.survey.pk} does not ask about "
                "touchpoint 'billing'",
            ),
            (
                422,
                None,
                "item 10: expected an object with survey_id, answers and idempotency_key, got 5",
            ),
            (
                422,
                "contact_email",
                "item 11: contact_email: no contact at customer 'C-1' has e-mail "
                "'bob@beta.example'",
            ),
            (422, "answers", "item 12: answers: 'x' is not a question number"),
            (422, "answers.1", "item 13: question 1: None — an answer is required"),
        ]
        self.assertEqual([(i["status"], i["field"], i["detail"]) for i in items], expected)
        stored = {r.source_key: r for r in Response.objects.all()}
        self.assertEqual(sorted(stored), ["good-0", "good-2"])
        self.assertEqual(
            (items[0]["id"], items[2]["id"]), (stored["good-0"].pk, stored["good-2"].pk)
        )
        self.assertTrue(all(i["id"] is None for i in items if i["status"] != 201))
        first = stored["good-0"]
        self.assertEqual(
            (first.state, first.channel, first.submitted_at, first.language),
            ("completed", "api", WHEN, "en"),  # Ann's language
        )
        self.assertEqual(
            (first.customer, first.contact, first.touchpoint), (self.acme, self.ann, self.kickoff)
        )
        answers = Answer.objects.filter(response=stored["good-2"]).order_by("question__order")
        self.assertEqual(
            [(a.question.order, a.score, a.text, a.choices, a.touchpoint) for a in answers],
            [
                (1, 3, "", [], None),
                (4, None, "Slow", [], None),
                (6, None, "", ["a", "b"], None),
            ],
        )
        self.assertEqual(Answer.objects.filter(response=first).count(), 2)

    def test_it_stores_exactly_the_good_ones_of_a_full_batch(self):
        body = [
            self.item(f"k-{n}", answers={"1": 9 if n % 5 < 3 else 11, "5": 4}) for n in range(1000)
        ]
        response = self.send(body)
        self.assertEqual(response.status_code, 200)
        summary = response.json()
        self.assertEqual(
            (summary["created"], summary["replayed"], summary["refused"]), (600, 0, 400)
        )
        self.assertEqual(Response.objects.count(), 600)
        self.assertEqual(Answer.objects.count(), 1200)  # each whole: questions 1 and 5
        ids = {i["index"]: i["id"] for i in summary["items"] if i["status"] == 201}
        stored = dict(Response.objects.values_list("source_key", "pk"))
        self.assertEqual(ids, {n: stored[f"k-{n}"] for n in range(1000) if n % 5 < 3})

    def test_it_refuses_more_than_1000_items_and_stores_nothing(self):
        response = self.send([self.item(f"k-{n}") for n in range(1001)])
        self.assertEqual(response.status_code, 422)
        self.assertEqual(
            response.json()["detail"],
            "a batch holds at most 1000 responses and this one has 1001: send them in several "
            "requests; nothing was stored",
        )
        self.assertNothingWritten()

    def test_it_refuses_a_body_that_is_not_a_json_array(self):
        self.assertEqual(self.send("[{not JSON").status_code, 400)
        for body in (json.dumps(self.item("k")), '"text"', "7", "null"):
            with self.subTest(body=body):
                response = self.send(body)
                self.assertEqual(response.status_code, 422)
                self.assertEqual(
                    response.json()["detail"], "expected a JSON array of at most 1000 responses"
                )
        self.assertEqual(self.send("").status_code, 422)
        self.assertNothingWritten()

    def test_it_answers_an_empty_batch(self):
        response = self.send([])
        self.assertEqual(response.json(), {"created": 0, "replayed": 0, "refused": 0, "items": []})

    def test_it_refuses_a_body_over_the_upload_limit(self):
        with self.settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
            response = self.send([self.item(f"k-{n}") for n in range(20)])
        self.assertEqual(response.status_code, 413)
        self.assertIn("larger than 1,000 bytes", response.json()["detail"])
        self.assertNothingWritten()


class IdempotencyTests(BatchTestCase):
    def test_a_batch_sent_again_changes_nothing(self):
        body = [self.item(f"k-{n}", answers={"1": n}) for n in range(3)]
        first = self.results(body)
        self.assertEqual([i["status"] for i in first], [201] * 3)
        again = self.send([self.item(f"k-{n}", answers={"1": 10}) for n in range(3)]).json()
        self.assertEqual((again["created"], again["replayed"], again["refused"]), (0, 3, 0))
        self.assertEqual(
            [(i["status"], i["id"]) for i in again["items"]],
            [(200, i["id"]) for i in first],
        )
        self.assertEqual(Response.objects.count(), 3)
        self.assertEqual(
            sorted(Answer.objects.filter(question__order=1).values_list("score", flat=True)),
            [0, 1, 2],
        )

    def test_a_key_repeated_in_the_batch_is_stored_once_by_its_first_good_item(self):
        body = [
            self.item("k", answers={"1": 11}),  # refused: the key is not taken
            self.item("k", answers={"1": 7}),
            self.item("k", answers={"1": 2}),
            self.item("other"),
        ]
        items = self.results(body)
        self.assertEqual([i["status"] for i in items], [422, 201, 200, 201])
        self.assertEqual(items[2]["id"], items[1]["id"])
        stored = Response.objects.get(source_key="k")
        self.assertEqual(stored.pk, items[1]["id"])
        self.assertEqual(Answer.objects.get(response=stored, question__order=1).score, 7)
        self.assertEqual(Response.objects.count(), 2)

    def test_a_key_is_counted_per_survey(self):
        other = Survey.objects.create(
            name_ru="Другой", name_en="Other", kind="relationship", languages=["ru"]
        )
        items = self.results(
            [self.item("k"), {"survey_id": other.pk, "answers": {}, "idempotency_key": "k"}]
        )
        self.assertEqual([i["status"] for i in items], [201, 201])

    def test_it_keeps_a_key_used_by_an_import_apart(self):
        self.stored(channel="import", key="row-1")
        (item,) = self.results([self.item("row-1")])
        self.assertEqual(
            (item["status"], item["field"], item["id"]), (409, "idempotency_key", None)
        )
        self.assertEqual(
            item["detail"],
            f"item 0: idempotency_key 'row-1' was already used for another response to survey "
            f"{self.survey.pk}; use a new key",
        )

    def test_it_replays_a_closed_surveys_stored_keys_and_refuses_new_ones(self):
        self.results([self.item("k")])
        Survey.objects.filter(pk=self.survey.pk).update(is_active=False)
        items = self.results([self.item("k"), self.item("new")])
        self.assertEqual([i["status"] for i in items], [200, 422])
        self.assertEqual(
            items[1]["detail"],
            f"item 1: survey {self.survey.pk} is closed: it takes no new responses",
        )
        self.assertEqual(items[1]["field"], "survey_id")
        self.assertEqual(Response.objects.count(), 1)

    def test_it_refuses_an_employee_pulse(self):
        pulse = make_pulse()
        (item,) = self.results(
            [{"survey_id": pulse.pk, "answers": {"1": 9}, "idempotency_key": "p"}]
        )
        self.assertEqual(item["status"], 422)
        self.assertIn("employee pulse", item["detail"])
        self.assertFalse(pulse.responses.exists())


class ScopeTests(BatchTestCase):
    def test_a_token_records_only_for_its_teams_customers(self):
        body = [self.item("a"), self.item("b", customer_external_id="C-2")]
        as_teammate = self.results(body, as_user="teammate")
        self.assertEqual([i["status"] for i in as_teammate], [201, 422])
        # Another team's customer is answered as one that does not exist.
        self.assertEqual(
            as_teammate[1]["detail"],
            "item 1: customer_external_id: no customer has external id 'C-2'",
        )
        as_outsider = self.results(body, as_user="outsider")
        self.assertEqual([i["status"] for i in as_outsider], [422, 201])
        self.assertNotIn("ann@acme.example", json.dumps(as_outsider))
        self.assertEqual(
            set(Response.objects.values_list("source_key", "customer__external_id")),
            {("a", "C-1"), ("b", "C-2")},
        )

    def test_a_contact_of_another_teams_customer_is_unknown_too(self):
        (item,) = self.results(
            [self.item("a", customer_external_id=None, contact_email="ann@acme.example")],
            as_user="outsider",
        )
        self.assertEqual(
            (item["status"], item["field"], item["detail"]),
            (
                422,
                "contact_email",
                "item 0: contact_email: no contact has e-mail 'ann@acme.example'",
            ),
        )
        self.assertNothingWritten()

    def test_a_replay_is_shown_only_to_those_who_may_see_the_response(self):
        self.assertEqual(self.results([self.item("k")], as_user="teammate")[0]["status"], 201)
        self.assertEqual(self.results([self.item("k")], as_user="owner")[0]["status"], 200)
        (replay,) = self.results([self.item("k")], as_user="outsider")
        self.assertEqual(replay["status"], 422)  # another team's customer: as if unknown
        self.assertIsNone(replay["id"])

    def test_it_lets_a_viewer_read_but_not_submit(self):
        response = self.send([self.item("k")], as_user="viewer")
        self.assertEqual(response.status_code, 403)
        self.assertEqual(response.json(), {"detail": "This token's user may read but not submit."})
        self.assertNothingWritten()

    def test_it_asks_for_a_token(self):
        response = self.client.post(BATCH, [self.item("k")], content_type="application/json")
        self.assertEqual(response.status_code, 401)
        self.assertNothingWritten()


class AnnouncementTests(BatchTestCase):
    def setUp(self):
        self.deliveries = Deliveries(self)

    def test_the_stored_items_are_announced_once_by_the_worker(self):
        body = [self.item("a"), self.item("b", answers={"1": 11}), self.item("c")]
        with self.captureOnCommitCallbacks(execute=True):
            items = self.results(body)
        # The batch asks for nothing (no task row) and nothing is announced inside the request.
        self.assertFalse(DBTaskResult.objects.exists())
        self.assertFalse(self.deliveries.ids)
        self.assertEqual(announce_pending(), 2)
        self.assertEqual(self.deliveries.ids, Counter([items[0]["id"], items[2]["id"]]))
        self.results(body)  # sent again: nothing new
        self.assertEqual(announce_pending(), 0)
        self.assertEqual(list(self.deliveries.ids.values()), [1, 1])

    def test_a_batch_rolled_back_leaves_nothing_to_announce(self):
        def failing(rows):
            list(rows)
            raise DatabaseError("disk full")

        answers_fail = mock.patch.object(feedback_services, "_insert_answer_rows", failing)
        with answers_fail, self.assertRaises(DatabaseError):
            self.send([self.item("a")])
        self.assertEqual(announce_pending(), 0)
        self.assertFalse(self.deliveries.ids)


class ConcurrentWriterTests(BatchTestCase):
    """A key stored by another writer between the batch's look-up and its insert."""

    def test_the_batch_is_stored_item_by_item_and_the_key_replayed(self):
        early = self.results([self.item("k-1")])[0]["id"]
        real = feedback_services._stored_ids
        calls = []

        def missed_once(keys, *args):
            calls.append(keys)
            return {} if len(calls) == 1 else real(keys, *args)  # the first look-up is too early

        with mock.patch.object(feedback_services, "_stored_ids", missed_once):
            items = self.results([self.item(f"k-{n}") for n in range(4)])
        self.assertEqual(
            [(i["status"], i["id"] == early) for i in items],
            [(201, False), (200, True), (201, False), (201, False)],
        )
        self.assertEqual(Response.objects.count(), 4)
        self.assertEqual(Answer.objects.count(), 8)


class HalfWrittenTests(BatchTestCase):
    def test_it_leaves_nothing_when_storing_fails_midway(self):
        def failing(rows):
            list(rows)
            raise DatabaseError("disk full")  # the responses are in, the answers fail

        answers_fail = mock.patch.object(feedback_services, "_insert_answer_rows", failing)
        with answers_fail, self.assertRaises(DatabaseError):
            self.send([self.item("a"), self.item("b")])
        self.assertNothingWritten()
        self.assertEqual([i["status"] for i in self.results([self.item("a")])], [201])


class SimultaneousBatchTests(TransactionTestCase):
    def test_two_batches_with_the_same_keys_at_once_store_each_once(self):
        team = Team.objects.create(name="Team")
        user = User.objects.create_user("integration")
        token = issue_token(Employee.objects.create(user=user, team=team, role="admin"), "CRM")[1]
        survey = make_survey()
        items = [
            {"survey_id": survey.pk, "answers": {"1": n % 11}, "idempotency_key": f"k-{n}"}
            for n in range(200)
        ]
        barrier, answers = threading.Barrier(2), {}

        def send(order: int):
            try:
                barrier.wait()
                response = Client().post(
                    BATCH,
                    json.dumps(items[::order]),
                    content_type="application/json",
                    headers={"Authorization": f"Bearer {token}"},
                )
                answers[order] = response.json()["items"]
            finally:
                connection.close()

        # The second in the first's reverse order: inserted in request order, the two would
        # deadlock on PostgreSQL.
        threads = [threading.Thread(target=send, args=(order,)) for order in (1, -1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual(sorted(answers), [-1, 1])
        for first, second in zip(answers[1], answers[-1][::-1], strict=True):
            self.assertEqual(sorted([first["status"], second["status"]]), [200, 201])
            self.assertEqual(first["id"], second["id"])
        self.assertEqual(Response.objects.count(), 200)
