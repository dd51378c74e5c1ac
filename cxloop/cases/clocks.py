"""SLA clocks of a case: its deadlines, paused while it waits on the customer.

Working time is counted on the business calendar of the team that owns the case
(:func:`calendar_for`): its working days and hours in its time zone, less public holidays.
"""

import datetime as dt
from decimal import Decimal

from cxloop.lib import workhours
from cxloop.people.queries import team_calendar


def calendar_for(case) -> workhours.Calendar:
    """The business calendar the case's clocks run on: its team's (see people.queries)."""
    return team_calendar(case.team_id)


def add_working_hours(
    calendar: workhours.Calendar | None, start: dt.datetime, hours: Decimal
) -> dt.datetime:
    """The moment ``hours`` working hours after ``start`` on ``calendar`` (before it, if
    negative; None: every hour is a working hour)."""
    amount = dt.timedelta(hours=float(hours))
    if calendar is None:
        return start + amount
    return workhours.add(calendar, start, amount)


def working_hours_between(
    calendar: workhours.Calendar | None, start: dt.datetime, end: dt.datetime
) -> Decimal:
    """Working hours from ``start`` to ``end`` on ``calendar`` (0 when end is before start;
    None: every hour is a working hour)."""
    if calendar is None:
        spent = max(end - start, dt.timedelta(0))
    else:
        spent = workhours.between(calendar, start, end)
    return Decimal(spent.total_seconds() / 3600).quantize(Decimal("0.01"))


def start(case, now: dt.datetime) -> None:
    """Set the deadlines of a new case (unsaved changes to ``case``)."""
    policy = case.sla_policy
    if policy is None:
        return
    calendar = calendar_for(case)
    case.first_contact_due = add_working_hours(calendar, now, policy.first_contact_hours)
    case.resolution_due = add_working_hours(calendar, now, policy.resolution_hours)


def reopen(case, now: dt.datetime) -> None:
    """A resolved or closed case opened again gets a whole resolution period from now, with
    no warning, breach or escalation yet."""
    case.breached_at = case.warned_at = case.escalated_at = None
    case.escalation_level = 0
    if case.sla_policy is not None:
        calendar = calendar_for(case)
        case.resolution_due = add_working_hours(calendar, now, case.sla_policy.resolution_hours)


def pause(case, now: dt.datetime) -> None:
    """Stop the clocks: the case now waits on the customer."""
    if case.paused_at is None:
        case.paused_at = now


def resume(case, now: dt.datetime) -> None:
    """Restart the clocks: the deadlines move on by the working time spent waiting."""
    if case.paused_at is None:
        return
    calendar = calendar_for(case)
    waited = working_hours_between(calendar, case.paused_at, now)
    if case.first_contact_due and case.first_contacted_at is None:
        case.first_contact_due = add_working_hours(calendar, case.first_contact_due, waited)
    if case.resolution_due:
        case.resolution_due = add_working_hours(calendar, case.resolution_due, waited)
    case.paused_at = None
