"""Where the fact store's files are, and how they are written so that readers never see half.

Layout under ``settings.FACTS_DIR`` (docs/facts.md)::

    manifest.json
    responses/month=YYYY-MM/part-N.parquet
    answers/month=YYYY-MM/part-N.parquet
    comments/month=YYYY-MM/part-N.parquet
    answer_counts/month=YYYY-MM/part-N.parquet
    answer_totals/month=YYYY-MM/part-N.parquet
    answer_sample/month=YYYY-MM/part-N.parquet
    answer_moments/month=YYYY-MM/part-N.parquet
    customers.parquet
    segments.parquet
    themes.parquet

A month of a table is one or more parts, and the manifest names them (:attr:`MonthCounts.parts`):
a month written whole is one part; responses added to it since are appended as parts of their
own to the tables that only grow (:data:`APPENDABLE`), until the month is written whole again.
Every write gives its files a part number the month has not used, so a monthly file is never
replaced in place: a reader (DuckDB, or Spark's executors) that listed the previous version's
files reads them whole until they are removed. (The whole tables — customers, segments,
themes — are small and still replaced in place.)

Every file of a write is first staged under a temporary name in its own directory; when all
are written they are moved into place with ``os.replace`` (atomic on one file system) and the
manifest is written last, so a failure leaves the previous files and manifest as they were, and
a reader that sees a version finds that version's files. Then the files no manifest names any
more are removed (:func:`sweep`). Writers hold an exclusive lock on ``.lock`` while they read
the database and write, so two tasks refreshing months at once cannot interleave their files
or their manifests.
"""

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings

from cxloop.facts.schema import MONTHLY, OPTIONAL_BEFORE, READABLE_SCHEMAS, SCHEMA_VERSION, WHOLE

if TYPE_CHECKING:
    from cxloop.facts import published

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
PART = re.compile(r"^part-(\d+)\.parquet$")
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
COMPRESSION = "zstd"
ROW_GROUP_SIZE = 128 * 1024
# The tables whose rows of a month only grow as responses arrive: new responses' rows go to a
# part of their own. Comments change in place (enrichment), so a month's comments are always
# written whole.
APPENDABLE = (
    "responses",
    "answers",
    "answer_counts",
    "answer_totals",
    "answer_sample",
    "answer_moments",
)


class FactStoreError(RuntimeError):
    """The store's files cannot be used as they are; the message says which and why."""


def root() -> Path:
    """The store's folder: the working copy, where the store is published."""
    return Path(settings.FACTS_DIR)


def where() -> str:
    """Where the store is, for people: its folder, or its bucket and working copy."""
    if settings.FACTS_URI:
        return f"{settings.FACTS_URI} (working copy {root()})"
    return str(root())


def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a "YYYY-MM" month in UTC."""
    year, number = int(month[:4]), int(month[5:7])
    start = dt.datetime(year, number, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=dt.UTC)
    return start, end


def check_month(month: str) -> str:
    """``month`` if it is "YYYY-MM", else ValueError naming it."""
    if not isinstance(month, str) or not MONTH.match(month):
        raise ValueError(f"expected a month as YYYY-MM, got {month!r}")
    return month


def month_path(table: str, month: str, *, part: int = 0, base: Path | None = None) -> Path:
    """The file of one part of one month of a partitioned table (``responses``, ``answers``…)."""
    if table not in MONTHLY:
        raise ValueError(f"{table!r} is not partitioned by month")
    return (base or root()) / table / f"month={check_month(month)}" / f"part-{part}.parquet"


def table_path(table: str, *, base: Path | None = None) -> Path:
    """The file of a whole table (``customers`` or ``segments``)."""
    return (base or root()) / f"{table}.parquet"


def stored_months(table: str, *, base: Path | None = None) -> set[str]:
    """The months that have a partition directory of ``table`` on disk."""
    directory = (base or root()) / table
    if not directory.is_dir():
        return set()
    return {
        entry.name.removeprefix("month=")
        for entry in directory.iterdir()
        if entry.is_dir() and entry.name.startswith("month=")
    }


def _one_part() -> dict[str, tuple[int, ...]]:
    return dict.fromkeys(MONTHLY, (0,))


@dataclass(frozen=True)
class MonthCounts:
    """A month's row counts, and the parts each of its tables is made of (by part number)."""

    responses: int
    answers: int
    comments: int = 0
    parts: Mapping[str, tuple[int, ...]] = field(default_factory=_one_part)

    @classmethod
    def whole(cls, responses: int, answers: int, comments: int, part: int) -> "MonthCounts":
        """A month written whole, every table as part number ``part``."""
        return cls(responses, answers, comments, dict.fromkeys(MONTHLY, (part,)))

    @property
    def next_part(self) -> int:
        """A part number none of the month's tables uses."""
        return 1 + max(max(numbers) for numbers in self.parts.values() if numbers)

    def paths(self, table: str, month: str, *, base: Path | None = None) -> list[Path]:
        """The files of ``table`` in this month."""
        return [month_path(table, month, part=p, base=base) for p in self.parts[table]]

    def read(self, table: str, month: str, *, base: Path | None = None, columns=None) -> pa.Table:
        """This month's rows of ``table``, every part (``columns`` only, when given)."""
        return pa.concat_tables(
            pq.read_table(path, columns=columns, schema=MONTHLY[table])
            for path in self.paths(table, month, base=base)
        )

    def to_dict(self) -> dict:
        return {
            "responses": self.responses,
            "answers": self.answers,
            "comments": self.comments,
            "parts": {table: list(self.parts[table]) for table in sorted(self.parts)},
        }

    @classmethod
    def from_dict(cls, data: Mapping, schema: int = SCHEMA_VERSION) -> "MonthCounts":
        """``schema``: the manifest's; a month of an older one has no part of the tables that
        came after it (:data:`~cxloop.facts.schema.OPTIONAL_BEFORE`)."""
        parts = data.get("parts")
        if parts is None:  # schema 4, or 5 written before parts existed: part 0 of each table
            parts = {t: (0,) for t in MONTHLY if schema >= OPTIONAL_BEFORE.get(t, 0)}
        else:
            parts = {t: tuple(map(int, p)) for t, p in parts.items()}
        for name, since in OPTIONAL_BEFORE.items():
            if schema < since and name not in parts:
                parts[name] = ()
        if set(parts) != set(MONTHLY) or not all(
            numbers for name, numbers in parts.items() if name not in OPTIONAL_BEFORE
        ):
            raise ValueError(f"parts must name some part of each of {sorted(MONTHLY)}: {parts}")
        return cls(
            int(data["responses"]), int(data["answers"]), int(data.get("comments", 0)), parts
        )


@dataclass(frozen=True)
class Manifest:
    """What the store holds: ``version`` changes on every write; ``months`` are the months with
    data and their row counts."""

    version: str
    written_at: dt.datetime
    months: dict[str, MonthCounts] = field(default_factory=dict)
    schema: int = SCHEMA_VERSION
    # The digest of the segments table the months' answer_counts were counted with (None:
    # not known, as in a store of schema 4): what a refresh compares the database's with.
    segments: str | None = None
    # Where a published store keeps each file (the working copy's relative path → the object's
    # name, which carries a digest of its content: decision 024); empty for a store that was
    # never published.
    files: Mapping[str, str] = field(default_factory=dict)

    def answers_in(self, first: str | None, last: str | None) -> int:
        """Answers in the months from ``first`` to ``last`` (inclusive; None: unbounded)."""
        return sum(
            counts.answers
            for month, counts in self.months.items()
            if (first is None or month >= first) and (last is None or month <= last)
        )

    def holds(
        self, table: str, first: str | None, last: str | None, *, skip: Iterable[str] = ()
    ) -> bool:
        """Whether every stored month from ``first`` to ``last`` (inclusive; None: unbounded),
        but those in ``skip``, has parts of ``table`` (a month written by an older schema may
        have none of a table that came after it)."""
        skip = set(skip)
        return all(
            counts.parts[table]
            for month, counts in self.months.items()
            if (first is None or month >= first)
            and (last is None or month <= last)
            and month not in skip
        )

    def to_dict(self) -> dict:
        return {
            "schema": self.schema,
            "version": self.version,
            "written_at": self.written_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
            "segments": self.segments,
            "months": {m: self.months[m].to_dict() for m in sorted(self.months)},
            **({"files": dict(sorted(self.files.items()))} if self.files else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> "Manifest":
        return cls(
            schema=int(data["schema"]),
            version=str(data["version"]),
            written_at=dt.datetime.fromisoformat(data["written_at"]),
            months={
                check_month(m): MonthCounts.from_dict(c, int(data["schema"]))
                for m, c in data["months"].items()
            },
            segments=data.get("segments"),
            files={str(path): str(name) for path, name in data.get("files", {}).items()},
        )


def read_month(table: str, month: str, *, base: Path | None = None) -> pa.Table:
    """The stored rows of one month of ``table``, all its parts, as the manifest names them
    (the working copy's, where the store is published)."""
    manifest = read_manifest(base=base or root())
    if manifest is None or month not in manifest.months:
        raise FactStoreError(f"the fact store holds no month {month}")
    return manifest.months[month].read(table, month, base=base)


def new_version() -> str:
    """An opaque version that differs on every write (sortable by time, for people)."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(4)


def read_manifest(*, base: Path | None = None) -> Manifest | None:
    """The manifest, or None when the store has not been written yet. Without ``base``, the
    settings' store: the published one where ``CXLOOP_FACTS_DIR`` is ``s3://…``."""
    if base is None and settings.FACTS_URI:
        from cxloop.facts import published

        return published.location().read_manifest()
    path = (base or root()) / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as error:
        raise FactStoreError(f"{path}: unreadable ({error}); run cxloop facts rebuild") from None
    return parse_manifest(text, where=str(path))


def parse_manifest(text: str, *, where: str) -> Manifest:
    """The manifest in ``text`` (read from ``where``), or FactStoreError saying why not."""
    try:
        manifest = Manifest.from_dict(json.loads(text))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise FactStoreError(f"{where}: malformed ({error}); run cxloop facts rebuild") from None
    if manifest.schema not in READABLE_SCHEMAS:
        raise FactStoreError(
            f"{where}: schema {manifest.schema}, this cxloop writes {SCHEMA_VERSION}; "
            "run cxloop facts rebuild"
        )
    return manifest


def manifest_text(manifest: Manifest) -> str:
    return json.dumps(manifest.to_dict(), indent=2, ensure_ascii=False) + "\n"


# The tables written whole under one name (the others are monthly parts).
WHOLE_FILES = tuple(f"{table}.parquet" for table in WHOLE)


def named_files(manifest: Manifest, *, exists: Callable[[str], bool]) -> dict[str, list[str]]:
    """The files ``manifest`` names, by table, as paths relative to the store's root.

    Comments and themes came with schema 3: a store written without them (a synthetic one, a
    test's) has none, and a month without comments may have no file of them; those are named
    where ``exists(path)`` says they are.
    """
    files = {}
    for table in MONTHLY:
        paths = [
            relative
            for month, counts in sorted(manifest.months.items())
            for part in counts.parts[table]
            for relative in [f"{table}/month={month}/part-{part}.parquet"]
            if table != "comments" or counts.comments or exists(relative)
        ]
        if paths:
            files[table] = paths
    for relative in WHOLE_FILES:
        if relative != "themes.parquet" or exists(relative):
            files[relative.removesuffix(".parquet")] = [relative]
    return files


def _temporary(path: Path) -> Path:
    # Hidden and not ending in .parquet, so that globs and dataset readers skip it.
    return path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")


def _write_parquet(table: pa.Table, path: Path, row_group_size: int = ROW_GROUP_SIZE) -> None:
    pq.write_table(
        table, path, compression=COMPRESSION, row_group_size=row_group_size, write_statistics=True
    )


class Writer:
    """Files staged under temporary names, put in place together by :meth:`commit`: a failure
    before then leaves every file and the manifest as they were."""

    def __init__(self, base: Path, location: "published.Location | None" = None):
        self.base = base
        self.location = location  # where the store is published, if it is
        self.bytes = 0
        self.fetched: published.Found | None = None  # what was published when it began
        self._staged: list[tuple[Path, Path]] = []

    def write(self, table: pa.Table, path: Path, *, row_group_size: int = ROW_GROUP_SIZE) -> int:
        """Stage ``table`` for ``path`` as zstd Parquet; its size in bytes."""
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = _temporary(path)
        self._staged.append((temporary, path))
        _write_parquet(table, temporary, row_group_size)
        with open(temporary, "rb") as written:
            os.fsync(written.fileno())  # on disk before the name points at it
        size = temporary.stat().st_size
        self.bytes += size
        return size

    def commit(self, manifest: "Manifest") -> None:
        """Move the staged files into place, then write ``manifest``, then remove the files
        and months it no longer names (:func:`sweep`)."""
        written = {path.relative_to(self.base).as_posix() for _temporary, path in self._staged}
        for temporary, path in self._staged:
            os.replace(temporary, path)
        self._staged.clear()
        if self.location is not None:
            from cxloop.facts import published

            # Before the working copy's manifest, which then records where each file was
            # published: if publishing fails, the published version and the copy's manifest
            # stay as they were, and the files just moved in are swept by the next writer.
            manifest = published.publish(
                self.location, self.base, manifest, written=written, since=self.fetched
            )
        write_manifest(manifest, base=self.base)
        try:
            sweep(manifest, base=self.base)
        except OSError:
            # The write stands (its manifest is written); the next writer sweeps again.
            log.exception("the fact store's superseded files could not all be removed")

    def discard(self) -> None:
        for temporary, _path in self._staged:
            temporary.unlink(missing_ok=True)
        self._staged.clear()


@contextlib.contextmanager
def writing(*, base: Path | None = None) -> Iterator[Writer]:
    """A :class:`Writer` under the store's lock; what was not committed is discarded. The
    settings' store, when published (``CXLOOP_FACTS_DIR=s3://…``), is written from the
    published version, under the lock of every machine's writers, and published at commit."""
    from cxloop.facts import published

    location = published.location() if base is None else None
    machines = published.machines_lock() if location else contextlib.nullcontext()
    with machines, locked(base=base) as directory:
        # Only the lock's holder writes, so temporary files found now were left by a writer
        # that died (killed, or the machine stopped) before it could remove them.
        for leftover in directory.rglob(".*.tmp"):
            leftover.unlink(missing_ok=True)
        writer = Writer(directory, location)
        if location is not None:
            writer.fetched = published.fetch(location, directory)
        try:
            yield writer
        finally:
            writer.discard()


def write_manifest(manifest: Manifest, *, base: Path | None = None) -> None:
    path = (base or root()) / MANIFEST
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(path)
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(manifest_text(manifest))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def missing_files(manifest: Manifest, *, base: Path | None = None) -> list[Path]:
    """The files ``manifest`` names that are not on disk (comments excepted: a store written
    before them, or a synthetic one, has none, and readers take none for no comments)."""
    directory = base or root()
    named = [directory / f"{table}.parquet" for table in ("customers", "segments")]
    for month, counts in manifest.months.items():
        for table in MONTHLY:
            if table != "comments":
                named += counts.paths(table, month, base=directory)
    return [path for path in named if not path.exists()]


def sweep(manifest: Manifest, *, base: Path | None = None) -> None:
    """Remove the partitions of months ``manifest`` does not list and the part files it does
    not name: what earlier versions were made of (and what a writer that died left)."""
    directory = base or root()
    for table in MONTHLY:
        for month in stored_months(table, base=directory):
            folder = directory / table / f"month={month}"
            counts = manifest.months.get(month)
            if counts is None:
                shutil.rmtree(folder, ignore_errors=True)
                continue
            named = set(counts.parts[table])
            for entry in folder.iterdir():
                found = PART.match(entry.name)
                if found and int(found.group(1)) not in named:
                    entry.unlink(missing_ok=True)


def size_in_bytes(*, base: Path | None = None) -> int:
    """The bytes of the store's Parquet files and manifest."""
    directory = base or root()
    if not directory.is_dir():
        return 0
    files = [*directory.rglob("*.parquet"), directory / MANIFEST]
    return sum(f.stat().st_size for f in files if f.is_file() and not f.name.startswith("."))


@contextlib.contextmanager
def locked(*, base: Path | None = None) -> Iterator[Path]:
    """Hold the store's write lock (an advisory lock on ``.lock``, released if the process
    dies); yields the store's directory."""
    directory = base or root()
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield directory
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
