"""The worker's pass over the webhook deliveries: send what is due, once, in order per subject.

- **Claim** (:func:`cxloop.outbox.claims.claim_due`, the outbox's): a round of due deliveries
  is marked *sending* with a lease, in one short transaction. A delivery is due when its time
  has come, its subscription is active and not waiting out a backoff, and **no earlier delivery
  of the same subject to the same subscription is still undelivered** — so one subject's events
  reach a receiver in the order they happened, one at a time, and a later one never overtakes
  an earlier one that failed.
- **Send, then record**: each delivery is POSTed with its signature, and its outcome committed
  before the subscription's next delivery is sent. A worker killed between the receiver's 2xx
  and the commit sends that one again, with the same ``X-Cxloop-Event-Id``, by which the
  receiver tells the duplicate.
- **Retry**: any answer but 2xx (or none: refused, timed out) queues the delivery again and
  makes the *subscription* wait :data:`BACKOFF_BASE` × 2^(n−1), at most :data:`BACKOFF_CAP`,
  after its n-th failure in a row: 15 s, 30 s, 1 min, 2 min, 4 min, then every 5 min; the
  rest of its round goes back untried. A receiver down for an hour thus gets its events within
  five minutes of coming back. Nothing is dropped: after :data:`DISABLE_AFTER_FAILURES`
  failures in a row spanning at least :data:`DISABLE_AFTER` the subscription is disabled, its
  deliveries kept, and the administrators are e-mailed through the outbox.
- **HTTP**: connect within 3 s, each read within 10 s and the whole try within 20 s, no
  redirects followed, at most 300 bytes of the answer kept. The host's addresses are resolved
  here and the connection goes to the address checked: loopback, private, link-local and
  reserved ones are refused unless ``CXLOOP_WEBHOOKS_ALLOW_PRIVATE`` (a name that resolves to
  one, too: no DNS rebinding).
"""

import concurrent.futures
import contextlib
import datetime as dt
import logging
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.client import HTTPException
from urllib.parse import urlsplit

import urllib3
import urllib3.connection
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cxloop.outbox.claims import claim_due
from cxloop.outbox.kinds import backoff
from cxloop.outbox.services import enqueue_email
from cxloop.people.models import Employee, Role
from cxloop.webhooks.choices import PENDING, DeliveryState
from cxloop.webhooks.models import Delivery, Subscription
from cxloop.webhooks.payloads import body as body_of
from cxloop.webhooks.services import is_private_address
from cxloop.webhooks.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    KIND_HEADER,
    SIGNATURE_HEADER,
    signature,
)

logger = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=3)
# A round stops taking deliveries this long before its lease ends: more than one try's limits.
LEASE_MARGIN = dt.timedelta(seconds=30)
ROUND = 200
CONNECT_TIMEOUT, READ_TIMEOUT = 3.0, 10.0
# The system's resolver takes no timeout: a name server that does not answer would hold the
# round for as long as resolv.conf's retries add up to. The look-up runs in a thread of its own
# and is given up on past this (it ends in its thread; a few threads at most, so that name
# servers that hang cannot pile threads up either).
DNS_TIMEOUT = 5.0
_resolver = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")
# A try's limit from the first byte sent to the last read: the read timeout is per read, and a
# receiver that trickles a byte every few seconds would otherwise hold the worker for ever.
TRY_LIMIT = 20.0
EXCERPT = 300
BACKOFF_BASE = 15.0
BACKOFF_CAP = 300.0
# Disabled after this many failures in a row, the first at least DISABLE_AFTER ago: with the
# schedule above, a day of failing is about 290 tries; a receiver down for an hour, or a
# night, is not disabled.
DISABLE_AFTER_FAILURES = 20
DISABLE_AFTER = dt.timedelta(hours=24)
USER_AGENT = "cxloop-webhooks/1"

_FIELDS = ("pk", "subscription_id", "event_id", "event__kind", "event__payload", "attempts")


@dataclass(frozen=True)
class Claimed:
    pk: int
    subscription_id: int
    event_id: object
    kind: str
    payload: dict
    attempts: int  # this try's number
    lease_end: dt.datetime  # set by this claim: a worker whose lease ran out writes nothing


class Refused(Exception):
    """A URL this worker will not call (a private address without the setting)."""


def _due(now: dt.datetime):
    earlier = Delivery.objects.filter(
        subscription_id=OuterRef("subscription_id"),
        subject=OuterRef("subject"),
        pk__lt=OuterRef("pk"),
        state__in=PENDING,
    )
    return (
        Delivery.objects.filter(subscription__is_active=True)
        .filter(Q(subscription__retry_at__isnull=True) | Q(subscription__retry_at__lte=now))
        .exclude(Exists(earlier))
    )


def _claim(now: dt.datetime, limit: int) -> list[Claimed]:
    rows = claim_due(
        _due(now), now=now, limit=limit, lease=LEASE, fields=_FIELDS, sending=DeliveryState.SENDING
    )
    return [Claimed(*row[:-1], attempts=row[-1] + 1, lease_end=now + LEASE) for row in rows]


def _held(delivery: Claimed):
    """The delivery while this worker's claim holds: being sent, under this claim's lease (a
    worker that outlived its lease finds another's claim there, and leaves it)."""
    return Delivery.objects.filter(
        pk=delivery.pk, state=DeliveryState.SENDING, next_attempt_at=delivery.lease_end
    )


class _Receiver:
    """One subscription's connection for a pass: its address resolved and checked once, the
    connection kept open between tries while the receiver keeps it alive."""

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.url = url
        self.https = parts.scheme == "https"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.netloc = parts.netloc
        self.connection = None

    def _open(self):
        addresses = _resolve(self.host, self.port)
        if not settings.WEBHOOKS_ALLOW_PRIVATE and any(is_private_address(a) for a in addresses):
            raise Refused(f"{self.host} resolves to a local or private address")
        address = addresses[0]
        if self.https:
            connection = urllib3.connection.HTTPSConnection(
                address,
                self.port,
                timeout=CONNECT_TIMEOUT,
                server_hostname=self.host,
                assert_hostname=self.host,
            )
        else:
            connection = urllib3.connection.HTTPConnection(
                address, self.port, timeout=CONNECT_TIMEOUT
            )
        connection.connect()
        connection.sock.settimeout(READ_TIMEOUT)
        return connection

    def post(self, data: bytes, headers: dict[str, str]) -> tuple[int, str]:
        if self.connection is None:
            self.connection = self._open()
        connection = self.connection
        # Past TRY_LIMIT the socket is shut: the read waiting on it returns at once, and the
        # try fails as a timeout would.
        fired = threading.Event()

        def shut() -> None:
            fired.set()
            _shut(connection)

        watchdog = threading.Timer(TRY_LIMIT, shut)
        watchdog.daemon = True
        watchdog.start()
        try:
            connection.request(
                "POST",
                self.path,
                body=data,
                headers={"Host": self.netloc, **headers},
                preload_content=False,  # at most EXCERPT bytes of the answer are read
            )
            response = connection.getresponse()
            excerpt = response.read(EXCERPT).decode("utf-8", "replace")
            if response.length_remaining != 0:
                # The rest is not read (a long or endless answer): the connection cannot be
                # used again with it unread, so it is closed and opened anew next time.
                self.close()
        finally:
            watchdog.cancel()
            if fired.is_set():
                self.close()
        return response.status, excerpt

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def _resolve(host: str, port: int) -> list[str]:
    """The addresses of ``host``; TimeoutError past :data:`DNS_TIMEOUT`."""
    lookup = _resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = lookup.result(timeout=DNS_TIMEOUT)
    except concurrent.futures.TimeoutError:
        raise TimeoutError(f"resolving {host} took more than {DNS_TIMEOUT:g} s") from None
    return [info[4][0] for info in infos]


def _shut(connection) -> None:
    sock = getattr(connection, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):  # closed already
            sock.shutdown(socket.SHUT_RDWR)


def _headers(subscription: Subscription, delivery: Claimed, data: bytes, now: dt.datetime):
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        SIGNATURE_HEADER: signature(subscription.secret, int(now.timestamp()), data),
        EVENT_HEADER: str(delivery.event_id),
        KIND_HEADER: delivery.kind,
        DELIVERY_HEADER: str(delivery.pk),
    }


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:500]


def _delivered(delivery: Claimed, status: int, excerpt: str, now: dt.datetime) -> None:
    with transaction.atomic():
        _held(delivery).update(
            state=DeliveryState.DELIVERED,
            next_attempt_at=None,
            last_attempt_at=now,
            delivered_at=now,
            status_code=status,
            error="",
            response_excerpt=excerpt,
        )
        Subscription.objects.filter(pk=delivery.subscription_id).update(
            failures=0, failing_since=None, retry_at=None, last_success_at=now
        )


def _failed(
    delivery: Claimed, status: int | None, error: str, excerpt: str, now: dt.datetime
) -> bool:
    """Queue the delivery again after its subscription's backoff; True when this failure
    disabled the subscription."""
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=delivery.subscription_id)
        failures = subscription.failures + 1
        since = subscription.failing_since or now
        retry_at = now + backoff(failures, base=BACKOFF_BASE, cap=BACKOFF_CAP)
        held = _held(delivery).update(
            state=DeliveryState.QUEUED,
            next_attempt_at=retry_at,
            last_attempt_at=now,
            status_code=status,
            error=error,
            response_excerpt=excerpt,
        )
        if not held:  # another worker holds it now: its outcome counts, not this one's
            return False
        disable = (
            subscription.is_active
            and failures >= DISABLE_AFTER_FAILURES
            and now - since >= DISABLE_AFTER
        )
        subscription.failures, subscription.failing_since = failures, since
        subscription.retry_at = retry_at
        if disable:
            subscription.is_active, subscription.disabled_at = False, now
            subscription.updated_at = now
        subscription.save()
        if disable:
            _tell_admins(subscription, error or f"HTTP {status}", now)
    return disable


def _admin_addresses() -> dict[str, str]:
    """Each administrator's address and language (employees with the administrator role, and
    superusers who are no employee)."""
    found = {
        e.user.email: e.language or settings.LANGUAGE_CODE
        for e in Employee.objects.filter(role=Role.ADMIN, user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
    }
    for email in (
        get_user_model()
        .objects.filter(is_superuser=True, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    ):
        found.setdefault(email, settings.LANGUAGE_CODE)
    return found


def _tell_admins(subscription: Subscription, error: str, now: dt.datetime) -> None:
    link = f"{settings.BASE_URL}/settings/webhooks/{subscription.pk}/"
    for address, language in sorted(_admin_addresses().items()):
        with translation.override(language):
            subject = _("Webhook “%(name)s” disabled after repeated failures") % {
                "name": subscription.name
            }
            text = _(
                "The webhook “%(name)s” (%(url)s) failed %(failures)d times in a row since "
                "%(since)s and has been disabled. The last error: %(error)s\n\n"
                "Its undelivered events are kept. Once the receiver works again, switch the "
                "webhook on: they will be delivered in order.\n\n%(link)s"
            ) % {
                "name": subscription.name,
                "url": subscription.url,
                "failures": subscription.failures,
                "since": subscription.failing_since.isoformat(timespec="minutes"),
                "error": error,
                "link": link,
            }
        enqueue_email(
            address,
            subject[:900],
            text,
            kind="webhook_disabled",
            key=f"webhook-disabled:{subscription.pk}:{now.isoformat()}:{address}",
            now=now,
        )


def _put_back(delivery: Claimed, now: dt.datetime) -> None:
    """Untried: due again at once, its try not counted (its subscription's backoff, if any,
    still holds it)."""
    _held(delivery).update(
        state=DeliveryState.QUEUED, attempts=F("attempts") - 1, next_attempt_at=now
    )


def deliver_due(
    *, now: dt.datetime | None = None, stop: threading.Event | None = None
) -> Counter[str]:
    """Send every delivery due at ``now`` (default: the time of each step) and count what
    became of them: "delivered", "retried", "disabled", "put back". ``stop``, when set, ends
    the pass after the delivery being sent; the rest are due again at once."""
    clock = (lambda: now) if now is not None else timezone.now
    stop = stop or threading.Event()
    outcomes: Counter[str] = Counter()
    receivers: dict[int, _Receiver] = {}
    try:
        while not stop.is_set():
            claimed = _claim(clock(), ROUND)
            if not claimed:
                break
            deadline = time.monotonic() + (LEASE - LEASE_MARGIN).total_seconds()
            failing: set[int] = set()
            for delivery in claimed:
                # Read afresh for each delivery: a new secret, address or switch-off is in
                # force from the next delivery on, not from the next round.
                subscription = Subscription.objects.filter(pk=delivery.subscription_id).first()
                if subscription is None:  # deleted since the claim, its deliveries with it
                    continue
                if (
                    delivery.subscription_id in failing
                    or not subscription.is_active
                    or stop.is_set()
                    or time.monotonic() > deadline
                ):
                    _put_back(delivery, clock())
                    outcomes["put back"] += 1
                    continue
                receiver = receivers.get(subscription.pk)
                if receiver is None or receiver.url != subscription.url:
                    if receiver is not None:
                        receiver.close()
                    receiver = receivers[subscription.pk] = _Receiver(subscription.url)
                outcome = _try(subscription, receiver, delivery, clock)
                outcomes[outcome] += 1
                if outcome != "delivered":
                    failing.add(subscription.pk)
    finally:
        for receiver in receivers.values():
            receiver.close()
    return +outcomes


def _try(subscription: Subscription, receiver: _Receiver, delivery: Claimed, clock) -> str:
    data = body_of(delivery.payload)
    status, excerpt, error = None, "", ""
    try:
        status, excerpt = receiver.post(data, _headers(subscription, delivery, data, clock()))
    except (OSError, HTTPException, urllib3.exceptions.HTTPError, Refused) as failure:
        receiver.close()
        error = _describe(failure)
    if status is not None and 200 <= status < 300:
        _delivered(delivery, status, excerpt, clock())
        return "delivered"
    if status is not None:
        error = f"HTTP {status}"
        receiver.close()  # a fresh connection for the next try
    disabled = _failed(delivery, status, error, excerpt, clock())
    if disabled:
        logger.warning("webhook %s disabled after repeated failures", subscription.pk)
    return "disabled" if disabled else "retried"
