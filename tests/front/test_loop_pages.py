"""The closed-loop dashboard: in Russian and English, scoped by role, its root causes leading
to the case list, and bad filters answered with a message naming the field (never a 500)."""

import datetime as dt
import html
import re
from unittest import mock
from urllib.parse import parse_qs

from django.urls import reverse

from cxloop.cases import services
from cxloop.cases.choices import Origin
from cxloop.cases.models import RootCause, SlaPolicy
from cxloop.front import loop_views
from tests.front.insight_data import InsightPageTestCase
from tests.test_insights_loop import DAY, NOW, LoopWorld

URL = reverse("loop_dashboard")


def linked_figures(response) -> list[tuple[str, int, str]]:
    """(what, the figure's count, its link to the case list) for every linked figure of the
    dashboard ``response``."""
    found = [
        (f"cause {c['cause'].label} of {e['touchpoint']}", c["cause"].count, c["href"])
        for e in response.context["causes"]
        for c in e["causes"]
    ]
    found += [
        (f"touchpoint {t['name']}", t["row"].figures.cases, t["href"])
        for t in response.context["touchpoints"]
        if t["href"]
    ]
    total = response.context["total"]
    return [*found, ("overdue now", total.overdue_now, response.context["overdue_href"])]


class LoopDashboardTests(LoopWorld):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        for case in cls.cases[:3]:
            services.set_touchpoints(case, [cls.billing], by=None, now=NOW - DAY)
            services.set_root_causes(case, [cls.invoice_error], by=None, now=NOW - DAY)

    def get(self, user=None, language="ru", **params):
        if user is not None:
            self.client.force_login(user)
        with (
            mock.patch.object(loop_views.timezone, "now", return_value=NOW),
            mock.patch.object(loop_views.timezone, "localdate", return_value=NOW.date()),
        ):
            return self.client.get(URL, params, HTTP_ACCEPT_LANGUAGE=language)

    def test_it_asks_a_stranger_to_sign_in(self):
        response = self.get()
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("login"), response["Location"])

    def test_it_is_in_russian_by_default(self):
        # The page's own strings are translated with the catalogue (the lead's); the shared
        # ones show the language is chosen.
        response = self.get(self.owner)
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, '<html lang="ru">')
        self.assertContains(response, "Все доступные мне команды")
        total = response.context["total"]
        self.assertEqual((total.in_time_count, total.decided), (4, 6))

    def test_it_shows_the_loops_figures_in_english(self):
        response = self.get(self.owner, language="en")
        self.assertContains(response, "<h1>Closed loop</h1>", html=True)
        self.assertContains(response, "Detractors contacted within the SLA")
        self.assertContains(response, "4 of 6; 95 % interval")
        self.assertContains(response, "working hours")
        self.assertContains(response, "few")  # six decided cases: no precision claimed

    def test_it_shows_each_role_its_own_part(self):
        for user, cases in [
            (self.viewer, len(self.cases) + 2),
            (self.owner, len(self.cases) + 1),
            (self.teammate, len(self.cases) + 1),
            (self.outsider, 1),
        ]:
            with self.subTest(user=user.username):
                response = self.get(user)
                self.assertEqual(response.status_code, 200)
                self.assertEqual(response.context["total"].cases, cases)

    def test_it_links_each_root_cause_to_its_cases(self):
        response = self.get(self.owner, language="en")
        entry = response.context["causes"][0]
        self.assertEqual(entry["item"].touchpoint_id, self.billing.pk)
        href = entry["causes"][0]["href"]
        path, query = href.split("?")
        self.assertEqual(path, reverse("case_list"))
        # Every state, on the manager's widest tab (their team's), in the dashboard's period
        # (the last 90 days by default), as the figure counts them.
        self.assertEqual(
            parse_qs(query, keep_blank_values=True),
            {
                "tab": ["team"],
                "state": [""],
                "touchpoint": [str(self.billing.pk)],
                "root_cause": [str(self.invoice_error.pk)],
                "since": ["2025-12-31"],
                "until": ["2026-03-31"],
            },
        )
        self.assertContains(response, f'href="{href.replace("&", "&amp;")}"')
        self.assertContains(response, "Invoice error")

    def test_a_root_cause_starts_an_initiative_for_those_who_may_propose_one(self):
        response = self.get(self.owner, language="en")  # a manager proposes for their part
        href = response.context["causes"][0]["causes"][0]["improve_href"]
        path, query = href.split("?")
        self.assertEqual(path, reverse("initiative_new"))
        self.assertEqual(
            parse_qs(query),
            {
                "from": ["root_cause"],
                "touchpoint": [str(self.billing.pk)],
                "root_cause": [str(self.invoice_error.pk)],
            },
        )
        self.assertContains(response, "Start an initiative")
        form = self.client.get(href, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(form.status_code, 200)
        initial = form.context["form"].initial
        self.assertEqual(initial["started_from"], "root_cause")
        self.assertEqual(list(initial["root_causes"]), [self.invoice_error])
        self.assertEqual(list(initial["touchpoints"]), [self.billing])
        for user in (self.teammate, self.viewer):
            with self.subTest(user=user.username):
                response = self.get(user, language="en")
                self.assertEqual(response.context["causes"][0]["causes"][0]["improve_href"], "")
                self.assertNotContains(response, "Start an initiative")

    def test_it_narrows_to_a_team_and_a_touchpoint(self):
        response = self.get(self.viewer, team=str(self.team_b.pk))
        self.assertEqual(response.context["total"].cases, 1)
        response = self.get(self.viewer, touchpoint=str(self.billing.pk))
        self.assertEqual(response.context["total"].cases, 3)
        self.assertIsNone(response.context["result"].detractors_without_case)

    def test_it_names_the_field_of_a_bad_date_and_shows_the_default_period(self):
        response = self.get(self.owner, language="en", since="2026-13-45")
        self.assertEqual(response.status_code, 200)
        self.assertIn("since", response.context["filters"].errors)
        self.assertContains(response, 'aria-invalid="true"')
        self.assertEqual(response.context["total"].cases, len(self.cases) + 1)

    def test_it_refuses_a_period_that_ends_before_it_starts(self):
        response = self.get(self.owner, language="en", since="2026-03-20", until="2026-03-01")
        self.assertContains(response, "The period ends before it starts.")

    def test_it_refuses_a_team_the_viewer_cannot_see(self):
        response = self.get(self.outsider, language="en", team=str(self.team_a.pk))
        self.assertIn("team", response.context["filters"].errors)
        self.assertEqual(response.context["total"].cases, 1)

    def test_it_answers_nonsense_without_a_server_error(self):
        for params in [
            {"touchpoint": "x"},
            {"team": "9" * 30},
            {"until": "\x00"},
            {"since": "1000-01-01"},
        ]:
            with self.subTest(params=params):
                self.assertEqual(self.get(self.owner, **params).status_code, 200)


class LoopLinkTests(LoopWorld):
    """Each figure's link to the case list lists exactly the cases the figure counts: the
    world's cases, three more on billing with an invoice error, a general cause on two, and one
    opened at 00:30 in Moscow on 26 March (21:30 UTC the day before)."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        for case in cls.cases[:3]:
            services.set_touchpoints(case, [cls.billing], by=None, now=NOW - DAY)
            services.set_root_causes(case, [cls.invoice_error], by=None, now=NOW - DAY)
        for case in cls.cases[2:4]:
            services.set_touchpoints(case, [cls.billing, cls.support], by=None, now=NOW - DAY)
            services.set_root_causes(case, [cls.general], by=None, now=NOW - DAY)
        services.set_touchpoints(cls.foreign, [cls.support], by=None, now=NOW - DAY)
        cls.midnight = cls._case(dt.datetime(2026, 3, 25, 21, 30, tzinfo=dt.UTC), None, 1)
        services.set_touchpoints(cls.midnight, [cls.billing], by=None, now=NOW - DAY)
        services.set_root_causes(cls.midnight, [cls.late_invoice], by=None, now=NOW - DAY)

    def now(self):
        return mock.patch.object(loop_views.timezone, "now", return_value=NOW)

    def dashboard(self, user, **params):
        self.client.force_login(user)
        with (
            self.now(),
            mock.patch.object(loop_views.timezone, "localdate", return_value=NOW.date()),
        ):
            return self.client.get(URL, params, HTTP_ACCEPT_LANGUAGE="en")

    def listed(self, href):
        """The cases the case list shows at ``href`` (every page of it)."""
        with self.now():
            page = self.client.get(href, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(page.status_code, 200)
        self.assertEqual(list(page.context["messages"]), [])  # no filter refused
        return page.context["page"].paginator.count

    def test_each_figures_link_lists_exactly_the_cases_it_counts(self):
        periods = [
            {},
            {"since": "2026-03-17", "until": "2026-03-19"},
            {"since": "2026-03-26", "until": "2026-03-26"},
            {"since": "2026-03-25", "until": "2026-03-25"},
            {"team": str(self.team_a.pk)},
            {"team": str(self.team_b.pk), "since": "2026-03-01"},
            {"touchpoint": str(self.billing.pk), "since": "2026-03-18"},
        ]
        checked = 0
        for user in (self.viewer, self.owner, self.teammate, self.outsider):
            for params in periods:
                # A team the user does not see is refused: the figures and links are then
                # the default's, and must agree all the same.
                response = self.dashboard(user, **params)
                for what, count, href in linked_figures(response):
                    with self.subTest(user=user.username, params=params, figure=what):
                        self.assertEqual(self.listed(href), count)
                        checked += 1
        self.assertGreater(checked, 60)

    def test_a_case_opened_after_midnight_in_moscow_counts_on_that_day_on_both_pages(self):
        response = self.dashboard(self.owner, since="2026-03-26", until="2026-03-26")
        (entry,) = response.context["causes"]
        (cause,) = entry["causes"]
        self.assertEqual(
            (cause["cause"].root_cause_id, cause["cause"].count), (self.late_invoice.pk, 1)
        )
        with self.now():
            page = self.client.get(cause["href"], HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual([row["case"] for row in page.context["rows"]], [self.midnight])
        response = self.dashboard(self.owner, since="2026-03-25", until="2026-03-25")
        self.assertEqual(response.context["causes"], [])

    def test_the_links_carry_the_dashboards_team_and_a_touchpoint_row_of_another_none(self):
        response = self.dashboard(
            self.viewer, team=str(self.team_a.pk), touchpoint=str(self.support.pk)
        )
        rows = {t["row"].key: t["href"] for t in response.context["touchpoints"]}
        self.assertEqual(rows[self.billing.pk], "")  # counts cases on both: no such list
        query = parse_qs(rows[self.support.pk].split("?")[1], keep_blank_values=True)
        self.assertEqual(query["team"], [str(self.team_a.pk)])
        query = parse_qs(response.context["overdue_href"].split("?")[1])
        self.assertEqual(query["team"], [str(self.team_a.pk)])
        self.assertEqual(query["touchpoint"], [str(self.support.pk)])
        self.assertNotIn("since", query)  # open now, whenever opened


class JourneyMapCasesTests(InsightPageTestCase):
    """The journey map's cards show their touchpoint's open cases and its top root cause (on
    the insight pages' data, whose answers run from January to March 2026)."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        policy = SlaPolicy.objects.create(
            name_ru="Стандарт", name_en="Standard", first_contact_hours=4, resolution_hours=16
        )
        cls.invoice_error, late = (
            RootCause.objects.create(touchpoint=cls.billing, name_ru=ru, name_en=en)
            for ru, en in [("Ошибка в счёте", "Invoice error"), ("Поздний счёт", "Late invoice")]
        )
        for day, cause in zip((2, 3, 4), [cls.invoice_error, cls.invoice_error, late], strict=True):
            opened = dt.datetime(2026, 3, day, 9, tzinfo=dt.UTC)
            case = services.open_case(
                origin=Origin.MANUAL,
                title="NPS 2",
                now=opened,
                customer=cls.ours,
                owner=cls.teammate.employee,
                sla_policy=policy,
                touchpoints=[cls.billing],
            )
            services.set_root_causes(case, [cause], by=None, now=opened)

    def card(self, response, touchpoint):
        return next(
            entry
            for column in response.context["columns"]
            for entry in column["cards"]
            if entry["touchpoint"] == touchpoint
        )

    def test_it_shows_a_cards_open_cases_and_top_root_cause(self):
        response = self.get(reverse("journey_map"), as_user=self.owner)
        billing = self.card(response, self.billing)["cases"]
        self.assertEqual((billing.open_now, billing.overdue_now), (3, 3))
        self.assertEqual(billing.top_cause.root_cause_id, self.invoice_error.pk)
        self.assertEqual(billing.top_cause.count, 2)
        self.assertContains(response, "3 open cases")
        self.assertContains(
            response,
            f'href="{reverse("case_list")}?tab=team&amp;state=&amp;touchpoint={self.billing.pk}'
            f'&amp;root_cause={self.invoice_error.pk}&amp;since=2025-12-01">Invoice error</a>',
        )
        self.assertIsNone(self.card(response, self.kickoff)["cases"])

    def test_its_cards_count_only_the_cases_the_viewer_sees(self):
        response = self.get(reverse("journey_map"), as_user=self.outsider)
        self.assertIsNone(self.card(response, self.billing)["cases"])
        self.assertNotContains(response, "open case")

    def test_the_cards_links_list_exactly_what_the_cards_count(self):
        periods = [{}, {"since": "2026-03-03"}, {"until": "2026-03-02"}, {"team": self.team_b.pk}]
        for params in periods:
            response = self.get(reverse("journey_map"), as_user=self.owner, **params)
            billing = self.card(response, self.billing)["cases"]
            links = {
                ("open" if "state=open" in href else "cause"): html.unescape(href)
                for href in re.findall(
                    rf'href="({reverse("case_list")}\?[^"]*touchpoint={self.billing.pk}[^"]*)"',
                    response.content.decode(),
                )
            }
            counts = {"open": billing.open_now if billing else 0}
            counts["cause"] = billing.top_cause.count if billing and billing.top_cause else 0
            for what, href in links.items():
                with self.subTest(params=params, link=what):
                    page = self.client.get(href, HTTP_ACCEPT_LANGUAGE="en")
                    self.assertEqual(page.context["page"].paginator.count, counts[what])
            if params.get("since") or params.get("until"):
                self.assertIn("since=", links.get("cause", "since="))
