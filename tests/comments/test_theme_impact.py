"""What drives detractors: each theme by how often commented responses raise it and by how their
NPS differs from the other commented responses', counted in the fact store and checked against
a hand computation of the adjusted-Wald interval (Sauro & Lewis 2016, ch. 5) and against
cxloop.analytics.nps_difference_from_counts called directly; the page for every role.

The planted data (customers of team A unless said; NPS of each response in brackets):

- 12 responses in January with a comment on the bill, about the billing touchpoint
  (0 1 2 3 4 5 6 6 7 8 9 10: 2 promoters, 8 detractors);
- 20 with "Friendly staff" (10 in January, 10 in February; 9 9 9 9 9 10 10 10 10 10 7 7 7 8 8 8
  0 1 2 3: 10 promoters, 4 detractors), no touchpoint;
- 5 in February with "rude" (0 1 2 3 9), no touchpoint;
- 1 in February with two comments, one on the bill (billing touchpoint) and one on rudeness
  [0]: it counts once for each theme;
- 4 with an NPS answer but no comment, 2 with a billing comment but no NPS: left out;
- 10 of team B's customer in January with a comment on the bill [10 each].
"""

import datetime as dt
import math
from urllib.parse import parse_qs

from django.contrib.messages import get_messages
from django.urls import NoReverseMatch, reverse
from django.utils.html import escape
from scipy import stats

from cxloop.analytics import nps_difference_from_counts
from cxloop.comments import services as comment_services
from cxloop.comments.models import CommentInsight
from cxloop.customers.models import Customer, Segment
from cxloop.facts.sync import rebuild
from cxloop.feedback.services import ingest
from cxloop.insights.store import Scope
from cxloop.insights.themes import MIN_COMMENTS, ThemeImpactQuery
from cxloop.journeys.models import Journey, Stage, Touchpoint
from cxloop.people.choices import Role
from cxloop.surveys.models import Question, Survey
from cxloop.test import BaseTestCase, OwnFactStore

BILL = "The invoice was wrong again"
FRIENDLY = "Friendly staff, thank you"
RUDE = "The manager was rude to us"


def _when(month: int, day: int) -> dt.datetime:
    return dt.datetime(2026, month, day, 10, tzinfo=dt.UTC)


def adjusted_wald_difference(a, b):
    """The NPS difference of (promoters, detractors, n) counts ``a`` and ``b`` and its 95 %
    interval, by hand: ¾ added to promoters and detractors and 3 to n; v = (p + d) − (p − d)²;
    se = √(v_a/n_a + v_b/n_b); the interval (p_a − d_a) − (p_b − d_b) ± z·se (Sauro & Lewis,
    Quantifying the User Experience, 2nd ed., ch. 5)."""

    def centre_and_variance(promoters, detractors, n):
        p, d, m = (promoters + 0.75) / (n + 3), (detractors + 0.75) / (n + 3), n + 3
        return p - d, (p + d - (p - d) ** 2) / m

    (ca, va), (cb, vb) = centre_and_variance(*a), centre_and_variance(*b)
    observed = 100 * ((a[0] - a[1]) / a[2] - (b[0] - b[1]) / b[2])
    z = stats.norm.ppf(0.975)
    se = math.sqrt(va + vb)
    return observed, 100 * (ca - cb - z * se), 100 * (ca - cb + z * se)


class ThemeImpactTestCase(OwnFactStore, BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.cx_lead = cls._user("cx_lead", cls.firm, Role.ADMIN)
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)
        journey = Journey.objects.create(name_ru="Путь", name_en="Journey")
        stage = Stage.objects.create(journey=journey, order=1, name_ru="Работа", name_en="Work")
        cls.billing_tp = Touchpoint.objects.create(
            stage=stage, order=1, code="billing", channel="invoice", name_en="Billing"
        )
        survey = Survey.objects.create(
            name_ru="Опрос", name_en="Survey", kind="relationship", languages=["ru", "en"]
        )
        for order, kind, touchpoint in (
            (1, "nps", None),
            (2, "text", cls.billing_tp),
            (3, "text", None),
        ):
            Question.objects.create(
                survey=survey,
                order=order,
                kind=kind,
                text_ru="?",
                text_en="?",
                touchpoint=touchpoint,
            )
        cls.billing = comment_services.save_theme(
            None, code="billing", name_ru="Счета", name_en="Billing", phrases_en="invoice", order=1
        )
        cls.rudeness = comment_services.save_theme(
            None,
            code="rudeness",
            name_ru="Грубость",
            name_en="Rudeness",
            phrases_en="rude",
            order=2,
        )
        cls.staff = comment_services.save_theme(
            None, code="staff", name_ru="Люди", name_en="Staff", phrases_en="friendly", order=3
        )
        cls.delivery = comment_services.save_theme(
            None, code="delivery", name_ru="Сроки", name_en="Delivery", phrases_en="late", order=4
        )
        ours = Customer.objects.create(external_id="A", name="Ours", owner=cls.teammate.employee)
        theirs = Customer.objects.create(
            external_id="B", name="Theirs", owner=cls.outsider.employee
        )
        cls.target = Segment.objects.create(name="Key clients", kind="manual", is_target=True)
        cls.target.members.set([ours])

        def answer(customer, when, answers):
            ingest(
                survey=survey,
                answers=answers,
                channel="email",
                submitted_at=when,
                customer=customer,
            )

        for i, score in enumerate((0, 1, 2, 3, 4, 5, 6, 6, 7, 8, 9, 10)):
            answer(ours, _when(1, 1 + i), {1: score, 2: BILL})
        friendly = (9, 9, 9, 9, 9, 10, 10, 10, 10, 10, 7, 7, 7, 8, 8, 8, 0, 1, 2, 3)
        for i, score in enumerate(friendly):
            answer(ours, _when(1 + i % 2, 1 + i), {1: score, 3: FRIENDLY})
        for i, score in enumerate((0, 1, 2, 3, 9)):
            answer(ours, _when(2, 1 + i), {1: score, 3: RUDE})
        answer(ours, _when(2, 20), {1: 0, 2: BILL, 3: RUDE})
        for i in range(4):
            answer(ours, _when(2, 21 + i), {1: 5})
        for i in range(2):
            answer(ours, _when(2, 25 + i), {2: BILL})
        for i in range(10):
            answer(theirs, _when(1, 1 + i), {1: 10, 2: BILL})
        comment_services.rebuild()
        rebuild()

    def query(self, **kwargs):
        return ThemeImpactQuery(**kwargs).calculate()

    def themes(self, result):
        return {t.code: t for t in result.themes}


class ThemeImpactQueryTests(ThemeImpactTestCase):
    def test_it_counts_each_theme_once_per_commented_response(self):
        result = self.query(scope=Scope(team_ids=[self.team_a.pk]))
        # 12 + 20 + 5 + 1 with an NPS and 2 comments without one; no comment: out.
        self.assertEqual((result.responses, result.rated), (40, 38))
        themes = self.themes(result)
        self.assertEqual((themes["billing"].n, themes["billing"].rated), (15, 13))
        self.assertEqual(themes["billing"].comments, 15)
        self.assertEqual(themes["rudeness"].n, 6)
        self.assertEqual(themes["staff"].n, 20)
        self.assertEqual(themes["delivery"].n, 0)  # active, never raised: shown with 0
        self.assertAlmostEqual(themes["billing"].share, 100 * 15 / 40)
        self.assertEqual(themes["delivery"].share, 0.0)

    def test_it_counts_negative_comments_as_the_database_holds_them(self):
        result = self.query(scope=Scope(team_ids=[self.team_a.pk]))
        for code in ("billing", "rudeness", "staff"):
            insights = CommentInsight.objects.filter(
                themes__code=code, response__customer__external_id="A"
            ).distinct()
            theme = self.themes(result)[code]
            self.assertEqual(theme.comments, insights.count(), code)
            self.assertEqual(theme.negative, insights.filter(sentiment="negative").count(), code)

    def test_it_gives_the_nps_difference_by_hand_and_as_the_analytics_do(self):
        result = self.query(scope=Scope(team_ids=[self.team_a.pk]))
        billing = self.themes(result)["billing"]
        # With the theme: the 12 January bills (2 promoters, 8 detractors) and the response of
        # two comments [0]. Without: the 20 friendly and 5 rude ones.
        with_theme, without = (2, 9, 13), (11, 8, 25)
        self.assertAlmostEqual(billing.nps_with.value, 100 * (2 - 9) / 13)
        self.assertAlmostEqual(billing.nps_without.value, 100 * (11 - 8) / 25)
        value, low, high = adjusted_wald_difference(with_theme, without)
        self.assertAlmostEqual(billing.difference.value, value, places=9)
        self.assertAlmostEqual(billing.difference.low, low, places=9)
        self.assertAlmostEqual(billing.difference.high, high, places=9)
        direct = nps_difference_from_counts(with_theme, without)
        self.assertEqual(billing.difference, direct)
        self.assertTrue(billing.significant)
        self.assertLess(billing.difference.high, 0)

    def test_it_gives_no_interval_under_ten_comments(self):
        self.assertEqual(MIN_COMMENTS, 10)
        themes = self.themes(self.query(scope=Scope(team_ids=[self.team_a.pk])))
        self.assertEqual(themes["rudeness"].n, 6)
        self.assertFalse(themes["rudeness"].enough)
        self.assertIsNone(themes["rudeness"].difference)
        self.assertIsNotNone(themes["rudeness"].nps_with)  # its NPS is still shown
        # Ten is enough: the same theme with the threshold at its count.
        at_six = self.themes(self.query(scope=Scope(team_ids=[self.team_a.pk]), min_n=6))
        self.assertIsNotNone(at_six["rudeness"].difference)

    def test_it_sorts_by_impact_or_by_frequency(self):
        scope = Scope(team_ids=[self.team_a.pk])
        by_impact = [t.code for t in self.query(scope=scope).themes]
        # billing −66, staff +86 (both with intervals), then rudeness (6), delivery (0).
        self.assertEqual(by_impact, ["billing", "staff", "rudeness", "delivery"])
        by_frequency = [t.code for t in self.query(scope=scope, order="frequency").themes]
        self.assertEqual(by_frequency, ["staff", "billing", "rudeness", "delivery"])

    def test_it_filters_by_the_comments_touchpoint(self):
        result = self.query(
            scope=Scope(team_ids=[self.team_a.pk]), touchpoint_id=self.billing_tp.pk
        )
        themes = self.themes(result)
        self.assertEqual(result.responses, 15)  # only the comments about billing
        self.assertEqual(themes["billing"].n, 15)
        self.assertEqual(themes["rudeness"].n, 0)  # its comment of February is about no touchpoint
        self.assertEqual(themes["staff"].n, 0)
        self.assertIsNone(themes["billing"].difference)  # nothing without it to compare with

    def test_it_keeps_to_the_scope(self):
        whole = self.query(scope=Scope())
        self.assertEqual((whole.responses, whole.rated), (50, 48))
        billing = self.themes(whole)["billing"]
        self.assertEqual((billing.n, billing.rated), (25, 23))
        self.assertEqual(billing.difference, nps_difference_from_counts((12, 9, 23), (11, 8, 25)))
        team_b = self.query(scope=Scope(team_ids=[self.team_b.pk]))
        self.assertEqual((team_b.responses, self.themes(team_b)["billing"].n), (10, 10))
        target = self.query(scope=Scope(segment_id=self.target.pk))
        self.assertEqual(target.responses, 40)
        february = self.query(scope=Scope(since=_when(2, 1).date(), team_ids=[self.team_a.pk]))
        # 10 friendly, 5 rude, 1 with two comments, 2 bills without an NPS
        self.assertEqual(february.responses, 18)

    def test_it_trends_each_themes_share_by_month(self):
        billing = self.themes(self.query(scope=Scope(team_ids=[self.team_a.pk])))["billing"]
        january, february = billing.trend
        self.assertEqual((january.period, january.mentions, january.n), ("2026-01-01", 12, 22))
        self.assertEqual((february.period, february.mentions, february.n), ("2026-02-01", 3, 18))
        self.assertAlmostEqual(january.value, 100 * 12 / 22)
        self.assertLess(january.low, january.value)
        self.assertGreater(january.high, january.value)

    def test_it_refuses_bad_parameters_by_name(self):
        for kwargs, name in (
            ({"order": "loudness"}, "order"),
            ({"touchpoint_id": "7"}, "touchpoint_id"),
            ({"min_n": 0}, "min_n"),
        ):
            with self.assertRaisesMessage(ValueError, name):
                ThemeImpactQuery(scope=Scope(), **kwargs)


class ThemeImpactPageTests(ThemeImpactTestCase):
    url = reverse("theme_impact")

    def get(self, user, **params):
        self.client.force_login(user)
        self.client.cookies["django_language"] = "en"
        return self.client.get(self.url, {"since": "2025-12-01", **params})

    def test_it_shows_each_role_what_it_may_see(self):
        # The target segment is chosen first; "all" shows every customer the role may see.
        for user, everyone, target in (
            (self.cx_lead, 50, 40),
            (self.viewer, 50, 40),
            (self.owner, 40, 40),
            (self.teammate, 40, 40),
            (self.outsider, 10, 0),
        ):
            with self.subTest(user=user.username):
                response = self.get(user)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.context["result"].responses, target)
                response = self.get(user, segment="all")
                self.assertEqual(response.context["result"].responses, everyone)

    def test_it_tables_the_themes_with_their_difference_and_link(self):
        response = self.get(self.owner)
        rows = {row["theme"].code: row for row in response.context["rows"]}
        self.assertEqual([row["theme"].code for row in response.context["rows"]][0], "billing")
        try:
            path = reverse("comment_list")
        except NoReverseMatch:
            path = "/comments/"
        href = rows["billing"]["href"]
        self.assertEqual(href.split("?")[0], path)
        # The explorer's own parameters: the theme and the page's filters.
        self.assertEqual(
            parse_qs(href.split("?")[1]),
            {
                "theme": [str(self.billing.pk)],
                "since": ["2025-12-01"],
                "segment": [str(self.target.pk)],
            },
        )
        self.assertContains(response, f'href="{escape(href)}"')
        narrowed = self.get(self.owner, touchpoint=str(self.billing_tp.pk), team=self.team_a.pk)
        query = parse_qs(narrowed.context["rows"][0]["href"].split("?")[1])
        self.assertEqual(query["touchpoint"], [str(self.billing_tp.pk)])
        self.assertEqual(query["team"], [str(self.team_a.pk)])
        self.assertContains(response, "clearly lower")  # billing's interval excludes 0
        self.assertContains(response, "not enough comments")  # rudeness: 6
        self.assertContains(response, 'id="theme-differences"')
        self.assertContains(response, 'id="theme-trend"')
        differences = response.context["differences"]["data"]["values"]
        self.assertEqual({row["name"] for row in differences}, {"Billing", "Staff"})

    def test_it_sorts_by_frequency_on_request(self):
        response = self.get(self.owner, order="frequency")
        codes = [row["theme"].code for row in response.context["rows"]]
        self.assertEqual(codes, ["staff", "billing", "rudeness", "delivery"])

    def test_it_filters_by_touchpoint(self):
        response = self.get(self.owner, touchpoint=str(self.billing_tp.pk))
        self.assertEqual(response.context["result"].responses, 15)
        self.assertEqual(response.context["result"].touchpoint_id, self.billing_tp.pk)

    def test_it_shows_the_themes_in_russian(self):
        self.client.force_login(self.owner)
        self.client.cookies["django_language"] = "ru"
        response = self.client.get(self.url)
        self.assertEqual(response.status_code, 200)
        self.assertContains(
            response, f'href="{escape(response.context["rows"][0]["href"])}">Счета</a>'
        )
        self.assertNotContains(response, ">Billing</a>")

    def test_it_refuses_bad_filters_with_a_message(self):
        for params, field in (
            ({"touchpoint": "abc"}, "Touchpoint “abc”"),
            ({"touchpoint": "999999"}, "Touchpoint"),
            ({"order": "loudness"}, "Order"),
        ):
            with self.subTest(params=params):
                response = self.get(self.owner, **params)
                self.assertEqual(response.status_code, 200)
                messages = [str(m) for m in get_messages(response.wsgi_request)]
                self.assertEqual(len(messages), 1, messages)
                self.assertTrue(messages[0].startswith(f"{field}:"), messages)
                self.assertEqual(response.context["result"].responses, 40)  # left out, not applied
        response = self.get(self.owner, since="yesterday", until="2026-13-45")
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.context["filters"].errors)
        self.assertIn("since", response.context["filters"].errors)
        self.assertContains(response, 'aria-invalid="true"')
        response = self.get(self.owner, since="2026-03-01", until="2026-01-01")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "The period ends before it starts.")

    def test_it_asks_to_log_in(self):
        self.client.logout()
        response = self.client.get(self.url)
        self.assertEqual(response.status_code, 302)
