"""The read side of webhooks, for the CX lead's pages and the operator's gauges."""

import datetime as dt

from django.db.models import Count, Min, Q, QuerySet

from cxloop.webhooks.choices import PENDING
from cxloop.webhooks.models import Delivery, Subscription

LOG_LENGTH = 200


def subscriptions() -> QuerySet[Subscription]:
    return Subscription.objects.annotate(
        pending=Count("deliveries", filter=Q(deliveries__state__in=PENDING))
    )


def subscription(pk: int) -> Subscription | None:
    return Subscription.objects.filter(pk=pk).first()


def delivery_log(subscription: Subscription) -> QuerySet[Delivery]:
    """The latest deliveries of ``subscription``, newest first."""
    return subscription.deliveries.select_related("event").order_by("-pk")[:LOG_LENGTH]


def delivery(subscription: Subscription, pk: int) -> Delivery | None:
    return subscription.deliveries.filter(pk=pk).select_related("event").first()


def due_backlog(now: dt.datetime) -> tuple[int, dt.datetime | None]:
    """How many deliveries to subscriptions that are on are due and not yet delivered at ``now``,
    and since when the oldest of them has been due; from the index ``webhook_due``. A
    subscription switched off (by hand, or for its failures) keeps its deliveries for later
    and is not counted: its receiver's outage is not this service's."""
    due = Delivery.objects.filter(next_attempt_at__lte=now, subscription__is_active=True)
    summary = due.aggregate(count=Count("pk"), oldest=Min("next_attempt_at"))
    return summary["count"], summary["oldest"]
