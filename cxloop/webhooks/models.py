"""Webhook subscriptions, the events they are sent and one delivery per event and subscription
(docs/decisions/023-webhooks.md)."""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from cxloop.webhooks.choices import PENDING, DeliveryState, EventKind


class Subscription(models.Model):
    """A receiver's URL, the events it takes and the secret its deliveries are signed with.

    ``failures`` counts the deliveries that failed in a row since ``failing_since``; while it
    is not zero no delivery is attempted before ``retry_at`` (the backoff is the receiver's,
    not each delivery's: a receiver that is down gets one try per backoff, not one per event).
    """

    name = models.CharField(_("name"), max_length=200)
    url = models.URLField(_("URL"), max_length=2000)
    secret = models.CharField(_("signing secret"), max_length=100)
    events = models.JSONField(_("events"), default=list)
    is_active = models.BooleanField(_("active"), default=True)
    failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    retry_at = models.DateTimeField(_("next try"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled automatically"), null=True, blank=True)
    last_success_at = models.DateTimeField(_("last delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("changed"))

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def takes(self, kind: str) -> bool:
        return self.is_active and kind in self.events

    def event_labels(self) -> list[str]:
        return [EventKind(kind).label for kind in self.events if kind in EventKind.values]


class Event(models.Model):
    """Something that happened, once, whatever the number of subscriptions it is sent to.
    ``subject`` ("case:12", "customer:7") orders the deliveries: a subscription receives the
    events of one subject in the order they happened."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("event"), max_length=40, choices=EventKind)
    subject = models.CharField(_("record"), max_length=100)
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created"))

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject}"


class Delivery(models.Model):
    """One event for one subscription: queued, being sent (with a lease), delivered. A failed
    try queues it again; it is never dropped — the subscription is disabled instead
    (:mod:`cxloop.webhooks.delivery`). A replay is a new delivery of the same event."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    subject = models.CharField(_("record"), max_length=100)
    replay_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replays"
    )
    state = models.CharField(
        _("state"), max_length=16, choices=DeliveryState, default=DeliveryState.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    response_excerpt = models.CharField(_("response"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"))
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-pk"]
        indexes = [
            # "What is due?" — settled deliveries have no next attempt.
            models.Index(fields=["next_attempt_at"], name="webhook_due"),
            # "Is an earlier delivery of this subject still undelivered?"
            models.Index(
                fields=["subscription", "subject", "id"],
                name="webhook_subject_pending",
                condition=models.Q(state__in=PENDING),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=PENDING, next_attempt_at__isnull=False)
                | (~models.Q(state__in=PENDING) & models.Q(next_attempt_at__isnull=True)),
                name="webhook_only_pending_are_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.subscription_id}"
