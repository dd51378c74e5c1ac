"""cxloop.text: sentiment accuracy on held-out sets, and speed on one core.

    python bench/bench_text.py [--data ../shared/datasets/text] [--speed-texts 5000]

Accuracy: each engine through the public ``sentiment()`` on the held-out splits of
cxloop/text/train.py (SentiRuEval-2015 test for Russian; the held-out fifth of the English
customer-experience-like sets), F-macro (mean F1 of positive and negative) and three-class
macro-F1. Speed: comments per second of ``sentiment()`` and of a whole enrichment (language,
sentiment, themes) in this process pinned to one core, with the lemma cache emptied first.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import cpu_name  # noqa: E402
from cxloop.text import ThemeMatcher, detect_language, sentiment, train  # noqa: E402
from cxloop.text.lemmas import lemma_of  # noqa: E402
from cxloop.text.sentiment import ENGINE_VARIABLE, ENGINES  # noqa: E402

THEMES_LABELLED = Path(__file__).resolve().parents[1] / "tests/text/data/themes_labelled.json"
# A taxonomy of the kind a CX lead writes, for the enrichment timing.
TAXONOMY = {
    "billing": ["счёт", "списание", "комиссия", "invoice", "charge", "fee", "refund"],
    "connection": ["связь", "интернет", "сеть", "signal", "internet", "network"],
    "support": ["поддержка", "оператор", "дозвониться", "support", "agent", "call center"],
    "app": ["приложение", "сайт", "app", "website", "login"],
    "card": ["карта", "банкомат", "card", "atm"],
}


def accuracy(engine: str, sets: dict[str, list[tuple[str, str]]]) -> dict[str, dict[str, float]]:
    os.environ[ENGINE_VARIABLE] = engine
    found = {}
    for name, pairs in sets.items():
        predicted = [s.label for s in sentiment([text for text, _ in pairs])]
        found[name] = train.f_scores([label for _, label in pairs], predicted)
    return found


def theme_scores(labelled: dict) -> dict[str, dict[str, tuple[float, float, int]]]:
    """Precision, recall and number of labelled comments of each theme, per language."""
    found = {}
    for language in ("ru", "en"):
        rows = labelled[language]
        matcher = ThemeMatcher(labelled["taxonomy"][language])
        said = [set(matcher.themes_of(row["text"])) for row in rows]
        found[language] = {}
        for theme in labelled["taxonomy"][language]:
            real = [theme in row["themes"] for row in rows]
            guessed = [theme in themes for themes in said]
            hits = sum(r and g for r, g in zip(real, guessed, strict=True))
            found[language][theme] = (
                hits / max(sum(guessed), 1),
                hits / max(sum(real), 1),
                sum(real),
            )
    return found


def speed(engine: str, texts: list[str]) -> tuple[float, float]:
    """Comments per second: sentiment alone, and language + sentiment + themes."""
    os.environ[ENGINE_VARIABLE] = engine
    matcher = ThemeMatcher(TAXONOMY)
    sentiment(texts[:10])  # load weights and dictionaries outside the clock
    lemma_of.cache_clear()
    start = time.perf_counter()
    sentiment(texts)
    alone = len(texts) / (time.perf_counter() - start)
    lemma_of.cache_clear()
    start = time.perf_counter()
    detect_language(texts)
    sentiment(texts)
    for text in texts:
        matcher.themes_of(text)
    enrichment = len(texts) / (time.perf_counter() - start)
    return alone, enrichment


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=train.DEFAULT_DATA)
    parser.add_argument("--speed-texts", type=int, default=5000)
    parser.add_argument("--e5-texts", type=int, default=1000)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    russian = train.russian_sets(args.data)
    english = train.english_sets(args.data)
    held_out = {"ru: SentiRuEval-2015 test": russian["test"]} | {
        f"en: {name.removeprefix('test_')}": pairs
        for name, pairs in english.items()
        if name.startswith("test")
    }
    mixed = [text for text, _ in russian["test"][: args.speed_texts // 2]]
    mixed += [text for text, _ in english["test"][: args.speed_texts - len(mixed)]]
    print(f"{cpu_name()}; load average {os.getloadavg()[0]:.2f}; one core")
    labelled = json.loads(THEMES_LABELLED.read_text(encoding="utf-8"))
    for language, themes in theme_scores(labelled).items():
        print(f"themes, {language} ({len(labelled[language])} comments labelled by hand):")
        for theme, (precision, recall, n) in themes.items():
            print(f"  {theme:18} n={n:3}  precision {precision:.2f}  recall {recall:.2f}")
    for engine in ENGINES:
        # e5 reads tens of comments a second: every n-th comment of each set, 1,000 at most.
        sets = (
            held_out
            if engine == "linear"
            else {
                name: pairs[:: max(1, len(pairs) // args.e5_texts)]
                for name, pairs in held_out.items()
            }
        )
        print(f"\nengine {engine}")
        for name, scores in accuracy(engine, sets).items():
            print(
                f"  {name:32} n={len(sets[name]):5}  F-macro {scores['f_macro']:.3f}  "
                f"macro-F1 {scores['macro_f1']:.3f}  (F1 neg {scores['negative']:.3f}, "
                f"neu {scores['neutral']:.3f}, pos {scores['positive']:.3f})"
            )
        texts = mixed if engine == "linear" else mixed[::25]
        alone, enrichment = speed(engine, texts)
        print(
            f"  speed on {len(texts)} comments: sentiment {alone:,.0f}/s, enrichment "
            f"{enrichment:,.0f}/s → 1,000,000 comments in {1e6 / enrichment / 60 / 2:.1f} min "
            "on two cores (two processes)"
        )


if __name__ == "__main__":
    main()
