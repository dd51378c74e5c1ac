"""Enriching comments after their responses are announced: the receiver of
:data:`~cxloop.surveys.signals.responses_recorded` enqueues a task once the announcement
commits; the task reads the comments and stores what :mod:`cxloop.text` finds in them.

Nothing is lost when the task fails or never runs: a comment without an insight is stale, and
``cxloop text rebuild`` (or the next rebuild after a taxonomy change) enriches it.
"""

import logging

from django.db import transaction
from django_tasks import task

from cxloop.comments import queries, services

log = logging.getLogger(__name__)


@task()
def enrich_comments(response_ids: list[int]) -> dict[str, int]:
    """Enrich the comments of these responses. Safe to run twice: each run stores what the
    texts and the taxonomy give then."""
    return {"comments": services.enrich_responses(response_ids)}


def on_responses_recorded(sender, *, response_ids: list[int], **kwargs) -> None:
    """Receiver of :data:`~cxloop.surveys.signals.responses_recorded`: once the announcement is
    committed (never for one rolled back, which is announced again), enqueue the enrichment of
    their comments, if they have any."""
    ids = list(response_ids)
    # Most responses carry no comment: no task then (each task is a row written and updated,
    # which on SQLite waits for the one write lock the API's submissions need).
    if not queries.have_comments(ids):
        return
    # robust: the announcement stands whatever happens to the queue; a comment left without
    # its insight is enriched by the next rebuild.
    transaction.on_commit(lambda: enrich_comments.enqueue(ids), robust=True)
