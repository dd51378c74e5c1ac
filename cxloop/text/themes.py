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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import razdel

from cxloop.text.lemmas import _LETTER_RUN, lemma_of, part_of_speech, words
from cxloop.text.tokens import ABSENCE, NEGATORS, many_texts, negated_words, normal_word

Taxonomy = Mapping[str, Iterable[str]]

_FUZZY_MIN_LENGTH = 5  # shorter words have too many neighbours one typo away
# A phrase of these alone ("the", "и", "в") would match most comments: it has no word to match.
_FUNCTION_POS = frozenset({"PREP", "CONJ", "PRCL", "NPRO"})  # not INTJ: «спасибо»
_ENGLISH_FUNCTION_WORDS = frozenset(
    {"a", "an", "the", "and", "or", "but", "if", "of", "to", "in", "on", "at", "by", "for"}
    | {"with", "from", "as", "is", "are", "was", "were", "be", "been", "am", "do", "does"}
    | {"did", "have", "has", "had", "i", "me", "my", "we", "our", "you", "your", "he", "she"}
    | {"it", "its", "they", "them", "their", "this", "that", "these", "those", "there", "here"}
    | {"so", "than", "then", "too", "very"}
)
_NEAR_CACHE = 200_000  # word forms remembered by a matcher
_PHRASE_GAP = 2  # words a phrase may have between its own ("доставка моего заказа")
_TURNING = NEGATORS - ABSENCE


@dataclass(frozen=True)
class _Phrase:
    theme: str
    lemmas: tuple[str, ...]
    negated: bool


class _Word(NamedTuple):  # a tuple: a million comments make tens of millions of them
    lemma: str
    surface: str
    negated: bool


class ThemeMatcher:
    """A taxonomy compiled once, to match any number of comments."""

    def __init__(self, taxonomy: Taxonomy):
        self.themes = tuple(taxonomy)
        self._phrases: list[_Phrase] = []
        self._by_first: dict[str, list[_Phrase]] = defaultdict(list)  # first lemma → phrases
        self._by_lemma: dict[str, set[str]] = defaultdict(set)  # lemma or typo key → lemmas
        self._near: dict[tuple[str, str], frozenset[str]] = {}  # word → phrase lemmas near it
        self._may_match: dict[str, bool] = {}  # word form → whether any phrase lemma is near it
        for theme, entries in taxonomy.items():
            if isinstance(entries, str):
                raise ValueError(f"taxonomy[{theme!r}]: expected a list of phrases, got a string")
            for entry in entries:
                self._add(theme, entry)

    def _add(self, theme: str, entry: str) -> None:
        found = [lemma_of(word) for word in words(entry)]
        negated = bool(found) and found[0] in NEGATORS
        found = found[1:] if negated else found
        if not found or all(_is_function_word(lemma) for lemma in found):
            raise ValueError(f"taxonomy[{theme!r}]: the phrase {entry!r} has no words")
        phrase = _Phrase(theme, tuple(found), negated)
        self._phrases.append(phrase)
        self._by_first[found[0]].append(phrase)
        for lemma in found:
            for key in _typo_keys(lemma):
                self._by_lemma[key].add(lemma)

    def themes_of(self, text: str) -> tuple[str, ...]:
        """The themes of one comment, in the taxonomy's order."""
        return self.themes_in(comment_words(text))

    def themes_in(self, found: "CommentWords") -> tuple[str, ...]:
        """The themes of a comment read once by :func:`comment_words` (for several matchers)."""
        if not self._has_phrase_word(found.forms):
            return ()  # most comments: no lemmas, negations or phrase search needed
        read = found.words
        hits = self._hits(read)
        matched = {
            phrase.theme for phrase in self._candidates(hits) if _phrase_in(phrase, hits, read)
        }
        return tuple(theme for theme in self.themes if theme in matched)

    def _candidates(self, hits: dict[str, list[int]]) -> list[_Phrase]:
        """The phrases whose first word is in the comment: only they can occur in it."""
        return [phrase for lemma in hits for phrase in self._by_first.get(lemma, ())]

    def spans_of(self, text: str, theme: str | None = None) -> tuple[tuple[int, int], ...]:
        """Where in ``text`` the words are that made a phrase (of ``theme``, or of any theme)
        match: (start, end) character offsets, in order, touching or overlapping ones merged.

        Every place a phrase occurs is marked; a word whose normal form differs in length from
        the text's ("don't") is marked whole.
        """
        located = _located_words(text)
        found = _words_from([surface for surface, _start, _end in located])
        hits = self._hits(found)
        spans = sorted(
            located[position][1:]
            for phrase in self._candidates(hits)
            if theme is None or phrase.theme == theme
            for occurrence in _occurrences(phrase, hits, found)
            for position in occurrence
        )
        merged: list[tuple[int, int]] = []
        for start, end in spans:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return tuple(merged)

    def _has_phrase_word(self, forms: list[str]) -> bool:
        """Whether any of the word forms is a phrase lemma or one typo from one (remembered per
        form: the forms of a million comments are a few hundred thousand)."""
        known = self._may_match
        for form in forms:
            near = known.get(form)
            if near is None:
                if len(known) >= _NEAR_CACHE:
                    known.clear()
                near = known[form] = bool(
                    self._phrase_lemmas_near(_Word(lemma_of(form), form, negated=False))
                )
            if near:
                return True
        return False

    def _hits(self, found: list[_Word]) -> dict[str, list[int]]:
        """Phrase lemma → the positions of the words that are it (or one typo from it)."""
        hits: dict[str, list[int]] = defaultdict(list)
        for position, word in enumerate(found):
            for lemma in self._phrase_lemmas_near(word):
                hits[lemma].append(position)
        return hits

    def _phrase_lemmas_near(self, word: _Word) -> frozenset[str]:
        """The phrase lemmas the word is, or is one typo from; remembered per word form (a
        million comments have a few hundred thousand distinct words)."""
        key = (word.lemma, word.surface)
        if key not in self._near:
            if len(self._near) >= _NEAR_CACHE:
                self._near.clear()
            near: set[str] = set()
            for form in {word.lemma, word.surface}:
                for typo_key in _typo_keys(form):
                    near |= {
                        lemma
                        for lemma in self._by_lemma.get(typo_key, ())
                        if _one_typo_apart(form, lemma)
                    }
            self._near[key] = frozenset(near)
        return self._near[key]


class CommentWords:
    """A comment's words, read once for any number of matchers: their forms at once, and their
    lemmas and negations (``words``) only when a matcher finds a form that may be its own."""

    __slots__ = ("forms", "_words")

    def __init__(self, forms: list[str]):
        self.forms = forms
        self._words: list[_Word] | None = None

    @property
    def words(self) -> list[_Word]:
        if self._words is None:
            self._words = _words_from(self.forms)
        return self._words


def comment_words(text: str) -> CommentWords:
    """A comment's words as every matcher reads them: lemma, form, and whether negated."""
    return CommentWords(words(text))


def _words_from(surfaces: list[str]) -> list[_Word]:
    turned = negated_words(surfaces, scope=1, negators=_TURNING)
    return [
        _Word(lemma_of(surface), surface, negated and part_of_speech(surface) != "NOUN")
        for surface, negated in zip(surfaces, turned, strict=True)
    ]


def _is_function_word(lemma: str) -> bool:
    if lemma in _ENGLISH_FUNCTION_WORDS:
        return True
    return "а" <= lemma[:1] <= "я" and part_of_speech(lemma) in _FUNCTION_POS


def _phrase_in(phrase: _Phrase, hits: dict[str, list[int]], found: list[_Word]) -> bool:
    """Whether the phrase's lemmas occur in order, each within a short gap of the one before."""
    return next(_occurrences(phrase, hits, found), None) is not None


def _occurrences(
    phrase: _Phrase, hits: dict[str, list[int]], found: list[_Word]
) -> Iterator[tuple[int, ...]]:
    """The positions of the phrase's words, for each place where it occurs."""
    first, *rest = phrase.lemmas
    for start in hits.get(first, ()):
        if found[start].negated != phrase.negated:
            continue
        positions = [start]
        for lemma in rest:
            following = [
                p
                for p in hits.get(lemma, ())
                if positions[-1] < p <= positions[-1] + 1 + _PHRASE_GAP
            ]
            if not following:
                break
            positions.append(following[0])
        else:
            yield tuple(positions)


def _located_words(text: str) -> list[tuple[str, int, int]]:
    """:func:`~cxloop.text.lemmas.words` with each word's (start, end) in ``text``: the same
    normalisation of each run of letters, the same razdel tokens, mapped back to the offsets
    of the text as written."""
    text = text or ""
    pieces: list[str] = []
    # (start in the normal text, its end, start in the text, its end) of each run of letters
    runs: list[tuple[int, int, int, int]] = []
    shift, previous = 0, 0
    for run in _LETTER_RUN.finditer(text):
        pieces.append(text[previous : run.start()])
        normal = normal_word(run.group())
        start = run.start() + shift
        runs.append((start, start + len(normal), run.start(), run.end()))
        pieces.append(normal)
        shift += len(normal) - len(run.group())
        previous = run.end()
    pieces.append(text[previous:])
    normal_text = "".join(pieces)

    def where(position: int, *, end: bool) -> int:
        """The offset in ``text`` of ``position`` in the normal text."""
        offset = 0
        for normal_start, normal_end, start, stop in runs:
            if normal_start <= position - end < normal_end:
                if normal_end - normal_start == stop - start:  # same length: letter for letter
                    return start + position - normal_start
                return stop if end else start
            if normal_start > position - end:
                break
            offset = stop - normal_end
        return position + offset

    return [
        (token.text, where(token.start, end=False), where(token.stop, end=True))
        for token in razdel.tokenize(normal_text)
        if any(c.isalpha() for c in token.text)
    ]


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
