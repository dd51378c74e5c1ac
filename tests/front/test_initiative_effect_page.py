"""The measured effect on the initiative page, for the CX lead, in Russian and English: the
difference-in-differences with both series charted, the before/after and the target, each with
what it may claim; the time series where there is no comparison group; a message, never an
error, where there is nothing to measure; an outsider still gets 404."""

import datetime as dt
import json
import re
import tempfile
from pathlib import Path

from django.test import override_settings
from django.urls import reverse

from cxloop.journeys.models import Journey, Stage
from cxloop.test import OwnFactStore
from tests.effect_data import finished, write_store
from tests.improvements.data import ImprovementTestCase, propose, touchpoint

FIRST, CHANGE, LAST = dt.date(2025, 1, 1), dt.date(2026, 1, 1), dt.date(2026, 11, 30)
LIFT = 0.5


class EffectPageTests(OwnFactStore, ImprovementTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        journey = Journey.objects.create(name_ru="Один", name_en="Alone")
        stage = Stage.objects.create(journey=journey, order=1, name_ru="Этап", name_en="Stage")
        cls.alone = touchpoint(stage, 1, "alone", "Одна", "Alone")
        write_store(
            cls.facts_dir,
            touchpoints={cls.kickoff.pk: LIFT, cls.billing.pk: 0.0, cls.alone.pk: LIFT},
            change=CHANGE,
            first=FIRST,
            last=LAST,
        )
        lead = cls.lead.employee
        cls.done = finished(
            propose(cls.owner.employee, [cls.kickoff]), effective_from=CHANGE, by=lead
        )
        cls.alone_done = finished(
            propose(cls.owner.employee, [cls.alone]), effective_from=CHANGE, by=lead
        )
        cls.proposed = propose(cls.owner.employee, [cls.kickoff])
        silent = touchpoint(cls.kickoff.stage, 3, "silent", "Тишина", "Silence")
        cls.silent = finished(propose(cls.owner.employee, [silent]), effective_from=CHANGE, by=lead)

    def page(self, initiative, language="en", user=None):
        self.client.force_login(user or self.lead)
        return self.client.get(
            reverse("initiative_detail", args=[initiative.pk]), HTTP_ACCEPT_LANGUAGE=language
        )

    def number(self, html, element):
        found = re.search(
            rf'id="{element}" data-value="([-0-9.]+)" data-low="([-0-9.]+)" '
            rf'data-high="([-0-9.]+)"',
            html,
        )
        self.assertIsNotNone(found, element)
        return tuple(float(v) for v in found.groups())

    def chart(self, html, id_):
        found = re.search(rf'<script id="{id_}-spec" type="application/json">(.*?)</script>', html)
        self.assertIsNotNone(found, id_)
        return json.loads(found.group(1))

    def test_it_shows_the_planted_lift_against_the_comparison_group_in_english(self):
        response = self.page(self.done)
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn('data-status="measured"', html)
        value, low, high = self.number(html, "effect-did-value")
        self.assertLessEqual(low, LIFT)
        self.assertLessEqual(LIFT, high)
        value, low, high = self.number(html, "effect-before-after-value")
        self.assertTrue(low <= LIFT <= high)
        self.assertIn("Before the change both groups moved in parallel", html)
        self.assertIn("A before/after comparison shows how much the metric moved", html)
        self.assertIn("Other touchpoints of the journey", html)
        self.assertIn("target missed", html)
        spec = self.chart(html, "effect-did-chart")
        groups = {row["series"] for row in spec["data"]["values"]}
        self.assertEqual(groups, {"The touchpoints changed", "Other touchpoints of the journey"})
        self.assertIn("The change:", spec["description"])
        self.assertIn("front/vendor/vega/vega-embed.min.js", html)
        # The answers in each cell are stated: 1,456 before in English grouping.
        self.assertRegex(html, r"<td class=\"text-end\">\d{1,3}(,\d{3})+</td>")

    def test_it_renders_in_russian_with_russian_numbers(self):
        response = self.page(self.done, "ru")
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn('<html lang="ru"', html)
        self.assertIn('id="effect-did-chart"', html)
        # Decimal comma in the visible figures, a point only in the data attributes.
        change = re.search(r'id="effect-did-value"[^>]*>\+?([-0-9,\xa0]+)</span>', html)
        self.assertIsNotNone(change)
        self.assertIn(",", change.group(1))

    def test_it_falls_back_to_the_time_series_without_a_comparison_group(self):
        html = self.page(self.alone_done).content.decode()
        self.assertNotIn('id="effect-did"', html)
        value, low, high = self.number(html, "effect-its-value")
        self.assertTrue(low <= LIFT <= high)
        self.assertIn("No comparison group has enough answers", html)
        spec = self.chart(html, "effect-its-chart")
        series = {row["series"] for row in spec["data"]["values"]}
        self.assertEqual(series, {"Measured", "Fitted", "Had nothing changed"})

    def test_a_proposed_initiative_shows_no_effect(self):
        for language in ("en", "ru"):
            html = self.page(self.proposed, language).content.decode()
            self.assertIn('data-status="not_started"', html)
            self.assertNotIn('id="effect-before-after"', html)
        html = self.page(self.proposed).content.decode()
        self.assertIn("The effect is measured once the work starts", html)

    def test_a_touchpoint_without_answers_gives_the_message(self):
        response = self.page(self.silent)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "No answers of the target metric at these touchpoints yet")

    def test_an_outsider_still_gets_404(self):
        self.assertEqual(self.page(self.done, user=self.outsider).status_code, 404)

    def test_a_store_that_cannot_be_read_gives_the_message_not_an_error(self):
        with tempfile.TemporaryDirectory() as broken:
            (Path(broken) / "manifest.json").write_text("{not json")
            with override_settings(FACTS_DIR=broken):
                response = self.page(self.done)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'data-status="unavailable"')
        self.assertContains(response, "The analytics store cannot be read just now")
