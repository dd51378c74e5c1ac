from django.urls import reverse

from tests.front.insight_data import InsightPageTestCase


class OverviewTests(InsightPageTestCase):
    url = reverse("overview")

    def test_it_shows_nps_with_its_interval_for_the_teams_one_sees(self):
        response = self.get(self.url, as_user=self.owner)
        self.assertEqual(response.status_code, 200)
        result = response.context["result"]
        self.assertEqual((result.responses, result.nps.n), (40, 40))
        # NPS answers 2, 4, 6, 8, 10 in turn: one in five a promoter, three in five detractors.
        self.assertAlmostEqual(result.nps.estimate.value, 20 - 60)
        self.assertContains(response, "95% interval")

    def test_it_counts_only_an_outsiders_own_customers(self):
        response = self.get(self.url, as_user=self.outsider)
        self.assertEqual(response.context["result"].responses, 10)

    def test_it_speaks_russian(self):
        response = self.get(self.url, as_user=self.owner, language="ru")
        self.assertContains(response, "Доля ответивших")
