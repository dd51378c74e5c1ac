"""Working-time arithmetic on a business calendar given as plain data (no Django).

A :class:`Calendar` is a time zone, the working weekdays, the hours of a working day and the
exceptions to the week: public holidays (a weekday that is not worked) and transferred working
days (a Saturday that is). Moments are aware datetimes in any zone; answers come back in the
calendar's zone. Working time runs only inside a working day's hours, so "Friday 17:30 plus two
working hours" on a 9–18 week is Monday 10:30.
"""

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

# A calendar with no working day in this many days is refused rather than searched forever.
HORIZON_DAYS = 3 * 366


@dataclass(frozen=True)
class Calendar:
    time_zone: str
    work_days: frozenset[int]  # ISO weekdays: 1 Monday … 7 Sunday
    day_start: dt.time
    day_end: dt.time
    exceptions: Mapping[dt.date, bool] = field(default_factory=dict)  # date → is it worked

    def __post_init__(self):
        if self.day_start >= self.day_end:
            raise ValueError("a working day ends after it starts")
        if not self.work_days <= set(range(1, 8)):
            raise ValueError("working weekdays are ISO weekdays 1–7")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_working_day(self, day: dt.date) -> bool:
        return self.exceptions.get(day, day.isoweekday() in self.work_days)

    def hours_of(self, day: dt.date) -> tuple[dt.datetime, dt.datetime] | None:
        """The start and end of ``day``'s working hours (None: not a working day)."""
        if not self.is_working_day(day):
            return None
        zone = self.zone
        return (
            dt.datetime.combine(day, self.day_start, tzinfo=zone),
            dt.datetime.combine(day, self.day_end, tzinfo=zone),
        )


def _days(calendar: Calendar, moment: dt.datetime, step: int) -> Iterator[dt.date]:
    """Local dates from ``moment``'s onwards (step 1) or backwards (step -1), within the horizon."""
    day = moment.astimezone(calendar.zone).date()
    for _ in range(HORIZON_DAYS):
        yield day
        day += dt.timedelta(days=step)
    raise ValueError(f"no working day within {HORIZON_DAYS} days on this calendar")


def _aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None:
        raise ValueError("working time is counted between aware datetimes")


def add(calendar: Calendar, start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    """The moment ``amount`` of working time after ``start`` (before it, if negative). Adding
    nothing gives ``start`` itself, even outside working hours."""
    _aware(start)
    if amount == dt.timedelta(0):
        return start
    forward = amount > dt.timedelta(0)
    left = abs(amount)
    for day in _days(calendar, start, 1 if forward else -1):
        hours = calendar.hours_of(day)
        if hours is None:
            continue
        opens, closes = hours
        if forward:
            opens = max(opens, start)
        else:
            closes = min(closes, start)
        available = closes - opens
        if available <= dt.timedelta(0):
            continue
        if left <= available:
            return opens + left if forward else closes - left
        left -= available
    raise AssertionError("unreachable: _days raises at the horizon")


def between(calendar: Calendar, start: dt.datetime, end: dt.datetime) -> dt.timedelta:
    """Working time from ``start`` to ``end`` (nothing when ``end`` is not after ``start``)."""
    _aware(start)
    _aware(end)
    total = dt.timedelta(0)
    if end <= start:
        return total
    last = end.astimezone(calendar.zone).date()
    day = start.astimezone(calendar.zone).date()
    while day <= last:
        hours = calendar.hours_of(day)
        if hours is not None:
            overlap = min(hours[1], end) - max(hours[0], start)
            total += max(overlap, dt.timedelta(0))
        day += dt.timedelta(days=1)
    return total


def next_working_moment(calendar: Calendar, moment: dt.datetime) -> dt.datetime:
    """``moment`` itself if it falls within working hours, else the start of the next working
    day's hours."""
    _aware(moment)
    for day in _days(calendar, moment, 1):
        hours = calendar.hours_of(day)
        if hours is None or moment >= hours[1]:
            continue
        return max(hours[0], moment).astimezone(calendar.zone)
    raise AssertionError("unreachable: _days raises at the horizon")


def working_hours_day(calendar: Calendar, moment: dt.datetime) -> dt.date | None:
    """The local date of ``moment`` if it falls within that working day's hours (the daily
    summary's day: sent from the start of the day, and, should the worker have been down then,
    later that day — never in the evening, when it would say "today" to someone off work), else
    None."""
    _aware(moment)
    day = moment.astimezone(calendar.zone).date()
    hours = calendar.hours_of(day)
    if hours is None or not hours[0] <= moment < hours[1]:
        return None
    return day
