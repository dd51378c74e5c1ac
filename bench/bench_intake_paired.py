"""Two trees of cxloop under the same steady rate of submissions, in alternating blocks, so that
a host whose speed drifts from minute to minute slows both alike.

    python bench/bench_intake_paired.py --tree DIR [--against DIR] [--rate 300]
                                        [--blocks 16] [--block-seconds 15] [--warm-up 2]
                                        [--no-worker] [--no-rule A|B] [--out FILE]

``bench_intake.py`` compares trees one run after another; on a shared VM whose speed changes
between minutes (the same tree has needed 21 and 32 CPU-seconds of server for the same run) the
client's tail varies by 4× between identical runs, far more than a 10 % difference. Here both
trees are set up as ``bench_intake.py`` sets one up (its own database, the alert rule, ``cxloop
serve`` with 2 workers and ``cxloop worker``), and the load goes to one at a time, in blocks of
``--block-seconds``, in the order A B B A A B B A …; the tree not loaded is stopped (SIGSTOP: its
server and worker take no CPU) and continued (SIGCONT) for its next block, so what a tree leaves
undone at the end of a block (its worker's last round) is done in its own next block. The first
``--warm-up`` blocks of each tree are left out (the cases are opened then; a steady state is one
where most detractors join an open case). It prints, per tree, the client's latency and the
server's own time (granian's access log) over all its blocks; then, block by block, each
figure's median per tree (client p50/p99, the server's own p50/p99, the CPU its server and
worker used, the rate answered) and the second tree's ÷ the first's for each pair of blocks
side by side. ``--out`` keeps the figures of every block (JSON).

A detractor answered near the end of a block waits for its tree's next block for its case, so
no 201 → case delay is given here (``bench_intake.py`` measures it); the run checks that every
detractor of both trees has its case trigger in the end. ``--no-worker`` runs no ``cxloop
worker`` for either tree: the cost of the request itself, without the loop's work beside it.
``--no-rule A`` (or ``B``) sets that tree up without the alert rule: with ``--against`` the same
tree, the loop's own work (rules, cases, clocks, their e-mails) against none, everything else
of the tree (the one way in, the other consumers, metrics) in both.
"""

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_intake
from bench_intake import CASES, CUSTOMERS, SETUP, WORKER, Load, percentile, read_probe, run
from machine import descendants, free_port, tree_cpu_seconds, wait_until_serving


class Site:
    """One tree of cxloop served with its own data directory and database, and its worker."""

    def __init__(self, tree: Path, label: str, *, with_worker: bool = True, with_rule: bool = True):
        self.tree, self.label = tree, label
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"cxloop-bench-paired-{label}-"))
        self.environment = {
            **os.environ,
            "CXLOOP_DATA_DIR": str(self.data_dir),
            "CXLOOP_DATABASE_URL": "",
            "PYTHONPATH": str(tree),
        }
        self.cxloop = [sys.executable, "-m", "cxloop.cli"]
        run([*self.cxloop, "migrate", "-v0"], self.environment, tree)
        setup = f"CUSTOMERS = {CUSTOMERS}\nWITH_RULE = {with_rule}\n{SETUP}"
        self.survey, self.token = run(
            [*self.cxloop, "shell", "-v0", "-c", setup], self.environment, tree
        ).split()
        self.port = free_port()
        self.probe = self.data_dir / "announced.txt"
        self.log = self.data_dir / "serve.log"
        self.server = subprocess.Popen(
            [*self.cxloop, "serve", "--bind", f"127.0.0.1:{self.port}"],
            env=self.environment,
            cwd=tree,
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        self.processes = [self.server]
        if with_worker:
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-c", WORKER, str(self.probe)],
                    env=self.environment,
                    cwd=tree,
                )
            )
        self.acknowledged: dict[int, float] = {}

    def pids(self) -> list[int]:
        """The server (granian and its workers) and the task worker."""
        return [*descendants(self.server.pid), *(p.pid for p in self.processes[1:])]

    def pause(self) -> None:
        for pid in self.pids():
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in self.pids():
            os.kill(pid, signal.SIGCONT)

    def cpu(self) -> tuple[float, float]:
        server, *worker = (tree_cpu_seconds(p.pid) for p in self.processes)
        return server, sum(worker)

    def log_size(self) -> int:
        return self.log.stat().st_size

    def handling_times(self, since: int) -> list[float]:
        with self.log.open() as log:
            log.seek(since)
            return [float(ms) for ms in bench_intake.ACCESS_POST.findall(log.read())]

    def triggered(self) -> set[int]:
        lines = run([*self.cxloop, "shell", "-v0", "-c", CASES], self.environment, self.tree)
        return {int(line.split()[0]) for line in lines.splitlines()[1:]}

    def stop(self) -> None:
        self.resume()
        every = self.pids()
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        # granian's workers outlive their master when it is stopped and continued mid-run.
        for pid in every:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class Block:
    """What one block of load on one site gave."""

    def __init__(self, site: Site, load: Load, handled: list[float], cpu: tuple[float, float]):
        self.site = site
        self.latencies = load.latencies
        self.handled = handled
        self.failures = sum(load.failures.values())
        self.figures = {
            "client p50 (ms)": percentile(load.latencies, 0.5) * 1000,
            "client p99 (ms)": percentile(load.latencies, 0.99) * 1000,
            "server's own p50 (ms)": percentile(handled, 0.5),
            "server's own p99 (ms)": percentile(handled, 0.99),
            "server CPU (s)": cpu[0],
            "worker CPU (s)": cpu[1],
            "answered/s": len(load.latencies) / load.elapsed,
        }


def drive(site: Site, number: int, args) -> Block:
    site.resume()
    time.sleep(0.5)  # the processes running again before the first request is due
    log_from, cpu_from = site.log_size(), site.cpu()
    load = Load(
        site.port, site.survey, site.token, rate=args.rate, threads=args.threads, name=str(number)
    )
    load.drive(args.block_seconds)
    cpu = tuple(after - before for after, before in zip(site.cpu(), cpu_from, strict=True))
    time.sleep(0.2)  # the access log's last lines written
    handled = site.handling_times(log_from)
    site.pause()
    site.acknowledged.update(load.acknowledged)
    return Block(site, load, handled, cpu)


def order(blocks: int) -> list[int]:
    """0 1 1 0 0 1 1 0 …: each tree as often first as second in a pair, so that a drift of the
    host's speed within a pair does not favour one."""
    return [(n + 1) // 2 % 2 for n in range(blocks)]


def report(sites: list[Site], blocks: list[Block], warm_up: int) -> dict:
    """Print each tree's figures over its blocks, and the second tree's against the first's
    block pair by pair; return them per block."""
    counted = {site: [b for b in blocks if b.site is site][warm_up:] for site in sites}
    for site in sites:
        mine = counted[site]
        latencies = [x for b in mine for x in b.latencies]
        handled = [x for b in mine for x in b.handled]
        print(
            f"{site.label} ({site.tree}): {len(mine)} blocks, {len(latencies):,} requests, "
            f"failed {sum(b.failures for b in mine)}; over them all: client p50 "
            f"{percentile(latencies, 0.5) * 1000:.1f} ms, p99 "
            f"{percentile(latencies, 0.99) * 1000:.1f} ms; server's own p50 "
            f"{percentile(handled, 0.5):.2f} ms, p99 {percentile(handled, 0.99):.2f} ms"
        )
    first, second = (counted[site] for site in sites)
    print(f"{'block by block':24} {'A (median)':>11} {'B (median)':>11}  B ÷ A pair by pair")
    for name in first[0].figures:
        a = [b.figures[name] for b in first]
        b = [b.figures[name] for b in second]
        ratios = sorted(y / x for x, y in zip(a, b, strict=True) if x)
        if not ratios:  # the worker's CPU with --no-worker
            continue
        print(
            f"{name:24} {statistics.median(a):11.2f} {statistics.median(b):11.2f}  median "
            f"{statistics.median(ratios):.2f} (range {ratios[0]:.2f}–{ratios[-1]:.2f}; "
            f"{sum(r <= 1.1 for r in ratios)} of {len(ratios)} within +10 %)"
        )
    return {site.label: [b.figures for b in counted[site]] for site in sites}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tree", type=Path, required=True, help="tree A")
    parser.add_argument(
        "--against", type=Path, default=Path(__file__).resolve().parents[1], help="tree B"
    )
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--blocks", type=int, default=16)
    parser.add_argument("--block-seconds", type=float, default=15)
    parser.add_argument("--warm-up", type=int, default=2, help="blocks of each tree left out")
    parser.add_argument("--out", type=Path, help="a JSON file for the figures of each block")
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="no cxloop worker for either tree: the request's own cost, the loop's work left out",
    )
    parser.add_argument(
        "--no-rule",
        choices=("A", "B"),
        help="no alert rule for this tree: the same tree with and without the loop's work",
    )
    args = parser.parse_args()
    sites = [
        Site(tree, label, with_worker=not args.no_worker, with_rule=label != args.no_rule)
        for tree, label in ((args.tree, "A"), (args.against, "B"))
    ]
    blocks: list[Block] = []
    try:
        for site in sites:
            wait_until_serving(site.port)
            site.pause()
        for number, which in enumerate(order(args.blocks + 2 * args.warm_up)):
            blocks.append(drive(sites[which], number, args))
        # The last announcements, each tree running alone.
        for site in sites if not args.no_worker else ():
            site.resume()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not set(site.acknowledged) <= set(
                read_probe(site.probe)
            ):
                time.sleep(1)
            time.sleep(2)
            site.pause()
    finally:
        for site in sites:
            site.stop()
    figures = report(sites, blocks, args.warm_up)
    if args.out:
        args.out.write_text(json.dumps(figures, indent=1))
    for site in sites if not args.no_worker else ():
        triggered = site.triggered()
        have = len(set(site.acknowledged) & triggered)
        print(
            f"{site.label}: {have:,} of {len(site.acknowledged):,} detractors have their case"
            if triggered
            else f"{site.label}: no case (a tree without the closed loop)"
        )


if __name__ == "__main__":
    main()
