"""The production profile's queue: CXLOOP_TASKS=rq on a real Redis. Real processes: several
`cxloop worker` at once take each task once, deferred ones included, and a response written
through the one way in reaches the fact store through tasks on Redis."""

import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.test import TransactionTestCase
from rq.registry import ScheduledJobRegistry

from cxloop.facts import store
from cxloop.feedback.services import ingest
from cxloop.ops.rq_queue import RETRY, RetryingQueue
from tests.cases.test_evaluate import database_url
from tests.surveys.test_respond import make_survey

REDIS_URL = os.environ.get("CXLOOP_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
ROOT = Path(__file__).resolve().parents[2]

ENQUEUE = """
import datetime as dt, os, sys
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxloop.settings")
django.setup()
from django.utils import timezone
from tests.ops.probe_tasks import note
for n in range(int(sys.argv[1])):
    note.enqueue(f"now-{n}")
due = timezone.now() + dt.timedelta(seconds=float(sys.argv[2]))
note.using(run_after=due).enqueue("later")
print(due.timestamp())
"""

ENQUEUE_SLOW = """
import os
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxloop.settings")
django.setup()
from tests.ops.probe_tasks import note_slowly
note_slowly.enqueue("slow", 5.0)
"""

# rq finds a started task abandoned once its timeout has passed since it started: as if that
# much time had gone by.
FIND_ABANDONED = """
import os, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxloop.settings")
django.setup()
import django_rq
from django.conf import settings
from rq.registry import StartedJobRegistry
queue = django_rq.get_queue("default")
timeout = settings.RQ_QUEUES["default"]["DEFAULT_TIMEOUT"]
StartedJobRegistry(queue=queue).cleanup(timestamp=time.time() + timeout + 120)
"""


def redis_or_skip() -> redis.Redis:
    """The Redis the tests use, emptied; CI starts one (.ci/run), so only a developer's machine
    without it skips."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"no Redis at {REDIS_URL}: apt-get install redis-server")
    client.flushdb()
    return client


class RedisQueueTests(TransactionTestCase):
    def setUp(self):
        self.redis = redis_or_skip()
        self.addCleanup(self.redis.flushdb)
        folder = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.probe = folder / "probe.txt"
        self.environment = {
            **os.environ,
            "CXLOOP_DATA_DIR": str(folder),
            "CXLOOP_FACTS_DIR": str(folder / "facts"),
            "CXLOOP_DATABASE_URL": database_url(),
            "CXLOOP_TASKS": "rq",
            "CXLOOP_REDIS_URL": REDIS_URL,
            "CXLOOP_FACTS_DELAY": "0",
            "CXLOOP_PROBE_FILE": str(self.probe),
            "PYTHONPATH": str(ROOT),
        }

    def run_python(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, *args],
            env=self.environment,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.assertEqual(done.returncode, 0, done.stderr[-3000:])
        return done.stdout

    def workers_at_once(self, count: int) -> None:
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "cxloop.cli", "worker", "--batch"],
                env=self.environment,
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(count)
        ]
        for worker in workers:
            _out, err = worker.communicate(timeout=300)
            self.assertEqual(worker.returncode, 0, err[-3000:])

    def noted(self) -> list[tuple[str, float]]:
        lines = self.probe.read_text().splitlines() if self.probe.exists() else []
        return [(value, float(at)) for value, at in (line.split() for line in lines)]

    def wait_until_noted(self, value: str) -> None:
        deadline = time.monotonic() + 120
        while not any(noted == value for noted, _at in self.noted()):
            self.assertLess(time.monotonic(), deadline, f"{value} never noted")
            time.sleep(0.1)

    def test_two_workers_take_each_task_once_deferred_ones_when_due(self):
        due = float(self.run_python("-c", ENQUEUE, "300", "3"))
        self.workers_at_once(2)
        time.sleep(max(0.0, due - time.time()) + 0.5)
        self.workers_at_once(2)
        noted = self.noted()
        expected = Counter({f"now-{n}": 1 for n in range(300)} | {"later": 1})
        self.assertEqual(Counter(value for value, _at in noted), expected)  # each once
        (ran_at,) = [at for value, at in noted if value == "later"]
        self.assertGreaterEqual(ran_at, due)  # not before its time

    def test_a_task_whose_worker_died_mid_task_runs_again(self):
        self.run_python("-c", ENQUEUE_SLOW)
        worker = subprocess.Popen(
            [sys.executable, "-m", "cxloop.cli", "worker"],
            env=self.environment,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.wait_until_noted("slow-started")
        worker.kill()  # kill -9, mid-task
        worker.wait()
        self.run_python("-c", FIND_ABANDONED)
        # The retry's pause; its due time is rounded up to the whole second
        # (RetryingQueue.schedule_job), so it may come up to a second after the pause.
        time.sleep(RETRY.intervals[0] + 1.5)
        self.workers_at_once(1)
        noted = Counter(value for value, _at in self.noted())
        self.assertEqual(noted, Counter({"slow-started": 2, "slow-done": 1}))

    def test_sigterm_mid_task_lets_the_task_finish_and_stops_the_worker(self):
        self.run_python("-c", ENQUEUE_SLOW)
        worker = subprocess.Popen(
            [sys.executable, "-m", "cxloop.cli", "worker"],
            env=self.environment,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.wait_until_noted("slow-started")
        worker.terminate()  # SIGTERM, as systemd's stop
        _out, err = worker.communicate(timeout=60)  # the task's 5 s, then the round's end
        self.assertEqual(worker.returncode, 0, err[-3000:])
        noted = Counter(value for value, _at in self.noted())
        self.assertEqual(noted, Counter({"slow-started": 1, "slow-done": 1}))

    def test_a_response_reaches_the_fact_store_through_redis(self):
        when = dt.datetime(2026, 3, 5, 10, tzinfo=dt.UTC)
        ingest(survey=make_survey(), answers={1: 9}, channel="api", submitted_at=when)
        self.workers_at_once(1)
        manifest = store.read_manifest(base=Path(self.environment["CXLOOP_FACTS_DIR"]))
        self.assertIsNotNone(manifest, "the refresh task did not run")
        self.assertEqual(manifest.months["2026-03"].responses, 1)


def test_a_deferred_task_is_not_due_before_its_run_after():
    """rq keeps a deferred task's due time in whole seconds: cut down, the task ran up to a
    second early (a CI run saw 0.08 s); the queue rounds it up instead."""
    client = redis_or_skip()
    queue = RetryingQueue("deferred-probe", connection=client)
    try:
        due = dt.datetime(2030, 1, 1, 12, 0, 0, 900_000, tzinfo=dt.UTC)
        job = queue.enqueue_at(due, print, "later")
        registry = ScheduledJobRegistry(queue=queue)
        assert registry.get_scheduled_time(job) >= due
        assert registry.get_jobs_to_schedule(timestamp=int(due.timestamp())) == []
        assert registry.get_jobs_to_schedule(timestamp=int(due.timestamp()) + 1) == [job.id]
    finally:
        client.flushdb()
