"""What an alert rule's comment condition costs on distinct comments (issue #11's backlog).

    python bench/bench_comment_conditions.py [--comments 30000] [--repeats 3]

A backlog's comments are mostly distinct, so a ``comment contains_any`` condition costs what
reading a comment costs. Takes ``--comments`` distinct comments from the demo's generator (every
touchpoint, sentiment and language, openers, second remarks, typos) and the two comment
conditions of bench_rules.py, in one process pinned to one core, the lemma caches warmed on
other comments first, and times:

- **each condition reads the comment** (``ThemeMatcher.themes_of`` per condition), as the
  conditions did before reading a chunk's comments once;
- **read once** (``cxloop.text.comment_words``, what ``FactTable.comment_words`` keeps per
  distinct comment), then each condition's ``ThemeMatcher.themes_in``;

and prints distinct comments a second for both conditions, medians of ``--repeats``, and what
500,000 distinct comments would add on two cores.
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_enrich import demo_comment  # noqa: E402
from bench.machine import cpu_name  # noqa: E402
from cxloop import text  # noqa: E402

CONDITIONS = (("счёт", "invoice", "ошибка"), ("долго",))  # bench_rules.py's comment leaves


def distinct_comments(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    found: dict[str, None] = {}
    while len(found) < count:
        found[demo_comment(rng)] = None
    return list(found)


def each_condition_reads(comments, matchers) -> list[list[bool]]:
    return [[bool(m.themes_of(c)) for c in comments] for m in matchers]


def read_once(comments, matchers) -> list[list[bool]]:
    read = [text.comment_words(c) for c in comments]
    return [[bool(m.themes_in(words)) for words in read] for m in matchers]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--comments", type=int, default=30_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    matchers = [text.ThemeMatcher({"leaf": list(phrases)}) for phrases in CONDITIONS]
    read_once(distinct_comments(5_000, seed=1), matchers)  # warm the lemma caches
    comments = distinct_comments(args.comments, seed=2)
    print(f"{cpu_name()}; {len(comments):,} distinct comments, 2 comment conditions, one core")
    results = {}
    for way in (each_condition_reads, read_once):
        runs = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            results[way.__name__] = way(comments, matchers)
            runs.append(time.perf_counter() - started)
        rate = len(comments) / statistics.median(runs)
        added = 500_000 / rate / 2
        print(
            f"{way.__name__}: {', '.join(f'{r:.2f}' for r in runs)} s; "
            f"{rate:,.0f} distinct comments/s; 500,000 distinct comments: {added:.0f} s on 2 cores"
        )
    assert results["each_condition_reads"] == results["read_once"], "the two ways disagree"


if __name__ == "__main__":
    main()
