"""Text search in any letter case, in any alphabet, on either database.

Django's ``icontains`` is ``LIKE`` on SQLite, which folds the case of ASCII letters only: «волж»
would not find «Волжский Лизинг». PostgreSQL's ``UPPER``/``LOWER`` know every alphabet, so there
:class:`Folded` is ``LOWER``; on SQLite it is a Python function registered on each connection
(about a microsecond a row, as cheap as the scan ``LIKE '%…%'`` makes anyway).
"""

from django.db import connections
from django.db.backends.signals import connection_created
from django.db.models import Func, Q, TextField

__all__ = ["Folded", "contains_text"]

_SQLITE_LOWER = "cx_lower"


def _lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


def _register(connection) -> None:
    if connection.vendor == "sqlite" and connection.connection is not None:
        connection.connection.create_function(_SQLITE_LOWER, 1, _lower, deterministic=True)


def _on_connection(sender, connection, **kwargs) -> None:
    _register(connection)


connection_created.connect(_on_connection, dispatch_uid="cxloop.search")
for _connection in connections.all(initialized_only=True):
    _register(_connection)


class Folded(Func):
    """A text column in lower case, whatever its alphabet."""

    function = "LOWER"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function=_SQLITE_LOWER, **extra)


def contains_text(queryset, text: str, *fields: str):
    """``queryset`` narrowed to rows where any of ``fields`` holds ``text`` in any letter case."""
    needle = text.lower()
    aliases = {f"_folded_{field}": Folded(field) for field in fields}
    condition = Q()
    for alias in aliases:
        condition |= Q(**{f"{alias}__contains": needle})
    return queryset.alias(**aliases).filter(condition)
