"""The events a subscription can take and the states of a delivery (docs/webhooks.md)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventKind(models.TextChoices):
    RESPONSE_RECORDED = "response.recorded", _("response recorded")
    CASE_OPENED = "case.opened", _("case opened")
    CASE_STATE_CHANGED = "case.state_changed", _("case state changed")
    CASE_CLOSED = "case.closed", _("case closed")
    ROLLBACK_ALERT_RAISED = "rollback_alert.raised", _("roll-back alert raised")
    INITIATIVE_FINISHED = "initiative.finished", _("initiative finished")
    INQUIRY_RECEIVED = "inquiry.received", _("inquiry received")


class DeliveryState(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    DELIVERED = "delivered", _("delivered")


PENDING = (DeliveryState.QUEUED, DeliveryState.SENDING)
