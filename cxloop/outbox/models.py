"""Every e-mail that leaves cxloop is first a row here (docs/decisions/005-outbox.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class State(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    REFUSED = "refused", _("refused")  # the server refused it for good (5xx): a bounce
    CANCELLED = "cancelled", _("cancelled")  # no longer wanted when its turn came
    DEAD = "dead", _("dead")  # every try failed for a temporary reason


class OutboxMessage(models.Model):
    """One outgoing e-mail: either its own subject and texts, or (``ref``) a reference to the
    record whose kind rebuilds the bytes at send time — invitations and reminders, 100,000 of
    which would otherwise be 200 MB of stored bodies written before the first is sent."""

    kind = models.CharField(_("kind"), max_length=32)
    recipient = models.CharField(_("recipient"), max_length=320)
    subject = models.CharField(_("subject"), max_length=998, blank=True)
    text = models.TextField(_("text"), blank=True)
    html = models.TextField(_("HTML"), blank=True)
    ref = models.BigIntegerField(
        _("reference"),
        null=True,
        blank=True,
        help_text=_("The record the message is built from at send time (an invitation)."),
    )
    key = models.CharField(
        _("idempotency key"),
        max_length=128,
        null=True,
        blank=True,
        unique=True,
        help_text=_("Makes queuing idempotent: a second message with the same key is not queued."),
    )
    message_id = models.CharField(_("Message-ID"), max_length=255)
    state = models.CharField(_("state"), max_length=16, choices=State, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(
        _("next attempt"),
        null=True,
        blank=True,
        help_text=_(
            "When a queued message is due; while sending, when the worker's lease ends and the "
            "message is due again; empty once it is settled."
        ),
    )
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at", "-pk"]
        # The worker's one question, "what is due?", reads this index; settled messages have no
        # next attempt and are not in it.
        indexes = [
            models.Index(fields=["next_attempt_at"], name="outbox_due"),
            models.Index(fields=["kind", "ref"], name="outbox_ref"),
            models.Index(fields=["state", "created_at"], name="outbox_state"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    state__in=[State.QUEUED, State.SENDING], next_attempt_at__isnull=False
                )
                | (
                    ~models.Q(state__in=[State.QUEUED, State.SENDING])
                    & models.Q(next_attempt_at__isnull=True)
                ),
                name="outbox_only_pending_are_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient}"
