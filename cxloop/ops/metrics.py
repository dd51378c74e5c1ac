"""Prometheus metrics of every cxloop process of a machine, at ``GET /metrics``.

cxloop runs as several processes (granian's workers, ``cxloop worker``), each counting what it
does; prometheus_client's multiprocess mode has each write its values to its own files in one
directory (``$CXLOOP_DATA_DIR/metrics``), and ``/metrics`` adds up the files of all of them.
``cxloop serve`` removes, at start, the files of processes that have ended
(:func:`forget_ended_processes`).

Counted as they happen:
- ``cxloop_http_requests_total{method, route, status}`` and
  ``cxloop_http_request_duration_seconds{method, route}``: ``route`` is the URL pattern's name
  (``survey_detail``, ``api:get_survey``), never the path, so that the series stay few (the
  API's methods on one path share the name of its first: ``POST api:list_responses`` is a
  submission); ``status`` is the class (``2xx``). The time is until the response is handed to
  the server (for a streamed export, until its stream begins).
- ``cxloop_tasks_finished_total{task, outcome}``, ``cxloop_task_wait_seconds{task}`` (from when
  a task was due — its ``run_after``, else when it was enqueued — to its start) and
  ``cxloop_task_run_seconds{task}``, from the task queue's signals, on the database queue and
  on Redis alike. On Redis a failed task is tried again (:mod:`cxloop.ops.rq_queue`): each
  failed try counts as one ``failed``.

Computed when read: what waits (:mod:`cxloop.ops.gauges`).

Who may read: this machine (a request that came through a proxy does not count as this
machine's, since the proxy is), the addresses of ``CXLOOP_METRICS_ALLOW``, and whoever sends
``Authorization: Bearer <CXLOOP_METRICS_TOKEN>``; anyone else gets the site's 404.
"""

import datetime as dt
import hmac
import os
import time
from pathlib import Path

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from django_tasks.signals import task_finished, task_started

from cxloop.lib import networks
from cxloop.ops import gauges
from cxloop.ops.logs import never_raises
from cxloop.ops.prometheus import (
    CONTENT_TYPE_PLAIN_0_0_4,
    DIRECTORY,
    CollectorRegistry,
    Counter,
    Histogram,
    MultiProcessCollector,
    generate_latest,
)

# Methods outside these are counted as "other", so that a client's invented ones add no series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# A task waits for the worker's next round (about a second) or for a deferred time (minutes),
# and runs from milliseconds (an e-mail's news) to minutes (a fact-store rebuild).
TASK_WAIT_BUCKETS = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
TASK_RUN_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)

HTTP_REQUESTS = Counter(
    "cxloop_http_requests",
    "HTTP requests answered, by method, route (the URL pattern's name) and status class.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "cxloop_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route.",
    ["method", "route"],
)
TASKS_FINISHED = Counter(
    "cxloop_tasks_finished", "Tasks finished, by task and outcome.", ["task", "outcome"]
)
TASK_WAIT = Histogram(
    "cxloop_task_wait_seconds",
    "From when a task was due (its run_after, else its enqueueing) to its start.",
    ["task"],
    buckets=TASK_WAIT_BUCKETS,
)
TASK_RUN = Histogram(
    "cxloop_task_run_seconds", "How long a task ran.", ["task"], buckets=TASK_RUN_BUCKETS
)

# A request with any of these came through a proxy, even one on this machine (from loopback).
PROXY_HEADERS = (
    "HTTP_X_FORWARDED_FOR",
    "HTTP_FORWARDED",
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_REAL_IP",
)


def route_of(request: HttpRequest) -> str:
    """The name of the URL pattern that answered (namespaced; the view's dotted path for a
    pattern without a name); ``static`` for whitenoise's files, ``unmatched`` for a path that
    matched no pattern or a request answered before the URL was resolved (a redirect to https)."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name
    if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "static"
    return "unmatched"


@never_raises
def count_request(request: HttpRequest, status: int, seconds: float) -> None:
    method = request.method if request.method in METHODS else "other"
    route = route_of(request)
    HTTP_REQUESTS.labels(method, route, f"{status // 100}xx").inc()
    HTTP_DURATION.labels(method, route).observe(seconds)


# Tasks ---------------------------------------------------------------------------------------

# task id → when it started (perf_counter), in the process that runs it: rq's signal of a task's
# end comes before its end time is recorded, so both queues are timed here alike.
_started: dict[str, float] = {}


@never_raises
def task_began(sender, task_result, **kwargs) -> None:
    _started[task_result.id] = time.perf_counter()
    due = task_result.task.run_after or task_result.enqueued_at
    if due is not None and task_result.started_at is not None:
        waited = (_aware(task_result.started_at) - _aware(due)).total_seconds()
        TASK_WAIT.labels(task_result.task.module_path).observe(max(waited, 0.0))


@never_raises
def task_ended(sender, task_result, **kwargs) -> None:
    name = task_result.task.module_path
    TASKS_FINISHED.labels(name, str(task_result.status).lower()).inc()
    began = _started.pop(task_result.id, None)
    if began is not None:
        TASK_RUN.labels(name).observe(time.perf_counter() - began)


def _aware(moment):
    """rq keeps its times in UTC without saying so."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def connect_receivers() -> None:
    """Follow the task queue's signals (idempotent: each receiver is connected once)."""
    task_started.connect(task_began, dispatch_uid="cxloop.ops.metrics.started")
    task_finished.connect(task_ended, dispatch_uid="cxloop.ops.metrics.finished")


# Reading -------------------------------------------------------------------------------------


def may_read(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token is not None:
        sent = request.headers.get("Authorization", "").encode()
        if hmac.compare_digest(sent, f"Bearer {token}".encode()):
            return True
    address = request.META.get("REMOTE_ADDR", "")
    proxied = any(header in request.META for header in PROXY_HEADERS)
    return (networks.is_loopback(address) and not proxied) or networks.is_in(
        address, settings.METRICS_ALLOW
    )


@require_safe
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not may_read(request):
        raise Http404
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(gauges.WaitingWork())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_PLAIN_0_0_4)


def forget_ended_processes() -> list[Path]:
    """Remove the files of processes no longer running (their names end in ``_<pid>.db``); the
    files removed. For ``cxloop serve`` at start, before its workers write: a live process's
    file (a ``cxloop worker`` started on its own) is kept, since removing it would lose its
    counts for as long as it runs."""
    removed = []
    for path in DIRECTORY.glob("*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not _running(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True
