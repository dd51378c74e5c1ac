"""Overdue action items reach their owners: one e-mail per item through the outbox, in the
owner's language and time zone, sent only within the owner's working hours (their team's
business calendar) — the way the closed loop tells case owners (cxloop.cases.notify and mail),
read here from people's calendars since this app sits beside the cases and does not import
them. Run by the worker each round (:func:`run_due`).

An item is overdue once its due day has passed in the owner's time zone. Each item is told
once: the claim is a conditional UPDATE of ``overdue_told_at`` in the same transaction as the
outbox row (whose key is unique too), so two workers, or a round run twice, send one e-mail."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cxloop.improvements.choices import ACTIVE_STATES, EventKind
from cxloop.improvements.models import ActionItem
from cxloop.improvements.services import record
from cxloop.lib import workhours
from cxloop.outbox.services import enqueue_email
from cxloop.people.queries import Calendars


def initiative_link(initiative) -> str:
    return f"{settings.BASE_URL.rstrip('/')}/initiatives/{initiative.pk}/"


def run_due(now: dt.datetime, calendars: Calendars | None = None) -> int:
    """Queue the e-mail of each overdue action item whose owner is now at work; how many."""
    calendars = calendars or Calendars()
    # Coarse in SQL (a day's slack covers every time zone), exact per owner below.
    candidates = ActionItem.objects.filter(
        done_at__isnull=True,
        overdue_told_at__isnull=True,
        due_on__lt=now.date() + dt.timedelta(days=1),
        initiative__state__in=ACTIVE_STATES,
    ).select_related("owner__user", "initiative")
    told = 0
    for item in candidates:
        calendar = calendars.for_team(item.owner.team_id)
        if item.due_on >= now.astimezone(calendar.zone).date():
            continue
        if workhours.next_working_moment(calendar, now) > now:
            continue  # after hours: the owner hears of it when their working day starts
        with transaction.atomic():
            claimed = ActionItem.objects.filter(pk=item.pk, overdue_told_at__isnull=True).update(
                overdue_told_at=now
            )
            if not claimed:
                continue  # another worker told them
            record(
                item.initiative,
                EventKind.ACTION_OVERDUE,
                by=None,
                now=now,
                item=item.pk,
                owner={"id": item.owner_id, "name": str(item.owner)},
                due_on=item.due_on.isoformat(),
            )
            user = item.owner.user
            if user.email and user.is_active:
                _queue(item, calendar, now)
                told += 1
    return told


def _queue(item: ActionItem, calendar: workhours.Calendar, now: dt.datetime) -> None:
    owner, initiative = item.owner, item.initiative
    with translation.override(owner.language), timezone.override(calendar.zone):
        context = {
            "recipient": owner,
            "item": item,
            "initiative": initiative,
            "link": initiative_link(initiative),
        }
        subject = _("Action item overdue since %(day)s: %(initiative)s") % {
            "day": item.due_on.strftime("%d.%m.%Y"),
            "initiative": " ".join(f"{initiative.reference} {initiative.label}".split()),
        }
        text = render_to_string("improvements/email/action_overdue.txt", context)
        html = render_to_string("improvements/email/action_overdue.html", context)
    enqueue_email(
        owner.user.email,
        subject[:250],
        text,
        html=html,
        key=f"action-overdue:{item.pk}",
        now=now,
    )
