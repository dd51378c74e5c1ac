"""Keeping the fact store current: a task that rewrites months, enqueued at most once per month
per process while one is pending (:class:`cxloop.lib.pending.PendingRuns`), run
``settings.FACTS_DELAY`` seconds after the first announcement of a response of that month.
Several processes each enqueue their own; that is harmless, since the task is idempotent and
writers take the store's lock in turn.
"""

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from cxloop.facts import store, sync
from cxloop.facts.schema import SCHEMA_VERSION
from cxloop.facts.signals import facts_refreshed
from cxloop.lib.pending import PendingRuns

log = logging.getLogger(__name__)


@task()
def refresh_fact_months(months: list[str]) -> dict:
    """Bring these months of the fact store (and its customer and segment tables) up to the
    database: it is enqueued when responses were recorded or their comments enriched, so the
    months' new responses are appended (:func:`~cxloop.facts.sync.append_month`). Safe to run
    twice or at once: each run writes what the database holds then. Once written,
    :data:`~cxloop.facts.signals.facts_refreshed` is sent (the roll-back watch follows it); a
    receiver that fails is logged and the refresh stands."""
    written = sync.refresh_months(months, appended=True)
    tell_refreshed(written)
    return written.to_dict()


def rebuild_outdated_store() -> bool:
    """Enqueue a rebuild when the store exists but cannot be read (another schema, a damaged
    manifest) or was written by an older schema (readable, without the tables this one
    derives): a refresh of no months rebuilds such a store. Whether one was enqueued; a queue
    that fails is logged, not raised (migrate stands)."""
    try:
        manifest = store.read_manifest()
        if manifest is None or manifest.schema >= SCHEMA_VERSION:
            return False
        log.warning("the fact store will be rebuilt: schema %s, this cxloop writes %s",
                    manifest.schema, SCHEMA_VERSION)  # fmt: skip
    except store.FactStoreError as error:
        log.warning("the fact store will be rebuilt: %s", error)
    try:
        refresh_fact_months.enqueue([])
    except Exception:
        log.exception("could not enqueue the fact store's rebuild; run cxloop facts rebuild")
        return False
    return True


def tell_refreshed(written: sync.Written) -> None:
    """Send :data:`~cxloop.facts.signals.facts_refreshed` for a refresh or rebuild just
    written; a receiver that fails is logged and the store stands."""
    for receiver, error in facts_refreshed.send_robust(sender=sync, written=written):
        if isinstance(error, Exception):
            log.error("facts_refreshed: %r failed", receiver, exc_info=error)


def _enqueue_refresh(months: list[str], run_after: dt.datetime | None) -> None:
    refresh_fact_months.using(run_after=run_after).enqueue(months)


class RefreshSchedule(PendingRuns):
    """Per process: month → when the refresh task enqueued for it will run."""

    def months_written(self, months: Iterable[str]) -> list[str]:
        """Enqueue a refresh of those of ``months`` that have no pending task; the months it
        was enqueued for (none when every month was pending)."""
        delay = dt.timedelta(seconds=settings.FACTS_DELAY)
        return self.run_once(months, delay, _enqueue_refresh)


schedule = RefreshSchedule(clock=timezone.now)


def on_responses_recorded(sender, *, months: set[str], **kwargs) -> None:
    """Receiver of :data:`cxloop.surveys.signals.responses_recorded`: once the announcement is
    committed (never for one rolled back, which is announced again), schedule the refresh of
    its months."""
    months = set(months)
    # robust: the announcement stands whatever happens to the queue; a failure to enqueue is
    # logged, and the store catches up with the next announcement or `cxloop facts rebuild`.
    transaction.on_commit(lambda: schedule.months_written(months), robust=True)


def on_comments_enriched(sender, *, months: set[str], **kwargs) -> None:
    """Receiver of :data:`cxloop.comments.signals.comments_enriched`, sent once the comments'
    insights are committed: schedule the refresh of their months."""
    schedule.months_written(set(months))
