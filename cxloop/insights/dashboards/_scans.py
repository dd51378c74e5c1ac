"""The scans behind the dashboards: Ibis expressions over the fact store's tables.

Each function takes Ibis tables (already narrowed to the scope, see ``_base.Scoped``, or the
pre-counted answers of :meth:`Scope.counted`) and returns an expression
built from them alone, with operations every Ibis backend has (filters, joins, group-bys,
counts, window row numbers), so the same expression runs on DuckDB in process or on Spark. What
comes back is small: counts per group and score.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import ibis
import ibis.expr.types as ir

from ._scores import Scores


def months(table: ir.Table) -> dict[str, ir.Value]:
    """The month as a group-by key: the partition key ``month`` ("YYYY-MM" of ``submitted_at``
    in UTC) that the store's monthly tables carry."""
    return {"month": table.month}


def nps_answers(responses: ir.Table) -> ir.Table:
    """The responses with an NPS answer, the answer as ``score`` (the response's first NPS
    question, as the store keeps it: one per response)."""
    return responses.filter(responses.nps.notnull()).mutate(score=responses.nps)


def kind_answers(
    answers: ir.Table, kinds: Iterable[str], touchpoint_id: int | None = None
) -> ir.Table:
    """The answers of ``kinds``, about ``touchpoint_id`` when given."""
    table = answers.filter(answers.kind.isin(list(kinds)))
    if touchpoint_id is not None:
        table = table.filter(table.touchpoint_id == ibis.literal(int(touchpoint_id), "int32"))
    return table


def metric_answers(
    responses: ir.Table, answers: ir.Table, metric: str, touchpoint_id: int | None = None
) -> ir.Table:
    """The answers a metric is computed from, each with ``score``."""
    if metric == "nps":
        return nps_answers(responses)
    return kind_answers(answers, [metric], touchpoint_id)


def keyed_by(answers: ir.Table, by: str, customers: ir.Table) -> ir.Table:
    """``answers`` with ``key``: whose they are, as the weigh-in counts them — a team's
    (``by="team"``) are those of the customers its people owned when the month was written (the
    store's ``team_id``), a person's (``"person"``) those of the customers they own now."""
    if by == "team":
        return answers.filter(answers.team_id.notnull()).mutate(key=answers.team_id)
    owners = customers.select("customer_id", "owner_id")
    joined = answers.join(owners, answers.customer_id == owners.customer_id)
    return joined.filter(joined.owner_id.notnull()).mutate(key=joined.owner_id)


def score_counts(table: ir.Table, keys: dict[str, ir.Value] | None = None) -> ir.Table:
    """Answers per (keys…, score): the sufficient statistics of every score figure."""
    keys = dict(keys or {})
    return table.group_by(**keys, score=table.score).agg(n=table.count())


def counted_scores(counted: ir.Table, keys: dict[str, ir.Value] | None = None) -> ir.Table:
    """:func:`score_counts` of answers already counted (:meth:`Scope.counted`: rows with
    ``n``): the same rows, summed from the store's pre-counted ``answer_counts``."""
    keys = dict(keys or {})
    return counted.group_by(**keys, score=counted.score).agg(n=counted.n.sum())


def in_segments(table: ir.Table, segments: ir.Table) -> ir.Table:
    """``table`` joined to the segments its customer is in (one row per answer and segment;
    answers without a customer are in none)."""
    members = segments.select("customer_id", "segment_id").distinct()
    joined = table.join(members, table.customer_id == members.customer_id)
    return joined.select(*table.columns, segment_id=members.segment_id)


def scores_by(
    records: Iterable[dict[str, Any]],
    kind: str,
    key: Callable[[dict[str, Any]], Hashable],
) -> dict[Hashable, Scores]:
    """Group (…, score, n) rows into a :class:`Scores` per ``key(row)``."""
    pairs: dict[Hashable, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for record in records:
        scores, counts = pairs[key(record)]
        scores.append(record["score"])
        counts.append(record["n"])
    return {k: Scores.from_pairs(kind, s, c) for k, (s, c) in pairs.items()}


def by_month_key(record: dict[str, Any]) -> str:
    return record["month"]


def total(scores: Iterable[Scores], kind: str) -> Scores:
    out = Scores.empty(kind)
    for s in scores:
        out = out + s
    return out
