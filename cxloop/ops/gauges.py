"""The gauges computed when ``/metrics`` is read, one cheap indexed query each: what waits.

- ``cxloop_task_backlog{queue}``: tasks ready to run and not started. On the database queue, the
  rows of django-tasks-db that are READY and due (its partial index on READY rows); on Redis,
  the length of each rq queue (tasks deferred to later wait in rq's scheduled registry and are
  not counted until their time comes, as on the database).
- ``cxloop_outbox_due_messages`` and ``cxloop_outbox_oldest_due_seconds``: e-mails due and not
  sent, and how long the longest-waiting of them has been due (the index ``outbox_due``).
- ``cxloop_webhook_due_deliveries`` and ``cxloop_webhook_oldest_due_seconds``: the same for
  webhook deliveries to subscriptions that are on (the index ``webhook_due``).
- ``cxloop_facts_lag_seconds``: how long the oldest completed response the fact store lacks has
  waited — the first response submitted after the store's last write, by the index
  ``response_state_time`` (0 when the store has every response); the measure of ``/healthz``.
- ``cxloop_responses_unannounced``: completed responses not yet announced to their consumers
  (the fact store, the alert rules, enrichment, webhooks), by the partial index
  ``response_unannounced``. ``cxloop worker`` announces them each round, so it stays near the
  rate of submissions × a second; growing, it means no worker runs or its announcements fail
  (which its log says).

A gauge whose query fails is left out of the answer, and the failure logged, so that one broken
part does not hide the others.
"""

import datetime as dt
import logging

import django_rq
from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db.models import DBTaskResult

from cxloop.facts.queries import store_lag
from cxloop.ops.prometheus import GaugeMetricFamily
from cxloop.outbox.queries import due_backlog
from cxloop.surveys.queries import unannounced_responses
from cxloop.webhooks import queries as webhook_queries

logger = logging.getLogger(__name__)

DATABASE_BACKEND = "django_tasks_db.DatabaseBackend"
REDIS_BACKEND = "django_tasks_rq.RQBackend"
# Before any response: a store never written lacks every response since the first.


def ready_tasks() -> dict[str, int] | None:
    """Tasks ready to run and not started, by queue; None for a backend that keeps no queue
    (the immediate and dummy backends of tests)."""
    backend = task_backends["default"]
    path = settings.TASKS["default"]["BACKEND"]
    if path == DATABASE_BACKEND:
        ready = DBTaskResult.objects.ready().filter(backend_name=backend.alias)
        counts = dict(ready.values_list("queue_name").annotate(Count("pk")).order_by())
    elif path == REDIS_BACKEND:
        counts = {name: django_rq.get_queue(name).count for name in backend.queues}
    else:
        return None
    return {queue: counts.get(queue, 0) for queue in sorted(set(backend.queues) | set(counts))}


def task_backlog(now: dt.datetime) -> list[GaugeMetricFamily]:
    counts = ready_tasks()
    if counts is None:
        return []
    gauge = GaugeMetricFamily(
        "cxloop_task_backlog", "Tasks ready to run and not started, by queue.", labels=["queue"]
    )
    for queue, count in counts.items():
        gauge.add_metric([queue], count)
    return [gauge]


def outbox_backlog(now: dt.datetime) -> list[GaugeMetricFamily]:
    count, oldest = due_backlog(now)
    waited = (now - oldest).total_seconds() if oldest else 0.0
    return [
        GaugeMetricFamily("cxloop_outbox_due_messages", "E-mails due and not sent.", value=count),
        GaugeMetricFamily(
            "cxloop_outbox_oldest_due_seconds",
            "How long the longest-waiting due e-mail has been due.",
            value=waited,
        ),
    ]


def webhook_backlog(now: dt.datetime) -> list[GaugeMetricFamily]:
    count, oldest = webhook_queries.due_backlog(now)
    waited = (now - oldest).total_seconds() if oldest else 0.0
    return [
        GaugeMetricFamily(
            "cxloop_webhook_due_deliveries",
            "Webhook deliveries due and not delivered, to subscriptions that are on.",
            value=count,
        ),
        GaugeMetricFamily(
            "cxloop_webhook_oldest_due_seconds",
            "How long the longest-waiting due webhook delivery has been due.",
            value=waited,
        ),
    ]


def facts_lag(now: dt.datetime) -> list[GaugeMetricFamily]:
    return [
        GaugeMetricFamily(
            "cxloop_facts_lag_seconds",
            "How long the oldest completed response the fact store lacks has waited.",
            value=store_lag(now).total_seconds(),
        )
    ]


def announcement_backlog(now: dt.datetime) -> list[GaugeMetricFamily]:
    return [
        GaugeMetricFamily(
            "cxloop_responses_unannounced",
            "Completed responses not yet announced to their consumers.",
            value=unannounced_responses().count(),
        )
    ]


GAUGES = (task_backlog, outbox_backlog, webhook_backlog, facts_lag, announcement_backlog)


class WaitingWork:
    """A Prometheus collector: the gauges above, computed at each scrape."""

    def collect(self):
        now = timezone.now()
        for gauges in GAUGES:
            try:
                families = gauges(now)
            except Exception:
                logger.exception("the metric %s could not be computed", gauges.__name__)
                continue
            yield from families
