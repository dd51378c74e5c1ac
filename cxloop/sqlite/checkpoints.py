"""WAL checkpoints beside the requests, and a bound on the WAL's length.

A checkpoint copies the pages that a WAL database's commits appended to its ``-wal`` file back
into the database file, and syncs it. SQLite runs one by itself on the connection that has just
committed, before the commit returns, whenever the WAL is longer than ``wal_autocheckpoint``
pages (1,000 by default). With two server processes storing 1,000-response batches the WAL is
always longer than that, and every batch's commit ran one (≈ 27 ms of its ≈ 34 ms,
bench/README.md). Worse, the WAL never started over: SQLite starts it from its beginning at a
writer's first page only if every frame was copied when that writer began, and the next writer
always began (it was waiting for the lock) before the checkpoint after the last commit had
finished. Under the benchmark's load it grew to 446 MB in 20 s and kept growing; every page
read looks the WAL's index up first, so the longer it is the slower everything gets.

So each process that opens a database file runs a :class:`Checkpointer` thread, woken by the
process's commits (and once a second for writes outside a transaction; at most every
:data:`CHECKPOINT_GAP`), which checkpoints on a connection of its own while the next request
goes on (SQLite releases the GIL while it copies). Once the WAL is longer than
:data:`RESTART_FRAMES` the thread takes the write lock, copies the last frames while nobody can
add to them, and gives the lock back, so that the next writer starts the WAL over: measured,
the WAL file stayed at 73 MB through 40 s of the same load. Connections opened through
:mod:`cxloop.sqlite` checkpoint by themselves only past :data:`AUTOCHECKPOINT_PAGES`, for a
process whose thread cannot keep up. No checkpoint, SQLite's own no more than this one, can
start the WAL over while a reader still reads an older snapshot (a long report): the WAL grows
until that reader ends, and the thread tries again every :data:`RESTART_BACKOFF`.

What it did not change: the throughput (20,000-21,000 stored/s either way, the one write lock
being the limit and SQLite's own checkpoint running after the lock was released) and the
durability. Commits are as durable as ``synchronous`` says (NORMAL: a commit survives the
process's crash; a power cut may lose the last ones, never the database's consistency), and the
checkpoint syncs what it copies, as SQLite's own does.

The worker's one-second round could checkpoint instead, but the WAL's bound would then depend
on a worker running (the benchmark runs none; a small firm may forget to start it) and on its
niceness-10 process getting the CPU on a busy box; a thread in every writing process needs
neither.
"""

import logging
import os
import sqlite3
import threading
import time

logger = logging.getLogger(__name__)

# A connection of ours checkpoints by itself only past this many WAL pages (80 MB at SQLite's
# 4 KiB pages): a bound for when a process's thread is not keeping up.
AUTOCHECKPOINT_PAGES = 20_000
# Past this many frames in the WAL after a passive checkpoint (40 MB), the thread makes the
# next writer start it over (Checkpointer._restart).
RESTART_FRAMES = 10_000
# For that it takes the write lock to copy the last frames: a try every RESTART_STEP seconds,
# as a waiting BEGIN tries (cxloop.sqlite.base.WAIT_STEP), for at most RESTART_WAIT seconds;
# after one that failed, none for RESTART_BACKOFF.
RESTART_STEP = 0.0005
RESTART_WAIT = 1.0
RESTART_BACKOFF = 1.0
# Between two checkpoints of a process, at least this long (seconds): a page written by
# several batches is copied once, and two checkpoints sync the files in place of ten; half
# the thread's CPU against a checkpoint after every commit, with the same throughput. 0.5 s
# rather than 0.1 s: with every process checkpointing (two web workers and the task worker),
# the server's CPU per stored response fell by 5 % (single submissions) to 12 % (batches) and
# the batches' throughput rose by 14 %, the WAL still bounded by RESTART_FRAMES
# (bench/README.md, 2026-12-07).
CHECKPOINT_GAP = 0.5
# With no commit to wake it, the thread looks at the WAL this often (seconds): writes outside
# a transaction (autocommit) do not wake it.
IDLE_LOOK = 1.0


class Checkpointer:
    """A thread that checkpoints the WAL of the database file ``path`` after this process's
    commits. ``last`` is what its latest checkpoint said: (busy, frames in the WAL, frames
    copied), as ``PRAGMA wal_checkpoint`` says it; ``checkpoints`` counts them, ``restarts``
    the RESTARTs that succeeded."""

    def __init__(self, path: str):
        self.path = path
        self.last: tuple[int, int, int] | None = None
        self.checkpoints = 0
        self.restarts = 0
        self._restart_from = 0.0  # time.monotonic() before which no RESTART is tried
        self._wake = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"sqlite-checkpoints {path}", daemon=True
        )
        self._thread.start()

    def committed(self) -> None:
        """A transaction of this process committed: the WAL grew."""
        self._wake.set()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while True:
            self._wake.wait(IDLE_LOOK)
            self._wake.clear()
            try:
                self.checkpoint()
            except sqlite3.Error as error:
                if not os.path.exists(self.path):
                    # The database was removed (a test database dropped): the thread ends, and
                    # a connection to a new file of that name starts another.
                    return
                say_failed(self.path, error)  # the next look tries again
            time.sleep(CHECKPOINT_GAP)

    def checkpoint(self) -> tuple[int, int, int]:
        """One checkpoint now, on a connection opened for it: PASSIVE, then :meth:`_restart` if
        the WAL is still longer than :data:`RESTART_FRAMES`. A new connection each time, so that a
        database file replaced meanwhile (a restore) is the one checkpointed, and ``mode=rw``
        so that a removed one is not made anew, empty."""
        database = sqlite3.connect(
            f"file:{self.path}?mode=rw", uri=True, isolation_level=None, timeout=0
        )
        try:
            result = database.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if result[1] > RESTART_FRAMES and time.monotonic() >= self._restart_from:
                result = self._restart(database)
        finally:
            database.close()
        self.last = tuple(result)
        self.checkpoints += 1
        return self.last

    def _restart(self, database: sqlite3.Connection) -> tuple[int, int, int]:
        """Make the next writer start the WAL over. SQLite does so at a writer's first page
        when every frame has been copied and no reader still reads an older snapshot; under
        steady writes from two processes the next writer always began before a checkpoint had
        copied the last one's frames. So the write lock is taken on a second connection, as a
        waiting BEGIN takes it (a try every :data:`RESTART_STEP`, for at most
        :data:`RESTART_WAIT`), ``database`` copies the rest while no writer can add to it,
        and the lock is given back at once. SQLite's own RESTART checkpoint waits for the lock
        in its busy handler, sleeping 1, 2, 5… 25 ms between tries, and seldom found it free
        among the API's writers (the WAL passed 240,000 frames); and it holds the writers up
        while it waits for readers, which this does not."""
        holder = sqlite3.connect(
            f"file:{self.path}?mode=rw", uri=True, isolation_level=None, timeout=0
        )
        try:
            give_up = time.monotonic() + RESTART_WAIT
            while True:
                try:
                    holder.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as error:
                    if error.sqlite_errorcode not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                        raise
                    if time.monotonic() >= give_up:
                        self._restart_from = time.monotonic() + RESTART_BACKOFF
                        return (1, -1, -1)
                time.sleep(RESTART_STEP)
            try:
                result = database.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                holder.execute("ROLLBACK")
        finally:
            holder.close()
        if result[0] == 0 and result[1] == result[2]:
            self.restarts += 1
        else:  # a reader of an older snapshot kept frames from being copied
            self._restart_from = time.monotonic() + RESTART_BACKOFF
        return result


def say_failed(path: str, error: sqlite3.Error) -> None:
    """Log a checkpoint that failed. Locked for a moment by another connection (SQLITE_BUSY or
    SQLITE_LOCKED: a writer's exclusive lock, a command's schema change, a process ending) is
    expected and said only at debug level: a command's stderr, which people and scripts read,
    stays its own. Anything else (the file replaced midway by a restore) is a warning."""
    code = getattr(error, "sqlite_errorcode", None) or 0  # an extended code: the low byte's
    busy = (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    busy = busy or "is locked" in str(error)
    (logger.debug if busy else logger.warning)("checkpoint of %s failed: %s", path, error)


_checkpointers: dict[tuple[int, str], Checkpointer] = {}
_lock = threading.Lock()


def checkpointer_for(path: str) -> Checkpointer | None:
    """This process's checkpointer of the database file ``path``, started on first use; None
    for a database in memory, which has no WAL. Per process: a thread does not survive a fork."""
    if path == ":memory:" or "mode=memory" in path:
        return None
    key = (os.getpid(), os.path.abspath(path))
    with _lock:
        checkpointer = _checkpointers.get(key)
        if checkpointer is None or not checkpointer.is_alive():
            checkpointer = _checkpointers[key] = Checkpointer(key[1])
    return checkpointer
