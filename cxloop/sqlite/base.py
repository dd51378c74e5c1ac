"""SQLite as cxloop runs it: Django's backend, except for how a transaction waits its turn
for the database's one write lock, and for who checkpoints the WAL (a thread of the process,
:mod:`cxloop.sqlite.checkpoints`, not the connection that commits).

SQLite's busy handler sleeps 1, 2, 5, 10, 15, 20, 25… ms between its tries, whatever the
holder is doing. A writer that finds the lock taken at each of its first five tries waits
53 ms, even when each holder kept it 2 ms: the task worker writes a batch's cases in short
transactions one after the other, and an API request asleep in the handler missed the gaps
between them (the API's p99 at 300 submissions/s: 56 ms, against 11 ms with no worker
writing; bench/README.md, decision 016). So ``BEGIN IMMEDIATE`` is tried without the busy
handler every :data:`WAIT_STEP` until the connection's ``timeout``; every other statement
keeps the handler."""

import sqlite3
import time

from django.db.backends.sqlite3 import base
from django.db.utils import OperationalError

from cxloop.sqlite.checkpoints import AUTOCHECKPOINT_PAGES, checkpointer_for

# Between two tries of BEGIN: a fraction of the shortest write transaction (about 1 ms), and
# long enough that a few waiting connections cost the machine nothing to speak of.
WAIT_STEP = 0.0005


def _busy(error: OperationalError) -> bool:
    cause = error.__cause__
    return isinstance(cause, sqlite3.OperationalError) and cause.sqlite_errorcode in (
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
    )


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        # Checkpoints are this process's thread's work (cxloop/sqlite/checkpoints.py); the
        # connection's own only past the bound.
        self.checkpointer = checkpointer_for(str(self.settings_dict["NAME"]))
        if self.checkpointer is not None:
            connection.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
        return connection

    def _commit(self):
        super()._commit()
        if getattr(self, "checkpointer", None) is not None:
            self.checkpointer.committed()

    def _start_transaction_under_autocommit(self):
        begin = "BEGIN" if self.transaction_mode is None else f"BEGIN {self.transaction_mode}"
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        give_up = time.monotonic() + timeout
        # On the raw connection: the PRAGMAs must run even past a request's deadline, or the
        # kept connection would lose its busy handler. BEGIN goes through the cursor, so a
        # request that runs out of time while waiting is refused (cxloop.timeouts).
        self.connection.execute("PRAGMA busy_timeout = 0")
        try:
            with self.cursor() as cursor:
                while True:
                    try:
                        cursor.execute(begin)
                        return
                    except OperationalError as error:
                        if not _busy(error) or time.monotonic() >= give_up:
                            raise
                    time.sleep(WAIT_STEP)
        finally:
            self.connection.execute(f"PRAGMA busy_timeout = {round(timeout * 1000)}")


def let_waiting_writers_in(connection) -> None:
    """Between two write transactions of a long job on SQLite: a pause as long as two tries of
    the waiting writers, so that one of them (an API request) takes the lock before the job's
    next BEGIN does. Elsewhere nothing: PostgreSQL has no one write lock."""
    if connection.vendor == "sqlite":
        time.sleep(2 * WAIT_STEP)
