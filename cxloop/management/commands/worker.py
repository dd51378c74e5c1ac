import logging
import os
import signal
import threading

import django_rq
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone
from django_tasks_rq.backend import Job
from rq import SimpleWorker

from cxloop.cases.jobs import run_due
from cxloop.improvements import reminders as initiative_reminders
from cxloop.ops import heartbeat
from cxloop.outbox.delivery import send_due
from cxloop.privacy.services import apply_retention_daily
from cxloop.reports import weekly_digest
from cxloop.surveys.announce import announce_pending

logger = logging.getLogger(__name__)

# The worker's work (announcements, rules, e-mail) can wait a few hundred milliseconds; a person
# waiting for a page or an API client for its 201 cannot. On a machine the worker shares with
# the server (the demo, a small firm's one box) it yields the cores to the server's requests.
NICENESS = 10


def run_queued_tasks(verbosity: int) -> None:
    """Run the tasks due now on the configured queue, then return: the database's through
    django-tasks-db, Redis's through an rq worker in this process (no fork per task). On Redis
    each task is taken by one worker however many run; the one that holds rq's scheduler lock
    first moves the deferred tasks whose time has come onto the queue."""
    if settings.TASKS_BACKEND == "db":
        call_command(
            "db_worker", batch=True, reload=False, startup_delay=False, verbosity=verbosity
        )
        return
    queues = [django_rq.get_queue(name, job_class=Job) for name in settings.RQ_QUEUES]
    worker = SimpleWorker(queues, connection=queues[0].connection, job_class=Job)
    worker.work(burst=True, with_scheduler=True, logging_level="WARNING")


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

        while True:
            # Responses whose writer died before asking for their announcement (between its
            # commit and its on_commit) would otherwise wait for the next write: sweep them.
            try:
                announce_pending()
            except Exception:
                # A consumer failed: its batch stays unannounced for the next round, and the
                # rest of the worker's work goes on.
                logger.exception("announcing new responses failed")
            # Tasks next (they may queue e-mails), then one pass over the outbox. db_worker
            # handles SIGTERM itself while it runs a task; during the outbox pass SIGTERM lets
            # the messages being sent finish and puts the rest back, due at once.
            run_queued_tasks(verbosity)
            # Deadlines, escalations and the news they bring queue their e-mails before the
            # outbox pass sends them.
            run_due(timezone.now())
            initiative_reminders.run_due(timezone.now())
            # Monday morning's weekly digest, each person's own scorecard (issue #13); a failure
            # leaves the week unclaimed for the next round, and the rest of the work goes on.
            try:
                weekly_digest.send_due(timezone.now())
            except Exception:
                logger.exception("the weekly digest failed")
            for name in ("SIGINT", "SIGTERM"):
                signal.signal(getattr(signal, name), stopping)
            outcomes = send_due(stop=stop)
            # Retention rules and the audit log's purge, at most once a day (UTC).
            apply_retention_daily()
            heartbeat.beat()
            if outcomes and verbosity > 1:
                self.stdout.write(
                    "e-mail: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items()))
                )
            if batch or stop.wait(interval):
                return
