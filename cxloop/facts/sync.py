"""Write the fact store from the database, one month at a time.

:func:`rebuild` rewrites every file; :func:`refresh_months` rewrites the given months and the
customer and segment tables, which is what the task run after writes does. Both read the
database through :mod:`cxloop.facts.reading`, hold at most two months in memory (as Arrow
arrays: the one being written and the next being read) and stage their files so that a failure
leaves the store as it was (:class:`cxloop.facts.store.Writer`).
"""

import contextlib
import datetime as dt
import functools
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from cxloop.comments import queries as comment_queries
from cxloop.facts import derived, queries, reading, store
from cxloop.facts.schema import (
    ANSWERS,
    COMMENTS,
    CUSTOMERS,
    RESPONSES,
    SCHEMA_VERSION,
    SEGMENTS,
    THEMES,
)

log = logging.getLogger(__name__)

# progress(month, months): one more of ``months`` months has been staged.
Progress = Callable[[str, int], None]

# A month appended to this many times is written whole again at its next refresh, so that a
# reader opens a bounded number of files and the month's files are sorted by time again.
MAX_PARTS = 16
# More new responses than this are read with the whole month (an import of history): a list of
# ids this long costs more than the month's range.
MAX_APPENDED = 10_000


@dataclass(frozen=True)
class Written:
    """What a rebuild or refresh wrote."""

    version: str
    months: tuple[str, ...]  # the months written (with data)
    removed: tuple[str, ...]  # the months whose partitions were removed (no data any more)
    responses: int
    answers: int
    bytes: int  # of the files written
    seconds: float

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "months": list(self.months),
            "removed": list(self.removed),
            "responses": self.responses,
            "answers": self.answers,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
        }


def rebuild(*, progress: Progress | None = None) -> Written:
    """Rewrite the whole store from the database, removing months that no longer have data."""
    started = time.perf_counter()
    queries.analyze_for_rebuild()
    with _writing() as writer:
        previous = _previous(writer)
        context = _Context.read()
        months = sorted(queries.completed_by_month(context.survey_ids))
        counts = _write_months(writer, context, months, previous, progress)
        _write_whole_tables(writer, context)
        on_disk = store.stored_months("responses", base=writer.base) | store.stored_months(
            "answers", base=writer.base
        )
        removed = (on_disk | set(months)) - set(counts)
        manifest = store.Manifest(
            version=store.new_version(),
            written_at=dt.datetime.now(dt.UTC),
            months=counts,
            segments=derived.segments_digest(context.segments),
        )
        writer.commit(manifest)
    return _written(manifest, counts, removed, writer.bytes, started)


def refresh_months(months: Iterable[str], *, appended: bool = False) -> Written:
    """Rewrite ``months`` ("YYYY-MM") from the database, and the customer and segment tables;
    a month without data any more is removed. When the segments' membership changed, the other
    months' answer counts are counted again from their stored answers. Rebuilds everything
    when the store has not been written yet (or was written by another schema), so that the
    manifest never claims to describe a store it does not. Idempotent.

    ``appended``: the months' stored responses are unchanged and only new ones may have come
    (what an announcement of new responses says): a month then gets its new responses as a
    part of their own (:func:`append_month`) instead of being rewritten; one that cannot
    (a stored response is gone, too many parts or new responses, the segments changed) is
    rewritten whole."""
    months = sorted({store.check_month(m) for m in months})
    started = time.perf_counter()
    with _writing() as writer:
        previous = _previous(writer)
        if previous is not None:
            context = _Context.read()
            segments = derived.segments_digest(context.segments)
            resegmented = segments != previous.segments
            counts, whole = {}, []
            for month in months:
                stored = previous.months.get(month)
                added = None
                if appended and stored is not None and not resegmented:
                    added = append_month(writer, context, month, stored)
                if added is None:
                    whole.append(month)
                else:
                    counts[month] = added
            counts |= _write_months(writer, context, whole, previous, None)
            kept = {m: c for m, c in previous.months.items() if m not in months}
            if resegmented:
                kept = derived.recount(writer, kept, context.segments)
            _write_whole_tables(writer, context)
            removed = set(months) - set(counts)
            manifest = store.Manifest(
                version=store.new_version(),
                written_at=dt.datetime.now(dt.UTC),
                months=kept | counts,
                segments=segments,
            )
            writer.commit(manifest)
    if previous is None:
        return rebuild()
    return _written(manifest, counts, removed, writer.bytes, started)


def append_month(
    writer: store.Writer, context: "_Context", month: str, stored: store.MonthCounts
) -> store.MonthCounts | None:
    """Stage the responses of ``month`` that the store lacks, with their answers and derived
    rows, as a new part of the month, and the month's comments whole (enrichment changes them
    in place); the month's new description. None, with nothing staged, when the month must be
    written whole instead: a stored response is no longer in the database (erased, deleted),
    the month has :data:`MAX_PARTS` parts or lacks a derived table (written by an older schema),
    or more than :data:`MAX_APPENDED` responses are new.

    The responses are told apart by id; a stored response changed in place is not seen here,
    which is why only an announcement of new responses appends."""
    if len(stored.parts["answers"]) >= MAX_PARTS or not all(
        stored.parts[table] for table in store.APPENDABLE
    ):
        # Too many parts, or a month of an older schema without a table that came since (a
        # part of the new responses alone would be that table's whole month).
        return None
    kept = stored.read("responses", month, base=writer.base)
    if _moved(context, kept):
        return None
    in_store = kept["response_id"].to_numpy()
    read = reading.columns(
        queries.response_ids(context.survey_ids, month), {"response_id": pa.int64()}
    )
    in_database = read["response_id"].to_numpy()
    if np.setdiff1d(in_store, in_database, assume_unique=True).size:
        return None
    new = np.setdiff1d(in_database, in_store, assume_unique=True)
    if new.size > MAX_APPENDED:
        return None
    part = stored.next_part
    parts = dict(stored.parts) | {"comments": (part,)}
    added = answers = None
    if new.size:
        added, answers = _month_tables(context, *_start_reads(context, month, new.tolist()))
    if added is not None and added.num_rows:
        _write_part(writer, context, month, part, added, answers)
        parts |= {table: stored.parts[table] + (part,) for table in store.APPENDABLE}
        kept = pa.concat_tables([kept, added])
    comments = _comments_table(context, month, kept)
    writer.write(comments, store.month_path("comments", month, part=part, base=writer.base))
    return store.MonthCounts(
        responses=kept.num_rows,
        answers=stored.answers + (answers.num_rows if added is not None else 0),
        comments=comments.num_rows,
        parts=parts,
    )


@contextlib.contextmanager
def _writing() -> Iterator[store.Writer]:
    """:func:`store.writing`; the database connections its reads kept open are closed after."""
    try:
        with store.writing() as writer:
            yield writer
    finally:
        reading.close_idle()


def _moved(context: "_Context", stored: pa.Table) -> bool:
    """Whether a stored response's customer has another team now, or its survey another kind:
    the month is then written whole, so that its parts agree (a month's rows carry the team
    and kind of when it was last written whole)."""
    customers = context.customers
    team = _lookup(stored["customer_id"], customers["customer_id"], customers["team_id"])
    kind = _lookup(stored["survey_id"], *context.survey_kind_arrays)
    same_team = pc.equal(pc.fill_null(team, -1), pc.fill_null(stored["team_id"], -1))
    same_kind = pc.equal(pc.fill_null(kind, ""), stored["survey_kind"])
    return not (pc.all(same_team).as_py() and pc.all(same_kind).as_py())


def _previous(writer: store.Writer) -> store.Manifest | None:
    """The manifest of the store being written; None when there is none, it cannot be read
    (another schema), it was written by an older schema (whose months lack tables this one
    derives: an upgrade writes them all at its first refresh, docs/deploy.md) or a file it
    names is gone (a damaged store, which a refresh could not build on): the store is then
    written as if new."""
    try:
        manifest = store.read_manifest(base=writer.base)
    except store.FactStoreError:
        return None
    if manifest is not None and manifest.schema < SCHEMA_VERSION:
        log.warning("the fact store of schema %s is written anew as %s", manifest.schema,
                    SCHEMA_VERSION)  # fmt: skip
        return None
    missing = store.missing_files(manifest, base=writer.base) if manifest else []
    if missing:
        log.warning("the fact store lacks %s and is written anew", missing[0])
        return None
    return manifest


def _written(manifest, counts, removed, size, started) -> Written:
    return Written(
        version=manifest.version,
        months=tuple(sorted(counts)),
        removed=tuple(sorted(removed)),
        responses=sum(c.responses for c in counts.values()),
        answers=sum(c.answers for c in counts.values()),
        bytes=size,
        seconds=time.perf_counter() - started,
    )


@dataclass(frozen=True)
class _Context:
    """What every month needs: the surveys in the store and each customer's team."""

    survey_kinds: dict[int, str]
    question_orders: dict[int, int]
    customers: pa.Table
    segments: pa.Table

    @property
    def survey_ids(self) -> list[int]:
        return list(self.survey_kinds)

    @functools.cached_property
    def survey_kind_arrays(self) -> tuple[pa.Array, pa.Array]:
        """(survey ids, their kinds), for :func:`_lookup`."""
        return _key_value_arrays(self.survey_kinds, pa.string())

    @functools.cached_property
    def question_order_arrays(self) -> tuple[pa.Array, pa.Array]:
        """(question ids, their numbers), for :func:`_lookup`."""
        return _key_value_arrays(self.question_orders, pa.int32())

    @classmethod
    def read(cls) -> "_Context":
        return cls(
            survey_kinds=queries.included_surveys(),
            question_orders=queries.question_orders(),
            customers=_customers_table(),
            segments=_segments_table(),
        )


def _write_months(
    writer: store.Writer,
    context: _Context,
    months: list[str],
    previous: store.Manifest | None,
    progress: Progress | None,
) -> dict[str, store.MonthCounts]:
    """Stage the given months whole, each as a part number it has not used in ``previous``;
    their descriptions, for the months that have data. The next month's rows are read while
    this one's files are written (:func:`reading.start`), so at most two months are in memory."""
    counts = {}
    reads = _start_reads(context, months[0]) if months else None
    try:
        for index, month in enumerate(months):
            current = reads
            reads = _start_reads(context, months[index + 1]) if index + 1 < len(months) else None
            stored = previous.months.get(month) if previous is not None else None
            part = stored.next_part if stored is not None else 0
            written = _write_month(writer, context, month, part, current)
            if written is not None:
                counts[month] = written
            if progress is not None:
                progress(month, len(months))
    finally:
        for pending in reads or ():
            pending.cancel()  # a failed write: the next month's read is not wanted
    return counts


def _write_month(
    writer: store.Writer,
    context: _Context,
    month: str,
    part: int,
    reads: tuple[reading.Pending, reading.Pending],
) -> store.MonthCounts | None:
    """Stage one month's files from its reads as part ``part``; its description, or None when
    it has no data."""
    responses, answers = _month_tables(context, *reads)
    if not responses.num_rows:
        return None
    comments = _comments_table(context, month, responses)
    _write_part(writer, context, month, part, responses, answers)
    writer.write(comments, store.month_path("comments", month, part=part, base=writer.base))
    return store.MonthCounts.whole(responses.num_rows, answers.num_rows, comments.num_rows, part)


def _write_part(
    writer: store.Writer,
    context: _Context,
    month: str,
    part: int,
    responses: pa.Table,
    answers: pa.Table,
) -> None:
    """Stage ``responses`` and ``answers`` and their derived tables as part ``part`` of
    ``month``."""
    writer.write(responses, store.month_path("responses", month, part=part, base=writer.base))
    writer.write(answers, store.month_path("answers", month, part=part, base=writer.base))
    derived.write(writer, month, answers, context.segments, part)


def _write_whole_tables(writer: store.Writer, context: _Context) -> None:
    writer.write(context.customers, store.table_path("customers", base=writer.base))
    writer.write(context.segments, store.table_path("segments", base=writer.base))
    writer.write(_themes_table(), store.table_path("themes", base=writer.base))


# Building the tables ------------------------------------------------------------------------


def _key_value_arrays(mapping: dict, value_type: pa.DataType) -> tuple[pa.Array, pa.Array]:
    return (
        pa.array(list(mapping), type=pa.int64()),
        pa.array(list(mapping.values()), type=value_type),
    )


def _lookup(keys: pa.Array, table_keys: pa.Array, values: pa.Array) -> pa.Array:
    """``values`` at the position of each of ``keys`` in ``table_keys``; null where absent."""
    return pc.take(values, pc.index_in(keys, value_set=table_keys))


def _start_reads(
    context: _Context, month: str, ids: list[int] | None = None
) -> tuple[reading.Pending, reading.Pending]:
    """The reads of one month's responses and answers (of the responses ``ids`` only, when
    given), begun."""
    responses = reading.start(
        queries.response_rows(context.survey_ids, month, ids),
        {
            "response_id": pa.int64(),
            "submitted_at": RESPONSES.field("submitted_at").type,
            "survey_id": pa.int64(),
            "channel": pa.string(),
            "customer_id": pa.int64(),
            "touchpoint_id": pa.int64(),
            "language": pa.string(),
        },
    )
    answers = reading.start(
        queries.answer_rows(context.survey_ids, month, ids),
        {
            "response_id": pa.int64(),
            "question_id": pa.int64(),
            "touchpoint_id": pa.int64(),
            "kind": pa.string(),
            "score": pa.int64(),
        },
    )
    return responses, answers


def _month_tables(
    context: _Context, responses_read: reading.Pending, answers_read: reading.Pending
) -> tuple[pa.Table, pa.Table]:
    """The responses and answers tables of one month, in the store's schemas and order."""
    raw = responses_read.result()
    kinds = _lookup(raw["survey_id"], *context.survey_kind_arrays)
    customers = context.customers
    team = _lookup(raw["customer_id"], customers["customer_id"], customers["team_id"])
    answers = answers_read.result()
    orders = pc.fill_null(_lookup(answers["question_id"], *context.question_order_arrays), 0)
    responses = pa.Table.from_arrays(
        [
            raw["response_id"],
            raw["submitted_at"],
            _cast(raw["survey_id"], RESPONSES, "survey_id"),
            kinds,
            raw["channel"],
            raw["customer_id"],
            team,
            _cast(raw["touchpoint_id"], RESPONSES, "touchpoint_id"),
            raw["language"],
            _first_nps(raw["response_id"], answers, orders),
        ],
        schema=RESPONSES,
    ).sort_by([("submitted_at", "ascending"), ("response_id", "ascending")])
    return responses, _answers_table(responses, answers, orders)


def _cast(array: pa.Array, schema: pa.Schema, name: str) -> pa.Array:
    return pc.cast(array, schema.field(name).type)  # safe: an id too large fails loudly


def _comments_table(context: _Context, month: str, responses: pa.Table) -> pa.Table:
    """The enriched comments of the month's responses, with the keys of their response."""
    start, end = store.month_bounds(month)
    raw = reading.columns(
        comment_queries.insight_rows(context.survey_ids, start, end),
        {
            "answer_id": pa.int64(),
            "response_id": pa.int64(),
            "touchpoint_id": pa.int64(),
            "language": pa.string(),
            "sentiment": pa.string(),
            "score": pa.float32(),
        },
    )
    themes: dict[int, list[int]] = {}
    for answer_id, theme_id in comment_queries.theme_rows(context.survey_ids, start, end):
        themes.setdefault(answer_id, []).append(theme_id)
    keys = raw["response_id"]
    position = pc.index_in(keys, value_set=responses["response_id"])  # once: a month's hash

    def of_response(name: str) -> pa.Array:
        return pc.take(responses[name], position)

    own = raw["touchpoint_id"]
    touchpoint = pc.if_else(
        pc.is_null(own), of_response("touchpoint_id"), _cast(own, COMMENTS, "touchpoint_id")
    )
    return pa.Table.from_arrays(
        [
            raw["answer_id"],
            keys,
            of_response("submitted_at"),
            of_response("survey_id"),
            of_response("survey_kind"),
            of_response("channel"),
            of_response("customer_id"),
            of_response("team_id"),
            touchpoint,
            of_response("nps"),
            raw["language"],
            raw["sentiment"],
            raw["score"],
            pa.array(
                [themes.get(a, []) for a in raw["answer_id"].to_pylist()],
                type=pa.list_(pa.int32()),
            ),
        ],
        schema=COMMENTS,
    ).sort_by([("submitted_at", "ascending"), ("answer_id", "ascending")])


def _themes_table() -> pa.Table:
    rows = comment_queries.theme_table_rows()
    names = ("theme_id", "code", "name_ru", "name_en", "is_active")
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
    return pa.Table.from_arrays(
        [
            pa.array(values, type=THEMES.field(name).type)
            for name, values in zip(names, columns, strict=True)
        ],
        schema=THEMES,
    )


def _first_nps(response_ids: pa.Array, answers: dict[str, pa.Array], orders: pa.Array):
    """Each response's NPS score: of its first NPS question if it has several; else null."""
    is_nps = pc.equal(answers["kind"], "nps")
    ids = pc.filter(answers["response_id"], is_nps).to_numpy()
    numbers = pc.filter(orders, is_nps).to_numpy()
    scores = pc.filter(answers["score"], is_nps).to_numpy()
    ordered = np.lexsort((numbers, ids))
    ids, scores = ids[ordered], scores[ordered]
    first = np.ones(len(ids), dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    return pc.cast(_lookup(response_ids, pa.array(ids[first]), pa.array(scores[first])), pa.int8())


def _answers_table(responses: pa.Table, answers: dict[str, pa.Array], orders: pa.Array):
    """The scored answers of the responses in ``responses`` (the rest — answers of a response
    completed after the responses were read — wait for the next refresh), with their
    response's columns."""
    position = pc.index_in(answers["response_id"], value_set=responses["response_id"])
    kept = pc.is_valid(position)
    position = pc.filter(position, kept)

    def of_response(name: str) -> pa.Array:
        return pc.take(responses[name], position).combine_chunks()

    table = pa.Table.from_arrays(
        [
            pc.filter(answers["response_id"], kept),
            of_response("submitted_at"),
            of_response("survey_id"),
            of_response("channel"),
            of_response("customer_id"),
            of_response("team_id"),
            _cast(pc.filter(answers["touchpoint_id"], kept), ANSWERS, "touchpoint_id"),
            pc.filter(answers["kind"], kept),
            _cast(pc.filter(answers["score"], kept), ANSWERS, "score"),
        ],
        schema=ANSWERS,
    )
    order = pc.filter(orders, kept)
    sorting = table.append_column("_order", order).sort_by(
        [("submitted_at", "ascending"), ("response_id", "ascending"), ("_order", "ascending")]
    )
    return sorting.drop_columns(["_order"])


def _customers_table() -> pa.Table:
    columns = reading.columns(
        queries.customer_rows(),
        {
            "customer_id": pa.int64(),
            "team_id": pa.int64(),
            "owner_id": pa.int64(),
            "annual_value": pa.decimal128(14, 2),  # the model's DecimalField
            "currency": pa.string(),
            "tier": pa.string(),
            "lifecycle_stage": pa.string(),
        },
    )
    columns["team_id"] = _cast(columns["team_id"], CUSTOMERS, "team_id")
    columns["owner_id"] = _cast(columns["owner_id"], CUSTOMERS, "owner_id")
    columns["annual_value"] = _cast(columns["annual_value"], CUSTOMERS, "annual_value")
    return pa.Table.from_arrays([columns[n] for n in CUSTOMERS.names], schema=CUSTOMERS)


def _segments_table() -> pa.Table:
    types = {"customer_id": pa.int64(), "segment_id": pa.int32()}
    parts = [pa.table(reading.columns(q, types)) for q in queries.segment_memberships()]
    if not parts:
        return SEGMENTS.empty_table()
    pairs = pa.concat_tables(parts).group_by(list(types)).aggregate([])  # distinct
    table = pa.Table.from_arrays([pairs[name] for name in types], schema=SEGMENTS)
    return table.sort_by([("customer_id", "ascending"), ("segment_id", "ascending")])
