"""What other apps may ask the outbox."""

from django.db.models import QuerySet

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
