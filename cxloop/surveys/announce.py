"""Announcing completed responses to their consumers, once each, after they are committed.

Every write of a completed response leaves it unannounced (``Response.announced_at`` NULL, set
by the INSERT itself: no statement more) and asks for nothing: ``cxloop worker`` announces at
the start of every round (:func:`announce_pending`, each second), and a response a writer
committed is announced by the next round whatever happened to the writer after its commit.
Writers once also enqueued a task to announce, which only the worker ran, in the same round
as its sweep: the task did what the sweep did (at 300 submissions/s, 207 of 225 found nothing
left) at the cost of a task row in the writer's transaction and two write transactions of the
worker's under SQLite's one write lock, which the API's inserts wait for (decision 012,
amended 2026-12-07).

The announcer claims a batch of unannounced responses, sends
:data:`~cxloop.surveys.signals.responses_recorded` and marks them announced in one transaction,
until none is left. Two announcers at once never announce an id twice: on PostgreSQL each skips
the rows the other has locked (``FOR UPDATE SKIP LOCKED``); on SQLite the transaction takes the
write lock first (IMMEDIATE), so the second waits and then finds them announced.

Before the mark, :data:`~cxloop.surveys.signals.responses_pending` gives the same ids to the
consumers with long work (the alert rules). On PostgreSQL that happens inside the claiming
transaction: the rows are locked, the API's INSERTs are not. On SQLite, whose one write lock
every INSERT of the API waits for, it happens before the transaction, which then holds the lock
only for the mark (one UPDATE built beforehand, which gives back the ids it marked) and
``responses_recorded``: the rules read outside it and write their cases in short transactions
of their own, and are idempotent, so that ids evaluated twice (an announcer that died before
its mark, two at once) open nothing twice.
"""

import datetime as dt
import logging

from django.db import connection, transaction
from django.utils import timezone
from django_tasks import task

from cxloop.lib.months import utc_month
from cxloop.rows import run_returning, updating
from cxloop.surveys.models import Response
from cxloop.surveys.queries import unannounced_responses
from cxloop.surveys.signals import responses_pending, responses_recorded

logger = logging.getLogger(__name__)

# Responses per signal: enough to evaluate rules in bulk, few enough that the transaction
# holding SQLite's write lock lasts milliseconds.
BATCH = 500


@task()
def announce_recorded(stands_for_writes_until: str | None = None) -> dict[str, int]:
    """The task writers enqueued before 2026-12-07: one still queued when a site upgrades runs
    as a sweep would, rather than failing on a name it no longer finds."""
    return {"announced": announce_pending()}


def announce_pending(*, batch: int = BATCH) -> int:
    """Announce completed responses not yet announced, a batch at a time, until a batch is not
    full; how many were announced. A receiver that raises rolls its batch's mark back (it is
    announced again by the next run) and the error goes up."""
    announced = 0
    announce = _claim_then_act if connection.features.has_select_for_update else _act_then_claim
    while True:
        seen, marked = announce(batch)
        announced += marked
        # The few that arrived while this batch was announced wait for the worker's next
        # round: announcing them at once, a handful at a time, would cost the rules' fixed
        # reads for each handful.
        if seen < batch:
            return announced


def _claim_then_act(batch: int) -> tuple[int, int]:
    """Where rows can be locked: claim a batch, act and mark it in one transaction."""
    with transaction.atomic():
        rows = list(
            unannounced_responses()
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
    what no other announcer marked meanwhile, in a transaction that holds the lock for one
    UPDATE built beforehand (its ids come back from it) and ``responses_recorded``."""
    submitted = dict(
        unannounced_responses().order_by("pk").values_list("pk", "submitted_at")[:batch]
    )
    if not submitted:
        return 0, 0
    ids = list(submitted)
    responses_pending.send(sender=Response, response_ids=ids)
    mark = updating(unannounced_responses().filter(pk__in=ids), announced_at=timezone.now())
    with transaction.atomic():
        marked = run_returning(mark, "id")
        if marked:
            _recorded([(pk, submitted[pk]) for pk in sorted(marked)])
    return len(ids), len(marked)


def _mark(rows: list[tuple[int, dt.datetime]]) -> None:
    Response.objects.filter(pk__in=[pk for pk, _ in rows]).update(announced_at=timezone.now())
    _recorded(rows)


def _recorded(rows: list[tuple[int, dt.datetime]]) -> None:
    """Tell the consumers of ``responses_recorded`` of the responses just marked announced."""
    ids = [pk for pk, _ in rows]
    months = {utc_month(submitted) for _, submitted in rows}
    responses_recorded.send(sender=Response, response_ids=ids, months=months)
    logger.info("announced %d responses", len(ids))
