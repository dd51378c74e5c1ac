from django.urls import reverse

from cxloop.customers.models import Customer
from tests.front.evidence_data import EvidenceTestCase


class CustomerListTests(EvidenceTestCase):
    url = "/customers/"

    def names(self, params=None, user=None):
        self.client.force_login(user or self.owner)
        page = self.client.get(self.url, params or {}, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(page.status_code, 200)
        return [row["customer"].name for row in page.context["rows"]]

    def test_it_lists_the_customers_of_the_users_teams_with_links(self):
        self.assertEqual(reverse("customer_list"), self.url)
        self.assertEqual(self.names(), ["Acme", "Bolt"])
        self.assertEqual(self.names(user=self.outsider), ["Zeta Hidden"])
        page = self.client.get(self.url)
        self.assertContains(page, reverse("customer_detail", args=[self.zeta.pk]))

    def test_it_shows_an_employee_only_their_own_team(self):
        self.assertEqual(self.names(user=self.teammate), ["Acme"])

    def test_it_finds_by_name_contact_name_or_email_in_any_case(self):
        self.assertEqual(self.names({"q": "acm"}), ["Acme"])
        self.assertEqual(self.names({"q": "READER"}), ["Acme"])
        self.assertEqual(self.names({"q": "bob@bolt"}), ["Bolt"])
        self.assertEqual(self.names({"q": "zed"}), [])

    def test_it_finds_cyrillic_names_in_any_case_on_either_database(self):
        # SQLite's LIKE folds the case of ASCII letters only.
        Customer.objects.filter(pk=self.acme.pk).update(name="ООО «Волжский Лизинг»")
        self.assertEqual(self.names({"q": "волжский"}), ["ООО «Волжский Лизинг»"])
        self.assertEqual(self.names({"q": "ЛИЗИНГ"}), ["ООО «Волжский Лизинг»"])
        self.assertEqual(self.names({"q": "ёлка"}), [])

    def test_it_filters_by_segment_tier_team_and_owner(self):
        self.assertEqual(self.names({"segment": self.strategic.pk}), ["Acme"])
        self.assertEqual(self.names({"tier": "small"}), ["Bolt"])
        self.assertEqual(self.names({"team": self.team_a1.pk}), ["Bolt"])
        self.assertEqual(self.names({"owner": self.acme.owner_id}), ["Acme"])

    def test_it_sorts(self):
        self.assertEqual(self.names({"sort": "-name"}), ["Bolt", "Acme"])
        self.assertEqual(self.names({"sort": "value"}), ["Bolt", "Acme"])
        self.assertEqual(self.names({"sort": "-value"}), ["Acme", "Bolt"])
        self.assertEqual(self.names({"sort": "tier"}), ["Acme", "Bolt"])

    def test_it_shows_value_in_roubles_and_counts_linked_to_the_responses(self):
        self.client.force_login(self.owner)
        page = self.client.get(self.url, HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(page, "1,234,567")
        self.assertContains(page, "₽")
        self.assertContains(page, f"{reverse('response_list')}?customer={self.acme.pk}")
        acme = next(r for r in page.context["rows"] if r["customer"] == self.acme)
        self.assertEqual(acme["feedback"].count, 3)  # two survey answers and the meeting

    def test_it_leaves_out_bad_filters_with_a_message(self):
        self.client.force_login(self.owner)
        page = self.client.get(
            self.url,
            {
                "segment": "x",
                "tier": "gold",
                "team": self.team_b.pk,
                "owner": "99",
                "sort": "evil",
                "q": "a\x00",
                "page": "-5",
            },
        )
        self.assertEqual(page.status_code, 200)
        self.assertEqual(len(list(page.context["messages"])), 6)
        self.assertEqual(page.context["filters"], {})
        self.assertEqual(len(page.context["rows"]), 2)

    def test_it_paginates_keeping_the_filters_and_the_sort(self):
        owner = self.acme.owner
        Customer.objects.bulk_create(
            Customer(external_id=f"M{i}", name=f"Many {i:03d}", owner=owner, tier="key")
            for i in range(60)
        )
        self.client.force_login(self.owner)
        page = self.client.get(self.url, {"tier": "key", "sort": "-name"})
        self.assertContains(page, "?tier=key&amp;sort=-name&amp;page=2")
        second = self.client.get(self.url, {"tier": "key", "sort": "-name", "page": 2})
        self.assertEqual(len(second.context["rows"]), 10)

    def test_it_answers_htmx_with_the_results_only(self):
        self.client.force_login(self.owner)
        page = self.client.get(self.url, {"tier": "small"}, HTTP_HX_REQUEST="true")
        self.assertTemplateUsed(page, "front/includes/evidence_customer_results.html")
        self.assertNotContains(page, "cx-filterbar")
        # The export form comes with the results: it exports what the filters now keep.
        self.assertContains(page, 'name="query" value="tier=small&amp;sort=name"')

    def test_it_asks_for_sign_in(self):
        self.assertEqual(self.client.get(self.url).status_code, 302)
