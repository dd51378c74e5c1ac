from urllib.parse import parse_qs

from django.urls import reverse
from django.utils.html import escape

from tests.front.insight_data import InsightPageTestCase


class CompareTests(InsightPageTestCase):
    url = reverse("compare")

    def test_it_compares_teams_and_marks_the_significant_difference(self):
        response = self.get(
            self.url,
            as_user=self.owner.__class__.objects.get(username="owner"),
            by="team",
            metric="nps",
        )
        self.assertEqual(response.status_code, 200)
        names = [row["name"] for row in response.context["rows"]]
        self.assertEqual(names, ["Team A"])  # a manager compares only the teams they see

    def test_it_compares_segments_for_the_whole_firm(self):
        self.owner.employee.role = "executive"
        self.owner.employee.save()
        response = self.get(self.url, as_user=self.owner, by="segment", metric="nps")
        rows = {row["name"]: row["group"] for row in response.context["rows"]}
        # Key clients (NPS −40, n 40) against the rest (NPS −100, n 10).
        self.assertAlmostEqual(rows["Key clients"].estimate.value, -40)
        self.assertAlmostEqual(rows["Key clients"].reference.value, -100)

    def test_it_links_each_group_to_the_responses_behind_it(self):
        self.owner.employee.role = "executive"
        self.owner.employee.save()
        response = self.get(self.url, as_user=self.owner, by="segment", metric="nps")
        (row,) = response.context["rows"]
        path, query = row["href"].split("?")
        self.assertEqual(path, reverse("response_list"))
        self.assertEqual(
            parse_qs(query),
            {"since": ["2025-12-01"], "segment": [str(self.target.pk)], "kind": ["nps"]},
        )
        self.assertContains(response, f'href="{escape(row["href"])}"')

    def test_it_links_a_month_to_its_period_and_a_quarter_to_its_dates(self):
        monthly = self.get(
            self.url, as_user=self.owner, by="period", metric="rating", touchpoint=self.kickoff.pk
        )
        query = parse_qs(monthly.context["rows"][0]["href"].split("?")[1])
        self.assertEqual(query["period"], ["2026-01"])
        self.assertEqual(query["touchpoint"], [str(self.kickoff.pk)])
        self.assertEqual(query["kind"], ["rating"])
        quarterly = self.get(
            self.url, as_user=self.owner, by="period", metric="nps", grain="quarter"
        )
        query = parse_qs(quarterly.context["rows"][0]["href"].split("?")[1])
        self.assertEqual((query["since"], query["until"]), (["2026-01-01"], ["2026-03-31"]))

    def test_it_heads_every_column_differently(self):
        for language in ("en", "ru"):
            for metric in ("nps", "csat", "ces"):
                response = self.get(self.url, as_user=self.owner, metric=metric, language=language)
                headings = [
                    h.strip()
                    for h in response.content.decode()
                    .split("<thead>")[1]
                    .split("</thead>")[0]
                    .split("<th")[1:]
                ]
                self.assertEqual(len(headings), len(set(headings)), (language, metric, headings))

    def test_it_explains_the_correction_in_a_tooltip_not_in_the_text(self):
        response = self.get(self.url, as_user=self.owner, by="team", metric="nps")
        self.assertContains(response, 'title="Benjamini–Hochberg correction')
        self.assertContains(response, "larger than chance would explain")

    def test_it_compares_a_touchpoints_rating_by_month(self):
        response = self.get(
            self.url,
            as_user=self.owner,
            by="period",
            metric="rating",
            touchpoint=str(self.kickoff.pk),
        )
        self.assertEqual(len(response.context["rows"]), 3)  # January to March 2026

    def test_it_is_404_for_what_it_cannot_compare(self):
        response = self.get(self.url, as_user=self.owner, by="astrology")
        self.assertEqual(response.status_code, 404)
