"""``GET /healthz``: 200 when the database, the queue, a worker, the fact store and the outbox are
all well; 503 naming what is not, without saying why to whoever asks."""

import datetime as dt
import json
import tempfile
from pathlib import Path
from unittest import mock

from django.core.cache import cache
from django.core.management import call_command
from django.db import OperationalError
from django.test import TestCase, TransactionTestCase, override_settings
from django.utils import timezone

from cxloop.facts import sync
from cxloop.feedback.services import ingest
from cxloop.ops import health, heartbeat
from cxloop.outbox.services import enqueue_email
from cxloop.webhooks import services as webhooks
from tests.surveys.test_respond import make_survey


class Healthz:
    def setUp(self):
        cache.delete(heartbeat.KEY)
        self.enterContext(override_settings(FACTS_DIR=Path(tempfile.mkdtemp())))

    def healthz(self) -> tuple[int, dict]:
        answer = self.client.get("/healthz")
        self.assertEqual(answer["Content-Type"], "application/json")
        self.assertIn("no-cache", answer["Cache-Control"])
        return answer.status_code, json.loads(answer.content)

    def failing(self, body: dict) -> set[str]:
        return {name for name, check in body["checks"].items() if not check["ok"]}


class WorkerRoundTests(Healthz, TransactionTestCase):
    """The worker's round closes the connection it ran in: a TransactionTestCase."""

    def test_it_is_healthy_once_a_worker_runs_and_the_store_is_written(self):
        sync.rebuild()
        call_command("worker", batch=True, verbosity=0)
        status, body = self.healthz()
        self.assertEqual((status, self.failing(body)), (200, set()))
        self.assertEqual(body["checks"]["outbox"]["due"], 0)
        self.assertEqual(body["checks"]["facts"]["lag_seconds"], 0)
        self.assertLess(body["checks"]["worker"]["seconds_since_round"], 60)


class HealthTests(Healthz, TestCase):
    def test_a_fresh_install_says_what_is_missing(self):
        status, body = self.healthz()
        self.assertEqual(status, 503)
        self.assertEqual(body["status"], "fail")
        # No worker has run a round; the fact store was never written, but has nothing to hold.
        self.assertEqual(self.failing(body), {"worker"})
        self.assertEqual(body["checks"]["facts"]["lag_seconds"], 0)
        self.assertEqual(body["checks"]["queue"]["backend"], "db")
        self.assertEqual(body["checks"]["analytics"]["engine"], "duckdb")

    def test_a_store_never_written_is_behind_since_the_first_response(self):
        heartbeat.beat()
        survey = make_survey()
        first = timezone.now() - dt.timedelta(minutes=20)
        ingest(survey=survey, answers={1: 9}, channel="api", submitted_at=first)
        ok, body = health.report()
        self.assertEqual(self.failing(body), {"facts"})
        self.assertGreaterEqual(body["checks"]["facts"]["lag_seconds"], 20 * 60)

    def test_a_silent_worker_fails(self):
        sync.rebuild()
        heartbeat.beat(timezone.now() - health.WORKER_SILENT - dt.timedelta(seconds=1))
        ok, body = health.report()
        self.assertFalse(ok)
        self.assertEqual(self.failing(body), {"worker"})

    def test_a_fact_store_behind_the_database_fails(self):
        sync.rebuild()
        heartbeat.beat()
        written = timezone.now()
        survey = make_survey()
        ingest(survey=survey, answers={1: 9}, channel="api", submitted_at=written)
        # Just after: the refresh has not run yet, which is normal.
        ok, body = health.report(now=written + dt.timedelta(seconds=10))
        self.assertTrue(ok, body)
        self.assertGreater(body["checks"]["facts"]["lag_seconds"], 0)
        later = written + health.FACTS_BEHIND + dt.timedelta(minutes=1)
        heartbeat.beat(later)
        ok, body = health.report(now=later)
        self.assertEqual(self.failing(body), {"facts"})
        self.assertGreater(body["checks"]["facts"]["lag_seconds"], 15 * 60)

    def test_an_outbox_that_does_not_send_fails(self):
        sync.rebuild()
        now = timezone.now()
        heartbeat.beat(now)
        enqueue_email("a@example.com", "Subject", "Text", now=now)
        ok, body = health.report(now=now + dt.timedelta(seconds=5))
        self.assertTrue(ok, body)
        self.assertEqual(body["checks"]["outbox"]["due"], 1)
        heartbeat.beat(now + health.OUTBOX_BEHIND)
        ok, body = health.report(now=now + health.OUTBOX_BEHIND + dt.timedelta(minutes=1))
        self.assertEqual(self.failing(body), {"outbox"})

    def test_a_receiver_that_is_down_is_shown_but_does_not_fail_the_service(self):
        sync.rebuild()
        now = timezone.now()
        webhooks.create_subscription(
            name="CRM", url="https://crm.example.com/hooks", events=["case.opened"]
        )
        webhooks.emit("case.opened", subject="case:1", data={}, now=now)
        later = now + dt.timedelta(hours=2)
        heartbeat.beat(later)
        ok, body = health.report(now=later)
        self.assertTrue(ok, body)
        self.assertEqual(body["checks"]["webhooks"]["due"], 1)
        self.assertAlmostEqual(body["checks"]["webhooks"]["oldest_due_seconds"], 7200, delta=1)

    def test_a_database_that_does_not_answer_fails_without_saying_why(self):
        sync.rebuild()
        heartbeat.beat()
        refused = OperationalError("could not connect to server at 10.0.0.7")
        with mock.patch.object(health, "CHECKS", {**health.CHECKS}) as checks:
            checks["database"] = mock.Mock(side_effect=refused)
            with self.assertLogs("cxloop.ops.health", "ERROR"):
                status, body = self.healthz()
        self.assertEqual(status, 503)
        self.assertEqual(body["checks"]["database"]["error"], True)
        self.assertNotIn("10.0.0.7", json.dumps(body))
        self.assertEqual(self.failing(body), {"database"})  # the others still ran

    def test_a_queue_on_a_redis_that_is_down_fails(self):
        sync.rebuild()
        heartbeat.beat()
        down = {"default": {"URL": "redis://127.0.0.1:9/0", "DEFAULT_TIMEOUT": 60}}
        with (
            override_settings(
                TASKS_BACKEND="rq",
                TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}},
                RQ_QUEUES=down,
            ),
            self.assertLogs("cxloop.ops.health", "ERROR"),
        ):
            ok, body = health.report()
        self.assertEqual(self.failing(body), {"queue"})

    def test_only_get_and_head(self):
        self.assertEqual(self.client.post("/healthz").status_code, 405)
        self.assertIn(self.client.head("/healthz").status_code, (200, 503))
