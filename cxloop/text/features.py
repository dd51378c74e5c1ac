"""Features of a comment for the linear sentiment engine, hashed into a fixed number of slots.

Training (cxloop/text/train.py) and prediction call the same function, so a model can never be
fed features it was not trained on. What a comment gives:

* lemma unigrams and bigrams, those in a negation scope prefixed "NEG_" (the scope runs from
  "не", "not", "never", "n't", … over the next three words or to the next punctuation mark;
  Das & Chen 2001, Pang et al. 2002);
* character 3- to 5-grams inside each word with its boundaries ("char_wb"), which carry typos,
  slang and inflections the lemmatiser does not know (not for negated words, whose letters would
  vote for the word: "не доволен" must not look like "доволен");
* emoticons (")))" and ":(" are the strongest cue in Russian tweets), emoji and other symbols,
  runs of "!" and "?", links and mentions.
"""

import zlib
from collections.abc import Sequence

import numpy as np
from scipy import sparse

from cxloop.text.lemmas import lemma_of
from cxloop.text.tokens import NEGATORS, tokens

HASH_BITS = 18
_MASK = (1 << HASH_BITS) - 1
_NEGATION_SCOPE = 3
_CHAR_SIZES = (3, 4, 5)


def hashed(features: list[str]) -> list[int]:
    """Slot of each feature: CRC-32 (stable across processes, unlike ``hash``) of its UTF-8."""
    return [zlib.crc32(feature.encode()) & _MASK for feature in features]


def features_of(text: str) -> list[str]:
    """The features of one comment, as strings (repeated ones repeat)."""
    found = []
    lemmas = []
    scope = 0
    for kind, value in tokens(text or ""):
        if kind == "word":
            lemma = lemma_of(value)
            if value in NEGATORS:
                scope = _NEGATION_SCOPE
                lemmas.append(lemma)
                continue
            lemmas.append(f"NEG_{lemma}" if scope else lemma)
            if not scope:  # a negated word's letters would speak for the word, not against it
                bounded = f" {value} "
                found += [
                    bounded[i : i + n] for n in _CHAR_SIZES for i in range(len(bounded) - n + 1)
                ]
            scope = max(scope - 1, 0)
        else:
            scope = 0
            found.append(_symbol_feature(kind, value))
    found += lemmas
    found += [f"{a}|{b}" for a, b in zip(lemmas, lemmas[1:], strict=False)]
    return found


def _symbol_feature(kind: str, value: str) -> str:
    if kind in ("url", "mention", "number"):
        return kind.upper()
    if kind == "emoticon":
        return f"EMO_{value[:3]}"
    if kind == "mark":
        return f"MARK_{value[:3]}"
    return f"SYM_{value}"


def feature_matrix(texts: Sequence[str]) -> sparse.csr_matrix:
    """One row per text: feature counts in their slots, each row scaled to unit length."""
    indptr = [0]
    indices: list[int] = []
    for text in texts:
        indices += hashed(features_of(text))
        indptr.append(len(indices))
    counts = sparse.csr_matrix(
        (np.ones(len(indices), dtype=np.float32), np.array(indices, dtype=np.int32), indptr),
        shape=(len(texts), 1 << HASH_BITS),
    )
    counts.sum_duplicates()
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    return sparse.diags((1.0 / np.maximum(norms, 1e-12)).astype(np.float32)) @ counts
