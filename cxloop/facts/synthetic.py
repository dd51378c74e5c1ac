"""A synthetic fact store with known effects, in the layout the fact store writer produces.

Used by the benchmarks and the tests of the read side (``cxloop.insights``): it writes
``manifest.json``, ``responses/month=YYYY-MM/part-0.parquet``,
``answers/month=YYYY-MM/part-0.parquet``, their derived tables (``answer_counts``,
``answer_sample``), ``customers.parquet`` and ``segments.parquet`` with
exactly the agreed columns and types, month by month, so memory stays bounded (0.72 GB peak at
10 million responses over 24 months) whatever the size.

What it plants, so the analytics can be checked against the truth:

- Every touchpoint has a quality level (its expected 1–5 rating), a customer halo (customers
  who like the firm rate everything a little higher) and a team effect.
- Relationship responses rate most touchpoints (each one is skipped with its own probability,
  15–45 %) and give an NPS answer driven by the latent experience of every touchpoint with the
  planted ``weights``: three strong drivers and many weak ones. Customers of the target segment
  weigh one more touchpoint heavily (``target_weights``).
- Transactional responses rate one touchpoint (CSAT 1–5 and CES 1–7, no NPS).
- Interviews give an NPS answer only.
- One touchpoint improves over the period, another rolls back in the last six months.

Also written, beside the contract's files: ``synthetic.json`` with the parameters and the planted
truth (the readers ignore it).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cxloop.facts import derived
from cxloop.facts.schema import ANSWERS, CUSTOMERS, RESPONSES, SCHEMA_VERSION, SEGMENTS

__all__ = ["SyntheticStore", "generate", "months_between"]

RELATIONSHIP_SHARE = 0.30
INTERVIEW_SHARE = 0.02
STAGES = 6
TARGET_SEGMENT_ID = 1
_COMPRESSION = "zstd"

# As cxloop.facts.store writes them: zstd, row groups of 128 Ki rows, with statistics.
ROW_GROUP_SIZE = 128 * 1024


@dataclass(frozen=True)
class SyntheticStore:
    """What :func:`generate` wrote and the truth it planted.

    Attributes
    ----------
    directory : str
    version : str
        The manifest's data version.
    responses, answers, customers : int
        Rows written.
    months : tuple of str
        ``"YYYY-MM"`` partitions, oldest first.
    touchpoint_stages : tuple of (touchpoint_id, stage_id)
        The journey: touchpoints ``1..T`` spread over stages ``1..6`` in order.
    weights : dict
        Touchpoint id → planted NPS weight (points of NPS answer per rating point of latent
        experience) for customers outside the target segment.
    target_weights : dict
        The same inside the target segment.
    strongest : tuple of int
        Touchpoints with the largest planted weights, strongest first (three).
    target_driver : int
        The touchpoint that matters especially to the target segment.
    target_segment_id : int
    team_ids, segment_ids : tuple of int
    """

    directory: str
    version: str
    responses: int
    answers: int
    customers: int
    months: tuple[str, ...]
    touchpoint_stages: tuple[tuple[int, int], ...]
    weights: dict[int, float]
    target_weights: dict[int, float]
    strongest: tuple[int, ...]
    target_driver: int
    target_segment_id: int
    team_ids: tuple[int, ...]
    segment_ids: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        """The description as plain JSON-ready types."""
        out = asdict(self)
        out["weights"] = {str(k): v for k, v in self.weights.items()}
        out["target_weights"] = {str(k): v for k, v in self.target_weights.items()}
        return out


def months_between(start: str, count: int) -> list[str]:
    """``count`` consecutive ``"YYYY-MM"`` strings from ``start``."""
    try:
        year, month = (int(x) for x in start.split("-"))
        dt.date(year, month, 1)
    except ValueError:
        raise ValueError(f"start must be a month like '2024-11', got {start!r}") from None
    out = []
    for i in range(count):
        y, m = divmod(month - 1 + i, 12)
        out.append(f"{year + y:04d}-{m + 1:02d}")
    return out


def _strings(indices: np.ndarray, values: list[str]) -> pa.Array:
    """A string column from small integer codes, built in Arrow (no Python strings per row)."""
    dictionary = pa.array(values, pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int8()), dictionary).cast(
        pa.string()
    )


def _nullable(values: np.ndarray, null: np.ndarray, type_: pa.DataType) -> pa.Array:
    return pa.array(values, type_, mask=null)


def _write(table: pa.Table, path: Path, row_group_size: int = ROW_GROUP_SIZE) -> None:
    pq.write_table(
        table, path, compression=_COMPRESSION, row_group_size=row_group_size, write_statistics=True
    )


def _check_positive(name: str, value: int, minimum: int = 1) -> int:
    if int(value) != value or value < minimum:
        raise ValueError(f"{name} must be a whole number ≥ {minimum}, got {value!r}")
    return int(value)


def generate(
    directory: str | Path,
    *,
    responses: int = 10_000_000,
    touchpoints: int = 20,
    teams: int = 200,
    segments: int = 8,
    years: int = 2,
    seed: int = 0,
    customers: int | None = None,
    start: str = "2024-11",
) -> SyntheticStore:
    """Write a synthetic fact store of about ``responses`` completed responses into ``directory``.

    Parameters
    ----------
    directory : path
        Created if missing; existing partitions of the same months are overwritten.
    responses : int
        Total responses over the whole period (spread evenly over the months).
    touchpoints, teams, segments : int
        Ids run ``1..touchpoints``, ``1..teams``, ``1..segments``; segment 1 is the target. At
        least six touchpoints: three strong drivers, the target segment's own, an improving
        and a rolling-back one.
    years : int
        Length of the period, from ``start`` (12 months a year).
    seed : int
        Everything follows from it: the same arguments write the same rows.
    customers : int, optional
        Default ``max(50, responses // 100)``.

    Returns
    -------
    SyntheticStore
    """
    responses = _check_positive("responses", responses)
    touchpoints = _check_positive("touchpoints", touchpoints, 6)  # six planted roles below
    teams = _check_positive("teams", teams)
    segments = _check_positive("segments", segments)
    years = _check_positive("years", years)
    n_customers = max(50, responses // 100) if customers is None else customers
    n_customers = _check_positive("customers", n_customers)
    months = months_between(start, 12 * years)
    root = Path(directory)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    T = touchpoints

    # --- the planted truth ------------------------------------------------------------------
    order = rng.permutation(T)
    weights = rng.uniform(0.0, 0.08, T)
    weights[order[:3]] = [1.0, 0.75, 0.5]
    target_weights = weights.copy()
    target_weights[order[3]] += 0.9
    quality = rng.uniform(3.2, 4.4, T)
    skip = rng.uniform(0.15, 0.45, T)
    improving, rolling_back = int(order[4]), int(order[5])
    stage_of = 1 + (np.arange(T) * STAGES) // T
    tp_popularity = rng.dirichlet(np.full(T, 2.0))

    # --- customers and segments -------------------------------------------------------------
    cust_ids = np.arange(1, n_customers + 1, dtype=np.int64)
    cust_team = rng.integers(1, teams + 1, n_customers).astype(np.int32)
    cust_team_null = rng.random(n_customers) < 0.01
    tier = rng.choice(4, n_customers, p=[0.05, 0.15, 0.5, 0.3])
    value = np.exp(rng.normal(13.0 - 0.8 * tier, 0.6))
    value_null = rng.random(n_customers) < 0.05
    currency = (rng.random(n_customers) < 0.2).astype(np.int8)  # RUB or USD
    lifecycle = rng.choice(5, n_customers, p=[0.02, 0.08, 0.7, 0.15, 0.05])
    halo = rng.normal(0.0, 0.35, n_customers)
    team_effect = np.concatenate([[0.0], rng.normal(0.0, 0.2, teams)])
    customers_table = pa.table(
        {
            "customer_id": pa.array(cust_ids, pa.int64()),
            "team_id": _nullable(cust_team, cust_team_null, pa.int32()),
            # Eight relationship owners a team, without a draw (the stream stays as it was).
            "owner_id": _nullable(
                (cust_team - 1) * 8 + (cust_ids % 8).astype(np.int32) + 1,
                cust_team_null,
                pa.int32(),
            ),
            "annual_value": _nullable(value, value_null, pa.float64()),
            "currency": _strings(currency, ["RUB", "USD"]),
            "tier": _strings(tier.astype(np.int8), ["strategic", "key", "standard", "small"]),
            "lifecycle_stage": _strings(
                lifecycle.astype(np.int8),
                ["prospect", "onboarding", "active", "renewal", "churned"],
            ),
        },
        schema=CUSTOMERS,
    )
    _write(customers_table, root / "customers.parquet")
    # The target segment: strategic and key customers, and a few standard ones; the other
    # segments overlap it and each other.
    in_target = (tier <= 1) | ((tier == 2) & (rng.random(n_customers) < 0.05))
    member = [in_target]
    for _ in range(2, segments + 1):
        member.append(rng.random(n_customers) < rng.uniform(0.08, 0.35))
    seg_cust = np.concatenate([cust_ids[m] for m in member])
    seg_ids = np.concatenate(
        [np.full(int(m.sum()), s + 1, dtype=np.int32) for s, m in enumerate(member)]
    )
    segments_table = pa.table({"customer_id": seg_cust, "segment_id": seg_ids}, schema=SEGMENTS)
    _write(segments_table, root / "segments.parquet")

    # --- responses and answers, one month at a time -----------------------------------------
    per_month = np.full(len(months), responses // len(months), dtype=np.int64)
    per_month[: responses % len(months)] += 1
    next_id = 1
    manifest_months: dict[str, dict[str, int]] = {}
    total_answers = 0
    for index, month in enumerate(months):
        n = int(per_month[index])
        progress = index / max(len(months) - 1, 1)
        drift = np.zeros(T)
        drift[improving] = 0.5 * progress
        if index >= len(months) - 6:
            drift[rolling_back] = -0.6
        resp, ans = _month(
            rng,
            month,
            n,
            next_id,
            T,
            quality + drift,
            skip,
            weights,
            target_weights,
            tp_popularity,
            cust_team,
            cust_team_null,
            in_target,
            halo,
            team_effect,
        )
        next_id += n
        written = {"responses": (resp, ROW_GROUP_SIZE), "answers": (ans, ROW_GROUP_SIZE)}
        for name, table in derived.tables(ans, segments_table).items():
            written[name] = (table, derived.ROW_GROUP_SIZE)
        for name, (table, rows) in written.items():
            part = root / name / f"month={month}"
            part.mkdir(parents=True, exist_ok=True)
            _write(table, part / "part-0.parquet", rows)
        manifest_months[month] = {"responses": resp.num_rows, "answers": ans.num_rows}
        total_answers += ans.num_rows

    version = uuid.uuid4().hex  # a new version on every write, as the writer does
    store = SyntheticStore(
        directory=str(root),
        version=version,
        responses=responses,
        answers=total_answers,
        customers=n_customers,
        months=tuple(months),
        touchpoint_stages=tuple((t + 1, int(stage_of[t])) for t in range(T)),
        weights={t + 1: float(weights[t]) for t in range(T)},
        target_weights={t + 1: float(target_weights[t]) for t in range(T)},
        strongest=tuple(int(t) + 1 for t in order[:3]),
        target_driver=int(order[3]) + 1,
        target_segment_id=TARGET_SEGMENT_ID,
        team_ids=tuple(range(1, teams + 1)),
        segment_ids=tuple(range(1, segments + 1)),
    )
    parameters = {
        "responses": responses,
        "touchpoints": touchpoints,
        "teams": teams,
        "segments": segments,
        "years": years,
        "seed": seed,
        "customers": n_customers,
        "start": start,
    }
    (root / "synthetic.json").write_text(
        json.dumps({"parameters": parameters, "store": store.to_dict()}, indent=1)
    )
    # The manifest last: a reader that sees it sees complete files.
    manifest = {
        "schema": SCHEMA_VERSION,
        "version": version,
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "months": manifest_months,
    }
    tmp = root / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    tmp.replace(root / "manifest.json")
    return store


def _month(
    rng: np.random.Generator,
    month: str,
    n: int,
    first_id: int,
    T: int,
    quality: np.ndarray,
    skip: np.ndarray,
    weights: np.ndarray,
    target_weights: np.ndarray,
    tp_popularity: np.ndarray,
    cust_team: np.ndarray,
    cust_team_null: np.ndarray,
    in_target: np.ndarray,
    halo: np.ndarray,
    team_effect: np.ndarray,
) -> tuple[pa.Table, pa.Table]:
    """The responses and answers of one month, sorted by time (and so by response id)."""
    year, mon = (int(x) for x in month.split("-"))
    begin = dt.datetime(year, mon, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=dt.UTC)
    begin_us = int(begin.timestamp()) * 1_000_000
    span_us = int((end - begin).total_seconds()) * 1_000_000
    submitted = np.sort(begin_us + rng.integers(0, span_us, n))
    response_id = np.arange(first_id, first_id + n, dtype=np.int64)

    u = rng.random(n)
    kind = np.where(
        u < RELATIONSHIP_SHARE, 0, np.where(u < RELATIONSHIP_SHARE + INTERVIEW_SHARE, 2, 1)
    ).astype(np.int8)  # 0 relationship, 1 transactional, 2 interview
    n_customers = halo.size
    cust_index = rng.integers(0, n_customers, n)
    anonymous = rng.random(n) < 0.01
    team = cust_team[cust_index]
    team_null = cust_team_null[cust_index] | anonymous
    customer_id = (cust_index + 1).astype(np.int64)
    base = halo[cust_index] + team_effect[np.where(team_null, 0, team)]
    target = in_target[cust_index] & ~anonymous
    tp = np.where(kind == 1, rng.choice(T, n, p=tp_popularity), -1)

    # Latent experience of every touchpoint for the responses that report on it.
    rel = np.flatnonzero(kind == 0)
    nps_rows = np.flatnonzero(kind != 1)
    latent = quality[None, :] + base[nps_rows, None] + rng.normal(0.0, 0.9, (nps_rows.size, T))
    w = np.where(target[nps_rows, None], target_weights[None, :], weights[None, :])
    drive = ((latent - quality[None, :]) * w).sum(axis=1)
    nps_score = np.clip(np.rint(7.3 + drive + rng.normal(0.0, 1.3, nps_rows.size)), 0, 10)
    nps = np.zeros(n, dtype=np.int8)
    nps[nps_rows] = nps_score.astype(np.int8)
    nps_null = kind == 1

    # Ratings of relationship responses: latent rounded to 1–5, each touchpoint sometimes skipped.
    is_rel = kind[nps_rows] == 0
    ratings = np.clip(np.rint(latent[is_rel]), 1, 5).astype(np.int8)
    present = rng.random(ratings.shape) >= skip[None, :]
    r_row, r_tp = np.nonzero(present)
    r_resp = rel[r_row]
    r_score = ratings[r_row, r_tp]

    # Transactional: CSAT 1–5 and CES 1–7 about one touchpoint.
    trans = np.flatnonzero(kind == 1)
    t_tp = tp[trans]
    t_latent = quality[t_tp] + base[trans] + rng.normal(0.0, 0.9, trans.size)
    csat = np.clip(np.rint(t_latent), 1, 5).astype(np.int8)
    ces = np.clip(np.rint(1.5 * t_latent - 1.0 + rng.normal(0.0, 0.8, trans.size)), 1, 7).astype(
        np.int8
    )

    # Answers (kind codes: 0 nps, 1 csat, 2 ces, 3 rating), ordered by response then question.
    a_resp = np.concatenate([nps_rows, trans, trans, r_resp])
    a_kind = np.concatenate(
        [
            np.zeros(nps_rows.size, np.int8),
            np.ones(trans.size, np.int8),
            np.full(trans.size, 2, np.int8),
            np.full(r_resp.size, 3, np.int8),
        ]
    )
    a_tp = np.concatenate([np.full(nps_rows.size, -1), t_tp, t_tp, r_tp]).astype(np.int32)
    a_score = np.concatenate([nps[nps_rows], csat, ces, r_score])
    order = np.lexsort((a_tp, a_kind, a_resp))
    a_resp, a_kind, a_tp, a_score = a_resp[order], a_kind[order], a_tp[order], a_score[order]

    survey_id = np.where(
        kind == 0, 1 + (mon - 1) // 6 % 2, np.where(kind == 1, 100 + tp + 1, 900)
    ).astype(np.int32)
    channel = np.where(
        kind == 2, 3, np.where(kind == 0, rng.integers(0, 2, n), rng.integers(0, 3, n))
    ).astype(np.int8)
    channels = ["email", "web", "sms", "interview"]
    language = (rng.random(n) < 0.3).astype(np.int8)

    responses = pa.table(
        {
            "response_id": response_id,
            "submitted_at": pa.array(submitted, pa.timestamp("us", tz="UTC")),
            "survey_id": survey_id,
            "survey_kind": _strings(kind, ["relationship", "transactional", "interview"]),
            "channel": _strings(channel, channels),
            "customer_id": _nullable(customer_id, anonymous, pa.int64()),
            "team_id": _nullable(team.astype(np.int32), team_null, pa.int32()),
            "touchpoint_id": _nullable((tp + 1).astype(np.int32), tp < 0, pa.int32()),
            "language": _strings(language, ["ru", "en"]),
            "nps": _nullable(nps, nps_null, pa.int8()),
        },
        schema=RESPONSES,
    )
    answers = pa.table(
        {
            "response_id": response_id[a_resp],
            "submitted_at": pa.array(submitted[a_resp], pa.timestamp("us", tz="UTC")),
            "survey_id": survey_id[a_resp],
            "channel": _strings(channel[a_resp], channels),
            "customer_id": _nullable(customer_id[a_resp], anonymous[a_resp], pa.int64()),
            "team_id": _nullable(team[a_resp].astype(np.int32), team_null[a_resp], pa.int32()),
            "touchpoint_id": _nullable(a_tp + 1, a_tp < 0, pa.int32()),
            "kind": _strings(a_kind, ["nps", "csat", "ces", "rating"]),
            "score": a_score.astype(np.int8),
        },
        schema=ANSWERS,
    )
    return responses, answers
