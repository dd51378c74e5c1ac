"""Language and lemmas on small hand-labelled sets (plain tests: cxloop.text needs no Django)."""

import pytest

from cxloop.text import detect_language, lemmas, word_forms

LANGUAGES = [
    ("Не могу дозвониться в поддержку уже второй день", "ru"),
    ("Спасибо, всё быстро починили)))", "ru"),
    ("@sberbank http://t.co/abc когда вернёте деньги?", "ru"),
    ("My order never arrived and nobody answers", "en"),
    ("Great service, thanks!", "en"),
    ("@united http://t.co/xyz lost my bag again", "en"),
    ("Die Lieferung kam viel zu spät und niemand antwortet", "other"),
    ("Дуже дякую, все працює і швидко", "other"),  # Ukrainian: і, є, ї
    ("12345 !!!", "other"),
    ("", "other"),
]


def test_it_detects_russian_english_and_other():
    texts = [text for text, _ in LANGUAGES]
    assert detect_language(texts) == [language for _, language in LANGUAGES]


def test_it_lemmatises_every_case_of_a_russian_noun():
    forms = ["счёт", "счета", "счету", "счётом", "счёте", "счетов", "счетам", "счетами", "счетах"]
    assert {lemma for form in forms for lemma in lemmas(form)} == {"счет"}


def test_it_lemmatises_english_words():
    assert lemmas("The invoices were charged twice") == ["the", "invoice", "be", "charge", "twice"]


def test_it_reads_a_mixed_message_word_by_word():
    assert lemmas("Заказы не приходят, tracking numbers wrong") == [
        "заказ",
        "не",
        "приходить",
        "track",
        "number",
        "wrong",
    ]


def test_it_mends_look_alike_letters_of_the_other_alphabet():
    # "Cчёт" starts with a Latin C, "sеrvice" has a Cyrillic е.
    assert lemmas("Cчёт") == ["счет"]
    assert lemmas("sеrvice", language="en") == ["service"]


def test_it_keeps_negations_as_they_are():
    assert lemmas("I don't like it")[1] == "dont"
    assert lemmas("не работает") == ["не", "работать"]


def test_it_refuses_an_unknown_language():
    with pytest.raises(ValueError, match="language"):
        lemmas("text", language="de")


def test_word_forms_are_every_form_of_the_word_and_no_other_word():
    forms = word_forms("Счёт")
    assert forms[0] == "счет"
    assert {"счета", "счетов", "счетам", "счёте", "счете"} <= set(forms)
    assert not any(form.startswith("счетчик") or form.startswith("счётчик") for form in forms)
    assert word_forms("invoices") == ("invoices",)
    assert len(word_forms("делать", limit=10)) == 10
