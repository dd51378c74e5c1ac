import datetime as dt
import random

from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cxloop.customers.models import Customer
from cxloop.feedback.services import ingest
from cxloop.people.models import Employee
from cxloop.surveys.bands import BANDS, band_of
from cxloop.surveys.models import Answer, Response
from cxloop.surveys.services import answer_pulse
from tests.front.evidence_data import JULY, EvidenceTestCase, make_every_scale_survey
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
            ["NPS 3", "CSAT 2", "Rating: Billing accuracy 1", "Effort (CES) 2"],
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

    def test_it_leaves_out_a_team_that_does_not_exist(self):
        said, page = self.messages_of({"team": 987654})
        self.assertEqual(len(said), 1)
        self.assertEqual(len(page.context["rows"]), 4)

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

    def test_it_applies_the_band_to_the_answer_about_the_touchpoint(self):
        # The detractor rated billing 1; the promoter's response is about the kick-off, and
        # its CSAT 5 is about no touchpoint of its own, so it is the kick-off's.
        low_billing = {"touchpoint": self.billing.pk, "kind": "rating", "band": "low"}
        self.assertEqual(self.ids(low_billing), {self.r_detractor.pk})
        self.assertEqual(self.ids({**low_billing, "band": "mid"}), {self.r_passive.pk})
        high_kickoff = {"touchpoint": self.kickoff.pk, "kind": "csat", "band": "high"}
        self.assertEqual(self.ids(high_kickoff), {self.r_promoter.pk})
        self.assertEqual(self.ids({**high_kickoff, "band": "low"}), set())
        # Low CSAT anywhere, but none about billing: the detractor's CSAT 2 is about no
        # touchpoint and the response about none either.
        self.assertEqual(self.ids({"touchpoint": self.billing.pk, "kind": "csat"}), set())

    def test_it_filters_by_scale_and_score_range(self):
        self.assertEqual(
            self.ids({"kind": "nps", "score_min": "6", "score_max": "8"}),
            {self.r_passive.pk, self.meeting_response},
        )
        self.assertEqual(self.ids({"kind": "rating"}), {self.r_detractor.pk, self.r_passive.pk})

    def test_it_searches_comments(self):
        self.assertEqual(self.ids({"q": "invoices"}), {self.r_detractor.pk})
        self.assertEqual(self.ids({"q": "Zeta secret"}), set())
        Answer.objects.filter(response=self.r_detractor, kind="text").update(
            text="Счёт снова неверный"
        )
        self.assertEqual(self.ids({"q": "СЧЁТ"}), {self.r_detractor.pk})

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
        self.assertNotContains(page, "cx-filterbar")
        # The export form comes with the results: it exports what the filters now keep.
        self.assertContains(page, 'name="query" value="channel=web"')

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


class ResponseListIndexTests(EvidenceTestCase):
    """Every filter of the list reads the responses and answers through indexes (EXPLAIN: no
    full scan of either table, no subquery per row) in a bounded number of statements, over
    enough responses that a database would rather scan than seek if a filter gave it no
    choice (tests/test_slow_queries.py does the same for the API)."""

    RESPONSES = 10_000

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        rng = random.Random(10)
        # Another survey of the same questions holds the bulk, so that the survey filter (the
        # fixture's own survey) is selective; most scores are high, so that the bands are too.
        bulk = make_every_scale_survey()
        questions = {q.order: q for q in bulk.questions.all()}
        # Most are of a hundred customers of team B, so that a filter on team A's customers
        # is as selective as on a real database (and its statistics say so).
        fillers = Customer.objects.bulk_create(
            Customer(external_id=f"F{i}", name=f"Filler {i}", owner=cls.zeta.owner)
            for i in range(100)
        )
        customers = (cls.acme, cls.bolt, *fillers)
        weights = (1, 1, *[0.18] * len(fillers))
        contacts = {cls.acme: cls.ann, cls.bolt: cls.bob}
        start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        responses = []
        for i in range(cls.RESPONSES):
            customer = rng.choices(customers, weights=weights)[0]
            responses.append(
                Response(
                    survey=bulk,
                    customer=customer,
                    contact=contacts.get(customer),
                    touchpoint=cls.kickoff if i % 7 == 0 else None,
                    channel=rng.choice(("email", "web", "import")),
                    state="completed",
                    started_at=start + dt.timedelta(minutes=30 * i),
                    submitted_at=start + dt.timedelta(minutes=30 * i),
                )
            )
        Response.objects.bulk_create(responses, batch_size=5000)
        answers = []
        for pk in (response.pk for response in responses):
            low = pk % 20 == 0
            answers.append(
                Answer(response_id=pk, question=questions[1], kind="nps", score=3 if low else 9)
            )
            answers.append(
                Answer(
                    response_id=pk,
                    question=questions[3],
                    kind="rating",
                    score=2 if low else 5,
                    touchpoint=cls.billing,
                )
            )
            if pk % 10 == 0:
                answers.append(
                    Answer(response_id=pk, question=questions[5], kind="text", text=f"note {pk}")
                )
        Answer.objects.bulk_create(answers, batch_size=10000)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        cls.executive = cls._user("executive", cls.firm, "executive")

    def _plan(self, sql: str) -> list[str]:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("EXPLAIN QUERY PLAN " + sql)
                return [str(row[-1]) for row in cursor.fetchall()]
            cursor.execute("EXPLAIN " + sql)
            return [row[0] for row in cursor.fetchall()]

    def _full_scans(self, plan: list[str]) -> list[str]:
        """Lines of ``plan`` that read a whole table or run a subquery once per row.

        PostgreSQL's planner reads a table of 10,000 rows whole (cost under 300) rather than
        through any index, so on PostgreSQL only a subquery per row counts here; its plans at
        scale are tests/test_slow_queries.py's (50,000 responses, through the API)."""
        found = []
        for line in plan:
            if "CORRELATED" in line:  # SQLite: a subquery run once per row of the list
                found.append(line)
            if "SubPlan" in line and "hashed SubPlan" not in line and "Filter" in line:
                found.append(line)  # PostgreSQL: the same
            if connection.vendor != "sqlite":
                continue
            for table in ("surveys_response", "surveys_answer"):
                if f"SCAN {table}" in line and "INDEX" not in line:
                    found.append(line)
        return found

    def test_it_reads_through_indexes_with_every_filter(self):
        filters = [
            {},
            {"page": "30"},
            {"since": "2024-06-01", "until": "2024-06-30"},
            {"period": "2024-03"},
            {"team": self.team_a1.pk},
            {"segment": self.strategic.pk},
            {"touchpoint": self.billing.pk},
            {"touchpoint": self.kickoff.pk, "since": "2024-05-01"},
            {"channel": "web"},
            {"survey": self.survey.pk},
            {"kind": "nps", "band": "detractor"},
            {"kind": "rating", "band": "low", "touchpoint": self.billing.pk},
            {"kind": "nps", "score_max": "4"},
            {"q": "note 1"},
            {"customer": self.bolt.pk},
            {"contact": self.ann.pk},
        ]
        # An executive sees every team: the plans are those of the filters, not of the scope.
        self.client.force_login(self.executive)
        self.client.get(reverse("response_list"))
        for params in filters:
            with self.subTest(params=params):
                with CaptureQueriesContext(connection) as queries:
                    page = self.client.get(reverse("response_list"), params)
                self.assertEqual(page.status_code, 200)
                self.assertEqual(list(page.context["messages"]), [])
                # Session, user, employee, teams, the filter's own look-up, the count, the
                # page, its answers, the filter bar's lists, the audit event.
                self.assertLessEqual(len(queries), 16, [q["sql"][:100] for q in queries])
                for query in queries:
                    sql = query["sql"]
                    if not sql.startswith("SELECT") or "surveys_" not in sql:
                        continue
                    if not params.keys() - {"page"} and "LIMIT" in sql:
                        # The whole list: its pages stop at their LIMIT, and its count reads at
                        # most COUNT_CAP + 1 rows, whichever way the database reads them.
                        continue
                    plan = self._plan(sql)
                    self.assertEqual(self._full_scans(plan), [], f"{sql[:500]}\n{plan}")
