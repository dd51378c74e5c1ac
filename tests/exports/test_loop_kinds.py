"""The closed loop's and the improvement cycle's exports hold what their pages show for the same
user and query string: the loop dashboard's tables, the follow-ups, the initiatives, the
decision log and the cycle review's next opportunities; a filter the page would leave out
refuses the export naming the field and the value, a role the page refuses is refused the
export the same way, and each page carries the export control."""

import csv
import datetime as dt
import io
from unittest import mock

import pyarrow.parquet as pq
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cxloop.cases import services as cases
from cxloop.exports.catalog import KINDS
from cxloop.exports.tables import filter_request
from cxloop.feedback.models import FollowUp
from cxloop.front import loop_views
from cxloop.improvements import services as improvements
from cxloop.improvements.models import Initiative
from cxloop.people.models import Role
from tests.exports.charts import assert_page_charts
from tests.front.insight_data import InsightPageTestCase
from tests.front.test_follow_ups import FollowUpTestCase
from tests.improvements.data import ImprovementTestCase, propose
from tests.improvements.test_decisions import BillingDropTestCase
from tests.test_insights_loop import DAY, NOW, LoopWorld

BOM = b"\xef\xbb\xbf"
Q1 = "since=2026-01-01&until=2026-03-31"


def read_rows(response, fmt: str) -> list[dict]:
    """The exported file's rows as dicts by header, read as a spreadsheet or a notebook
    would read that format."""
    content = b"".join(response.streaming_content)
    if fmt == "parquet":
        return pq.read_table(io.BytesIO(content)).to_pylist()
    if fmt == "xlsx":
        sheet = load_workbook(io.BytesIO(content)).active
        table = [list(row) for row in sheet.iter_rows(values_only=True)]
    else:
        assert content.startswith(BOM) == (fmt == "csv-excel"), content[:3]
        table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    header, *body = table
    return [dict(zip(header, row, strict=True)) for row in body]


def percent(share) -> float | None:
    """A SHARE cell (a fraction 0–1; empty or None: no figure) as the page's per cent."""
    return None if share in ("", None) else round(100 * float(share), 6)


class Exporting:
    """Posting the export form and reading the page, in English."""

    def export(self, kind, query, user, fmt="csv", status=200):
        self.client.force_login(user)
        self.client.cookies["django_language"] = "en"
        response = self.client.post(
            reverse("export_start"),
            {"kind": kind, "format": fmt, "query": query},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        shown = b"" if response.streaming else response.content[:500]
        self.assertEqual(response.status_code, status, shown)
        return response

    def rows(self, kind, query, user, fmt="csv"):
        return read_rows(self.export(kind, query, user, fmt), fmt)

    def page(self, name, query, user, status=200):
        self.client.force_login(user)
        self.client.cookies["django_language"] = "en"
        response = self.client.get(f"{reverse(name)}?{query}", HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, status)
        return response

    def assertRefused(self, kind, query, user, *words):
        refused = self.export(kind, query, user, status=400)
        self.assertContains(refused, "Nothing was exported", status_code=400)
        for word in words:
            self.assertContains(refused, word, status_code=400)

    def assertHasExportControl(self, page, kind, query):
        self.assertContains(page, f'<input type="hidden" name="kind" value="{kind}">', html=True)
        self.assertContains(page, f'<input type="hidden" name="query" value="{query}">', html=True)


# --- The closed-loop dashboard -------------------------------------------------------------


class LoopExportTests(Exporting, LoopWorld):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        for case in cls.cases[:3]:
            cases.set_touchpoints(case, [cls.billing], by=None, now=NOW - DAY)
            cases.set_root_causes(case, [cls.invoice_error], by=None, now=NOW - DAY)

    def setUp(self):
        # The dashboard's default period and "open now" are as of NOW, for page and export.
        for name, value in (("now", NOW), ("localdate", NOW.date())):
            patcher = mock.patch.object(loop_views.timezone, name, return_value=value)
            patcher.start()
            self.addCleanup(patcher.stop)

    def parts(self, rows, part):
        return [row for row in rows if row["Part of the dashboard"] == part]

    def assertSameAsPage(self, rows, shown):
        (total,) = self.parts(rows, "All cases")
        self.assertEqual(int(total["Cases"]), shown["total"].cases)
        self.assertEqual(
            int(total["Detractor cases contacted within the SLA"]), shown["total"].in_time_count
        )
        # Where the page gives no figure: empty in a CSV, None in an XLSX.
        without = shown["result"].detractors_without_case
        exported = total["Detractor answers without a case"]
        self.assertEqual(None if exported in ("", None) else int(exported), without)
        for part, entries in (("By team", shown["teams"]), ("By touchpoint", shown["touchpoints"])):
            self.assertEqual(
                [
                    (
                        r["Team or touchpoint"],
                        int(r["Cases"]),
                        int(r["Open now"]),
                        percent(r["Detractors contacted within the SLA"]),
                    )
                    for r in self.parts(rows, part)
                ],
                [
                    (
                        str(e["name"]),
                        e["row"].figures.cases,
                        e["row"].figures.open_now,
                        e["row"].figures.in_time and round(e["row"].figures.in_time.value, 6),
                    )
                    for e in entries
                ],
            )
        self.assertEqual(
            [
                (r["Team or touchpoint"], r["Root cause"], int(r["Cases"]))
                for r in self.parts(rows, "Root causes by touchpoint")
            ],
            [
                (str(e["touchpoint"]), c["cause"].label, c["cause"].count)
                for e in shown["causes"]
                for c in e["causes"]
            ],
        )

    def test_it_exports_the_dashboards_tables_for_each_scope(self):
        for user, total in (
            (self.viewer, len(self.cases) + 2),
            (self.owner, len(self.cases) + 1),
            (self.outsider, 1),
        ):
            with self.subTest(user=user.username):
                shown = self.page("loop_dashboard", "", user).context
                rows = self.rows("loop", "", user)
                self.assertSameAsPage(rows, shown)
                self.assertEqual(int(self.parts(rows, "All cases")[0]["Cases"]), total)
        # The manager's three billing cases, all with the invoice error: the whole share.
        rows = self.rows("loop", "", self.owner)
        (cause,) = self.parts(rows, "Root causes by touchpoint")
        self.assertEqual(
            (cause["Team or touchpoint"], cause["Root cause"]), ("billing", "Invoice error")
        )
        self.assertEqual(
            (cause["Cases"], float(cause["Share of the touchpoint's cases"])), ("3", 1.0)
        )
        # The outsider sees none of them.
        self.assertEqual(
            self.parts(self.rows("loop", "", self.outsider), "Root causes by touchpoint"), []
        )

    def test_it_follows_the_pages_filters(self):
        query = f"touchpoint={self.billing.pk}&since=2026-01-01&until=2026-03-31"
        shown = self.page("loop_dashboard", query, self.owner).context
        rows = self.rows("loop", query, self.owner, "xlsx")
        self.assertSameAsPage(rows, shown)
        (total,) = self.parts(rows, "All cases")
        self.assertEqual(total["Cases"], 3)  # an XLSX cell holds a number
        # Narrowed to a touchpoint, the page gives no count of answers without a case.
        self.assertIsNone(total["Detractor answers without a case"])
        self.assertLess(
            total["Cases"],
            int(self.parts(self.rows("loop", "", self.owner), "All cases")[0]["Cases"]),
        )
        shares = [
            r["Detractors contacted within the SLA"]
            for r in rows
            if r["Detractors contacted within the SLA"] is not None
        ]
        self.assertTrue(shares and all(0 <= share <= 1 for share in shares), shares)

    def test_it_refuses_a_filter_the_page_leaves_out_naming_it(self):
        self.assertRefused("loop", "since=someday", self.owner, "Opened from", "someday")
        self.assertRefused(
            "loop",
            "since=2026-03-01&until=2026-01-01",
            self.owner,
            "The period ends before it starts.",
            "2026-01-01",
        )
        # A team the manager does not see is no choice of the page's.
        self.assertRefused(
            "loop", f"team={self.team_b.pk}", self.owner, "Team", str(self.team_b.pk)
        )

    def test_it_is_a_dashboard_and_its_page_carries_the_export(self):
        kind = KINDS["loop"]
        self.assertTrue(kind.dashboard)
        self.assertEqual(kind.table(filter_request(self.owner, "")).charts(), [])  # no chart
        query = "since=2026-01-01&until=2026-03-31"
        page = self.page("loop_dashboard", query, self.owner)
        self.assertHasExportControl(page, "loop", query.replace("&", "&amp;"))


# --- Face-to-face follow-ups ---------------------------------------------------------------


class FollowUpExportTests(Exporting, FollowUpTestCase):
    def listed(self, query, user):
        return [item.pk for item in self.page("follow_up_list", query, user).context["page"]]

    def test_it_exports_the_lists_follow_ups_for_each_scope_and_filter(self):
        for user, query in (
            (self.owner, "tab=team"),
            (self.owner, f"tab=team&owner={self.owner.employee.pk}"),
            (self.owner, "tab=team&overdue=1&done=all"),
            (self.teammate, ""),
            (self.outsider, "tab=mine"),
            (self.viewer, ""),
        ):
            with self.subTest(user=user.username, query=query):
                rows = self.rows("follow_ups", query, user)
                self.assertEqual([int(r["Follow-up id"]) for r in rows], self.listed(query, user))
        self.assertEqual(len(self.rows("follow_ups", "", self.viewer)), 3)
        self.assertEqual(self.rows("follow_ups", "tab=mine", self.outsider), [])

    def test_a_row_says_what_the_page_says_of_a_follow_up(self):
        rows = {
            r["Follow-up id"]: r
            for r in self.rows("follow_ups", "tab=team", self.owner, "csv-excel")
        }
        late = rows[str(self.late.pk)]
        self.assertEqual(
            (late["Due"], late["Overdue"], late["What was agreed"], late["Owner"], late["State"]),
            (
                self.late.due_on.isoformat(),
                "yes",
                "Send the corrected invoice",
                str(self.owner.employee),
                "open",
            ),
        )
        self.assertEqual(late["Customer"], self.meeting.customer.name)
        self.assertEqual(rows[str(self.later.pk)]["Overdue"], "no")
        FollowUp.objects.filter(pk=self.late.pk).update(done_at=timezone.now())
        (done,) = self.rows("follow_ups", "tab=team&done=done", self.owner, "parquet")
        self.assertEqual(
            (done["Follow-up id"], done["State"], done["Overdue"]), (self.late.pk, "done", "no")
        )
        self.assertIsNotNone(done["Done"])

    def test_it_refuses_a_filter_the_list_leaves_out_naming_it(self):
        self.assertRefused("follow_ups", "done=maybe", self.owner, "Done", "maybe")
        self.assertRefused("follow_ups", "owner=-1", self.owner, "Owner")

    def test_the_list_carries_the_export_with_its_filters(self):
        page = self.page("follow_up_list", "tab=team&overdue=1", self.owner)
        self.assertHasExportControl(page, "follow_ups", "tab=team&amp;done=open&amp;overdue=1")


# --- Initiatives ---------------------------------------------------------------------------


class InitiativeExportTests(Exporting, ImprovementTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.ours = propose(cls.owner.employee, [cls.kickoff])
        # As if measured when proposed (the test's journey has no answers to measure).
        Initiative.objects.filter(pk=cls.ours.pk).update(baseline=3.8)
        improvements.add_action_item(
            cls.ours,
            text="Шаблон повестки",
            owner=cls.teammate.employee,
            due_on=dt.date(2026, 3, 10),
            by=cls.owner.employee,
            now=NOW,
        )
        improvements.add_action_item(
            cls.ours,
            text="Согласовать с юристами",
            owner=cls.owner.employee,
            due_on=dt.date(2099, 1, 1),
            by=cls.owner.employee,
            now=NOW,
        )
        cls.theirs = propose(
            cls.manager_b.employee, [cls.billing], target_date=dt.date(2026, 5, 31)
        )

    def listed(self, query, user):
        page = self.page("initiative_list", query, user).context["page"]
        return [initiative.reference for initiative in page.object_list]

    def test_it_exports_the_lists_initiatives_for_each_scope_and_filter(self):
        for user, query, expected in (
            (self.lead, "", [self.theirs, self.ours]),
            (self.owner, "", [self.ours]),
            (self.manager_b, "", [self.theirs]),
            (self.teammate, "", [self.ours]),
            (self.outsider, "", []),
            (self.lead, f"touchpoint={self.billing.pk}", [self.theirs]),
            (self.lead, "overdue=1", [self.ours]),
        ):
            with self.subTest(user=user.username, query=query):
                exported = [r["Initiative"] for r in self.rows("initiatives", query, user)]
                self.assertEqual(exported, self.listed(query, user))
                self.assertEqual(exported, [i.reference for i in expected])

    def test_a_row_holds_the_lists_target_and_action_items(self):
        (row,) = self.rows("initiatives", "", self.owner, "xlsx")
        self.assertEqual(
            (row["Initiative"], row["Title"], row["Touchpoints"], row["Team"]),
            (self.ours.reference, "Agenda sent ahead", "Kick-off meeting", "Team A"),
        )
        self.assertEqual((row["Baseline"], row["Target"]), (3.8, 4.5))
        self.assertEqual(row["Target date"].date(), dt.date(2026, 6, 30))
        self.assertEqual((row["Open action items"], row["Overdue action items"]), (2, 1))
        self.assertEqual(row["State"], self.ours.get_state_display())

    def test_it_refuses_a_filter_the_list_leaves_out_naming_it(self):
        self.assertRefused("initiatives", "state=nope", self.lead, "State", "nope")
        self.assertRefused("initiatives", "owner=x", self.lead, "Owner")

    def test_the_list_carries_the_export_with_its_filters(self):
        page = self.page("initiative_list", f"touchpoint={self.billing.pk}", self.lead)
        query = f"state=active&amp;touchpoint={self.billing.pk}"
        self.assertHasExportControl(page, "initiatives", query)


# --- The decision log ----------------------------------------------------------------------


class DecisionExportTests(Exporting, BillingDropTestCase):
    """Billing drops by 0.4 from 2026 on (tests.improvements.test_decisions' world): the new
    billing system expected a rise and is worse than expected, the price rise expected it."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.nobody = User.objects.create_user("nobody", "nobody@example.org", "x")

    def listed(self, query, user):
        page = self.page("decision_list", query, user).context["page"]
        return [(d.reference, d.found.measured) for d in page.object_list]

    def test_it_exports_the_logs_decisions_with_their_measured_effect(self):
        for user, query in (
            (self.lead, ""),
            (self.teammate, ""),
            (self.nobody, ""),
            (self.lead, "verdict=worse"),
            (self.lead, "kind=price"),
        ):
            with self.subTest(user=user.username, query=query):
                rows = self.rows("decisions", query, user, "parquet")
                self.assertEqual(
                    [(r["Decision"], r["Measured change"]) for r in rows],
                    [
                        (ref, None if found is None else found.value)
                        for ref, found in self.listed(query, user)
                    ],
                )
        self.assertEqual(self.rows("decisions", "", self.nobody, "parquet"), [])
        (worse,) = self.rows("decisions", "verdict=worse", self.teammate, "parquet")
        self.assertEqual(
            (worse["Decision"], worse["Verdict"], worse["Expected change"]),
            (self.billing_system.reference, "worse than expected", 0.3),
        )
        low, high = (
            worse["Measured change, lower bound of the 95-percent interval"],
            worse["Measured change, upper bound of the 95-percent interval"],
        )
        self.assertTrue(low <= -0.4 <= high, (low, high))

    def test_it_refuses_a_filter_the_log_leaves_out_naming_it(self):
        self.assertRefused("decisions", "kind=war", self.lead, "Kind of decision", "war")
        self.assertRefused("decisions", "verdict=maybe", self.lead, "Verdict", "maybe")

    def test_the_log_carries_the_export_with_its_filters(self):
        page = self.page("decision_list", "kind=price", self.lead)
        self.assertHasExportControl(page, "decisions", "kind=price")


# --- The cycle review ----------------------------------------------------------------------


class CycleExportTests(Exporting, InsightPageTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)

    def test_it_exports_the_ranked_opportunities_for_each_scope(self):
        for user in (self.lead, self.owner):
            with self.subTest(user=user.username):
                shown = self.page("cycle_review", Q1, user).context["opportunities"]
                self.assertTrue(shown)
                rows = self.rows("cycle_table", Q1, user, "parquet")
                self.assertEqual(
                    [
                        (
                            r["Rank"],
                            r["Touchpoint"],
                            r["Mean rating (1–5)"],
                            r["Share of what drives NPS"],
                        )
                        for r in rows
                    ],
                    [
                        (
                            e["item"].rank,
                            str(e["touchpoint"]),
                            e["item"].performance,
                            e["item"].importance,
                        )
                        for e in shown
                    ],
                )
        # The manager's part holds only team A's answers: its figures are its own.
        lead, manager = (
            self.rows("cycle_table", Q1, u, "parquet") for u in (self.lead, self.owner)
        )
        self.assertNotEqual(
            [r["Mean rating (1–5)"] for r in lead], [r["Mean rating (1–5)"] for r in manager]
        )

    def test_those_the_page_refuses_are_refused_the_export(self):
        nobody = User.objects.create_user("nobody", "nobody@example.org", "x")
        for user in (self.teammate, nobody):
            with self.subTest(user=user.username):
                self.page("cycle_review", Q1, user, status=403)
                self.export("cycle_table", Q1, user, status=403)

    def test_it_refuses_a_period_the_page_replaces_naming_it(self):
        self.assertRefused(
            "cycle_table",
            "since=2026-03-31&until=2026-01-01",
            self.lead,
            "To",
            "2026-01-01",
            "The period ends before it starts.",
        )
        self.assertRefused("cycle_table", "quarter=1999-Q9", self.lead, "Quarter", "1999-Q9")

    def test_it_is_a_dashboard_with_the_pages_chart_and_the_page_carries_it(self):
        kind = KINDS["cycle_table"]
        self.assertTrue(kind.dashboard)
        page = self.page("cycle_review", Q1, self.lead)
        drawn = kind.table(filter_request(self.lead, Q1)).charts()
        assert_page_charts(self, drawn, [page.context["chart"]])
        self.assertHasExportControl(page, "cycle_table", Q1.replace("&", "&amp;"))
