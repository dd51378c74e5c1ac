"""Background work of surveys; each task is safe to run twice (every send is claimed first)."""

from django.utils import timezone
from django_tasks import task

from cxloop.surveys.distribution import due_reminders, send_invitations_now


@task()
def send_invitations(invitation_ids: list[int]) -> dict[str, int]:
    return dict(send_invitations_now(invitation_ids, now=timezone.now()))


@task()
def send_reminders() -> dict[str, int]:
    now = timezone.now()
    return dict(send_invitations_now(due_reminders(now), now=now, reminder=True))
