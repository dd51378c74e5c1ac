from django.urls import reverse

from tests.front.evidence_data import EvidenceTestCase


class ContactDetailTests(EvidenceTestCase):
    def url(self, contact):
        return reverse("contact_detail", args=[contact.pk])

    def test_it_shows_the_customer_role_responses_and_meetings(self):
        self.client.force_login(self.teammate)
        page = self.client.get(self.url(self.ann), HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(page.status_code, 200)
        for text in ("Ann Reader", "CFO", "Acme", "Invoices were wrong again", "Talked about"):
            self.assertContains(page, text)
        self.assertContains(page, reverse("customer_detail", args=[self.acme.pk]))
        self.assertContains(page, reverse("response_detail", args=[self.r_promoter.pk]))
        self.assertContains(page, f"{reverse('response_list')}?contact={self.ann.pk}")
        self.assertEqual(page.context["response_count"], 3)

    def test_it_shows_only_the_contacts_own_responses(self):
        self.client.force_login(self.owner)
        page = self.client.get(self.url(self.bob))
        self.assertEqual([r["response"] for r in page.context["rows"]], [self.r_passive])
        self.assertEqual(list(page.context["meetings"]), [])

    def test_it_answers_404_to_another_team(self):
        self.client.force_login(self.outsider)
        self.assertEqual(self.client.get(self.url(self.ann)).status_code, 404)
        self.client.force_login(self.teammate)
        self.assertEqual(self.client.get(self.url(self.zed)).status_code, 404)

    def test_it_asks_for_sign_in(self):
        self.assertEqual(self.client.get(self.url(self.ann)).status_code, 302)
