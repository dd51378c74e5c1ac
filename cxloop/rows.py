"""Plain INSERTs of model instances, for the few write paths where the ORM's query compiler
costs more than the database (the submission path: see bench/README.md); statements prepared
before the transaction that runs them, for writes made while SQLite's one write lock keeps the
API waiting (the alert rules' attachments, the announcement's mark); and plain reads of a
query's rows in batches, for the few read paths that go through millions (exports).

Values are prepared exactly as the ORM prepares them (``pre_save`` then
``get_db_prep_save``), so defaults, ``auto_now_add`` and JSON columns come out the same; the
statements are built once per model and backend.
"""

import datetime as dt
from collections.abc import Iterator, Sequence
from functools import cache
from typing import NamedTuple

from django.db import connection, models
from django.db.models.sql import UpdateQuery


@cache
def _insert_sql(model: type[models.Model], vendor: str) -> tuple[str, tuple[models.Field, ...]]:
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if not f.primary_key)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({marks})"
    return sql, fields


def _values(instance: models.Model, fields: Sequence[models.Field]) -> list:
    return [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in fields]


def insert(instance: models.Model) -> None:
    """INSERT ``instance`` and set its primary key, as ``save(force_insert=True)`` would (no
    signals are sent; the caller's transaction applies)."""
    sql, fields = _insert_sql(type(instance), connection.vendor)
    pk = type(instance)._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(
            f"{sql} RETURNING {connection.ops.quote_name(pk.column)}", _values(instance, fields)
        )
        setattr(instance, pk.attname, cursor.fetchone()[0])
    instance._state.adding = False


def insert_many(instances: Sequence[models.Model]) -> None:
    """INSERT ``instances`` of one model in one ``executemany``; their primary keys stay unset
    (for rows that are written and replied with, never edited in the same request)."""
    if not instances:
        return
    run(inserting(instances))
    for instance in instances:
        instance._state.adding = False


class Statement(NamedTuple):
    """SQL with one list of parameters per execution, ready for :func:`run`."""

    sql: str
    params: list[list]


def inserting(instances: Sequence[models.Model]) -> Statement:
    """The INSERT of ``instances`` (one model, at least one), their values prepared now."""
    sql, fields = _insert_sql(type(instances[0]), connection.vendor)
    return Statement(sql, [_values(instance, fields) for instance in instances])


def updating(queryset: models.QuerySet, **values) -> Statement:
    """``queryset.update(**values)`` compiled now (no signals, no related updates)."""
    query = queryset.query.chain(UpdateQuery)
    query.add_update_values(values)
    sql, params = query.get_compiler(queryset.db).as_sql()
    return Statement(sql, [list(params)])


def run_returning(statement: Statement, column: str) -> list:
    """Execute a prepared UPDATE once, and give ``column`` of each row it changed."""
    (params,) = statement.params
    with connection.cursor() as cursor:
        cursor.execute(f"{statement.sql} RETURNING {connection.ops.quote_name(column)}", params)
        return [value for (value,) in cursor.fetchall()]


def run(statement: Statement) -> None:
    """Execute a prepared statement, once per list of parameters (the caller's transaction
    applies)."""
    with connection.cursor() as cursor:
        if len(statement.params) == 1:
            cursor.execute(statement.sql, statement.params[0])
        else:
            cursor.executemany(statement.sql, statement.params)


def value_batches(queryset: models.QuerySet, size: int) -> Iterator[list[tuple]]:
    """The rows of ``queryset`` (a ``values_list`` one) as the database gives them, ``size`` at
    a time, from one query: a server-side cursor on PostgreSQL, so that neither side holds
    them all. Without the ORM's per-row work (a million rows: about 2 s less); the moments
    SQLite gives without a time zone are in UTC, as stored, and are given it."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, params = compiler.as_sql()
    moments = [
        i
        for i, (column, _sql, _alias) in enumerate(compiler.select)
        if column.output_field.get_internal_type() == "DateTimeField"
    ]
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(size):
            if moments and connection.vendor == "sqlite":
                rows = [_aware(row, moments) for row in rows]
            yield rows


def _aware(row: tuple, moments: list[int]) -> tuple:
    row = list(row)
    for i in moments:
        if row[i] is not None:
            row[i] = row[i].replace(tzinfo=dt.UTC)
    return tuple(row)
