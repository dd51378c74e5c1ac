"""The demo's scheduled reports (issue #16, part 3): what a CX lead would set up first — the
journey map on Monday mornings for the firm's leaders, the executive pack on the first of each
month for the managing partner, and the closed loop's figures on Friday afternoons for each
partner, as a workbook of their own part of the firm. (The weekly digest needs no schedule:
everyone gets it on Mondays.)

Planted by ``cxloop demo`` once the fact store is written, through the same service as the
schedule form, so each is due at its next time from now and goes out when the demo's worker
runs (or at once with "Send now" on the schedule's page)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cxloop.exports import schedules
from cxloop.exports.models import Frequency, Report, ReportFormat, ReportSchedule
from cxloop.people.choices import Role
from cxloop.people.queries import employees_with_role, employees_with_usernames


@dataclass(frozen=True)
class DemoSchedule:
    name: str
    report: str
    format: str
    frequency: str
    hour: int
    recipients: tuple[str, ...]  # user names; "managers" stands for every partner
    weekday: int = 0
    day_of_month: int = 1


SCHEDULES = (
    DemoSchedule(
        "Карта пути клиента: понедельник",
        "journey",  # the journey map's kind in the export catalog
        ReportFormat.PDF,
        Frequency.WEEKLY,
        8,
        ("cx.lead", "ceo", "manager"),
    ),
    DemoSchedule(
        "Пакет для партнёрского совета",
        Report.EXECUTIVE,
        ReportFormat.PDF,
        Frequency.MONTHLY,
        9,
        ("ceo", "cx.lead"),
    ),
    DemoSchedule(
        "Замкнутый цикл: пятница",
        "loop",  # the closed-loop dashboard: each partner's own part of the firm
        ReportFormat.XLSX,
        Frequency.WEEKLY,
        16,
        ("managers",),
        weekday=4,
    ),
)


def _recipients(names: tuple[str, ...]) -> list:
    people = list(employees_with_usernames([name for name in names if name != "managers"]))
    if "managers" in names:
        people.extend(employees_with_role(Role.MANAGER))
    return list({person.pk: person for person in people}.values())


def plant_schedules(now: dt.datetime) -> list[ReportSchedule]:
    """The demo's schedules, due next at their times after ``now``, created by the CX lead."""
    lead = employees_with_usernames(["cx.lead"]).get()
    return [
        schedules.save_schedule(
            ReportSchedule(
                name=planted.name,
                report=planted.report,
                format=planted.format,
                frequency=planted.frequency,
                weekday=planted.weekday,
                day_of_month=planted.day_of_month,
                hour=planted.hour,
            ),
            _recipients(planted.recipients),
            now=now,
            user=lead.user,
        )
        for planted in SCHEDULES
    ]
