"""Candidate themes for a CX lead to accept or reject: key phrases of clusters of comments.

Comments become TF-IDF vectors over their key phrases (lemma unigrams and bigrams of content
words); spherical k-means groups them; each group is described by its c-TF-IDF top phrases
(Grootendorst 2022, BERTopic: a phrase's frequency in the group, weighted by log(1 + A / f) with
A the mean number of phrases per group and f the phrase's frequency in all groups).
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from cxloop.text.lemmas import lemma_of, part_of_speech, words
from cxloop.text.tokens import many_texts, without_noise

_FUNCTION_POS = frozenset({"PREP", "CONJ", "PRCL", "NPRO", "INTJ", "PRED", "NUMR"})
_ENGLISH_STOP_WORDS = (
    "a an the and or but if then so of to in on at by for with from as is are was were be been "
    "being am do does did have has had having i me my we our you your he she it its they them "
    "their this that these those there here what which who whom when where why how all any both "
    "each few more most other some such only own same than too very can will just should would "
    "could may might must shall about into over under again further once up down out off also "
    "get got not no nor never dont doesnt didnt cant wont isnt wasnt im ive id youre thats rt "
    "one two us please thanks thank hi hello ok yes"
)
_RUSSIAN_STOP_WORDS = (
    "быть весь это этот тот такой который свой мочь сказать один так вот уже еще очень там тут "
    "когда где как что чтобы если или но а и да нет не ни же ли бы вы мы они он она оно я ты "
    "себя мой твой наш ваш его ее их кто все всё то так-то просто тоже только сам самый раз "
    "день год время"
)
_ENGLISH_STOP = frozenset(_ENGLISH_STOP_WORDS.split())
_RUSSIAN_STOP = frozenset(_RUSSIAN_STOP_WORDS.split())
_ITERATIONS = 25
_TOP_PHRASES = 8
_EXAMPLES = 3


@dataclass(frozen=True)
class SuggestedTheme:
    """A group of comments and what it is about, most telling phrase first."""

    name: str
    phrases: tuple[str, ...]
    size: int
    examples: tuple[str, ...]


def key_phrases(text: str) -> list[str]:
    """Lemma unigrams and bigrams of the content words of ``text`` (function words dropped)."""
    content = [lemma_of(word) for word in words(without_noise(text)) if _is_content(word)]
    content = [lemma for lemma in content if lemma not in _RUSSIAN_STOP | _ENGLISH_STOP]
    return content + [f"{a} {b}" for a, b in zip(content, content[1:], strict=False) if a != b]


def _is_content(word: str) -> bool:
    if len(word) < 2 or word in _ENGLISH_STOP:
        return False
    return part_of_speech(word) not in _FUNCTION_POS


def suggest_themes(
    texts: Iterable[str], *, language: str | None = None, k: int = 10, seed: int = 0
) -> list[SuggestedTheme]:
    """Up to ``k`` candidate themes, largest first; same texts and seed, same answer.

    ``language`` is accepted for symmetry with the rest of the API: words are read by their own
    alphabet.
    """
    if k < 1:
        raise ValueError(f"k: expected a positive number of themes, got {k!r}")
    texts = list(many_texts(texts))
    phrases = [key_phrases(text) for text in texts]
    frequency = Counter(p for found in phrases for p in dict.fromkeys(found))  # ordered: stable
    min_count = max(2, len(texts) // 1000)
    vocabulary = {p: i for i, (p, n) in enumerate(frequency.most_common(20_000)) if n >= min_count}
    if not vocabulary:
        return []
    counts = _count_matrix(phrases, vocabulary)
    keep = np.flatnonzero(counts.getnnz(axis=1))
    counts = counts[keep]
    idf = np.log(counts.shape[0] / np.maximum(counts.getnnz(axis=0), 1)) + 1.0
    vectors = _unit_rows(counts.multiply(idf).tocsr())
    groups = _spherical_kmeans(vectors, min(k, counts.shape[0]), np.random.default_rng(seed))
    return _describe(groups, counts, vocabulary, [texts[i] for i in keep], vectors)


def _count_matrix(phrases: list[list[str]], vocabulary: dict[str, int]) -> sparse.csr_matrix:
    rows, cols = [], []
    for row, found in enumerate(phrases):
        for phrase in found:
            if phrase in vocabulary:
                rows.append(row)
                cols.append(vocabulary[phrase])
    data = np.ones(len(rows), dtype=np.float64)
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(phrases), len(vocabulary)))


def _unit_rows(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    return sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ matrix


def _spherical_kmeans(vectors: sparse.csr_matrix, k: int, rng: np.random.Generator) -> np.ndarray:
    """Group rows by cosine similarity; k-means++ seeds (Arthur & Vassilvitskii 2007)."""
    n = vectors.shape[0]
    centres = [vectors[int(rng.integers(n))].toarray().ravel()]
    for _ in range(1, k):
        nearest = np.max(vectors @ np.array(centres).T, axis=1)
        distance = np.maximum(1.0 - nearest, 0.0)
        total = distance.sum()
        pick = int(rng.choice(n, p=distance / total)) if total > 0 else int(rng.integers(n))
        centres.append(vectors[pick].toarray().ravel())
    centres = np.array(centres)
    groups = np.zeros(n, dtype=np.int64)
    for _ in range(_ITERATIONS):
        groups = np.asarray(np.argmax(vectors @ centres.T, axis=1)).ravel()
        for g in range(k):
            members = vectors[groups == g]
            if members.shape[0]:
                centre = np.asarray(members.sum(axis=0)).ravel()
                centres[g] = centre / max(np.linalg.norm(centre), 1e-12)
    return groups


def _describe(groups, counts, vocabulary, texts, vectors) -> list[SuggestedTheme]:
    names = np.array(list(vocabulary))
    labels = np.unique(groups)
    per_group = np.vstack([np.asarray(counts[groups == g].sum(axis=0)).ravel() for g in labels])
    average = per_group.sum() / len(labels)
    weight = (per_group / np.maximum(per_group.sum(axis=1, keepdims=True), 1)) * np.log(
        1 + average / np.maximum(per_group.sum(axis=0), 1)
    )
    themes = []
    for row, g in enumerate(labels):
        members = np.flatnonzero(groups == g)
        top = [
            str(names[i]) for i in np.argsort(-weight[row])[:_TOP_PHRASES] if per_group[row, i] > 0
        ]
        centre = np.asarray(vectors[members].sum(axis=0)).ravel()
        closest = members[np.argsort(-(vectors[members] @ centre))[:_EXAMPLES]]
        themes.append(
            SuggestedTheme(top[0], tuple(top), len(members), tuple(texts[i] for i in closest))
        )
    return sorted(themes, key=lambda theme: (-theme.size, theme.name))
