"""The production profile on this machine, in processes of its own: a PostgreSQL cluster and a
Redis (with an append-only file) that nothing else shares, so that they can be killed and
restarted; `cxloop serve` with two web processes; two `cxloop worker`; and a client that submits
responses through the API at a steady rate as a careful client does: each with its own
Idempotency-Key, retried with that key until it is acknowledged.

Used by tests/ops/test_resilience.py (short) and bench/bench_resilience.py (long).
"""

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CUSTOMERS = 200
# One detractor (≤ 6) in five, as in a firm with an NPS around +40.
SCORES = (10, 9, 9, 8, 10, 7, 9, 3, 10, 8, 9, 6, 10, 9, 8, 10, 5, 9, 10, 0)

SETUP = textwrap.dedent(
    """
    from django.contrib.auth.models import User
    from django.utils import timezone
    from cxloop.api.services import issue_token
    from cxloop.customers.models import Contact, Customer
    from cxloop.people.models import Employee, Team
    from cxloop.surveys.models import Question, Survey
    survey = Survey.objects.create(name_ru="Б", name_en="B", kind="transactional", languages=["ru"])
    Question.objects.create(
        survey=survey, order=1, kind="nps", text_ru="?", text_en="?", required=True
    )
    user = User.objects.create_user(f"bench-{survey.pk}")
    team = Team.objects.create(name="B")
    employee = Employee.objects.create(user=user, team=team, role="admin")
    for n in range(CUSTOMERS):
        customer = Customer.objects.create(external_id=f"c{n}", name=f"Customer {n}")
        Contact.objects.create(customer=customer, name=f"Contact {n}", email=f"c{n}@example.com")
    try:
        from cxloop.cases import rules
    except ImportError:  # a tree before the closed loop: no rules, no cases
        rules = None
    if rules is not None and WITH_RULE:
        policy = rules.save_sla_policy(
            None, name_ru="SLA", name_en="SLA", first_contact_hours=4, resolution_hours=40
        )
        rules.save_rule(
            None, name_ru="Детрактор", condition={"field": "nps", "op": "lte", "value": 6},
            owner_kind="team", team=team, priority="normal", sla_policy=policy,
            now=timezone.now(),
        )
    print(survey.pk, issue_token(employee, "bench")[1])
    """
)

# What the database holds at the end: every response by its key, whether it was announced, and
# the responses that have a case trigger (the alert rule's work).
OUTCOME = textwrap.dedent(
    """
    import json
    from cxloop.cases.models import CaseTrigger
    from cxloop.surveys.models import Response
    rows = Response.objects.values_list("source_key", "pk", "announced_at")
    triggers = list(CaseTrigger.objects.values_list("response_id", flat=True))
    print(json.dumps({
        "responses": {key: pk for key, pk, _at in rows},
        "unannounced": [pk for _key, pk, at in rows if at is None],
        "triggers": triggers,
    }))
    """
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as the postgres user when we are."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], **kwargs) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    if done.returncode:
        raise RuntimeError(f"{command[:3]} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return done.stdout


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rpartition(")")[2].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return sorted(found)


class Postgres:
    """A cluster of its own, on a free port, its files in ``folder``."""

    def __init__(self, folder: Path):
        self.bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        self.data = folder / "pgdata"
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/cxloop"

    def create(self) -> None:
        self.data.mkdir()
        if os.geteuid() == 0:
            self.data.parent.chmod(0o755)
            shutil.chown(self.data, "postgres", "postgres")
        command = [self.bin / "initdb", "-D", self.data, "-A", "trust", "-U", "postgres"]
        _run(_as_postgres([str(part) for part in [*command, "--no-sync"]]))
        self.start()
        _run(
            [
                str(self.bin / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "cxloop",
            ]
        )

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
        pg_ctl = [str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "log")]
        _run(_as_postgres([*pg_ctl, "-o", options, "-w", "start"]))

    def kill(self) -> None:
        """Stop as a crash would (no checkpoint): what was committed must survive it."""
        _run(
            _as_postgres(
                [str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]
            )
        )

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.kill()


class Redis:
    """A Redis of its own that writes every change to its append-only file before answering."""

    def __init__(self, folder: Path):
        self.folder = folder / "redis"
        self.folder.mkdir()
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.folder),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def destroy(self) -> None:
        if self.process and self.process.poll() is None:
            self.kill()


class Production:
    """The whole profile; a context manager that leaves nothing running."""

    def __init__(self, folder: Path, *, web_processes: int = 2, workers: int = 2):
        self.folder = folder
        self.postgres = Postgres(folder)
        self.redis = Redis(folder)
        self.port = free_port()
        self.environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("CXLOOP_")},
            "CXLOOP_DATA_DIR": str(folder / "data"),
            "CXLOOP_DATABASE_URL": self.postgres.url,
            "CXLOOP_TASKS": "rq",
            "CXLOOP_REDIS_URL": self.redis.url,
            "CXLOOP_FACTS_DELAY": "1",
            "PYTHONPATH": str(ROOT),
        }
        self.web_processes, self.worker_count = web_processes, workers
        self.web: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []

    def __enter__(self) -> "Production":
        self.postgres.create()
        self.redis.start()
        self.cxloop("migrate", "-v0")
        script = f"CUSTOMERS = {CUSTOMERS}\nWITH_RULE = True\n{SETUP}"
        self.survey, self.token = self.cxloop("shell", "-v0", "-c", script).split()
        self.web = self._spawn(
            "serve", "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.web_processes)
        )
        self.workers = [self.start_worker() for _ in range(self.worker_count)]
        self.wait_for(lambda: self.healthz()[0] == 200, 120, "the service never became healthy")
        return self

    def __exit__(self, *exc) -> None:
        for process in [self.web, *self.workers]:
            if process and process.poll() is None:
                process.terminate()
        for process in [self.web, *self.workers]:
            if process:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.redis.destroy()
        self.postgres.destroy()

    def cxloop(self, *args: str) -> str:
        return _run([sys.executable, "-m", "cxloop.cli", *args], env=self.environment, cwd=ROOT)

    def _spawn(self, *args: str) -> subprocess.Popen:
        log = (self.folder / f"{args[0]}-{time.monotonic_ns()}.log").open("w")
        return subprocess.Popen(
            [sys.executable, "-m", "cxloop.cli", *args],
            env=self.environment,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def start_worker(self) -> subprocess.Popen:
        worker = self._spawn("worker")
        self.workers.append(worker)
        return worker

    def kill_worker(self) -> None:
        """kill -9 of a task worker, as an out-of-memory kill would."""
        victim = next(w for w in self.workers if w.poll() is None)
        victim.send_signal(signal.SIGKILL)
        victim.wait()

    def kill_web_process(self) -> int:
        """kill -9 of one of granian's web processes (its master starts another)."""
        victim = _children(self.web.pid)[0]
        os.kill(victim, signal.SIGKILL)
        return victim

    def healthz(self) -> tuple[int, dict | None]:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/healthz", timeout=10
            ) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as error:
            body = error.read()
            try:
                return error.code, json.loads(body)
            except ValueError:
                return error.code, None
        except OSError:
            return 0, None

    @staticmethod
    def wait_for(condition, seconds: float, failure: str) -> float:
        """Seconds until ``condition()`` held; raises with ``failure`` after ``seconds``."""
        started = time.monotonic()
        while not condition():
            if time.monotonic() - started > seconds:
                raise AssertionError(failure)
            time.sleep(0.2)
        return time.monotonic() - started

    def outcome(self) -> dict:
        return json.loads(self.cxloop("shell", "-v0", "-c", OUTCOME))


class CarefulClient:
    """Submits a response every 1/``rate`` s from ``threads`` threads, each response with its own
    Idempotency-Key, retried with that key (on a new connection) until it is acknowledged:
    what the server acknowledged is what it must keep."""

    def __init__(self, port: int, survey: str, token: str, *, rate: float, threads: int = 8):
        self.port, self.survey, self.token = port, int(survey), token
        self.interval = threads / rate
        self.threads = threads
        self.acknowledged: dict[str, tuple[int, float]] = {}  # key → (response id, when)
        self.detractors: set[str] = set()
        self.refused: dict[str, int] = {}  # key → a 4xx status (none expected)
        self.gave_up: list[str] = []  # keys never acknowledged in two minutes (none expected)
        self.attempts_failed = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._running: list[threading.Thread] = []

    def start(self) -> None:
        self._running = [
            threading.Thread(target=self._thread, args=(n,)) for n in range(self.threads)
        ]
        for thread in self._running:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._running:
            thread.join()

    def acknowledged_after(self, moment: float) -> bool:
        with self._lock:
            return any(at > moment for _pk, at in self.acknowledged.values())

    def _thread(self, n: int) -> None:
        due = time.monotonic() + n * self.interval / self.threads
        count = 0
        while not self._stop.is_set():
            time.sleep(max(0.0, due - time.monotonic()))
            count += 1
            key = f"k-{n}-{count}"
            score = SCORES[count % len(SCORES)]
            who = (n * 7919 + count) % CUSTOMERS
            body = json.dumps(
                {
                    "survey_id": self.survey,
                    "answers": {"1": score},
                    "customer_external_id": f"c{who}",
                    "contact_email": f"c{who}@example.com",
                }
            )
            self._submit(key, body, detractor=score <= 6)
            due += self.interval

    def _submit(self, key: str, body: str, *, detractor: bool) -> None:
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Content-Type": "application/json",
            "Idempotency-Key": key,
        }
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
            try:
                connection.request("POST", "/api/responses", body, headers)
                answer = connection.getresponse()
                payload = answer.read()
            except OSError:
                answer = None
            finally:
                connection.close()
            if answer is not None and answer.status in (200, 201):
                with self._lock:
                    self.acknowledged[key] = (json.loads(payload)["id"], time.monotonic())
                    if detractor:
                        self.detractors.add(key)
                return
            if answer is not None and 400 <= answer.status < 500:
                with self._lock:
                    self.refused[key] = answer.status
                return
            with self._lock:
                self.attempts_failed += 1
            time.sleep(0.25)
        with self._lock:
            self.gave_up.append(key)


def outage(production: Production, client: CarefulClient, dependency, *, down: float) -> dict:
    """Kill ``dependency`` (its ``kill``), wait until /healthz says 503, keep it down ``down``
    seconds in all, start it again: seconds to the 503, and from its return to the next
    acknowledged submission."""
    killed = time.monotonic()
    dependency.kill()
    noticed = production.wait_for(lambda: production.healthz()[0] == 503, 60, "no 503")
    time.sleep(max(0.0, down - (time.monotonic() - killed)))
    dependency.start()
    back = time.monotonic()
    production.wait_for(lambda: client.acknowledged_after(back), 120, "never answered again")
    return {"503_after": noticed, "answered_after": time.monotonic() - back}


def work_done(outcome: dict, client: CarefulClient) -> bool:
    """Every response announced, every acknowledged detractor with its case trigger."""
    stored = outcome["responses"]
    detractors = {stored.get(key) for key in client.detractors}
    return not outcome["unannounced"] and detractors <= set(outcome["triggers"])
