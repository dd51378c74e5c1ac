"""A rule's condition in words names touchpoints and segments as people know them, in the
page's language, not by their codes and ids."""

from django.utils import translation

from cxloop.cases.conditions import parse_condition
from cxloop.cases.rules import in_words
from cxloop.test import BaseTestCase
from tests.cases.test_evaluate import World


class RuleInWordsTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.world = World(cls)

    def test_touchpoints_and_segments_by_name_in_the_pages_language(self):
        segment = self.world.target
        node = parse_condition(
            {
                "any": [
                    {
                        "field": "touchpoint_rating",
                        "op": "lte",
                        "value": 2,
                        "touchpoint": "invoice",
                    },
                    {"field": "segment", "op": "in", "value": [segment.pk]},
                ]
            }
        )
        for language, touchpoint in (("en", "Invoice"), ("ru", "Счёт")):
            with self.subTest(language), translation.override(language):
                words = in_words(node)
                self.assertIn(f"«{touchpoint}»", words)
                self.assertIn(segment.label, words)
                self.assertNotIn("«invoice»", words)
                self.assertNotIn(f"#{segment.pk}", words)
