"""The read side of webhooks, for the CX lead's pages."""

from django.db.models import Count, Q, QuerySet

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
