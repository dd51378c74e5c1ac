"""The fact store published to object storage (``CXLOOP_FACTS_DIR=s3://bucket/prefix``).

The writer keeps writing a working copy on its own disk (:mod:`cxloop.facts.store`: staged
files, ``os.replace``, the lock); :func:`publish` then uploads each file the new version holds
under a name that carries a digest of its content (``answers/month=2026-01/part-3-<digest>
.parquet``, ``customers-<digest>.parquet``), writes the manifest, which maps each file to its
object (``Manifest.files``), and removes the objects of the store that neither this version nor
the one before names. An object is never replaced, so a reader that read a manifest reads
exactly that version's files, and the version before stays readable until the next write;
anything else under the prefix is left alone. The manifest itself is uploaded under a
temporary name and copied into place (S3's copy is atomic): a reader finds the old manifest or
the new one, whole.

A writer on another machine (or after its working copy was lost) first fetches the published
version (:func:`fetch`); on PostgreSQL the writers of every machine take one advisory lock
(:func:`machines_lock`), and a writer that finds another version published than the one it
started from refuses to publish over it. Decision 024.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import logging
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.fs as pafs
from django.conf import settings

from cxloop.facts import store
from cxloop.facts.schema import MONTHLY, WHOLE

log = logging.getLogger(__name__)

COPY_BUFFER = 1 << 20
DIGEST_CHARS = 16
# pg_advisory_lock's key for the fact store's writers ("cxfacts" as a number).
LOCK_KEY = int.from_bytes(b"cxfacts", "big")
# The names of a published store's objects: the only ones a publication removes.
OBJECT = re.compile(
    rf"^(?:(?:{'|'.join(MONTHLY)})/month=\d{{4}}-\d\d/part-\d+|{'|'.join(WHOLE)})"
    rf"-[0-9a-f]{{{DIGEST_CHARS}}}\.parquet$"
)


class Unreachable(store.FactStoreError):
    """The object store did not answer (a page says the store is unavailable; a writer fails
    and its task is retried, rather than taking the store for damaged)."""


@dataclass(frozen=True)
class Location:
    """A published store: ``uri`` (``s3://bucket/prefix``) on ``filesystem``."""

    uri: str
    filesystem: pafs.FileSystem

    def __str__(self) -> str:
        return self.uri

    @property
    def root(self) -> str:
        """The store's root as the filesystem names it (``bucket/prefix``)."""
        return self.uri.removeprefix("s3://")

    def key(self, name: str) -> str:
        return f"{self.root}/{name}"

    def url(self, name: str) -> str:
        """An object's address for Spark's executors (Hadoop's ``s3a`` connector)."""
        return f"s3a://{self.key(name)}"

    def listing(self) -> dict[str, int]:
        """Every object under the root: its name relative to the root, and its size."""
        selector = pafs.FileSelector(self.root, recursive=True, allow_not_found=True)
        return {
            info.path.removeprefix(self.root + "/"): info.size
            for info in self.filesystem.get_file_info(selector)
            if info.type == pafs.FileType.File
        }

    def read_manifest(self) -> store.Manifest | None:
        """The published manifest; None when nothing was published yet."""
        try:
            with self.filesystem.open_input_stream(self.key(store.MANIFEST)) as stream:
                text = stream.read().decode("utf-8")
        except FileNotFoundError:
            return None
        except OSError as error:
            raise Unreachable(f"{self.uri}/{store.MANIFEST}: unreachable ({error})") from None
        except UnicodeDecodeError as error:
            where = f"{self.uri}/{store.MANIFEST}"
            raise store.FactStoreError(f"{where}: unreadable ({error})") from None
        return store.parse_manifest(text, where=f"{self.uri}/{store.MANIFEST}")

    def objects(self, manifest: store.Manifest) -> dict[str, list[str]]:
        """The objects of each table that ``manifest`` names (:func:`store.named_files`)."""
        try:
            return {
                table: [manifest.files[path] for path in paths]
                for table, paths in store.named_files(
                    manifest, exists=manifest.files.__contains__
                ).items()
            }
        except KeyError as missing:
            raise store.FactStoreError(
                f"{self.uri}/{store.MANIFEST}: names no object for {missing}; "
                "run cxloop facts rebuild"
            ) from None

    def upload(self, source: Path, name: str) -> None:
        with open(source, "rb") as local, self.filesystem.open_output_stream(
            self.key(name)
        ) as remote:  # fmt: skip
            shutil.copyfileobj(local, remote, COPY_BUFFER)

    def put_manifest(self, manifest: store.Manifest, base: Path) -> None:
        """``manifest`` in place whole: uploaded under a temporary name, then copied."""
        temporary = f".{store.MANIFEST}.{secrets.token_hex(6)}.tmp"
        staged = base / temporary
        try:
            staged.write_text(store.manifest_text(manifest), encoding="utf-8")
            self.upload(staged, temporary)
            self.filesystem.copy_file(self.key(temporary), self.key(store.MANIFEST))
        finally:
            staged.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                self.filesystem.delete_file(self.key(temporary))

    def download(self, name: str, target: Path) -> None:
        """Object ``name`` into ``target``, put in place whole."""
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            with self.filesystem.open_input_stream(self.key(name)) as remote, open(
                temporary, "wb"
            ) as local:  # fmt: skip
                shutil.copyfileobj(remote, local, COPY_BUFFER)
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)


def location() -> Location | None:
    """The settings' published store (``CXLOOP_FACTS_DIR=s3://…``), or None."""
    if not settings.FACTS_URI:
        return None
    return open_location(settings.FACTS_URI, settings.S3_ENDPOINT)


@functools.cache
def open_location(uri: str, endpoint: str | None = None) -> Location:
    """``uri`` (``s3://bucket/prefix``) on S3, or on the S3-compatible server at ``endpoint``
    (``http(s)://host:port``); credentials and region from AWS's usual variables."""
    options = {}
    if endpoint:
        address = urlsplit(endpoint)
        options = {"endpoint_override": address.netloc, "scheme": address.scheme}
    return Location(uri.rstrip("/"), pafs.S3FileSystem(**options))


def object_name(relative: str, path: Path) -> str:
    """The object a working-copy file is published as: its name and its content's digest."""
    with open(path, "rb") as content:
        digest = hashlib.file_digest(content, "sha256").hexdigest()[:DIGEST_CHARS]
    return f"{relative.removesuffix('.parquet')}-{digest}.parquet"


def _named(manifest: store.Manifest, exists) -> list[str]:
    files = store.named_files(manifest, exists=exists)
    return [path for paths in files.values() for path in paths]


@dataclass(frozen=True)
class Found:
    """What a writer found published: ``manifest`` to build on (None: nothing, or a damaged
    store, written anew), the ``version`` its manifest names (None: none, or unreadable), and
    ``damage`` (why it is damaged)."""

    manifest: store.Manifest | None
    version: str | None
    damage: str | None = None


def inspect(location: Location) -> Found:
    """What ``location`` holds (an unreachable store raises :class:`Unreachable`)."""
    try:
        manifest = location.read_manifest()
    except Unreachable:
        raise
    except store.FactStoreError as error:
        return Found(None, None, str(error))
    if manifest is None:
        return Found(None, None)
    listed = location.listing()
    try:
        objects = [name for names in location.objects(manifest).values() for name in names]
    except store.FactStoreError as error:
        return Found(None, manifest.version, str(error))
    gone = [name for name in objects if name not in listed]
    if gone:
        return Found(None, manifest.version, f"{location}/{gone[0]} is gone")
    return Found(manifest, manifest.version)


def _refuse_if_moved(location: Location, since: Found) -> None:
    now = inspect(location).version
    if now != since.version:
        raise store.FactStoreError(
            f"{location}: version {now} was published by another writer since this write "
            f"began from {since.version}; nothing was published (the refresh runs again)"
        )


def publish(
    location: Location,
    base: Path,
    manifest: store.Manifest,
    *,
    written: Iterable[str],
    since: Found,
) -> store.Manifest:
    """Publish ``manifest``, written under ``base`` by a write that began from what ``since``
    found published and wrote the files ``written`` (relative paths). The manifest as
    published, with ``files``. Raises FactStoreError when another version was published
    meanwhile, OSError when the object store refuses: the published version is then still
    the one before."""
    _refuse_if_moved(location, since)
    listed = location.listing()
    before = dict(since.manifest.files) if since.manifest is not None else {}
    written = set(written)
    files = {}
    for relative in _named(manifest, lambda path: (base / path).is_file()):
        local = base / relative
        name = before.get(relative) if relative not in written else None
        if name is None or listed.get(name) != local.stat().st_size:
            name = object_name(relative, local)
            # An object of the same name and size is this file (a retried publication).
            if listed.get(name) != local.stat().st_size:
                location.upload(local, name)
        files[relative] = name
    publishing = dataclasses.replace(manifest, files=files)
    _refuse_if_moved(location, since)  # the lock may have been lost meanwhile
    location.put_manifest(publishing, base)
    keep = {*files.values(), *before.values()}
    try:
        for name in listed.keys() - keep:
            if OBJECT.match(name):
                location.filesystem.delete_file(location.key(name))
    except OSError:  # the version stands; the next publication removes them
        log.exception("the published fact store's superseded objects could not all be removed")
    return publishing


def fetch(location: Location, base: Path) -> Found:
    """Make the working copy under ``base`` the published version: download the files it
    lacks or holds as other objects, write the published manifest and sweep what it does not
    name. What was found: with nothing published yet the copy is published as it is; when
    the published store is damaged (logged), the copy's manifest is removed, so that the
    write starts anew."""
    found = inspect(location)
    if found.damage is not None:
        log.warning("the published fact store is damaged and is written anew: %s", found.damage)
        (base / store.MANIFEST).unlink(missing_ok=True)
    published = found.manifest
    if published is None:
        return found
    try:
        local = store.read_manifest(base=base)
    except store.FactStoreError:
        local = None
    stale = [
        relative
        for relative, name in published.files.items()
        if not _holds(base / relative, relative, name, local)
    ]
    if not stale and local is not None and local.version == published.version:
        return found
    for relative in stale:
        location.download(published.files[relative], base / relative)
    store.write_manifest(published, base=base)
    store.sweep(published, base=base)
    log.info("the fact store's working copy now holds the published version %s",
             published.version)  # fmt: skip
    return found


def _holds(path: Path, relative: str, name: str, local: store.Manifest | None) -> bool:
    """Whether the working copy's ``path`` is object ``name``: the copy's manifest says it was
    published or fetched as that object (a part is never changed in place), and a whole table,
    which a write that failed to publish may have replaced, still has its digest."""
    if local is None or local.files.get(relative) != name or not path.is_file():
        return False
    return relative not in store.WHOLE_FILES or object_name(relative, path) == name


def publish_copy(location: Location, base: Path) -> store.Manifest | None:
    """Publish the store under ``base`` as it is, over whatever ``location`` holds; the
    manifest as published (None: ``base`` holds no store)."""
    try:
        local = store.read_manifest(base=base)
    except store.FactStoreError:
        return None
    if local is None:
        return None
    every = _named(local, lambda path: (base / path).is_file())
    return publish(location, base, local, written=every, since=inspect(location))


def republish() -> store.Manifest | None:
    """Publish the working copy as it is, over whatever the bucket holds (after a restore put
    an archived copy in place); None when the copy holds no store."""
    with machines_lock(), store.locked() as base:
        manifest = publish_copy(location(), base)
        if manifest is not None:
            store.write_manifest(manifest, base=base)
        return manifest


@contextlib.contextmanager
def machines_lock() -> Iterator[None]:
    """On PostgreSQL, the advisory lock every machine's writers take before fetching and
    publishing (a session lock, released if the connection dies); elsewhere nothing: SQLite's
    database, and so its writers, are on one machine."""
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
        except Exception:  # a broken connection: closing it is what releases the lock
            log.exception("the fact store writers' lock could not be released; reconnecting")
            connection.close()
