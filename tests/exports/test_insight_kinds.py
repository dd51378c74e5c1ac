"""The insight dashboards' exports — the overview, the customer portfolio, the executive
dashboard, a touchpoint's page and what drives detractors — hold what their pages show for the
viewer's scope and the page's filters, carry the page's charts, and refuse a filter the page
would leave out.

The world is the analytical pages' (tests/front/insight_data.py): the target segment's customer
"Ours" (team A, annual value 1 000) gave 40 answers from 5 January 2026, every other day; the
customer "Theirs" (team B, 500) ten, all rated 2 with NPS 3. The themes' world is
tests/comments/test_theme_impact.py's."""

import csv
import datetime as dt
import io

import openpyxl
import pyarrow.parquet as pq
from django.urls import reverse
from django.utils.html import escape

from cxloop.exports.catalog import KINDS
from cxloop.exports.tables import RefusedFilters, filter_request
from cxloop.facts.sync import rebuild
from cxloop.feedback.services import ingest
from cxloop.insights import charts
from cxloop.people.models import Role
from cxloop.surveys.models import Survey
from tests.comments.test_theme_impact import ThemeImpactTestCase
from tests.exports.charts import assert_page_charts
from tests.front.insight_data import InsightPageTestCase

PERIOD = "since=2025-12-01&until=2026-03-31"
Q1 = "since=2026-01-01&until=2026-03-31"
BOUNDS = (
    "Lower bound of the 95-percent interval",
    "Upper bound of the 95-percent interval",
)


class ExportClient:
    """Posting the export form and reading the file back, in English."""

    def export(self, kind, query, user, fmt="csv", status=200):
        self.client.force_login(user)
        response = self.client.post(
            reverse("export_start"),
            {"kind": kind, "format": fmt, "query": query},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        if response.status_code != status:
            self.fail(f"{kind}?{query}: {response.status_code}, {response.content[:2000]!r}")
        return response

    def content(self, kind, query, user, fmt="csv") -> bytes:
        return b"".join(self.export(kind, query, user, fmt).streaming_content)

    def rows(self, kind, query, user, fmt="csv") -> list[dict]:
        """The export's rows as dictionaries by header: from CSV, CSV for Excel (its byte-order
        mark checked), XLSX or Parquet."""
        content = self.content(kind, query, user, fmt)
        if fmt == "xlsx":
            sheet = openpyxl.load_workbook(io.BytesIO(content)).active
            table = [list(row) for row in sheet.iter_rows(values_only=True)]
        elif fmt == "parquet":
            return pq.read_table(io.BytesIO(content)).to_pylist()
        else:
            if fmt == "csv-excel":
                self.assertTrue(content.startswith(b"\xef\xbb\xbf"))
            table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
        return [dict(zip(table[0], row, strict=True)) for row in table[1:]]

    def refused(self, kind, query, user, *words):
        response = self.export(kind, query, user, status=400)
        self.assertContains(response, "Nothing was exported", status_code=400)
        for word in words:
            self.assertContains(response, word, status_code=400)

    def page_status(self, name, query, user) -> int:
        self.client.force_login(user)
        return self.client.get(f"{reverse(name)}?{query}").status_code

    def page(self, name, query, user, args=()):
        self.client.force_login(user)
        self.client.cookies["django_language"] = "en"
        response = self.client.get(f"{reverse(name, args=args)}?{query}")
        self.assertEqual(response.status_code, 200)
        return response

    def has_control(self, response, kind, query):
        self.assertContains(response, f'name="kind" value="{kind}"')
        self.assertContains(response, f'name="query" value="{escape(query)}"')

    def table(self, kind, query, user):
        return KINDS[kind].table(filter_request(user, query))


def _number(text):
    return None if text in ("", None) else float(text)


class InsightExportTests(ExportClient, InsightPageTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.ceo = cls._user("ceo", cls.firm, Role.EXECUTIVE)
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)

    # --- overview ---

    def test_the_overview_exports_its_tiles_with_their_change_for_each_scope(self):
        for user, query in (
            (self.ceo, PERIOD),
            (self.outsider, PERIOD),
            (self.ceo, f"{PERIOD}&segment={self.target.pk}"),
        ):
            with self.subTest(user=user.username, query=query):
                kpis = self.page("overview", query, user).context["kpis"]
                rows = self.rows("overview", query, user)
                self.assertEqual(
                    [row["Metric"] for row in rows],
                    ["NPS", "CSAT, per cent satisfied", "Customer effort (1–7, 7 = very easy)"],
                )
                for row, kpi in zip(rows, kpis, strict=True):
                    summary, group = kpi["summary"], kpi["change"]
                    self.assertEqual(int(row["Answers"]), summary.n)
                    estimate = summary.estimate
                    self.assertEqual(_number(row["Value"]), estimate and estimate.value)
                    last = row["Last complete period"], row["The period before"]
                    if group is None:  # no answers of this metric: nothing compared
                        self.assertEqual(last, ("", ""))
                        continue
                    # The last complete month of the period (March) against February.
                    self.assertEqual(last, ("March 2026", "February 2026"))
                    self.assertEqual(last, kpi["compared"][::-1])
                    self.assertEqual(
                        _number(row["Value in the last complete period"]),
                        group.estimate and group.estimate.value,
                    )
                    difference = _number(row["Change from the previous period"])
                    self.assertEqual(difference, group.difference and group.difference.value)
        nps = self.rows("overview", PERIOD, self.ceo)[0]
        self.assertEqual((nps["Answers"], nps["Value"]), ("50", "-52.0"))  # (8 − 34) / 50
        # The outsider's customer alone: ten answers of 3.
        nps = self.rows("overview", PERIOD, self.outsider)[0]
        self.assertEqual((nps["Answers"], nps["Value"]), ("10", "-100.0"))

    def test_the_overview_carries_its_trend_charts_and_refuses_a_bad_period(self):
        kpis = self.page("overview", PERIOD, self.ceo).context["kpis"]
        table = self.table("overview", PERIOD, self.ceo)
        assert_page_charts(self, table.charts(), [kpi["chart"] for kpi in kpis])
        self.assertTrue(KINDS["overview"].dashboard)
        self.refused("overview", "since=someday", self.ceo, "From date")

    def test_the_overview_shows_the_export_control(self):
        self.has_control(self.page("overview", PERIOD, self.ceo), "overview", PERIOD)

    # --- portfolio ---

    def test_the_portfolio_exports_every_customer_the_viewer_sees(self):
        for user, names in ((self.ceo, ["Ours", "Theirs"]), (self.outsider, ["Theirs"])):
            with self.subTest(user=user.username):
                result = self.page("portfolio", PERIOD, user).context["result"]
                rows = self.rows("portfolio", PERIOD, user, "xlsx")
                self.assertEqual([row["Customer"] for row in rows], names)
                for row, customer in zip(rows, result.customers, strict=True):
                    self.assertEqual(row["Customer id"], customer.customer_id)
                    self.assertEqual(row["Annual value"], customer.annual_value)
                    self.assertEqual(row["Status"], str(charts.status_label(customer.status)))
                    self.assertEqual(row["Latest NPS answer"], customer.score)
        ours, theirs = self.rows("portfolio", PERIOD, self.ceo, "xlsx")
        self.assertEqual((ours["Annual value"], theirs["Annual value"]), (1000, 500))
        target = "In the target segment"
        self.assertEqual((ours[target], theirs[target]), ("yes", "no"))
        self.assertEqual(ours["Answered on"].date().isoformat(), "2026-03-24")
        # The page's segment narrows the portfolio to the target segment's customer.
        target = self.rows("portfolio", f"{PERIOD}&segment={self.target.pk}", self.ceo)
        self.assertEqual([row["Customer"] for row in target], ["Ours"])

    def test_the_portfolio_carries_its_chart_refuses_a_bad_team_and_shows_the_control(self):
        response = self.page("portfolio", PERIOD, self.ceo)
        table = self.table("portfolio", PERIOD, self.ceo)
        assert_page_charts(self, table.charts(), [response.context["chart"]])
        self.has_control(response, "portfolio", PERIOD)
        self.refused("portfolio", "team=999999", self.ceo, "Team")

    # --- executive dashboard ---

    def figures(self, query, user):
        return {
            (row["Table"], row["Row"], row["Figure"]): row
            for row in self.rows("executive_dashboard", query, user, "csv-excel")
        }

    def test_the_executive_dashboard_exports_its_figures_for_its_period(self):
        for user in (self.ceo, self.viewer):
            with self.subTest(user=user.username):
                context = self.page("executive_dashboard", Q1, user).context
                x = context["executive"]
                figures = self.figures(Q1, user)
                nps = "Customers’ NPS: the target segment and the rest"
                target = figures[(nps, "Key clients", "NPS")]
                self.assertEqual(_number(target["Value"]), x.nps.target.value)
                self.assertEqual(_number(target["Value"]), -40)
                self.assertEqual(target["Based on"], "40")
                rest = figures[(nps, "Other customers", "NPS")]
                self.assertEqual((_number(rest["Value"]), rest["Based on"]), (-100, "10"))
                # Ten answers of the rest are too few to test the difference: the page gives
                # none, nor does the export.
                self.assertIsNone(x.nps.difference)
                self.assertNotIn((nps, "Difference", "NPS"), figures)
                risk = "Revenue held by detractors and silent customers"
                held = figures[(risk, "Other customers", "Detractors")]
                self.assertEqual((_number(held["Value"]), held["Unit"]), (500, "RUB"))
                enps = figures[("People", "eNPS", "eNPS")]
                self.assertEqual(enps["Based on"], str(x.enps.n))
                cases = figures[("The closed loop", "Cases opened", "")]
                self.assertEqual(int(cases["Value"]), context["total"].cases)
        # A quarter before any answer: no NPS for the target segment.
        figures = self.figures("since=2025-10-01&until=2025-12-31", self.ceo)
        target = figures[("Customers’ NPS: the target segment and the rest", "Key clients", "NPS")]
        self.assertEqual((target["Value"], target["Based on"]), ("", "0"))

    def test_the_executive_dashboard_refuses_a_bad_period_and_the_roles_it_does_not_show(self):
        self.refused("executive_dashboard", "since=2026-13-01&until=x", self.ceo, "From")
        for user in (self.owner, self.teammate):
            with self.subTest(user=user.username):
                # As the page: 403, nothing written.
                self.assertEqual(self.page_status("executive_dashboard", Q1, user), 403)
                self.export("executive_dashboard", Q1, user, status=403)
        table = self.table("executive_dashboard", Q1, self.ceo)
        context = self.page("executive_dashboard", Q1, self.ceo).context
        assert_page_charts(self, table.charts(), [context["nps_chart"], context["chart"]])

    def test_the_executive_dashboard_shows_the_export_control(self):
        response = self.page("executive_dashboard", Q1, self.ceo)
        self.has_control(response, "executive_dashboard", Q1)
        self.assertEqual(KINDS["executive_dashboard"].label, "Executive dashboard")

    # --- a touchpoint ---

    def touchpoint_query(self, touchpoint, extra=""):
        return f"{PERIOD}{extra}&touchpoint={touchpoint.pk}"

    def test_a_touchpoint_exports_its_mean_rating_by_period_for_each_scope(self):
        query = self.touchpoint_query(self.kickoff)
        for user, ratings in ((self.ceo, 50), (self.outsider, 10)):
            with self.subTest(user=user.username):
                response = self.page("touchpoint_detail", PERIOD, user, args=[self.kickoff.pk])
                points = response.context["result"].mean_by_period
                rows = self.rows("touchpoint", query, user, "parquet")
                self.assertEqual(len(rows), len(points))
                self.assertEqual(sum(row["Ratings"] for row in rows), ratings)
                for row, point in zip(rows, points, strict=True):
                    self.assertEqual(row["First day"].isoformat(), point.period[:10])
                    self.assertEqual(row["Ratings"], point.n)
                    self.assertEqual(row["Mean rating (1–5)"], point.value)
                    self.assertEqual(row["Lower bound of the 95-percent interval"], point.low)
        self.assertEqual(
            [row["Period"] for row in self.rows("touchpoint", query, self.ceo)],
            ["January 2026", "February 2026", "March 2026"],
        )
        # The outsider's customer rated the kick-off 2, ten times in January.
        january = self.rows("touchpoint", query, self.outsider)[0]
        self.assertEqual((january["Ratings"], january["Mean rating (1–5)"]), ("10", "2.0"))
        in_target = self.touchpoint_query(self.kickoff, f"&segment={self.target.pk}")
        target = self.rows("touchpoint", in_target, self.ceo)
        self.assertEqual(sum(int(row["Ratings"]) for row in target), 40)

    def test_a_touchpoint_export_names_the_touchpoint_it_cannot_find(self):
        self.refused("touchpoint", f"{PERIOD}&touchpoint=999999", self.ceo, "Touchpoint", "999999")
        self.refused("touchpoint", f"{PERIOD}&touchpoint=billing", self.ceo, "billing")
        self.refused("touchpoint", PERIOD, self.ceo, "Touchpoint")
        bad = self.touchpoint_query(self.kickoff, "&team=nowhere")
        self.refused("touchpoint", bad, self.ceo, "Team")

    def test_a_touchpoints_page_exports_itself_with_its_charts(self):
        response = self.page("touchpoint_detail", PERIOD, self.ceo, args=[self.kickoff.pk])
        self.has_control(response, "touchpoint", self.touchpoint_query(self.kickoff))
        drawn = self.table("touchpoint", self.touchpoint_query(self.kickoff), self.ceo).charts()
        context = response.context
        expected = [context["trend"], context["control"], context["distribution"]]
        assert_page_charts(self, drawn, [spec for spec in expected if spec is not None])
        url = KINDS["touchpoint"].url(self.touchpoint_query(self.billing))
        self.assertTrue(url.startswith(reverse("touchpoint_detail", args=[self.billing.pk])))


class ExecutiveDifferenceExportTests(ExportClient, InsightPageTestCase):
    """Thirty answers of the other customers: the target segment's difference is tested."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.ceo = cls._user("ceo", cls.firm, Role.EXECUTIVE)
        survey = Survey.objects.get()
        for day in range(1, 21):
            ingest(
                survey=survey,
                answers={1: 3, 2: 2, 3: 2},  # NPS 3: a detractor
                channel="visit",
                submitted_at=dt.datetime(2026, 2, day, 10, tzinfo=dt.UTC),
                customer=cls.theirs,
            )
        rebuild()

    def test_it_exports_the_difference_and_whether_it_is_beyond_chance(self):
        x = self.page("executive_dashboard", Q1, self.ceo).context["executive"]
        table = "Customers’ NPS: the target segment and the rest"
        (difference,) = (
            row
            for row in self.rows("executive_dashboard", Q1, self.ceo)
            if (row["Table"], row["Row"]) == (table, "Difference")
        )
        exported = [_number(difference[name]) for name in ("Value", *BOUNDS, "Based on")]
        shown = x.nps.difference
        self.assertEqual(exported, [shown.value, shown.low, shown.high, shown.n])
        self.assertEqual(_number(difference["Value"]), 60)  # −40 against −100
        self.assertEqual(difference["Significant"], "yes")
        self.assertTrue(x.nps.significant)


class ThemeImpactExportTests(ExportClient, ThemeImpactTestCase):
    def test_it_exports_each_theme_as_the_page_shows_it_for_each_scope(self):
        for user in (self.cx_lead, self.teammate, self.outsider):
            with self.subTest(user=user.username):
                rows = self.page("theme_impact", "segment=all", user).context["rows"]
                exported = self.rows("theme_impact", "segment=all", user)
                self.assertEqual([row["Theme"] for row in exported], [r["name"] for r in rows])
                for row, shown in zip(exported, rows, strict=True):
                    theme = shown["theme"]
                    self.assertEqual(int(row["Comments"]), theme.n)
                    share = _number(row["Share of commented"])
                    self.assertAlmostEqual(
                        share, theme.share / 100 if theme.share is not None else None
                    )
                    self.assertEqual(
                        _number(row["Difference"]), theme.difference and theme.difference.value
                    )
        # The teammate's customer: billing raised by 15 commented responses, 13 with an NPS.
        exported = self.rows("theme_impact", "segment=all", self.teammate)
        (billing,) = (row for row in exported if row["Code"] == "billing")
        self.assertEqual((billing["Comments"], billing["Significant"]), ("15", "yes"))

    def test_it_follows_the_touchpoint_and_order_and_refuses_what_the_page_leaves_out(self):
        query = f"segment=all&touchpoint={self.billing_tp.pk}&order=frequency"
        rows = self.page("theme_impact", query, self.cx_lead).context["rows"]
        exported = self.rows("theme_impact", query, self.cx_lead)
        self.assertEqual([row["Theme"] for row in exported], [r["name"] for r in rows])
        self.assertEqual(exported[0]["Code"], "billing")
        self.refused("theme_impact", "order=loudest", self.cx_lead, "Order")
        self.refused("theme_impact", "touchpoint=999999", self.cx_lead, "Touchpoint")
        self.refused("theme_impact", "since=someday", self.cx_lead, "From date")
        with self.assertRaises(RefusedFilters):
            self.table("theme_impact", "order=loudest", self.cx_lead)

    def test_it_carries_the_pages_charts_and_the_page_shows_the_control(self):
        response = self.page("theme_impact", "segment=all", self.cx_lead)
        self.has_control(response, "theme_impact", "segment=all")
        drawn = self.table("theme_impact", "segment=all", self.cx_lead).charts()
        assert_page_charts(
            self, drawn, [response.context["differences"], response.context["trend"]]
        )
