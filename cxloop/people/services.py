"""Write side of people."""

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from cxloop.people.models import BusinessCalendar, CalendarDay, Employee, Idea, IdeaStatus
from cxloop.people.queries import role_records_feedback


class OutOfScope(PermissionDenied):
    """A write the acting employee's role or place in the team hierarchy does not allow.

    A PermissionDenied, so a page that lets it through answers 403; a page or the API that must
    not tell whether the record exists catches it and answers as for a missing one."""


def submit_idea(text: str, *, author: Employee, anonymous: bool, today: dt.date) -> Idea:
    """Keep an employee's idea; an anonymous one keeps neither its author nor their team.
    Raises OutOfScope for a read-only viewer."""
    if author is None or not role_records_feedback(author.role):
        raise OutOfScope("a viewer reads ideas but sends none")
    return Idea.objects.create(
        text=text,
        author=None if anonymous else author,
        team=None if anonymous else author.team,
        created_on=today,
    )


def set_idea_status(idea: Idea, status: str) -> None:
    if status not in IdeaStatus.values:
        raise ValueError(f"status must be one of {', '.join(IdeaStatus.values)}, got {status!r}")
    Idea.objects.filter(pk=idea.pk).update(status=status)


def claim_daily_summary(employee_id: int, day: dt.date) -> bool:
    """Mark ``day``'s summary of cases as sent to the employee; True only for the one call that
    did (a conditional UPDATE: two workers at once send one summary)."""
    not_yet = Q(digest_sent_on__isnull=True) | Q(digest_sent_on__lt=day)
    return Employee.objects.filter(not_yet, pk=employee_id).update(digest_sent_on=day) == 1


def set_language(employee: Employee, language: str) -> None:
    """The language of the employee's e-mails."""
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"language must be one of {', '.join(dict(settings.LANGUAGES))}")
    Employee.objects.filter(pk=employee.pk).update(language=language)
    employee.language = language


def update_calendar(calendar: BusinessCalendar, **fields) -> None:
    """Change a calendar's name, time zone, working weekdays or hours. Raises ValidationError,
    naming the field, for a value it cannot take (saving nothing)."""
    for name, value in fields.items():
        setattr(calendar, name, value)
    calendar.full_clean()
    calendar.save(update_fields=list(fields))


def set_calendar_day(calendar: BusinessCalendar, date: dt.date, *, is_working: bool, name: str):
    """Mark ``date`` on the calendar as a holiday or a transferred working day (replacing what
    was there)."""
    CalendarDay.objects.update_or_create(
        calendar=calendar, date=date, defaults={"is_working": is_working, "name": name}
    )


def remove_calendar_day(calendar: BusinessCalendar, date: dt.date) -> bool:
    """The date goes back to the calendar's usual week (False: it was not marked)."""
    deleted, _ = CalendarDay.objects.filter(calendar=calendar, date=date).delete()
    return deleted > 0
