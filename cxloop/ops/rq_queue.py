"""The Redis queue's tasks run again when they fail: a task that raises (the database restarting
under it, say) is retried after a pause, and so is one whose worker died mid-task, once rq's
registry finds it abandoned (after its timeout). Every cxloop task is idempotent, so a second run
does what the first did not finish and nothing twice."""

from django_rq.queues import DjangoRQ
from rq import Retry

# Three more tries, 10 s, 1 min and 5 min after a failure: a database restart or a failover
# takes seconds to minutes.
RETRY = Retry(max=3, interval=[10, 60, 300])


class RetryingQueue(DjangoRQ):
    def create_job(self, *args, retry: Retry | None = None, **kwargs):
        return super().create_job(*args, retry=retry or RETRY, **kwargs)
