"""Write side of people."""

import datetime as dt

from cxloop.people.models import Employee, Idea, IdeaStatus


def submit_idea(text: str, *, author: Employee, anonymous: bool, today: dt.date) -> Idea:
    """Keep an employee's idea; an anonymous one keeps neither its author nor their team."""
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
