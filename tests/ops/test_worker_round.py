"""A worker's round looks before it claims: in most rounds nothing is due, and a claim is a
write transaction, which on SQLite the API's inserts wait for. It looks at the SLA clocks every
few seconds, and sends instant news every round."""

import datetime as dt
import signal
import threading
import time

from django.db import connection
from django.test import TestCase, TransactionTestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from cxloop.cases import services
from cxloop.cases.choices import EventKind, NotificationKind, Origin
from cxloop.cases.models import CaseEvent, Notification
from cxloop.management.commands.worker import CLOCKS_EVERY, Command, run_queued_tasks
from cxloop.outbox.claims import claim_due
from cxloop.outbox.models import OutboxMessage, State
from cxloop.outbox.services import enqueue_email
from cxloop.test import BaseTestCase
from tests.cases.test_jobs import JobsFixture

NOTED: list[str] = []


@task()
def note(value: str) -> None:
    NOTED.append(value)


def claim(now: dt.datetime) -> list[tuple]:
    return claim_due(
        OutboxMessage.objects.all(),
        now=now,
        limit=10,
        lease=dt.timedelta(minutes=1),
        fields=("pk",),
        sending=State.SENDING,
    )


class LookBeforeClaimingTests(TestCase):
    def test_nothing_due_is_one_read_and_no_transaction(self):
        now = timezone.now()
        enqueue_email("anna@acme.ru", "Later", "Later", now=now)
        OutboxMessage.objects.update(next_attempt_at=now + dt.timedelta(hours=1))  # a retry's
        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(claim(now), [])
        self.assertEqual(len(queries), 1, [q["sql"] for q in queries])
        self.assertTrue(queries[0]["sql"].startswith("SELECT"))
        # Once due, the same call claims it.
        (row,) = claim(now + dt.timedelta(hours=2))
        self.assertEqual(OutboxMessage.objects.get(pk=row[0]).state, State.SENDING)

    def test_a_round_with_no_task_ready_does_not_start_the_task_worker(self):
        later = note.using(run_after=timezone.now() + dt.timedelta(hours=1)).enqueue("later")
        with CaptureQueriesContext(connection) as queries:
            run_queued_tasks(verbosity=0)
        self.assertEqual(len(queries), 1, [q["sql"] for q in queries])
        self.assertEqual(DBTaskResult.objects.get(pk=later.id).status, "READY")
        self.assertEqual(NOTED, [])


class RunReadyTasksTests(TransactionTestCase):
    """The worker closes the connection it ran in, hence a TransactionTestCase."""

    def test_a_round_runs_the_tasks_ready(self):
        NOTED.clear()
        now = note.using(run_after=timezone.now() - dt.timedelta(seconds=1)).enqueue("now")
        later = note.using(run_after=timezone.now() + dt.timedelta(hours=1)).enqueue("later")
        run_queued_tasks(verbosity=0)
        self.assertEqual(NOTED, ["now"])
        self.assertEqual(DBTaskResult.objects.get(pk=now.id).status, "SUCCESSFUL")
        self.assertEqual(DBTaskResult.objects.get(pk=later.id).status, "READY")


class ClockLooksTests(JobsFixture, TransactionTestCase):
    def setUp(self):
        BaseTestCase.setUpTestData.__func__(self)
        self.make_people_and_policy()
        # A round installs the worker's own handlers of SIGINT and SIGTERM.
        for name in (signal.SIGINT, signal.SIGTERM):
            self.addCleanup(signal.signal, name, signal.getsignal(name))

    _user = staticmethod(BaseTestCase._user)

    def test_instant_news_goes_each_round_and_the_clocks_are_looked_at_every_few_seconds(self):
        case = services.open_case(
            origin=Origin.MANUAL,
            title="Invoice twice",
            now=timezone.now() - dt.timedelta(days=10),  # its first contact long overdue
            owner=self.teammate.employee,
            sla_policy=self.policy,
        )
        worker = Command()
        worker.clocks_next = time.monotonic() + 3600  # the clocks were looked at just now
        worker.round(threading.Event(), 0, lambda signum, frame: None)
        assigned = Notification.objects.get(case=case, kind=NotificationKind.ASSIGNED)
        self.assertIsNotNone(assigned.sent_at)
        self.assertFalse(CaseEvent.objects.filter(case=case, kind=EventKind.BREACHED).exists())

        worker.clocks_next = 0.0
        worker.round(threading.Event(), 0, lambda signum, frame: None)
        self.assertTrue(CaseEvent.objects.filter(case=case, kind=EventKind.BREACHED).exists())
        self.assertGreater(worker.clocks_next, time.monotonic() + CLOCKS_EVERY - 5)
