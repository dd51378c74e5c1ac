"""Claiming due rows of a queue with a lease: the outbox's e-mails and the webhooks' deliveries.

A queue's model has ``state``, ``attempts`` and ``next_attempt_at`` (set exactly while a row is
queued or being sent). A claim marks a round of due rows as being sent in one short transaction
and sets their next attempt to the end of a lease: a worker killed mid-send leaves them being
sent until the lease ends, and then they are simply due again. Two workers never claim the same
row: on PostgreSQL each skips the rows the other has locked (``FOR UPDATE SKIP LOCKED``); on
SQLite the transaction takes the write lock at BEGIN (IMMEDIATE), so the second waits and then
finds them claimed.
"""

import datetime as dt

from django.db import transaction
from django.db.models import F, QuerySet


def claim_due(
    queryset: QuerySet,
    *,
    now: dt.datetime,
    limit: int,
    lease: dt.timedelta,
    fields: tuple[str, ...],
    sending: str,
) -> list[tuple]:
    """Claim up to ``limit`` rows of ``queryset`` due at ``now``, the earliest due first, and
    return their ``fields`` as read before the claim (the first must be the primary key):
    they become ``sending``, their ``attempts`` one more, their next attempt the lease's end.

    A look first, outside any transaction: in most of the worker's rounds nothing is due, and
    then no write lock is taken (on SQLite the API's inserts wait for it)."""
    if not queryset.filter(next_attempt_at__lte=now).exists():
        return []
    with transaction.atomic():
        rows = list(
            queryset.select_for_update(skip_locked=True, of=("self",))
            .filter(next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list(*fields)[:limit]
        )
        queryset.model.objects.filter(pk__in=[row[0] for row in rows]).update(
            state=sending, attempts=F("attempts") + 1, next_attempt_at=now + lease
        )
    return rows
