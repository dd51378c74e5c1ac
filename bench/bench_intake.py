"""The API under a steady rate of submissions, and how long a detractor's response waits between
its 201 and its case.

    python bench/bench_intake.py [--rate 300] [--seconds 20] [--database-url postgres://…]
                                 [--tree DIR] [--no-rule]

Makes a throw-away data directory (and database) with a one-question NPS survey, 500 customers
with a contact each, an API token and the alert rule a firm starts with (NPS ≤ 6 opens a case for
a named team); serves cxloop with `cxloop serve` (granian, 2 workers) and runs `cxloop worker`
beside it with a probe consumer of ``responses_recorded`` that writes each announced id and the
time it arrived (to know when the run is over). A detractor's case time is its trigger's
``created_at``: when the rules began evaluating the announced batch that holds it (opened, or
joined: one open case per customer); the commit follows within that batch's evaluation. A
Python load generator sends ``POST /api/responses`` at a steady rate (open loop: a request is
due every 1/rate s whether or not the earlier ones were answered, so a slow server shows as
latency, not as a lower rate) over keep-alive connections, each from one of the contacts in
turn, with a realistic mix of scores (one in five a detractor). It prints the API's latency
percentiles and rate; the server's own time for each request (granian's access log: without
the waits for a free worker or for the CPU that the client's latency includes); the CPU time
the server, the worker and the load generator used while the load ran (all on the same cores);
and the 201 → case delay's p50/p99 for the detractors that have their case trigger.

``--tree`` runs another checkout of cxloop (say, the commit before the one way in, unpacked
with ``git archive``): the API's figures before and after a change on the same machine. A tree
without the closed loop reports no case.
"""

import argparse
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

from machine import free_port, tree_cpu_seconds, wait_until_serving

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The organisation, the alert rule and the scores the resilience harness uses too.
from tests.ops.production import SCORES, SETUP  # noqa: E402

ACCESS_POST = re.compile(r'"POST [^"]*" \d{3} ([\d.]+)$', re.MULTILINE)  # granian's access log

WORKER = textwrap.dedent(
    """
    import os, sys, time
    import django
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxloop.settings")
    django.setup()
    from django.core.management import call_command
    try:
        from cxloop.surveys.signals import responses_recorded
    except ImportError:  # a tree before the one way in
        responses_recorded = None
    probe = open(sys.argv[1], "a")
    def arrived(sender, *, response_ids, **kwargs):
        now = time.time()
        probe.write("".join(f"{pk} {now}\\n" for pk in response_ids))
        probe.flush()
    if responses_recorded is not None:
        responses_recorded.connect(arrived)
    call_command("worker", verbosity=0)
    """
)

CUSTOMERS = 500

CASES = textwrap.dedent(
    """
    try:
        from cxloop.cases.models import Case, CaseTrigger
    except ImportError:
        pass
    else:
        print(Case.objects.count())
        for pk, at in CaseTrigger.objects.values_list("response_id", "created_at"):
            print(pk, at.timestamp())
    """
)


def run(command: list[str], environment: dict, cwd: Path) -> str:
    result = subprocess.run(command, env=environment, cwd=cwd, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"{command[0]} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Load:
    """Requests sent at a steady rate by ``threads`` threads, each with its own connection;
    ``name`` keeps the idempotency keys of two loads on one server apart."""

    def __init__(
        self, port: int, survey: str, token: str, *, rate: float, threads: int, name: str = ""
    ):
        self.port, self.survey, self.token, self.name = port, survey, token, name
        self.interval = threads / rate  # each thread's share of the rate
        self.threads = threads
        self.latencies: list[float] = []
        self.acknowledged: dict[int, float] = {}  # a detractor's response id → when its 201 came
        self.answered = 0
        self.failures: Counter = Counter()  # status (or the error) → how many
        self._lock = threading.Lock()

    def drive(self, seconds: float) -> None:
        start = time.monotonic() + 0.1
        workers = [
            threading.Thread(target=self._thread, args=(n, start, start + seconds))
            for n in range(self.threads)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        self.elapsed = time.monotonic() - start  # longer than asked when the server fell behind

    def _thread(self, n: int, start: float, stop: float) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        due = start + n * self.interval / self.threads
        count = 0
        while due < stop:
            time.sleep(max(0.0, due - time.monotonic()))
            count += 1
            who = (n * 7919 + count) % CUSTOMERS
            score = SCORES[count % len(SCORES)]
            body = json.dumps(
                {
                    "survey_id": int(self.survey),
                    "answers": {"1": score},
                    "customer_external_id": f"c{who}",
                    "contact_email": f"c{who}@example.com",
                }
            )
            headers = {
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"bench{self.name}-{n}-{count}",
            }
            try:
                connection.request("POST", "/api/responses", body, headers)
                answer = connection.getresponse()
                payload = answer.read()
            except OSError as error:
                connection.close()
                with self._lock:
                    self.failures[type(error).__name__] += 1
                due += self.interval
                continue
            now_wall, now = time.time(), time.monotonic()
            with self._lock:
                # From when it was due: a request that waited for its thread counts its wait.
                self.latencies.append(now - due)
                self.answered += answer.status == 201
                if answer.status == 201:
                    if score <= 6:
                        self.acknowledged[json.loads(payload)["id"]] = now_wall
                else:
                    self.failures[answer.status] += 1
            due += self.interval
        connection.close()  # else the server's graceful stop waits for it


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--database-url", default="")
    parser.add_argument(
        "--no-rule", action="store_true", help="no alert rule: the loop's own cost left out"
    )
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="cxloop-bench-intake-"))
    environment = {
        **os.environ,
        "CXLOOP_DATA_DIR": str(data_dir),
        "CXLOOP_DATABASE_URL": args.database_url,
        "PYTHONPATH": str(args.tree),
    }
    cxloop = [sys.executable, "-m", "cxloop.cli"]
    run([*cxloop, "migrate", "-v0"], environment, args.tree)
    setup = f"CUSTOMERS = {CUSTOMERS}\nWITH_RULE = {not args.no_rule}\n{SETUP}"
    survey, token = run([*cxloop, "shell", "-v0", "-c", setup], environment, args.tree).split()
    port = free_port()
    probe = data_dir / "announced.txt"
    processes = [
        subprocess.Popen(
            [*cxloop, "serve", "--bind", f"127.0.0.1:{port}"],
            env=environment,
            cwd=args.tree,
            stdout=(data_dir / "serve.log").open("w"),
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(probe)], env=environment, cwd=args.tree
        ),
    ]
    try:
        wait_until_serving(port)
        load = Load(port, survey, token, rate=args.rate, threads=args.threads)
        cpu_before = [tree_cpu_seconds(process.pid) for process in processes]
        own_before = time.process_time()
        load.drive(args.seconds)
        cpu = [tree_cpu_seconds(p.pid) - b for p, b in zip(processes, cpu_before, strict=True)]
        own_cpu = time.process_time() - own_before
        # The last announcements: until every detractor's has arrived (or a minute), and a
        # moment for their transactions to commit.
        deadline = time.monotonic() + 60
        waiting = set(load.acknowledged)
        while time.monotonic() < deadline and not waiting <= set(read_probe(probe)):
            time.sleep(1)
        time.sleep(2)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:  # granian waits for connections it still holds
                process.kill()
                process.wait()
    sent = len(load.latencies)
    print(f"tree: {args.tree}; database: {args.database_url or 'SQLite'}; log: {data_dir}")
    print(
        f"API: {sent / load.elapsed:.0f} answered/s of {args.rate:.0f}/s asked "
        f"({sent:,} in {load.elapsed:.1f} s); "
        f"201: {load.answered:,} ({len(load.acknowledged):,} detractors); "
        f"failed: {dict(load.failures) or 0}; latency p50 "
        f"{percentile(load.latencies, 0.5) * 1000:.1f} ms, p99 "
        f"{percentile(load.latencies, 0.99) * 1000:.1f} ms"
    )
    handled = sorted(_handling_times(data_dir / "serve.log"))
    if handled:
        print(
            f"the server's own time (granian's access log): p50 "
            f"{percentile(handled, 0.5):.1f} ms, p99 {percentile(handled, 0.99):.1f} ms"
        )
    print(
        f"CPU while the load ran: server {cpu[0]:.1f} s, worker {cpu[1]:.1f} s, "
        f"load generator {own_cpu:.1f} s"
    )
    lines = run([*cxloop, "shell", "-v0", "-c", CASES], environment, args.tree).splitlines()
    triggered = {int(pk): float(at) for pk, at in (line.split() for line in lines[1:])}
    delays = [triggered[pk] - at for pk, at in load.acknowledged.items() if pk in triggered]
    if delays:
        print(
            f"201 → case: {len(delays):,} of {len(load.acknowledged):,} detractors have their "
            f"trigger, in {lines[0]} cases; p50 {statistics.median(delays) * 1000:.0f} ms, "
            f"p99 {percentile(delays, 0.99) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms"
        )
    else:
        print("201 → case: no case (a tree without the closed loop, or --no-rule)")


def _handling_times(log: Path) -> list[float]:
    """Milliseconds each POST took inside the server: the last field of granian's access log
    (without the wait for a free worker or for the CPU that the client's latency includes)."""
    if not log.exists():
        return []
    return [float(ms) for ms in ACCESS_POST.findall(log.read_text())]


def read_probe(probe: Path) -> dict[int, float]:
    """Response id → when its announcement reached the probe (after the rules' receiver)."""
    announced: dict[int, float] = {}
    if probe.exists():
        for line in probe.read_text().splitlines():
            pk, at = line.split()
            announced.setdefault(int(pk), float(at))
    return announced


if __name__ == "__main__":
    main()
