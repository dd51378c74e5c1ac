"""The write side of webhooks: emitting events in the caller's transaction, and the CX lead's
changes to subscriptions (docs/webhooks.md, docs/decisions/023-webhooks.md).

:func:`emit` and :func:`emit_many` write the events and one delivery per event and subscription
that takes it, in the caller's transaction: rolled back with the change that caused them, and
sent by the worker (:mod:`cxloop.webhooks.delivery`) only once committed. Nothing is written
when no subscription takes the kind (one SELECT of a small table)."""

import datetime as dt
import ipaddress
import uuid
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cxloop.audit import services as audit
from cxloop.audit.choices import Action
from cxloop.webhooks.choices import DeliveryState, EventKind
from cxloop.webhooks.models import Delivery, Event, Subscription
from cxloop.webhooks.payloads import envelope
from cxloop.webhooks.signing import new_secret

AUDIT_KIND = "webhook_subscription"


class SubscriptionError(ValueError):
    """Input a subscription cannot take; ``field`` names the field, the message says why."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def subscriptions_taking(kind: str) -> list[Subscription]:
    return [s for s in Subscription.objects.filter(is_active=True) if kind in s.events]


def emit(kind: str, *, subject: str, data: dict, now: dt.datetime | None = None) -> int:
    """Queue one event of ``kind`` about ``subject`` for every subscription that takes it; how
    many deliveries were queued."""
    return emit_many(kind, [(subject, data)], now=now)


def emit_many(
    kind: str,
    items: Sequence[tuple[str, dict]],
    *,
    now: dt.datetime | None = None,
    subscriptions: Sequence[Subscription] | None = None,
) -> int:
    """Queue events of ``kind``, one per (subject, data) of ``items`` in the order given (the
    order in which a subscription receives those of one subject), for every subscription that
    takes it (``subscriptions``: those, when the caller has just read them): one INSERT for
    the events and one for the deliveries, however many."""
    if kind not in EventKind.values:
        raise ValueError(f"not a webhook event: {kind!r}")
    if not items:
        return 0
    if subscriptions is None:
        subscriptions = subscriptions_taking(kind)
    if not subscriptions:
        return 0
    now = now or timezone.now()
    events = []
    for subject, data in items:
        event_id = uuid.uuid4()
        events.append((event_id, kind, subject, envelope(event_id, kind, now, data), now))
    deliveries = [
        (subscription.pk, event[0], event[2], DeliveryState.QUEUED.value, 0, now, now, "", "")
        for event in events
        for subscription in subscriptions
    ]
    with transaction.atomic():
        _insert(Event, _EVENT_COLUMNS, events)
        _insert(Delivery, _DELIVERY_COLUMNS, deliveries)
    return len(deliveries)


_EVENT_COLUMNS = ("id", "kind", "subject", "payload", "created_at")
_DELIVERY_COLUMNS = (
    "subscription",
    "event",
    "subject",
    "state",
    "attempts",
    "next_attempt_at",
    "created_at",
    "error",
    "response_excerpt",
)


def _insert(model, names: tuple[str, ...], rows: list[tuple]) -> None:
    """One INSERT statement for ``rows``, executed for each (``executemany``). The 1,000
    deliveries and 500 events of a batch of 500 responses for two subscriptions took 46–57 ms
    so on SQLite, 72–75 ms with model instances and ``bulk_create``, which SQLite's 999
    parameters also split into 13 statements. Each value is prepared by its field, as the ORM
    would (JSON, UUID, time)."""
    fields = [model._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})"
    prepared = [
        [
            field.get_db_prep_save(value, connection)
            for field, value in zip(fields, row, strict=True)
        ]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, prepared)


# --- subscriptions ------------------------------------------------------------------------


def is_private_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return not ip.is_global or ip.is_multicast


def check_url(url: str) -> str:
    """``url`` stripped, or SubscriptionError naming the field "url": an http(s) URL with a
    host and no credentials; a host written as a loopback, private or link-local address is
    refused unless ``CXLOOP_WEBHOOKS_ALLOW_PRIVATE`` (names are checked again when sending)."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SubscriptionError(
            _("The URL must start with http:// or https:// and name a host: %(url)s")
            % {"url": url or "—"},
            "url",
        )
    if parts.username or parts.password:
        raise SubscriptionError(_("The URL must not hold a user name or password."), "url")
    try:
        parts.port  # noqa: B018 — raises on a port that is not a number
    except ValueError:
        raise SubscriptionError(_("The URL's port is not a number."), "url") from None
    if len(url) > 2000:
        raise SubscriptionError(_("The URL is longer than 2,000 characters."), "url")
    try:
        private = is_private_address(parts.hostname)
    except ValueError:  # a name: resolved and checked when sending
        private = parts.hostname.lower() == "localhost"
    if private and not settings.WEBHOOKS_ALLOW_PRIVATE:
        raise SubscriptionError(
            _("The URL names a local or private address, which webhooks are not sent to."),
            "url",
        )
    return url


def _check(name: str, url: str, events: Iterable[str]) -> tuple[str, str, list[str]]:
    name = (name or "").strip()
    if not name:
        raise SubscriptionError(_("Give the subscription a name."), "name")
    if len(name) > 200:
        raise SubscriptionError(_("The name is longer than 200 characters."), "name")
    url = check_url(url)
    events = list(dict.fromkeys(events))
    unknown = [kind for kind in events if kind not in EventKind.values]
    if unknown:
        raise SubscriptionError(
            _("Not an event: %(kinds)s") % {"kinds": ", ".join(unknown)}, "events"
        )
    if not events:
        raise SubscriptionError(_("Choose at least one event."), "events")
    return name, url, [kind for kind in EventKind.values if kind in events]


def create_subscription(
    *, name: str, url: str, events: Iterable[str], now: dt.datetime | None = None
) -> Subscription:
    """A new subscription with a new secret (shown to the CX lead once)."""
    name, url, events = _check(name, url, events)
    now = now or timezone.now()
    with transaction.atomic():
        subscription = Subscription.objects.create(
            name=name,
            url=url,
            events=events,
            secret=new_secret(),
            created_at=now,
            updated_at=now,
        )
        audit.record(
            Action.CREATE,
            kind=AUDIT_KIND,
            object_id=subscription.pk,
            label=name,
            details={"url": url, "events": events},
        )
    return subscription


def update_subscription(
    subscription: Subscription,
    *,
    name: str,
    url: str,
    events: Iterable[str],
    now: dt.datetime | None = None,
) -> Subscription:
    name, url, events = _check(name, url, events)
    with transaction.atomic():
        before = {"name": subscription.name, "url": subscription.url, "events": subscription.events}
        subscription.name, subscription.url, subscription.events = name, url, events
        subscription.updated_at = now or timezone.now()
        subscription.save(update_fields=["name", "url", "events", "updated_at"])
        after = {"name": name, "url": url, "events": events}
        changed = {key: [before[key], after[key]] for key in after if before[key] != after[key]}
        audit.record(
            Action.CHANGE, kind=AUDIT_KIND, object_id=subscription.pk, label=name, details=changed
        )
    return subscription


def roll_secret(subscription: Subscription, *, now: dt.datetime | None = None) -> str:
    """A new signing secret, in force for every delivery from now on; returns it."""
    with transaction.atomic():
        subscription.secret = new_secret()
        subscription.updated_at = now or timezone.now()
        subscription.save(update_fields=["secret", "updated_at"])
        audit.record(
            Action.CHANGE,
            kind=AUDIT_KIND,
            object_id=subscription.pk,
            label=subscription.name,
            details={"secret": "rolled"},
        )
    return subscription.secret


def set_active(
    subscription: Subscription, active: bool, *, now: dt.datetime | None = None
) -> Subscription:
    """Switch a subscription off, or on again (after it was disabled, by hand or for its
    failures): its queued deliveries are due at once, in order, with a fresh count."""
    now = now or timezone.now()
    with transaction.atomic():
        subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
        if subscription.is_active == active:
            return subscription
        subscription.is_active, subscription.updated_at = active, now
        if active:
            subscription.failures, subscription.failing_since = 0, None
            subscription.retry_at = subscription.disabled_at = None
            subscription.deliveries.filter(
                state=DeliveryState.QUEUED, next_attempt_at__gt=now
            ).update(next_attempt_at=now)
        subscription.save()
        audit.record(
            Action.CHANGE,
            kind=AUDIT_KIND,
            object_id=subscription.pk,
            label=subscription.name,
            details={"active": active},
        )
    return subscription


def replay(delivery: Delivery, *, now: dt.datetime | None = None) -> Delivery:
    """Send a delivery's event again to its subscription, as a new delivery with the same
    event id (the receiver decides whether it is a duplicate), after the subject's earlier
    deliveries still waiting."""
    now = now or timezone.now()
    with transaction.atomic():
        again = Delivery.objects.create(
            subscription_id=delivery.subscription_id,
            event_id=delivery.event_id,
            subject=delivery.subject,
            replay_of=delivery,
            state=DeliveryState.QUEUED,
            next_attempt_at=now,
            created_at=now,
        )
        audit.record(
            Action.CREATE,
            kind="webhook_delivery",
            object_id=again.pk,
            label=f"replay of {delivery.pk}",
            details={"subscription": delivery.subscription_id, "event": str(delivery.event_id)},
        )
    return again


DELIVERED_KEPT_DAYS = 30  # the delivery log shows a month; older delivered events are purged


def purge_delivered(*, now: dt.datetime, days: int = DELIVERED_KEPT_DAYS) -> int:
    """Delete the deliveries delivered more than ``days`` ago and the events left with no
    delivery; how many deliveries. Undelivered ones are kept whatever their age: a disabled
    subscription's events wait for it to be switched on again."""
    with transaction.atomic():
        deleted, _ = Delivery.objects.filter(
            state=DeliveryState.DELIVERED, delivered_at__lt=now - dt.timedelta(days=days)
        ).delete()
        Event.objects.filter(deliveries__isnull=True).delete()
    return deleted
