"""Write side of people."""

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from cxloop.people.models import BusinessCalendar, CalendarDay, Employee, Idea, IdeaStatus
from cxloop.people.queries import INITIATIVE_FROM, may_answer_idea, role_records_feedback


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


class IdeaError(ValueError):
    """An idea's move its state does not allow, or an answer it lacks; ``field`` names the
    form field at fault."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


# Where an idea may go from each state by an answer. "Became an initiative" is reached only
# by starting an initiative from the idea (:func:`idea_became_initiative`); a declined idea
# may be looked at again.
IDEA_MOVES: dict[str, tuple[str, ...]] = {
    IdeaStatus.NEW: (IdeaStatus.REVIEWING, IdeaStatus.ACCEPTED, IdeaStatus.DECLINED),
    IdeaStatus.REVIEWING: (IdeaStatus.ACCEPTED, IdeaStatus.DECLINED),
    IdeaStatus.ACCEPTED: (IdeaStatus.DECLINED,),
    IdeaStatus.DECLINED: (IdeaStatus.REVIEWING,),
    IdeaStatus.INITIATIVE: (),
}
# The author is owed the reason for a yes or a no.
ANSWER_REQUIRED = (IdeaStatus.ACCEPTED, IdeaStatus.DECLINED)


def set_idea_status(
    idea: Idea, status: str, *, answer: str, by: Employee | None, now: dt.datetime
) -> Idea:
    """Move ``idea`` to ``status`` with ``answer`` to its author (the same status: the answer
    changes). Only those who may answer it (:func:`may_answer_idea`) may; raises OutOfScope
    for others and :class:`IdeaError`, naming the field, for a move :data:`IDEA_MOVES` does
    not allow or an accepted or declined idea without an answer; writes nothing then."""
    if not may_answer_idea(by, idea):
        raise OutOfScope("only the idea's team's managers, the CX lead and executives answer it")
    answer = answer.strip()
    with transaction.atomic():
        idea = Idea.objects.select_for_update().get(pk=idea.pk)
        if status not in IdeaStatus.values or (
            status != idea.status and status not in IDEA_MOVES[idea.status]
        ):
            raise IdeaError(
                _("An idea that is “%(before)s” cannot become “%(after)s”.")
                % {"before": idea.get_status_display(), "after": _status_label(status)},
                "status",
            )
        if status in ANSWER_REQUIRED and not answer:
            raise IdeaError(_("Write the author the reason for the decision."), "answer")
        if answer != idea.answer:
            idea.answer, idea.answered_by, idea.answered_at = answer, by, now
        idea.status = status
        idea.save(update_fields=["status", "answer", "answered_by", "answered_at"])
    return idea


def _status_label(status: str) -> str:
    return str(IdeaStatus(status).label) if status in IdeaStatus.values else status


def idea_became_initiative(idea: Idea, *, by: Employee | None) -> None:
    """Mark ``idea`` as carried out by an initiative started from it now (call inside the
    initiative's transaction). Raises :class:`IdeaError` (field "from_idea") for an idea that
    is declined or already an initiative, OutOfScope for someone who may not answer it."""
    if not may_answer_idea(by, idea):
        raise OutOfScope("only the idea's team's managers, the CX lead and executives answer it")
    locked = Idea.objects.select_for_update().get(pk=idea.pk)
    if locked.status not in INITIATIVE_FROM:
        raise IdeaError(
            _("An idea that is “%(status)s” cannot become an initiative.")
            % {"status": locked.get_status_display()},
            "from_idea",
        )
    Idea.objects.filter(pk=idea.pk).update(status=IdeaStatus.INITIATIVE)
    idea.status = IdeaStatus.INITIATIVE


def claim_daily_summary(employee_id: int, day: dt.date) -> bool:
    """Mark ``day``'s summary of cases as sent to the employee; True only for the one call that
    did (a conditional UPDATE: two workers at once send one summary)."""
    return _claim_day(employee_id, "digest_sent_on", day)


def claim_weekly_digest(employee_id: int, monday: dt.date) -> bool:
    """Mark the weekly digest of the week starting ``monday`` as sent to the employee; True only
    for the one call that did, as :func:`claim_daily_summary`."""
    return _claim_day(employee_id, "weigh_in_sent_for", monday)


def _claim_day(employee_id: int, field: str, day: dt.date) -> bool:
    not_yet = Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": day})
    return Employee.objects.filter(not_yet, pk=employee_id).update(**{field: day}) == 1


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
