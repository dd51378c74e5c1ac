"""``GET /metrics``: Prometheus text that adds up every process of the machine, counting requests
by route name and tasks by outcome on both queues, with gauges of what waits; 404 to strangers."""

import datetime as dt
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from unittest import mock

import django_rq
from django.core.management import call_command
from django.test import (
    SimpleTestCase,
    TestCase,
    TransactionTestCase,
    modify_settings,
    override_settings,
)
from django.urls import include, path
from django.utils import timezone
from django_tasks import task
from django_tasks_rq.backend import Job

from cxloop.facts import sync
from cxloop.feedback.services import ingest
from cxloop.lib import networks
from cxloop.lib.env import SettingError
from cxloop.ops import gauges, metrics
from cxloop.ops.prometheus import DIRECTORY
from cxloop.ops.rq_queue import BurstWorker
from cxloop.outbox.services import enqueue_email
from cxloop.surveys.announce import announce_pending
from cxloop.webhooks import services as webhooks
from tests.surveys.test_respond import make_survey

# The URLs as settings.py will have them, with /metrics.
urlpatterns = [
    path("metrics", metrics.metrics_view, name="metrics"),
    path("", include("cxloop.urls")),
]

MIDDLEWARE = {"prepend": "cxloop.ops.middleware.RequestIdAndMetricsMiddleware"}
TOKEN = "t" * 40
REDIS = "redis://127.0.0.1:6379/15"
QUEUE = "cxloop-test-metrics"


@task()
def succeeds() -> int:
    return 1


@task()
def fails() -> None:
    raise ValueError("a task that fails")


def scrape(client, **headers) -> dict[tuple[str, frozenset], float]:
    """/metrics read as the Prometheus server reads it: (sample name, labels) → value."""
    # prometheus_client only after cxloop.ops.prometheus: it reads its mode once, when imported.
    from prometheus_client.parser import text_string_to_metric_families

    answer = client.get("/metrics", **headers)
    assert answer.status_code == 200, answer.status_code
    assert answer["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.content.decode())
        for sample in family.samples
    }


def value(samples, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@override_settings(ROOT_URLCONF=__name__, METRICS_ALLOW=(), METRICS_TOKEN=None)
@modify_settings(MIDDLEWARE=MIDDLEWARE)
class MetricsTests(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        metrics.connect_receivers()

    def setUp(self):
        self.enterContext(override_settings(FACTS_DIR=Path(tempfile.mkdtemp())))

    def test_it_counts_a_request_by_its_route_name(self):
        before = scrape(self.client)
        self.assertEqual(self.client.get("/login/").status_code, 200)
        self.client.get("/surveys/999999/")  # a route with a parameter: its name, not its path
        after = scrape(self.client)
        login = {"method": "GET", "route": "login"}
        self.assertEqual(
            value(after, "cxloop_http_requests_total", status="2xx", **login)
            - value(before, "cxloop_http_requests_total", status="2xx", **login),
            1,
        )
        self.assertEqual(
            value(after, "cxloop_http_request_duration_seconds_count", **login)
            - value(before, "cxloop_http_request_duration_seconds_count", **login),
            1,
        )
        routes = {dict(labels).get("route") for _, labels in after}
        self.assertIn("survey_detail", routes)
        self.assertFalse(any(route and "/" in route for route in routes), routes)

    def test_an_invented_method_and_an_unknown_path_add_no_series_of_their_own(self):
        self.client.generic("BREW", "/login/")
        self.client.get(f"/no-such-page-{uuid.uuid4().hex}/")
        samples = scrape(self.client)
        self.assertGreater(value(samples, "cxloop_http_requests_total", method="other",
                                 route="login", status="4xx"), 0)  # fmt: skip
        self.assertGreater(value(samples, "cxloop_http_requests_total", method="GET",
                                 route="unmatched", status="4xx"), 0)  # fmt: skip

    def test_the_counts_of_two_processes_add_up(self):
        labels = {"method": "GET", "route": "from-two-processes", "status": "2xx"}
        before = value(scrape(self.client), "cxloop_http_requests_total", **labels)
        metrics.HTTP_REQUESTS.labels(*labels.values()).inc(2)
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup()\n"
                "from cxloop.ops import metrics\n"
                "metrics.HTTP_REQUESTS.labels('GET', 'from-two-processes', '2xx').inc(3)\n",
            ],
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "cxloop.settings"},
            check=True,
        )
        after = value(scrape(self.client), "cxloop_http_requests_total", **labels)
        self.assertEqual(after - before, 5)

    def test_the_gauges_show_the_waiting_e_mails_and_a_fact_store_behind(self):
        sync.rebuild()
        now = timezone.now()
        for number in range(3):
            enqueue_email(f"c{number}@example.com", "Subject", "Text", now=now)
        ingest(survey=make_survey(), answers={1: 9}, channel="api", submitted_at=now)
        samples = scrape(self.client)
        self.assertEqual(value(samples, "cxloop_outbox_due_messages"), 3)
        self.assertGreaterEqual(value(samples, "cxloop_outbox_oldest_due_seconds"), 0)
        self.assertLess(value(samples, "cxloop_facts_lag_seconds"), 60)
        # Ten minutes on, nothing sent and the store not refreshed.
        later = {
            family.name: family.samples[0].value
            for gauge in (gauges.outbox_backlog, gauges.facts_lag)
            for family in gauge(now + dt.timedelta(minutes=10))
        }
        self.assertAlmostEqual(later["cxloop_outbox_oldest_due_seconds"], 600, delta=1)
        self.assertAlmostEqual(later["cxloop_facts_lag_seconds"], 600, delta=1)

    def test_the_gauge_of_unannounced_responses_counts_what_the_worker_has_yet_to_announce(self):
        survey = make_survey()
        for score in (3, 9):
            ingest(survey=survey, answers={1: score}, channel="api", submitted_at=timezone.now())
        self.assertEqual(value(scrape(self.client), "cxloop_responses_unannounced"), 2)
        self.assertEqual(announce_pending(), 2)
        self.assertEqual(value(scrape(self.client), "cxloop_responses_unannounced"), 0)

    def test_the_gauges_show_the_waiting_webhook_deliveries_of_subscriptions_that_are_on(self):
        now = timezone.now()
        on = webhooks.create_subscription(
            name="CRM", url="https://crm.example.com/hooks", events=["case.opened"]
        )
        off = webhooks.create_subscription(
            name="Old", url="https://old.example.com/hooks", events=["case.opened"]
        )
        webhooks.set_active(off, False)
        for number in range(2):
            webhooks.emit("case.opened", subject=f"case:{number}", data={"n": number}, now=now)

        def figures(at):
            return {family.name: family.samples[0].value for family in gauges.webhook_backlog(at)}

        later = figures(now + dt.timedelta(minutes=10))
        self.assertEqual(later["cxloop_webhook_due_deliveries"], 2)  # the CRM's, not the old's
        self.assertAlmostEqual(later["cxloop_webhook_oldest_due_seconds"], 600, delta=1)
        samples = scrape(self.client)
        self.assertEqual(value(samples, "cxloop_webhook_due_deliveries"), 2)
        webhooks.set_active(on, False)
        self.assertEqual(figures(now)["cxloop_webhook_due_deliveries"], 0)

    def test_a_store_never_written_lags_since_the_first_response(self):
        first = timezone.now() - dt.timedelta(hours=2)
        ingest(survey=make_survey(), answers={1: 9}, channel="api", submitted_at=first)
        (family,) = gauges.facts_lag(first + dt.timedelta(hours=2))
        self.assertAlmostEqual(family.samples[0].value, 7200, delta=1)

    def test_a_failing_gauge_leaves_the_others(self):
        def broken(now):
            raise RuntimeError("the outbox's table is locked")

        with (
            mock.patch.object(gauges, "GAUGES", (broken, gauges.task_backlog)),
            self.assertLogs("cxloop.ops.gauges", "ERROR"),
        ):
            samples = scrape(self.client)
        self.assertIn(("cxloop_task_backlog", frozenset({("queue", "default")})), samples)
        self.assertNotIn(("cxloop_outbox_due_messages", frozenset()), samples)


@override_settings(ROOT_URLCONF=__name__, METRICS_ALLOW=(), METRICS_TOKEN=None)
class DatabaseQueueTests(TransactionTestCase):
    """Tasks on the database queue, run by django-tasks-db's worker as ``cxloop worker`` runs
    it; the worker closes the connection it ran in, hence a TransactionTestCase."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        metrics.connect_receivers()

    def test_a_task_run_by_the_database_worker_is_counted_and_timed(self):
        name = "tests.ops.test_metrics.succeeds"
        before = scrape(self.client)
        succeeds.enqueue()
        succeeds.enqueue()
        fails.enqueue()
        waiting = scrape(self.client)
        self.assertEqual(
            value(waiting, "cxloop_task_backlog", queue="default")
            - value(before, "cxloop_task_backlog", queue="default"),
            3,
        )
        with self.assertLogs("django_tasks", "ERROR"):  # the failing task's traceback
            call_command("db_worker", batch=True, reload=False, startup_delay=False)
        after = scrape(self.client)
        self.assertEqual(value(after, "cxloop_task_backlog", queue="default"), 0)

        def grew(sample, **labels):
            return value(after, sample, **labels) - value(before, sample, **labels)

        self.assertEqual(grew("cxloop_tasks_finished_total", task=name, outcome="successful"), 2)
        failed = "tests.ops.test_metrics.fails"
        self.assertEqual(grew("cxloop_tasks_finished_total", task=failed, outcome="failed"), 1)
        self.assertEqual(grew("cxloop_task_wait_seconds_count", task=name), 2)
        self.assertEqual(grew("cxloop_task_run_seconds_count", task=name), 2)
        # Both waited less than a minute, and ran in less than a second.
        self.assertEqual(grew("cxloop_task_wait_seconds_bucket", task=name, le="60.0"), 2)
        self.assertEqual(grew("cxloop_task_run_seconds_bucket", task=name, le="1.0"), 2)

    def test_a_deferred_task_waits_from_its_time_not_from_its_enqueueing(self):
        name = "tests.ops.test_metrics.succeeds"
        before = scrape(self.client)
        succeeds.using(run_after=timezone.now() - dt.timedelta(seconds=5)).enqueue()
        call_command("db_worker", batch=True, reload=False, startup_delay=False)
        after = scrape(self.client)

        def grew(le):
            sample = "cxloop_task_wait_seconds_bucket"
            return value(after, sample, task=name, le=le) - value(before, sample, task=name, le=le)

        # Enqueued a moment ago, but due five seconds ago.
        self.assertEqual((grew("2.5"), grew("5.0"), grew("10.0")), (0, 0, 1))


@override_settings(ROOT_URLCONF=__name__, METRICS_ALLOW=(), METRICS_TOKEN=None)
class AccessTests(TestCase):
    def status(self, address: str, **headers) -> int:
        return self.client.get("/metrics", REMOTE_ADDR=address, **headers).status_code

    def test_this_machine_may_read(self):
        self.assertEqual(self.status("127.0.0.1"), 200)
        self.assertEqual(self.status("::1"), 200)

    def test_a_stranger_gets_not_found(self):
        self.assertEqual(self.status("203.0.113.9"), 404)
        self.assertEqual(self.status("not an address"), 404)

    def test_a_request_through_a_proxy_on_this_machine_is_not_this_machines(self):
        self.assertEqual(self.status("127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9"), 404)
        # nginx's common set: only the scheme and the client's address.
        self.assertEqual(self.status("127.0.0.1", HTTP_X_FORWARDED_PROTO="https"), 404)
        self.assertEqual(self.status("127.0.0.1", HTTP_X_REAL_IP="203.0.113.9"), 404)

    def test_the_allowed_addresses_and_networks_may_read(self):
        with override_settings(
            METRICS_ALLOW=networks.parse_networks("X", "10.1.2.3, 192.168.0.0/16")
        ):
            self.assertEqual(self.status("10.1.2.3"), 200)
            self.assertEqual(self.status("192.168.44.5"), 200)
            self.assertEqual(self.status("::ffff:192.168.44.5"), 200)  # a dual-stack socket
            self.assertEqual(self.status("10.1.2.4"), 404)

    def test_a_malformed_list_stops_start_up_naming_the_variable(self):
        for wrong in ("10.0.0.5/24", "10.0.0.300", "cx.example.com", "10.0.0.1,,10.0.0.2"):
            with self.subTest(wrong=wrong), self.assertRaises(SettingError) as raised:
                networks.parse_networks("CXLOOP_METRICS_ALLOW", wrong)
            self.assertIn("CXLOOP_METRICS_ALLOW", str(raised.exception))
            self.assertIn(repr(wrong), str(raised.exception))
        self.assertEqual(networks.parse_networks("CXLOOP_METRICS_ALLOW", " "), ())

    def test_the_token_opens_it_from_anywhere(self):
        with override_settings(METRICS_TOKEN=TOKEN):
            bearer = f"Bearer {TOKEN}"
            self.assertEqual(self.status("203.0.113.9", HTTP_AUTHORIZATION=bearer), 200)
            self.assertEqual(self.status("203.0.113.9", HTTP_AUTHORIZATION=bearer + "x"), 404)
            self.assertEqual(self.status("203.0.113.9", HTTP_AUTHORIZATION=TOKEN), 404)
            self.assertEqual(self.status("203.0.113.9", HTTP_AUTHORIZATION="Bearer ключ"), 404)

    def test_without_a_token_set_no_bearer_opens_it(self):
        self.assertEqual(self.status("203.0.113.9", HTTP_AUTHORIZATION="Bearer None"), 404)
        self.assertEqual(self.status("203.0.113.9", HTTP_AUTHORIZATION="Bearer "), 404)

    def test_only_get_and_head(self):
        self.assertEqual(self.client.post("/metrics").status_code, 405)


@override_settings(
    ROOT_URLCONF=__name__,
    METRICS_ALLOW=(),
    METRICS_TOKEN=None,
    RQ_QUEUES={QUEUE: {"URL": REDIS}},
    TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [QUEUE]}},
)
class RedisQueueTests(TestCase):
    """The same signals and gauges on Redis (django-tasks-rq), run by an rq worker in this
    process as ``cxloop worker`` runs one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        metrics.connect_receivers()

    def setUp(self):
        self.queue = django_rq.get_queue(QUEUE, job_class=Job)
        self.queue.empty()
        self.addCleanup(self.queue.empty)

    def test_a_task_on_redis_is_counted_timed_and_its_backlog_seen(self):
        name = "tests.ops.test_metrics.succeeds"
        before = scrape(self.client)
        succeeds.using(queue_name=QUEUE).enqueue()
        fails.using(queue_name=QUEUE).enqueue()
        waiting = scrape(self.client)
        self.assertEqual(value(waiting, "cxloop_task_backlog", queue=QUEUE), 2)
        worker = BurstWorker([self.queue], connection=self.queue.connection, job_class=Job)
        worker.work(burst=True, logging_level="CRITICAL")
        after = scrape(self.client)
        self.assertEqual(value(after, "cxloop_task_backlog", queue=QUEUE), 0)

        def grew(sample, **labels):
            return value(after, sample, **labels) - value(before, sample, **labels)

        self.assertEqual(grew("cxloop_tasks_finished_total", task=name, outcome="successful"), 1)
        failed = "tests.ops.test_metrics.fails"
        self.assertEqual(grew("cxloop_tasks_finished_total", task=failed, outcome="failed"), 1)
        self.assertEqual(grew("cxloop_task_wait_seconds_count", task=name), 1)
        self.assertEqual(grew("cxloop_task_wait_seconds_bucket", task=name, le="60.0"), 1)
        self.assertEqual(grew("cxloop_task_run_seconds_count", task=name), 1)


class EndedProcessTests(SimpleTestCase):
    def test_serve_forgets_the_files_of_ended_processes_only(self):
        ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                               capture_output=True, text=True, check=True)  # fmt: skip
        gone = DIRECTORY / f"counter_{ended.stdout.strip()}.db"
        gone.write_bytes(b"")
        mine = DIRECTORY / f"counter_{os.getpid()}.db"
        metrics.HTTP_REQUESTS.labels("GET", "kept", "2xx").inc()  # this process's file exists
        self.assertIn(gone, metrics.forget_ended_processes())
        self.assertFalse(gone.exists())
        self.assertTrue(mine.exists())
