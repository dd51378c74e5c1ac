"""The worker's pass over the outbox: send what is due, exactly once, with retries.

- **Claim.** A round of due messages is marked *sending* in one short transaction (PostgreSQL
  skips rows another worker locked; SQLite queues writers at BEGIN), and their next attempt is
  set to the end of a lease. A worker killed mid-send leaves them *sending*; when the lease ends
  they are due again, so nothing is lost.
- **Send and record, one message at a time.** Each of SMTP_CONNECTIONS threads sends over its
  own connection and records each message as sent (or refused) in its own small transaction
  right after the server's reply, before it sends the next. A worker killed at any moment has
  therefore recorded every message the server accepted except, at most, the one whose reply it
  was reading — a window of well under a millisecond per connection, the one way a message can
  still go out twice (the same Message-ID then lets the receiving side see it as a duplicate).
- **Retry.** A temporary failure (4xx, a lost or refused connection) queues the message again
  after ``backoff`` (1 min × 2^(n−1), at most 4 h); after ``EMAIL_MAX_ATTEMPTS`` tries it is
  dead, which the admin shows and can retry. A permanent refusal (5xx) settles it as refused.
  A lost connection ends the pass: there is no point offering the rest to a server that is down.
"""

import contextlib
import datetime as dt
import queue
import smtplib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from cxloop.outbox import kinds
from cxloop.outbox.kinds import PENDING_FIELDS, Pending, backoff
from cxloop.outbox.models import OutboxMessage, State
from cxloop.outbox.smtp import mailer, permanent

# Long enough for a round to be sent many times over; a connection stops taking messages well
# before its lease ends (LEASE_MARGIN), so a lease never runs out under a message being sent.
LEASE = dt.timedelta(minutes=10)
LEASE_MARGIN = dt.timedelta(minutes=2)
# An SMTP exchange mostly waits for the server: 8 overlapping ones sent 2,850 e-mails/s to a
# local server where 4 sent 2,150/s and 12 no more than 8 (bench/README.md).
SMTP_CONNECTIONS = 8
# Messages claimed at a time: a few hundred keep every connection busy while the next round is
# claimed and built, and few rows wait under a lease when a worker dies.
ROUND = 512


def _stored_bytes(message: Pending) -> bytes:
    email = EmailMultiAlternatives(
        message.subject,
        message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={"Message-ID": message.message_id},
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    return email.message().as_bytes(linesep="\r\n")


_TABLE = OutboxMessage._meta.db_table
_SETTLE = (
    f"UPDATE {_TABLE} SET state = %s, sent_at = %s, next_attempt_at = NULL, last_error = %s "
    f"WHERE id = %s AND state = '{State.SENDING}'"
)
_REQUEUE = (
    f"UPDATE {_TABLE} SET state = '{State.QUEUED}', next_attempt_at = %s, last_error = %s "
    f"WHERE id = %s AND state = '{State.SENDING}'"
)


def _db_time(moment: dt.datetime):
    return connection.ops.adapt_datetimefield_value(moment)


def _settle(message: Pending, state: str, now: dt.datetime, error: str = "") -> None:
    """Record a message's last outcome (sent or refused) with its record's, in one transaction
    (raw statements: the ORM would cost more than sending at 2,000 messages a second)."""
    at = _db_time(now)
    kind = kinds.get(message.kind) if message.ref is not None else None
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_SETTLE, [state, at if state == State.SENT else None, error, message.pk])
        if kind is not None and kind.settle is not None:
            kind.settle(cursor, state, message.ref, at)


def _failed(message: Pending, now: dt.datetime, error: str) -> str:
    """Queue the message again after its backoff, or settle it as dead after its last try."""
    if message.attempts >= settings.EMAIL_MAX_ATTEMPTS:
        with connection.cursor() as cursor:
            cursor.execute(_SETTLE, [State.DEAD, None, error, message.pk])
        return "dead"
    with connection.cursor() as cursor:
        cursor.execute(_REQUEUE, [_db_time(now + backoff(message.attempts)), error, message.pk])
    return "retried"


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


@dataclass
class _Shared:
    """What the connections and the claiming thread share during one pass."""

    work: queue.Queue
    clock: object
    stop: threading.Event
    broken: threading.Event = field(default_factory=threading.Event)
    error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: Counter = field(default_factory=Counter)
    left: list[Pending] = field(default_factory=list)  # claimed, not tried: lost connection or stop


def _connection_thread(shared: _Shared) -> None:
    outcomes, left = Counter(), []
    opened = send = None
    try:
        while (item := shared.work.get()) is not None:
            message, data, deadline = item
            if shared.broken.is_set() or shared.stop.is_set() or time.monotonic() > deadline:
                left.append(message)
                continue
            try:
                if send is None:
                    opened = mailer()
                    send = opened.__enter__()
                send(message.recipient, data)
            except (OSError, smtplib.SMTPException) as error:
                verdict = permanent(error) if isinstance(error, smtplib.SMTPException) else None
                if verdict is None:  # the connection's failure, not the message's
                    with shared.lock:
                        shared.error = shared.error or _describe(error)
                    shared.broken.set()
                    outcomes[_failed(message, shared.clock(), _describe(error))] += 1
                    opened, send = _close(opened), None
                elif verdict:
                    _settle(message, State.REFUSED, shared.clock(), _describe(error))
                    outcomes["refused"] += 1
                else:
                    outcomes[_failed(message, shared.clock(), _describe(error))] += 1
            except Exception as error:  # the database, most likely: stop before sending more
                with shared.lock:
                    shared.error = shared.error or _describe(error)
                shared.broken.set()
                left.append(message)
            else:
                _settle(message, State.SENT, shared.clock())
                outcomes["sent"] += 1
    finally:
        _close(opened)
        with shared.lock:
            shared.outcomes.update(outcomes)
            shared.left += left
        connection.close()  # this thread's own connection to the database


def _close(opened) -> None:
    if opened is not None:
        with contextlib.suppress(OSError, smtplib.SMTPException):  # it is gone already
            opened.__exit__(None, None, None)


def _claim(now: dt.datetime, limit: int) -> list[Pending]:
    with transaction.atomic():
        rows = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list(*PENDING_FIELDS)[:limit]
        )
        OutboxMessage.objects.filter(pk__in=[row[0] for row in rows]).update(
            state=State.SENDING, attempts=F("attempts") + 1, next_attempt_at=now + LEASE
        )
    return [Pending(*row[:-1], attempts=row[-1] + 1) for row in rows]


def _build(messages: list[Pending], memo: dict) -> dict[int, bytes | None]:
    built: dict[int, bytes | None] = {}
    by_kind: dict[str, list[Pending]] = {}
    for message in messages:
        if message.ref is None:
            built[message.pk] = _stored_bytes(message)
        else:
            by_kind.setdefault(message.kind, []).append(message)
    for name, group in by_kind.items():
        kind = kinds.get(name)
        if kind is None:
            raise LookupError(f"no app registered outbox kind {name!r}")
        built.update(kind.build(group, memo.setdefault(name, {})))
    return built


def send_due(
    *, now: dt.datetime | None = None, stop: threading.Event | None = None
) -> Counter[str]:
    """Send every message due at ``now`` (default: the time of each step) and count what became
    of them: "sent", "refused", "retried", "dead", "cancelled". ``stop``, when set, ends the
    pass after the messages being sent; the rest go back to the queue as they were."""
    clock = (lambda: now) if now is not None else timezone.now
    shared = _Shared(work=queue.Queue(maxsize=ROUND), clock=clock, stop=stop or threading.Event())
    threads = [
        threading.Thread(target=_connection_thread, args=(shared,), daemon=True)
        for _ in range(SMTP_CONNECTIONS)
    ]
    for thread in threads:
        thread.start()
    cancelled, memo = 0, {}
    try:
        while not (shared.broken.is_set() or shared.stop.is_set()):
            claimed = _claim(clock(), ROUND)
            if not claimed:
                break
            deadline = time.monotonic() + (LEASE - LEASE_MARGIN).total_seconds()
            try:
                built = _build(claimed, memo)
            except Exception as error:  # a message that cannot be built: each is retried
                for message in claimed:
                    shared.outcomes[_failed(message, clock(), _describe(error))] += 1
                continue
            for message in claimed:
                data = built.get(message.pk)
                if data is None:
                    _settle(message, State.CANCELLED, clock())
                    cancelled += 1
                else:
                    shared.work.put((message, data, deadline))
    finally:
        for _ in threads:
            shared.work.put(None)
        for thread in threads:
            thread.join()
    now_ = clock()
    for message in shared.left:
        if shared.broken.is_set():  # the server is down: each waits its backoff
            shared.outcomes[_failed(message, now_, shared.error)] += 1
        else:  # stopped, or near its lease's end: untried, due again at once
            OutboxMessage.objects.filter(pk=message.pk, state=State.SENDING).update(
                state=State.QUEUED, attempts=F("attempts") - 1, next_attempt_at=now_
            )
            shared.outcomes["put back"] += 1
    if cancelled:
        shared.outcomes["cancelled"] += cancelled
    return +shared.outcomes
