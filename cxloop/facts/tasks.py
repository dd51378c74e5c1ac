"""Keeping the fact store current: a task that rewrites months, enqueued at most once per month
per process while one is pending.

The API can take more than a thousand submissions a second; one task row for each would make
the queue the bottleneck. So each process remembers, per month, when the task it enqueued will
run (``run_after``, ``settings.FACTS_DELAY`` seconds after the first write). A write to a month
whose task has not started yet adds nothing: that task reads the database after the write was
committed. Once the time has come, the task may be running already and miss the write, so the
next write enqueues a new one. Several processes each enqueue their own; that is harmless,
since the task is idempotent and writers take the store's lock in turn.
"""

import datetime as dt
import threading
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from cxloop.facts import sync

# A month counts as pending only until this long before its task's time, in case the worker's
# clock runs a little ahead of this process's.
CLOCK_MARGIN = dt.timedelta(seconds=1)


@task()
def refresh_fact_months(months: list[str]) -> dict:
    """Rewrite these months of the fact store (and its customer and segment tables) from the
    database. Safe to run twice or at once: each run writes what the database holds then."""
    return sync.refresh_months(months).to_dict()


class RefreshSchedule:
    """Per process: month → when the refresh task enqueued for it will run."""

    def __init__(self, clock: Callable[[], dt.datetime] = timezone.now):
        self.clock = clock
        self._due: dict[str, dt.datetime] = {}
        self._lock = threading.Lock()  # threads of one process share the schedule

    def months_written(self, months: Iterable[str]) -> list[str]:
        """Enqueue a refresh of those of ``months`` that have no pending task; the months it
        was enqueued for (none when every month was pending)."""
        delay = dt.timedelta(seconds=settings.FACTS_DELAY)
        with self._lock:
            now = self.clock()
            margin = min(CLOCK_MARGIN, delay / 2)
            pending = {month for month, runs_at in self._due.items() if now < runs_at - margin}
            due = sorted(set(months) - pending)
            if not due:
                return []
            if delay:
                refresh_fact_months.using(run_after=now + delay).enqueue(due)
                self._due = {m: t for m, t in self._due.items() if t > now}  # forget the past
                self._due.update(dict.fromkeys(due, now + delay))
            else:
                refresh_fact_months.enqueue(due)
        return due

    def clear(self) -> None:
        with self._lock:
            self._due.clear()


schedule = RefreshSchedule()


def on_responses_written(sender, *, months: set[str], **kwargs) -> None:
    """Receiver of :data:`cxloop.surveys.signals.responses_written`: after the writing
    transaction commits (never for one rolled back), schedule the refresh of its months."""
    months = set(months)
    # robust: the write is committed whatever happens to the queue; a failure to enqueue is
    # logged, and the store catches up with the next write or `cxloop facts rebuild`.
    transaction.on_commit(lambda: schedule.months_written(months), robust=True)
