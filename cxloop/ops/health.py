"""``GET /healthz``: whether this cxloop can do its work, for a load balancer, an orchestrator or
a person: 200 when every check passes, 503 when one fails, with each check's figures in JSON.

The checks, each one cheap query or call, each timed:
- database: a ``SELECT 1``;
- queue: the task queue answers (the database's table of tasks, or Redis), with its backlog;
- worker: a worker finished a round lately (:mod:`cxloop.ops.heartbeat`);
- facts: how long the oldest completed response the fact store lacks has waited (by submission
  time: the store's last write against the index of submissions);
- outbox: how many e-mails are due and unsent, and since when the oldest;
- webhooks: the same for webhook deliveries, as figures only: a receiver that is down is its
  owner's outage, not this service's (the subscription is switched off after a day of failures);
- analytics: on Spark (``CXLOOP_ANALYTICS_ENGINE=spark``), the Spark Connect server answers a
  ``SELECT 1``; DuckDB runs in this process and has nothing to check.

A failing check names what failed but not why (no host names, no error texts): the log holds
those, and the endpoint answers anyone.
"""

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.utils import timezone

from cxloop.facts.queries import store_lag
from cxloop.insights.store import drop_stores, get_store
from cxloop.ops import heartbeat
from cxloop.ops.gauges import ready_tasks
from cxloop.outbox.queries import due_backlog
from cxloop.webhooks import queries as webhook_queries

logger = logging.getLogger(__name__)

# Past these the check fails: a worker beats every few seconds; the fact store is rewritten a few
# seconds after each write (CXLOOP_FACTS_DELAY); the outbox sends what is due every round.
WORKER_SILENT = dt.timedelta(minutes=2)
FACTS_BEHIND = dt.timedelta(minutes=15)
OUTBOX_BEHIND = dt.timedelta(minutes=15)


@dataclass
class Check:
    ok: bool
    figures: dict = field(default_factory=dict)


def database(now: dt.datetime) -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return Check(True)


def queue(now: dt.datetime) -> Check:
    ready = ready_tasks() or {}
    return Check(True, {"backend": settings.TASKS_BACKEND, "ready": sum(ready.values())})


def worker(now: dt.datetime) -> Check:
    last = heartbeat.last()
    if last is None:
        return Check(False, {"last_round": None})
    return Check(now - last <= WORKER_SILENT, {"seconds_since_round": _seconds(now - last)})


def facts(now: dt.datetime) -> Check:
    behind = store_lag(now)
    return Check(behind <= FACTS_BEHIND, {"lag_seconds": _seconds(behind)})


def outbox(now: dt.datetime) -> Check:
    count, oldest = due_backlog(now)
    behind = now - oldest if oldest else dt.timedelta(0)
    return Check(behind <= OUTBOX_BEHIND, {"due": count, "oldest_due_seconds": _seconds(behind)})


def webhooks(now: dt.datetime) -> Check:
    count, oldest = webhook_queries.due_backlog(now)
    behind = now - oldest if oldest else dt.timedelta(0)
    return Check(True, {"due": count, "oldest_due_seconds": _seconds(behind)})


def analytics(now: dt.datetime) -> Check:
    if settings.ANALYTICS_ENGINE == "spark":
        try:
            get_store().ping()
        except Exception:
            drop_stores()  # the next check opens a new session
            raise
    return Check(True, {"engine": settings.ANALYTICS_ENGINE})


CHECKS: dict[str, Callable[[dt.datetime], Check]] = {
    "database": database,
    "queue": queue,
    "worker": worker,
    "facts": facts,
    "outbox": outbox,
    "webhooks": webhooks,
    "analytics": analytics,
}


def report(now: dt.datetime | None = None) -> tuple[bool, dict]:
    """Run every check; (all passed, the JSON body). A check that raises fails; the others
    still run, so that one answer shows everything that is wrong."""
    now = now or timezone.now()
    body: dict[str, dict] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            result = check(now)
        except Exception:
            logger.exception("health check %s failed", name)
            result = Check(False, {"error": True})
        body[name] = {
            "ok": result.ok,
            **result.figures,
            "ms": round((time.perf_counter() - started) * 1000, 1),
        }
    healthy = all(part["ok"] for part in body.values())
    return healthy, {"status": "ok" if healthy else "fail", "checks": body}


def _seconds(span: dt.timedelta) -> float:
    return round(span.total_seconds(), 1)
