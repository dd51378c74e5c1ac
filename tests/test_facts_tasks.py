"""Keeping the fact store current: a write is announced (cxloop.surveys.announce) → one debounced
task per month → the month rewritten by the task worker."""

import datetime as dt
import json
import tempfile
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import TransactionTestCase, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cxloop.customers.models import Contact, Customer
from cxloop.facts import store, sync
from cxloop.facts.schema import SCHEMA_VERSION
from cxloop.facts.tasks import refresh_fact_months
from cxloop.facts.tasks import schedule as refresh_schedule
from cxloop.feedback.services import Feedback, ingest_many, log_face_to_face
from cxloop.people.models import Employee, Team
from cxloop.surveys.announce import announce_pending
from cxloop.surveys.models import Question, Survey
from cxloop.surveys.services import begin, issue_invitation, save_page
from tests.surveys.test_respond import make_survey

MARCH = dt.datetime(2026, 3, 5, 10, tzinfo=dt.UTC)
APRIL = dt.datetime(2026, 4, 5, 10, tzinfo=dt.UTC)
REFRESH = "cxloop.facts.tasks.refresh_fact_months"


def run_worker() -> None:
    call_command("worker", batch=True, verbosity=0)


def stored_response_ids(month: str) -> list[int]:
    return store.read_month("responses", month)["response_id"].to_pylist()


def refresh_tasks():
    return DBTaskResult.objects.filter(task_path=REFRESH).order_by("enqueued_at")


class Clock:
    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@override_settings(FACTS_DELAY=5)
class RefreshTaskTests(TransactionTestCase):
    """Committed data, because the writes' callbacks run on commit and the worker runs each task
    in its own transaction."""

    def setUp(self):
        self.root = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.enterContext(override_settings(FACTS_DIR=self.root))
        refresh_schedule.clear()  # other tests of this process may have left keys pending
        self.addCleanup(setattr, refresh_schedule, "clock", refresh_schedule.clock)
        self.customer = Customer.objects.create(external_id="C-1", name="Acme")
        self.survey = make_survey()
        sync.rebuild()  # an empty store, as a running site has

    def ingest(self, when: dt.datetime, score: int = 9) -> None:
        ingest_many(
            survey=self.survey,
            items=[Feedback({1: score}, when, "api", customer=self.customer)],
        )

    def test_it_enqueues_one_task_for_many_writes_and_the_worker_brings_the_store_up(self):
        for score in range(10):
            self.ingest(MARCH, score)
        guide = Survey.objects.create(name_ru="Встреча", name_en="Meeting", kind="interview")
        nps = Question.objects.create(survey=guide, order=1, kind="nps", text_ru="?", text_en="?")
        user = get_user_model().objects.create(username="anna")
        employee = Employee.objects.create(user=user, team=Team.objects.create(name="Tax"))
        log_face_to_face(
            guide=guide,
            kind="debrief",
            customer=self.customer,
            employee=employee,
            met_on=MARCH.date(),
            language="ru",
            values={nps.pk: 10},
        )
        self.assertFalse(DBTaskResult.objects.exists())  # the writes ask for nothing
        run_worker()  # announces them: the fact store's refresh is enqueued
        task = refresh_tasks().get()  # one, for eleven responses
        self.assertEqual(task.args_kwargs, {"args": [["2026-03"]], "kwargs": {}})
        self.assertGreater(task.run_after, timezone.now() + dt.timedelta(seconds=3))
        run_worker()
        self.assertEqual(refresh_tasks().get().status, "READY")  # not due yet
        refresh_tasks().update(run_after=timezone.now())  # five seconds later
        run_worker()
        task = refresh_tasks().get()
        self.assertEqual(task.status, "SUCCESSFUL", task.traceback)
        self.assertEqual(task.return_value["responses"], 11)
        self.assertEqual(len(stored_response_ids("2026-03")), 11)
        self.assertEqual(store.read_manifest().months["2026-03"].responses, 11)

    def test_it_enqueues_again_once_the_pending_task_may_have_started(self):
        clock = refresh_schedule.clock = Clock(timezone.now())

        def announced(when: dt.datetime) -> None:
            self.ingest(when)
            announce_pending()

        announced(MARCH)
        clock.now += dt.timedelta(seconds=3)
        announced(MARCH)  # March's task has not started: nothing more
        announced(APRIL)  # April has none pending
        clock.now += dt.timedelta(seconds=3)
        announced(MARCH)  # March's task may be running and miss this write
        announced(APRIL)
        months = [t.args_kwargs["args"][0] for t in refresh_tasks()]
        self.assertEqual(months, [["2026-03"], ["2026-04"], ["2026-03"]])

    def test_it_enqueues_nothing_for_a_write_that_was_rolled_back(self):
        with self.assertRaises(RuntimeError), transaction.atomic():
            self.ingest(MARCH)
            raise RuntimeError("the request failed after the write")
        self.assertEqual(announce_pending(), 0)
        self.assertFalse(DBTaskResult.objects.exists())

    @override_settings(FACTS_DELAY=0)
    def test_without_a_delay_it_enqueues_each_announcement_to_run_at_once(self):
        self.ingest(MARCH)
        announce_pending()
        self.ingest(MARCH, score=3)
        announce_pending()
        self.assertEqual(refresh_tasks().count(), 2)
        run_worker()
        self.assertEqual(refresh_tasks().filter(status="SUCCESSFUL").count(), 2)
        self.assertEqual(len(stored_response_ids("2026-03")), 2)

    def test_a_respondent_finishing_a_survey_enqueues_its_month(self):
        contact = Contact.objects.create(customer=self.customer, name="Anna", email="a@acme.ru")
        invitation, _token = issue_invitation(self.survey, contact, now=timezone.now())
        response = begin(invitation, now=timezone.now())
        questions = self.survey.questions.filter(page=1)
        first = questions.get(order=1)
        save_page(response, questions, {first.pk: 9}, page=1, language="ru", now=MARCH)
        self.assertFalse(DBTaskResult.objects.exists())  # an unfinished response is not stored
        self.assertEqual(announce_pending(), 0)
        save_page(response, [], {}, page=3, language="ru", now=MARCH, finish=True)
        run_worker()
        self.assertEqual(refresh_tasks().get().args_kwargs["args"], [["2026-03"]])

    def test_the_task_is_idempotent(self):
        self.ingest(MARCH)
        first = refresh_fact_months.call(["2026-03"])
        rows = self.stored_rows()
        second = refresh_fact_months.call(["2026-03"])
        self.assertEqual(first["responses"], second["responses"])
        self.assertEqual(self.stored_rows(), rows)
        self.assertNotEqual(first["version"], second["version"])

    def stored_rows(self) -> dict:
        """Every row of the store, by table and month (whatever parts hold them)."""
        manifest = store.read_manifest()
        rows = {
            (table, month): counts.read(table, month).to_pylist()
            for month, counts in manifest.months.items()
            for table in store.MONTHLY
        }
        return rows | {p.name: p.read_bytes() for p in self.root.glob("*.parquet")}

    def test_migrate_has_a_store_of_another_schema_rebuilt_by_the_next_worker_round(self):
        self.ingest(MARCH)
        manifest = self.root / "manifest.json"
        old = json.loads(manifest.read_text())
        old["schema"] = 3  # as a version before an upgrade wrote it
        manifest.write_text(json.dumps(old))
        with self.assertRaises(store.FactStoreError):
            store.read_manifest()
        with self.assertLogs("cxloop.facts.tasks", "WARNING") as logs:
            call_command("migrate", verbosity=0)
        self.assertIn("the fact store will be rebuilt", logs.output[0])
        self.assertEqual(list(refresh_tasks().values_list("args_kwargs", flat=True)),
                         [{"args": [[]], "kwargs": {}}])  # fmt: skip
        run_worker()
        self.assertEqual(store.read_manifest().schema, SCHEMA_VERSION)
        self.assertEqual(len(stored_response_ids("2026-03")), 1)

    def test_migrate_has_a_store_of_an_older_schema_rebuilt_and_readable_meanwhile(self):
        self.ingest(MARCH)
        manifest = self.root / "manifest.json"
        old = json.loads(manifest.read_text())
        old["schema"] = 5  # before answer_moments and answer_totals
        for month in old["months"].values():
            del month["parts"]["answer_moments"], month["parts"]["answer_totals"]
        manifest.write_text(json.dumps(old))
        self.assertEqual(store.read_manifest().schema, 5)  # the pages go on reading it
        with self.assertLogs("cxloop.facts.tasks", "WARNING") as logs:
            call_command("migrate", verbosity=0)
        self.assertIn("schema 5, this cxloop writes", logs.output[0])
        self.assertEqual(refresh_tasks().count(), 1)
        run_worker()
        rebuilt = store.read_manifest()
        self.assertEqual(rebuilt.schema, SCHEMA_VERSION)
        self.assertTrue(rebuilt.holds("answer_moments", None, None))
        self.assertTrue(rebuilt.holds("answer_totals", None, None))

    def test_migrate_leaves_a_readable_store_alone(self):
        call_command("migrate", verbosity=0)
        self.assertFalse(refresh_tasks().exists())
