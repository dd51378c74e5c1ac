"""What other apps may ask the outbox."""

import datetime as dt

from django.db.models import Count, Min, QuerySet

from cxloop.outbox.models import OutboxMessage, State


def pending_references(kind: str) -> QuerySet:
    """The references of the messages of ``kind`` still on their way (queued or being sent),
    for use as a subquery."""
    return OutboxMessage.objects.filter(kind=kind, state__in=[State.QUEUED, State.SENDING]).values(
        "ref"
    )


def references(kind: str) -> QuerySet:
    """The references of every message of ``kind`` ever queued, for use as a subquery."""
    return OutboxMessage.objects.filter(kind=kind).values("ref")


def due_backlog(now: dt.datetime) -> tuple[int, dt.datetime | None]:
    """How many messages are due and not yet sent at ``now`` (queued, or sending with a lease
    run out), and since when the oldest of them has been due; from the index ``outbox_due``."""
    due = OutboxMessage.objects.filter(next_attempt_at__lte=now)
    summary = due.aggregate(count=Count("pk"), oldest=Min("next_attempt_at"))
    return summary["count"], summary["oldest"]
