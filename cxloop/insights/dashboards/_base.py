"""What the typed queries over the fact store — the dashboards and the journey map
(:class:`cxloop.insights.journey.JourneyMapQuery`) — share: the scoped tables, validation,
running and caching."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir

from cxloop.analytics import MIN_N  # noqa: F401  (re-exported: every page's one threshold)
from cxloop.insights.store import FactStore, FactTables, Scope, get_store, run_cached

Rows = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Scoped:
    """The store's tables narrowed to a scope: ``responses`` and ``answers`` by
    :meth:`Scope.filter` (period, teams, segment); ``customers`` by the scope's teams (the
    owner's team now) and segment (membership now)."""

    facts: FactTables
    responses: ir.Table
    answers: ir.Table
    customers: ir.Table

    @classmethod
    def of(cls, facts: FactTables, scope: Scope) -> Scoped:
        customers, segments = facts.customers, facts.segments
        # Scope.filter is written for the monthly tables (it reads the partition key ``month``),
        # so the customers' team and segment predicates are applied here.
        predicates = []
        if scope.team_ids is not None:
            predicates.append(customers.team_id.isin(list(scope.team_ids)))
        if scope.segment_id is not None:
            members = segments.filter(segments.segment_id == scope.segment_id).customer_id
            predicates.append(customers.customer_id.isin(members))
        return cls(
            facts=facts,
            responses=scope.filter(facts.responses, segments),
            answers=scope.filter(facts.answers, segments),
            customers=customers.filter(*predicates) if predicates else customers,
        )

    @property
    def segments(self) -> ir.Table:
        return self.facts.segments


class DashboardQuery:
    """Base of the typed queries over the fact store — every dashboard, and the journey map
    (:class:`cxloop.insights.journey.JourneyMapQuery`) — for frozen dataclasses with a
    ``scope``: :meth:`to_query` builds the Ibis expressions from the :class:`FactTables` of any
    backend (DuckDB or Spark), :meth:`calculate` runs them (:meth:`read`) and hands their small
    results to :mod:`cxloop.analytics` (:meth:`assemble`), :meth:`run` caches the result in
    Django's cache under the data version, the store and every parameter.

    An empty store or an empty scope gives an empty result of the same type, not an exception.
    A query whose second scan depends on what the first returned (the journey map sizes its
    driver sample from its histogram) extends :meth:`read`; one whose results are large keeps
    them as Arrow tables by overriding :meth:`fetch`.
    """

    scope: Scope

    def check_scope(self) -> None:
        if not isinstance(self.scope, Scope):
            raise ValueError(f"scope must be a cxloop.insights.store.Scope; got {self.scope!r}")

    def to_query(self, tables: FactTables) -> Mapping[str, ir.Table]:
        """The named expressions whose results :meth:`calculate` works from."""
        raise NotImplementedError

    def assemble(self, version: str | None, rows: Rows):
        """The result from the expressions' rows (none for an empty store or scope)."""
        raise NotImplementedError

    def check_tables(self, tables: FactTables) -> None:
        """Checks of the parameters against the store (e.g. that a touchpoint is in it)."""

    def fetch(self, expressions: Mapping[str, ir.Table]) -> Rows:
        """Run ``expressions``: the rows of each, by name, as Python dicts (a dashboard's scans
        return a few rows each)."""
        return {name: expr.to_pyarrow().to_pylist() for name, expr in expressions.items()}

    def read(self, tables: FactTables) -> Rows:
        """What :meth:`assemble` works from: the rows of :meth:`to_query`'s expressions, none
        for an empty scope."""
        if self.scope.empty:
            return {}
        return self.fetch(self.to_query(tables))

    def calculate(self, tables: FactTables | None = None):
        """Run the expressions on ``tables`` (default: this thread's DuckDB store) and compute
        the result."""
        if tables is None:
            tables = get_store().tables()
        if tables is None:
            return self.assemble(None, {})
        self.check_tables(tables)
        return self.assemble(tables.manifest.version, self.read(tables))

    def run(self, *, store: FactStore | None = None, cache: bool = True):
        """:meth:`calculate`, cached in Django's cache under the data version and this query."""
        return run_cached(self, store=store, cache=cache)


# --- parameters ----------------------------------------------------------------------------------


def check_whole(name: str, value: Any, *, minimum: int = 1, optional: bool = False) -> None:
    """ValueError naming ``name`` unless ``value`` is a whole number ≥ ``minimum``."""
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number ≥ {minimum}; got {value!r}")


def check_id(name: str, value: Any, *, optional: bool = True) -> None:
    if optional and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an id (a whole number); got {value!r}")


def require_touchpoint(tables: FactTables, touchpoint_id: int) -> None:
    """ValueError naming ``touchpoint_id`` when no answer in the store (in any scope) rates it:
    a wrong id, rather than an empty result."""
    answers = tables.answers
    found = answers.filter(answers.touchpoint_id == ibis.literal(touchpoint_id, "int32"))
    if int(found.limit(1).count().to_pyarrow().as_py()) == 0:
        raise ValueError(
            f"touchpoint_id {touchpoint_id} is not in the fact store: no answer rates it"
        )
