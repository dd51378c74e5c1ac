"""News about cases for the people who own them: kept as :class:`Notification` rows written in
the same transaction as the change, turned into e-mails (through the outbox) when their time
comes or gathered into the daily summary."""

import datetime as dt
from collections.abc import Sequence

from django.db import transaction

from cxloop.cases.choices import Delivery, NotificationKind, Priority
from cxloop.cases.models import Notification, NotificationPreference
from cxloop.lib import workhours
from cxloop.people.queries import Calendars, current_calendars


def notify(
    case, kind: str, recipient, *, now: dt.datetime, key: str, calendars: Calendars | None = None
) -> Notification | None:
    """Tell ``recipient`` (an Employee; None: nobody) ``kind`` of news about ``case``, once per
    ``key``. Instant news waits for the recipient's working hours unless the case is urgent
    (``calendars``: already read, for callers telling many people)."""
    if recipient is None:
        return None
    existing = Notification.objects.filter(key=key).first()
    if existing is not None:
        return existing
    return notify_all([(case, kind, recipient, key)], now=now, calendars=calendars)[0]


def notify_all(
    news: Sequence[tuple], *, now: dt.datetime, calendars: Calendars | None = None
) -> list[Notification]:
    """:func:`notify` for many ``(case, kind, recipient, key)`` at once, in two statements,
    for keys not yet used (a used key raises IntegrityError)."""
    if not news:
        return []
    chosen = dict(
        (
            (employee, kind),
            delivery,
        )
        for employee, kind, delivery in NotificationPreference.objects.filter(
            employee__in={recipient.pk for _case, _kind, recipient, _key in news}
        ).values_list("employee_id", "kind", "delivery")
    )
    return Notification.objects.bulk_create(
        Notification(
            key=key,
            recipient=recipient,
            kind=kind,
            case=case,
            delivery=chosen.get((recipient.pk, kind), Delivery.INSTANT),
            created_at=now,
            deliver_after=deliver_after(
                recipient, now, urgent=case.priority == Priority.URGENT, calendars=calendars
            ),
        )
        for case, kind, recipient, key in news
    )


def deliver_after(
    recipient, now: dt.datetime, *, urgent: bool, calendars: Calendars | None = None
) -> dt.datetime:
    """When news for ``recipient`` may go out: now if urgent or within their working hours,
    else at the start of their next working day (on their team's calendar, in its zone)."""
    if urgent:
        return now
    calendar = (calendars or current_calendars()).for_team(recipient.team_id)
    return workhours.next_working_moment(calendar, now)


def preferences_of(employee) -> dict[str, str]:
    """How ``employee`` hears of each kind of news (every kind; instant unless they chose)."""
    chosen = dict(
        NotificationPreference.objects.filter(employee=employee).values_list("kind", "delivery")
    )
    return {kind: chosen.get(kind, Delivery.INSTANT) for kind in NotificationKind.values}


def set_preferences(employee, choices: dict[str, str]) -> None:
    """Keep ``employee``'s choice of delivery per kind of news (kinds not given stay as they
    were). Raises ValueError for an unknown kind or delivery, changing nothing."""
    for kind, delivery in choices.items():
        if kind not in NotificationKind.values or delivery not in Delivery.values:
            raise ValueError(f"no such news or delivery: {kind!r}, {delivery!r}")
    with transaction.atomic():
        NotificationPreference.objects.filter(employee=employee, kind__in=list(choices)).delete()
        NotificationPreference.objects.bulk_create(
            NotificationPreference(employee=employee, kind=kind, delivery=delivery)
            for kind, delivery in choices.items()
        )
