"""Themes of comments: matched against a CX lead's taxonomy on lemmas.

A taxonomy maps a theme to the words and phrases that mean it, in either language::

    {"billing": ["счёт", "списание", "invoice", "charged twice"],
     "rudeness": ["грубый", "хамство", "rude"]}

Each phrase is reduced to lemmas, so every case and number of a noun and every form of a verb
match ("счета", "счетов", "invoices"). A word in a comment also matches a phrase word of five or
more letters with one typo (one letter added, dropped, changed or two swapped; the first letter
must agree). Negation: "не грубый" / "not rude" does not match "грубый" / "rude" — the word right
after "не", "not", "never", "n't" (intensifiers such as "очень" passed over) is negated, except a
Russian noun; "нет связи", "no signal" and "без звонка" still speak of the connection, the signal
and the call. A phrase written with a negation ("не работает", "not working") matches only
negated occurrences.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cxloop.text.lemmas import lemma_of, part_of_speech, words
from cxloop.text.tokens import ABSENCE, NEGATORS, many_texts, negated_words

Taxonomy = Mapping[str, Iterable[str]]

_FUZZY_MIN_LENGTH = 5  # shorter words have too many neighbours one typo away
_PHRASE_GAP = 2  # words a phrase may have between its own ("доставка моего заказа")
_TURNING = NEGATORS - ABSENCE


@dataclass(frozen=True)
class _Phrase:
    theme: str
    lemmas: tuple[str, ...]
    negated: bool


@dataclass(frozen=True)
class _Word:
    lemma: str
    surface: str
    negated: bool


class ThemeMatcher:
    """A taxonomy compiled once, to match any number of comments."""

    def __init__(self, taxonomy: Taxonomy):
        self.themes = tuple(taxonomy)
        self._phrases: list[_Phrase] = []
        self._by_lemma: dict[str, set[str]] = defaultdict(set)  # lemma or typo key → lemmas
        for theme, entries in taxonomy.items():
            if isinstance(entries, str):
                raise ValueError(f"taxonomy[{theme!r}]: expected a list of phrases, got a string")
            for entry in entries:
                self._add(theme, entry)

    def _add(self, theme: str, entry: str) -> None:
        found = [lemma_of(word) for word in words(entry)]
        negated = bool(found) and found[0] in NEGATORS
        found = found[1:] if negated else found
        if not found:
            raise ValueError(f"taxonomy[{theme!r}]: the phrase {entry!r} has no words")
        self._phrases.append(_Phrase(theme, tuple(found), negated))
        for lemma in found:
            for key in _typo_keys(lemma):
                self._by_lemma[key].add(lemma)

    def themes_of(self, text: str) -> tuple[str, ...]:
        """The themes of one comment, in the taxonomy's order."""
        found = self._words_of(text)
        hits: dict[str, list[int]] = defaultdict(list)  # phrase lemma → positions
        for position, word in enumerate(found):
            for lemma in self._phrase_lemmas_near(word):
                hits[lemma].append(position)
        matched = {phrase.theme for phrase in self._phrases if _phrase_in(phrase, hits, found)}
        return tuple(theme for theme in self.themes if theme in matched)

    def _words_of(self, text: str) -> list[_Word]:
        surfaces = words(text)
        turned = negated_words(surfaces, scope=1, negators=_TURNING)
        return [
            _Word(lemma_of(surface), surface, negated and part_of_speech(surface) != "NOUN")
            for surface, negated in zip(surfaces, turned, strict=True)
        ]

    def _phrase_lemmas_near(self, word: _Word) -> set[str]:
        near = set()
        for form in {word.lemma, word.surface}:
            for key in _typo_keys(form):
                near |= {
                    lemma for lemma in self._by_lemma.get(key, ()) if _one_typo_apart(form, lemma)
                }
        return near


def _phrase_in(phrase: _Phrase, hits: dict[str, list[int]], found: list[_Word]) -> bool:
    """Whether the phrase's lemmas occur in order, each within a short gap of the one before."""
    first, *rest = phrase.lemmas
    for start in hits.get(first, ()):
        if found[start].negated != phrase.negated:
            continue
        position = start
        for lemma in rest:
            following = [
                p for p in hits.get(lemma, ()) if position < p <= position + 1 + _PHRASE_GAP
            ]
            if not following:
                break
            position = following[0]
        else:
            return True
    return False


def _typo_keys(word: str) -> set[str]:
    """The word and, when long enough, each form with one letter dropped (symmetric delete)."""
    if len(word) < _FUZZY_MIN_LENGTH - 1:
        return {word}
    return {word} | {word[:i] + word[i + 1 :] for i in range(1, len(word))}


def _one_typo_apart(a: str, b: str) -> bool:
    """Equal, or (for words of five letters or more, same first letter) one edit apart."""
    if a == b:
        return True
    if min(len(a), len(b)) < _FUZZY_MIN_LENGTH - 1 or max(len(a), len(b)) < _FUZZY_MIN_LENGTH:
        return False
    if a[0] != b[0] or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        differ = [i for i in range(len(a)) if a[i] != b[i]]
        if len(differ) == 1:
            return True
        i, j = differ[0], differ[-1]
        return len(differ) == 2 and j == i + 1 and a[i] == b[j] and a[j] == b[i]
    shorter, longer = sorted((a, b), key=len)
    i = next((i for i in range(len(shorter)) if shorter[i] != longer[i]), len(shorter))
    return shorter[i:] == longer[i + 1 :]


def assign_themes(
    texts: Iterable[str], taxonomy: Taxonomy, *, language: str | None = None
) -> list[tuple[str, ...]]:
    """The themes of each text, as a tuple in the taxonomy's order (empty when none matches).

    ``language`` is accepted for symmetry with the rest of the API; each word is read by its own
    alphabet, so mixed-language comments and taxonomies need no hint.
    """
    matcher = ThemeMatcher(taxonomy)
    return [matcher.themes_of(text) for text in many_texts(texts)]
