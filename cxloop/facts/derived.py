"""Tables derived from a month's answers, written beside them: ``answer_counts``,
``answer_totals``, ``answer_sample`` and ``answer_moments`` (docs/facts.md).

**answer_counts.** Pages that show scores (the journey map's histograms, its control charts, the
previous period) need only how many answers of a month gave each score, by team, touchpoint and
kind, for every answer or for a segment's customers. Counted once when a month is written, that
is some hundred thousand rows a month where the answers are millions (the 10 M-response
synthetic store: 470,000 rows a month for 2.5 M answers, 200 teams and 8 segments), and a page
reads what it needs of them in tens of milliseconds instead of scanning every answer. A row with
an empty ``segment_id`` counts every answer of the month (anonymous ones too); a row with a
segment counts the answers of customers in that segment now, so the counts of every month depend
on the segments table: when its membership changes (its digest differs from the one the
manifest recorded), every month is counted again from its stored answers (:func:`recount`).
Rows are sorted by segment first, in small row groups, so a reader of one segment skips the
others' row groups.

**answer_totals.** ``answer_counts`` summed over the teams: a page of the whole organisation
(the journey map's default) reads a few thousand rows a month instead of a few hundred
thousand (the 10 M store: 0.08 s of the journey map's 0.25).

**answer_sample.** The journey map's driver model needs the ratings and NPS of each response side
by side, from a sample of responses (cxloop/insights/journey.py). Every response has a random
number ``draw`` in [0, 1), a hash of its id (so the same on every write and every engine); the
NPS and rating answers of the responses whose draw is under :data:`SAMPLE_SHARE` are kept here,
sorted by draw. The responses with ``draw < f`` are then a simple random sample of share ``f``
(for any ``f`` up to the share), and a reader of a small ``f`` reads the first row groups of
each month only.

**answer_moments.** What the driver model and the stages' intervals compute from that sample are
pairwise-complete covariances, and those need only sums (:class:`~cxloop.analytics.
PairwiseSums`): for each pair of columns — the NPS answer, each touchpoint's rating, and
:data:`RATED` (1 for every response, so that its count is the responses') — over the responses
that rate a touchpoint, how many have both, and the sums of the one, of its square and of the
product. Summed per month and segment (empty: every response), a few thousand rows a month;
sums add up, so a reader adds the months of its period and subtracts a segment from everyone
for the rest of the customers, and the journey map fits its drivers from every response
instead of a sample (cxloop/insights/journey.py says when it can).
"""

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import NamedTuple

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxloop.analytics import pairwise_sums
from cxloop.facts import store
from cxloop.facts.schema import ANSWER_COUNTS, ANSWER_MOMENTS, ANSWER_SAMPLE, ANSWER_TOTALS

# Small row groups: a reader of one segment's counts, or of a small share of the sample, skips
# the rest by the row groups' statistics.
ROW_GROUP_SIZE = 16 * 1024
SAMPLE_SHARE = 1 / 16  # of the responses, whose NPS and rating answers answer_sample keeps
SAMPLED_KINDS = ("nps", "rating")

# The answers' columns the derived tables read again when the segments change.
_DERIVED_COLUMNS = ["response_id", "customer_id", "team_id", "touchpoint_id", "kind", "score"]
_COUNTED_COLUMNS = ["customer_id", "team_id", "touchpoint_id", "kind", "score"]
# answer_moments' columns that are not a touchpoint's rating.
NPS_COLUMN = -1  # the response's NPS answer
RATED = -2  # 1 for every response counted: its n is the number of responses

_COUNT = """
    SELECT NULL::INTEGER AS segment_id, team_id, touchpoint_id, kind, score, count(*) AS n
    FROM answers GROUP BY ALL
    UNION ALL
    SELECT s.segment_id, a.team_id, a.touchpoint_id, a.kind, a.score, count(*) AS n
    FROM answers AS a JOIN segments AS s USING (customer_id) GROUP BY ALL
    ORDER BY segment_id NULLS FIRST, team_id, touchpoint_id, kind, score
"""


def answer_counts(answers: pa.Table, segments: pa.Table) -> pa.Table:
    """The ``answer_counts`` rows of one month's ``answers`` (the store's answers schema), with
    the segments' current ``segments`` (customer_id, segment_id)."""
    connection = duckdb.connect()
    try:
        connection.register("answers", answers.select(_COUNTED_COLUMNS))
        connection.register("segments", segments.select(["customer_id", "segment_id"]))
        counted = connection.sql(_COUNT).to_arrow_table()
    finally:
        connection.close()
    return counted.cast(ANSWER_COUNTS)


_TOTAL = """
    SELECT segment_id, touchpoint_id, kind, score, sum(n)::BIGINT AS n
    FROM counts GROUP BY ALL
    ORDER BY segment_id NULLS FIRST, touchpoint_id, kind, score
"""


def answer_totals(counts: pa.Table) -> pa.Table:
    """The ``answer_totals`` rows of a month's ``answer_counts``: summed over the teams."""
    connection = duckdb.connect()
    try:
        connection.register("counts", counts)
        summed = connection.sql(_TOTAL).to_arrow_table()
    finally:
        connection.close()
    return summed.cast(ANSWER_TOTALS)


def draws(response_ids: np.ndarray) -> np.ndarray:
    """Each response's random number in [0, 1): the SplitMix64 finaliser of its id (Steele,
    Lea and Flood 2014), whose outputs pass BigCrush for consecutive inputs, to 53 bits."""
    z = response_ids.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def answer_sample(answers: pa.Table) -> pa.Table:
    """The ``answer_sample`` rows of one month's ``answers``: the NPS and rating answers of the
    responses drawn under :data:`SAMPLE_SHARE`, sorted by draw (a response's answers together,
    in their order)."""
    kept = answers.filter(pc.is_in(answers["kind"], pa.array(SAMPLED_KINDS)))
    draw = draws(kept["response_id"].to_numpy())
    chosen = draw < SAMPLE_SHARE
    kept = kept.filter(pa.array(chosen)).append_column("draw", pa.array(draw[chosen]))
    kept = kept.append_column("_order", pa.array(np.arange(kept.num_rows)))
    ordered = kept.sort_by([("draw", "ascending"), ("_order", "ascending")])
    return ordered.select(ANSWER_SAMPLE.names).cast(ANSWER_SAMPLE)


class Wide(NamedTuple):
    """Responses' NPS and ratings side by side: ``matrix`` has a row per response, column 0
    its NPS answer and then one column per touchpoint asked for (NaN: not answered);
    ``customers`` each row's customer (-1: none); ``rated`` whether it rates any touchpoint,
    asked for or not (the driver model's population: a journey's fit is the same whatever other
    journeys the organisation maps, and the store's moments serve every journey)."""

    matrix: np.ndarray
    customers: np.ndarray
    rated: np.ndarray


def wide(table: pa.Table, touchpoint_ids: Sequence[int]) -> Wide:
    """:class:`Wide` of ``table`` (``response_id, customer_id, touchpoint_id, score``: NPS
    answers with touchpoint :data:`NPS_COLUMN` and ratings of a touchpoint, as
    ``answer_sample`` is read): every response in it, in order of first appearance, its ratings
    of ``touchpoint_ids`` (others count for ``rated`` only).
    Of a response's answers to one column, the first one counts (the store keeps a response's
    answers in the order they were given: the first NPS question's, as ``responses.nps``)."""
    T = len(touchpoint_ids)
    if table.num_rows == 0:
        return Wide(np.empty((0, T + 1)), np.empty(0, dtype=np.int64), np.empty(0, dtype=bool))
    # Row of each answer's response, by hashing (no sort): the rows of one response need not
    # be adjacent, whatever the engine returned.
    encoded = pc.dictionary_encode(table["response_id"].combine_chunks())
    row = encoded.indices.to_numpy()
    customers = np.empty(len(encoded.dictionary), dtype=np.int64)
    customers[row] = pc.fill_null(table["customer_id"], -1).to_numpy()
    tp = table["touchpoint_id"].to_numpy()
    score = table["score"].to_numpy()
    rated = np.zeros(len(customers), dtype=bool)
    rated[row[tp != NPS_COLUMN]] = True
    matrix = np.full((len(customers), T + 1), np.nan)
    if T:
        order = np.asarray(touchpoint_ids)
        sorter = np.argsort(order)
        pos = sorter[np.clip(np.searchsorted(order, tp, sorter=sorter), 0, T - 1)]
        known = tp == NPS_COLUMN
        column = np.where(known, 0, pos + 1)
        known |= order[pos] == tp
    else:
        known, column = tp == NPS_COLUMN, np.zeros(len(tp), dtype=np.int64)
    # The first answer of each cell: the smallest position among those that fall in it (an
    # assignment with repeated cells keeps any one of them, NumPy promises none).
    cell = row[known].astype(np.int64) * (T + 1) + column[known]
    first = np.full(matrix.size, len(cell))
    np.minimum.at(first, cell, np.arange(len(cell)))
    filled = np.flatnonzero(first < len(cell))
    matrix.flat[filled] = score[known][first[filled]]
    return Wide(matrix, customers, rated)


def _rated_answers(answers: pa.Table) -> pa.Table:
    """The NPS answers and the ratings of a touchpoint, as :func:`wide` reads them."""
    answers = answers.select(["response_id", "customer_id", "touchpoint_id", "kind", "score"])
    rating = pc.and_(pc.equal(answers["kind"], "rating"), pc.is_valid(answers["touchpoint_id"]))
    nps = pc.equal(answers["kind"], "nps")
    kept = answers.filter(pc.or_(rating, nps))
    touchpoint = pc.if_else(
        pc.equal(kept["kind"], "nps"), pa.scalar(NPS_COLUMN, pa.int32()), kept["touchpoint_id"]
    )
    return pa.table(
        {
            "response_id": kept["response_id"],
            "customer_id": kept["customer_id"],
            "touchpoint_id": touchpoint,
            "score": kept["score"],
        }
    )


def answer_moments(answers: pa.Table, segments: pa.Table) -> pa.Table:
    """The ``answer_moments`` rows of one month's ``answers`` with the segments' current
    ``segments``: the pairwise sums of every pair of columns (:data:`RATED`, the NPS, each
    rated touchpoint) over the responses that rate a touchpoint, for every response and for
    each segment's."""
    rated = _rated_answers(answers)
    touchpoints = sorted(set(pc.unique(rated["touchpoint_id"]).to_pylist()) - {NPS_COLUMN})
    responses = wide(rated, touchpoints)
    keep = responses.rated
    X = np.column_stack([np.ones(int(keep.sum())), responses.matrix[keep]])
    customers = responses.customers[keep]
    codes = np.array([RATED, NPS_COLUMN, *touchpoints], dtype=np.int32)
    groups = [(None, slice(None))]
    member_of = segments["segment_id"].to_numpy()
    member = segments["customer_id"].to_numpy()
    for segment in np.unique(member_of):
        groups.append((int(segment), np.isin(customers, member[member_of == segment])))
    parts = []
    for segment, rows in groups:
        sums = pairwise_sums(X[rows], workers=1)
        a, b = np.nonzero(sums.n)
        parts.append(
            {
                "segment_id": np.full(a.size, -1 if segment is None else segment),
                "a": codes[a],
                "b": codes[b],
                "n": sums.n[a, b].astype(np.int64),
                "x": sums.x[a, b],
                "x2": sums.x2[a, b],
                "xx": sums.xx[a, b],
            }
        )
    columns = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    segment_id = pa.array(columns.pop("segment_id"), pa.int32())
    columns["segment_id"] = pc.if_else(pc.equal(segment_id, -1), None, segment_id)
    return pa.table(columns).select(ANSWER_MOMENTS.names).cast(ANSWER_MOMENTS)


def segmented_tables(answers: pa.Table, segments: pa.Table) -> dict[str, pa.Table]:
    """The derived tables of one month's ``answers`` that depend on the segments, by name:
    written with the month, and again when the segments change (:func:`recount`)."""
    counts = answer_counts(answers, segments)
    return {
        "answer_counts": counts,
        "answer_totals": answer_totals(counts),
        "answer_moments": answer_moments(answers, segments),
    }


def tables(answers: pa.Table, segments: pa.Table) -> dict[str, pa.Table]:
    """The derived tables of one month's ``answers``, by name."""
    return segmented_tables(answers, segments) | {"answer_sample": answer_sample(answers)}


def write(
    writer: store.Writer, month: str, answers: pa.Table, segments: pa.Table, part: int = 0
) -> None:
    """Stage the derived tables of ``answers`` (a month's, or the part of it that was added) as
    part ``part`` of the month."""
    for name, table in tables(answers, segments).items():
        path = store.month_path(name, month, part=part, base=writer.base)
        writer.write(table, path, row_group_size=ROW_GROUP_SIZE)


def recount(
    writer: store.Writer, months: dict[str, store.MonthCounts], segments: pa.Table
) -> dict[str, store.MonthCounts]:
    """Stage the counts, totals and moments of ``months`` again from their stored answers, all
    parts of a month into one (after the segments' membership changed); the months' new
    descriptions."""
    recounted = {}
    for month, counts in months.items():
        answers = counts.read("answers", month, base=writer.base, columns=_DERIVED_COLUMNS)
        part = counts.next_part
        again = segmented_tables(answers, segments)
        for name, table in again.items():
            path = store.month_path(name, month, part=part, base=writer.base)
            writer.write(table, path, row_group_size=ROW_GROUP_SIZE)
        parts = dict(counts.parts) | dict.fromkeys(again, (part,))
        recounted[month] = dataclasses.replace(counts, parts=parts)
    return recounted


def segments_digest(segments: pa.Table) -> str:
    """A digest of the segments table (customer_id, segment_id; sorted as the writer sorts it),
    recorded in the manifest with the counts made from it."""
    digest = hashlib.sha256()
    for name in ("customer_id", "segment_id"):
        digest.update(name.encode())
        digest.update(segments[name].to_numpy().tobytes())
    return digest.hexdigest()
