from django.urls import reverse

from tests.front.insight_data import InsightPageTestCase


class PortfolioTests(InsightPageTestCase):
    url = reverse("portfolio")

    def test_it_puts_the_revenue_of_detractors_at_risk(self):
        self.owner.employee.role = "executive"
        self.owner.employee.save()
        response = self.get(self.url, as_user=self.owner)
        self.assertEqual(response.status_code, 200)
        (overall,) = response.context["result"].overall
        # Ours last answered 10 (a promoter); Theirs 3 (a detractor worth 500).
        self.assertEqual((overall.detractor_value, overall.at_risk), (500, 500))
        self.assertContains(response, "Theirs")

    def test_it_shows_an_outsider_only_their_own_customers(self):
        response = self.get(self.url, as_user=self.teammate)
        ids = [row.customer_id for row in response.context["result"].customers]
        self.assertEqual(ids, [self.ours.pk])
