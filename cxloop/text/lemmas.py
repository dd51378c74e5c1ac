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


_LETTER_RUN = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")


# Most comments are plain prose: words of one alphabet, joined by single hyphens at most, and
# spaces and punctuation that razdel always splits off. Their words are the runs of letters, read
# in half razdel's time; anything else (digits, apostrophes, "т.е.", links, mentions, a dash or
# hyphen at a word's edge, a word of two alphabets) goes through razdel. A test holds the two to
# the same words on every text of the training sets and the demo's comments.
_NOT_PLAIN_CHARACTER = re.compile(r"[^\w\s.,!?;:()\"«»„“”—–…-]|[\d_]")
_NOT_PLAIN_JOIN = re.compile(  # "т.е.", "-сервис", "увы-", "мтс–ua": razdel's own rules
    r"\.[^\W\d_]|(?<![^\W\d_])-[^\W\d_]|(?<=[^\W\d_])-(?![^\W\d_])"
    r"|(?<=[^\W\d_])[–—]|[–—][^\W\d_]"
)
_LATIN = re.compile(r"[a-z]")
_TWO_ALPHABETS = re.compile(r"[a-z][^\W\d_]*[^\W\da-z_]|[^\W\da-z_][^\W\d_]*[a-z]")
_PLAIN_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _plain(text: str) -> bool:
    """Whether razdel's words of a normalised text are its runs of letters (regular expressions
    that are cheap on the usual comment first)."""
    if _NOT_PLAIN_CHARACTER.search(text) or _NOT_PLAIN_JOIN.search(text):
        return False
    return text.isascii() or not _LATIN.search(text) or not _TWO_ALPHABETS.search(text)


def words(text: str) -> list[str]:
    """The words of a text (razdel's tokens that hold a letter), normalised.

    Each run of letters is normalised before razdel sees it, because razdel splits a word where
    the alphabet changes ("Cчёт" with a Latin "C" would become "C" and "чёт").
    """
    text = normal_letters(text)
    return _PLAIN_WORD.findall(text) if _plain(text) else razdel_words(text)


def normal_letters(text: str) -> str:
    """``text`` with each run of letters normalised (:func:`~cxloop.text.tokens.normal_word`)."""
    return _LETTER_RUN.sub(lambda run: normal_word(run.group()), text or "")


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
