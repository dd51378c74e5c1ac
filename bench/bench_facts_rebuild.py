"""Benchmark of ``cxloop facts rebuild`` from PostgreSQL at scale.

Run from the repository root::

    python bench/bench_facts_rebuild.py [--responses 10000000] [--cursor]
        [--database postgres://postgres@127.0.0.1:5432/cxloop_bench_rebuild] [--keep]

Loads the synthetic store of ``bench/bench_journey_map.py`` (10 M responses, 59 M answers, 100,000
customers in 200 teams, 8 segments, 20 touchpoints, 2 years; written first when missing) into a
throw-away PostgreSQL database: the organisation, journey, surveys and questions through the ORM,
the responses and answers with ``COPY``. Then it times ``cxloop facts rebuild`` in a fresh
process (wall time, and the process's peak RSS): through ADBC, as a rebuild runs, and with
``--cursor`` also through Django's cursor (the rebuild inside a transaction, as before ADBC).
``--keep`` keeps a loaded database for the next run (it is reused when it holds the wanted
number of responses). Then, on the store the ADBC rebuild wrote, the incremental refresh: 1,000
new responses (copies of the last month's first ones, with their answers) are inserted and
``refresh_months`` of that month is timed in a warm process as a worker runs it, appending
them (3 rounds), then once rewriting the month whole (the rows added are deleted afterwards).
Goals (issue #15): rebuild ≤ 3 min, refresh after 1,000 new responses ≤ 2 s, for 10 M
responses. Latest figures: bench/README.md, "Rebuilding the fact store from PostgreSQL".
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench_journey_map import PARAMETERS, ensure_store
from machine import cpu_name

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/cxloop_bench_rebuild"
GOAL_SECONDS = 180
REFRESH_GOAL_SECONDS = 2.0
NEW_RESPONSES = 1_000

REBUILD_IN_A_TRANSACTION = """
import django, os, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxloop.settings")
django.setup()
from django.db import transaction
from cxloop.facts.sync import rebuild
with transaction.atomic():  # Django's cursor: ADBC's connection would not see this transaction
    print(rebuild().to_dict())
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--responses", type=int, default=PARAMETERS["responses"])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--store", type=Path, help="the synthetic store (default: /tmp/…)")
    parser.add_argument("--cursor", action="store_true", help="also through Django's cursor")
    parser.add_argument("--keep", action="store_true", help="keep the loaded database")
    parser.add_argument("--child-load", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-refresh", metavar="MONTH", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_load:
        load(args.child_load)
        return
    if args.child_refresh:
        refresh(args.child_refresh)
        return

    import adbc_driver_postgresql
    import psycopg
    import pyarrow

    store_dir = args.store or Path(
        "/tmp/cxloop-bench-facts"
        if args.responses == PARAMETERS["responses"]
        else f"/tmp/cxloop-bench-facts-{args.responses}"
    )
    store = ensure_store(store_dir, responses=args.responses)
    environment = _environment(args.database)
    with psycopg.connect(_admin_url(args.database), autocommit=True) as admin:
        version = admin.execute("SHOW server_version").fetchone()[0]
    print(
        f"{cpu_name()}, nproc {os.cpu_count()}, Python {platform.python_version()}, "
        f"PostgreSQL {version}, pyarrow {pyarrow.__version__}, "
        f"adbc-driver-postgresql {adbc_driver_postgresql.__version__}"
    )
    if _loaded_responses(args.database) != store["responses"]:
        _recreate(args.database)
        started = time.perf_counter()
        _run([sys.executable, "-m", "cxloop.cli", "migrate", "-v", "0"], environment)
        _run([sys.executable, __file__, "--child-load", str(store_dir)], environment)
        print(f"loaded in {time.perf_counter() - started:.0f} s", flush=True)
    print(f"database: {store['responses']:,} responses, {store['answers']:,} answers", flush=True)
    try:
        ways = {"ADBC": [sys.executable, "-m", "cxloop.cli", "facts", "rebuild"]}
        if args.cursor:
            ways["Django's cursor"] = [sys.executable, "-c", REBUILD_IN_A_TRANSACTION]
        for way, command in ways.items():
            facts = tempfile.mkdtemp(prefix="cxloop-bench-rebuild-")
            seconds, peak = _timed(command, environment | {"CXLOOP_FACTS_DIR": facts})
            verdict = "met" if seconds <= GOAL_SECONDS else "MISSED"
            print(
                f"rebuild through {way}: {seconds:.1f} s, peak RSS {peak:.2f} GB, load "
                f"{os.getloadavg()[0]:.1f} (goal ≤ {GOAL_SECONDS} s for 10 M: {verdict})",
                flush=True,
            )
            if way == "ADBC":
                month = max(store["months"])
                command = [sys.executable, __file__, "--child-refresh", month]
                done = subprocess.run(
                    command, env=environment | {"CXLOOP_FACTS_DIR": facts}, cwd=ROOT,
                    check=True, capture_output=True, text=True,
                )  # fmt: skip
                timed = json.loads(done.stdout)
                rounds = timed["appended"]
                median = sorted(rounds)[len(rounds) // 2]
                verdict = "met" if median <= REFRESH_GOAL_SECONDS else "MISSED"
                print(
                    f"refresh of {month} after {NEW_RESPONSES:,} new responses (appended): "
                    f"median {median:.2f} s of {', '.join(f'{r:.2f}' for r in rounds)} "
                    f"(goal ≤ {REFRESH_GOAL_SECONDS} s: {verdict}); the month rewritten whole "
                    f"after as many more: {timed['whole']:.2f} s",
                    flush=True,
                )
    finally:
        if not args.keep:
            _drop(args.database)


def _timed(command: list[str], environment: dict) -> tuple[float, float]:
    """Wall seconds of ``command`` and its peak RSS in GB (it is the only child running)."""
    started = time.perf_counter()
    _run(command, environment)
    seconds = time.perf_counter() - started
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20


def _run(command: list[str], environment: dict) -> None:
    subprocess.run(command, env=environment, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def _environment(database: str) -> dict:
    data = tempfile.mkdtemp(prefix="cxloop-bench-rebuild-data-")
    kept = {k: v for k, v in os.environ.items() if not k.startswith("CXLOOP_")}
    return kept | {"CXLOOP_DATA_DIR": data, "CXLOOP_DATABASE_URL": database}


def _admin_url(database: str) -> str:
    return urlsplit(database)._replace(path="/postgres").geturl()


def _name(database: str) -> str:
    return urlsplit(database).path.lstrip("/")


def _loaded_responses(database: str) -> int | None:
    import psycopg

    try:
        with psycopg.connect(database.replace("postgres://", "postgresql://", 1)) as link:
            return link.execute("SELECT count(*) FROM surveys_response").fetchone()[0]
    except psycopg.Error:
        return None


def _recreate(database: str) -> None:
    _drop(database)
    import psycopg

    with psycopg.connect(_admin_url(database), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{_name(database)}"')


def _drop(database: str) -> None:
    import psycopg

    with psycopg.connect(_admin_url(database), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{_name(database)}" WITH (FORCE)')


# --- the refresh, in a process configured for the bench database ------------------------------


def refresh(month: str, rounds: int = 3) -> None:
    """``rounds`` times: :data:`NEW_RESPONSES` new responses in ``month``, then the refresh of
    that month timed as the task runs it (the new responses appended as a part); then once more
    with the month rewritten whole, for comparison. The seconds as JSON on stdout
    (``{"appended": [...], "whole": s}``). The rows added are deleted at the end."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxloop.settings")
    django.setup()
    from django.db import connection

    from cxloop.facts.store import month_bounds
    from cxloop.facts.sync import refresh_months

    start, end = month_bounds(month)
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(id) FROM surveys_response")
        first_new = cursor.fetchone()[0] + 1
    seconds: dict = {"appended": []}
    refresh_months([month])  # the store as the database is (an earlier run's rows are gone)
    try:
        for round_ in range(rounds + 1):
            _copy_responses(start, end, first_new + round_ * NEW_RESPONSES)
            started = time.perf_counter()
            written = refresh_months([month], appended=round_ < rounds)
            elapsed = time.perf_counter() - started
            if round_ < rounds:
                seconds["appended"].append(elapsed)
            else:
                seconds["whole"] = elapsed
            print(written.to_dict(), file=sys.stderr)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM surveys_answer WHERE response_id >= %s", [first_new])
            cursor.execute("DELETE FROM surveys_response WHERE id >= %s", [first_new])
    print(json.dumps(seconds))


def _copy_responses(start, end, first_id: int) -> None:
    """:data:`NEW_RESPONSES` copies of the month's first responses and their answers, with ids
    from ``first_id`` on, submitted a second later."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'surveys_response' AND column_name NOT IN ('id', 'submitted_at')"
        )
        columns = ", ".join(name for (name,) in cursor.fetchall())
        # One statement an execute: psycopg binds parameters server-side.
        cursor.execute(
            "CREATE TEMPORARY TABLE copied AS "
            "SELECT id AS old_id, %s + row_number() OVER (ORDER BY submitted_at, id) - 1 AS new_id "
            "FROM surveys_response WHERE submitted_at >= %s AND submitted_at < %s AND id < %s "
            "ORDER BY submitted_at, id LIMIT %s",
            [first_id, start, end, first_id, NEW_RESPONSES],
        )
        cursor.execute(
            f"INSERT INTO surveys_response (id, submitted_at, {columns}) "
            f"SELECT c.new_id, r.submitted_at + interval '1 second', {columns} "
            "FROM surveys_response AS r JOIN copied AS c ON c.old_id = r.id"
        )
        cursor.execute(
            "INSERT INTO surveys_answer "
            "(response_id, question_id, kind, touchpoint_id, score, text, choices) "
            "SELECT c.new_id, a.question_id, a.kind, a.touchpoint_id, a.score, a.text, a.choices "
            "FROM surveys_answer AS a JOIN copied AS c ON c.old_id = a.response_id"
        )
        cursor.execute("DROP TABLE copied")


# --- the load, in a process configured for the bench database ---------------------------------


def load(store_dir: Path) -> None:
    """The synthetic store's organisation through the ORM, its responses and answers by COPY."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxloop.settings")
    django.setup()
    import pyarrow.parquet as pq

    meta = json.loads((store_dir / "synthetic.json").read_text())["store"]
    customers = pq.read_table(store_dir / "customers.parquet")
    segments = pq.read_table(store_dir / "segments.parquet")
    ids = _organisation(customers, segments, meta)
    for month in meta["months"]:
        responses = pq.read_table(store_dir / "responses" / f"month={month}" / "part-0.parquet")
        answers = pq.read_table(store_dir / "answers" / f"month={month}" / "part-0.parquet")
        _copy_month(responses, answers, ids)
        print(f"  {month}: {responses.num_rows:,} responses", file=sys.stderr, flush=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _organisation(customers, segments, meta) -> dict:
    """Teams, owners, customers, segments, the journey, the surveys and their questions; the
    database ids of the synthetic store's, for the COPY."""
    from django.contrib.auth import get_user_model

    from cxloop.customers.models import Customer, Segment
    from cxloop.journeys.models import Journey, Stage, Touchpoint
    from cxloop.people.models import Employee, Team
    from cxloop.surveys.models import Question, Survey

    rows = customers.to_pylist()
    teams = {
        t: Team.objects.create(name=f"Team {t}") for t in {r["team_id"] for r in rows} - {None}
    }
    owners = {r["owner_id"]: r["team_id"] for r in rows if r["owner_id"] is not None}
    users = get_user_model().objects.bulk_create(
        get_user_model()(username=f"owner{o}", password="!") for o in owners
    )
    employees = Employee.objects.bulk_create(
        Employee(user=u, team=teams[owners[o]]) for u, o in zip(users, owners, strict=True)
    )
    employee = dict(zip(owners, employees, strict=True))
    made = Customer.objects.bulk_create(
        (
            Customer(
                external_id=f"C-{r['customer_id']}",
                name=f"Customer {r['customer_id']}",
                owner=employee.get(r["owner_id"]),
                annual_value=round(r["annual_value"] or 0, 2),
                currency=r["currency"],
                tier=r["tier"],
                lifecycle_stage=r["lifecycle_stage"],
            )
            for r in rows
        ),
        batch_size=5000,
    )
    customer = {r["customer_id"]: c.pk for r, c in zip(rows, made, strict=True)}
    members = Segment.members.through
    for segment_id in sorted(set(segments["segment_id"].to_pylist())):
        segment = Segment.objects.create(name=f"Segment {segment_id}", kind="manual")
        chosen = segments.filter(segments["segment_id"].to_numpy() == segment_id)
        members.objects.bulk_create(
            (
                members(segment=segment, customer_id=customer[c])
                for c in chosen["customer_id"].to_pylist()
            ),
            batch_size=5000,
        )
    journey = Journey.objects.create(name_ru="Путь", name_en="Journey")
    stage_ids = sorted({s for _, s in meta["touchpoint_stages"]})
    stages = {s: Stage.objects.create(journey=journey, order=s) for s in stage_ids}
    touchpoint = {
        t: Touchpoint.objects.create(stage=stages[s], order=t, code=f"tp-{t}", channel="email").pk
        for t, s in meta["touchpoint_stages"]
    }
    survey, question = {}, {}
    for synthetic_id, kind in _synthetic_surveys(meta):
        made_survey = Survey.objects.create(name_ru=f"Опрос {synthetic_id}", kind=kind)
        survey[synthetic_id] = made_survey.pk
        for order, (answer_kind, rated) in enumerate(_questions(kind, touchpoint), start=1):
            made_question = Question.objects.create(
                survey=made_survey, order=order, kind=answer_kind, touchpoint_id=rated
            )
            synthetic_touchpoint = next((t for t, pk in touchpoint.items() if pk == rated), 0)
            question[_key(synthetic_id, answer_kind, synthetic_touchpoint)] = made_question.pk
    return {
        "customer": customer,
        "touchpoint": touchpoint,
        "survey": survey,
        "question_by_key": question,
        "team": {t: team.pk for t, team in teams.items()},
    }


KIND_CODES = {"nps": 0, "csat": 1, "ces": 2, "rating": 3}


def _key(survey: int, kind: str, touchpoint: int) -> int:
    """A question's key: its survey, its kind and (for a rating) the touchpoint it rates."""
    return survey * 10_000 + KIND_CODES[kind] * 1000 + (touchpoint if kind == "rating" else 0)


def _question_keys(answers):
    """:func:`_key` of each answer's question, computed on the columns."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    kinds = answers["kind"].to_numpy(zero_copy_only=False)
    codes = np.zeros(len(kinds), np.int64)
    for kind, code in KIND_CODES.items():
        codes[kinds == kind] = code
    rated = pc.fill_null(answers["touchpoint_id"], 0).to_numpy().astype(np.int64)
    survey = answers["survey_id"].to_numpy().astype(np.int64)
    return pa.array(survey * 10_000 + codes * 1000 + np.where(codes == 3, rated, 0))


def _synthetic_surveys(meta) -> list[tuple[int, str]]:
    """cxloop.facts.synthetic's survey ids: relationship 1 and 2 (alternate half-years),
    transactional 101… (one per touchpoint), interview 900."""
    transactional = [(100 + t, "transactional") for t, _ in meta["touchpoint_stages"]]
    return [(1, "relationship"), (2, "relationship"), *transactional, (900, "interview")]


def _questions(kind: str, touchpoint: dict) -> list[tuple[str, int | None]]:
    if kind == "relationship":
        return [("nps", None), *(("rating", touchpoint[t]) for t in touchpoint)]
    if kind == "transactional":
        return [("csat", None), ("ces", None)]
    return [("nps", None)]


def _copy_month(responses, answers, ids) -> None:
    """One month's responses and answers, mapped to the database's ids, by COPY … CSV."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as csv
    from django.db import connection

    def mapped(column, mapping):
        keys = pa.array(list(mapping), type=pa.int64())
        values = pa.array(list(mapping.values()), type=pa.int64())
        return pc.take(values, pc.index_in(pc.cast(column, pa.int64()), value_set=keys))

    at = responses["submitted_at"]
    response_rows = pa.table(
        {
            "id": responses["response_id"],
            "survey_id": mapped(responses["survey_id"], ids["survey"]),
            "customer_id": mapped(responses["customer_id"], ids["customer"]),
            "touchpoint_id": mapped(responses["touchpoint_id"], ids["touchpoint"]),
            "channel": responses["channel"],
            "language": responses["language"],
            "state": pa.array(["completed"] * responses.num_rows),
            "started_at": at,
            "submitted_at": at,
            "last_page": pa.array(np.zeros(responses.num_rows, np.int16)),
            "team_id": mapped(responses["team_id"], ids["team"]),
            "source_key": pa.array([""] * responses.num_rows),
            "announced_at": at,
        }
    )
    # The question of each answer: its survey's question of that kind (and rated touchpoint).
    question = mapped(_question_keys(answers), ids["question_by_key"])
    answer_rows = pa.table(
        {
            "response_id": answers["response_id"],
            "question_id": question,
            "kind": answers["kind"],
            "touchpoint_id": mapped(answers["touchpoint_id"], ids["touchpoint"]),
            "score": pc.cast(answers["score"], pa.int16()),
            "text": pa.array([""] * answers.num_rows),
            "choices": pa.array(["[]"] * answers.num_rows),
        }
    )
    with connection.cursor() as cursor:
        for table, rows in (("surveys_response", response_rows), ("surveys_answer", answer_rows)):
            data = io.BytesIO()
            # Every value quoted, nulls not: COPY reads "" as an empty string, nothing as NULL.
            options = csv.WriteOptions(include_header=False, quoting_style="all_valid")
            csv.write_csv(rows, data, options)
            names = ", ".join(rows.column_names)
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT csv)") as copy:
                copy.write(data.getvalue())


if __name__ == "__main__":
    main()
