from django.urls import reverse

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

    def test_it_is_404_for_a_touchpoint_that_does_not_exist(self):
        response = self.get(reverse("touchpoint_detail", args=[999999]), as_user=self.owner)
        self.assertEqual(response.status_code, 404)
