"""The theme matcher: morphology, negation, typos and mixed scripts on hand-labelled comments."""

import pytest

from cxloop.text import ThemeMatcher, assign_themes, suggest_themes

TAXONOMY = {
    "billing": ["счёт", "списание денег", "invoice", "charged twice"],
    "rudeness": ["грубый", "хамство", "rude"],
    "connection": ["связь", "signal"],
    "outage": ["не работает", "not working"],
    "delivery": ["доставка заказа", "delivery"],
}

# Every case, both numbers, of "счёт": all are the billing theme.
SCHET = [
    "счёт",
    "счёта",
    "счёту",
    "счётом",
    "счёте",
    "счета",
    "счетов",
    "счетам",
    "счетами",
    "счетах",
]

HAND_LABELLED = [
    ("Пришли два счета за один месяц", ("billing",)),
    ("Со счетов списали лишнее, invoices are wrong", ("billing",)),
    ("I was charged twice for one order", ("billing",)),
    ("Оператор был не очень грубый, спасибо", ()),
    ("Оператор грубый и хамство на каждом шагу", ("rudeness",)),
    ("Staff was not rude at all", ()),
    ("the staff were rude", ("rudeness",)),
    ("Нет связи третий день", ("connection",)),
    ("no signal at home", ("connection",)),
    ("Интернет не работает с утра", ("outage",)),
    ("Интернет работает отлично", ()),
    ("the app is not working again", ("outage",)),
    ("Доставка моего заказа задержана", ("delivery",)),
    ("Доставкой заказа недоволен", ("delivery",)),
    ("Заказ пришёл, но доставка долгая", ()),  # a phrase's words must come in its order
    ("the delivery was late", ("delivery",)),
]


def test_it_matches_every_case_of_a_russian_noun():
    assert assign_themes([f"Вопрос про {form}" for form in SCHET], TAXONOMY) == [
        ("billing",)
    ] * len(SCHET)


@pytest.mark.parametrize(("text", "themes"), HAND_LABELLED)
def test_it_assigns_themes_as_a_person_would(text, themes):
    assert ThemeMatcher(TAXONOMY).themes_of(text) == themes


def test_it_forgives_one_typo_in_a_long_word_only():
    matcher = ThemeMatcher({"delivery": ["доставка"], "billing": ["invoice"], "bill": ["счёт"]})
    assert matcher.themes_of("недоволен доствкой") == ("delivery",)
    assert matcher.themes_of("the invocie is wrong") == ("billing",)
    assert matcher.themes_of("сщет") == ()  # four letters: too short to guess
    assert matcher.themes_of("поставка") == ()  # the first letter must agree


def test_it_mends_look_alike_letters():
    # A Latin "C" in "Cчёт", a Cyrillic "е" in "invоicе".
    assert assign_themes(["Cчёт не пришёл", "invоicе missing"], TAXONOMY) == [
        ("billing",),
        ("billing",),
    ]


def test_it_returns_themes_in_the_taxonomy_order():
    assert assign_themes(["Грубый оператор, счёт неверный"], TAXONOMY) == [("billing", "rudeness")]


def test_it_refuses_a_theme_written_as_one_string():
    with pytest.raises(ValueError, match="billing"):
        ThemeMatcher({"billing": "счёт"})


def test_it_suggests_themes_that_separate_the_comments():
    texts = (
        [f"Списали деньги со счёта дважды, верните деньги {i}" for i in range(20)]
        + [f"Курьер опоздал, доставка заказа сорвалась {i}" for i in range(20)]
        + [f"Нет связи, интернет не ловит {i}" for i in range(20)]
    )
    themes = suggest_themes(texts, k=3)
    assert sorted(theme.size for theme in themes) == [20, 20, 20]
    # pymorphy3 gives "деньга" as the dictionary form of "деньги".
    marks = [{"деньга", "доставка", "связь"} & set(theme.phrases) for theme in themes]
    assert sorted(mark.pop() for mark in marks if len(mark) == 1) == ["деньга", "доставка", "связь"]
    assert suggest_themes(texts, k=3) == themes  # same texts, same seed, same answer


def test_a_phrase_of_function_words_alone_is_refused():
    for phrase in ("и", "в", "the", "a", "не", "of the"):
        with pytest.raises(ValueError, match="has no words"):
            ThemeMatcher({"x": [phrase]})
    for phrase in ("на время", "in time", "нет связи", "thanks", "спасибо"):
        assert ThemeMatcher({"x": [phrase]}).themes == ("x",)


def test_a_comments_themes_are_where_its_phrases_are_marked():
    """A matcher skips a comment with none of its words before it reads lemmas and negations;
    marking the phrases (which reads them all) finds a theme exactly where matching does, on
    the demo's comments with their typos, openers and both languages."""
    import random

    from cxloop.demo.comments import TOUCHPOINT_CODES, compose_comment
    from cxloop.demo.themes import taxonomy

    matcher = ThemeMatcher(taxonomy())
    rng = random.Random(11)
    disagree = []
    for _ in range(2000):
        comment = compose_comment(
            rng,
            touchpoint=rng.choice(TOUCHPOINT_CODES),
            sentiment=rng.choice(("negative", "mixed", "positive")),
            language=rng.choice(("ru", "en")),
            other_touchpoint=None,
        )
        themes = matcher.themes_of(comment)
        marked = tuple(theme for theme in matcher.themes if matcher.spans_of(comment, theme))
        if themes != marked:
            disagree.append((comment, themes, marked))
    assert disagree == []
