"""The weekly digest (issue #13, point 2): on Monday morning each person gets their own
scorecard by e-mail, in their language — the figures of the weigh-in's thirteen weeks to Sunday
with the change since the week before, where they stand on the weigh-in, their open cases and
their training — as HTML with the trend chart as an image and a plain-text part.

"Monday morning" is the person's: the first worker round within their working hours on Monday on
their team's business calendar (a Monday off brings no digest that week). Nothing goes twice: the
week is claimed (``Employee.weigh_in_sent_for``, the Monday) by a conditional UPDATE in the same
transaction as the outbox row, which also carries a unique key; the figures and the chart are
computed before that transaction, so no write lock waits on them.
"""

from __future__ import annotations

import base64
import datetime as dt

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from cxloop.cases.queries import open_cases_owned
from cxloop.improvements.queries import training_status
from cxloop.improvements.training_queries import my_assignments
from cxloop.insights import accountability
from cxloop.lib import workhours
from cxloop.outbox.services import enqueue_email
from cxloop.people.queries import Calendars, weekly_digest_due
from cxloop.people.services import claim_weekly_digest
from cxloop.reports.pdf import chart_svg

# The chart's width in the e-mail (CSS pixels) and its pixel density (sharp on a phone).
CHART_WIDTH = 520
CHART_SCALE = 2
# Open cases listed by name; the rest are counted.
CASES_LISTED = 10


def send_due(now: dt.datetime, calendars: Calendars | None = None) -> int:
    """Queue this week's digest for everyone with an e-mail address for whom it is Monday
    within working hours and who has not had it; the number queued."""
    candidates = list(weekly_digest_due(_this_monday(now)))
    if not candidates:
        return 0
    calendars = calendars or Calendars()
    due = []
    for employee in candidates:
        day = workhours.working_hours_day(calendars.for_team(employee.team_id), now)
        if day is not None and day.weekday() == 0:
            due.append((employee, day))
    if not due:
        return 0
    sent = 0
    figures = _figures_by_monday(due)
    for employee, monday in due:
        calendar = calendars.for_team(employee.team_id)
        message = _message(employee, monday, figures[monday], calendar.zone)
        with transaction.atomic():
            if claim_weekly_digest(employee.pk, monday):
                enqueue_email(
                    employee.user.email,
                    message["subject"],
                    message["text"],
                    html=message["html"],
                    kind="weekly_digest",
                    key=f"weekly-digest:{employee.pk}:{monday.isoformat()}",
                    now=now,
                )
                sent += 1
    return sent


def _this_monday(now: dt.datetime) -> dt.date:
    """The latest Monday anywhere on Earth at ``now``: no one's digest is due before it."""
    latest = (now + dt.timedelta(hours=14)).date()
    return latest - dt.timedelta(days=latest.weekday())


def _figures_by_monday(due) -> dict[dt.date, tuple[dict, dict, list]]:
    """(this week's, last week's, the trend's monthly) figures by employee, for each Monday
    among ``due`` (people in time zones either side of midnight may be on two)."""
    out = {}
    for monday in {day for _employee, day in due}:
        ids = [employee.pk for employee, day in due if day == monday]
        until = monday - dt.timedelta(days=1)
        week = dt.timedelta(days=7)
        since = accountability.weigh_in_scope(until).since
        out[monday] = (
            accountability.person_figures(ids, since=since, until=until),
            accountability.person_figures(ids, since=since - week, until=until - week),
            accountability.monthly_figures(
                accountability.person_figures,
                ids,
                months=accountability.TREND_MONTHS,
                until=until,
            ),
        )
    return out


def _link(path: str) -> str:
    return f"{settings.BASE_URL.rstrip('/')}{path}"


def _chart_image(employee, monthly: list) -> str:
    """The trend chart as a PNG ``data:`` URI (the outbox sends it as an inline part)."""
    import vl_convert  # 0.2 s to import; only the worker's Monday rounds pay it

    spec = accountability.trend_chart(monthly, employee.pk)
    svg = chart_svg(spec, width=CHART_WIDTH, language=employee.language)
    png = vl_convert.svg_to_png(str(svg), scale=CHART_SCALE)
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _training_due(employee) -> list:
    """The person's training not yet confirmed, the earliest due first."""
    return list(my_assignments(employee.user).filter(confirmed_at__isnull=True).order_by("due_on"))


def _message(employee, monday: dt.date, figures: tuple, zone) -> dict[str, str]:
    now_figures, before = (found.get(employee.pk, {}) for found in figures[:2])
    until = monday - dt.timedelta(days=1)
    since = accountability.weigh_in_scope(until).since
    cases = list(open_cases_owned(employee.pk))
    with translation.override(employee.language), timezone.override(zone):
        rows = [
            {
                "metric": definition,
                "figure": now_figures[definition.key],
                "change": _change(now_figures[definition.key], before.get(definition.key)),
            }
            for definition in accountability.METRICS
            if definition.key in now_figures
        ]
        context = {
            "recipient": employee,
            "since": since,
            "until": until,
            "rows": rows,
            "place": accountability.weigh_in_place(employee.pk, employee.team_id, until=until),
            "cases": [
                (case, _link(reverse("case_detail", args=[case.pk])))
                for case in cases[:CASES_LISTED]
            ],
            "more_cases": max(0, len(cases) - CASES_LISTED),
            "training": training_status([employee.pk], as_of=monday).get(employee.pk),
            "training_due": _training_due(employee),
            "scorecard": _link(reverse("person_scorecard", args=[employee.pk])),
            "definitions": _link(reverse("metric_definitions")),
            "weigh_in": _link(reverse("weigh_in")),
            "chart": _chart_image(employee, figures[2]),
        }
        subject = _("Your week in cxloop: the scorecard to %(until)s") % {
            "until": until.strftime("%d.%m.%Y")
        }
        return {
            "subject": subject,
            "text": render_to_string("reports/email/weekly_digest.txt", context),
            "html": render_to_string("reports/email/weekly_digest.html", context),
        }


def _change(now, before) -> float | None:
    if before is None or now.value is None or before.value is None:
        return None
    return now.value - before.value


def message_for(employee, day: dt.date, calendars: Calendars | None = None) -> dict[str, str]:
    """The digest of the week before ``day``'s Monday for ``employee`` (subject, text, HTML),
    whatever they had already: for a scheduled report (cxloop.exports.schedules)."""
    monday = day - dt.timedelta(days=day.weekday())
    calendars = calendars or Calendars()
    figures = _figures_by_monday([(employee, monday)])
    return _message(employee, monday, figures[monday], calendars.for_team(employee.team_id).zone)
