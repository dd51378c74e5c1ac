"""Enriching comments through the database: what ``cxloop text rebuild`` costs per comment.

    python bench/bench_enrich.py [--comments 100000] [--repeats 3] [--dir /tmp/cxloop-bench-enrich]

Builds (once; reused while --comments matches) a SQLite database in --dir with one survey and
that many responses, each with one comment written by the demo's generator
(:func:`cxloop.demo.comments.compose_comment`: every touchpoint, sentiment and language, with
its openers, hedges, second remarks and typos, so almost every comment is distinct), and the
demo firm's taxonomy of fifteen themes in both languages (:mod:`cxloop.demo.themes`). Then,
``--repeats`` times, every insight is removed and :func:`cxloop.comments.services.rebuild`
enriches every comment again — language, sentiment (the engine CXLOOP_TEXT_ENGINE names,
default linear) and themes, written in committed batches — in one process on one core. It
prints the wall time, the comments per second and the time 1,000,000 comments would take at
that rate (the rebuild is one process).

Goal (issue #14): 1,000,000 comments enriched in ≤ 30 minutes on this 2-core machine. Latest
figures: bench/README.md, "Text analytics".
"""

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

from machine import cpu_name


def setup_django(directory: str) -> None:
    os.environ["CXLOOP_DATA_DIR"] = directory
    os.environ.pop("CXLOOP_DATABASE_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "cxloop.settings"
    import django

    django.setup()


def build(comments: int) -> None:
    from django.core.management import call_command
    from django.db import transaction

    from cxloop.demo.build import plant_themes
    from cxloop.surveys.models import Answer, Question, Response, Survey

    call_command("migrate", verbosity=0)
    plant_themes()
    survey = Survey.objects.create(name_ru="Опрос", name_en="Survey", kind="transactional")
    question = Question.objects.create(
        survey=survey, order=1, kind="text", text_ru="?", text_en="?"
    )
    rng = random.Random(14)
    at = dt.datetime(2026, 11, 2, 10, tzinfo=dt.UTC)
    for start in range(0, comments, 20_000):
        size = min(comments, start + 20_000) - start
        with transaction.atomic():
            responses = Response.objects.bulk_create(
                [
                    Response(
                        survey=survey,
                        channel="api",
                        state="completed",
                        started_at=at,
                        submitted_at=at,
                        announced_at=at,
                    )
                    for _ in range(size)
                ]
            )
            Answer.objects.bulk_create(
                [
                    Answer(
                        response=response, question=question, kind="text", text=demo_comment(rng)
                    )
                    for response in responses
                ]
            )
        print(f"  built {start + size:,} comments", file=sys.stderr)


def demo_comment(rng: random.Random) -> str:
    """A comment as the demo's clients write them: any touchpoint, sentiment, language."""
    from cxloop.demo.comments import TOUCHPOINT_CODES, compose_comment

    return compose_comment(
        rng,
        touchpoint=rng.choice(TOUCHPOINT_CODES),
        sentiment=rng.choice(("negative", "mixed", "positive")),
        language="ru" if rng.random() < 0.7 else "en",
        other_touchpoint=rng.choice(TOUCHPOINT_CODES) if rng.random() < 0.45 else None,
    )


def run_once() -> tuple[float, int, int]:
    from cxloop.comments.models import CommentInsight
    from cxloop.comments.services import rebuild

    CommentInsight.objects.all().delete()
    started = time.perf_counter()
    rebuilt = rebuild()
    return time.perf_counter() - started, rebuilt.comments, rebuilt.total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", default="/tmp/cxloop-bench-enrich")
    args = parser.parse_args()
    directory = Path(args.dir)
    marker = directory / "bench-enrich.txt"
    if marker.exists() and marker.read_text() != str(args.comments):
        for path in directory.glob("cxloop.sqlite3*"):
            path.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    setup_django(str(directory))
    if not marker.exists() or marker.read_text() != str(args.comments):
        build(args.comments)
        marker.write_text(str(args.comments))
    from cxloop.comments.queries import customer_comments

    distinct = customer_comments().values("text").distinct().count()
    print(f"{cpu_name()}; {args.comments:,} comments ({distinct:,} distinct), 15 themes")
    seconds = []
    for repeat in range(args.repeats):
        elapsed, done, total = run_once()
        assert done == total == args.comments, (done, total)
        seconds.append(elapsed)
        rate = done / elapsed
        load = os.getloadavg()[0]
        print(f"  run {repeat + 1}: {elapsed:.1f} s, {rate:,.0f} comments/s (load {load:.1f})")
    median = statistics.median(seconds)
    rate = args.comments / median
    print(
        f"median {median:.1f} s: {rate:,.0f} comments/s in one process; 1,000,000 comments: "
        f"{1e6 / rate / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
