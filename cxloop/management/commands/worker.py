import logging
import os
import signal
import threading
import time

import django_rq
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db.models import DBTaskResult
from django_tasks_rq.backend import Job

from cxloop.cases.jobs import run_due, send_instant_news
from cxloop.exports import schedules as report_schedules
from cxloop.improvements import reminders as initiative_reminders
from cxloop.ops import heartbeat
from cxloop.ops.rq_queue import BurstWorker
from cxloop.outbox.delivery import send_due
from cxloop.privacy.services import apply_retention_daily
from cxloop.reports import weekly_digest
from cxloop.surveys.announce import announce_pending
from cxloop.webhooks.delivery import deliver_due

logger = logging.getLogger(__name__)

# The worker's work (announcements, rules, e-mail) can wait a few hundred milliseconds; a person
# waiting for a page or an API client for its 201 cannot. On a machine the worker shares with
# the server (the demo, a small firm's one box) it yields the cores to the server's requests.
NICENESS = 10
# The SLA clocks run in working hours and the daily summaries go once a day: a look at them
# every CLOCKS_EVERY seconds finds a warning, breach or escalation at most that late. Looking
# every round read every running case, the calendars and the owners of open cases each second
# (a sixth of the worker's CPU at 300 submissions/s, in a profile: bench/README.md);
# instant news (a case assigned, a customer's reply) is still sent each round.
CLOCKS_EVERY = 10.0


def run_queued_tasks(verbosity: int, stop: threading.Event | None = None) -> None:
    """Run the tasks due now on the configured queue, then return: the database's through
    django-tasks-db, Redis's through an rq worker in this process (no fork per task). On Redis
    each task is taken by one worker however many run; the one that holds rq's scheduler lock
    first moves the deferred tasks whose time has come onto the queue."""
    if settings.TASKS_BACKEND == "db":
        # A look first: in most rounds nothing is due, and db_worker's own look is a write
        # transaction (its claim), which on SQLite the API's inserts wait for.
        backend = task_backends["default"]
        ready = DBTaskResult.objects.ready().filter(
            backend_name=backend.alias, queue_name__in=backend.queues
        )
        if not ready.exists():
            return
        call_command(
            "db_worker", batch=True, reload=False, startup_delay=False, verbosity=verbosity
        )
        return
    queues = [django_rq.get_queue(name, job_class=Job) for name in settings.RQ_QUEUES]
    worker = BurstWorker(queues, connection=queues[0].connection, job_class=Job, stop=stop)
    worker.work(burst=True, with_scheduler=True, logging_level="WARNING")


def _attempt(step: str, work, *args, **kwargs):
    try:
        return work(*args, **kwargs)
    except Exception:
        logger.exception("%s failed", step)
        return None


class Command(BaseCommand):
    help = (
        "Run the background worker: the announcement of new responses, the tasks on the "
        "database queue, the outbox's e-mails as they fall due (retries included) and, once a "
        "day, the retention rules."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch",
            action="store_true",
            help="run the tasks waiting now and send the e-mails due now, then exit",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="seconds between looks at the task queue and the outbox",
        )

    clocks_next = 0.0  # time.monotonic() from which the next round looks at the SLA clocks

    def round(self, stop: threading.Event, verbosity: int, stopping) -> dict:
        """One round of the worker's work. A step that fails (a consumer's error, the database
        or Redis restarting) is logged and the rest of the round goes on; what it left undone
        is there for the next round (the responses stay unannounced, the tasks queued, the
        deadlines and e-mails due)."""
        # A connection the last round broke (the database restarted) is replaced, as a
        # request's would be.
        close_old_connections()
        # Announce what writers committed since the last round: the one announcer (writers
        # ask for nothing; decision 012).
        _attempt("announcing new responses", announce_pending)
        # Tasks next (they may queue e-mails), then one pass over the outbox. On SIGTERM the
        # task running finishes and no other starts (db_worker handles the signal itself; on
        # Redis, this command's handler sets ``stop``); during the outbox pass it lets the
        # messages being sent finish and puts the rest back, due at once.
        _attempt("running queued tasks", run_queued_tasks, verbosity, stop)
        # db_worker installed its own handlers: this command's again, for the rest of the round.
        for name in ("SIGINT", "SIGTERM"):
            signal.signal(getattr(signal, name), stopping)
        # Deadlines, escalations and the news they bring queue their e-mails before the
        # outbox pass sends them; Monday morning's weekly digest, each person's own scorecard
        # (issue #13), leaves its week unclaimed when it fails.
        if time.monotonic() >= self.clocks_next:
            self.clocks_next = time.monotonic() + CLOCKS_EVERY
            _attempt("the SLA clocks", run_due, timezone.now())
        else:
            _attempt("instant news of cases", send_instant_news, timezone.now())
        _attempt("the initiatives' reminders", initiative_reminders.run_due, timezone.now())
        _attempt("the weekly digest", weekly_digest.send_due, timezone.now())
        _attempt("scheduled reports", report_schedules.send_due, timezone.now())
        # Webhooks before e-mail: a subscription disabled in this pass has its e-mail sent now.
        _attempt("delivering webhooks", deliver_due, stop=stop)
        outcomes = _attempt("sending e-mail", send_due, stop=stop) or {}
        # Retention rules and the audit log's purge, at most once a day (UTC).
        _attempt("the retention rules", apply_retention_daily)
        _attempt("the heartbeat", heartbeat.beat)
        return outcomes

    def handle(self, *args, batch, interval, verbosity, **options):
        stop = threading.Event()
        # db_worker runs once a round here: its start and "no more tasks" lines would repeat
        # every second.
        logging.getLogger("django_tasks_db").addFilter(
            lambda record: not str(record.msg).startswith(("Starting worker", "No more tasks"))
        )

        def stopping(signum, frame):
            stop.set()

        if not batch:
            os.nice(NICENESS)
        for name in ("SIGINT", "SIGTERM"):
            signal.signal(getattr(signal, name), stopping)

        while True:
            outcomes = self.round(stop, verbosity, stopping)
            if outcomes and verbosity > 1:
                self.stdout.write(
                    "e-mail: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
                )
            if batch or stop.wait(interval):
                return
