"""The one door for outgoing e-mail: queue it in the caller's transaction; the worker sends it."""

import datetime as dt
import secrets
from collections.abc import Iterable
from email.utils import make_msgid

from django.core.exceptions import ValidationError
from django.core.mail.utils import DNS_NAME
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models.constants import OnConflict
from django.utils import timezone

from cxloop.outbox.models import OutboxMessage, State


def _message_id() -> str:
    return make_msgid(domain=str(DNS_NAME))


def enqueue_email(
    to: str,
    subject: str,
    text: str,
    *,
    html: str = "",
    kind: str = "notification",
    key: str | None = None,
    now: dt.datetime | None = None,
) -> OutboxMessage:
    """Queue one e-mail to ``to`` (a bare address) with a plain ``text`` and, optionally, an
    ``html`` alternative. It is written in the caller's transaction: rolled back with it, and
    sent by the worker only once committed. A ``key`` makes it idempotent: if a message with that
    key was ever queued, that one is returned and nothing new is queued. ``kind`` labels it in the
    admin ("notification", "lockout", …).

    Raises ``ValueError`` for an address that is not one, or a subject with a line break."""
    try:
        validate_email(to)
    except ValidationError:
        raise ValueError(f"not an e-mail address: {to!r}") from None
    if "\r" in subject or "\n" in subject:
        raise ValueError(f"a subject is one line: {subject!r}")
    now = now or timezone.now()
    fields = {
        "kind": kind,
        "recipient": to,
        "subject": subject,
        "text": text,
        "html": html or "",
        "message_id": _message_id(),
        "created_at": now,
        "next_attempt_at": now,
    }
    if key is None:
        return OutboxMessage.objects.create(**fields)
    message, _ = OutboxMessage.objects.get_or_create(key=key, defaults=fields)
    return message


_BULK_COLUMNS = (
    "kind",
    "recipient",
    "ref",
    "key",
    "message_id",
    "created_at",
    "next_attempt_at",
    "subject",
    "text",
    "html",
    "state",
    "attempts",
    "last_error",
)


def _insert_ignoring_conflicts() -> str:
    """An INSERT of _BULK_COLUMNS that skips rows whose key exists (SQLite's ``OR IGNORE``,
    PostgreSQL's ``ON CONFLICT DO NOTHING``), written by Django's own operations."""
    ops = connection.ops
    fields = [OutboxMessage._meta.get_field(name) for name in _BULK_COLUMNS]
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    start = ops.insert_statement(on_conflict=OnConflict.IGNORE)
    end = ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
    table = ops.quote_name(OutboxMessage._meta.db_table)
    return f"{start} {table} ({columns}) VALUES ({marks}) {end}"


def enqueue_references(
    kind: str, recipients: Iterable[tuple[int, str]], *, now: dt.datetime
) -> int:
    """Queue, in bulk, messages of a registered ``kind`` (``cxloop.outbox.kinds``) built at send
    time from the record with each reference; ``recipients`` are (reference, address) pairs.
    Each reference is queued at most once per kind, ever: the ones already queued are left out.
    Returns how many were given.

    Plain INSERTs of tuples: model instances and ``bulk_create`` cost 170 µs a row, 17 s for
    100,000 invitations (bench/bench_invitations.py, on a loaded machine)."""
    at = connection.ops.adapt_datetimefield_value(now)
    # Unique without a call per message: a random prefix per call; a reference is queued once.
    prefix, domain = secrets.token_hex(8), str(DNS_NAME)
    rest = ("", "", "", State.QUEUED.value, 0, "")
    rows = [
        (kind, to, ref, f"{kind}:{ref}", f"<{prefix}.{kind}.{ref}@{domain}>", at, at, *rest)
        for ref, to in recipients
    ]
    sql = _insert_ignoring_conflicts()
    # One transaction (the caller's, or its own): in autocommit each row would be its own.
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start : start + 5000])
    return len(rows)


def retry(ids: Iterable[int], *, now: dt.datetime | None = None) -> int:
    """Queue dead or refused messages again with a fresh count of tries (the admin's action)."""
    with transaction.atomic():
        return OutboxMessage.objects.filter(
            pk__in=list(ids), state__in=[State.DEAD, State.REFUSED]
        ).update(state=State.QUEUED, attempts=0, next_attempt_at=now or timezone.now())
