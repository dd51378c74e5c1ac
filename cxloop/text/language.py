"""Which language a comment is in: Russian, English or something else."""

import re
from collections.abc import Iterable

import simplemma

from cxloop.text.tokens import many_texts

RUSSIAN = "ru"
ENGLISH = "en"
OTHER = "other"
LANGUAGES = (RUSSIAN, ENGLISH)

_CYRILLIC = re.compile(r"[а-яёА-ЯЁ]")
_LATIN = re.compile(r"[a-zA-Z]")
# Letters of Cyrillic languages that Russian does not use (Ukrainian, Belarusian, Serbian, …).
_OTHER_CYRILLIC = re.compile(r"[іїєґўђјљњћџІЇЄҐЎЂЈЉЊЋЏ]")
_LINK_OR_MENTION = re.compile(r"https?://\S+|www\.\S+|[@#]\w+")
# A Latin-script message counts as English when at least this share of its words is English.
_ENGLISH_SHARE = 0.5


def detect_language(texts: Iterable[str]) -> list[str]:
    """The language of each text, in order: "ru", "en" or "other".

    The script decides first (links, mentions and hashtags do not count): mostly Cyrillic is
    Russian unless it has letters Russian lacks; mostly Latin is English when at least half its
    words are English words (simplemma's English lexicon). Texts without letters are "other".
    """
    return [_language_of(text) for text in many_texts(texts)]


def _language_of(text: str) -> str:
    text = _LINK_OR_MENTION.sub(" ", text or "")
    cyrillic = len(_CYRILLIC.findall(text))
    latin = len(_LATIN.findall(text))
    if not cyrillic and not latin:
        return OTHER
    if cyrillic >= latin:
        return OTHER if _OTHER_CYRILLIC.search(text) else RUSSIAN
    english = simplemma.in_target_language(text, lang="en")
    return ENGLISH if english >= _ENGLISH_SHARE else OTHER
