from django.urls import reverse

from cxloop.facts.sync import rebuild
from tests.front.insight_data import InsightPageTestCase


class PortfolioTests(InsightPageTestCase):
    url = reverse("portfolio")

    def setUp(self):
        self.owner.employee.role = "executive"
        self.owner.employee.save()

    def test_it_puts_the_revenue_of_detractors_at_risk(self):
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

    def test_it_links_each_customer_at_risk_to_their_page(self):
        response = self.get(self.url, as_user=self.owner)
        href = reverse("customer_detail", args=[self.theirs.pk])
        self.assertContains(response, f'<a href="{href}">Theirs</a>', html=True)

    def test_it_shows_money_in_roubles_with_the_locales_separators(self):
        self.ours.annual_value = 1250000
        self.ours.save()
        rebuild()
        english = self.get(self.url, as_user=self.owner)
        self.assertContains(english, "₽1,250,500")  # all customers: 1,250,000 + 500
        russian = self.get(self.url, as_user=self.owner, language="ru")
        self.assertContains(russian, "1\xa0250\xa0500\xa0₽")
