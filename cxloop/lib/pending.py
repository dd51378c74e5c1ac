"""Per-process memory of tasks enqueued to run a little later, so that many writes in a row
enqueue one task instead of one each (the API takes more than a thousand submissions a second;
a task row for each would make the queue the bottleneck).

A key (a month to refresh) counts as pending from the moment its
task is enqueued with ``run_after = now + delay`` until a little before that time: a write
meanwhile adds nothing, since the task reads the database after the write was committed. Once
the time has come the task may be running already and miss the write, so the next write
enqueues a new one. Several processes each enqueue their own; that is harmless as long as the
task is idempotent.
"""

import datetime as dt
import threading
from collections.abc import Callable, Iterable

# A key counts as pending only until this long before its task's time, in case the worker's
# clock runs a little ahead of this process's.
CLOCK_MARGIN = dt.timedelta(seconds=1)

Enqueue = Callable[[list[str], dt.datetime | None], None]


def trusted_until(runs_at: dt.datetime, delay: dt.timedelta) -> dt.datetime:
    """Until when a task enqueued with ``delay`` to run at ``runs_at`` stands for the writes
    committed meanwhile: each of them is committed before the task reads."""
    return runs_at - min(CLOCK_MARGIN, delay / 2)


class PendingRuns:
    """Key → when the task enqueued for it will run, for the threads of one process."""

    def __init__(self, clock: Callable[[], dt.datetime]):
        self.clock = clock
        self._due: dict[str, dt.datetime] = {}
        self._lock = threading.Lock()

    def run_once(self, keys: Iterable[str], delay: dt.timedelta, enqueue: Enqueue) -> list[str]:
        """Call ``enqueue(due, run_after)`` for those of ``keys`` that have no pending task and
        remember them as pending until ``run_after``; the keys it was called for (none when
        every key was pending). With no delay there is no window to share: ``enqueue`` gets
        ``run_after`` None for every call and nothing is remembered."""
        with self._lock:
            now = self.clock()
            pending = {
                key for key, runs_at in self._due.items() if now < trusted_until(runs_at, delay)
            }
            due = sorted(set(keys) - pending)
            if not due:
                return []
            if not delay:
                enqueue(due, None)
                return due
            enqueue(due, now + delay)  # remembered only once it was enqueued
            self._due = {key: at for key, at in self._due.items() if at > now}  # forget the past
            self._due.update(dict.fromkeys(due, now + delay))
        return due

    def clear(self) -> None:
        with self._lock:
            self._due.clear()
