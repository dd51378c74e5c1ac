"""Announcing completed responses to their consumers, once each, after they are committed.

Every write of a completed response leaves it unannounced (``Response.announced_at`` NULL, set
by the INSERT itself: no statement more) and, once its transaction commits, asks for the
announcement task: at most one enqueued per process every :data:`ANNOUNCE_DELAY`, so that the
API's submissions do not each add a task row. The task claims a batch of unannounced responses,
sends :data:`~cxloop.surveys.signals.responses_recorded` and marks them announced in one
transaction, until none is left. Nothing is lost when a process dies between its commit and
its on_commit: the worker sweeps unannounced responses every round (:func:`announce_pending`).

Two announcers at once never announce an id twice: on PostgreSQL each skips the rows the other
has locked (``FOR UPDATE SKIP LOCKED``); on SQLite the transaction takes the write lock first
(IMMEDIATE), so the second waits and then finds them announced.

Before the mark, :data:`~cxloop.surveys.signals.responses_pending` gives the same ids to the
consumers with long work (the alert rules). On PostgreSQL that happens inside the claiming
transaction: the rows are locked, the API's INSERTs are not. On SQLite, whose one write lock
every INSERT of the API waits for, it happens before the transaction, which then holds the lock
only for the mark: the rules read outside it and write their cases in short transactions of
their own, and are idempotent, so that ids evaluated twice (an announcer that died before its
mark, two at once) open nothing twice.
"""

import datetime as dt
import logging

from django.db import connection, transaction
from django.utils import timezone
from django_tasks import TaskResult, task
from django_tasks_db.backend import DatabaseBackend

from cxloop.lib.months import utc_month
from cxloop.lib.pending import PendingRuns, trusted_until
from cxloop.surveys.models import Response, ResponseState
from cxloop.surveys.signals import responses_pending, responses_recorded

logger = logging.getLogger(__name__)

# A process enqueues at most two announcement tasks a second; the worker looks at its queue
# once a second anyway, so waiting for the time costs no latency that matters.
ANNOUNCE_DELAY = dt.timedelta(milliseconds=500)
# Responses per signal: enough to evaluate rules in bulk, few enough that the transaction
# holding SQLite's write lock lasts milliseconds.
BATCH = 500
QUEUE = "announcements"  # the one key of the schedule


@task()
def announce_recorded(stands_for_writes_until: str | None = None) -> dict[str, int]:
    """Announce every completed response not yet announced. Safe to run twice or at once.

    The task has nothing left to do when a complete pass of this process began after the last
    write it stands for (``stands_for_writes_until``, ISO 8601; :func:`_enqueue_announcement`):
    the worker runs the tasks due in a round one after another, just after its sweep, and
    without this each would announce the handful of responses that arrived meanwhile and pay
    the rules' fixed reads for that handful. With the writers' and the worker's clocks apart,
    a write just before the pass may miss it; the worker's next sweep (every round) announces
    it. A pass later than now means the clock went back: it is not trusted."""
    covered = schedule.covered_until
    if (
        stands_for_writes_until
        and covered
        and dt.datetime.fromisoformat(stands_for_writes_until) <= covered <= timezone.now()
    ):
        return {"announced": 0, "covered_by_a_sweep": 1}
    return {"announced": announce_pending()}


def _enqueue_announcement(keys: list[str], run_after: dt.datetime | None) -> TaskResult:
    """The task, told until when its writes were made: an argument, which every queue keeps
    (Redis's forgets a task's ``run_after`` once it is due)."""
    until = trusted_until(run_after, ANNOUNCE_DELAY).isoformat() if run_after else None
    return announce_recorded.using(run_after=run_after).enqueue(until)


class AnnouncementSchedule(PendingRuns):
    """Per process: when the announcement task is due, and when this process's latest pass
    that announced everything it found began (None: no pass yet)."""

    covered_until: dt.datetime | None = None

    def clear(self) -> None:
        super().clear()
        self.covered_until = None


schedule = AnnouncementSchedule(clock=timezone.now)


def announce_after_commit() -> None:
    """Ask for an announcement of what the current transaction records, once it commits (never
    for one rolled back)."""
    # robust: the write is committed whatever happens to the queue; the worker's sweep
    # announces what a failed enqueue left behind.
    transaction.on_commit(
        lambda: schedule.run_once([QUEUE], ANNOUNCE_DELAY, _enqueue_announcement), robust=True
    )


def announce_in_transaction() -> None:
    """:func:`announce_after_commit` for a writer that holds SQLite's write lock anyway (the
    API's batches). Where the task queue is this database's (django-tasks-db), the task row is
    written now, in the current transaction: it commits with the responses or not at all, and
    the writer takes the write lock once. After the commit its INSERT took the lock a second
    time, and waited in SQLite's coarse busy handler for the other server process's batch: 13 %
    of the servers' time at 1,000-response batches (py-spy; bench/README.md). A queue elsewhere
    (Redis) could run a task enqueued before the commit before it: there, after the commit."""
    if not isinstance(announce_recorded.get_backend(), DatabaseBackend):
        announce_after_commit()
        return
    if not schedule.due([QUEUE], ANNOUNCE_DELAY):
        return
    run_after = schedule.clock() + ANNOUNCE_DELAY
    _enqueue_announcement([QUEUE], run_after)
    # Pending only once committed: a write rolled back takes its task row with it, and the
    # next write must ask again.
    transaction.on_commit(lambda: schedule.remember([QUEUE], run_after))


def announce_pending(*, batch: int = BATCH) -> int:
    """Announce completed responses not yet announced, a batch at a time, until a batch is not
    full; how many were announced. A receiver that raises rolls its batch's mark back (it is
    announced again by the next run) and the error goes up."""
    started = timezone.now()
    announced = 0
    announce = _claim_then_act if connection.features.has_select_for_update else _act_then_claim
    while True:
        seen, marked = announce(batch)
        announced += marked
        # The few that arrived while this batch was announced wait for the next run (the task
        # their writes asked for, or the worker's next round): announcing them at once, a
        # handful at a time, would cost the rules' fixed reads for each handful.
        if seen < batch:
            schedule.covered_until = started
            return announced


def _unannounced():
    return Response.objects.filter(announced_at=None, state=ResponseState.COMPLETED)


def _claim_then_act(batch: int) -> tuple[int, int]:
    """Where rows can be locked: claim a batch, act and mark it in one transaction."""
    with transaction.atomic():
        rows = list(
            _unannounced()
            .select_for_update(skip_locked=True)
            .order_by("pk")
            .values_list("pk", "submitted_at")[:batch]
        )
        if rows:
            responses_pending.send(sender=Response, response_ids=[pk for pk, _ in rows])
            _mark(rows)
    return len(rows), len(rows)


def _act_then_claim(batch: int) -> tuple[int, int]:
    """Where the database has one writer: act on a batch outside any transaction, then mark
    what no other announcer marked meanwhile, in a transaction that holds the lock for the
    mark alone."""
    ids = list(_unannounced().order_by("pk").values_list("pk", flat=True)[:batch])
    if not ids:
        return 0, 0
    responses_pending.send(sender=Response, response_ids=ids)
    with transaction.atomic():
        rows = list(_unannounced().filter(pk__in=ids).values_list("pk", "submitted_at"))
        if rows:
            _mark(rows)
    return len(ids), len(rows)


def _mark(rows: list[tuple[int, dt.datetime]]) -> None:
    ids = [pk for pk, _ in rows]
    Response.objects.filter(pk__in=ids).update(announced_at=timezone.now())
    months = {utc_month(submitted) for _, submitted in rows}
    responses_recorded.send(sender=Response, response_ids=ids, months=months)
    logger.info("announced %d responses", len(ids))
