"""Alert rules over a backlog: 1,000,000 responses against 20 rules.

    python bench/bench_rules.py [--responses 1000000] [--repeats 3] [--workers 2]
        [--dir /tmp/cxloop-bench-rules] [--skip-opening] [--comments demo|six]

Builds (once; reused while --responses matches) a SQLite database in --dir: 20,000 customers of
every tier with owners in 10 teams, 60,000 contacts, 20 touchpoints, 4 segments (one a target),
one survey asking NPS, CSAT, CES, two touchpoint ratings and a comment, and the responses, all
submitted in the last 14 days so that every one is in a live rule's window (the worst case),
with about 4.6 answers each, inserted with executemany in large transactions. Half the responses
have a comment: with ``--comments demo`` (the default) each drawn from the demo's generator, so
that nearly all are distinct, as in a real backlog; with ``--comments six`` one of six short
texts (the figures before 2026-12-06). Then 20 rules over every field of the condition language.

Timed, ``--repeats`` times each, medians printed:

- **evaluate**: what the rules cost to evaluate: load every chunk of 5,000 responses with the
  facts the conditions read, evaluate the 20 conditions over it and plan which matches open a
  case and which attach (:mod:`cxloop.cases.evaluate`, no writes); in ``--workers`` processes
  (default 2, one per core), each taking every other chunk (the previous NPS of every
  response read once per process, as for any backlog); each run prints its wall time, the
  load average around it and the busiest worker's CPU time (what the work costs whatever
  else the machine is doing);
- **evaluate and open cases**: :func:`cxloop.cases.evaluate.evaluate` over all the ids in one
  process, writing the cases, triggers, history and notifications (cases removed before each
  repeat); cases opened and triggers attached are counted.

Goal (issue #11): ≤ 30 s for the 1 M × 20 evaluation on 2 cores. Latest figures: bench/README.md,
"Alert rules".
"""

import argparse
import datetime as dt
import multiprocessing
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from bench_enrich import demo_comment
from machine import cpu_name

CUSTOMERS = 20_000
CONTACTS_PER_CUSTOMER = 3
TEAMS = 10
MEMBERS_PER_TEAM = 5
TOUCHPOINTS = 20
SIX_COMMENTS = [
    "счёт пришёл с ошибкой", "долго ждали", "всё хорошо", "invoice was wrong", "спасибо", ""
]  # fmt: skip


def setup_django(directory: str) -> None:
    os.environ["CXLOOP_DATA_DIR"] = directory
    os.environ.pop("CXLOOP_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "cxloop.settings"
    import django

    django.setup()


def rules_conditions(target: int, picked: int) -> list[dict]:
    nps = lambda op, v: {"field": "nps", "op": op, "value": v}  # noqa: E731
    csat = lambda op, v: {"field": "csat", "op": op, "value": v}  # noqa: E731
    return [
        nps("lte", 6),
        {"all": [nps("lte", 4), {"field": "target_segment", "op": "is", "value": True}]},
        {"field": "csat", "op": "lte", "value": 2},
        {"field": "ces", "op": "lte", "value": 2},
        {"field": "touchpoint_rating", "op": "lte", "value": 1},
        {"field": "touchpoint_rating", "op": "lte", "value": 2, "touchpoint": "tp-3"},
        {"field": "comment", "op": "contains_any", "value": ["счёт", "invoice", "ошибка"]},
        {"all": [nps("lte", 6), {"field": "comment", "op": "contains_any", "value": ["долго"]}]},
        {"all": [nps("eq", 0), {"field": "tier", "op": "in", "value": ["strategic"]}]},
        {"field": "annual_value", "op": "gte", "value": 9_000_000},
        {"all": [nps("lte", 5), {"field": "annual_value", "op": "gte", "value": 5_000_000}]},
        {"field": "segment", "op": "in", "value": [picked]},
        {"all": [nps("lte", 6), {"field": "segment", "op": "in", "value": [target]}]},
        {"field": "nps_drop", "op": "gte", "value": 5},
        {"all": [{"field": "nps_drop", "op": "gte", "value": 3}, nps("lte", 6)]},
        {"all": [nps("lte", 3), {"field": "channel", "op": "in", "value": ["web", "api"]}]},
        {"any": [csat("eq", 1), {"field": "ces", "op": "eq", "value": 1}]},
        {
            "all": [
                nps("lte", 6),
                {"any": [{"field": "tier", "op": "in", "value": ["key"]}, csat("lte", 2)]},
            ]
        },
        {"all": [{"field": "touchpoint_rating", "op": "lte", "value": 2}, nps("gte", 9)]},
        {"field": "channel", "op": "in", "value": ["interview"]},
    ]  # fmt: skip


def build(responses: int, comments: str, seed: int = 0) -> None:
    """The synthetic organisation, customers and responses (see the module's docstring)."""
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection, transaction

    from cxloop.cases import rules
    from cxloop.cases.models import SlaPolicy
    from cxloop.customers.models import Contact, Customer, Segment
    from cxloop.journeys.models import Journey, Stage, Touchpoint
    from cxloop.people.models import Employee, Team
    from cxloop.surveys.models import Answer, Question, Response, Survey

    call_command("migrate", verbosity=0)
    rng = random.Random(seed)
    words = random.Random(seed + 1)  # the comments apart: the rest is the same either way
    now = dt.datetime.now(dt.UTC)
    teams = [Team.objects.create(name=f"Team {i}") for i in range(TEAMS)]
    employees = []
    for team in teams:
        for j in range(MEMBERS_PER_TEAM):
            user = User.objects.create(username=f"u{team.pk}-{j}")
            employees.append(Employee.objects.create(user=user, team=team))
    journey = Journey.objects.create(name_ru="Путь", name_en="Journey")
    stage = Stage.objects.create(journey=journey, order=1, name_ru="Этап", name_en="Stage")
    touchpoints = [
        Touchpoint.objects.create(
            stage=stage, order=i, code=f"tp-{i}", name_ru=f"Точка {i}", name_en=f"Point {i}",
            channel="email", team=teams[i % TEAMS],
        )
        for i in range(TOUCHPOINTS)
    ]  # fmt: skip
    tiers = ["strategic", "key", "standard", "standard", "small", "small"]
    Customer.objects.bulk_create(
        Customer(
            external_id=f"C{i}", name=f"Клиент {i}", tier=rng.choice(tiers),
            annual_value=rng.randint(0, 10_000_000), owner=rng.choice([*employees, None]),
        )
        for i in range(CUSTOMERS)
    )  # fmt: skip
    customer_ids = list(Customer.objects.values_list("pk", flat=True))
    Contact.objects.bulk_create(
        Contact(customer_id=c, name=f"Контакт {c}-{k}")
        for c in customer_ids
        for k in range(CONTACTS_PER_CUSTOMER)
    )
    contacts = list(Contact.objects.values_list("pk", "customer_id"))
    target = Segment.objects.create(
        name="Целевой",
        is_target=True,
        rule=[{"field": "tier", "op": "in", "value": ["strategic", "key"]}],
    )
    Segment.objects.create(
        name="Крупные", rule=[{"field": "annual_value", "op": "gte", "value": 8_000_000}]
    )
    picked = Segment.objects.create(name="Отобранные", kind="manual")
    picked.members.add(*rng.sample(customer_ids, 500))
    Segment.objects.create(name="Малые", rule=[{"field": "tier", "op": "in", "value": ["small"]}])
    survey = Survey.objects.create(
        name_ru="Опрос", name_en="Survey", kind="relationship", languages=["ru"]
    )
    kinds = [
        ("nps", None),
        ("csat", None),
        ("ces", None),
        ("rating", None),
        ("rating", None),
        ("text", None),
    ]
    questions = [
        Question.objects.create(survey=survey, order=i + 1, kind=kind, text_ru=kind, text_en=kind)
        for i, (kind, _tp) in enumerate(kinds)
    ]  # fmt: skip

    response_table, answer_table = Response._meta.db_table, Answer._meta.db_table
    insert_response = (
        f"INSERT INTO {response_table} (id, survey_id, contact_id, customer_id, touchpoint_id, "
        "channel, language, state, started_at, submitted_at, last_page, source_key) "
        "VALUES (%s, %s, %s, %s, %s, %s, 'ru', 'completed', %s, %s, 0, '')"
    )
    insert_answer = (
        f"INSERT INTO {answer_table} (response_id, question_id, kind, touchpoint_id, score, text, "
        "choices) VALUES (%s, %s, %s, %s, %s, %s, '[]')"
    )
    channels = ["email"] * 6 + ["web", "api", "sms", "interview"]
    start = time.perf_counter()
    block = 50_000
    for first in range(1, responses + 1, block):
        response_rows, answer_rows = [], []
        for pk in range(first, min(first + block, responses + 1)):
            contact, customer = rng.choice(contacts)
            at = now - dt.timedelta(seconds=rng.randint(60, 13 * 86_400))
            touchpoint = rng.choice(touchpoints).pk
            response_rows.append(
                (pk, survey.pk, contact, customer, touchpoint, rng.choice(channels), at, at)
            )
            nps = min(10, max(0, int(rng.gauss(7.5, 2.5))))
            answer_rows.append((pk, questions[0].pk, "nps", None, nps, ""))
            if rng.random() < 0.6:
                answer_rows.append((pk, questions[1].pk, "csat", None, rng.randint(1, 5), ""))
            if rng.random() < 0.4:
                answer_rows.append((pk, questions[2].pk, "ces", None, rng.randint(1, 7), ""))
            for question in questions[3:5]:
                rated = rng.choice(touchpoints).pk
                answer_rows.append((pk, question.pk, "rating", rated, rng.randint(1, 5), ""))
            if rng.random() < 0.5:
                said = demo_comment(words) if comments == "demo" else rng.choice(SIX_COMMENTS)
                answer_rows.append((pk, questions[5].pk, "text", None, None, said))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert_response, response_rows)
            cursor.executemany(insert_answer, answer_rows)
        print(f"  {pk:,} responses ({time.perf_counter() - start:.0f} s)", flush=True)  # noqa: T201
    policy = SlaPolicy.objects.create(
        name_ru="Стандарт", name_en="Standard", first_contact_hours=8, resolution_hours=40
    )
    owner_kinds = ["customer_owner", "touchpoint_team", "team"]
    for i, condition in enumerate(rules_conditions(target.pk, picked.pk)):
        rules.save_rule(
            None, name_ru=f"Правило {i + 1}", condition=condition, owner_kind=owner_kinds[i % 3],
            team=teams[i % TEAMS], priority="normal", sla_policy=policy, now=now,
        )  # fmt: skip
    Path(os.environ["CXLOOP_DATA_DIR"], "bench-rules.txt").write_text(f"{responses} {comments}")


def evaluate_only(worker: int, workers: int) -> tuple[int, int]:
    """(responses, matches) of every ``workers``-th chunk from ``worker``: load, evaluate,
    plan — the part of an evaluation that is not writing."""
    from cxloop.cases.evaluate import (
        Context,
        chunks,
        current_versions,
        load_batch,
        matches_of,
        open_rule_cases_of,
        parsed,
        plan,
        triggered_pairs,
    )
    from cxloop.surveys.models import Response

    nodes = parsed(current_versions())
    ids = list(Response.objects.order_by("pk").values_list("pk", flat=True))
    context = Context.for_nodes(nodes.values(), expected=len(ids) // workers)
    seen = matched = 0
    for index, chunk in enumerate(chunks(ids)):
        if index % workers != worker:
            continue
        batch = load_batch(chunk, context, since=None)
        found = matches_of(batch, nodes)
        plan(
            found,
            open_keys=set(open_rule_cases_of(batch)),
            triggered=triggered_pairs(batch, np.unique(found.rule_id).tolist()),
        )
        seen, matched = seen + len(batch), matched + len(found)
    return seen, matched


def _worker(directory: str, worker: int, workers: int, results) -> None:
    setup_django(directory)
    start = time.process_time()
    seen, matched = evaluate_only(worker, workers)
    results.put((seen, matched, time.process_time() - start))


def timed_evaluation(directory: str, workers: int) -> tuple[float, int, int, float]:
    """(wall seconds from starting the processes to their last result, responses, matches,
    CPU seconds of the busiest worker's evaluation, Django set-up excluded)."""
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start = time.perf_counter()
    processes = [
        context.Process(target=_worker, args=(directory, w, workers, results))
        for w in range(workers)
    ]
    for process in processes:
        process.start()
    parts = [results.get() for _ in processes]
    for process in processes:
        process.join()
    seconds = time.perf_counter() - start
    return seconds, sum(p[0] for p in parts), sum(p[1] for p in parts), max(p[2] for p in parts)


def timed_opening() -> tuple[float, object]:
    from django.utils import timezone

    from cxloop.cases.evaluate import evaluate
    from cxloop.cases.models import Case
    from cxloop.surveys.models import Response

    Case.objects.all().delete()  # with their triggers, history and notifications
    ids = list(Response.objects.order_by("pk").values_list("pk", flat=True))
    start = time.perf_counter()
    outcome = evaluate(ids, now=timezone.now())
    return time.perf_counter() - start, outcome


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dir", default="/tmp/cxloop-bench-rules")
    parser.add_argument("--skip-opening", action="store_true")
    parser.add_argument("--comments", choices=("demo", "six"), default="demo")
    args = parser.parse_args()
    Path(args.dir).mkdir(parents=True, exist_ok=True)
    setup_django(args.dir)
    marker = Path(args.dir, "bench-rules.txt")
    if not marker.exists() or marker.read_text() != f"{args.responses} {args.comments}":
        for leftover in Path(args.dir).glob("cxloop.sqlite3*"):
            leftover.unlink()
        print(f"building {args.responses:,} responses in {args.dir} …", flush=True)  # noqa: T201
        build(args.responses, args.comments)
    print(f"{cpu_name()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")  # noqa: T201
    runs = []
    for _ in range(args.repeats):
        load = os.getloadavg()[0]
        runs.append(timed_evaluation(args.dir, args.workers))
        print(  # noqa: T201
            f"  evaluate: {runs[-1][0]:.1f} s, busiest worker's CPU {runs[-1][3]:.1f} s "
            f"(load average before {load:.1f}, after {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    seconds = statistics.median(r[0] for r in runs)
    print(  # noqa: T201
        f"evaluate, {args.workers} processes: median {seconds:.1f} s "
        f"(min {min(r[0] for r in runs):.1f}, max {max(r[0] for r in runs):.1f}; busiest "
        f"worker's CPU median {statistics.median(r[3] for r in runs):.1f} s); "
        f"{runs[0][1]:,} responses, {runs[0][2]:,} rule × response matches"
    )
    if args.skip_opening:
        return
    openings = [timed_opening() for _ in range(args.repeats)]
    seconds = statistics.median(o[0] for o in openings)
    outcome = openings[0][1]
    print(  # noqa: T201
        f"evaluate and open cases, 1 process: median {seconds:.1f} s "
        f"(min {min(o[0] for o in openings):.1f}, max {max(o[0] for o in openings):.1f}); "
        f"{outcome.opened:,} cases opened, {outcome.attached:,} triggers attached"
    )


if __name__ == "__main__":
    main()
