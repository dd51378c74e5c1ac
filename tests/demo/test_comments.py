"""Tests for the demo client-comment generator (pure Python, no Django)."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from cxloop.demo import comments as c

CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
LATIN = re.compile(r"[a-z]", re.IGNORECASE)
SLOT = re.compile(r"\{[a-z_]+\}")


def normalise(text: str) -> str:
    """Undo the generator's styling: case, "ё", spacing and punctuation."""
    text = text.casefold().replace("ё", "е")
    return "".join(ch for ch in text if ch.isalnum())


def fragments(template: str) -> str:
    """The longest slot-free stretch of a bank phrase, normalised."""
    return max((normalise(part) for part in SLOT.split(template)), key=len)


def bank_fragments(language: str, touchpoint: str, sentiment: str) -> list[str]:
    return [fragments(p) for p in c.PHRASES[language][touchpoint][sentiment]]


def contains_any(comment: str, frags: list[str]) -> bool:
    text = normalise(comment)
    return any(frag in text for frag in frags)


def is_short_form(comment: str, language: str, sentiment: str) -> bool:
    return normalise(comment) in {normalise(s) for s in c.SHORT_COMMENTS[language][sentiment]}


def random_draws(seed: int, count: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        language = rng.choice(c.LANGUAGES)
        other = rng.choice((None, rng.choice(c.TOUCHPOINT_CODES)))
        comment = c.compose_comment(
            rng,
            touchpoint=rng.choice(c.TOUCHPOINT_CODES),
            sentiment=rng.choice(c.SENTIMENTS),
            language=language,
            other_touchpoint=other,
        )
        out.append((language, comment))
    return out


def test_touchpoint_codes_in_order():
    assert c.TOUCHPOINT_CODES[0] == "website_inquiry"
    assert c.TOUCHPOINT_CODES[-1] == "ongoing_contact"
    assert len(c.TOUCHPOINT_CODES) == len(set(c.TOUCHPOINT_CODES)) == 20
    assert c.SENTIMENTS == ("negative", "mixed", "positive")


@pytest.mark.parametrize("language", c.LANGUAGES)
def test_banks_are_complete_and_distinctive(language):
    known_slots = {f"{{{name}}}" for name in c.SLOTS[language]}
    for touchpoint in c.TOUCHPOINT_CODES:
        for sentiment in c.SENTIMENTS:
            bank = c.PHRASES[language][touchpoint][sentiment]
            assert len(bank) >= 5, (language, touchpoint, sentiment)
            assert len(set(bank)) == len(bank)
            for phrase in bank:
                assert set(SLOT.findall(phrase)) <= known_slots, phrase
                assert phrase.rstrip("»'")[-1] in ".!", phrase
                assert len(fragments(phrase)) >= 10, phrase


def test_deterministic_for_a_seed():
    assert random_draws(7, 200) == random_draws(7, 200)
    assert random_draws(7, 200) != random_draws(8, 200)


@pytest.mark.parametrize("language", c.LANGUAGES)
@pytest.mark.parametrize("sentiment", c.SENTIMENTS)
@pytest.mark.parametrize("touchpoint", c.TOUCHPOINT_CODES)
def test_every_combination_produces_text(touchpoint, sentiment, language):
    rng = random.Random(f"{touchpoint}-{sentiment}-{language}")
    for _ in range(20):
        text = c.compose_comment(rng, touchpoint=touchpoint, sentiment=sentiment, language=language)
        assert text.strip() and text == text.strip()
        assert "{" not in text and "}" not in text
        assert "  " not in text


def test_many_distinct_comments_none_dominant():
    draws = [comment for _, comment in random_draws(2024, 5000)]
    counts = Counter(draws)
    assert len(counts) >= 2000
    assert counts.most_common(1)[0][1] <= 0.02 * len(draws)


def test_scripts_match_language():
    for language, comment in random_draws(99, 3000):
        if language == "en":
            assert not CYRILLIC.search(comment), comment
        else:
            cyrillic = len(CYRILLIC.findall(comment))
            assert cyrillic and not LATIN.search(comment), comment


@pytest.mark.parametrize("language", c.LANGUAGES)
@pytest.mark.parametrize("touchpoint", c.TOUCHPOINT_CODES)
def test_negative_comment_uses_its_touchpoint_negative_bank(touchpoint, language):
    rng = random.Random(f"neg-{touchpoint}-{language}")
    own_negative = bank_fragments(language, touchpoint, "negative")
    own_positive = bank_fragments(language, touchpoint, "positive")
    short = 0
    for _ in range(60):
        text = c.compose_comment(
            rng, touchpoint=touchpoint, sentiment="negative", language=language
        )
        if is_short_form(text, language, "negative"):
            short += 1
            continue
        assert contains_any(text, own_negative), text
        assert not contains_any(text, own_positive), text
    assert short < 20  # the short generic form stays the exception


def test_other_touchpoint_sometimes_adds_a_second_remark():
    rng = random.Random(5)
    other_frags = [
        frag
        for sentiment in c.SENTIMENTS
        for frag in bank_fragments("en", "final_report", sentiment)
    ]
    texts = [
        c.compose_comment(
            rng,
            touchpoint="deadlines",
            sentiment="mixed",
            language="en",
            other_touchpoint="final_report",
        )
        for _ in range(200)
    ]
    with_second = sum(contains_any(t, other_frags) for t in texts)
    assert 20 <= with_second <= 180


def test_second_remark_sentiment_stays_near_the_first():
    rng = random.Random(11)
    far_frags = bank_fragments("ru", "final_report", "positive")
    for _ in range(300):
        text = c.compose_comment(
            rng,
            touchpoint="deadlines",
            sentiment="negative",
            language="ru",
            other_touchpoint="final_report",
        )
        assert not contains_any(text, far_frags), text


@pytest.mark.parametrize(
    ("kwargs", "bad"),
    [
        ({"touchpoint": "coffee_quality"}, "coffee_quality"),
        ({"sentiment": "ecstatic"}, "ecstatic"),
        ({"language": "de"}, "de"),
        ({"other_touchpoint": "parking"}, "parking"),
    ],
)
def test_unknown_values_raise(kwargs, bad):
    args = {"touchpoint": "expertise", "sentiment": "mixed", "language": "en", **kwargs}
    with pytest.raises(ValueError, match=bad):
        c.compose_comment(random.Random(0), **args)


@pytest.mark.parametrize(
    ("score", "scale", "expected"),
    [
        (0, "nps", "negative"),
        (6, "nps", "negative"),
        (7, "nps", "mixed"),
        (8, "nps", "mixed"),
        (9, "nps", "positive"),
        (10, "nps", "positive"),
        (1, "rating", "negative"),
        (2, "rating", "negative"),
        (3, "rating", "mixed"),
        (4, "rating", "positive"),
        (5, "rating", "positive"),
    ],
)
def test_sentiment_for_score_boundaries(score, scale, expected):
    assert c.sentiment_for_score(score, scale=scale) == expected


@pytest.mark.parametrize(
    ("score", "scale", "bad"),
    [
        (11, "nps", "11"),
        (-1, "nps", "-1"),
        (0, "rating", "0"),
        (6, "rating", "6"),
        (3, "csat", "csat"),
    ],
)
def test_sentiment_for_score_rejects_bad_input(score, scale, bad):
    with pytest.raises(ValueError, match=re.escape(bad)):
        c.sentiment_for_score(score, scale=scale)
