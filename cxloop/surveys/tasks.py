"""Background work of surveys; each task is safe to run twice."""

from django.utils import timezone
from django_tasks import task

from cxloop.outbox.delivery import send_due
from cxloop.surveys.distribution import queue_invitations, queue_reminders


@task()
def send_invitations(invitation_ids: list[int]) -> dict[str, int]:
    """Kept for tasks queued before the outbox: their invitations' e-mails go into it."""
    return {"queued": queue_invitations(invitation_ids, now=timezone.now())}


@task()
def send_reminders() -> dict[str, int]:
    """Queue the reminders that are due, then send what the outbox holds that is due."""
    queue_reminders(timezone.now())
    return dict(send_due())
