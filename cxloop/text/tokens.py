"""Tokens shared by every part of cxloop.text: one normal form of a word, negation scopes.

A customer types "Cчёт" with a Latin "C", "счет" without the dots and "НЕ работает" in capitals;
all three must meet the same word in a taxonomy or in the trained weights, so every word passes
through :func:`normal_word` before anything looks at it.
"""

import functools
import html
import re
import unicodedata

# Letters drawn the same in both alphabets: a word that is mostly Cyrillic gets the Cyrillic
# twin of each, a mostly Latin word the Latin one ("cчёт" → "счёт", "sеrvice" → "service").
_LATIN_TWINS = "aceopxykmtbh"
_CYRILLIC_TWINS = "асеорхукмтвн"
_TO_CYRILLIC = str.maketrans(_LATIN_TWINS, _CYRILLIC_TWINS)
_TO_LATIN = str.maketrans(_CYRILLIC_TWINS, _LATIN_TWINS)

_CYRILLIC = re.compile(r"[а-яё]")
_LATIN = re.compile(r"[a-z]")

# One pass over a message: links, mentions, emoticons, words (with inner hyphens and
# apostrophes: "из-за", "don't"), numbers, runs of ! and ?, and any other symbol.
TOKEN = re.compile(
    r"(?P<url>https?://\S+|www\.\S+)"
    r"|(?P<mention>@\w+)"
    r"|(?P<emoticon>[:;=8][\-']?[()\[\]dDpP/\\|*]+|[()]{2,}|\){1,}|\({1,})"
    r"|(?P<word>[^\W\d_]+(?:[-'’][^\W\d_]+)*)"
    r"|(?P<number>\d+(?:[.,]\d+)?)"
    r"|(?P<mark>[!?]+)"
    r"|(?P<other>[^\s\w])",
)

# Words that turn the meaning of what follows. "нет"/"no"/"без"/"without" stand before nouns
# ("нет связи" is still about the connection), so only the theme matcher tells them apart.
_NEGATORS = (
    "не ни нет нельзя без not no never nothing without cannot nobody none nor neither dont doesnt "
    "didnt isnt wasnt arent werent cant couldnt wont wouldnt havent hasnt hadnt shouldnt"
)
NEGATORS = frozenset(_NEGATORS.split())
# Negators that say "there is none of": the noun after them is still the topic.
ABSENCE = frozenset({"нет", "без", "no", "without", "none"})
# Words that a negation passes over to reach the word it turns: "не очень вежливый".
_INTENSIFIERS = (
    "очень слишком совсем особо особенно так такой самый всегда very so too really that at all "
    "quite always be been a an the even ever"
)
INTENSIFIERS = frozenset(_INTENSIFIERS.split())


def many_texts(texts):
    """``texts`` itself, refused when it is one string (iterating it would give its letters)."""
    if isinstance(texts, str):
        raise ValueError("texts: expected a list (or any iterable) of texts, got one string")
    return texts


_NOISE = re.compile(r"https?://\S+|www\.\S+|@\w+")


def without_noise(text: str) -> str:
    """The text with HTML entities decoded and links and @mentions taken out."""
    return _NOISE.sub(" ", html.unescape(text or ""))


@functools.lru_cache(maxsize=200_000)  # words recur: a million comments hold far fewer
def normal_word(word: str) -> str:
    """Lower case, "ё" as "е", no accents or soft hyphens, and one alphabet per word."""
    word = unicodedata.normalize("NFC", word.lower()).replace("ё", "е").replace("\u00ad", "")
    word = word.replace("’", "'")
    cyrillic = len(_CYRILLIC.findall(word))
    latin = len(_LATIN.findall(word))
    if cyrillic and latin:
        word = word.translate(_TO_CYRILLIC if cyrillic >= latin else _TO_LATIN)
    if "n't" in word:  # "don't" and "dont" are the same negation
        word = word.replace("n't", "nt")
    return word


def tokens(text: str) -> list[tuple[str, str]]:
    """The message as (kind, normal form) pairs, kinds as named in :data:`TOKEN`."""
    found = []
    for match in TOKEN.finditer(text):
        kind = match.lastgroup
        value = match.group()
        found.append((kind, normal_word(value) if kind == "word" else value))
    return found


def negated_words(
    words: list[str], scope: int = 1, negators: frozenset[str] = NEGATORS
) -> list[bool]:
    """Which words stand in a negation: the ``scope`` words after a negator, intensifiers skipped.

    A scope of one is what a theme needs ("не грубый" is not rude, "не пришел заказ" is still
    about the order); sentiment features take a wider one.
    """
    flags = [False] * len(words)
    left = 0
    for i, word in enumerate(words):
        if word in negators:
            left = scope
            continue
        if left and word not in INTENSIFIERS:
            flags[i] = True
            left -= 1
    return flags
