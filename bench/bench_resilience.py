"""The production profile through failures, with figures: what was acknowledged and kept, and how
long the service took to answer again.

    python bench/bench_resilience.py [--rate 100] [--rounds 3] [--calm 10]

Starts the profile of tests/ops/production.py (a PostgreSQL and a Redis of its own, `cxloop
serve` with two web processes, two `cxloop worker`) and a careful client submitting responses
through the API at ``--rate`` per second (each with its Idempotency-Key, retried with it until
acknowledged). Each round: kill -9 of a web process, kill -9 of a worker (another started, as
systemd's Restart=always would), PostgreSQL killed (immediate stop, as a crash) and started
again, then Redis killed (kill -9; it writes every change to its append-only file first) and
started again, ``--calm`` seconds of load between two faults. Prints, for each restart, how long
/healthz took to say 503 and how long after the dependency's return the next submission was
acknowledged; then what the database holds against what the client was told.
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.ops.production import CarefulClient, Production, outage, work_done  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calm", type=float, default=10, help="seconds between two faults")
    parser.add_argument("--down", type=float, default=3, help="seconds a dependency stays down")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, Production(Path(folder)) as production:
        client = CarefulClient(production.port, production.survey, production.token, rate=args.rate)
        started = time.monotonic()
        client.start()
        restarts: dict[str, list[dict]] = {"postgres": [], "redis": []}
        try:
            for _ in range(args.rounds):
                time.sleep(args.calm)
                production.kill_web_process()
                time.sleep(args.calm)
                production.kill_worker()
                production.start_worker()
                time.sleep(args.calm)
                restarts["postgres"].append(
                    outage(production, client, production.postgres, down=args.down)
                )
                time.sleep(args.calm)
                restarts["redis"].append(
                    outage(production, client, production.redis, down=args.down)
                )
        finally:
            client.stop()
        elapsed = time.monotonic() - started
        drained_at = time.monotonic()
        production.wait_for(
            lambda: work_done(production.outcome(), client), 600, "work left undone"
        )
        drain = time.monotonic() - drained_at
        outcome = production.outcome()
    stored = outcome["responses"]
    lost = [key for key in client.acknowledged if key not in stored]
    moved = [
        key for key, (pk, _at) in client.acknowledged.items() if stored.get(key) not in (None, pk)
    ]
    triggers = Counter(outcome["triggers"])
    print(
        f"load: {len(client.acknowledged):,} submissions acknowledged in {elapsed:.0f} s "
        f"({len(client.acknowledged) / elapsed:.0f}/s of {args.rate:.0f}/s asked), "
        f"{client.attempts_failed:,} attempts failed and retried, {len(client.refused)} refused, "
        f"{len(client.gave_up)} given up"
    )
    print(f"faults: {args.rounds} × (web process kill -9, worker kill -9, PostgreSQL, Redis)")
    for name, rows in restarts.items():
        noticed = [row["503_after"] for row in rows]
        answered = [row["answered_after"] for row in rows]
        print(
            f"{name} down {args.down:g} s: /healthz said 503 after "
            f"{statistics.median(noticed):.1f} s "
            f"(max {max(noticed):.1f}); answered again {statistics.median(answered):.1f} s after "
            f"its return (max {max(answered):.1f})"
        )
    print(
        f"kept: {len(client.acknowledged) - len(lost):,} of {len(client.acknowledged):,} "
        f"acknowledged ({len(lost)} lost, {len(moved)} under another id); "
        f"{len(client.detractors):,} detractors, case triggers: {sum(triggers.values()):,} "
        f"(at most one per response: {set(triggers.values()) <= {1}}); "
        f"the workers finished the backlog {drain:.0f} s after the load stopped"
    )


if __name__ == "__main__":
    main()
