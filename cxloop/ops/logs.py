"""Structured logs: one JSON object a line (``CXLOOP_LOG_FORMAT=json``), each carrying the id of
the request it belongs to, also when a task enqueued by that request writes it in the worker.

Every ``logging.getLogger(…)`` of cxloop and of its libraries keeps working unchanged: the
handler's formatter is structlog's :class:`~structlog.stdlib.ProcessorFormatter`, which turns
any standard log record into the JSON line, and merges in what is bound to the current context
(structlog's context variables): ``request_id`` in a request; ``request_id``, ``task_id`` and
``task`` while a task runs. structlog rather than a formatter of our own because it is the
dependency ARCHITECTURE.md chose for this, its context variables are what any future
``structlog.get_logger()`` call shares, and it already renders exceptions and times.

The request id crosses to the worker through the cache (files on one machine, Redis where
configured): on ``task_enqueued`` the id is kept under the task's id for a day; on
``task_started`` the worker reads it (and drops it: the cache then holds only the ids of tasks
still waiting, so a day of tasks cannot crowd out the cache's other entries) and binds it; on
``task_finished`` the binding is undone.
"""

import datetime as dt
import functools
import logging
import re
import uuid

import structlog
from django.core.cache import cache
from django.core.signals import request_finished
from django_tasks.signals import task_enqueued, task_finished, task_started

logger = logging.getLogger(__name__)

# What an incoming X-Request-ID may be to be kept (a proxy's or a client's id, so that their
# logs and ours meet): a short token that cannot break a log line or a header.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
TASK_REQUEST_KEPT = 24 * 3600  # seconds; a task that waits longer logs without its request's id
FIRST_FIELDS = ("time", "level", "logger", "message")


def request_id_from(header: str | None) -> str:
    """The incoming ``X-Request-ID`` when it is a sane token, else a new random id."""
    if header is not None and REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def bind_request_id(request_id: str) -> None:
    """``request_id`` on every log line of this thread until the request is finished."""
    structlog.contextvars.bind_contextvars(request_id=request_id)


def unbind_request_id(sender, **kwargs) -> None:
    """On ``request_finished``, when the server has sent the response and closed it: only then,
    since Django logs a 4xx answer ("Not Found: /…") after the last middleware has returned."""
    structlog.contextvars.unbind_contextvars("request_id")


def current_request_id() -> str | None:
    return structlog.contextvars.get_contextvars().get("request_id")


# The JSON lines ------------------------------------------------------------------------------


def _record_time(logger, method_name: str, event_dict: dict) -> dict:
    """When the record was made (not when formatted), ISO 8601 in UTC, to the millisecond."""
    created = event_dict["_record"].created
    event_dict["time"] = dt.datetime.fromtimestamp(created, dt.UTC).isoformat(
        timespec="milliseconds"
    )
    return event_dict


def _in_order(logger, method_name: str, event_dict: dict) -> dict:
    """``message`` for structlog's ``event``, and the fields a reader looks for first, first."""
    event_dict["message"] = event_dict.pop("event")
    first = {key: event_dict.pop(key) for key in FIRST_FIELDS if key in event_dict}
    return first | event_dict


class JsonFormatter(structlog.stdlib.ProcessorFormatter):
    """Formats every standard log record as one JSON object: ``time``, ``level``, ``logger``,
    ``message``, then what the context holds (``request_id``, ``task_id``, ``task``) and, for a
    record with an exception, ``exception``: its traceback as one string."""

    def __init__(self, *args, **kwargs):
        super().__init__(
            *args,
            foreign_pre_chain=[
                structlog.contextvars.merge_contextvars,
                structlog.stdlib.add_log_level,
                structlog.stdlib.add_logger_name,
                _record_time,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _in_order,
                # Russian messages stay readable; the stream is UTF-8.
                structlog.processors.JSONRenderer(ensure_ascii=False),
            ],
            **kwargs,
        )


# The request id in tasks ---------------------------------------------------------------------


def never_raises(receiver):
    """A receiver whose failure is logged, never raised: the task queue sends its signals by
    plain ``send``, so an error here would fail the enqueue or the task itself, and a request
    must not fail for want of being counted."""

    @functools.wraps(receiver)
    def robust(*args, **kwargs):
        try:
            receiver(*args, **kwargs)
        except Exception:
            logger.exception("%s failed", receiver.__qualname__)

    return robust


def _cache_key(task_id: str) -> str:
    return f"task-request-id:{task_id}"


# task id → the context tokens its binding replaced, to restore them when it finishes: with the
# immediate backend a task runs inside the request, whose id must outlive the task.
_bindings: dict[str, dict] = {}


@never_raises
def remember_request_id(sender, task_result, **kwargs) -> None:
    """On ``task_enqueued``: keep the current request's id (or task's) for the task."""
    request_id = current_request_id()
    if request_id is not None:
        cache.set(_cache_key(task_result.id), request_id, TASK_REQUEST_KEPT)


@never_raises
def bind_task(sender, task_result, **kwargs) -> None:
    """On ``task_started``: bind the task's id and name, and its request's id if it had one."""
    key = _cache_key(task_result.id)
    request_id = cache.get(key) or current_request_id()
    cache.delete(key)
    context = {"task_id": task_result.id, "task": task_result.task.module_path}
    if request_id is not None:
        context["request_id"] = request_id
    _bindings[task_result.id] = structlog.contextvars.bind_contextvars(**context)


@never_raises
def unbind_task(sender, task_result, **kwargs) -> None:
    """On ``task_finished``: put the context back as it was before the task started."""
    tokens = _bindings.pop(task_result.id, None)
    if tokens is not None:
        structlog.contextvars.reset_contextvars(**tokens)


def connect_receivers() -> None:
    """Follow the end of requests and the task queue's signals (idempotent: each receiver is
    connected once)."""
    request_finished.connect(unbind_request_id, dispatch_uid="cxloop.ops.logs.request_finished")
    task_enqueued.connect(remember_request_id, dispatch_uid="cxloop.ops.logs.enqueued")
    task_started.connect(bind_task, dispatch_uid="cxloop.ops.logs.started")
    task_finished.connect(unbind_task, dispatch_uid="cxloop.ops.logs.finished")
