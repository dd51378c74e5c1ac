"""A deadline for every request, so that no request holds a worker longer than
``settings.REQUEST_TIMEOUT`` seconds (``CXLOOP_REQUEST_TIMEOUT``).

:class:`RequestDeadlineMiddleware` sets the deadline when a request comes in and clears it when
the response leaves. While it is set:

- SQLite runs a progress handler (installed on every connection when it opens) that interrupts
  the statement running when the deadline passes;
- PostgreSQL has ``statement_timeout`` set on the request's connection;
- a statement asked for after the deadline is refused before it reaches the database.

A request stopped so answers 503 with a message (JSON ``{"detail": …}`` under ``/api/``, a page
otherwise), never 500 and never a hang. Nothing outside a request has a deadline: the task
worker, ``cxloop`` commands and the demo build run as long as their work takes.
"""

import contextvars
import logging
import sqlite3
import time
from contextlib import ExitStack

from django.conf import settings
from django.db import connections
from django.db.backends.signals import connection_created
from django.db.utils import DatabaseError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from psycopg.pq import TransactionStatus

log = logging.getLogger(__name__)

# Monotonic seconds by which the current request must be done; None outside a request. A
# context variable, so that each thread (granian's blocking thread, the test client) has its own.
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "cxloop_request_deadline", default=None
)

# SQLite calls the handler every this many virtual-machine steps: about every 0.1 ms, which
# costs well under 1 % of a query and stops one within a millisecond of its deadline.
PROGRESS_STEPS = 10_000


class RequestTimeout(OperationalError):
    """The request's deadline passed before a statement could start."""


def deadline() -> float | None:
    """The current request's deadline in ``time.monotonic()`` seconds; None outside a request."""
    return _deadline.get()


def past_deadline() -> bool:
    deadline = _deadline.get()
    return deadline is not None and time.monotonic() > deadline


def _interrupt_if_late() -> int:
    # Non-zero makes SQLite stop the statement with "interrupted".
    return 1 if past_deadline() else 0


def _guard_sqlite(wrapper) -> None:
    raw = wrapper.connection
    if raw is not None and getattr(wrapper, "_cxloop_guarded", None) is not raw:
        raw.set_progress_handler(_interrupt_if_late, PROGRESS_STEPS)
        wrapper._cxloop_guarded = raw


def _on_connection_created(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        _guard_sqlite(connection)


connection_created.connect(_on_connection_created, dispatch_uid="cxloop_request_deadline")


# Ending a transaction is never refused: a rollback refused would leave it broken.
_TRANSACTION_CONTROL = ("ROLLBACK", "RELEASE", "SAVEPOINT", "COMMIT")


def _refuse_when_late(execute, sql, params, many, context):
    if past_deadline() and not sql.lstrip().upper().startswith(_TRANSACTION_CONTROL):
        raise RequestTimeout("the request's time limit passed")
    return execute(sql, params, many, context)


def _limit_statements(wrapper, seconds: float, stack: ExitStack) -> None:
    """Sets ``statement_timeout`` on a PostgreSQL connection for the request.

    Outside a transaction the limit stays on the connection, set once (a SET is a round trip):
    every later statement on a server's connection belongs to a request. Inside a caller's
    transaction (a test's, a view called from a command) the caller's own limit comes back when
    the request ends, so that its later work — the deferred foreign-key checks at its commit,
    which cover everything the transaction wrote — is not cut short by the request's limit.
    """
    wrapper.ensure_connection()
    wanted = (wrapper.connection, max(1, round(seconds * 1000)))
    if wrapper.in_atomic_block:
        callers_limit = _set_statement_timeout(wrapper, f"{wanted[1]}")
        stack.callback(_restore_limit, wrapper, callers_limit)
    elif getattr(wrapper, "_cxloop_statement_timeout", None) != wanted:
        _set_statement_timeout(wrapper, f"{wanted[1]}")
        wrapper._cxloop_statement_timeout = wanted


def _limit_when_reachable(wrapper, seconds: float, stack: ExitStack) -> None:
    """:func:`_limit_statements`, unless the database cannot be reached: then the view answers
    for itself (the API and ``/healthz`` with a 503), with no statement to limit."""
    try:
        _limit_statements(wrapper, seconds, stack)
    except OperationalError:
        log.warning("the database cannot be reached: no statement limit for this request")


def _set_statement_timeout(wrapper, limit: str) -> str:
    """Sets the connection's ``statement_timeout`` and returns the one it had, in a round trip."""
    with wrapper.cursor() as cursor:
        cursor.execute(  # the FROM is read before the new value is set
            "SELECT was.setting, set_config('statement_timeout', %s, false) "
            "FROM (SELECT current_setting('statement_timeout') AS setting) AS was",
            [limit],
        )
        return cursor.fetchone()[0]


def _restore_limit(wrapper, limit: str) -> None:
    # Only in a transaction still usable: an aborted one (a statement stopped at the deadline
    # aborts it) refuses every statement until its rollback, which undoes the SET anyway; a
    # broken connection has nothing left to restore. The response is made: a failure here is
    # logged, never turned into an error page.
    raw = wrapper.connection
    if raw is None or raw.info.transaction_status != TransactionStatus.INTRANS:
        return
    try:
        _set_statement_timeout(wrapper, limit)
    except DatabaseError:
        log.exception("the caller's statement_timeout could not be restored")


def is_timeout(error: BaseException) -> bool:
    """Whether ``error`` is a statement stopped by the request's deadline."""
    if isinstance(error, RequestTimeout):
        return True
    if not isinstance(error, OperationalError):
        return False
    cause = error.__cause__
    if isinstance(cause, sqlite3.OperationalError) and "interrupted" in str(cause):
        return True
    return type(cause).__name__ == "QueryCanceled"  # psycopg: canceling statement due to …


class RequestDeadlineMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        seconds = settings.REQUEST_TIMEOUT
        if not seconds:
            return self.get_response(request)
        token = _deadline.set(time.monotonic() + seconds)
        try:
            with ExitStack() as stack:
                for wrapper in connections.all():
                    if wrapper.vendor == "sqlite":
                        _guard_sqlite(wrapper)  # opened before this module was loaded
                    elif wrapper.vendor == "postgresql":
                        _limit_when_reachable(wrapper, seconds, stack)
                    stack.enter_context(wrapper.execute_wrapper(_refuse_when_late))
                return self.get_response(request)
        finally:
            _deadline.reset(token)

    def process_exception(self, request: HttpRequest, exception: Exception):
        from cxloop.facts.store import FactStoreError
        from cxloop.insights.store import drop_stores, engine_failed

        late = past_deadline()
        if isinstance(exception, FactStoreError):
            # After an upgrade that changed its schema, until the rebuild migrate enqueued is
            # done (cxloop.facts.apps), or a store damaged on disk.
            log.error("the fact store cannot be read", exc_info=exception)
            return facts_unavailable_response(request)
        if engine_failed(exception):
            log.error("the analytics engine failed", exc_info=exception)
            drop_stores()
            if not late:
                return engine_unavailable_response(request)
        elif not is_timeout(exception):
            return None
        _deadline.set(None)  # the answer's own page may read the database
        return timeout_response(request)


def timeout_response(request: HttpRequest) -> HttpResponse:
    message = _(
        "This request took longer than %(seconds)s seconds and was stopped. Narrow it "
        "(a shorter period, a filter) or try again later."
    ) % {"seconds": f"{settings.REQUEST_TIMEOUT:g}"}
    return _unavailable(request, _("Taking too long"), message)


def engine_unavailable_response(request: HttpRequest) -> HttpResponse:
    """The analytics engine (a Spark Connect server) did not answer: 503, not 500."""
    message = _(
        "The analytics engine does not answer just now, so this page cannot be computed. "
        "Try again in a minute; if it persists, tell your administrator."
    )
    return _unavailable(request, _("Temporarily unavailable"), message)


def facts_unavailable_response(request: HttpRequest) -> HttpResponse:
    """The fact store cannot be read (being rebuilt after an upgrade): 503, not 500."""
    message = _(
        "The analytics data is being prepared (after an upgrade, this takes a few minutes), so "
        "this page cannot be computed yet. Try again later; if it persists, tell your "
        "administrator."
    )
    return _unavailable(request, _("Temporarily unavailable"), message)


def _unavailable(request: HttpRequest, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": message}, status=503, json_dumps_params={"ensure_ascii": False}
        )
    else:
        response = render(
            request, "request_timeout.html", {"title": title, "message": message}, status=503
        )
    response["Retry-After"] = "30"
    return response
