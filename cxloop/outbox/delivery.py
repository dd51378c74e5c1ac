"""The worker's pass over the outbox: send what is due, exactly once, with retries.

- **Claim.** A round of due messages is marked *sending* in one short transaction (PostgreSQL
  skips rows another worker locked; SQLite queues writers at BEGIN), and their next attempt is
  set to the end of a lease. A worker killed mid-send leaves them *sending*; when the lease ends
  they are due again, so nothing is lost.
- **Send, record, then send the next.** Each of SMTP_CONNECTIONS threads sends over its own
  connection and, after the server's reply, waits until the outcome is committed before it
  sends its next message; one recorder thread commits the outcomes that arrive together in one
  transaction (group commit). A worker killed at any moment has therefore recorded every message
  the server accepted except, at most, the one per connection whose reply it had just read — a
  window of about a millisecond, the one way a message can still go out twice (with the same
  Message-ID, by which a receiving system can tell the duplicate).
- **Retry.** A temporary failure (4xx, a lost or refused connection) queues the message again
  after ``backoff`` (1 min × 2^(n−1), at most 4 h); after ``EMAIL_MAX_ATTEMPTS`` tries it is
  dead, which the admin shows and can retry. A permanent refusal (5xx) settles it as refused.
  A lost connection ends the pass: there is no point offering the rest to a server that is down.
"""

import base64
import contextlib
import datetime as dt
import queue
import re
import smtplib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.mime.image import MIMEImage

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from cxloop.outbox import kinds
from cxloop.outbox.claims import claim_due
from cxloop.outbox.kinds import PENDING_FIELDS, Pending, backoff
from cxloop.outbox.models import OutboxMessage, State
from cxloop.outbox.smtp import mailer, permanent

# Long enough for a round to be sent many times over; a connection stops taking messages well
# before its lease ends (LEASE_MARGIN), so a lease never runs out under a message being sent.
LEASE = dt.timedelta(minutes=10)
LEASE_MARGIN = dt.timedelta(minutes=2)
# An SMTP exchange mostly waits for the server, and each connection also waits for its last
# outcome's commit before its next message: 16 connections sent 100,000 invitations in 68 s on
# PostgreSQL where 8 took 78 s (bench/bench_invitations.py, 2 loaded cores).
SMTP_CONNECTIONS = 16
# Messages claimed at a time: a few hundred keep every connection busy while the next round is
# claimed and built, and few rows wait under a lease when a worker dies.
ROUND = 512


# A PNG written into the HTML as a data: URI (a chart in the weekly digest). Many mail clients
# block data: URIs, so each is sent as an inline part the HTML names by its Content-ID.
_INLINE_PNG = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def composed(message: Pending, subject: str, text: str, html: str) -> EmailMultiAlternatives:
    """The e-mail of ``message`` with these texts, its charts as inline parts: for a stored
    message, and for a kind that builds its own and attaches more (a scheduled report)."""
    email = EmailMultiAlternatives(
        subject,
        text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={"Message-ID": message.message_id},
    )
    if html:
        html, images = _inline_images(html, message.pk)
        email.attach_alternative(html, "text/html")
        if images:
            email.mixed_subtype = "related"
            for image in images:
                email.attach(image)
    return email


def _stored_bytes(message: Pending) -> bytes:
    email = composed(message, message.subject, message.text, message.html)
    return email.message().as_bytes(linesep="\r\n")


def _inline_images(html: str, message_pk: int) -> tuple[str, list[MIMEImage]]:
    """``html`` with each data: PNG replaced by ``cid:`` and the images as inline parts."""
    images: list[MIMEImage] = []

    def to_part(match: re.Match) -> str:
        content_id = f"image{len(images) + 1}.{message_pk}@cxloop"
        image = MIMEImage(base64.b64decode(match.group(1)), "png")
        image.add_header("Content-ID", f"<{content_id}>")
        image.add_header("Content-Disposition", "inline", filename=f"chart{len(images) + 1}.png")
        images.append(image)
        return f'src="cid:{content_id}"'

    return _INLINE_PNG.sub(to_part, html), images


_TABLE = OutboxMessage._meta.db_table
_SETTLE = (
    f"UPDATE {_TABLE} SET state = %s, sent_at = %s, next_attempt_at = NULL, last_error = %s "
    f"WHERE id = %s AND state = '{State.SENDING}'"
)
_SETTLE_SENT = (
    f"UPDATE {_TABLE} SET state = '{State.SENT}', sent_at = %s, next_attempt_at = NULL, "
    f"last_error = '' WHERE id IN ({{marks}}) AND state = '{State.SENDING}'"
)
_REQUEUE = (
    f"UPDATE {_TABLE} SET state = '{State.QUEUED}', next_attempt_at = %s, last_error = %s "
    f"WHERE id = %s AND state = '{State.SENDING}'"
)


def _db_time(moment: dt.datetime):
    return connection.ops.adapt_datetimefield_value(moment)


def _record(cursor, outcomes: list[tuple[Pending, str, str]], now: dt.datetime) -> list[str]:
    """Write the outcomes of messages — (message, outcome, error) with outcome "sent",
    "refused", "cancelled" (their records' too, through their kinds), or "failed", which queues
    a message again after its backoff or, after its last try, settles it as dead — and return
    what each became. Raw statements, one ``executemany`` each: the ORM would cost more than
    sending, at 2,000 messages a second."""
    at, limit = _db_time(now), settings.EMAIL_MAX_ATTEMPTS
    became, settle, requeue, stamps = [], [], [], {}
    for message, outcome, error in outcomes:
        if outcome == "failed" and message.attempts < limit:
            retry_at = _db_time(now + backoff(message.attempts))
            requeue.append([retry_at, error, message.pk])
            became.append("retried")
            continue
        outcome = State.DEAD if outcome == "failed" else outcome
        settle.append([outcome, at if outcome == State.SENT else None, error, message.pk])
        became.append(str(outcome))
        if message.ref is not None:
            stamps.setdefault((message.kind, str(outcome)), []).append(message.ref)
    sent = [row[3] for row in settle if row[0] == State.SENT]
    if sent:  # the usual case, one statement for the batch whatever its size
        marks = ", ".join(["%s"] * len(sent))
        cursor.execute(_SETTLE_SENT.format(marks=marks), [at, *sent])
    if others := [row for row in settle if row[0] != State.SENT]:
        cursor.executemany(_SETTLE, others)
    if requeue:
        cursor.executemany(_REQUEUE, requeue)
    for (name, outcome), refs in stamps.items():
        kind = kinds.get(name)
        if kind is not None and kind.settle is not None:
            kind.settle(cursor, outcome, refs, at)
    return became


def _record_now(message: Pending, outcome: str, now: dt.datetime, error: str = "") -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        return _record(cursor, [(message, outcome, error)], now)[0]


class _Recorder(threading.Thread):
    """Writes the outcomes of every connection of a pass, committing together those that
    arrive while the previous commit runs (group commit). ``record`` returns only once its
    outcome is committed, so a connection never sends its next message before the last one
    is on disk; one writer instead of eight also spares SQLite's lock, on which eight threads
    each committing their own waited 0.6 ms a statement (profiled)."""

    def __init__(self, clock):
        super().__init__(daemon=True)
        self.clock = clock
        self.requests: queue.SimpleQueue = queue.SimpleQueue()

    def record(self, message: Pending, outcome: str, error: str = "") -> str:
        request = {"args": (message, outcome, error), "done": threading.Event()}
        self.requests.put(request)
        request["done"].wait()
        if "error" in request:
            raise request["error"]
        return request["result"]

    def run(self) -> None:
        try:
            while (first := self.requests.get()) is not None:
                batch = [first]
                while not self.requests.empty():
                    if (request := self.requests.get()) is None:
                        self.requests.put(None)  # end after this batch
                        break
                    batch.append(request)
                self._write(batch)
        finally:
            connection.close()  # this thread's own connection to the database

    def _write(self, batch: list[dict]) -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    # Wait for PostgreSQL's memory, not its disk: a killed worker loses nothing
                    # committed, and only a crash of the database server itself within the WAL
                    # writer's delay (0.2 s) could forget an outcome, whose message would go out
                    # again — the durability SQLite has here anyway (WAL, synchronous=NORMAL).
                    # Waiting for the disk on each commit held 100,000 e-mails to 1,050/s.
                    cursor.execute("SET LOCAL synchronous_commit TO OFF")
                became = _record(cursor, [request["args"] for request in batch], self.clock())
            for request, result in zip(batch, became, strict=True):
                request["result"] = result
        except Exception as error:
            for request in batch:
                request["error"] = error
        for request in batch:
            request["done"].set()


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


@dataclass
class _Shared:
    """What the connections and the claiming thread share during one pass."""

    work: queue.Queue
    clock: object
    stop: threading.Event
    recorder: _Recorder
    broken: threading.Event = field(default_factory=threading.Event)
    error: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    outcomes: Counter = field(default_factory=Counter)
    left: list[Pending] = field(default_factory=list)  # claimed, not tried: lost connection or stop


class _Connection:
    """One SMTP connection of a pass, opened at its first message and again after a failure."""

    def __init__(self):
        self.opened = self.send = None

    def __call__(self, to: str, data: bytes) -> None:
        if self.send is None:
            self.opened = mailer()
            self.send = self.opened.__enter__()
        self.send(to, data)

    def close(self) -> None:
        if self.opened is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):  # it is gone already
                self.opened.__exit__(None, None, None)
        self.opened = self.send = None


def _deliver(message: Pending, data: bytes, smtp: _Connection, shared: _Shared) -> str:
    """Send one message and record what became of it; returns the outcome."""
    try:
        smtp(message.recipient, data)
    except (OSError, smtplib.SMTPException) as error:
        verdict = permanent(error) if isinstance(error, smtplib.SMTPException) else None
        if verdict is None:  # the connection's failure, not the message's
            smtp.close()
            with shared.lock:
                shared.error = shared.error or _describe(error)
            shared.broken.set()
        outcome = "refused" if verdict else "failed"
        return shared.recorder.record(message, outcome, _describe(error))
    return shared.recorder.record(message, "sent")


def _connection_thread(shared: _Shared) -> None:
    outcomes, left, smtp = Counter(), [], _Connection()
    try:
        while (item := shared.work.get()) is not None:
            message, data, deadline = item
            if shared.broken.is_set() or shared.stop.is_set() or time.monotonic() > deadline:
                left.append(message)
                continue
            try:
                outcomes[_deliver(message, data, smtp, shared)] += 1
            except Exception as error:  # the database, most likely: stop sending
                with shared.lock:
                    shared.error = shared.error or _describe(error)
                shared.broken.set()
                left.append(message)  # its lease ends and it is tried again
    finally:
        smtp.close()
        with shared.lock:
            shared.outcomes.update(outcomes)
            shared.left += left


def _claim(now: dt.datetime, limit: int) -> list[Pending]:
    rows = claim_due(
        OutboxMessage.objects.all(),
        now=now,
        limit=limit,
        lease=LEASE,
        fields=PENDING_FIELDS,
        sending=State.SENDING,
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
    recorder = _Recorder(clock)
    shared = _Shared(
        work=queue.Queue(maxsize=ROUND),
        clock=clock,
        stop=stop or threading.Event(),
        recorder=recorder,
    )
    recorder.start()
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
                    outcome = _record_now(message, "failed", clock(), _describe(error))
                    shared.outcomes[outcome] += 1
                continue
            for message in claimed:
                data = built.get(message.pk)
                if data is None:
                    _record_now(message, State.CANCELLED, clock())
                    cancelled += 1
                else:
                    shared.work.put((message, data, deadline))
    finally:
        for _ in threads:
            shared.work.put(None)
        for thread in threads:
            thread.join()
        recorder.requests.put(None)
        recorder.join()
    now_ = clock()
    for message in shared.left:
        if shared.broken.is_set():  # the server is down: each waits its backoff
            shared.outcomes[_record_now(message, "failed", now_, shared.error)] += 1
        else:  # stopped, or near its lease's end: untried, due again at once
            OutboxMessage.objects.filter(pk=message.pk, state=State.SENDING).update(
                state=State.QUEUED, attempts=F("attempts") - 1, next_attempt_at=now_
            )
            shared.outcomes["put back"] += 1
    if cancelled:
        shared.outcomes["cancelled"] += cancelled
    return +shared.outcomes
