"""The catalog of exports: every kind is documented, and links back to the page it exports."""

from pathlib import Path

from django.test import SimpleTestCase
from django.urls import reverse

from cxloop.exports.catalog import KINDS

DOCS = Path(__file__).resolve().parents[2] / "docs" / "exports.md"


class CatalogTests(SimpleTestCase):
    def test_every_kind_is_in_the_documentation(self):
        text = DOCS.read_text()
        missing = [name for name in KINDS if f"`{name}`" not in text]
        self.assertEqual(missing, [])

    def test_every_kind_links_to_its_page_with_the_query(self):
        for name, kind in KINDS.items():
            if kind.page_pk is not None:
                continue
            with self.subTest(kind=name):
                bare = kind.url()
                self.assertEqual(bare, reverse(kind.page))
                self.assertEqual(kind.url("a=1"), f"{bare}?a=1")

    def test_a_page_of_one_thing_is_linked_by_the_thing_its_query_names(self):
        one_thing = {"touchpoint": "touchpoint=7", "pulse_results": "survey=7"}
        kinds = {name for name, kind in KINDS.items() if kind.page_pk is not None}
        self.assertEqual(kinds, set(one_thing))
        for name, query in one_thing.items():
            with self.subTest(kind=name):
                kind = KINDS[name]
                self.assertEqual(kind.url(query), f"{reverse(kind.page, args=[7])}?{query}")
                # Naming nothing (or nonsense), it falls back to the home page, not an error.
                self.assertEqual(kind.url(), reverse("home"))
                self.assertEqual(kind.url(query.replace("7", "x")), reverse("home"))
