"""Plain INSERTs of model instances, for the few write paths where the ORM's query compiler
costs more than the database (the submission path: see bench/README.md).

Values are prepared exactly as the ORM prepares them (``pre_save`` then
``get_db_prep_save``), so defaults, ``auto_now_add`` and JSON columns come out the same; the
statements are built once per model and backend.
"""

from collections.abc import Sequence
from functools import cache

from django.db import connection, models


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
    sql, fields = _insert_sql(type(instances[0]), connection.vendor)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [_values(instance, fields) for instance in instances])
    for instance in instances:
        instance._state.adding = False
