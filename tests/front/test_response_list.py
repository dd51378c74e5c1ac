import datetime as dt

from django.contrib.messages import get_messages
from django.urls import reverse

from cxloop.customers.models import Customer
from cxloop.feedback.services import ingest
from cxloop.people.models import Employee
from cxloop.surveys.bands import BANDS, band_of
from cxloop.surveys.services import answer_pulse
from tests.front.evidence_data import JULY, EvidenceTestCase
from tests.front.test_pulse import make_pulse


class ResponseListTests(EvidenceTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        pulse = make_pulse()
        answer_pulse(pulse, Employee.objects.get(user=cls.teammate), {}, now=JULY)
        cls.url = reverse("response_list")

    def ids(self, params=None, user=None):
        self.client.force_login(user or self.owner)
        response = self.client.get(self.url, params or {})
        self.assertEqual(response.status_code, 200)
        return {row["response"].pk for row in response.context["rows"]}

    def messages_of(self, params):
        self.client.force_login(self.owner)
        response = self.client.get(self.url, params, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 200)
        return [str(m) for m in get_messages(response.wsgi_request)], response

    @property
    def meeting_response(self):
        return self.meeting.response.pk

    def test_it_shows_every_channel_of_the_teams_customers_and_never_pulse_answers(self):
        expected = {
            self.r_detractor.pk,
            self.r_promoter.pk,
            self.r_passive.pk,
            self.meeting_response,
        }
        self.assertEqual(self.ids(), expected)

    def test_it_shows_the_outsider_only_their_own_customers(self):
        self.assertEqual(self.ids(user=self.outsider), {self.r_hidden.pk})

    def test_it_shows_every_scored_answer_and_the_comment(self):
        self.client.force_login(self.owner)
        page = self.client.get(self.url, {"customer": self.acme.pk}, HTTP_ACCEPT_LANGUAGE="en")
        row = next(r for r in page.context["rows"] if r["response"] == self.r_detractor)
        labels = [f"{chip.label} {chip.score}" for chip in row["scores"]]
        self.assertEqual(
            labels,
            ["NPS 3", "CSAT 2", "rating: Billing accuracy 1", "effort (CES) 2"],
        )
        self.assertEqual(row["comment"], "Invoices were wrong again")
        self.assertContains(page, "Invoices were wrong again")
        self.assertContains(page, reverse("response_detail", args=[self.r_detractor.pk]))
        self.assertContains(page, reverse("customer_detail", args=[self.acme.pk]))
        self.assertContains(page, reverse("contact_detail", args=[self.ann.pk]))

    def test_it_filters_by_dates_both_inclusive(self):
        self.assertEqual(
            self.ids({"since": "2026-06-10", "until": "2026-06-10"}),
            {self.r_promoter.pk, self.meeting_response},
        )
        self.assertEqual(self.ids({"since": "2026-07-01"}), {self.r_passive.pk})
        self.assertEqual(self.ids({"until": "2026-05-31"}), {self.r_detractor.pk})

    def test_it_filters_by_month(self):
        self.assertEqual(self.ids({"period": "2026-05"}), {self.r_detractor.pk})
        self.assertEqual(self.ids({"period": "2026-07", "since": "2026-07-11"}), set())

    def test_it_filters_by_team_with_the_teams_below_it(self):
        self.assertEqual(self.ids({"team": self.team_a1.pk}), {self.r_passive.pk})
        self.assertEqual(len(self.ids({"team": self.team_a.pk})), 4)

    def test_it_leaves_out_a_team_the_user_does_not_see_and_says_so(self):
        said, page = self.messages_of({"team": self.team_b.pk})
        self.assertEqual(len(said), 1)
        self.assertIn("Team", said[0])
        self.assertEqual(len(page.context["rows"]), 4)
        self.assertNotIn("team", page.context["filters"])

    def test_it_filters_by_segment(self):
        self.assertEqual(
            self.ids({"segment": self.strategic.pk}),
            {self.r_detractor.pk, self.r_promoter.pk, self.meeting_response},
        )

    def test_it_filters_by_touchpoint_asked_about_or_rated(self):
        self.assertEqual(
            self.ids({"touchpoint": self.billing.pk}), {self.r_detractor.pk, self.r_passive.pk}
        )
        self.assertEqual(self.ids({"touchpoint": self.kickoff.pk}), {self.r_promoter.pk})

    def test_it_filters_by_channel_and_survey(self):
        self.assertEqual(self.ids({"channel": "web"}), {self.r_promoter.pk})
        self.assertEqual(self.ids({"channel": "visit"}), {self.meeting_response})
        self.assertEqual(len(self.ids({"survey": self.survey.pk})), 3)

    def test_it_filters_by_nps_band(self):
        self.assertEqual(
            self.ids({"kind": "nps", "band": "detractor"}),
            {self.r_detractor.pk, self.meeting_response},
        )
        self.assertEqual(self.ids({"kind": "nps", "band": "passive"}), {self.r_passive.pk})
        self.assertEqual(self.ids({"kind": "nps", "band": "promoter"}), {self.r_promoter.pk})

    def test_it_filters_by_band_of_the_other_scales_high_being_the_good_end(self):
        self.assertEqual(self.ids({"kind": "csat", "band": "low"}), {self.r_detractor.pk})
        self.assertEqual(self.ids({"kind": "csat", "band": "mid"}), {self.r_passive.pk})
        # Effort: 7 = very easy, in the high band; 2 = difficult, low.
        self.assertEqual(self.ids({"kind": "ces", "band": "high"}), {self.r_promoter.pk})
        self.assertEqual(self.ids({"kind": "ces", "band": "low"}), {self.r_detractor.pk})
        self.assertEqual(self.ids({"kind": "rating", "band": "low"}), {self.r_detractor.pk})

    def test_it_filters_by_scale_and_score_range(self):
        self.assertEqual(
            self.ids({"kind": "nps", "score_min": "6", "score_max": "8"}),
            {self.r_passive.pk, self.meeting_response},
        )
        self.assertEqual(self.ids({"kind": "rating"}), {self.r_detractor.pk, self.r_passive.pk})

    def test_it_searches_comments(self):
        self.assertEqual(self.ids({"q": "invoices"}), {self.r_detractor.pk})
        self.assertEqual(self.ids({"q": "Zeta secret"}), set())

    def test_it_filters_by_customer_and_contact(self):
        self.assertEqual(self.ids({"customer": self.bolt.pk}), {self.r_passive.pk})
        self.assertEqual(
            self.ids({"contact": self.ann.pk}),
            {self.r_detractor.pk, self.r_promoter.pk, self.meeting_response},
        )

    def test_it_names_no_customer_or_contact_of_another_team(self):
        said, page = self.messages_of({"customer": self.zeta.pk, "contact": self.zed.pk})
        self.assertEqual(len(said), 2)
        self.assertNotContains(page, "Zeta Hidden")
        self.assertNotContains(page, "Zed")
        self.assertEqual(len(page.context["rows"]), 4)

    def test_it_leaves_out_bad_values_with_a_message_each(self):
        bad = {
            "since": "2026-02-30",
            "until": "yesterday",
            "period": "2026-13",
            "team": "-1",
            "segment": "x",
            "touchpoint": "99999999999999999999",
            "channel": "pigeon",
            "survey": "\x00",
            "kind": "mood",
            "band": "low",
            "score_min": "3",
            "q": "a\x00b",
            "customer": "0",
            "contact": "1e3",
        }
        said, page = self.messages_of(bad)
        self.assertEqual(len(said), len(bad))
        self.assertEqual(page.context["filters"], {})
        self.assertEqual(len(page.context["rows"]), 4)

    def test_it_refuses_a_score_off_the_scale_and_a_band_of_another_scale(self):
        said, page = self.messages_of({"kind": "csat", "score_max": "9", "band": "promoter"})
        self.assertEqual(len(said), 2)
        self.assertEqual(page.context["filters"], {"kind": "csat"})

    def test_it_keeps_the_filters_in_the_page_links(self):
        for i in range(60):
            ingest(
                survey=self.survey,
                answers={1: 9},
                channel="email",
                submitted_at=JULY + dt.timedelta(minutes=i),
                customer=self.acme,
            )
        self.client.force_login(self.owner)
        page = self.client.get(self.url, {"kind": "nps", "band": "promoter", "channel": "bogus"})
        self.assertContains(page, "?kind=nps&amp;band=promoter&amp;page=2")
        second = self.client.get(self.url, {"kind": "nps", "band": "promoter", "page": 2})
        self.assertEqual(len(second.context["rows"]), 11)

    def test_it_answers_htmx_with_the_results_only(self):
        self.client.force_login(self.owner)
        page = self.client.get(self.url, {"channel": "web"}, HTTP_HX_REQUEST="true")
        self.assertTemplateUsed(page, "front/includes/evidence_response_results.html")
        self.assertTemplateNotUsed(page, "front/response_list.html")
        self.assertNotContains(page, "<form")

    def test_it_asks_for_sign_in(self):
        self.assertEqual(self.client.get(self.url).status_code, 302)

    def test_it_leaves_no_score_out_of_a_band(self):
        # The bands of each scale cover it exactly once.
        from cxloop.lib.scales import SCORE_RANGES

        for kind, (low, high) in SCORE_RANGES.items():
            covered = [s for band in BANDS[kind].values() for s in range(band[0], band[1] + 1)]
            self.assertEqual(covered, list(range(low, high + 1)), kind)
            self.assertIsNotNone(band_of(kind, high))

    def test_it_counts_an_unowned_customers_responses_for_the_organisation_only(self):
        nobody = Customer.objects.create(external_id="N", name="Nobody's")
        ingest(
            survey=self.survey, answers={1: 5}, channel="api", submitted_at=JULY, customer=nobody
        )
        self.assertEqual(len(self.ids({"channel": "api"})), 0)
