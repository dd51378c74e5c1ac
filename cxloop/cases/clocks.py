"""SLA clocks of a case: its deadlines, paused while it waits on the customer.

Working time is counted on the business calendar of the team that owns the case
(:func:`calendar_for`). Until calendars exist every hour counts; the functions' contracts stay.
"""

import datetime as dt
from decimal import Decimal


def calendar_for(case):
    """The business calendar the case's clocks run on (None: every hour is a working hour)."""
    return None


def add_working_hours(calendar, start: dt.datetime, hours: Decimal) -> dt.datetime:
    """The moment ``hours`` working hours after ``start`` on ``calendar``."""
    return start + dt.timedelta(hours=float(hours))


def working_hours_between(calendar, start: dt.datetime, end: dt.datetime) -> Decimal:
    """Working hours from ``start`` to ``end`` on ``calendar`` (0 when end is before start)."""
    return Decimal(max((end - start).total_seconds(), 0) / 3600).quantize(Decimal("0.01"))


def start(case, now: dt.datetime) -> None:
    """Set the deadlines of a new case (unsaved changes to ``case``)."""
    policy = case.sla_policy
    if policy is None:
        return
    calendar = calendar_for(case)
    case.first_contact_due = add_working_hours(calendar, now, policy.first_contact_hours)
    case.resolution_due = add_working_hours(calendar, now, policy.resolution_hours)


def reopen(case, now: dt.datetime) -> None:
    """A resolved or closed case opened again gets a whole resolution period from now."""
    case.breached_at = case.warned_at = None
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
