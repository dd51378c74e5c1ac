"""One archive that holds a whole cxloop instance, and its restore (docs/backup.md).

The archive is a gzip'd tar::

    database/cxloop.sqlite3    SQLite: a copy made by SQLite's online backup API
    database/cxloop.pgdump     PostgreSQL: pg_dump --format=custom
    data/<path>                the data directory's files that are state (see below)
    facts/<path>               the fact store (FACTS_DIR), copied under its write lock
    manifest.json              written last: format, cxloop version, database vendor, the
                               migrations applied, when, and every file's size and SHA-256

Of the data directory it keeps everything but what cxloop rebuilds or throws away: the database
itself (and its -wal/-shm), the test database, ``cache/`` (the file cache), ``static/`` (collected
from the package at every ``cxloop serve``), ``media/imports/`` (uploads of unfinished imports,
deleted after a day), temporary files (``.*.tmp``, ``.*.partial``) and earlier backups. So the
secret key (every signed link already e-mailed stays valid) and anything added later are kept.

The archive is written under a temporary name beside its final one and renamed when complete;
a restore unpacks into a folder of its own and checks every file against the manifest before it
changes anything.
"""

import datetime as dt
import gzip
import hashlib
import importlib.metadata
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.utils import translation
from django.utils.translation import gettext as _

from cxloop.facts import queries as fact_queries
from cxloop.facts import store as fact_store
from cxloop.facts import sync as fact_sync

FORMAT = "cxloop-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
VENDOR_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
DATABASE_FILES = {"sqlite": "database/cxloop.sqlite3", "postgresql": "database/cxloop.pgdump"}
SECTIONS = ("database", "data", "facts")
# gzip's usual level. The full demo (96 MB of SQLite, 2.4 MB of fact store) on 2 cores: level 1
# 3.2 s and 38.6 MB, level 6 6.6 s and 35.6 MB, level 9 10.9 s and 35.2 MB.
COMPRESS_LEVEL = 6
# Rows that `migrate` itself writes (content types, permissions, the calendar it seeds): a
# database holding only these is as good as empty.
FILLED_BY_MIGRATE = {
    "contenttypes.ContentType",
    "auth.Permission",
    "people.BusinessCalendar",
    "people.CalendarDay",
}
# A SQLite database's file and the files beside it while it is open.
_SIDECARS = ("", "-wal", "-shm", "-journal")
BACKUP_NAME = re.compile(r"^cxloop-backup-.*\.tar\.gz$")
PG_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", re.MULTILINE)


class BackupError(Exception):
    """A backup or restore that cannot go on; the message (translated) names the path or value,
    and nothing was left half-done."""


def terminal_language() -> str:
    """The language of messages on a terminal, "ru" or "en": the locale's, looked for as
    gettext does (LANGUAGE, LC_ALL, LC_MESSAGES, LANG); English for any other or none."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "ru" if value.lower().startswith("ru") else "en"
    return "en"


class InTerminalLanguage:
    """For a management command: its help and its messages in :func:`terminal_language`, the
    language the caller had left as it was afterwards."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        with translation.override(terminal_language()):
            self.help = str(self.help)  # argparse takes no lazy text
            return super().create_parser(prog_name, subcommand, **kwargs)

    def execute(self, *args, **options):
        with translation.override(terminal_language()):
            return super().execute(*args, **options)


def cxloop_version() -> str:
    return importlib.metadata.version("cxloop")


# Backup


@dataclass(frozen=True)
class Written:
    """What :func:`write_backup` wrote."""

    path: Path
    bytes: int
    vendor: str
    data_files: int
    fact_files: int


def archive_path(output: Path | None, now: dt.datetime) -> Path:
    """Where the archive goes: ``output``, or the default name in ``output`` when it is a folder
    (in the current folder when None)."""
    name = f"cxloop-backup-{now.astimezone():%Y%m%d-%H%M%S}.tar.gz"  # the machine's local time
    if output is None:
        return Path.cwd() / name
    output = output.expanduser().absolute()
    return output / name if output.is_dir() else output


def write_backup(target: Path, *, now: dt.datetime) -> Written:
    """Write the archive to ``target`` (see the module's docstring): first under a temporary
    name in its folder, renamed when complete, so a failed backup leaves no archive there."""
    if not target.parent.is_dir():
        raise BackupError(_("No folder %(path)s to write the backup in.") % {"path": target.parent})
    handle, partial = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".partial", dir=target.parent
    )
    scratch = Path(tempfile.mkdtemp(prefix=".cxloop-backup-", dir=target.parent))
    try:
        with os.fdopen(handle, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=COMPRESS_LEVEL) as tar:
                archive = _ArchiveWriter(tar)
                vendor, migrations = _add_database(archive, scratch)
                skipped = {target, Path(partial), scratch}
                data_files = archive.add_tree(Path(settings.DATA_DIR), "data", _data_skip(skipped))
                fact_files = _add_fact_store(archive)
                archive.add_manifest(_manifest(vendor, migrations, now, archive.entries), now)
            raw.flush()
            os.fsync(raw.fileno())  # on disk before the name says it is complete
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Written(target, target.stat().st_size, vendor, data_files, fact_files)


class _HashingReader:
    """A file read through, its SHA-256 taken on the way (tarfile reads it once)."""

    def __init__(self, handle):
        self.handle = handle
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        self.sha256.update(chunk)
        return chunk


class _ArchiveWriter:
    def __init__(self, tar: tarfile.TarFile):
        self.tar = tar
        self.entries: list[dict] = []

    def add(self, path: Path, name: str) -> None:
        # Sized from the open file: a fact-store file replaced meanwhile (os.replace) is still
        # this one, whole.
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = (
                status.st_size,
                status.st_mtime,
                status.st_mode & 0o777,
            )
            reader = _HashingReader(handle)
            self.tar.addfile(info, reader)
        self.entries.append({"path": name, "size": info.size, "sha256": reader.sha256.hexdigest()})

    def add_tree(self, root: Path, section: str, skipped) -> int:
        """Add the regular files under ``root`` that ``skipped(path)`` keeps; how many."""
        count = 0
        for path in _files_under(root, skipped):
            self.add(path, f"{section}/{path.relative_to(root).as_posix()}")
            count += 1
        return count

    def add_manifest(self, manifest: dict, now: dt.datetime) -> None:
        body = json.dumps(manifest, indent=2, ensure_ascii=False).encode() + b"\n"
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(body), int(now.timestamp()), 0o600
        self.tar.addfile(info, io.BytesIO(body))


def _files_under(root: Path, skipped) -> Iterator[Path]:
    """Regular files under ``root`` in a stable order, not following links."""
    for folder, folders, files in os.walk(root):
        here = Path(folder)
        folders[:] = sorted(name for name in folders if not skipped(here / name))
        for name in sorted(files):
            path = here / name
            if path.is_file() and not path.is_symlink() and not skipped(path):
                yield path


def _temporary(name: str) -> bool:
    return name.startswith(".") and name.endswith((".tmp", ".partial"))


def _data_skip(extra: set[Path]):
    """What of the data directory is not state (the module's docstring says why)."""
    skipped = {
        *extra,
        Path(settings.CACHES["default"]["LOCATION"]),
        Path(settings.STATIC_ROOT),
        Path(settings.MEDIA_ROOT) / "imports",
        Path(settings.FACTS_DIR),
        Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]),  # this machine's processes' counters
    }
    if connection.vendor == "sqlite":
        database = settings.DATABASES["default"]
        for base in (database["NAME"], database.get("TEST", {}).get("NAME")):
            skipped.update(Path(f"{base}{suffix}") for suffix in _SIDECARS if base)
    skipped = {path.absolute() for path in skipped}

    def skip(path: Path) -> bool:
        name = path.name
        return path.absolute() in skipped or _temporary(name) or bool(BACKUP_NAME.match(name))

    return skip


def _add_database(archive: _ArchiveWriter, scratch: Path) -> tuple[str, dict[str, list[str]]]:
    """Snapshot the database into ``scratch``, add it; its vendor and applied migrations."""
    vendor = connection.vendor
    try:
        migrations = applied_migrations()
    except DatabaseError as error:
        raise unreadable_database(error) from None
    snapshot = scratch / PurePosixPath(DATABASE_FILES[vendor]).name
    if vendor == "sqlite":
        _snapshot_sqlite(snapshot)
    else:
        _dump_postgresql(snapshot)
    archive.add(snapshot, DATABASE_FILES[vendor])
    return vendor, migrations


def applied_migrations() -> dict[str, list[str]]:
    """App label → the names of its migrations applied to the database."""
    applied: dict[str, list[str]] = {}
    for app, name in sorted(MigrationRecorder(connection).applied_migrations()):
        applied.setdefault(app, []).append(name)
    return applied


def _snapshot_sqlite(snapshot: Path) -> None:
    import sqlite3

    source_path = Path(settings.DATABASES["default"]["NAME"])
    if not source_path.is_file():
        raise BackupError(_("No database at %(path)s: nothing to back up.") % {"path": source_path})
    # One step (pages=-1) copies every page inside one read transaction: in WAL mode that is a
    # consistent snapshot, and the server and worker keep writing meanwhile.
    source = sqlite3.connect(source_path, timeout=20)
    target = sqlite3.connect(snapshot)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()


def _postgres_environment() -> dict[str, str]:
    """libpq's variables for the configured database, so that no password is on a command line."""
    database = settings.DATABASES["default"]
    variables = {
        "PGHOST": database.get("HOST") or "",
        "PGPORT": str(database.get("PORT") or ""),
        "PGUSER": database.get("USER") or "",
        "PGPASSWORD": database.get("PASSWORD") or "",
        "PGDATABASE": database["NAME"],
    }
    return os.environ | {name: value for name, value in variables.items() if value}


def _postgres_program(name: str) -> str:
    program = shutil.which(name)
    if program is None:
        raise BackupError(
            _(
                "%(program)s was not found on PATH: install PostgreSQL's client programs, of the "
                "server's version (%(version)s) or newer."
            )
            % {"program": name, "version": connection.pg_version // 10000}
        )
    return program


def _run_postgres_program(arguments: list[str]) -> str:
    """Run pg_dump or pg_restore; its output, or BackupError with the last line it printed."""
    result = subprocess.run(
        arguments, env=_postgres_environment(), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        raise BackupError(
            _("%(program)s failed (exit status %(status)s): %(error)s")
            % {
                "program": Path(arguments[0]).name,
                "status": result.returncode,
                "error": lines[-1] if lines else "",
            }
        )
    return result.stdout


def _dump_postgresql(snapshot: Path) -> None:
    # pg_dump reads in one snapshot of its own: consistent while the server writes.
    _run_postgres_program(
        [_postgres_program("pg_dump"), "--format=custom", "--no-password", f"--file={snapshot}"]
    )


def _add_fact_store(archive: _ArchiveWriter) -> int:
    root = Path(settings.FACTS_DIR)
    if not root.is_dir():
        return 0
    # Under the store's write lock: a refresh rewriting months meanwhile would leave files of
    # two versions beside one manifest. Writers wait for the copy (seconds a gigabyte).
    with fact_store.locked() as directory:
        return archive.add_tree(
            directory, "facts", lambda path: path.name == ".lock" or _temporary(path.name)
        )


def _manifest(vendor: str, migrations: dict, now: dt.datetime, entries: list[dict]) -> dict:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "cxloop_version": cxloop_version(),
        "created_at": now.astimezone(dt.UTC).isoformat(),
        "database": {"vendor": vendor, "file": DATABASE_FILES[vendor]},
        "migrations": migrations,
        "files": entries,
    }


# Restore


@dataclass(frozen=True)
class Manifest:
    """An archive's manifest, checked for shape."""

    cxloop_version: str
    created_at: dt.datetime
    vendor: str
    database_file: str
    migrations: frozenset[tuple[str, str]]
    files: dict[str, tuple[int, str]]  # archive path → (size, SHA-256)

    @classmethod
    def parse(cls, data: object, archive: Path) -> "Manifest":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BackupError(
                _("%(path)s is not a cxloop backup: its manifest is not one.") % {"path": archive}
            )
        version = data.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise BackupError(
                _(
                    "%(path)s was written in backup format %(found)s; this cxloop reads "
                    "format %(known)s."
                )
                % {"path": archive, "found": version, "known": FORMAT_VERSION}
            )
        try:
            database = data["database"]
            return cls(
                cxloop_version=str(data["cxloop_version"]),
                created_at=dt.datetime.fromisoformat(data["created_at"]),
                vendor=database["vendor"],
                database_file=database["file"],
                migrations=frozenset(
                    (app, name) for app, names in data["migrations"].items() for name in names
                ),
                files={
                    entry["path"]: (int(entry["size"]), str(entry["sha256"]))
                    for entry in data["files"]
                },
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise BackupError(
                _("%(path)s has a damaged manifest (%(error)s).")
                % {"path": archive, "error": repr(error)}
            ) from None


@dataclass(frozen=True)
class Restored:
    """What :func:`restore` did."""

    manifest: Manifest
    database: str
    data_files: int
    fact_files: int
    migrations_applied: tuple[str, ...]
    fact_months_refreshed: tuple[str, ...]
    facts_rebuilt: bool


def describe_database() -> str:
    """The configured database, for messages: a SQLite file's path, or name@host:port."""
    database = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        return str(database["NAME"])
    host = database.get("HOST") or "localhost"
    port = database.get("PORT") or 5432
    return f"{database['NAME']}@{host}:{port}"


def table_with_rows() -> str | None:
    """A table of the configured database that holds data (rows beyond what ``migrate`` writes),
    or None when it holds none, or does not exist yet."""
    if connection.vendor == "sqlite" and not Path(settings.DATABASES["default"]["NAME"]).exists():
        return None
    try:
        tables = set(connection.introspection.table_names())
        for model in apps.get_models(include_auto_created=True):
            meta = model._meta
            if meta.label in FILLED_BY_MIGRATE or not meta.managed or meta.proxy:
                continue
            if meta.db_table in tables and model._base_manager.exists():
                return meta.db_table
        return None
    except DatabaseError as error:
        raise unreadable_database(error) from None
    finally:
        connections.close_all()


def unreadable_database(error: DatabaseError) -> BackupError:
    return BackupError(
        _("Cannot read the database %(database)s: %(error)s")
        % {"database": describe_database(), "error": " ".join(str(error).split())}  # one line
    )


def restore(archive: Path, *, force: bool) -> Restored:
    """Put the instance in ``archive`` in place of the configured one (see docs/backup.md).

    Refuses, having changed nothing, an archive that is not a whole cxloop backup, one of
    another database vendor or of a schema newer than the code, and (unless ``force``) a
    database that holds data. Then restores the database and the files, applies the
    migrations the code has beyond the archive's, and brings the fact store level with the
    restored database."""
    if not archive.is_file():
        raise BackupError(_("No backup at %(path)s.") % {"path": archive})
    if not force and (table := table_with_rows()) is not None:
        raise BackupError(
            _(
                "The database %(database)s already holds data (table %(table)s has rows); "
                "restoring would replace it. Run again with --force to replace it."
            )
            % {"database": describe_database(), "table": table}
        )
    data_dir = Path(settings.DATA_DIR)
    staging = Path(tempfile.mkdtemp(prefix=".cxloop-restore-", dir=data_dir))
    try:
        manifest = unpack(archive, staging)
        check_compatible(manifest, archive)
        _restore_database(manifest, staging)
        data_files = _put_tree_in_place(staging / "data", data_dir)
        fact_files = _put_fact_store_in_place(staging / "facts")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    applied = _migrate()
    refreshed, rebuilt = align_fact_store()
    return Restored(
        manifest=manifest,
        database=describe_database(),
        data_files=data_files,
        fact_files=fact_files,
        migrations_applied=applied,
        fact_months_refreshed=refreshed,
        facts_rebuilt=rebuilt,
    )


def unpack(archive: Path, staging: Path) -> Manifest:
    """Unpack ``archive`` into ``staging`` and check every file against its manifest; the
    manifest. BackupError for an archive that is damaged or not a cxloop backup."""
    found: dict[str, tuple[int, str]] = {}
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for member in tar:
                name = _member_name(member, archive)
                if name in found:
                    raise BackupError(
                        _("%(path)s holds %(name)s twice.") % {"path": archive, "name": name}
                    )
                found[name] = _extract(tar, member, staging / name)
            _check_end(tar, archive)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise BackupError(
            _("%(path)s is damaged or not a cxloop backup (%(error)s).")
            % {"path": archive, "error": error}
        ) from None
    if MANIFEST not in found:
        raise BackupError(
            _("%(path)s is not a cxloop backup: it has no manifest.") % {"path": archive}
        )
    try:
        data = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
    except ValueError as error:
        raise BackupError(
            _("%(path)s has a damaged manifest (%(error)s).") % {"path": archive, "error": error}
        ) from None
    manifest = Manifest.parse(data, archive)
    _check_files(manifest, {k: v for k, v in found.items() if k != MANIFEST}, archive)
    return manifest


def _check_end(tar: tarfile.TarFile, archive: Path) -> None:
    """tarfile ends its listing at the first header it cannot read, as if the archive ended
    there: what follows must be the zero blocks that end a tar, and reading the gzip stream to
    its end checks its CRC."""
    while chunk := tar.fileobj.read(1 << 20):
        if chunk.strip(b"\0"):
            raise BackupError(
                _("%(path)s is damaged or not a cxloop backup (%(error)s).")
                % {"path": archive, "error": _("data after the last file it could read")}
            )


def _member_name(member: tarfile.TarInfo, archive: Path) -> str:
    """The member's name, if it is a regular file where a cxloop backup puts one."""
    path = PurePosixPath(member.name)
    allowed = member.name == MANIFEST or (
        len(path.parts) > 1
        and path.parts[0] in SECTIONS
        and not path.is_absolute()
        and ".." not in path.parts
    )
    if not member.isfile() or not allowed:
        raise BackupError(
            _("%(path)s is not a cxloop backup: it holds %(name)s.")
            % {"path": archive, "name": member.name}
        )
    return path.as_posix()


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> tuple[int, str]:
    """Write one member to ``target``; its size and SHA-256 as read."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    with tar.extractfile(member) as source, open(target, "wb") as out:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            out.write(chunk)
    target.chmod(member.mode & 0o777 | 0o600)
    return size, digest.hexdigest()


def _check_files(manifest: Manifest, found: dict[str, tuple[int, str]], archive: Path) -> None:
    if manifest.database_file not in manifest.files:
        raise BackupError(
            _("%(path)s has a damaged manifest (%(error)s).")
            % {"path": archive, "error": manifest.database_file}
        )
    for name, (size, sha256) in sorted(manifest.files.items()):
        if name not in found:
            raise BackupError(
                _("%(path)s is incomplete: %(name)s is missing.") % {"path": archive, "name": name}
            )
        if found[name] != (size, sha256):
            raise BackupError(
                _("%(path)s is damaged: %(name)s differs from its manifest (size or SHA-256).")
                % {"path": archive, "name": name}
            )
    unlisted = sorted(set(found) - set(manifest.files))
    if unlisted:
        raise BackupError(
            _("%(path)s holds %(name)s, which its manifest does not list.")
            % {"path": archive, "name": unlisted[0]}
        )


def check_compatible(manifest: Manifest, archive: Path) -> None:
    """BackupError unless this cxloop can restore ``manifest``: the same database vendor, and no
    migration it does not know."""
    if manifest.vendor != connection.vendor:
        raise BackupError(
            _(
                "%(path)s holds a %(archived)s database; this cxloop is set up for %(configured)s "
                "(CXLOOP_DATABASE_URL)."
            )
            % {
                "path": archive,
                "archived": VENDOR_NAMES.get(manifest.vendor, manifest.vendor),
                "configured": VENDOR_NAMES[connection.vendor],
            }
        )
    unknown = sorted(manifest.migrations - known_migrations())
    if unknown:
        raise BackupError(
            _(
                "%(path)s comes from a newer schema (cxloop %(archived)s) than this cxloop "
                "%(code)s knows: migrations %(migrations)s. Install cxloop %(archived)s or newer "
                "to restore it."
            )
            % {
                "path": archive,
                "archived": manifest.cxloop_version,
                "code": cxloop_version(),
                "migrations": ", ".join(f"{app}.{name}" for app, name in unknown[:5])
                + (" …" if len(unknown) > 5 else ""),
            }
        )


def known_migrations() -> set[tuple[str, str]]:
    """Every migration this code has, and those its squashed ones replace."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    known = set(loader.disk_migrations)
    for migration in loader.disk_migrations.values():
        known.update(migration.replaces)
    return known


def _restore_database(manifest: Manifest, staging: Path) -> None:
    snapshot = staging / manifest.database_file
    connections.close_all()  # the last connection to close checkpoints the WAL
    if manifest.vendor == "sqlite":
        target = Path(settings.DATABASES["default"]["NAME"]).absolute()
        # A WAL left beside the new file would be replayed onto it.
        for suffix in _SIDECARS[1:]:
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        put_in_place(snapshot, target)
    else:
        _pg_restore(snapshot)


def _pg_restore(dump: Path) -> None:
    program = _postgres_program("pg_restore")
    archived = set(PG_TOC_TABLE.findall(_run_postgres_program([program, "--list", str(dump)])))
    # --clean drops what the archive holds; a table it does not (one a newer `migrate` made
    # here) would stay and stop `migrate` later, or hold a foreign key that blocks a drop.
    leftover = sorted(set(connection.introspection.table_names()) - archived)
    if leftover:
        with connection.cursor() as cursor:
            names = ", ".join(connection.ops.quote_name(table) for table in leftover)
            cursor.execute(f"DROP TABLE IF EXISTS {names} CASCADE")
    connections.close_all()
    # One transaction: a failure leaves the database as it was. Roles and grants are the old
    # server's; here the configured user owns everything.
    _run_postgres_program(
        [
            program,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={settings.DATABASES['default']['NAME']}",
            str(dump),
        ]
    )


def put_in_place(source: Path, target: Path) -> None:
    """Move ``source`` (a file or a folder) to ``target``, replacing what is there: a rename,
    after a copy beside ``target`` when the two are on different file systems."""
    target.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    if source.stat().st_dev != target.parent.stat().st_dev:
        near = target.parent / f".{target.name}.{token}.tmp"
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, near)
        source = near
    if target.is_dir() and not target.is_symlink():
        aside = target.parent / f".{target.name}.{token}.old.tmp"
        os.rename(target, aside)
        os.rename(source, target)
        shutil.rmtree(aside)
    else:
        os.replace(source, target)


def _put_tree_in_place(source: Path, target: Path) -> int:
    if not source.is_dir():
        return 0
    files = list(_files_under(source, lambda path: False))
    for path in files:
        put_in_place(path, target / path.relative_to(source))
    return len(files)


def _put_fact_store_in_place(source: Path) -> int:
    """The archive's fact store replaces the whole of this one (a month it lacks must go)."""
    if not source.is_dir():
        return 0
    count = sum(1 for _path in _files_under(source, lambda path: False))
    put_in_place(source, Path(settings.FACTS_DIR).absolute())
    return count


def _migrate() -> tuple[str, ...]:
    """Apply the migrations the code has beyond the restored database's; their names."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if plan:
        call_command("migrate", interactive=False, verbosity=0)
    return tuple(f"{migration.app_label}.{migration.name}" for migration, _backwards in plan)


def align_fact_store() -> tuple[tuple[str, ...], bool]:
    """Bring the fact store level with the database: it was copied a moment apart from the
    database, so the months whose completed responses differ are rewritten; a missing store,
    or one of another schema, is rebuilt. The months refreshed, and whether it was rebuilt.

    The roll-back watch is not told (``facts_refreshed`` is not sent): a restore changes no
    data, and the worker's next refresh tells it. A published store (``CXLOOP_FACTS_DIR=s3://…``)
    is first published as the archive's copy holds it, whatever the bucket held."""
    if settings.FACTS_URI:
        from cxloop.facts import published

        published.republish()
    try:
        manifest = fact_store.read_manifest()
    except fact_store.FactStoreError:
        manifest = None
    if manifest is None:
        fact_sync.rebuild()
        return (), True
    stored = {month: counts.responses for month, counts in manifest.months.items()}
    database = fact_queries.completed_by_month(list(fact_queries.included_surveys()))
    differing = tuple(
        sorted(m for m in stored.keys() | database.keys() if stored.get(m) != database.get(m))
    )
    if differing:
        fact_sync.refresh_months(differing)
    return differing, False
