"""The fact store published to object storage (``CXLOOP_FACTS_DIR=s3://bucket/prefix``).

The writer keeps writing a working copy on its own disk (:mod:`cxloop.facts.store`: staged
files, ``os.replace``, the lock), and :func:`publish` then uploads what the new version names
that the published one lacks, the manifest last, and removes what no version names any more.
Every web process and Spark executor reads the published copy: its manifest, then the files it
names. An S3 PUT replaces an object whole, so a reader sees a file or its predecessor, never
half of one; a part file is never replaced (each write numbers its parts anew), so a reader
that read a manifest finds that version's parts until the sweep of a later write, as on disk.

A writer on another machine (or after its working copy was lost) first fetches the published
version (:func:`fetch`); on PostgreSQL the writers of every machine take one advisory lock
(:func:`machines_lock`), so two never publish over each other. Decision 024.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.fs as pafs
from django.conf import settings

from cxloop.facts import store

log = logging.getLogger(__name__)

COPY_BUFFER = 1 << 20
# pg_advisory_lock's key for the fact store's writers ("cxfacts" as a number).
LOCK_KEY = int.from_bytes(b"cxfacts", "big")


@dataclass(frozen=True)
class Location:
    """A published store: ``uri`` (``s3://bucket/prefix``) on ``filesystem``."""

    uri: str
    filesystem: pafs.FileSystem

    @property
    def root(self) -> str:
        """The store's root as the filesystem names it (``bucket/prefix``)."""
        return self.uri.removeprefix("s3://")

    def key(self, relative: str) -> str:
        return f"{self.root}/{relative}"

    def url(self, relative: str) -> str:
        """A file's address for Spark's executors (Hadoop's ``s3a`` connector)."""
        return f"s3a://{self.key(relative)}"

    def listing(self) -> dict[str, int]:
        """Every object under the root: its path relative to the root, and its size."""
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
        except (OSError, UnicodeDecodeError) as error:
            where = self.url(store.MANIFEST)
            raise store.FactStoreError(f"{where}: unreadable ({error})") from None
        return store.parse_manifest(text, where=self.uri + "/" + store.MANIFEST)

    def upload(self, source: Path, relative: str) -> None:
        with open(source, "rb") as local, self.filesystem.open_output_stream(
            self.key(relative)
        ) as remote:  # fmt: skip
            shutil.copyfileobj(local, remote, COPY_BUFFER)

    def download(self, relative: str, target: Path) -> None:
        """``relative`` into ``target``, put in place whole (a temporary name, then a rename)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            with self.filesystem.open_input_stream(self.key(relative)) as remote, open(
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


def _named(manifest: store.Manifest | None, exists) -> list[str]:
    """The files ``manifest`` names (none for None), relative to the store's root."""
    if manifest is None:
        return []
    return [path for paths in store.named_files(manifest, exists=exists).values() for path in paths]


def _same(manifest: store.Manifest | None, exists, sizes: dict[str, int], base: Path) -> set:
    """The parts ``manifest`` names that are the same file in both copies. A part keeps its
    name for life (each write numbers its parts anew), and each copy's manifest names only
    what was published, so a part both name is the same file; the size also has to agree,
    for a month removed and later written again from part 0."""
    return {
        path
        for path in _named(manifest, exists)
        if path not in store.WHOLE_FILES
        and (base / path).is_file()
        and (base / path).stat().st_size == sizes.get(path)
    }


def _read_or_none(read) -> store.Manifest | None:
    try:
        return read()
    except store.FactStoreError:  # a damaged copy is written over whole
        return None


def publish(location: Location, base: Path, manifest: store.Manifest) -> None:
    """Upload the files of ``manifest`` (written under ``base``) that the published version
    does not have (whole tables always), then the manifest; then remove the objects it does
    not name. Raises OSError when the object store refuses: the published version is then
    still the one before."""
    listed = location.listing()
    before = _read_or_none(location.read_manifest)
    unchanged = _same(before, listed.__contains__, listed, base)
    named = _named(manifest, lambda path: (base / path).is_file())
    for relative in named:
        if relative not in unchanged:
            location.upload(base / relative, relative)
    manifest_file = base / f".{store.MANIFEST}.{secrets.token_hex(6)}.tmp"
    try:
        manifest_file.write_text(store.manifest_text(manifest), encoding="utf-8")
        location.upload(manifest_file, store.MANIFEST)
    finally:
        manifest_file.unlink(missing_ok=True)
    try:
        for relative in listed.keys() - {*named, store.MANIFEST}:
            location.filesystem.delete_file(location.key(relative))
    except OSError:  # the version stands; the next publication removes them
        log.exception("the published fact store's superseded files could not all be removed")


def fetch(location: Location, base: Path) -> store.Manifest | None:
    """Make the working copy under ``base`` the published version when it holds another:
    download the files it names that the copy lacks (whole tables always), then write its
    manifest and sweep what it does not name. The published manifest (None: nothing was
    published yet, and the copy is written as it is)."""
    published = location.read_manifest()
    if published is None:
        return None
    local = _read_or_none(lambda: store.read_manifest(base=base))
    if local is not None and local.version == published.version:
        return published
    listed = location.listing()
    have = _same(local, lambda path: (base / path).is_file(), listed, base)
    for relative in _named(published, listed.__contains__):
        if relative not in have:
            location.download(relative, base / relative)
    store.write_manifest(published, base=base)
    store.sweep(published, base=base)
    log.info("the fact store's working copy now holds the published version %s",
             published.version)  # fmt: skip
    return published


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
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [LOCK_KEY])
