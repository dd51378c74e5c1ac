"""Any dashboard can be scheduled (issue #16, part 3): every dashboard of the export catalog
renders for the CX lead as PDF, with the charts its kind gives, and as XLSX; a chart that fails
to draw leaves a note and the table; a schedule whose dashboard is gone fails its deliveries
with a message that says so; the schedule form offers every dashboard and is prefilled from the
"E-mail this on a schedule" link, which only the CX lead sees."""

import tempfile
from unittest import mock
from urllib.parse import urlencode

import openpyxl
import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from cxloop.exports import schedules
from cxloop.exports.catalog import KINDS
from cxloop.exports.models import DeliveryState, ReportDelivery, ReportSchedule
from cxloop.exports.tables import filter_request
from cxloop.people.models import Employee, Role
from tests.exports.charts import assert_page_charts
from tests.exports.test_schedules import JOURNEY_QUERY, NOW, pdf_text, vector_forms
from tests.front.insight_data import InsightPageTestCase
from tests.front.test_cycle_review import HAS_PDF
from tests.front.test_pulse import make_pulse

FIRST_DASHBOARDS = ("journey", "comparison", "scorecard")
needs_pdf = pytest.mark.skipif(not HAS_PDF, reason="WeasyPrint cannot load Pango")


class ScheduledDashboardTestCase(InsightPageTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)
        Employee.objects.filter(user=cls.lead).update(language="en")
        cls.lead.employee.refresh_from_db()
        cls.pulse = make_pulse()

    def setUp(self):
        self.data_dir = tempfile.TemporaryDirectory()
        self.enterContext(override_settings(DATA_DIR=self.data_dir.name))
        self.addCleanup(self.data_dir.cleanup)

    def query_of(self, name: str) -> str:
        """A query string the dashboard ``name`` shows something for: the pages of one thing
        name it. A dashboard of one thing added to the catalog later needs its line here."""
        named = {
            "scorecard": f"person={self.teammate.employee.pk}",
            "touchpoint": f"touchpoint={self.kickoff.pk}",
            "pulse_results": f"survey={self.pulse.pk}",
        }
        return named.get(name, "")

    def schedule(self, report: str, fmt: str = "pdf", query: str | None = None):
        query = self.query_of(report) if query is None else query
        return ReportSchedule.objects.create(
            name=f"Every {report}", report=report, format=fmt, query=query, created_at=NOW
        )

    def render(self, report: str, fmt: str = "pdf"):
        return schedules.render_for(self.schedule(report, fmt), self.lead.employee, NOW)

    def table(self, name: str):
        """The dashboard's table as the lead's page shows it, in the lead's language."""
        with translation.override("en"):
            return KINDS[name].table(filter_request(self.lead, self.query_of(name)))


class EveryDashboardTests(ScheduledDashboardTestCase):
    def test_the_choices_are_every_dashboard_and_the_three_reports(self):
        offered = {name for _group, choices in schedules.report_choices() for name, _l in choices}
        dashboards = {name for name, kind in KINDS.items() if kind.dashboard}
        self.assertEqual(offered, dashboards | {"cycle_review", "executive", "weekly_digest"})
        self.assertLessEqual(set(FIRST_DASHBOARDS), offered)
        self.assertNotIn("responses", offered)  # a list, not a dashboard

    @needs_pdf
    def test_every_dashboard_prints_with_its_charts(self):
        import pypdf

        for name in schedules.dashboards():
            with self.subTest(kind=name):
                rendered = self.render(name)
                self.assertEqual(rendered.attachment_name, f"{name}-2026-04-06.pdf")
                reader = pypdf.PdfReader(rendered.path)
                text = pdf_text(reader)
                with translation.override("en"):
                    self.assertIn(str(KINDS[name].label), text)
                self.assertNotIn("could not be drawn", text)
                charts = self.table(name).charts()
                self.assertGreaterEqual(len(vector_forms(reader)), len(charts))
                # Each captioned on paper: its own title, or the page's heading for it.
                self.assertTrue(all(chart.get("title") for chart in charts), name)

    def test_every_dashboard_writes_its_table_as_xlsx(self):
        for name in schedules.dashboards():
            with self.subTest(kind=name):
                rendered = self.render(name, "xlsx")
                sheet = openpyxl.load_workbook(rendered.path, read_only=True).active
                rows = list(sheet.iter_rows(values_only=True))
                table = self.table(name)
                self.assertEqual(list(rows[0]), [column.header for column in table.columns])
                self.assertEqual(len(rows) - 1, sum(len(batch) for batch in table.batches()))

    def test_the_three_first_dashboards_give_their_pages_charts(self):
        shown = {
            "journey": ("journey_map", {}, ("grid", "curve")),
            "comparison": ("compare", {}, ("chart",)),
            "scorecard": (
                "person_scorecard",
                {"args": [self.teammate.employee.pk]},
                ("chart",),
            ),
        }
        self.client.force_login(self.lead)
        self.client.cookies["django_language"] = "en"
        for name, (page, kwargs, keys) in shown.items():
            with self.subTest(kind=name):
                query = self.query_of(name)
                context = self.client.get(f"{reverse(page, **kwargs)}?{query}").context
                charts = self.table(name).charts()
                assert_page_charts(self, charts, [context[key] for key in keys])


@needs_pdf
class ChartFailureTests(ScheduledDashboardTestCase):
    def test_a_chart_that_cannot_be_drawn_leaves_a_note_and_the_table(self):
        import pypdf

        with mock.patch.object(schedules, "chart_svg", side_effect=ValueError("no Vega today")):
            rendered = self.render("journey")
        reader = pypdf.PdfReader(rendered.path)
        text = pdf_text(reader)
        self.assertIn("2 charts could not be drawn; the table has their figures.", text)
        self.assertIn("Work · Kick-off meeting", text)
        self.assertEqual(vector_forms(reader), [])

    def test_a_long_table_is_printed_cut_with_a_note_that_the_xlsx_has_every_row(self):
        import pypdf

        with mock.patch.object(schedules, "PRINTED_ROWS", 1):
            rendered = self.render("journey")
        text = pdf_text(pypdf.PdfReader(rendered.path))
        self.assertIn("The first 1 of 2 rows", text)
        self.assertIn("Work · Kick-off meeting", text)
        self.assertNotIn("Work · Billing", text)

    def test_charts_whose_figures_fail_leave_a_note_and_the_table(self):
        import pypdf

        failing = mock.patch(
            "cxloop.front.journey_views.emotion_curve_chart", side_effect=RuntimeError("gone")
        )
        with failing:
            rendered = self.render("journey")
        text = pdf_text(pypdf.PdfReader(rendered.path))
        self.assertIn("The charts could not be drawn; the table has their figures.", text)
        self.assertIn("Work · Billing", text)


class GoneDashboardTests(ScheduledDashboardTestCase):
    def test_a_schedule_whose_dashboard_is_gone_fails_its_deliveries_saying_so(self):
        gone = self.schedule("retired_dashboard", query="")
        gone.recipients.set([self.lead.employee, self.owner.employee])
        ReportSchedule.objects.filter(pk=gone.pk).update(next_run_at=NOW)
        self.assertEqual(schedules.send_due(NOW), 0)
        deliveries = ReportDelivery.objects.filter(schedule=gone)
        self.assertEqual(len(deliveries), 2)
        for delivery in deliveries:
            with self.subTest(recipient=delivery.recipient.user.username):
                self.assertEqual(delivery.state, DeliveryState.FAILED)
                self.assertEqual(delivery.file_name, "")
                self.assertIn("retired_dashboard", delivery.error)  # quoted as each language does
                self.assertNotIn("KeyError", delivery.error)
        english = deliveries.get(recipient=self.lead.employee).error
        self.assertIn("no longer exists", english)
        # The schedule's pages still open and say what is wrong with it.
        self.client.force_login(self.lead)
        self.client.cookies["django_language"] = "en"
        listed = self.client.get(reverse("report_schedule_list"))
        self.assertContains(listed, "retired_dashboard (no longer exists)")
        edited = self.client.get(reverse("report_schedule_edit", args=[gone.pk]))
        self.assertContains(edited, "retired_dashboard (no longer exists)")
        self.assertEqual(edited.context["form"]["report"].value(), "retired_dashboard")
        # Saved unchanged, it is refused by name and still shown as gone, not swapped.
        posted = self.client.post(
            reverse("report_schedule_edit", args=[gone.pk]),
            {
                "name": gone.name,
                "report": "retired_dashboard",
                "format": "pdf",
                "query": "",
                "frequency": "weekly",
                "weekday": "0",
                "day_of_month": "1",
                "hour": "8",
                "recipients": [self.lead.employee.pk],
            },
        )
        self.assertEqual(posted.status_code, 200)
        self.assertIn("report", posted.context["form"].errors)
        self.assertContains(posted, "This dashboard no longer exists")
        self.assertContains(posted, "retired_dashboard (no longer exists)")
        gone.refresh_from_db()
        self.assertEqual(gone.report, "retired_dashboard")

    def test_the_service_refuses_a_report_that_is_not_in_the_catalog(self):
        made = ReportSchedule(name="R", report="no_such_dashboard", created_at=NOW)
        with self.assertRaisesMessage(ValueError, "no_such_dashboard"):
            schedules.save_schedule(made, [self.lead.employee], now=NOW)
        self.assertFalse(ReportSchedule.objects.exists())


class ScheduleLinkTests(ScheduledDashboardTestCase):
    def new_schedule_href(self, kind: str, query: str) -> str:
        return f"{reverse('report_schedule_new')}?{urlencode({'report': kind, 'query': query})}"

    def test_the_form_is_prefilled_from_the_link(self):
        self.client.force_login(self.lead)
        self.client.cookies["django_language"] = "en"
        response = self.client.get(self.new_schedule_href("journey", JOURNEY_QUERY))
        form = response.context["form"]
        values = (form["report"].value(), form["query"].value(), form["name"].value())
        self.assertEqual(values, ("journey", JOURNEY_QUERY, "Journey map"))
        self.assertContains(response, '<option value="journey" selected>', html=False)
        for name in schedules.dashboards():
            self.assertContains(response, f'<option value="{name}"', html=False)
        # What is not a dashboard is not prefilled: the form starts empty.
        for kind in ("responses", "no_such_kind"):
            response = self.client.get(self.new_schedule_href(kind, "since=2026-01-01"))
            self.assertIsNone(response.context["form"]["query"].value())

    def test_a_dashboard_beyond_the_first_three_can_be_scheduled(self):
        later = [name for name in schedules.dashboards() if name not in FIRST_DASHBOARDS]
        if not later:
            self.skipTest("the catalog holds no dashboard besides the first three yet")
        self.client.force_login(self.lead)
        response = self.client.post(
            reverse("report_schedule_new"),
            {
                "name": "Monday",
                "report": later[0],
                "format": "xlsx",
                "query": "since=2025-12-01",
                "frequency": "weekly",
                "weekday": "0",
                "day_of_month": "1",
                "hour": "8",
                "recipients": [self.owner.employee.pk],
            },
        )
        made = ReportSchedule.objects.get()
        self.assertRedirects(response, reverse("report_schedule_edit", args=[made.pk]))
        self.assertEqual((made.report, made.format), (later[0], "xlsx"))

    def test_only_the_cx_lead_sees_the_link_and_only_under_a_dashboard(self):
        query = "since=2025-12-01&segment=all"
        link = self.new_schedule_href("journey", query).replace("&", "&amp;")
        for user, shown in ((self.lead, True), (self.owner, False), (self.teammate, False)):
            with self.subTest(user=user.username):
                self.client.force_login(user)
                response = self.client.get(f"{reverse('journey_map')}?{query}")
                self.assertContains(response, 'name="kind" value="journey"')  # the export control
                if shown:
                    self.assertContains(response, link)
                else:
                    self.assertNotContains(response, "/exports/schedules/new/")
        # A list's export control has no such link, even for the CX lead.
        self.client.force_login(self.lead)
        listed = self.client.get(reverse("response_list"))
        self.assertContains(listed, 'name="kind" value="responses"')
        self.assertNotContains(listed, "/exports/schedules/new/")
