"""How the fact store reads the database: a query's result as one Arrow array per column.

On PostgreSQL the rows come through ADBC (``adbc-driver-postgresql``): libpq's binary results
decoded straight into Arrow record batches, without a Python object per value, which is what
made the ORM's path slow at scale (``bench/bench_facts_rebuild.py``). ADBC reads through a
connection of its own, so it cannot see what the caller's transaction has written and not yet
committed; inside a transaction (a test's, or a caller's ``atomic`` block) and on SQLite the
rows come through Django's cursor, converted to Arrow a chunk of ``CHUNK_SIZE`` rows at a time
so that only one chunk of Python objects is alive.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from urllib.parse import quote, urlencode

import pyarrow as pa
import pyarrow.compute as pc
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet

CHUNK_SIZE = 10_000

# Django's placeholders; a literal percent sign in its SQL is written "%%".
_PLACEHOLDER = re.compile(r"%(s|%)")


def columns(rows: QuerySet, types: dict[str, pa.DataType]) -> dict[str, pa.Array]:
    """The result of ``rows`` (a ``values_list`` of as many fields as ``types`` names), one
    array per name in ``types``' order, each of its type."""
    return start(rows, types, ahead=False).result()


def _compiled(rows: QuerySet) -> tuple[str, tuple] | None:
    """The query's SQL and parameters; None when Django knows it selects nothing (e.g. a
    filter ``IN ()``: no survey in the store)."""
    try:
        return rows.query.sql_with_params()
    except EmptyResultSet:
        return None


def _empty(types: dict[str, pa.DataType]) -> dict[str, pa.Array]:
    return {name: pa.array([], type=type_) for name, type_ in types.items()}


def _check(rows: QuerySet, types: dict[str, pa.DataType]) -> None:
    selected = (*rows.query.values_select, *rows.query.annotation_select)
    if len(selected) != len(types):
        raise ValueError(f"the query selects {selected}, not {list(types)}")


class Pending:
    """A read :func:`start` began: :meth:`result` waits for its columns."""

    def __init__(self, compute: Callable[[], dict[str, pa.Array]], *, now: bool):
        self._future = _READER.submit(compute) if now else None
        self._compute = compute

    def result(self) -> dict[str, pa.Array]:
        return self._future.result() if self._future is not None else self._compute()

    def cancel(self) -> None:
        """Not wanted any more: dropped if it has not begun (one that runs finishes)."""
        if self._future is not None:
            self._future.cancel()


def start(rows: QuerySet, types: dict[str, pa.DataType], *, ahead: bool = True) -> Pending:
    """:func:`columns` of ``rows``, begun now in a thread of its own when it reads through ADBC
    and ``ahead`` (the database and the driver work while the caller turns the previous read
    into files: the two cores of a small server both busy), else when its result is asked for."""
    _check(rows, types)
    if not through_adbc():
        return Pending(lambda: _by_cursor(rows, types), now=False)
    compiled = _compiled(rows)  # here: Django's connection is per thread
    if compiled is None:
        return Pending(lambda: _empty(types), now=False)
    uri = _uri()
    return Pending(lambda: _fetch(uri, *compiled, types), now=ahead)


# One thread: reads run one after another, in the order they were started.
_READER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cxloop-facts-read")


def through_adbc() -> bool:
    """Whether :func:`columns` reads through ADBC now (PostgreSQL, outside a transaction)."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


# Idle ADBC connections by URI: a refresh reads four or five times, and each new connection
# costs about 70 ms (the driver's start and libpq's handshake). Taken by one read at a time;
# closed by :func:`close_idle` when a write ends, so that none outlives it.
_IDLE: dict[str, list] = {}
_IDLE_LOCK = threading.Lock()


def _fetch(uri: str, sql: str, params, types: dict[str, pa.DataType]) -> dict[str, pa.Array]:
    import adbc_driver_postgresql.dbapi as adbc

    with _IDLE_LOCK:
        idle = _IDLE.get(uri)
        link = idle.pop() if idle else None
    link = link if link is not None else adbc.connect(uri)
    try:
        with closing(link.cursor()) as cursor:
            cursor.execute(_numbered(sql), parameters=params)
            table = cursor.fetch_arrow_table()
        link.rollback()  # ends the read's snapshot: the next read sees what was committed since
    except BaseException:
        link.close()  # in an unknown state: not reused
        raise
    with _IDLE_LOCK:
        _IDLE.setdefault(uri, []).append(link)
    return {
        name: pc.cast(table.column(i).combine_chunks(), type_)
        for i, (name, type_) in enumerate(types.items())
    }


def close_idle() -> None:
    """Close the idle ADBC connections (at the end of a write), once the read-ahead thread has
    finished what it was reading (a write that failed cannot stop a read begun)."""
    _READER.submit(lambda: None).result()
    with _IDLE_LOCK:
        links = [link for idle in _IDLE.values() for link in idle]
        _IDLE.clear()
    for link in links:
        link.close()


def _by_cursor(rows: QuerySet, types: dict[str, pa.DataType]) -> dict[str, pa.Array]:
    parts: dict[str, list[pa.Array]] = {name: [] for name in types}
    for chunk in _chunks(rows.iterator(chunk_size=CHUNK_SIZE)):
        for (name, type_), values in zip(types.items(), zip(*chunk, strict=True), strict=True):
            parts[name].append(pa.array(values, type=type_))
    empty = _empty(types)
    return {
        name: pa.concat_arrays(arrays) if arrays else empty[name] for name, arrays in parts.items()
    }


def _chunks(rows: Iterator[tuple]) -> Iterator[list[tuple]]:
    while chunk := list(itertools.islice(rows, CHUNK_SIZE)):
        yield chunk


def _numbered(sql: str) -> str:
    """Django's ``%s`` placeholders as PostgreSQL's ``$1``, ``$2``, …"""
    numbers = itertools.count(1)
    return _PLACEHOLDER.sub(lambda m: "%" if m.group(1) == "%" else f"${next(numbers)}", sql)


def _uri() -> str:
    """A libpq URI of the database Django's connection uses (the test database in tests)."""
    s = connection.settings_dict
    user = quote(s["USER"] or "", safe="")
    password = quote(s["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host, port = s["HOST"] or "", f":{s['PORT']}" if s["PORT"] else ""
    query = {"connect_timeout": s.get("OPTIONS", {}).get("connect_timeout", 5)}
    if host.startswith("/"):  # a Unix socket's directory (its name holds the port)
        query["host"], host, port = host, "", ""
        if s["PORT"]:
            query["port"] = s["PORT"]
    elif ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"postgresql://{credentials}{host}{port}/{quote(s['NAME'], safe='')}?{urlencode(query)}"
