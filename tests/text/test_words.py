"""The words of a text: the fast path for plain prose gives razdel's words, on every text."""

import random
import xml.etree.ElementTree as ET

import pytest

from cxloop.demo.comments import TOUCHPOINT_CODES, compose_comment
from cxloop.text.lemmas import normal_letters, razdel_words, words
from tests.datasets import shared_dataset

TRICKY = [
    "Счёт пришёл с ошибкой, т.е. опять.",
    "year's invoice; we've paid, we'd rather not",
    "VIP-гости и web-пространство, Cчёт с латинской C",
    "Как на билайне - увы- не знаю, -сервис",
    "МТС–Ua!(в Крыму) и 20-летний опыт, covid-19",
    "@sberbank http://t.co/abc когда вернёте деньги?",
    "кто-то что-то сказал — и всё… «ладно»",
    "snake_case и e-mail, a--b, 5G",
    "",
]


def _same_as_razdel(texts):
    return [t for t in texts if words(t) != razdel_words(normal_letters(t))]


def test_tricky_texts_get_razdels_words():
    assert _same_as_razdel(TRICKY) == []
    assert words("Счёт пришёл, т.е. опять") == ["счет", "пришел", "т", "е", "опять"]
    assert words("кто-то сказал") == ["кто-то", "сказал"]


def test_the_demos_comments_get_razdels_words():
    rng = random.Random(5)
    comments = [
        compose_comment(
            rng,
            touchpoint=rng.choice(TOUCHPOINT_CODES),
            sentiment=rng.choice(("negative", "mixed", "positive")),
            language=rng.choice(("ru", "en")),
            other_touchpoint=None,
        )
        for _ in range(3000)
    ]
    assert _same_as_razdel(comments) == []


@pytest.mark.parametrize("name", ["banks", "telecoms"])
def test_the_russian_tweets_get_razdels_words(name):
    path = shared_dataset(f"text/sentirueval2015_{name}_train.xml")
    tweets = [
        column.text
        for column in ET.parse(path).getroot().iter("column")
        if column.get("name") == "text" and column.text
    ]
    assert len(tweets) > 4000
    assert _same_as_razdel(tweets) == []


def test_the_english_sentences_get_razdels_words():
    path = shared_dataset("text/vader_tweets_groundtruth.txt")
    lines = path.read_text(encoding="latin-1").splitlines()
    sentences = [line.split("\t")[2] for line in lines if line.count("\t") >= 2]
    assert len(sentences) > 4000
    assert _same_as_razdel(sentences) == []
