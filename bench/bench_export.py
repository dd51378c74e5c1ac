"""Exports at scale: 1,000,000 responses to CSV (and the other formats) from the command line.

    python bench/bench_export.py [--responses 1000000] [--repeats 3]
        [--dir /tmp/cxloop-bench-rules] [--formats csv,parquet]

Uses the SQLite database of ``bench/bench_rules.py`` (1 M responses of 20,000 customers with
about 4.6 answers each, half with a comment; built first when missing, a few minutes). An
administrator (who sees every customer) runs ``cxloop export responses`` in a fresh process,
``--repeats`` times per format: the wall time and the process's peak RSS are printed, for the
whole list and for a tenth of it (``--filter since=…``, the last 1.3 days), so that the memory
can be compared: an export that held its rows would grow tenfold.

Goal (issue #16): 1,000,000 responses to CSV in ≤ 60 s without holding them in memory. Latest
figures: bench/README.md, "Exports".
"""

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench_rules import build, setup_django
from machine import cpu_name

ADMIN = "bench-export-admin"
# The child's own peak RSS (ru_maxrss, KiB on Linux), printed after the export.
MEASURED = (
    "import resource, sys; from cxloop.cli import main; sys.argv = ['cxloop', *sys.argv[1:]]\n"
    "try:\n    main()\nfinally:\n"
    "    print(f'peak_rss_kib={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}', "
    "file=sys.stderr)\n"
)


def _admin() -> None:
    from django.contrib.auth.models import User

    from cxloop.people.models import Employee, Role, Team

    if User.objects.filter(username=ADMIN).exists():
        return
    user = User.objects.create(username=ADMIN)
    Employee.objects.create(user=user, team=Team.objects.order_by("pk").first(), role=Role.ADMIN)


def _run(directory: str, fmt: str, output: Path, filters: list[str]) -> tuple[float, float, str]:
    environment = {**os.environ, "CXLOOP_DATA_DIR": directory}
    environment.pop("CXLOOP_DATABASE_URL", None)
    command = [sys.executable, "-c", MEASURED, "export", "responses", "--format", fmt]
    command += ["--user", ADMIN, "-o", str(output)]
    for item in filters:
        command += ["--filter", item]
    start = time.perf_counter()
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - start
    peak = next(
        int(line.split("=", 1)[1])
        for line in done.stderr.splitlines()
        if line.startswith("peak_rss_kib=")
    )
    summary = next(line for line in done.stderr.splitlines() if " rows of " in line)
    return seconds, peak / 1024, summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/cxloop-bench-rules")
    parser.add_argument("--formats", default="csv,csv-excel,parquet")
    args = parser.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    setup_django(args.dir)
    marker = Path(args.dir, "bench-rules.txt")
    if not marker.exists() or not marker.read_text().startswith(f"{args.responses} "):
        for leftover in Path(args.dir).glob("cxloop.sqlite3*"):
            leftover.unlink()
        print(f"building {args.responses:,} responses in {args.dir} …", flush=True)  # noqa: T201
        build(args.responses, "demo")
    _admin()
    recent = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    print(f"{cpu_name()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")  # noqa: T201
    output = Path(args.dir, "export.out")
    for fmt in args.formats.split(","):
        for label, filters in (("every response", []), ("a tenth", [f"since={recent}"])):
            runs = []
            for _ in range(args.repeats):
                runs.append(_run(args.dir, fmt, output, filters))
                size = output.stat().st_size / 1e6
                print(  # noqa: T201
                    f"  {fmt}, {label}: {runs[-1][0]:.1f} s, peak RSS {runs[-1][1]:.0f} MB, "
                    f"{size:.0f} MB file ({runs[-1][2]}; load {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
            print(  # noqa: T201
                f"{fmt}, {label}: median {statistics.median(r[0] for r in runs):.1f} s "
                f"(min {min(r[0] for r in runs):.1f}, max {max(r[0] for r in runs):.1f}), "
                f"peak RSS median {statistics.median(r[1] for r in runs):.0f} MB",
                flush=True,
            )
    output.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
