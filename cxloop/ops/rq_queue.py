"""The Redis queue's tasks run again when they fail: a task that raises (the database restarting
under it, say) is retried after a pause, and so is one whose worker died mid-task, once rq's
registry finds it abandoned (after its timeout). Every cxloop task is idempotent, so a second run
does what the first did not finish and nothing twice."""

import datetime as dt
import threading

from django_rq.queues import DjangoRQ
from rq import Retry, SimpleWorker

# Three more tries, 10 s, 1 min and 5 min after a failure: a database restart or a failover
# takes seconds to minutes.
RETRY = Retry(max=3, interval=[10, 60, 300])


class RetryingQueue(DjangoRQ):
    def create_job(self, *args, retry: Retry | None = None, **kwargs):
        return super().create_job(*args, retry=retry or RETRY, **kwargs)

    def schedule_job(self, job, datetime: dt.datetime, *args, **kwargs):
        # rq scores a deferred task by its due time cut to the whole second, and moves it to the
        # queue once the clock's whole second reaches that score: up to a second early. Rounded
        # up, it never runs before its run_after.
        return super().schedule_job(job, whole_second_at_or_after(datetime), *args, **kwargs)


def whole_second_at_or_after(moment: dt.datetime) -> dt.datetime:
    if moment.microsecond == 0:
        return moment
    return moment.replace(microsecond=0) + dt.timedelta(seconds=1)


class BurstWorker(SimpleWorker):
    """rq's worker in this process, for one round of ``cxloop worker``: the tasks due now, one
    after another, then it returns.

    ``cxloop worker``'s own SIGTERM handler stays installed (rq's would keep the signal to
    itself, and one arriving later in the round would be lost): once ``stop`` is set, the task
    running ends and no other is taken. Without rq's channel for commands (stop a job, kill the
    work-horse), which a round is too short to need: with redis-py 8, closing that channel at
    the end of ``work()`` often waits out its thread's 60-second poll."""

    def __init__(self, *args, stop: threading.Event | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.stop = stop or threading.Event()

    def _install_signal_handlers(self):
        pass

    def subscribe(self):
        pass

    def dequeue_job_and_maintain_ttl(self, timeout, max_idle_time=None):
        if self.stop.is_set():
            return None
        return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
