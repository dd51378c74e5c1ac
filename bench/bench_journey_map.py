"""Benchmark of the journey map's data (cxloop.insights.journey) on a 10 M-response fact store.

Run from the repository root::

    python bench/bench_journey_map.py /tmp/cxloop-bench-facts

The first run writes the synthetic store there (cxloop.facts.synthetic: 10 M responses, 20
touchpoints, 200 teams, 8 segments, 2 years; about 30 s and 0.5 GB on disk); later runs reuse it
when its parameters match. Then, for each scenario, ``--cold`` fresh processes (default 3) each
compute the journey map once (cold: a new process, a new DuckDB connection, the files in the OS
cache), repeat it ``--repeats`` times with the result cache bypassed (warm: ``calculate()``) and
read it ``--repeats`` times through ``run()`` from Django's file-based cache (cached). Printed:
medians of wall time and of CPU time (all threads of the process: on a shared machine it shows
what the work costs, whatever the other load), min–max, the peak resident memory of each process
(its own ``getrusage``) and the load average.
Goals (issue #15), on 2 cores: 10 M responses warm ≤ 0.2 s, cold ≤ 1.0 s, ≤ 1.5 GB peak;
100 M responses (``--responses 100000000``: the same generator, scaled; about 7 min and 5 GB on
disk to write) warm ≤ 1 s, cold ≤ 5 s, ≤ 3 GB. Latest figures: bench/README.md, "Journey map".

``--spark`` runs the same on Spark (``CXLOOP_ANALYTICS_ENGINE=spark``): a Spark Connect server
in local mode on every core (``tests/spark_connect.py``) is started once, and each fresh
process opens a session on it (cold: a new session; the server's JVM stays up, as in
production). Peak memory is then the server's (its processes' ``VmHWM``) plus the client's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import cpu_name

PARAMETERS = {
    "responses": 10_000_000,
    "touchpoints": 20,
    "teams": 200,
    "segments": 8,
    "years": 2,
    "seed": 0,
}
SCENARIOS = {
    "target segment (the page's default)": {"segment_id": 1},
    "whole organisation": {},
    "20 teams, last 6 months": {"teams": 20, "months": 6},
}
GOALS = {  # by the store's responses (issue #15)
    10_000_000: {"warm": 0.2, "cold": 1.0, "rss_gb": 1.5},
    100_000_000: {"warm": 1.0, "cold": 5.0, "rss_gb": 3.0},
}


def ensure_store(directory: Path, **changed) -> dict:
    """The store's description; written first when missing or made with other parameters
    (:data:`PARAMETERS`, with ``changed``)."""
    parameters = PARAMETERS | changed
    described = directory / "synthetic.json"
    if described.exists() and (directory / "manifest.json").exists():
        meta = json.loads(described.read_text())
        wanted = {k: meta["parameters"].get(k) for k in parameters}
        if wanted == parameters:
            return meta["store"]
    print(f"writing the synthetic store into {directory} …", flush=True)
    start = time.perf_counter()
    # In a child process: the measured processes are started from this one, and Linux keeps the
    # peak memory of the process image an exec replaces, so they would report the writer's.
    generate = (
        "import json, sys; from cxloop.facts.synthetic import generate; "
        "generate(sys.argv[1], **json.loads(sys.argv[2]))"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run(
        [sys.executable, "-c", generate, str(directory), json.dumps(parameters)],
        check=True, cwd=root, env=os.environ | {"PYTHONPATH": str(root)},
    )  # fmt: skip
    store = json.loads(described.read_text())["store"]
    print(
        f"  {store['responses']:,} responses, {store['answers']:,} answers in "
        f"{time.perf_counter() - start:.0f} s",
        flush=True,
    )
    return store


def child(directory: str, scenario: str, repeats: int, remote: str | None) -> None:
    """One fresh process: the cold call, warm repeats, cached repeats; JSON on stdout."""
    started = time.perf_counter()
    import datetime as dt

    import django
    from django.conf import settings

    cache_dir = tempfile.mkdtemp(prefix="cxloop-bench-cache-")
    settings.configure(
        CACHES={
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": cache_dir,
            }
        }
    )
    django.setup()
    from cxloop.facts.store import read_manifest
    from cxloop.insights.journey import JourneyMapQuery
    from cxloop.insights.store import FactStore, Scope, SparkFactStore

    meta = json.loads((Path(directory) / "synthetic.json").read_text())["store"]
    spec = SCENARIOS[scenario]
    since = None
    if "months" in spec:
        last = max(read_manifest(base=Path(directory)).months)
        year, month = int(last[:4]), int(last[5:7]) - spec["months"] + 1
        while month < 1:
            year, month = year - 1, month + 12
        since = dt.date(year, month, 1)
    scope = Scope(
        since=since,
        segment_id=spec.get("segment_id"),
        team_ids=tuple(range(1, spec["teams"] + 1)) if "teams" in spec else None,
    )
    query = JourneyMapQuery(
        tuple(tuple(p) for p in meta["touchpoint_stages"]),
        scope=scope,
        target_segment_id=meta["target_segment_id"],
    )
    imported = time.perf_counter() - started

    t0, c0 = time.perf_counter(), time.process_time()
    store = FactStore(directory) if remote is None else SparkFactStore(directory, remote=remote)
    result = query.calculate(store.tables())
    cold, cold_cpu = time.perf_counter() - t0, time.process_time() - c0
    warm, warm_cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        query.calculate(store.tables())
        warm.append(time.perf_counter() - t0)
        warm_cpu.append(time.process_time() - c0)  # every thread of the process
    query.run(store=store)  # fills the cache
    cached = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        query.run(store=store)
        cached.append(time.perf_counter() - t0)
    print(
        json.dumps(
            {
                "imports": imported,
                "cold": cold,
                "cold_cpu": cold_cpu,
                "warm": warm,
                "warm_cpu": warm_cpu,
                "cached": cached,
                "fraction": result.drivers.fraction,
                "sampled": result.drivers.responses,
                "cards": len(result.cards),
                "opportunities": len(result.opportunities),
                "load": os.getloadavg()[0],
                # Peak resident memory of this process, all of it (KiB on Linux).
                "rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            }
        )
    )


SPARK_MEMORY = "4g"  # the driver's heap: in local mode the executors run inside it


def group_peak_gb(group: int) -> float:
    """The largest peak resident memory (VmHWM) among the processes of a process group."""
    peak = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
            if int(fields[2]) != group:  # pgrp
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        for text in status.splitlines():
            if text.startswith("VmHWM:"):
                peak = max(peak, int(text.split()[1]))
    return peak / 2**20


def line(row: dict) -> str:
    med = statistics.median
    return (
        f"{row['scenario']:38s} {med(row['cold']):5.2f}s {med(row['cold_cpu']):5.2f}s "
        f"{med(row['warm']):5.2f}s {med(row['warm_cpu']):5.2f}s {med(row['cached']) * 1000:5.1f}ms "
        f"{row['rss_gb']:6.2f}GB {row['load']:5.1f}  "
        f"{row['fraction']:.3f} of the period, {row['sampled']:,} responses"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="where the synthetic store is (or goes)")
    parser.add_argument("--cold", type=int, default=3, help="fresh processes per scenario")
    parser.add_argument("--repeats", type=int, default=5, help="warm and cached calls each")
    parser.add_argument("--responses", type=int, default=PARAMETERS["responses"])
    parser.add_argument("--spark", action="store_true", help="on a Spark Connect server")
    parser.add_argument("--child", metavar="SCENARIO", help=argparse.SUPPRESS)
    parser.add_argument("--remote", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(str(args.directory), args.child, args.repeats, args.remote)
        return
    if not args.spark:
        measure(args, None)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from tests import spark_connect

    log = Path(tempfile.mkdtemp(prefix="cxloop-bench-spark-")) / "connect-server.log"
    with spark_connect.running(
        log, cores=os.cpu_count(), memory=SPARK_MEMORY, java_options="", partitions=8
    ) as server:
        print(f"Spark Connect server {server.remote} (local[{os.cpu_count()}], {SPARK_MEMORY})")
        measure(args, server)


def measure(args, server) -> None:
    import duckdb
    import ibis
    import numpy

    store = ensure_store(args.directory, responses=args.responses)
    print(
        f"{cpu_name()}, nproc {os.cpu_count()}, Python {platform.python_version()}, "
        f"ibis {ibis.__version__}, duckdb {duckdb.__version__}, numpy {numpy.__version__}"
    )
    print(
        f"store: {store['responses']:,} responses, {store['answers']:,} answers, "
        f"{len(store['months'])} months",
        flush=True,
    )
    header = (
        f"{'scenario':38s} {'cold':>6s} {'CPU':>6s} {'warm':>6s} {'CPU':>6s} {'cached':>7s} "
        f"{'peak RSS':>8s} {'load':>5s}  sample"
    )
    rows = []
    for scenario in SCENARIOS:
        runs = []
        for _ in range(args.cold):
            command = [sys.executable, __file__, str(args.directory), "--child", scenario,
                       "--repeats", str(args.repeats)]  # fmt: skip
            if server is not None:
                command += ["--remote", server.remote]
            out = subprocess.run(command, check=True, capture_output=True, text=True)
            run = json.loads(out.stdout.strip().splitlines()[-1])
            if server is not None:
                run["rss_gb"] += group_peak_gb(server.pid)
            runs.append(run)
        row = {
            "scenario": scenario,
            "cold": [r["cold"] for r in runs],
            "cold_cpu": [r["cold_cpu"] for r in runs],
            "warm": [t for r in runs for t in r["warm"]],
            "warm_cpu": [t for r in runs for t in r["warm_cpu"]],
            "cached": [t for r in runs for t in r["cached"]],
            "rss_gb": max(r["rss_gb"] for r in runs),
            "load": statistics.median(r["load"] for r in runs),
            "fraction": runs[0]["fraction"],
            "sampled": runs[0]["sampled"],
        }
        rows.append(row)
        if len(rows) == 1:
            print(header)
        print(line(row), flush=True)
    print()
    for row in rows:
        print(
            f"{row['scenario']:38s} cold {min(row['cold']):.2f}–{max(row['cold']):.2f} s, "
            f"warm {min(row['warm']):.2f}–{max(row['warm']):.2f} s"
        )
    if server is not None:
        return  # Spark is measured and stated: the goals are DuckDB's, on one machine
    goals = GOALS.get(args.responses)
    if goals is None:
        return
    head = rows[0]
    verdict = {
        "warm": statistics.median(head["warm"]) <= goals["warm"],
        "cold": statistics.median(head["cold"]) <= goals["cold"],
        "rss_gb": max(r["rss_gb"] for r in rows) <= goals["rss_gb"],
    }
    print(
        "goals (default scenario):",
        ", ".join(f"{k} {'met' if ok else 'MISSED'} (≤ {goals[k]})" for k, ok in verdict.items()),
    )


if __name__ == "__main__":
    main()
