"""Sentiment on small hand-labelled sets in both languages, with negation and typos."""

import importlib

import pytest

from cxloop.text import Sentiment, sentiment
from cxloop.text.sentiment import ENGINE_VARIABLE

HAND_LABELLED = [
    ("Спасибо большое, всё быстро починили, вы лучшие!", "positive"),
    ("Отличный банк, очень доволен обслуживанием)))", "positive"),
    ("Ужасный сервис, третий день не могу дозвониться, верните деньги", "negative"),
    ("Опять списали деньги без спроса, ненавижу этот банк :(", "negative"),
    ("Thank you so much, the support team was great and fixed it fast!", "positive"),
    ("I love this app, best service ever :)", "positive"),
    ("Worst customer service ever, still waiting for a refund", "negative"),
    ("My flight was cancelled and nobody helps, terrible", "negative"),
]


def test_it_reads_clear_comments_in_both_languages():
    found = sentiment([text for text, _ in HAND_LABELLED])
    assert [s.label for s in found] == [label for _, label in HAND_LABELLED]


def test_it_scores_within_minus_one_and_one_with_the_label_sign():
    found = sentiment([text for text, _ in HAND_LABELLED])
    assert all(-1 <= s.score <= 1 for s in found)
    assert all((s.score > 0) == (s.label == "positive") for s in found if s.label != "neutral")


def test_it_turns_a_negated_word():
    good, not_good = sentiment(["The service was good", "The service was not good"])
    assert good.score > not_good.score
    assert not_good.label == "negative"
    pleased, not_pleased = sentiment(["Я доволен работой банка", "Я не доволен работой банка"])
    assert pleased.score > not_pleased.score


def test_it_reads_look_alike_letters_as_the_word_itself():
    # Latin "a", "e", "o" inside Russian words, as keyboards and spammers leave them.
    clean, mixed = sentiment(
        ["Ужасный банк, не могу дозвониться", "Ужaсный банк, нe мoгу дозвониться"]
    )
    assert mixed == clean
    assert clean.label == "negative"


def test_it_keeps_a_misspelt_complaint_on_the_negative_side():
    # Two typos ("ужасьный", "дозвонится"): character n-grams carry most of the words.
    clean, typo = sentiment(
        ["Ужасный банк, не могу дозвониться", "Ужасьный банк, не могу дозвонится"]
    )
    assert typo.score < 0
    assert abs(typo.score - clean.score) < 0.2


def test_it_gives_the_same_answer_one_by_one_and_in_a_batch(monkeypatch):
    # The package exports the function under the module's name, so reach the module itself.
    monkeypatch.setattr(importlib.import_module("cxloop.text.sentiment"), "_BATCH", 3)
    texts = [text for text, _ in HAND_LABELLED]
    one_by_one = [sentiment([text])[0] for text in texts]
    batched = sentiment(iter(texts))
    assert [s.label for s in batched] == [s.label for s in one_by_one]
    assert [s.score for s in batched] == pytest.approx([s.score for s in one_by_one], abs=1e-6)


def test_it_takes_empty_and_missing_text():
    found = sentiment(["", None])
    assert all(isinstance(s, Sentiment) for s in found)
    assert sentiment([]) == []


def test_it_refuses_one_string_where_texts_are_due():
    with pytest.raises(ValueError, match="texts"):
        sentiment("Спасибо!")


def test_it_names_a_wrong_engine_or_language(monkeypatch):
    with pytest.raises(ValueError, match="language"):
        sentiment(["hi"], language="de")
    monkeypatch.setenv(ENGINE_VARIABLE, "bert")
    with pytest.raises(ValueError, match=ENGINE_VARIABLE):
        sentiment(["hi"])


def test_the_e5_engine_reads_the_same_comments_behind_the_same_call(monkeypatch):
    monkeypatch.setenv(ENGINE_VARIABLE, "e5")
    found = sentiment([text for text, _ in HAND_LABELLED])
    assert [s.label for s in found] == [label for _, label in HAND_LABELLED]
    assert all(-1 <= s.score <= 1 for s in found)
