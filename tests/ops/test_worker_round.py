"""A worker's round looks before it claims: in most rounds nothing is due, and a claim is a
write transaction, which on SQLite the API's inserts wait for."""

import datetime as dt

from django.db import connection
from django.test import TestCase, TransactionTestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from cxloop.management.commands.worker import run_queued_tasks
from cxloop.outbox.claims import claim_due
from cxloop.outbox.models import OutboxMessage, State
from cxloop.outbox.services import enqueue_email

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
