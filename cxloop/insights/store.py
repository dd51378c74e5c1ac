"""The fact store as Ibis tables, and the filters every insight applies to them.

The read side of the contract in ``cxloop.facts`` (docs/facts.md)::

    FACTS_DIR/manifest.json                         {"schema", "version", "written_at", "months"}
    FACTS_DIR/responses/month=YYYY-MM/part-N.parquet
    FACTS_DIR/answers/month=YYYY-MM/part-N.parquet
    FACTS_DIR/comments/month=YYYY-MM/part-N.parquet
    FACTS_DIR/answer_counts/month=YYYY-MM/part-N.parquet
    FACTS_DIR/answer_totals/month=YYYY-MM/part-N.parquet
    FACTS_DIR/answer_sample/month=YYYY-MM/part-N.parquet
    FACTS_DIR/answer_moments/month=YYYY-MM/part-N.parquet
    FACTS_DIR/customers.parquet
    FACTS_DIR/segments.parquet

:class:`FactStore` holds one in-process DuckDB connection (``ibis.duckdb.connect()``) per thread
and directory; its :meth:`~FactStore.tables` registers views over exactly the files of the months
the manifest lists (so a reader never sees a month half-written or already removed) and
re-registers them when the manifest's version changes. Queries are built from
:class:`FactTables`, whatever backend they come from: :class:`SparkFactStore` registers the same
tables on a Spark Connect server, and :func:`get_store` picks the engine the settings name
(``CXLOOP_ANALYTICS_ENGINE``; ``tests/test_insights_spark.py`` compares the two, docs/scale.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import re
import sys
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis

# The DuckDB backend, and pandas, which its result converter imports (0.4 s): loaded with this
# module, so that a server process pays for them when it starts (cxloop/wsgi.py loads every
# view), not the first user to open an analytics page.
import ibis.backends.duckdb.converter  # noqa: F401
import ibis.expr.types as ir

from cxloop import timeouts
from cxloop.facts import published
from cxloop.facts.published import Location
from cxloop.facts.schema import MONTHLY
from cxloop.facts.store import Manifest, month_bounds, named_files, read_manifest, root

log = logging.getLogger(__name__)

__all__ = [
    "FactStore",
    "FactTables",
    "Scope",
    "SparkFactStore",
    "cache_key",
    "drop_stores",
    "engine_failed",
    "get_store",
    "run_cached",
]


@dataclass(frozen=True)
class FactTables:
    """The store's tables on one backend, and the manifest they were registered from.

    ``answers``, ``responses``, ``comments`` and the derived tables carry the partition key
    ``month`` (``"YYYY-MM"``, a string). ``comments`` and ``themes`` are None on an engine that
    did not register them; ``answer_moments`` and ``answer_totals`` when no month has them (a
    store of schema 5).
    """

    answers: ir.Table
    responses: ir.Table
    customers: ir.Table
    segments: ir.Table
    manifest: Manifest
    answer_counts: ir.Table | None = None
    answer_sample: ir.Table | None = None
    answer_moments: ir.Table | None = None
    answer_totals: ir.Table | None = None
    comments: ir.Table | None = None
    themes: ir.Table | None = None

    @property
    def months(self) -> tuple[str, ...]:
        return tuple(sorted(self.manifest.months))


class FactStore:
    """In-process DuckDB over the fact store in ``directory`` (one per thread: see
    :func:`get_store`). ``threads`` and ``memory_limit`` are DuckDB's settings (defaults: every
    core, DuckDB's default limit)."""

    engine = "duckdb"

    def __init__(
        self,
        directory: str | Path | Location,
        *,
        threads: int | None = None,
        memory_limit: str | None = None,
    ):
        self.directory = directory if isinstance(directory, Location) else Path(directory)
        config: dict[str, Any] = {}
        if threads is not None:
            config["threads"] = int(threads)
        if memory_limit is not None:
            config["memory_limit"] = memory_limit
        self.con = ibis.duckdb.connect(**config)
        # Days and months are those of UTC, as the store's partitions are: DuckDB would take the
        # process's time zone (Django sets it to TIME_ZONE), and a timestamp cast to a date would
        # differ from Spark's and from the month the row is filed under.
        self.con.raw_sql("LOAD icu; SET TimeZone = 'UTC'")
        self._tables: FactTables | None = None

    def manifest(self) -> Manifest | None:
        if isinstance(self.directory, Location):
            return self.directory.read_manifest()
        return read_manifest(base=self.directory)

    def tables(self, manifest: Manifest | None = None) -> FactTables | None:
        """Views over the files of ``manifest`` (default: the current one); None when the store
        is empty. Registered again only when the version changed."""
        manifest = self.manifest() if manifest is None else manifest
        if manifest is None or not manifest.months:
            return None
        if self._tables is None or self._tables.manifest.version != manifest.version:
            self._tables = self._register(manifest)
        return self._tables

    def _register(self, manifest: Manifest) -> FactTables:
        if isinstance(self.directory, Location):
            return self._register_published(self.directory, manifest)
        files = {
            name: [str(self.directory / path) for path in paths]
            for name, paths in _files(self.directory, manifest).items()
        }
        monthly = {
            name: self.con.read_parquet(
                paths, table_name=name, hive_partitioning=True, hive_types_autocast=False
            )
            for name, paths in files.items()
            if name in MONTHLY_TABLES
        }
        whole = {
            name: self.con.read_parquet(paths[0], table_name=name)
            for name, paths in files.items()
            if name not in MONTHLY_TABLES
        }
        return FactTables(manifest=manifest, **monthly, **whole)

    def _register_published(self, location: Location, manifest: Manifest) -> FactTables:
        """Views over the published files, read through pyarrow's S3 filesystem (DuckDB's own
        S3 reader is an extension it would download)."""
        import pyarrow as pa
        import pyarrow.dataset as ds

        tables = {}
        for name, objects in _files(location, manifest).items():
            keys = [location.key(path) for path in objects]
            if name in MONTHLY_TABLES:
                month = pa.schema([("month", pa.string())])
                dataset = ds.dataset(
                    keys, schema=MONTHLY[name].append(month.field(0)), format="parquet",
                    filesystem=location.filesystem, partition_base_dir=location.key(name),
                    partitioning=ds.partitioning(month, flavor="hive"),
                )  # fmt: skip
            else:
                dataset = ds.dataset(keys, format="parquet", filesystem=location.filesystem)
            self.con.con.register(name, dataset)
            tables[name] = self.con.table(name)
        return FactTables(manifest=manifest, **tables)


class SparkFactStore(FactStore):
    """The same tables on a Spark Connect server at ``remote`` (``sc://host:port``), whose
    executors read the store's files at ``directory``: the same path on every machine (a shared
    file system). Queries are the same Ibis expressions, compiled to Spark SQL by Ibis's PySpark
    backend; each store has a Spark session of its own, so its views are its own.

    A request's queries end by its deadline (``CXLOOP_REQUEST_TIMEOUT``): each reading of the
    tables records the deadline of the request it serves, and a watchdog interrupts what the
    session runs once that deadline passes (the whole session's: interrupting by tag left the
    cancelled query's tasks running on the executors). An unreachable server fails a query in
    about two seconds, not after the client's default ten minutes of retries; a store whose
    engine failed is dropped (:func:`drop_stores`), so that the next request opens a new one.
    """

    engine = "spark"

    def __init__(self, directory: str | Path | Location, *, remote: str):
        from pyspark.sql import SparkSession
        from pyspark.sql.connect.client.retries import DefaultPolicy

        self.directory = directory if isinstance(directory, Location) else Path(directory).resolve()
        self.remote = remote
        self.session = SparkSession.builder.remote(remote).create()
        self.session.client.set_retry_policies([DefaultPolicy(**SPARK_RETRIES)])
        # The partition key month ("2025-03") stays a string, as in DuckDB; the time zone of
        # days and months is UTC (Ibis's backend sets it too).
        self.session.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        self.con = ibis.pyspark.connect(self.session)
        self._tables = None
        self._views: list[str] = []
        self._deadline: float | None = None  # of the request that last read the tables
        self._lock = threading.Lock()
        self._closed = threading.Event()
        watchdog = threading.Thread(
            target=_watch, args=(weakref.ref(self), self._closed), daemon=True,
            name="cxloop-spark-deadline",
        )  # fmt: skip
        watchdog.start()

    def tables(self, manifest: Manifest | None = None) -> FactTables | None:
        self._arm()
        return super().tables(manifest)

    def ping(self) -> None:
        """A ``SELECT 1`` on the server, within the current request's deadline."""
        self._arm()
        self.session.sql("SELECT 1").collect()

    def _arm(self) -> None:
        """Watch what this thread runs next until the current request's deadline (none outside
        a request)."""
        with self._lock:
            self._deadline = timeouts.deadline()

    def _register(self, manifest: Manifest) -> FactTables:
        # Views named after the version: an expression built before a re-registration keeps
        # reading the files it was built on, never a mixture. This thread's expressions of the
        # version before are done (a store serves one thread): their views are dropped.
        suffix = re.sub(r"\W", "_", manifest.version)
        tables, views = {}, []
        for name, paths in _files(self.directory, manifest).items():
            reader = self.session.read
            if name in MONTHLY_TABLES:
                reader = reader.option("basePath", self._address(name))
            view = f"{name}_{suffix}"
            reader.parquet(*map(self._address, paths)).createOrReplaceTempView(view)
            tables[name] = self.con.table(view)
            views.append(view)
        for old in self._views:
            self.session.catalog.dropTempView(old)
        self._views = views
        return FactTables(manifest=manifest, **tables)

    def _address(self, relative: str) -> str:
        """A store file's address for the executors: its s3a URL, or its path on the shared
        file system."""
        if isinstance(self.directory, Location):
            return self.directory.url(relative)
        return str(self.directory / relative)

    def interrupt_if_late(self) -> None:
        """Interrupt the session's queries if the watched deadline has passed (the watchdog's
        round); once for a deadline."""
        with self._lock:
            if self._deadline is None or time.monotonic() <= self._deadline:
                return
            self._deadline = None
        try:
            self.session.interruptAll()
        except Exception:  # the server is gone: the query fails on its own
            log.debug("could not interrupt the Spark session's queries", exc_info=True)

    def close(self) -> None:
        self._closed.set()
        try:
            self.session.stop()
        except Exception:  # a session the server already dropped
            log.debug("could not stop the Spark session", exc_info=True)


def _watch(store: weakref.ref, closed: threading.Event) -> None:
    """Until the store is closed or gone, :meth:`SparkFactStore.interrupt_if_late` every
    :data:`WATCH_SECONDS` (a weak reference: a thread's forgotten store is collected)."""
    while not closed.wait(WATCH_SECONDS):
        alive = store()
        if alive is None:
            return
        alive.interrupt_if_late()
        del alive


# The Spark Connect client's retries of a failed call: 3, after 0.1, 0.4 and 1 s.
SPARK_RETRIES = {"max_retries": 3, "initial_backoff": 100, "max_backoff": 1000}
WATCH_SECONDS = 0.2

# Errors of a query cxloop built wrong: its own bugs, answered 500 with the traceback logged,
# not "the engine does not answer".
_QUERY_ERRORS = (
    "AnalysisException",
    "ParseException",
    "IllegalArgumentException",
    "ArithmeticException",
    "NumberFormatException",
    "DateTimeException",
    "UnsupportedOperationException",
    "PythonException",
)


def engine_failed(error: BaseException) -> bool:
    """Whether ``error`` says the analytics engine could not answer (Spark Connect: the server
    down or restarted, the session gone, a query interrupted at the request's deadline), not
    that cxloop's query was wrong."""
    errors = sys.modules.get("pyspark.errors")
    if errors is None or not isinstance(error, errors.PySparkException):
        return False
    wrong = tuple(getattr(errors, name) for name in _QUERY_ERRORS if hasattr(errors, name))
    return not isinstance(error, wrong)


def drop_stores() -> None:
    """Close and forget this thread's Spark stores: after the engine failed, the next request
    opens a new session (the server may have restarted or dropped an idle one)."""
    stores: dict = getattr(_local, "stores", None) or {}
    for key, store in list(stores.items()):
        if isinstance(store, SparkFactStore):
            store.close()
            del stores[key]


MONTHLY_TABLES = (
    "answers",
    "responses",
    "comments",
    "answer_counts",
    "answer_totals",
    "answer_sample",
    "answer_moments",
)
WHOLE_TABLES = ("customers", "segments", "themes")


def _files(source: Path | Location, manifest: Manifest) -> dict[str, list[str]]:
    """The files of each table that ``manifest`` describes, by table name, relative to the
    store's root (:func:`~cxloop.facts.store.named_files`; a store without comments or themes
    has queries over them answer nothing): a published store's objects, as its manifest maps
    them."""
    if isinstance(source, Location):
        return source.objects(manifest)
    return named_files(manifest, exists=lambda path: (source / path).is_file())


_local = threading.local()


def get_store(directory: str | Path | None = None) -> FactStore:
    """This thread's store over ``directory`` (default ``settings.FACTS_DIR``, or the published
    store where ``CXLOOP_FACTS_DIR`` is ``s3://…``), on the engine
    of ``settings.ANALYTICS_ENGINE``: DuckDB in this process, or the Spark Connect server at
    ``settings.SPARK_REMOTE``.

    A DuckDB connection must not run two queries at once, so each thread gets its own; with
    gunicorn's sync workers that is one per process.
    """
    from django.conf import settings

    source: Path | Location
    if directory is None and settings.FACTS_URI:
        source = published.location()
        where = source.uri
    else:
        source = Path(directory) if directory is not None else root()
        where = str(source.resolve())
    stores: dict[tuple, FactStore] = getattr(_local, "stores", None) or {}
    _local.stores = stores
    key = (where, settings.ANALYTICS_ENGINE, settings.SPARK_REMOTE)
    if key not in stores:
        if settings.ANALYTICS_ENGINE == "spark":
            stores[key] = SparkFactStore(source, remote=settings.SPARK_REMOTE)
        else:
            stores[key] = FactStore(source)
    return stores[key]


@dataclass(frozen=True)
class Scope:
    """What a page shows: a period, a segment and the teams the viewer may see.

    Attributes
    ----------
    since, until : datetime.date, optional
        First and last day (inclusive, UTC); None leaves that end open.
    segment_id : int, optional
        Only customers now in this segment.
    team_ids : tuple of int, optional
        Only responses of these teams; None is the whole organisation and an empty tuple
        shows nothing (a viewer who can see no team).
    """

    since: dt.date | None = None
    until: dt.date | None = None
    segment_id: int | None = None
    team_ids: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, dt.date) or isinstance(value, dt.datetime)
            ):
                raise ValueError(f"{name} must be a date, got {value!r}")
        if self.team_ids is not None:
            if isinstance(self.team_ids, str | bytes) or not isinstance(self.team_ids, Iterable):
                raise ValueError(
                    f"team_ids must be a list of team ids or None, got {self.team_ids!r}"
                )
            object.__setattr__(self, "team_ids", tuple(sorted({int(t) for t in self.team_ids})))
        if self.segment_id is not None:
            object.__setattr__(self, "segment_id", int(self.segment_id))

    @property
    def empty(self) -> bool:
        """True when nothing can match: no visible team, or a period that ends before it starts."""
        if self.team_ids == ():
            return True
        return self.since is not None and self.until is not None and self.since > self.until

    @property
    def first_month(self) -> str | None:
        return None if self.since is None else f"{self.since:%Y-%m}"

    @property
    def last_month(self) -> str | None:
        return None if self.until is None else f"{self.until:%Y-%m}"

    def as_of(self, today: dt.date | None = None) -> dt.date:
        """The day the scope's data are read to: ``until``, or today (UTC) when it is open or
        later. A chart period that ends after it is incomplete (partial)."""
        today = today or dt.datetime.now(dt.UTC).date()
        return today if self.until is None else min(self.until, today)

    def bounds(self, months: Iterable[str]) -> tuple[dt.datetime, dt.datetime] | None:
        """[start, end) in UTC of the period clipped to the stored ``months``; None if empty."""
        months = sorted(months)
        if not months:
            return None
        start, end = month_bounds(months[0])[0], month_bounds(months[-1])[1]
        if self.since is not None:
            start = max(start, dt.datetime.combine(self.since, dt.time(), tzinfo=dt.UTC))
        if self.until is not None:
            day_after = self.until + dt.timedelta(days=1)
            end = min(end, dt.datetime.combine(day_after, dt.time(), tzinfo=dt.UTC))
        return (start, end) if start < end else None

    def filter(self, table: ir.Table, segments: ir.Table | None, *, segment: bool = True):
        """``table`` (answers or responses) restricted to the scope, as Ibis predicates.

        The period is applied to the ``month`` partition key first (DuckDB and Spark then skip
        whole files) and to ``submitted_at`` only where it starts or ends inside a month.
        ``segment=False`` leaves the segment out (for a comparison of the segment with the
        rest).
        """
        predicates = []
        if self.first_month is not None:
            predicates.append(table.month >= self.first_month)
            if self.since.day != 1:
                since = dt.datetime.combine(self.since, dt.time(), tzinfo=dt.UTC)
                predicates.append(table.submitted_at >= ibis.timestamp(since))
        if self.last_month is not None:
            predicates.append(table.month <= self.last_month)
            day_after = self.until + dt.timedelta(days=1)
            if day_after.day != 1:
                end = dt.datetime.combine(day_after, dt.time(), tzinfo=dt.UTC)
                predicates.append(table.submitted_at < ibis.timestamp(end))
        if self.team_ids is not None:
            predicates.append(table.team_id.isin(list(self.team_ids)))
        if segment and self.segment_id is not None:
            if segments is None:
                raise ValueError("a segment filter needs the segments table")
            members = segments.filter(segments.segment_id == self.segment_id).customer_id
            predicates.append(table.customer_id.isin(members))
        return table.filter(*predicates) if predicates else table

    def partial_months(self) -> tuple[str, ...]:
        """The months the period starts or ends inside (not on their first or last day)."""
        partial = set()
        if self.since is not None and self.since.day != 1:
            partial.add(self.first_month)
        if self.until is not None and (self.until + dt.timedelta(days=1)).day != 1:
            partial.add(self.last_month)
        return tuple(sorted(partial))

    def counted(
        self, tables: FactTables, *, per_segment: bool = False, by_team: bool = True
    ) -> ir.Table:
        """``month, team_id, touchpoint_id, kind, score, n``: the answers in scope, counted.

        The months the period covers whole are read from the pre-counted ``answer_counts``
        (thousands of rows where the answers are millions: cxloop/facts/derived.py); a month it
        starts or ends inside is counted from its answers.

        ``per_segment``: counted once for each segment the answer's customer is in now, with
        ``segment_id`` (for a comparison of segments); the scope must name no segment, since
        the counts keep one segment per row.

        ``by_team`` False: without ``team_id``, for a reader that sums over the teams; the
        scope of every team then reads ``answer_totals``, the counts summed over the teams
        (a few thousand rows a month where the counts are hundreds of thousands), where every
        month the period covers whole has them.
        """
        if per_segment and self.segment_id is not None:
            raise ValueError("answers counted per segment cannot be narrowed to another segment")
        partial = self.partial_months()
        counts = tables.answer_counts
        keys = ["month", "team_id", "touchpoint_id", "kind", "score"]
        if not by_team:
            keys.remove("team_id")
            if (
                self.team_ids is None
                and tables.answer_totals is not None
                and tables.manifest.holds(
                    "answer_totals", self.first_month, self.last_month, skip=partial
                )
            ):
                counts = tables.answer_totals
        if per_segment:
            keys.insert(0, "segment_id")
            predicates = [counts.segment_id.notnull()]
        elif self.segment_id is None:
            predicates = [counts.segment_id.isnull()]
        else:
            predicates = [counts.segment_id == self.segment_id]
        if self.first_month is not None:
            predicates.append(counts.month >= self.first_month)
        if self.last_month is not None:
            predicates.append(counts.month <= self.last_month)
        if partial:
            predicates.append(~counts.month.isin(list(partial)))
        if self.team_ids is not None:
            predicates.append(counts.team_id.isin(list(self.team_ids)))
        whole = counts.filter(*predicates).select(*keys, "n")
        if not partial:
            return whole
        answers = self.filter(tables.answers, tables.segments)
        answers = answers.filter(answers.month.isin(list(partial)))
        if per_segment:
            members = tables.segments.select("customer_id", "segment_id").distinct()
            joined = answers.join(members, answers.customer_id == members.customer_id)
            answers = joined.select(*answers.columns, segment_id=members.segment_id)
        edges = answers.group_by(keys).aggregate(n=ibis._.count())
        return ibis.union(whole, edges.select(*keys, "n"), distinct=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
            "segment_id": self.segment_id,
            "team_ids": None if self.team_ids is None else list(self.team_ids),
        }


CACHE_SECONDS = 24 * 3600  # keys carry the data version; this only lets old versions expire


def cache_key(query: Any, version: str, directory: str = "") -> str:
    """A cache key of the data version, the store and every parameter of ``query`` (a frozen
    dataclass with a ``scope``)."""
    params = {f.name: getattr(query, f.name) for f in dataclasses.fields(query)}
    params["scope"] = query.scope.to_dict()
    params["query"] = type(query).__name__
    params["directory"] = directory
    # Charts mark the period that is not over yet as partial: a result is good for its day.
    params["today"] = dt.datetime.now(dt.UTC).date().isoformat()
    text = json.dumps(params, sort_keys=True, default=_json_default)
    # 2: results carry periods, signals and changes (issue #10); older entries do not.
    # 3: the overview's trends are at the rhythm of their data (quarters for waves).
    return f"cxloop:insights:3:{version}:{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | frozenset | set):
        return sorted(value) if isinstance(value, frozenset | set) else list(value)
    raise TypeError(f"{value!r} is not a query parameter")


def run_cached(query: Any, *, store: FactStore | None = None, cache: bool = True) -> Any:
    """``query.calculate`` on the store's current tables, cached in Django's cache under the
    data version and :func:`cache_key`: a new write gives a new version, so nothing stale is
    served and nothing needs invalidating."""
    from django.core.cache import cache as django_cache

    store = store if store is not None else get_store()
    manifest = store.manifest()
    if manifest is None:
        return query.calculate(None)  # nothing written yet: an empty result
    key = cache_key(query, manifest.version, str(store.directory))
    if cache:
        hit = django_cache.get(key)
        if hit is not None:
            return hit
    try:
        result = query.calculate(store.tables(manifest))
    except Exception:
        newer = _superseding(store, manifest)
        if newer is None:
            raise
        # A write removed files of the version being read (a refresh removes the parts it
        # superseded once its manifest is written): the newer version is read instead.
        manifest, key = newer, cache_key(query, newer.version, str(store.directory))
        result = query.calculate(store.tables(newer))
    if cache:
        django_cache.set(key, result, CACHE_SECONDS)
    return result


def _superseding(store: FactStore, manifest: Manifest) -> Manifest | None:
    """The store's newer manifest when one was written since ``manifest`` and some file of
    ``manifest`` is gone; else None (a failure of its own, to be raised). On object storage,
    where telling would take a request a file, any newer version: a failure of its own fails
    again there."""
    newer = store.manifest()
    if newer is None or not newer.months or newer.version == manifest.version:
        return None
    if isinstance(store.directory, Location):
        return newer
    named = (
        path
        for month, counts in manifest.months.items()
        for table in MONTHLY_TABLES
        for path in counts.paths(table, month, base=store.directory)
    )
    return newer if any(not path.exists() for path in named) else None
