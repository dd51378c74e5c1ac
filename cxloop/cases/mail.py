"""News about cases turned into e-mails through the outbox: instant news when its time has
come, and one daily summary per person at the start of their working day (their open and
overdue cases and the news they chose to read there). Each e-mail is HTML with a plain-text part,
in the recipient's language and time zone, with a link to the case.

Nothing goes twice: a notification is claimed (``sent_at``) and a summary's day is claimed
(``Employee.digest_sent_on``) by a conditional UPDATE in the same transaction as the outbox row,
which also carries a unique key. The outbox sends, and retries through an SMTP outage.
"""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from cxloop.cases.choices import OPEN_STATES, Delivery, NotificationKind
from cxloop.cases.models import Case, Notification
from cxloop.lib import workhours
from cxloop.outbox.services import enqueue_email
from cxloop.people.queries import Calendars, employees_with_email
from cxloop.people.services import claim_daily_summary

# Looked up in the recipient's language when a message is written.
SUBJECTS = {
    NotificationKind.ASSIGNED: gettext_noop("Case {reference} is assigned to you: {title}"),
    NotificationKind.DUE_SOON: gettext_noop("Case {reference}: a deadline is near: {title}"),
    NotificationKind.BREACHED: gettext_noop("Case {reference}: a deadline is missed: {title}"),
    NotificationKind.ESCALATED: gettext_noop("Case {reference} is escalated to you: {title}"),
    NotificationKind.CUSTOMER_REPLIED: gettext_noop(
        "Case {reference}: the customer replied: {title}"
    ),
}


def case_link(case: Case) -> str:
    return f"{settings.BASE_URL.rstrip('/')}/cases/{case.pk}/"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def send_due(now: dt.datetime, calendars: Calendars | None = None) -> None:
    calendars = calendars or Calendars()
    send_instant(now, calendars)
    send_summaries(now, calendars)


def send_instant(now: dt.datetime, calendars: Calendars | None = None) -> None:
    """Queue an e-mail for each instant notification whose time has come. Each is rendered
    before the transaction that claims it and queues its e-mail: on SQLite that transaction
    holds the one write lock, which the API's inserts wait for. The calendars are read only
    when something is due (the worker looks every second)."""
    due = Notification.objects.filter(
        sent_at__isnull=True, delivery=Delivery.INSTANT, deliver_after__lte=now
    ).select_related("recipient__user", "case__customer")
    for notification in due:
        recipient = notification.recipient
        email = None
        if recipient.user.email and recipient.user.is_active:
            calendars = calendars or Calendars()
            email = _news_email(notification, calendars)
        with transaction.atomic():
            if _claim(Notification.objects.filter(pk=notification.pk), now) and email:
                subject, text, html = email
                enqueue_email(
                    recipient.user.email,
                    subject,
                    text,
                    html=html,
                    key=f"case-news:{notification.pk}",
                    now=now,
                )


def _news_email(notification: Notification, calendars: Calendars) -> tuple[str, str, str]:
    """An instant notification's subject, text and HTML, in its recipient's language and
    time zone."""
    recipient = notification.recipient
    calendar = calendars.for_team(recipient.team_id)
    with translation.override(recipient.language), timezone.override(calendar.zone):
        case = notification.case
        subject = _(SUBJECTS[notification.kind]).format(
            reference=case.reference, title=_one_line(case.label)
        )
        context = {
            "recipient": recipient,
            "news": notification.get_kind_display(),
            "case": case,
            "link": case_link(case),
        }
        text = render_to_string("cases/email/news.txt", context)
        html = render_to_string("cases/email/news.html", context)
    return subject, text, html


def _claim(notifications, now: dt.datetime) -> int:
    return notifications.filter(sent_at__isnull=True).update(sent_at=now)


def send_summaries(now: dt.datetime, calendars: Calendars) -> None:
    """Queue the day's summary for each person with open cases or digest news who is within
    their working hours and has not had it today."""
    owners = Case.objects.filter(state__in=OPEN_STATES, owner__isnull=False).values("owner_id")
    readers = Notification.objects.filter(
        sent_at__isnull=True, delivery=Delivery.DIGEST, created_at__lte=now
    ).values("recipient_id")
    candidates = employees_with_email(
        set(owners.values_list("owner_id", flat=True))
        | set(readers.values_list("recipient_id", flat=True))
    )
    for employee in candidates:
        calendar = calendars.for_team(employee.team_id)
        day = workhours.working_hours_day(calendar, now)
        if day is None or (employee.digest_sent_on is not None and employee.digest_sent_on >= day):
            continue
        with transaction.atomic():
            if claim_daily_summary(employee.pk, day):
                _queue_summary(employee, day, calendar, now)


def _queue_summary(employee, day: dt.date, calendar: workhours.Calendar, now: dt.datetime) -> None:
    news = Notification.objects.filter(
        recipient=employee, sent_at__isnull=True, delivery=Delivery.DIGEST, created_at__lte=now
    ).select_related("case")
    news_list = list(news.order_by("created_at", "pk"))
    _claim(Notification.objects.filter(pk__in=[n.pk for n in news_list]), now)
    cases = list(
        Case.objects.filter(owner=employee, state__in=OPEN_STATES)
        .select_related("customer")
        .order_by("resolution_due", "pk")
    )
    overdue = [case for case in cases if _overdue(case, now)]
    if not cases and not news_list:
        return
    with translation.override(employee.language), timezone.override(calendar.zone):
        context = {
            "recipient": employee,
            "day": day,
            "open_cases": [(case, case_link(case)) for case in cases],
            "overdue": [(case, case_link(case)) for case in overdue],
            "news": [(n.get_kind_display(), n.case, case_link(n.case)) for n in news_list],
        }
        subject = _("Your cases on %(day)s: %(open)s open, %(overdue)s overdue") % {
            "day": day.strftime("%d.%m.%Y"),
            "open": len(cases),
            "overdue": len(overdue),
        }
        text = render_to_string("cases/email/digest.txt", context)
        html = render_to_string("cases/email/digest.html", context)
    enqueue_email(
        employee.user.email,
        subject,
        text,
        html=html,
        key=f"case-digest:{employee.pk}:{day.isoformat()}",
        now=now,
    )


def _overdue(case: Case, now: dt.datetime) -> bool:
    """A deadline running (not paused while waiting on the customer) has passed."""
    due = case.first_contact_due if case.first_contacted_at is None else case.resolution_due
    return case.paused_at is None and due is not None and due < now
