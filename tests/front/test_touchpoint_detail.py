import datetime as dt
from types import SimpleNamespace

from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from cxloop.front import insight_views
from tests.front.insight_data import InsightPageTestCase


class TouchpointDetailTests(InsightPageTestCase):
    def url(self, touchpoint) -> str:
        return reverse("touchpoint_detail", args=[touchpoint.pk])

    def test_it_shows_the_rating_its_control_chart_and_the_latest_comments(self):
        response = self.get(self.url(self.billing), as_user=self.owner, segment="all")
        self.assertEqual(response.status_code, 200)
        result = response.context["result"]
        self.assertEqual(result.n, 40)
        self.assertEqual([c.n for c in result.distribution], [10, 10, 10, 5, 5])
        self.assertIsNotNone(response.context["control"])
        self.assertContains(response, "Счёт с ошибкой")

    def test_it_keeps_other_teams_comments_and_answers_from_an_outsider(self):
        response = self.get(self.url(self.billing), as_user=self.outsider, segment="all")
        self.assertEqual(response.context["result"].n, 10)
        self.assertNotContains(response, "Счёт с ошибкой")

    def test_it_says_when_nothing_rates_the_touchpoint(self):
        response = self.get(self.url(self.billing), as_user=self.owner, since="2027-01-01")
        self.assertContains(response, "No ratings of this touchpoint")

    def test_managers_start_an_initiative_from_it_and_employees_do_not(self):
        start = f"{reverse('initiative_new')}?from=touchpoint&amp;touchpoint={self.billing.pk}"
        response = self.get(self.url(self.billing), as_user=self.owner, segment="all")
        self.assertContains(response, f'href="{start}"')
        response = self.get(self.url(self.billing), as_user=self.outsider, segment="all")
        self.assertNotContains(response, reverse("initiative_new"))

    def test_it_is_404_for_a_touchpoint_that_does_not_exist(self):
        response = self.get(reverse("touchpoint_detail", args=[999999]), as_user=self.owner)
        self.assertEqual(response.status_code, 404)

    def test_it_says_the_score_in_a_sentence_with_its_interval_in_a_tooltip(self):
        response = self.get(self.url(self.billing), as_user=self.owner, segment="all")
        result = response.context["result"]
        # Billing ratings 1–5, ten each of 1, 2, 3 and five each of 4, 5: 10 of 40 are 4 or 5.
        self.assertAlmostEqual(result.top_box.value, 25)
        self.assertContains(response, "25% of customers rate it good or excellent")
        self.assertContains(response, "95% interval")
        self.assertContains(response, "See the 40 ratings")

    def test_it_links_each_comment_and_all_responses_to_the_evidence(self):
        response = self.get(self.url(self.billing), as_user=self.owner, segment="all")
        (comment,) = response.context["comments"]
        self.assertContains(
            response, f'href="{reverse("response_detail", args=[comment.response_id])}"'
        )
        href = response.context["responses_href"]
        self.assertEqual(href, f"/responses/?since=2025-12-01&touchpoint={self.billing.pk}")
        self.assertContains(response, escape(href))
        self.assertIn("kind=rating", response.context["ratings_href"])

    def test_it_says_how_the_rating_goes_with_nps_in_words(self):
        # NPS follows the kick-off rating exactly (r = 1): a strong link, r in a tooltip.
        response = self.get(self.url(self.kickoff), as_user=self.owner, segment="all")
        overall = response.context["drivers"][0]
        self.assertAlmostEqual(overall["driver"].r, 1.0, places=6)
        self.assertEqual(overall["words"], "goes strongly with NPS")
        self.assertContains(response, "Pearson correlation r = 1.00")

    def test_it_says_whether_it_is_changing_in_plain_words(self):
        response = self.get(self.url(self.billing), as_user=self.owner, segment="all")
        self.assertIsNone(response.context["signal"])
        self.assertContains(response, "Stable: the changes from month to month")

    def test_it_shows_the_customers_expectation_and_our_standard(self):
        self.billing.expectation_en = "An invoice without errors"
        self.billing.save()
        self.billing.standards.create(
            version=1,
            text_ru="Счёт без ошибок",
            text_en="Every invoice checked twice",
            effective_from=dt.date(2025, 1, 1),
        )
        self.billing.standards.create(
            version=2,
            text_ru="Позже",
            text_en="A standard not yet in force",
            effective_from=dt.date(2200, 1, 1),
        )
        response = self.get(self.url(self.billing), as_user=self.owner, segment="all")
        self.assertContains(response, "An invoice without errors")
        self.assertContains(response, "Every invoice checked twice")
        self.assertNotContains(response, "not yet in force")

    def test_it_words_a_signalled_drop_with_its_month_and_shares(self):
        signal = SimpleNamespace(direction="down", since="2026-07", before=66.4, after=28.2)
        with translation.override("en"):
            text = insight_views._signal_sentence(signal)
        self.assertEqual(
            text,
            "Worse since July 2026: 28% of ratings are 4 or 5, down from 66% before. "
            "That is more than the usual ups and downs.",
        )

    def test_it_links_every_point_of_its_charts_to_the_ratings_behind_it(self):
        response = self.get(self.url(self.billing), as_user=self.owner, segment="all")
        points = response.context["trend"]["data"]["values"]
        self.assertTrue(points)
        for point in points:
            self.assertIn(f"touchpoint={self.billing.pk}", point["href"])
            self.assertIn("kind=rating", point["href"])
        control = response.context["control"]["data"]["values"]
        self.assertTrue(all("since=" in point["href"] for point in control))
