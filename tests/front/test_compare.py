from django.urls import reverse

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
        names = [name for name, _group, _reason in response.context["rows"]]
        self.assertEqual(names, ["Team A"])  # a manager compares only the teams they see

    def test_it_compares_segments_for_the_whole_firm(self):
        self.owner.employee.role = "executive"
        self.owner.employee.save()
        response = self.get(self.url, as_user=self.owner, by="segment", metric="nps")
        rows = {name: group for name, group, _reason in response.context["rows"]}
        # Key clients (NPS −40, n 40) against the rest (NPS −100, n 10).
        self.assertAlmostEqual(rows["Key clients"].estimate.value, -40)
        self.assertAlmostEqual(rows["Key clients"].reference.value, -100)

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
