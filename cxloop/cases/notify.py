"""News about cases for the people who own them: kept as :class:`Notification` rows written in
the same transaction as the change, turned into e-mails (through the outbox) when their time
comes or gathered into the daily summary."""

import datetime as dt

from cxloop.cases.choices import Delivery, Priority
from cxloop.cases.models import Notification, NotificationPreference
from cxloop.lib import workhours
from cxloop.people.queries import Calendars


def notify(
    case, kind: str, recipient, *, now: dt.datetime, key: str, calendars: Calendars | None = None
) -> Notification | None:
    """Tell ``recipient`` (an Employee; None: nobody) ``kind`` of news about ``case``, once per
    ``key``. Instant news waits for the recipient's working hours unless the case is urgent
    (``calendars``: already read, for callers telling many people)."""
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
            "deliver_after": deliver_after(
                recipient, now, urgent=case.priority == Priority.URGENT, calendars=calendars
            ),
        },
    )
    return notification


def deliver_after(
    recipient, now: dt.datetime, *, urgent: bool, calendars: Calendars | None = None
) -> dt.datetime:
    """When news for ``recipient`` may go out: now if urgent or within their working hours,
    else at the start of their next working day (on their team's calendar, in its zone)."""
    if urgent:
        return now
    calendar = (calendars or Calendars()).for_team(recipient.team_id)
    return workhours.next_working_moment(calendar, now)
