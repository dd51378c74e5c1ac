"""Re-matching every comment after the taxonomy changed, in the background: the theme editor's
"Re-match comments now" enqueues :func:`rebuild_comments` (a rebuild of a million comments takes
minutes, far longer than a request may). Without it, ``cxloop text rebuild`` does the same."""

from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from cxloop.comments import services


@task()
def rebuild_comments() -> dict[str, int]:
    """Enrich every comment that is not current. Safe to run twice or at once: a second run
    finds the first one's batches current (:func:`cxloop.comments.services.rebuild`)."""
    rebuilt = services.rebuild()
    return {"comments": rebuilt.comments, "total": rebuilt.total}


def waiting() -> bool:
    """Whether a rebuild is queued and not started yet: it will read the taxonomy as it is
    when it starts, so a second one would add nothing. (One already running may have read the
    taxonomy before the latest change: that does not count.)"""
    return DBTaskResult.objects.filter(
        task_path=rebuild_comments.module_path, status=TaskResultStatus.READY
    ).exists()


def enqueue() -> bool:
    """Queue a rebuild unless one is waiting; whether one was queued."""
    if waiting():
        return False
    rebuild_comments.enqueue()
    return True
