"""A fact store with a planted effect, written straight in the store's layout
(cxloop.facts.schema) for the tests of an initiative's measured effect; and initiatives taken
through their states with the improvements services.

Ratings are 3 or 4 (a 4 with probability ``mean - 3``), so each group's expected mean is exactly
the planted one: a touchpoint (or the segment's customers at it) moves from ``base`` to
``base + lift`` on the change day; the rest stays at ``base``.
"""

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa

from cxloop.facts import derived
from cxloop.facts.schema import ANSWERS, CUSTOMERS, RESPONSES, SEGMENTS
from cxloop.facts.store import Manifest, MonthCounts, month_path, new_version, table_path
from cxloop.facts.store import writing as store_writing
from cxloop.improvements import services

CUSTOMERS_N = 200  # customers 1..200; 1..100 are in the segment; odd ones are the first team's
SEGMENT_ID = 1


def _months(first: dt.date, last: dt.date) -> list[str]:
    out, y, m = [], first.year, first.month
    while (y, m) <= (last.year, last.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def write_store(
    directory: str | Path,
    *,
    touchpoints: dict[int, float],
    change: dt.date,
    first: dt.date,
    last: dt.date,
    per_day: int = 8,
    base: float = 3.4,
    segment_only: bool = False,
    team_ids: tuple[int, int] = (1, 2),
    team_only: bool = False,
    seed: int = 7,
    kind: str = "rating",
    segment_id: int = SEGMENT_ID,
) -> None:
    """Ratings of each of ``touchpoints`` (id → lift from ``change``) on every day from
    ``first`` to ``last``; ``segment_only``/``team_only``: the lift only for the segment's
    customers / the first team's."""
    rng = np.random.default_rng(seed)
    directory = Path(directory)
    manifest_months: dict[str, MonthCounts] = {}
    next_id = 1
    members = pa.table(
        {"customer_id": range(1, 101), "segment_id": [segment_id] * 100}, schema=SEGMENTS
    )
    with store_writing(base=directory) as writer:
        for month in _months(first, last):
            y, m = map(int, month.split("-"))
            days = [
                d
                for d in (dt.date(y, m, 1) + dt.timedelta(days=i) for i in range(31))
                if d.month == m and first <= d <= last
            ]
            rows: dict[str, list] = {name: [] for name in ANSWERS.names}
            for day in days:
                for tp, lift in touchpoints.items():
                    customers = rng.integers(1, CUSTOMERS_N + 1, per_day)
                    teams = np.where(customers % 2 == 1, team_ids[0], team_ids[1])
                    lifted = np.full(per_day, day >= change)
                    if segment_only:
                        lifted &= customers <= 100
                    if team_only:
                        lifted &= teams == team_ids[0]
                    mean = base + lift * lifted
                    scores = 3 + (rng.random(per_day) < mean - 3)
                    at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
                    for c, t, s in zip(customers, teams, scores, strict=True):
                        rows["response_id"].append(next_id)
                        rows["submitted_at"].append(at)
                        rows["survey_id"].append(1)
                        rows["channel"].append("email")
                        rows["customer_id"].append(int(c))
                        rows["team_id"].append(int(t))
                        rows["touchpoint_id"].append(tp)
                        rows["kind"].append(kind)
                        rows["score"].append(int(s))
                        next_id += 1
            answers = pa.table(rows, schema=ANSWERS)
            responses = pa.table(
                {
                    "response_id": rows["response_id"],
                    "submitted_at": rows["submitted_at"],
                    "survey_id": rows["survey_id"],
                    "survey_kind": ["transactional"] * len(rows["response_id"]),
                    "channel": rows["channel"],
                    "customer_id": rows["customer_id"],
                    "team_id": rows["team_id"],
                    "touchpoint_id": rows["touchpoint_id"],
                    "language": ["ru"] * len(rows["response_id"]),
                    "nps": [None] * len(rows["response_id"]),
                },
                schema=RESPONSES,
            )
            writer.write(answers, month_path("answers", month, base=directory))
            writer.write(responses, month_path("responses", month, base=directory))
            derived.write(writer, month, answers, members)
            manifest_months[month] = MonthCounts(responses.num_rows, answers.num_rows)
        ids = list(range(1, CUSTOMERS_N + 1))
        customers = pa.table(
            {
                "customer_id": ids,
                "team_id": [team_ids[0] if i % 2 else team_ids[1] for i in ids],
                "owner_id": [None] * len(ids),
                "annual_value": [1000.0] * len(ids),
                "currency": ["RUB"] * len(ids),
                "tier": ["standard"] * len(ids),
                "lifecycle_stage": ["active"] * len(ids),
            },
            schema=CUSTOMERS,
        )
        writer.write(customers, table_path("customers", base=directory))
        writer.write(members, table_path("segments", base=directory))
        writer.commit(
            Manifest(
                version=new_version(), written_at=dt.datetime.now(dt.UTC), months=manifest_months
            )
        )


def finished(initiative, *, effective_from: dt.date, by):
    """``initiative`` approved, started and finished, in force from ``effective_from``."""
    at = dt.datetime.combine(effective_from, dt.time(9), tzinfo=dt.UTC)
    services.change_state(initiative, "approved", by=by, now=at - dt.timedelta(days=20))
    services.change_state(initiative, "in_progress", by=by, now=at - dt.timedelta(days=10))
    return services.finish(
        initiative,
        change_ru="Повестка за два дня",
        change_en="Agenda two days ahead",
        effective_from=effective_from,
        by=by,
        now=at,
    )
