"""Where a theme matched: the spans of the words that made its phrases match, in the text as
written (so that a page can mark them), agreeing with what the matcher decides."""

import pytest

from cxloop.text import ThemeMatcher
from cxloop.text.lemmas import words
from cxloop.text.themes import _located_words
from tests.text.test_themes import HAND_LABELLED, TAXONOMY


def marked(text: str, spans) -> list[str]:
    return [text[start:end] for start, end in spans]


def test_it_marks_every_form_of_the_words_as_written():
    matcher = ThemeMatcher(TAXONOMY)
    text = "Доставка моего заказа задержана, СЧЕТА двойные"
    assert marked(text, matcher.spans_of(text)) == ["Доставка", "заказа", "СЧЕТА"]
    assert marked(text, matcher.spans_of(text, "billing")) == ["СЧЕТА"]
    assert matcher.spans_of(text, "rudeness") == ()


def test_it_marks_every_occurrence_and_a_typo_as_written():
    matcher = ThemeMatcher({"billing": ["invoice", "charged twice"]})
    text = "The invocie came late. I was charged twice; invoices again!"
    assert marked(text, matcher.spans_of(text)) == ["invocie", "charged", "twice", "invoices"]


def test_it_marks_nothing_where_a_negation_turns_the_word():
    matcher = ThemeMatcher(TAXONOMY)
    assert matcher.spans_of("Оператор был не очень грубый") == ()
    text = "Интернет не работает, оператор грубый"
    assert marked(text, matcher.spans_of(text, "outage")) == ["работает"]


def test_its_offsets_survive_look_alike_letters_and_shorter_normal_forms():
    # A Latin "C" in "Cчёт", a Cyrillic "о" in "invоice": same length, letter for letter.
    matcher = ThemeMatcher({"billing": ["счёт", "invoice"]})
    text = "«Cчёт» — <b>invоice</b>, don't pay"
    assert marked(text, matcher.spans_of(text)) == ["Cчёт", "invоice"]
    # "don't" reads "dont", a letter shorter: the word is located whole, and what follows
    # keeps its offsets.
    assert _located_words("I don't pay") == [("i", 0, 1), ("dont", 2, 7), ("pay", 8, 11)]


@pytest.mark.parametrize(
    "text",
    [
        "Привет, мир! Cчёт не пришёл",
        "don't do it, soft\u00adhyphen, 5G связь",
        "<b>грубый</b> оператор…",
        "",
    ],
)
def test_its_words_are_the_matchers_words(text):
    located = _located_words(text)
    assert [word for word, _start, _end in located] == words(text)
    assert all(0 <= start < end <= len(text) for _word, start, end in located)


@pytest.mark.parametrize(("text", "themes"), HAND_LABELLED)
def test_it_marks_words_exactly_when_a_theme_matches(text, themes):
    matcher = ThemeMatcher(TAXONOMY)
    for theme in TAXONOMY:
        assert bool(matcher.spans_of(text, theme)) == (theme in themes), theme
