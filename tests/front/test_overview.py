import datetime as dt
from types import SimpleNamespace
from unittest import mock
from urllib.parse import parse_qs

from django.urls import reverse

from cxloop.front import insight_views
from cxloop.insights.journey import JourneyMapQuery
from cxloop.insights.store import Scope
from tests.front.insight_data import InsightPageTestCase

# The test data runs from 5 January to 25 March 2026 (see tests/front/insight_data.py).
TODAY = dt.date(2026, 4, 10)


def query_of(href: str) -> dict:
    path, query = href.split("?")
    assert path == reverse("response_list")
    return {key: values[0] for key, values in parse_qs(query).items()}


class OverviewTests(InsightPageTestCase):
    url = reverse("overview")

    def test_it_shows_nps_with_its_interval_for_the_teams_one_sees(self):
        response = self.get(self.url, as_user=self.owner)
        self.assertEqual(response.status_code, 200)
        result = response.context["result"]
        self.assertEqual((result.responses, result.nps.n), (40, 40))
        # NPS answers 2, 4, 6, 8, 10 in turn: one in five a promoter, three in five detractors.
        self.assertAlmostEqual(result.nps.estimate.value, 20 - 60)
        # The interval and n are in the figure's tooltip.
        low, high = result.nps.estimate.low, result.nps.estimate.high
        self.assertContains(response, f'title="95% interval {low:.1f} to {high:.1f}, 40 answers"')

    def test_it_counts_only_an_outsiders_own_customers(self):
        response = self.get(self.url, as_user=self.outsider)
        self.assertEqual(response.context["result"].responses, 10)

    def test_it_links_each_figure_to_the_responses_behind_it(self):
        response = self.get(self.url, as_user=self.owner, team=str(self.owner.employee.team_id))
        hrefs = {kpi["key"]: query_of(kpi["href"]) for kpi in response.context["kpis"]}
        self.assertEqual(
            hrefs["nps"],
            {"since": "2025-12-01", "team": str(self.owner.employee.team_id), "kind": "nps"},
        )
        self.assertEqual(hrefs["ces"]["kind"], "ces")
        channels = {c["label"]: query_of(c["href"]) for c in response.context["channels"]}
        self.assertEqual(channels["e-mail"]["channel"], "email")

    def test_it_says_effort_is_better_high(self):
        response = self.get(self.url, as_user=self.owner)
        self.assertContains(response, "7 = very easy")
        self.assertContains(response, "higher is better")

    def test_it_says_when_two_months_have_too_few_answers_to_compare(self):
        # 14 NPS answers in January and 14 in February, under the minimum of 30 each: no test,
        # no arrow, and no quarter before the first to fall back on.
        with mock.patch.object(insight_views.timezone, "localdate", return_value=TODAY):
            response = self.get(self.url, as_user=self.owner, until="2026-02-28")
        kpis = {kpi["key"]: kpi for kpi in response.context["kpis"]}
        self.assertEqual(kpis["nps"]["change"].untested, "too_few")
        self.assertIsNone(kpis["nps"]["direction"])
        self.assertContains(
            response, "NPS: too few answers in January 2026 or February 2026 to compare."
        )

    def run_with_change(self, *, significant: bool, difference: float):
        group = mock.Mock(
            significant=significant, difference=mock.Mock(value=difference), key="2026-02-01"
        )
        group.reference.value, group.estimate.value = 10.0, 10.0 + difference
        result = mock.Mock(groups=(group,))
        with (
            mock.patch.object(insight_views.timezone, "localdate", return_value=TODAY),
            mock.patch.object(insight_views.ComparisonQuery, "run", return_value=result),
        ):
            response = self.get(self.url, as_user=self.owner, until="2026-02-28")
        return response, {kpi["key"]: kpi for kpi in response.context["kpis"]}

    def test_it_marks_a_significant_drop_with_a_down_arrow(self):
        response, kpis = self.run_with_change(significant=True, difference=-12.0)
        self.assertEqual(kpis["nps"]["direction"], "down")
        self.assertContains(response, "NPS fell from 10 in January 2026 to -2 in February 2026.")
        self.assertContains(response, "cx-badge-down")

    def test_it_draws_no_arrow_for_a_change_chance_could_explain(self):
        response, kpis = self.run_with_change(significant=False, difference=8.0)
        self.assertEqual([kpi["direction"] for kpi in kpis.values()], [None, None, None])
        self.assertContains(response, "NPS: 18 in February 2026 against 10 in January 2026")
        self.assertNotContains(response, "cx-badge-up")

    def test_it_compares_whole_months_only(self):
        scope = Scope(since=dt.date(2025, 12, 4))
        # The current month is never complete; the month before it is the last one.
        self.assertEqual(
            insight_views._last_periods(scope, dt.date(2026, 12, 4), "month"),
            (dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
        )
        self.assertEqual(
            insight_views._last_periods(scope, dt.date(2026, 12, 4), "quarter"),
            (dt.date(2026, 4, 1), dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
        )
        # A period that cuts the month before short leaves nothing to compare.
        short = Scope(since=dt.date(2026, 10, 4))
        self.assertIsNone(insight_views._last_periods(short, dt.date(2026, 12, 4), "month"))

    def test_it_speaks_russian(self):
        response = self.get(self.url, as_user=self.owner, language="ru")
        self.assertContains(response, "Доля ответивших")
        self.assertContains(response, '<html lang="ru"')

    def test_it_names_a_bad_date_next_to_its_field_and_shows_the_default_period(self):
        response = self.get(self.url, as_user=self.owner, since="2026-13-01")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'aria-invalid="true"')
        self.assertContains(response, 'aria-describedby="id_since-error"')
        self.assertContains(response, '<div class="invalid-feedback" id="id_since-error">')

    def test_it_labels_the_dates_so_that_they_cannot_be_read_as_a_person(self):
        response = self.get(self.url, as_user=self.owner)
        self.assertContains(response, '<label class="form-label" for="id_since">From date</label>')
        self.assertContains(response, '<label class="form-label" for="id_until">To date</label>')

    def test_it_names_the_touchpoints_that_changed_with_a_link_to_each(self):
        change = SimpleNamespace(
            touchpoint_id=self.billing.pk,
            source="signal",
            direction="down",
            message="signal_down",
            before=66.0,
            after=28.0,
            since="2026-02",
        )
        journey = SimpleNamespace(changes=(change,))
        with mock.patch.object(JourneyMapQuery, "run", return_value=journey):
            response = self.get(self.url, as_user=self.owner)
        self.assertContains(response, "Roll-back")
        self.assertContains(response, "the share of ratings 4–5 fell from 66 % to 28 %")
        self.assertContains(response, "since February 2026")
        self.assertContains(response, reverse("touchpoint_detail", args=[self.billing.pk]) + "?")

    def test_it_links_a_month_point_to_its_month_and_a_wave_to_its_dates(self):
        month = SimpleNamespace(period="2026-07-01", end="2026-07-31")
        wave = SimpleNamespace(period="2026-07-01", end="2026-09-30")
        self.assertEqual(insight_views._point_params(month), {"period": "2026-07"})
        self.assertEqual(
            insight_views._point_params(wave), {"since": "2026-07-01", "until": "2026-09-30"}
        )

    def test_it_links_each_point_of_a_trend_to_its_month_and_marks_thin_months_hollow(self):
        response = self.get(self.url, as_user=self.owner)
        (nps,) = [kpi for kpi in response.context["kpis"] if kpi["key"] == "nps"]
        points = {row["period"][:10]: row for row in nps["chart"]["data"]["values"]}
        january = points["2026-01-01"]
        self.assertEqual(query_of(january["href"])["period"], "2026-01")
        self.assertEqual(query_of(january["href"])["kind"], "nps")
        # 14 answers in January, under the minimum of 30: drawn hollow.
        self.assertTrue(january["low_n"])
