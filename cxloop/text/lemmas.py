"""Dictionary forms of words: pymorphy3 (OpenCorpora) for Russian, simplemma for English."""

import functools
import re

import pymorphy3
import razdel
import simplemma

from cxloop.text.language import ENGLISH, OTHER, RUSSIAN, detect_language
from cxloop.text.tokens import NEGATORS, normal_word

_LEMMA_CACHE = 200_000  # distinct words; a million comments use far fewer than that


@functools.cache
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


@functools.lru_cache(maxsize=_LEMMA_CACHE)
def lemma_of(word: str) -> str:
    """The dictionary form of one normalised word, whichever alphabet it is in."""
    if not word[:1].isalpha() or word in NEGATORS:  # simplemma turns "dont" into "do"
        return word
    if "а" <= word[0] <= "я" or word[0] == "е":
        return normal_word(_morph().parse(word)[0].normal_form)
    if word.isascii():
        return normal_word(simplemma.lemmatize(word, lang="en"))
    return word


@functools.lru_cache(maxsize=_LEMMA_CACHE)
def part_of_speech(word: str) -> str | None:
    """OpenCorpora's part of speech of a Russian word ("NOUN", "VERB", …); None for others."""
    if "а" <= word[:1] <= "я":
        return _morph().parse(word)[0].tag.POS
    return None


@functools.lru_cache(maxsize=4096)
def word_forms(word: str, *, limit: int = 160) -> tuple[str, ...]:
    """Every form of the Russian lexemes ``word`` may be a form of (its three likeliest
    readings, as pymorphy3 ranks them: «стали» is «стать» or «сталь»), each spelt with «ё» and
    with «е»; ``word`` (normalised) first, at most ``limit`` in all. For a search that must find
    a word in any of its forms where no stemmer is at hand; other words are returned alone."""
    word = normal_word(word)
    if not any("а" <= letter <= "я" for letter in word):
        return (word,)
    forms = {word}
    readings: set[tuple[str, str | None]] = set()
    for parse in _morph().parse(word):
        reading = (parse.normal_form, parse.tag.POS)
        if reading in readings:
            continue
        if len(readings) == 3:
            break
        readings.add(reading)
        forms.update(form.word for form in parse.lexeme)
    spelt = {variant for form in forms for variant in (form, form.replace("ё", "е"))}
    spelt.discard(word)
    return (word, *sorted(spelt)[: limit - 1])


_LETTER_RUN = re.compile(r"([^\W\d_]+(?:[-'’][^\W\d_]+)*)")  # a group: split keeps the runs


# Most comments are plain prose: words of one alphabet, joined by single hyphens at most, and
# spaces and punctuation that razdel always splits off. Their words are the runs of letters, read
# in half razdel's time; anything else (digits, apostrophes, "т.е.", links, mentions, a dash or
# hyphen at a word's edge, a word of two alphabets) goes through razdel. A test holds the two to
# the same words on every text of the training sets and the demo's comments.
_NOT_PLAIN_CHARACTER = re.compile(r"[^\w\s.,!?;:()\"«»„“”—–…-]|[\d_]")
# "т.е.", "-сервис", "увы-", "мтс–ua": razdel's own rules. Each alternative starts on the dot or
# dash it is about and looks around from there, so that the search skips to those characters
# instead of trying every position of the text.
_NOT_PLAIN_JOIN = re.compile(
    r"[-.–—](?:(?<=\.)(?=[^\W\d_])"  # a dot before a letter
    r"|(?<=-)(?<![^\W\d_]-)(?=[^\W\d_])"  # a hyphen before a letter but not after one
    r"|(?<=[^\W\d_]-)(?![^\W\d_])"  # a hyphen after a letter but not before one
    r"|(?<=[^\W\d_][–—])|(?<=[–—])(?=[^\W\d_]))"  # a dash touching a letter
)
_LATIN_RUN = re.compile(r"[a-z]+")
_LETTER = re.compile(r"[^\W\d_]")
_PLAIN_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _plain(text: str) -> bool:
    """Whether razdel's words of a normalised text are its runs of letters (regular expressions
    that are cheap on the usual comment first)."""
    if _NOT_PLAIN_CHARACTER.search(text) or _NOT_PLAIN_JOIN.search(text):
        return False
    return text.isascii() or not _has_word_of_two_alphabets(text)


def _has_word_of_two_alphabets(text: str) -> bool:
    """Whether a run of Latin letters touches another letter (a search for two alphabets in one
    word would try every position; the Latin runs of a Russian comment are few)."""
    for run in _LATIN_RUN.finditer(text):
        start, end = run.span()
        if _LETTER.match(text, start - 1, start) or _LETTER.match(text, end, end + 1):
            return True
    return False


def words(text: str) -> list[str]:
    """The words of a text (razdel's tokens that hold a letter), normalised.

    Each run of letters is normalised before razdel sees it, because razdel splits a word where
    the alphabet changes ("Cчёт" with a Latin "C" would become "C" and "чёт").
    """
    text = normal_letters(text)
    return _PLAIN_WORD.findall(text) if _plain(text) else razdel_words(text)


def normal_letters(text: str) -> str:
    """``text`` with each run of letters normalised (:func:`~cxloop.text.tokens.normal_word`)."""
    # Split and join rather than sub with a callback: no Python call per word (normal_word's
    # cache is C), a quarter less time.
    pieces = _LETTER_RUN.split(text or "")
    pieces[1::2] = map(normal_word, pieces[1::2])
    return "".join(pieces)


def razdel_words(text: str) -> list[str]:
    """razdel's tokens of a normalised text that hold a letter (what :func:`words` returns)."""
    return [token.text for token in razdel.tokenize(text) if any(c.isalpha() for c in token.text)]


def lemmas(text: str, *, language: str | None = None) -> list[str]:
    """The dictionary forms of the words of ``text``, in order, lower case, "ё" written "е".

    Russian words go through pymorphy3, English ones through simplemma; each word is looked up by
    its own alphabet, so a mixed message ("заказ не пришел, tracking number не работает") gets
    both. ``language`` is accepted for symmetry with the rest of the API: "other" leaves the words
    as they are.
    """
    if language is None:
        (language,) = detect_language([text])
    if language not in (RUSSIAN, ENGLISH, OTHER):
        raise ValueError(f"language: expected ru, en, other or None, got {language!r}")
    found = words(text)
    if language == OTHER and not any("а" <= w[:1] <= "я" for w in found):
        return found
    return [lemma_of(word) for word in found]
