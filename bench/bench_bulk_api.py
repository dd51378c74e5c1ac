"""Responses stored per second through ``POST /api/responses/batch``, and whether every
acknowledged one is stored.

    python bench/bench_bulk_api.py [--seconds 20] [--threads 3] [--batch 1000]
                                   [--customers 1000] [--database-url postgres://…/mine]

Makes a throw-away data directory with a three-question survey (NPS, CSAT, a comment),
``--customers`` customers with a contact each and an API token; on PostgreSQL it works in a
schema of its own in the database named (made here, dropped at the end), so the database's
own tables are left alone. Serves cxloop with `cxloop serve` (granian, 2 workers) on
127.0.0.1, and ``--threads`` Python clients on keep-alive connections, spread over the
server's workers (a worker keeps the connections it accepted), POST batches of
``--batch`` responses for ``--seconds``, each item with its own idempotency key, a
customer's external id and its contact's e-mail, a score, and a comment in one item of two.
It prints responses stored per second (overall, and the median of each batch's stored items
over its round trip), the round trip's percentiles, the CPU time of the server and of the
clients, and then checks that every acknowledged item (201) is in the database under its key
with the id the API gave.
No task worker runs: the stored responses wait to be announced, as when the worker is down.
"""

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

from machine import cpu_name, cpu_seconds, free_port, tree_cpu_seconds, wait_until_serving

SCORES = (10, 9, 9, 8, 10, 7, 9, 3, 10, 8, 9, 6, 10, 9, 8, 10, 5, 9, 10, 0)
COMMENTS = ("Quick and friendly.", "Долго ждал ответа оператора, но вопрос решили.")

SETUP = textwrap.dedent(
    """
    from django.contrib.auth.models import User
    from cxloop.api.services import issue_token
    from cxloop.customers.models import Contact, Customer
    from cxloop.people.models import Employee, Team
    from cxloop.surveys.models import Question, Survey
    survey = Survey.objects.create(
        name_ru="Б", name_en="B", kind="transactional", languages=["ru"]
    )
    for order, kind in enumerate(["nps", "csat", "text"], start=1):
        Question.objects.create(
            survey=survey, order=order, kind=kind, text_ru="?", text_en="?", required=order == 1
        )
    user = User.objects.create_user("bench")
    employee = Employee.objects.create(user=user, team=Team.objects.create(name="B"), role="admin")
    customers = Customer.objects.bulk_create(
        Customer(external_id=f"c{n}", name=f"Customer {n}") for n in range(CUSTOMERS)
    )
    Contact.objects.bulk_create(
        Contact(customer=c, name=f"Contact {n}", email=f"c{n}@example.com")
        for n, c in enumerate(customers)
    )
    print(survey.pk, issue_token(employee, "bench")[1])
    """
)

STORED = textwrap.dedent(
    """
    import sys
    from cxloop.surveys.models import Answer, Response
    responses = Response.objects.filter(survey_id=SURVEY)
    for key, pk in responses.values_list("source_key", "pk").iterator():
        sys.stdout.write(f"{key} {pk}\\n")
    sys.stdout.write(f"ANSWERS {Answer.objects.filter(response__survey_id=SURVEY).count()}\\n")
    """
)


def run(command: list[str], environment: dict) -> str:
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    if result.returncode:
        sys.exit(f"{command[0]} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Load:
    """Batches posted back to back by ``threads`` threads, each with its own connection."""

    def __init__(
        self, port: int, survey: int, token: str, *, threads: int, batch: int, customers: int
    ):
        self.port, self.survey, self.token = port, survey, token
        self.threads, self.batch, self.customers = threads, batch, customers
        self.acknowledged: dict[str, int] = {}  # idempotency key → the id the API gave
        self.round_trips: list[float] = []
        self.batch_rates: list[float] = []  # stored items / round trip, per batch
        self.answers = 0  # answers in the acknowledged items
        self.failures: Counter = Counter()  # a batch's status, or an item's, or the error
        self._lock = threading.Lock()

    def connect(self, server_pid: int) -> dict[int, int]:
        """One keep-alive connection per thread, spread over the server's worker processes:
        granian's workers keep the connections they accept, and three accepted by the same
        worker left the other idle for the whole run (a quarter of the runs, at two thirds of
        the throughput). Each connection is reconnected until no worker holds two while
        another holds none (Linux: who holds it is read from /proc). How many each worker
        holds, by pid."""
        self.connections = [self._connection() for _ in range(self.threads)]
        workers = server_workers(server_pid)
        counts: Counter = Counter()
        for _ in range(50):
            held = [connection_owner(self.port, port, workers) for port, _ in self.connections]
            counts = Counter(held)
            if None in counts or len(workers) < 2:  # not Linux, or nothing to spread over
                break
            if max(counts.values()) - min(counts.get(pid, 0) for pid in workers) <= 1:
                break
            crowded = held.index(max(counts, key=counts.get))
            self.connections[crowded][1].close()
            self.connections[crowded] = self._connection()
        return dict(counts)

    def _connection(self) -> tuple[int, http.client.HTTPConnection]:
        """A keep-alive connection that has been answered once (so a worker accepted it)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        connection.request("GET", "/login/")
        connection.getresponse().read()
        return connection.sock.getsockname()[1], connection

    def drive(self, seconds: float) -> None:
        stop = time.monotonic() + seconds
        workers = [
            threading.Thread(target=self._thread, args=(n, stop)) for n in range(self.threads)
        ]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        self.elapsed = time.monotonic() - started  # until the last batch was answered

    def _body(self, thread: int, sequence: int) -> tuple[str, list[str], int]:
        """A batch's JSON, its keys, and how many answers it holds."""
        items, keys, answers = [], [], 0
        for n in range(self.batch):
            count = sequence * self.batch + n
            who = (thread * 7919 + count * 31) % self.customers
            answer = {"1": SCORES[count % len(SCORES)], "2": 1 + count % 5}
            if count % 2:
                answer["3"] = COMMENTS[count % 4 // 2]
            key = f"bench-{thread}-{count}"
            items.append(
                {
                    "survey_id": self.survey,
                    "answers": answer,
                    "customer_external_id": f"c{who}",
                    "contact_email": f"c{who}@example.com",
                    "idempotency_key": key,
                }
            )
            keys.append(key)
            answers += len(answer)
        return json.dumps(items, ensure_ascii=False), keys, answers

    def _thread(self, thread: int, stop: float) -> None:
        connection = self.connections[thread][1]
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        sequence = 0
        while time.monotonic() < stop:
            body, keys, answers = self._body(thread, sequence)
            sequence += 1
            started = time.monotonic()
            try:
                connection.request("POST", "/api/responses/batch", body.encode(), headers)
                reply = connection.getresponse()
                payload = reply.read()
            except OSError as error:
                connection.close()
                with self._lock:
                    self.failures[type(error).__name__] += 1
                continue
            took = time.monotonic() - started
            if reply.status != 200:
                with self._lock:
                    self.failures[f"batch {reply.status}"] += 1
                continue
            result = json.loads(payload)
            with self._lock:
                self.round_trips.append(took)
                self.batch_rates.append(result["created"] / took)
                for item in result["items"]:
                    if item["status"] == 201:
                        self.acknowledged[keys[item["index"]]] = item["id"]
                    else:
                        self.failures[f"item {item['status']}"] += 1
                if result["created"] == self.batch:
                    self.answers += answers
        connection.close()  # else the server's graceful stop waits for it


def server_workers(server_pid: int) -> list[int]:
    """The worker processes of the server (granian's): the children of ``server_pid``."""
    children = []
    for entry in Path("/proc").iterdir() if Path("/proc/self/stat").exists() else ():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(stat[1]) == server_pid:
                children.append(int(entry.name))
    return children


def connection_owner(port: int, client_port: int, pids: list[int]) -> int | None:
    """Which of ``pids`` holds the server's end of the connection from ``client_port`` to
    ``port`` on 127.0.0.1 (Linux: /proc/net/tcp, then each process's descriptors); None
    when that cannot be told."""
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return None
    local, remote = f"0100007F:{port:04X}", f"0100007F:{client_port:04X}"
    inode = next((f[9] for f in map(str.split, lines) if f[1:3] == [local, remote]), None)
    for pid in pids if inode else ():
        try:
            descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for descriptor in descriptors:
            try:
                if os.readlink(descriptor) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    return None


def psql(database_url: str, statement: str) -> None:
    subprocess.run(
        ["psql", database_url, "-q", "-c", f"SET client_min_messages = warning; {statement}"],
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument(
        "--customers", type=int, default=1000, help="the items name them in turn, spread out"
    )
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    data_dir = tempfile.mkdtemp(prefix="cxloop-bench-bulk-")
    environment = {
        **os.environ,
        "CXLOOP_DATA_DIR": data_dir,
        "CXLOOP_DATABASE_URL": args.database_url,
    }
    schema = f"bench_bulk_{os.getpid()}"
    if args.database_url:
        psql(args.database_url, f"CREATE SCHEMA {schema}")
        # Every connection (libpq reads PGOPTIONS) creates and finds its tables there.
        environment["PGOPTIONS"] = f"-c search_path={schema}"
    try:
        measure(args, environment)
    finally:
        if args.database_url:
            psql(args.database_url, f"DROP SCHEMA {schema} CASCADE")
        shutil.rmtree(data_dir)  # a run leaves about 200 MB of SQLite behind


def measure(args, environment: dict) -> None:
    cxloop = [sys.executable, "-m", "cxloop.cli"]
    run([*cxloop, "migrate", "-v0"], environment)
    setup = f"CUSTOMERS = {args.customers}\n{SETUP}"
    survey, token = run([*cxloop, "shell", "-v0", "-c", setup], environment).split()
    port = free_port()
    server = subprocess.Popen(
        [*cxloop, "serve", "--bind", f"127.0.0.1:{port}"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    load = Load(
        port, int(survey), token, threads=args.threads, batch=args.batch, customers=args.customers
    )
    try:
        wait_until_serving(port, pause=0.3)
        spread = load.connect(server.pid)
        started_at_load = os.getloadavg()
        cpu_before, own_before = tree_cpu_seconds(server.pid), time.process_time()
        load.drive(args.seconds)
        cpu = {
            "server": tree_cpu_seconds(server.pid) - cpu_before,
            "clients": time.process_time() - own_before,
        }
        if args.database_url:
            cpu["postgres"] = backends_cpu_seconds(args.database_url)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    report(args, load, cpu, spread, started_at_load)
    lines = run(
        [*cxloop, "shell", "-v0", "-c", STORED.replace("SURVEY", survey)], environment
    ).splitlines()
    stored = dict(line.split() for line in lines[:-1])
    missing = [k for k, pk in load.acknowledged.items() if stored.get(k) != str(pk)]
    answers = int(lines[-1].split()[1])
    print(
        f"acknowledged (201): {len(load.acknowledged):,}; stored: {len(stored):,}; "
        f"acknowledged but not stored under its key and id: {len(missing)}; answers stored: "
        f"{answers:,} (acknowledged: {load.answers:,})"
    )
    sys.exit(0 if not missing and len(stored) == len(load.acknowledged) else 1)


def report(args, load: Load, cpu: dict[str, float], spread: dict, started_at_load) -> None:
    created = len(load.acknowledged)
    print(
        f"machine: {cpu_name()}, {os.cpu_count()} CPUs; load average at the start "
        f"{', '.join(f'{x:.2f}' for x in started_at_load)}, at the end "
        f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    print(
        f"database: {args.database_url or 'SQLite'}; {args.threads} client threads, batches "
        f"of {args.batch}, {args.customers:,} customers; connections held by each server "
        f"worker: {sorted(spread.values(), reverse=True) or 'unknown'}"
    )
    if not load.round_trips:
        sys.exit(f"no batch was answered: {dict(load.failures)}")
    print(
        f"stored: {created / load.elapsed:,.0f} responses/s overall ({created:,} in "
        f"{load.elapsed:.1f} s, {len(load.round_trips)} batches); per batch, median "
        f"{statistics.median(load.batch_rates):,.0f}/s; round trip p50 "
        f"{percentile(load.round_trips, 0.5) * 1000:.0f} ms, p99 "
        f"{percentile(load.round_trips, 0.99) * 1000:.0f} ms; failures: "
        f"{dict(load.failures) or 0}"
    )
    # On a shared machine the rate depends on what else runs; CPU per 1,000 stored does not.
    per_thousand = 1000 / max(created, 1)
    used = ", ".join(f"{name} {seconds * per_thousand:.3f} s" for name, seconds in cpu.items())
    print(f"CPU per 1,000 stored: {used}")


def backends_cpu_seconds(database_url: str) -> float:
    """CPU time of the PostgreSQL backends connected to the database now: the server's, kept
    open since their first request (CONN_MAX_AGE), so nearly all of it spent on the load."""
    pids = subprocess.run(
        [
            "psql",
            database_url,
            "-Atc",
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return sum(cpu_seconds(int(pid)) for pid in pids)


if __name__ == "__main__":
    main()
