"""Structured logs: one JSON object a line with the request's id, which a request keeps from a
sane incoming X-Request-ID and returns, and which follows the tasks it enqueues into the worker."""

import datetime as dt
import io
import json
import logging
import logging.config
from contextlib import contextmanager
from unittest import mock

import django_rq
from django.core.management import call_command
from django.http import HttpResponse
from django.test import TestCase, TransactionTestCase, modify_settings, override_settings
from django.urls import include, path
from django_tasks import task
from django_tasks_rq.backend import Job

from cxloop.ops import logs
from cxloop.ops.rq_queue import BurstWorker

logger = logging.getLogger(__name__)

REDIS = "redis://127.0.0.1:6379/15"
QUEUE = "cxloop-test-logs"


@task()
def log_inside_task(text: str) -> None:
    logger.info(text)


def log_a_line(request):
    logger.info("a line from the view, по-русски")
    return HttpResponse("ok")


def log_an_error(request):
    try:
        {}["missing"]
    except KeyError:
        logger.exception("the view failed")
    return HttpResponse("ok")


def enqueue_a_task(request):
    queue = request.GET.get("queue", "default")
    result = log_inside_task.using(queue_name=queue).enqueue("a line from the task")
    logger.info("a line after the enqueue")
    return HttpResponse(result.id)


urlpatterns = [
    path("log-a-line/", log_a_line),
    path("log-an-error/", log_an_error),
    path("enqueue-a-task/", enqueue_a_task),
    path("", include("cxloop.urls")),
]


@contextmanager
def json_lines(*names: str):
    """The lines the named loggers write meanwhile, through the JSON formatter, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    loggers = [logging.getLogger(name) for name in names]
    for each in loggers:
        each.addHandler(handler)
    lines: list[dict] = []
    try:
        yield lines
    finally:
        for each in loggers:
            each.removeHandler(handler)
    text = stream.getvalue()
    lines.extend(json.loads(line) for line in text.splitlines())
    assert text.count("\n") == len(lines)  # one line per record, a traceback included


def the_line(lines: list[dict], message: str) -> dict:
    (line,) = [line for line in lines if line["message"] == message]
    return line


@override_settings(ROOT_URLCONF=__name__)
@modify_settings(MIDDLEWARE={"prepend": "cxloop.ops.middleware.RequestIdAndMetricsMiddleware"})
class RequestLogTests(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        logs.connect_receivers()

    def test_a_requests_line_is_json_with_the_id_it_answers_with(self):
        with json_lines(__name__) as lines:
            answer = self.client.get("/log-a-line/")
        line = the_line(lines, "a line from the view, по-русски")
        self.assertRegex(answer["X-Request-ID"], r"^[0-9a-f]{32}$")
        self.assertEqual(line["request_id"], answer["X-Request-ID"])
        self.assertEqual((line["level"], line["logger"]), ("info", __name__))
        self.assertEqual(list(line)[:4], ["time", "level", "logger", "message"])
        written = dt.datetime.fromisoformat(line["time"])
        self.assertEqual(written.utcoffset(), dt.timedelta(0))
        self.assertLess(abs(dt.datetime.now(dt.UTC) - written), dt.timedelta(minutes=1))

    def test_each_request_has_its_own_id(self):
        ids = {self.client.get("/log-a-line/")["X-Request-ID"] for _ in range(3)}
        self.assertEqual(len(ids), 3)

    def test_a_sane_incoming_id_is_kept(self):
        for sent in ("abc-123.X_y", "0" * 64):
            with json_lines(__name__) as lines:
                answer = self.client.get("/log-a-line/", HTTP_X_REQUEST_ID=sent)
            self.assertEqual(answer["X-Request-ID"], sent)
            self.assertEqual(the_line(lines, "a line from the view, по-русски")["request_id"], sent)

    def test_an_unfit_incoming_id_is_replaced(self):
        for sent in ("0" * 65, "abc\r\nX-Admin: 1", "abc\n", "with space", "", "идентификатор"):
            with self.subTest(sent=sent):
                answer = self.client.get("/log-a-line/", HTTP_X_REQUEST_ID=sent)
                self.assertRegex(answer["X-Request-ID"], r"^[0-9a-f]{32}$")

    def test_an_exception_is_one_string_with_its_traceback(self):
        with json_lines(__name__) as lines:
            answer = self.client.get("/log-an-error/")
        line = the_line(lines, "the view failed")
        self.assertEqual(line["level"], "error")
        self.assertIn("Traceback (most recent call last)", line["exception"])
        self.assertIn("KeyError: 'missing'", line["exception"])
        self.assertEqual(line["request_id"], answer["X-Request-ID"])

    def test_djangos_own_loggers_carry_the_id_too(self):
        with json_lines("django.request") as lines:
            answer = self.client.get("/no-such-page/")
        self.assertEqual(answer.status_code, 404)
        line = the_line(lines, "Not Found: /no-such-page/")
        self.assertEqual((line["level"], line["request_id"]), ("warning", answer["X-Request-ID"]))

    def test_once_the_request_is_finished_there_is_no_id(self):
        self.client.get("/log-a-line/")
        with json_lines(__name__) as lines:
            logger.warning("a line from nowhere")
        self.assertNotIn("request_id", the_line(lines, "a line from nowhere"))

    def test_the_formatter_can_be_named_in_LOGGING(self):
        configurator = logging.config.DictConfigurator({"version": 1})
        formatter = configurator.configure_formatter({"()": "cxloop.ops.logs.JsonFormatter"})
        self.assertIsInstance(formatter, logs.JsonFormatter)


@override_settings(ROOT_URLCONF=__name__)
@modify_settings(MIDDLEWARE={"prepend": "cxloop.ops.middleware.RequestIdAndMetricsMiddleware"})
class DatabaseQueueTests(TransactionTestCase):
    """The worker closes the connection it ran in, hence a TransactionTestCase."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        logs.connect_receivers()

    def test_a_task_enqueued_in_a_request_logs_with_its_id_in_the_worker(self):
        answer = self.client.get("/enqueue-a-task/")
        request_id, task_id = answer["X-Request-ID"], answer.content.decode()
        with json_lines(__name__) as lines:
            call_command("db_worker", batch=True, reload=False, startup_delay=False)
            logger.info("a line after the worker")
        line = the_line(lines, "a line from the task")
        self.assertEqual(line["request_id"], request_id)
        self.assertEqual(line["task_id"], task_id)
        self.assertEqual(line["task"], "tests.ops.test_logs.log_inside_task")
        after = the_line(lines, "a line after the worker")
        self.assertFalse({"request_id", "task_id", "task"} & set(after), after)

    def test_a_task_enqueued_outside_a_request_logs_its_own_id_only(self):
        result = log_inside_task.enqueue("a task of the worker's own")
        with json_lines(__name__) as lines:
            call_command("db_worker", batch=True, reload=False, startup_delay=False)
        line = the_line(lines, "a task of the worker's own")
        self.assertEqual(line["task_id"], result.id)
        self.assertNotIn("request_id", line)

    def test_a_cache_that_fails_costs_the_id_not_the_task(self):
        with (
            mock.patch.object(logs.cache, "set", side_effect=ConnectionError("cache is down")),
            self.assertLogs("cxloop.ops.logs", "ERROR"),
        ):
            answer = self.client.get("/enqueue-a-task/")
        self.assertEqual(answer.status_code, 200)
        with json_lines(__name__) as lines:
            call_command("db_worker", batch=True, reload=False, startup_delay=False)
        line = the_line(lines, "a line from the task")
        self.assertEqual(line["task_id"], answer.content.decode())
        self.assertNotIn("request_id", line)


@override_settings(
    ROOT_URLCONF=__name__,
    TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
)
@modify_settings(MIDDLEWARE={"prepend": "cxloop.ops.middleware.RequestIdAndMetricsMiddleware"})
class ImmediateTaskTests(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        logs.connect_receivers()

    def test_a_task_run_inside_the_request_leaves_the_requests_id_bound(self):
        with json_lines(__name__) as lines:
            answer = self.client.get("/enqueue-a-task/")
        request_id = answer["X-Request-ID"]
        inside = the_line(lines, "a line from the task")
        self.assertEqual(inside["request_id"], request_id)
        self.assertEqual(inside["task_id"], answer.content.decode())
        after = the_line(lines, "a line after the enqueue")
        self.assertEqual(after["request_id"], request_id)
        self.assertNotIn("task_id", after)


@override_settings(
    ROOT_URLCONF=__name__,
    RQ_QUEUES={QUEUE: {"URL": REDIS}},
    TASKS={"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": [QUEUE]}},
)
@modify_settings(MIDDLEWARE={"prepend": "cxloop.ops.middleware.RequestIdAndMetricsMiddleware"})
class RedisQueueTests(TestCase):
    """On Redis, run by an rq worker in this process as ``cxloop worker`` runs one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        logs.connect_receivers()

    def setUp(self):
        self.queue = django_rq.get_queue(QUEUE, job_class=Job)
        self.queue.empty()
        self.addCleanup(self.queue.empty)

    def test_a_task_enqueued_in_a_request_logs_with_its_id_in_the_worker(self):
        answer = self.client.get("/enqueue-a-task/", {"queue": QUEUE})
        request_id, task_id = answer["X-Request-ID"], answer.content.decode()
        worker = BurstWorker([self.queue], connection=self.queue.connection, job_class=Job)
        with json_lines(__name__) as lines:
            worker.work(burst=True, logging_level="CRITICAL")
            logger.info("a line after the worker")
        line = the_line(lines, "a line from the task")
        self.assertEqual((line["request_id"], line["task_id"]), (request_id, task_id))
        after = the_line(lines, "a line after the worker")
        self.assertFalse({"request_id", "task_id", "task"} & set(after), after)
