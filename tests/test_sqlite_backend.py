"""cxloop's SQLite backend (cxloop/sqlite/base.py): a transaction waiting for the write lock
tries BEGIN in fine steps instead of sleeping in SQLite's busy handler; it begins once the
lock is free, gives up at the connection's timeout or the request's deadline, and the
connection keeps its busy timeout for every other statement either way. On a database file
of its own, with a second raw connection holding the lock."""

import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.test import SimpleTestCase

from cxloop import timeouts
from cxloop.sqlite.base import DatabaseWrapper


class WriteTurnTests(SimpleTestCase):
    @pytest.fixture(autouse=True)
    def _own_database_file(self, django_db_blocker):
        # Not the test database: a file of the test's own, which the blocker need not guard.
        with django_db_blocker.unblock():
            yield

    def setUp(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.path = str(Path(folder.name) / "turns.sqlite3")
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
