"""The API under a steady rate of submissions, and how long a response waits between its 201 and
its announcement to the consumers.

    python bench/bench_intake.py [--rate 300] [--seconds 20] [--database-url postgres://…]
                                 [--tree DIR]

Makes a throw-away data directory (and database), a one-question survey and an API token, serves
cxloop with `cxloop serve` (granian, 2 workers) and runs `cxloop worker` beside it with a probe
consumer of ``responses_recorded`` that writes each announced id and the time it arrived. A
Python load generator sends ``POST /api/responses`` at a steady rate (open loop: a request is
due every 1/rate s whether or not the earlier ones were answered, so a slow server shows as
latency, not as a lower rate) over keep-alive connections. It prints the API's latency
percentiles and rate, and the 201 → announcement delay's p50/p99 for the responses announced.

``--tree`` runs another checkout of cxloop (say, the commit before the one way in, unpacked
with ``git archive``): the API's figures before and after a change on the same machine. A tree
without the announcer reports no announcement delay.
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
from collections import Counter
from pathlib import Path

from machine import free_port

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

SETUP = textwrap.dedent(
    """
    from django.contrib.auth.models import User
    from cxloop.api.services import issue_token
    from cxloop.people.models import Employee, Team
    from cxloop.surveys.models import Question, Survey
    survey = Survey.objects.create(name_ru="Б", name_en="B", kind="transactional", languages=["ru"])
    Question.objects.create(
        survey=survey, order=1, kind="nps", text_ru="?", text_en="?", required=True
    )
    user = User.objects.create_user(f"bench-{survey.pk}")
    employee = Employee.objects.create(user=user, team=Team.objects.create(name="B"), role="admin")
    print(survey.pk, issue_token(employee, "bench")[1])
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
    """Requests sent at a steady rate by ``threads`` threads, each with its own connection."""

    def __init__(self, port: int, survey: str, token: str, *, rate: float, threads: int):
        self.port, self.survey, self.token = port, survey, token
        self.interval = threads / rate  # each thread's share of the rate
        self.threads = threads
        self.latencies: list[float] = []
        self.acknowledged: dict[int, float] = {}  # response id → when its 201 arrived
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
            body = json.dumps({"survey_id": int(self.survey), "answers": {"1": count % 11}})
            headers = {
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"bench-{n}-{count}",
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
                if answer.status == 201:
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
    survey, token = run([*cxloop, "shell", "-v0", "-c", SETUP], environment, args.tree).split()
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
        deadline = time.monotonic() + 120  # both workers up: a loaded machine takes a while
        ready = 0
        while ready < 4 and time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=5).close()
                ready += 1
            except OSError:
                time.sleep(0.5)
        load = Load(port, survey, token, rate=args.rate, threads=args.threads)
        load.drive(args.seconds)
        time.sleep(5)  # the last announcements
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
        f"201: {len(load.acknowledged):,}; failed: {dict(load.failures) or 0}; latency p50 "
        f"{percentile(load.latencies, 0.5) * 1000:.1f} ms, p99 "
        f"{percentile(load.latencies, 0.99) * 1000:.1f} ms"
    )
    announced = {}
    if probe.exists():
        for line in probe.read_text().splitlines():
            pk, at = line.split()
            announced.setdefault(int(pk), float(at))
    delays = [announced[pk] - at for pk, at in load.acknowledged.items() if pk in announced]
    if delays:
        print(
            f"201 → announced: {len(delays):,} of {len(load.acknowledged):,}; "
            f"p50 {statistics.median(delays) * 1000:.0f} ms, "
            f"p99 {percentile(delays, 0.99) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms"
        )
    else:
        print("201 → announced: no announcements (a tree without the one way in?)")


if __name__ == "__main__":
    main()
