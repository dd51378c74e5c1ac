"""The production profile keeps what it acknowledged through the failures a deployment meets:
under a steady load of submissions through the API (PostgreSQL, Redis, two web processes, two
workers), kill -9 of a web process and of a worker, and PostgreSQL and Redis each killed and
started again. Every acknowledged submission is stored once, every response is announced and
every detractor has its case, /healthz says 503 while a dependency is down, and the service
answers again within 10 s of the dependency's return. The long form, with figures, is
bench/bench_resilience.py."""

import os
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.ops.production import CarefulClient, Production, outage, work_done

RECOVERY = 10.0  # seconds from a dependency's return to the next acknowledged submission


def require_services() -> None:
    missing = [name for name in ("redis-server", "runuser") if not shutil.which(name)]
    if not sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        missing.append("PostgreSQL's initdb")
    if missing and not os.environ.get("CI"):
        pytest.skip(f"needs {', '.join(missing)}: apt-get install postgresql redis-server")


def test_nothing_acknowledged_is_lost_through_kills_and_restarts():
    require_services()
    with tempfile.TemporaryDirectory() as folder, Production(Path(folder)) as production:
        client = CarefulClient(production.port, production.survey, production.token, rate=30)
        client.start()
        try:
            time.sleep(4)
            production.kill_web_process()
            time.sleep(3)
            production.kill_worker()
            production.start_worker()  # as systemd's Restart=always would
            time.sleep(3)
            recoveries = {
                name: outage(production, client, dependency, down=2)["answered_after"]
                for name, dependency in [
                    ("postgres", production.postgres),
                    ("redis", production.redis),
                ]
            }
            time.sleep(3)
        finally:
            client.stop()
        for dependency, seconds in recoveries.items():
            assert seconds <= RECOVERY, f"{dependency}: answered again after {seconds:.1f} s"
        assert (client.refused, client.gave_up) == ({}, [])
        assert len(client.acknowledged) > 300
        production.wait_for(
            lambda: work_done(production.outcome(), client), 120, "work left undone"
        )
        outcome = production.outcome()
        stored = outcome["responses"]
        # Every acknowledged submission is stored, under the id the client was told, once.
        assert {key: pk for key, (pk, _at) in client.acknowledged.items()} == {
            key: stored[key] for key in client.acknowledged
        }
        # Each detractor has its case trigger, exactly one.
        triggers = Counter(outcome["triggers"])
        assert set(triggers.values()) == {1}
        assert {stored[key] for key in client.detractors} <= set(triggers)
