"""cxloop's SQLite backend (cxloop/sqlite/base.py): a transaction waiting for the write lock
tries BEGIN in fine steps instead of sleeping in SQLite's busy handler; it begins once the
lock is free, gives up at the connection's timeout or the request's deadline, and the
connection keeps its busy timeout for every other statement either way. On a database file
of its own, with a second raw connection holding the lock.

And its WAL checkpoints (cxloop/sqlite/checkpoints.py): a thread of the process runs them
after its commits, the committing connection only past a bound, the WAL starts over past
another, and the settings' durability stays as it was."""

import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection
from django.db.utils import OperationalError
from django.test import SimpleTestCase

from cxloop import timeouts
from cxloop.sqlite import base as sqlite_base
from cxloop.sqlite import checkpoints
from cxloop.sqlite.base import DatabaseWrapper


class OwnDatabaseFileTestCase(SimpleTestCase):
    """A test on a database file of its own (``self.path``), not the test database, which the
    blocker need not guard."""

    @pytest.fixture(autouse=True)
    def _own_database_file(self, django_db_blocker):
        with django_db_blocker.unblock():
            yield

    def setUp(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.path = str(Path(folder.name) / "own.sqlite3")


class WriteTurnTests(OwnDatabaseFileTestCase):
    def setUp(self):
        super().setUp()
        self.holder = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self.addCleanup(self.holder.close)
        self.holder.execute("PRAGMA journal_mode=WAL")
        self.holder.execute("CREATE TABLE t (x INTEGER)")

    def wrapper(self, timeout: float) -> DatabaseWrapper:
        settings = dict(connection.settings_dict)
        settings.update(
            NAME=self.path,
            OPTIONS={"timeout": timeout, "transaction_mode": "IMMEDIATE"},
        )
        wrapper = DatabaseWrapper(settings, alias="turns")
        wrapper.ensure_connection()
        self.addCleanup(wrapper.close)
        return wrapper

    def busy_timeout(self, wrapper) -> int:
        return wrapper.connection.execute("PRAGMA busy_timeout").fetchone()[0]

    def hold_lock(self, seconds: float) -> threading.Thread:
        self.holder.execute("BEGIN IMMEDIATE")
        self.holder.execute("INSERT INTO t VALUES (1)")
        release = threading.Timer(seconds, self.holder.execute, ["COMMIT"])
        release.start()
        self.addCleanup(release.join)
        return release

    def test_a_transaction_begins_once_the_lock_is_free(self):
        wrapper = self.wrapper(timeout=5)
        self.assertEqual(self.busy_timeout(wrapper), 5000)
        self.hold_lock(0.2)
        wrapper._start_transaction_under_autocommit()
        wrapper.connection.execute("INSERT INTO t VALUES (2)")
        wrapper.connection.execute("COMMIT")
        rows = self.holder.execute("SELECT x FROM t ORDER BY x").fetchall()
        self.assertEqual(rows, [(1,), (2,)])
        self.assertEqual(self.busy_timeout(wrapper), 5000)

    def test_it_gives_up_at_the_connection_s_timeout_and_keeps_its_busy_timeout(self):
        wrapper = self.wrapper(timeout=0.3)
        self.hold_lock(1.0)
        started = time.monotonic()
        with self.assertRaisesMessage(OperationalError, "database is locked"):
            wrapper._start_transaction_under_autocommit()
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertTrue(wrapper.get_autocommit())
        self.assertEqual(self.busy_timeout(wrapper), 300)

    def test_a_request_out_of_time_stops_waiting(self):
        wrapper = self.wrapper(timeout=5)
        self.hold_lock(1.0)
        token = timeouts._deadline.set(time.monotonic() + 0.2)
        self.addCleanup(timeouts._deadline.reset, token)
        with (
            wrapper.execute_wrapper(timeouts._refuse_when_late),
            self.assertRaises(timeouts.RequestTimeout),
        ):
            wrapper._start_transaction_under_autocommit()
        self.assertEqual(self.busy_timeout(wrapper), 5000)


class CheckpointTests(OwnDatabaseFileTestCase):
    def wrapper(self) -> DatabaseWrapper:
        """A connection as the settings make one (their init_command: WAL, synchronous)."""
        options = settings.DATABASES["default"]["OPTIONS"]
        wrapper = DatabaseWrapper(
            {**connection.settings_dict, "NAME": self.path, "OPTIONS": dict(options)},
            alias="checkpoints",
        )
        wrapper.ensure_connection()
        self.addCleanup(wrapper.close)
        wrapper.connection.execute("CREATE TABLE IF NOT EXISTS t (x BLOB)")
        return wrapper

    def commit_rows(self, wrapper, *, rows: int = 1, size: int = 100) -> None:
        """A transaction as Django runs one: BEGIN, the INSERTs, commit()."""
        wrapper.set_autocommit(False)
        for _ in range(rows):
            wrapper.connection.execute("INSERT INTO t VALUES (randomblob(?))", [size])
        wrapper.commit()
        wrapper.set_autocommit(True)

    def wal_pages(self) -> int:
        return Path(self.path + "-wal").stat().st_size // 4096

    def wait_for(self, condition, seconds: float = 10.0) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if time.monotonic() > deadline:
                self.fail("the checkpointer did not get there in time")
            time.sleep(0.01)

    def test_the_settings_keep_wal_and_synchronous_commits(self):
        wrapper = self.wrapper()

        def pragma(name: str):
            return wrapper.connection.execute(f"PRAGMA {name}").fetchone()[0]

        self.assertEqual(pragma("journal_mode"), "wal")
        self.assertEqual(pragma("synchronous"), 1)  # NORMAL: each commit survives a crash
        self.assertEqual(pragma("wal_autocheckpoint"), checkpoints.AUTOCHECKPOINT_PAGES)

    def test_a_commit_is_checkpointed_by_the_thread_not_by_the_committing_connection(self):
        wrapper = self.wrapper()
        checkpointer = wrapper.checkpointer
        done = checkpointer.checkpoints
        self.commit_rows(wrapper, rows=20, size=4000)
        # Far below the bound, the connection left its pages in the WAL; the thread, woken by
        # the commit, copies them all.
        self.wait_for(lambda: checkpointer.checkpoints > done)
        busy, frames, copied = checkpointer.last
        self.assertEqual((busy, copied), (0, frames))
        self.assertGreaterEqual(frames, 20)
        self.assertIs(checkpoints.checkpointer_for(self.path), checkpointer)  # one a process

    def test_past_its_length_the_wal_starts_over(self):
        wrapper = self.wrapper()
        checkpointer = wrapper.checkpointer
        with mock.patch.object(checkpoints, "RESTART_FRAMES", 10):
            self.commit_rows(wrapper, rows=20, size=4000)
            self.wait_for(lambda: checkpointer.restarts > 0)
        # After the RESTART the next writer writes from the WAL's start: the WAL holds its
        # frames alone, not the 20 pages before them.
        done = checkpointer.checkpoints
        self.commit_rows(wrapper)
        self.wait_for(lambda: checkpointer.checkpoints > done)
        self.assertLess(checkpointer.last[1], 5)

    def test_without_the_thread_the_connection_checkpoints_past_the_bound(self):
        class Stopped:  # a checkpointer that never runs
            def committed(self):
                pass

        with (
            mock.patch.object(sqlite_base, "checkpointer_for", lambda path: Stopped()),
            mock.patch.object(sqlite_base, "AUTOCHECKPOINT_PAGES", 50),
        ):
            wrapper = self.wrapper()
        for _ in range(40):
            self.commit_rows(wrapper, rows=10, size=4000)  # 400 pages and more in all
        self.assertLess(self.wal_pages(), 100)

    def test_a_database_in_memory_has_no_checkpointer(self):
        self.assertIsNone(checkpoints.checkpointer_for(":memory:"))
        self.assertIsNone(checkpoints.checkpointer_for("file:x?mode=memory&cache=shared"))

    def test_a_removed_database_file_is_not_made_anew_and_its_thread_ends(self):
        wrapper = self.wrapper()
        checkpointer = wrapper.checkpointer
        wrapper.close()
        Path(self.path).unlink()
        with self.assertRaises(sqlite3.OperationalError):
            checkpointer.checkpoint()
        self.assertFalse(Path(self.path).exists())
        checkpointer.committed()
        self.wait_for(lambda: not checkpointer.is_alive())
        self.assertFalse(Path(self.path).exists())


class CheckpointFailureTests(SimpleTestCase):
    """A checkpoint that finds the database locked for a moment says so only at debug level (a
    command's one-line error stays one line); any other failure is a warning."""

    def test_a_locked_database_is_no_warning_and_another_error_is(self):
        busy = sqlite3.OperationalError("database is locked")
        busy.sqlite_errorcode = sqlite3.SQLITE_BUSY | (2 << 8)  # SQLITE_BUSY_SNAPSHOT
        with self.assertLogs(checkpoints.logger, "DEBUG") as logs:
            checkpoints.say_failed("/tmp/x.sqlite3", busy)
            checkpoints.say_failed(
                "/tmp/x.sqlite3", sqlite3.DatabaseError("file is not a database")
            )
        self.assertEqual([record.levelname for record in logs.records], ["DEBUG", "WARNING"])
