"""Kinds of message built at send time from a record of a higher app (invitations, reminders).

The outbox sits below every app, so it cannot import the records; an app registers, in its
``ready()``, how to turn its references into bytes and what an outcome changes on its records.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple


class Pending(NamedTuple):
    """A claimed message, as the worker read it in one row."""

    pk: int
    kind: str
    recipient: str
    subject: str
    text: str
    html: str
    ref: int | None
    message_id: str
    attempts: int


PENDING_FIELDS = Pending._fields


@dataclass(frozen=True)
class Kind:
    """``build(messages, memo)`` returns each message's RFC 5322 bytes by its pk, or None when
    it is no longer wanted (it is cancelled); ``memo`` is a dict kept for one pass, for what many
    messages share. ``settle(cursor, state, refs, at)`` runs inside the transaction that records
    messages as sent, refused, cancelled or dead (``state``; ``refs`` their references, ``at``
    the moment as the database stores it), so a record and its message never disagree."""

    build: Callable[[list[Pending], dict], dict[int, bytes | None]]
    settle: Callable[[Any, str, list[int], Any], None] | None = None


_KINDS: dict[str, Kind] = {}


def register(name: str, kind: Kind) -> None:
    _KINDS[name] = kind


def get(name: str) -> Kind | None:
    return _KINDS.get(name)


def backoff(attempts: int, *, base: float = 60.0, cap: float = 4 * 3600.0) -> dt.timedelta:
    """The wait after the ``attempts``-th failed try: 1 min × 2^(n−1), at most 4 hours."""
    return dt.timedelta(seconds=min(base * 2 ** (attempts - 1), cap))
