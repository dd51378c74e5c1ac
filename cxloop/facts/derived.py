"""Tables derived from a month's answers, written beside them: ``answer_counts`` and
``answer_sample`` (docs/facts.md).

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

**answer_sample.** The journey map's driver model needs the ratings and NPS of each response side
by side, from a sample of responses (cxloop/insights/journey.py). Every response has a random
number ``draw`` in [0, 1), a hash of its id (so the same on every write and every engine); the
NPS and rating answers of the responses whose draw is under :data:`SAMPLE_SHARE` are kept here,
sorted by draw. The responses with ``draw < f`` are then a simple random sample of share ``f``
(for any ``f`` up to the share), and a reader of a small ``f`` reads the first row groups of
each month only.
"""

import dataclasses
import hashlib

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxloop.facts import store
from cxloop.facts.schema import ANSWER_COUNTS, ANSWER_SAMPLE

# Small row groups: a reader of one segment's counts, or of a small share of the sample, skips
# the rest by the row groups' statistics.
ROW_GROUP_SIZE = 16 * 1024
SAMPLE_SHARE = 1 / 16  # of the responses, whose NPS and rating answers answer_sample keeps
SAMPLED_KINDS = ("nps", "rating")

# The answers' columns the counts read: the customer (for its segments) and the counted keys.
_COUNTED_COLUMNS = ["customer_id", "team_id", "touchpoint_id", "kind", "score"]

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


def tables(answers: pa.Table, segments: pa.Table) -> dict[str, pa.Table]:
    """The derived tables of one month's ``answers``, by name."""
    return {
        "answer_counts": answer_counts(answers, segments),
        "answer_sample": answer_sample(answers),
    }


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
    """Stage the counts of ``months`` again from their stored answers files, all parts of a
    month into one (after the segments' membership changed); the months' new descriptions."""
    recounted = {}
    for month, counts in months.items():
        answers = counts.read("answers", month, base=writer.base, columns=_COUNTED_COLUMNS)
        part = counts.next_part
        path = store.month_path("answer_counts", month, part=part, base=writer.base)
        writer.write(answer_counts(answers, segments), path, row_group_size=ROW_GROUP_SIZE)
        parts = dict(counts.parts) | {"answer_counts": (part,)}
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
