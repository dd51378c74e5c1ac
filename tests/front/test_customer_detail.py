import json

from django.urls import reverse

from cxloop.analytics.scores import nps_from_counts
from tests.front.evidence_data import EvidenceTestCase


class CustomerDetailTests(EvidenceTestCase):
    def url(self, customer):
        return reverse("customer_detail", args=[customer.pk])

    def test_it_shows_the_account_contacts_responses_and_meetings(self):
        self.client.force_login(self.teammate)
        page = self.client.get(self.url(self.acme), HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(page.status_code, 200)
        for text in (
            "Acme",
            "Teammate",  # the relationship owner
            "1,234,567",
            "₽",
            "strategic",
            "Strategic",  # the segment
            "Ann Reader",
            "Invoices were wrong again",
            "Talked about invoices",
            "Fix the invoice template",
        ):
            self.assertContains(page, text)
        self.assertContains(page, reverse("contact_detail", args=[self.ann.pk]))
        self.assertContains(page, reverse("response_detail", args=[self.r_detractor.pk]))
        self.assertContains(page, reverse("response_detail", args=[self.meeting.response.pk]))
        self.assertContains(page, f"{reverse('response_list')}?customer={self.acme.pk}")
        self.assertEqual(page.context["response_count"], 3)

    def test_it_shows_nps_by_quarter_with_its_interval(self):
        self.client.force_login(self.teammate)
        history = self.client.get(self.url(self.acme)).context["history"]
        # Q2 2026: NPS 3 (May), 10 and 6 at the meeting (June): 1 promoter, 2 detractors.
        self.assertEqual([point.label for point in history], ["2026 Q2"])
        expected = nps_from_counts(1, 2, 3)
        self.assertEqual(history[0].estimate, expected)
        self.assertAlmostEqual(history[0].estimate.value, -100 / 3)
        self.assertEqual((history[0].since, history[0].until), ("2026-04-01", "2026-06-30"))
        chart = json.dumps(self.client.get(self.url(self.acme)).context["history_chart"])
        self.assertIn('"2026-04-01"', chart)
        self.assertIn(str(round(expected.low, 1))[:4], chart)

    def test_it_answers_404_to_another_team_and_to_a_team_above_for_an_employee(self):
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(self.url(self.acme)).status_code, 404)
        self.client.force_login(self.teammate)
        self.assertEqual(self.client.get(self.url(self.bolt)).status_code, 404)
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get(self.url(self.bolt)).status_code, 200)
        self.assertEqual(self.client.get(self.url(self.zeta)).status_code, 404)

    def test_it_asks_for_sign_in(self):
        self.assertEqual(self.client.get(self.url(self.acme)).status_code, 302)
