"""Which of the worker's writes hold SQLite's one write lock, and for how long, while the API
takes a steady rate of submissions (the API's inserts wait for that lock).

    python bench/trace_worker_writes.py [bench_intake.py's options] [--out FILE]

Runs ``bench_intake.py`` with its worker wrapped: each write transaction (from its BEGIN
IMMEDIATE to its COMMIT or ROLLBACK) and each write statement outside one is timed and put down
to the outermost and innermost cxloop functions that made it, with the CPU time the worker's
thread used meanwhile (the rest of a hold is waiting: for the CPU, which the worker at
niceness 10 yields to the server, or for the disk); the receivers of the announcement's two
signals are timed too. Prints the writes grouped by their maker, largest total first. SQLite
only; compare runs made on a quiet machine.
"""

import argparse
import collections
import json
import os
import sys
import tempfile
import textwrap
from pathlib import Path

import bench_intake

TRACE = textwrap.dedent(
    """
    import atexit, collections, json, os, time, traceback
    import django
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxloop.settings")
    django.setup()
    from django.db.backends.sqlite3 import base as django_sqlite
    from cxloop.sqlite import base as cxloop_sqlite
    from cxloop.surveys import signals

    writes, receivers = [], collections.defaultdict(list)

    def maker():
        names = [
            f"{f.filename.split('/cxloop/')[1]}:{f.name}"
            for f in traceback.extract_stack()[:-2]
            if "/cxloop/" in f.filename
            and "/cxloop/sqlite/" not in f.filename
            and "/management/commands/worker" not in f.filename
        ]
        return f"{names[0]} > {names[-1]}" if names else "(django-tasks)"

    wrapper = cxloop_sqlite.DatabaseWrapper
    begin = wrapper._start_transaction_under_autocommit

    def timed_begin(self):
        begin(self)
        self.traced = (time.perf_counter(), time.thread_time(), maker())

    wrapper._start_transaction_under_autocommit = timed_begin

    def timed_end(end):
        def ended(self):
            end(self)
            if getattr(self, "traced", None):
                started, cpu, by = self.traced
                writes.append(
                    ("transaction", by, time.perf_counter() - started, time.thread_time() - cpu)
                )
                self.traced = None
        return ended

    wrapper._commit = timed_end(wrapper._commit)
    wrapper._rollback = timed_end(wrapper._rollback)
    execute = django_sqlite.SQLiteCursorWrapper.execute

    def timed_execute(self, query, params=None):
        if self.connection.in_transaction or query.lstrip()[:6].upper() not in (
            "INSERT", "UPDATE", "DELETE"
        ):
            return execute(self, query, params)
        started, cpu = time.perf_counter(), time.thread_time()
        result = execute(self, query, params)
        writes.append(
            (
                "statement",
                f"{maker()} {query[:40]}",
                time.perf_counter() - started,
                time.thread_time() - cpu,
            )
        )
        return result

    django_sqlite.SQLiteCursorWrapper.execute = timed_execute

    def timed_receivers(name):
        signal = getattr(signals, name)
        live = signal._live_receivers

        def timed(sender):
            sync, asynchronous = live(sender)

            def wrap(receiver):
                def run(*args, **kwargs):
                    started = time.perf_counter()
                    try:
                        return receiver(*args, **kwargs)
                    finally:
                        key = f"{name} → {getattr(receiver, '__qualname__', receiver)}"
                        receivers[key].append(time.perf_counter() - started)
                return run

            return [wrap(r) for r in sync], asynchronous

        signal._live_receivers = timed

    for name in ("responses_pending", "responses_recorded"):
        timed_receivers(name)
    atexit.register(
        lambda: json.dump(
            {"writes": writes, "receivers": receivers}, open(os.environ["TRACE_OUT"], "w")
        )
    )
    """
)


def report(trace: dict) -> None:
    writes = trace["writes"]
    held = sum(seconds for _kind, _by, seconds, _cpu in writes)
    cpu = sum(cpu for _kind, _by, _seconds, cpu in writes)
    print(
        f"the worker's writes: {len(writes):,}, holding the write lock {held:.2f} s in all, "
        f"of which on the CPU {cpu:.2f} s"
    )
    groups = collections.defaultdict(list)
    for kind, by, seconds, cpu in writes:
        groups[(kind, by)].append((seconds, cpu))
    for (kind, by), holds in sorted(groups.items(), key=lambda item: -sum(s for s, _ in item[1])):
        times = sorted(seconds for seconds, _cpu in holds)
        print(
            f"  {len(times):5} {kind:11} {sum(times) * 1000:8.1f} ms in all "
            f"({sum(cpu for _s, cpu in holds) * 1000:.1f} on the CPU), p50 "
            f"{times[len(times) // 2] * 1000:6.2f} ms, max {times[-1] * 1000:7.1f} ms  {by}"
        )
    for name, times in trace["receivers"].items():
        times.sort()
        print(
            f"  receiver {name}: {len(times)} calls, {sum(times) * 1000:.0f} ms in all, "
            f"p50 {times[len(times) // 2] * 1000:.1f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--out", type=Path)
    args, rest = parser.parse_known_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="cxloop-trace-")) / "writes.json"
    bench_intake.WORKER = TRACE + bench_intake.WORKER
    sys.argv = [sys.argv[0], *rest]
    os.environ["TRACE_OUT"] = str(out)
    bench_intake.main()
    report(json.loads(out.read_text()))


if __name__ == "__main__":
    main()
