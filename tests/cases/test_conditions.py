"""The condition language of alert rules: every field and op, AND/OR nesting, comment words
on lemmas (every form, any case, not when negated), the comment's themes and sentiment, and
refusals that name the field and value."""

from decimal import Decimal

from django.test import SimpleTestCase
from django.utils import translation

from cxloop import text
from cxloop.cases.conditions import (
    ConditionError,
    ResponseFacts,
    comment_matches,
    describe,
    matches,
    parse_condition,
)
from cxloop.cases.rules import in_words
from cxloop.test import BaseTestCase
from tests.cases.test_evaluate import World


def leaf(field, op, value, **more):
    return {"field": field, "op": op, "value": value, **more}


class CommentWordsTests(SimpleTestCase):
    def test_it_matches_every_form_of_a_word_in_any_case_on_word_boundaries(self):
        self.assertTrue(comment_matches("Опять СЧЁТ с ошибкой", ("счет",)))
        self.assertTrue(comment_matches("счетов не получали", ("счёт",)))  # genitive plural
        self.assertTrue(comment_matches("счетам нет конца", ("счета",)))
        self.assertTrue(comment_matches("the Invoice was late", ("invoice",)))
        self.assertTrue(comment_matches("two invoices", ("invoice",)))
        self.assertTrue(comment_matches("ждали  очень\nдолго", ("очень долго",)))
        self.assertFalse(comment_matches("счетовод пришёл", ("счет",)))  # another word
        self.assertFalse(comment_matches("", ("счет",)))
        self.assertTrue(comment_matches("цена (x+1)?", ("цена",)))  # no regex from the user

    def test_a_negated_word_does_not_match_it(self):
        self.assertTrue(comment_matches("Менеджер был грубый", ("грубый",)))
        self.assertFalse(comment_matches("Менеджер был не грубый", ("грубый",)))
        self.assertFalse(comment_matches("the staff were not rude", ("rude",)))


class MatchTests(SimpleTestCase):
    def check(self, condition, facts, expected):
        self.assertEqual(matches(parse_condition(condition), facts), expected, condition)

    def test_scores_compare_on_their_scales_and_a_missing_score_never_matches(self):
        facts = ResponseFacts(nps=3, csat=5, ces=None)
        self.check(leaf("nps", "lte", 6), facts, True)
        self.check(leaf("nps", "gte", 4), facts, False)
        self.check(leaf("nps", "eq", 3), facts, True)
        self.check(leaf("csat", "gte", 5), facts, True)
        self.check(leaf("ces", "lte", 7), facts, False)

    def test_groups_nest(self):
        facts = ResponseFacts(nps=8, csat=2, channel="web")
        condition = {
            "any": [
                leaf("nps", "lte", 6),
                {"all": [leaf("csat", "lte", 2), leaf("channel", "in", ["web", "api"])]},
            ]
        }
        self.check(condition, facts, True)
        self.check({"all": [leaf("nps", "lte", 6), condition]}, facts, False)

    def test_customer_and_history_fields(self):
        facts = ResponseFacts(
            tier="key",
            annual_value=Decimal("1500000"),
            nps=4,
            nps_drop=5,
            comment="Счёт неверный",
        )
        self.check(leaf("tier", "in", ["strategic", "key"]), facts, True)
        self.check(leaf("annual_value", "gte", 1000000), facts, True)
        self.check(leaf("annual_value", "lte", "999.99"), facts, False)
        self.check(leaf("nps_drop", "gte", 5), facts, True)
        self.check(leaf("nps_drop", "gte", 6), facts, False)
        self.check(leaf("comment", "contains_any", ["договор", "счет"]), facts, True)
        self.check(leaf("nps_drop", "gte", 1), ResponseFacts(nps=4), False)  # no earlier answer
        self.check(leaf("tier", "in", ["key"]), ResponseFacts(), False)  # no customer


class WorldConditionTests(BaseTestCase):
    """Fields that name records: touchpoints and segments."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.world = World(cls)

    def test_touchpoint_ratings_any_or_named(self):
        w = self.world
        facts = ResponseFacts(ratings={w.invoice.pk: 2, w.support.pk: 5})
        for condition, expected in [
            (leaf("touchpoint_rating", "lte", 2), True),
            (leaf("touchpoint_rating", "gte", 5), True),
            (leaf("touchpoint_rating", "lte", 2, touchpoint="support"), False),
            (leaf("touchpoint_rating", "gte", 2, touchpoint="invoice"), True),
        ]:
            self.assertEqual(matches(parse_condition(condition), facts), expected, condition)
        self.assertFalse(
            matches(parse_condition(leaf("touchpoint_rating", "lte", 5)), ResponseFacts())
        )

    def test_segments_and_the_target_segment(self):
        w = self.world
        inside = ResponseFacts(segment_ids=frozenset({w.picked.pk}), in_target_segment=False)
        self.assertTrue(matches(parse_condition(leaf("segment", "in", [w.picked.pk])), inside))
        self.assertFalse(matches(parse_condition(leaf("target_segment", "is", True)), inside))
        target = ResponseFacts(in_target_segment=True)
        self.assertTrue(matches(parse_condition(leaf("target_segment", "is", True)), target))

    def test_the_comments_theme_and_sentiment_as_the_enrichment_reads_them(self):
        billed = ResponseFacts(comment="Ужасно, счета с ошибками, всё плохо")
        praised = ResponseFacts(comment="Great, thank you!")
        theme = parse_condition(leaf("theme", "in", ["billing"]))
        self.assertTrue(matches(theme, billed))  # «счета» is a form of «счёт»
        self.assertFalse(matches(theme, praised))
        self.assertFalse(matches(theme, ResponseFacts()))  # no comment, no theme
        negative = parse_condition(leaf("sentiment", "in", ["negative"]))
        self.assertEqual(
            matches(negative, billed), text.sentiment([billed.comment])[0].label == "negative"
        )
        self.assertFalse(matches(parse_condition(leaf("sentiment", "in", ["negative"])), praised))
        self.assertFalse(matches(negative, ResponseFacts()))  # no comment, no sentiment
        with translation.override("en"):
            with self.assertRaisesMessage(ConditionError, 'unknown value "weather"'):
                parse_condition(leaf("theme", "in", ["weather"]))
            with self.assertRaisesMessage(ConditionError, 'unknown value "angry"'):
                parse_condition(leaf("sentiment", "in", ["angry"]))
            self.assertEqual(
                in_words(parse_condition(leaf("theme", "in", ["billing", "speed"]))),
                "comment's theme is one of Billing, Speed",
            )

    def test_refusals_name_the_place_field_and_value(self):
        w = self.world
        cases = [
            (leaf("mood", "lte", 3), ["mood", "unknown field"]),
            (leaf("nps", "lt", 3), ["NPS", '"lt"']),
            (leaf("nps", "lte", -1), ["NPS", "0 to 10", "-1"]),
            (leaf("nps", "gte", 11), ["NPS", "11"]),
            (leaf("csat", "eq", 6), ["CSAT", "1 to 5", "6"]),
            (leaf("ces", "eq", 2.5), ["CES", "whole number", "2.5"]),
            (leaf("nps", "eq", True), ["whole number", "true"]),
            (leaf("touchpoint_rating", "lte", 2, touchpoint="nowhere"), ["touchpoint", "nowhere"]),
            (leaf("segment", "in", [w.picked.pk + 100]), ["segment", str(w.picked.pk + 100)]),
            (leaf("tier", "in", ["gold"]), ["tier", "gold"]),
            (leaf("channel", "in", ["fax"]), ["channel", "fax"]),
            (leaf("comment", "contains_any", []), ["comment", "non-empty list"]),
            (leaf("comment", "contains_any", [" "]), ["comment", "none empty"]),
            (leaf("annual_value", "gte", "lots"), ["annual value", "lots"]),
            (leaf("annual_value", "gte", -5), ["annual value", "-5"]),
            (leaf("target_segment", "is", False), ["target segment", "false"]),
            (leaf("nps_drop", "gte", 0), ["NPS drop", "1 to 10"]),
            ({"all": []}, ["all", "at least one condition"]),
            ({"any": [leaf("nps", "lte", 3), {"all": []}]}, ["any › 2 › all"]),
            (
                {"all": [leaf("nps", "lte", 3), leaf("csat", "lte", 2), leaf("nps", "gte", 8)]},
                ["all › 3", "NPS", "cannot all hold", "8"],
            ),
            (
                {"all": [leaf("tier", "in", ["key"]), leaf("tier", "in", ["small"])]},
                ["tier", "cannot all hold"],
            ),
            (
                {"all": [leaf("annual_value", "gte", 100), leaf("annual_value", "lte", 50)]},
                ["annual value", "cannot all hold"],
            ),
            ([leaf("nps", "lte", 3)], ["expected an object"]),
            ({"all": [leaf("nps", "lte", 3)], "any": []}, ["one key"]),
        ]
        with translation.override("en"):
            for condition, words in cases:
                with self.subTest(condition=condition), self.assertRaises(ConditionError) as raised:
                    parse_condition(condition)
                for word in words:
                    self.assertIn(word, str(raised.exception), condition)

    def test_refusals_are_translated(self):
        with translation.override("ru"), self.assertRaises(ConditionError) as raised:
            parse_condition(leaf("nps", "gte", 11))
        self.assertIn("11", str(raised.exception))

    def test_possible_combinations_are_kept(self):
        parse_condition(
            {
                "all": [
                    leaf("nps", "gte", 3),
                    leaf("nps", "lte", 3),
                    leaf("touchpoint_rating", "lte", 2),
                    leaf("touchpoint_rating", "gte", 4),  # two different touchpoints may
                ]
            }
        )
        parse_condition({"any": [leaf("nps", "lte", 3), leaf("nps", "gte", 8)]})

    def test_it_describes_a_condition_in_words(self):
        condition = {
            "all": [
                leaf("nps", "lte", 6),
                {"any": [leaf("comment", "contains_any", ["счёт"]), leaf("tier", "in", ["key"])]},
            ]
        }
        with translation.override("en"):
            words = describe(parse_condition(condition))
        self.assertEqual(
            words,
            "NPS at most 6 and (comment mentions any of «счёт» or customer tier is one of key)",
        )
