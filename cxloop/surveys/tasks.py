"""Background work of surveys; each task is safe to run twice (every send is claimed first)."""

from django.utils import timezone
from django_tasks import task

from cxloop.surveys.distribution import due_reminders, send_invitation


@task()
def send_invitations(invitation_ids: list[int]) -> dict[str, int]:
    outcomes: dict[str, int] = {}
    for invitation_id in invitation_ids:
        outcome = send_invitation(invitation_id, now=timezone.now())
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


@task()
def send_reminders() -> dict[str, int]:
    outcomes: dict[str, int] = {}
    for invitation_id in due_reminders(timezone.now()):
        outcome = send_invitation(invitation_id, now=timezone.now(), reminder=True)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
