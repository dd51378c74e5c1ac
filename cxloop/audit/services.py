"""The one door into the audit log: :func:`record`; and the one way out: :func:`purge_expired`."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from cxloop.audit import context
from cxloop.audit.choices import Action
from cxloop.audit.models import AuditEvent

LABEL_LENGTH = 200


def record(
    action: Action | str,
    *,
    kind: str = "",
    object_id: Any = "",
    label: str = "",
    details: Mapping[str, Any] | None = None,
    actor: context.Actor | None = None,
) -> AuditEvent:
    """Add one event, by ``actor`` or whoever acts now (:func:`cxloop.audit.context.current`).

    ``label`` must not hold a person's name or address (see :class:`AuditEvent`)."""
    who = actor or context.current()
    return AuditEvent.objects.create(
        action=Action(action),
        actor_id=who.user_id,
        actor=who.name,
        address=who.address,
        object_kind=kind,
        object_id="" if object_id is None else str(object_id)[:64],
        label=str(label)[:LABEL_LENGTH],
        details=dict(details or {}),
    )


def purge_expired(*, days: int | None = None, now: dt.datetime | None = None) -> int:
    """Delete the events older than ``days`` (``CXLOOP_AUDIT_RETENTION_DAYS``); how many.

    The only delete the log allows: one statement, bypassing the model's refusal on purpose; on
    PostgreSQL the trigger that refuses deletes lets this transaction through."""
    days = settings.AUDIT_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    column = connection.ops.quote_name("at")
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL cxloop.audit_purge = 'on'")
        cursor.execute(f"DELETE FROM {table} WHERE {column} < %s", [cutoff])
        return cursor.rowcount
