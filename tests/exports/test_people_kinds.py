"""The people and records pages export what they show (cxloop.exports.people_kinds): the weekly
weigh-in, the CX champions, the training coverage, the meetings with clients, the ideas, a pulse
survey's results and the audit log — each for the viewer's scope and the page's filters, a
filter the page would leave out refused (400) naming it, and a page that refuses someone
refusing their export with its status."""

import csv
import io

import pyarrow.parquet as pq
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from cxloop.audit import services as audit
from cxloop.audit.choices import Action
from cxloop.audit.models import AuditEvent
from cxloop.customers.models import Customer
from cxloop.exports.catalog import KINDS
from cxloop.exports.tables import filter_request
from cxloop.feedback.models import FaceToFaceRecord
from cxloop.improvements import training_services
from cxloop.people.models import Employee, Idea, Team
from cxloop.people.services import set_idea_status
from cxloop.surveys.services import answer_pulse
from cxloop.test import PASSWORD
from tests.front.insight_data import InsightPageTestCase
from tests.front.test_pulse import make_pulse
from tests.improvements.data import NOW, ImprovementTestCase, propose

EXPORT_CONTROL = 'action="/exports/new/"'


class ExportAsserts:
    """Asking for an export and reading it back; opening the page it comes from."""

    def sign_in(self, user):
        """Sign ``user`` in unless they are already: a sign-in is an event of the audit log."""
        if getattr(self, "signed_in", None) != user.pk:
            self.client.force_login(user)
            self.signed_in = user.pk

    def export(self, kind, query, user, fmt="csv", status=200):
        self.sign_in(user)
        response = self.client.post(
            reverse("export_start"),
            {"kind": kind, "format": fmt, "query": query},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        self.assertEqual(response.status_code, status, getattr(response, "content", b"")[:300])
        return response

    def content(self, kind, query, user, fmt="csv") -> bytes:
        return b"".join(self.export(kind, query, user, fmt).streaming_content)

    def rows(self, kind, query, user) -> list[dict]:
        table = list(csv.reader(io.StringIO(self.content(kind, query, user).decode())))
        return [dict(zip(table[0], row, strict=True)) for row in table[1:]]

    def page(self, url, user, query="", status=200):
        self.sign_in(user)
        self.client.cookies["django_language"] = "en"
        response = self.client.get(f"{url}?{query}", HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, status)
        return response

    def assert_refused(self, kind, query, user, *named):
        response = self.export(kind, query, user, status=400)
        self.assertContains(response, "Nothing was exported", status_code=400)
        for text in named:
            self.assertContains(response, text, status_code=400)


def _number(text: str) -> float | None:
    return float(text) if text else None


class WeighInExportTests(ExportAsserts, InsightPageTestCase):
    """On the analytical pages' world: 40 answers from team A's customer, 10 from team B's."""

    url = "/people/weigh-in/"
    query = "until=2026-03-31"

    def test_it_holds_the_pages_rows_for_everyone_in_the_pages_order(self):
        for user in (self.owner, self.outsider):
            with self.subTest(user=user.username):
                page = self.page(self.url, user, self.query)
                self.assertContains(page, EXPORT_CONTROL)
                rows = self.rows("weigh_in", self.query, user)
                shown = page.context["rows"]
                self.assertEqual([r["Team"] for r in rows], [r["name"] for r in shown])
                for row, seen in zip(rows, shown, strict=True):
                    standing = seen["standing"]
                    self.assertEqual(int(row["Answers"]), standing.n)
                    self.assertAlmostEqual(float(row["NPS of the answers"]), standing.raw.value)
                    self.assertEqual(_number(row["Since last week"]), seen["change"])
                    if standing.rank is None:  # shown as "not enough answers", unranked
                        self.assertEqual((row["Rank"], row["Score"]), ("", ""))
                    else:
                        self.assertEqual(int(row["Rank"]), standing.rank.rank)
                        self.assertAlmostEqual(float(row["Score"]), standing.score.value)
        by_team = {r["Team"]: r for r in self.rows("weigh_in", self.query, self.outsider)}
        self.assertEqual(by_team["Firm › Team A"]["Answers"], "40")
        self.assertEqual(by_team["Firm › Team B"]["Answers"], "10")

    def test_people_by_name_follow_the_pages_choice_as_xlsx(self):
        Team.objects.filter(pk=self.team_a.pk).update(ranks_people=True)
        query = f"{self.query}&by=person"
        shown = self.page(self.url, self.outsider, query).context["rows"]
        book = load_workbook(
            io.BytesIO(self.content("weigh_in", query, self.outsider, "xlsx"))
        )  # fmt: skip
        header, *rows = list(book.active.values)
        self.assertIn("Person", header)
        self.assertEqual(
            [row[header.index("Person")] for row in rows], [r["name"] for r in shown]
        )  # fmt: skip
        self.assertEqual(rows[0][header.index("Answers")], 40)

    def test_its_chart_is_the_pages_funnel(self):
        page = self.page(self.url, self.owner, self.query)
        with translation.override("en"):
            table = KINDS["weigh_in"].table(filter_request(self.owner, self.query))
            titled = {"title": "Who really differs: the funnel", **page.context["chart"]}
            self.assertEqual(table.charts(), [titled])
        self.assertTrue(KINDS["weigh_in"].dashboard)

    def test_a_day_the_page_refuses_refuses_the_export_naming_it(self):
        self.assert_refused("weigh_in", "until=1999-01-01", self.owner, "Week ending")
        self.assert_refused("weigh_in", "by=planet", self.owner, "Show", "planet")


class PeopleExportTestCase(ExportAsserts, ImprovementTestCase):
    """The improvement tests' people: the CX lead, a viewer, team A's manager (owner) and
    employee (teammate), team B's manager and employee (outsider)."""


class ChampionExportTests(PeopleExportTestCase):
    def test_it_holds_each_champion_with_what_they_did_as_the_page_lists_them(self):
        Employee.objects.filter(
            pk__in=[self.teammate.employee.pk, self.outsider.employee.pk]
        ).update(is_champion=True)
        customer = Customer.objects.create(
            external_id="C1", name="Acme", owner=self.teammate.employee
        )
        FaceToFaceRecord.objects.create(
            kind="visit", customer=customer, employee=self.teammate.employee,
            met_on=timezone.localdate(), language="ru",
        )  # fmt: skip
        for user in (self.viewer, self.outsider):
            with self.subTest(user=user.username):
                page = self.page(reverse("champion_list"), user)
                self.assertContains(page, EXPORT_CONTROL)
                shown = [
                    [path, str(r.employee), str(r.meetings), str(r.ideas), str(r.initiatives),
                     str(r.cases)]
                    for path, rows in page.context["report"].teams
                    for r in rows
                ]  # fmt: skip
                rows = self.rows("champions", "", user)
                self.assertEqual(
                    [
                        [r["Team"], r["Champion"], r["Meetings with customers"], r["Ideas"],
                         r["Initiatives led"], r["Cases resolved"]]
                        for r in rows
                    ],
                    shown,
                )  # fmt: skip
        self.assertEqual(
            [(r["Team"], r["Meetings with customers"]) for r in rows],
            [("Firm › Team A", "1"), ("Firm › Team B", "0")],
        )


class TrainingExportTests(PeopleExportTestCase):
    def setUp(self):
        self.course = training_services.create_course(
            title="Повестка встречи", title_en="The meeting agenda", touchpoints=[self.kickoff],
            by=self.lead.employee, now=NOW,
        )  # fmt: skip
        training_services.assign_course(
            self.course, [self.teammate.employee, self.outsider.employee],
            by=self.lead.employee, now=NOW,
        )  # fmt: skip

    def shown(self, user) -> list[tuple]:
        """The training page's three tables as (table, name, assigned, trained, coverage)."""
        context = self.page(reverse("training_list"), user).context
        courses = [
            ("Courses", course.label, status.assigned, status.done, status.share)
            for course, status in context["courses"]
        ]
        return courses + [
            (table, row.name, row.status.assigned, row.status.done, row.status.share)
            for table, rows in (
                ("Coverage by team", context["teams"]),
                ("Coverage by touchpoint", context["touchpoints"]),
            )
            for row in rows
        ]

    def test_it_holds_the_pages_three_tables_in_the_viewers_scope_as_parquet(self):
        for user, assigned in ((self.lead, 2), (self.teammate, 1)):
            with self.subTest(user=user.username):
                self.assertContains(self.page(reverse("training_list"), user), EXPORT_CONTROL)
                table = pq.read_table(
                    io.BytesIO(self.content("training", "", user, "parquet"))
                )  # fmt: skip
                self.assertEqual(str(table.schema.field("Assigned").type), "int64")
                self.assertEqual(str(table.schema.field("Coverage").type), "double")
                exported = [
                    (r["Table"], r["Name"], r["Assigned"], r["Trained"], r["Coverage"])
                    for r in table.to_pylist()
                ]
                self.assertEqual(exported, self.shown(user))
                course = exported[0]
                self.assertEqual((course[1], course[2]), ("The meeting agenda", assigned))
                self.assertEqual(table.to_pylist()[0]["Number"], self.course.reference)
        teams = [r for r in self.rows("training", "", self.teammate) if r["Table"] != "Courses"]
        self.assertNotIn("Firm › Team B", [r["Name"] for r in teams])


class MeetingExportTests(PeopleExportTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        ours = Customer.objects.create(external_id="A", name="Acme", owner=cls.teammate.employee)
        theirs = Customer.objects.create(external_id="B", name="Beta", owner=cls.outsider.employee)
        cls.meetings = {}
        for customer, employee, day, notes in (
            (ours, cls.teammate.employee, "2026-03-02", "Довольны стартом; " + "x" * 200),
            (ours, cls.owner.employee, "2026-03-09", "Просят отчёт раньше"),
            (theirs, cls.outsider.employee, "2026-03-05", "Счета с ошибками"),
        ):
            cls.meetings[notes[:5]] = FaceToFaceRecord.objects.create(
                kind="visit", customer=customer, employee=employee, met_on=day, language="ru",
                notes=notes,
            )  # fmt: skip

    def shown(self, user, query=""):
        page = self.page(reverse("face_to_face_list"), user, query)
        return [record.pk for record in page.context["page"]]

    def test_it_holds_the_pages_meetings_for_each_scope_and_filter(self):
        team_b = f"team={self.team_b.pk}"
        for user, query, count in (
            (self.owner, "", 2),
            (self.outsider, "", 1),
            (self.lead, "", 3),
            (self.lead, team_b, 1),
            (self.lead, "since=2026-03-03&until=2026-03-31", 2),
        ):
            with self.subTest(user=user.username, query=query):
                rows = self.rows("meetings", query, user)
                self.assertEqual([int(r["Meeting id"]) for r in rows], self.shown(user, query))
                self.assertEqual(len(rows), count)
        (row,) = self.rows("meetings", team_b, self.lead)
        self.assertEqual((row["Client"], row["Met by"]), ("Beta", "Outsider"))
        self.assertEqual(row["Date"], "2026-03-05")
        whole = next(r for r in self.rows("meetings", "", self.owner) if r["Date"] == "2026-03-02")
        self.assertEqual(len(whole["Notes"]), len("Довольны стартом; ") + 200)  # not truncated

    def test_the_page_shows_the_control_with_its_kept_filters(self):
        page = self.page(reverse("face_to_face_list"), self.lead, f"team={self.team_a.pk}&x=1")
        self.assertContains(page, EXPORT_CONTROL)
        self.assertContains(page, f'name="query" value="team={self.team_a.pk}"')

    def test_a_filter_the_page_leaves_out_refuses_the_export_naming_it(self):
        self.assert_refused("meetings", "since=2026-13-45", self.lead, "From date")
        self.assert_refused("meetings", "team=abc", self.lead, "Team")

    def test_the_excel_csv_starts_with_a_byte_order_mark(self):
        excel = self.content("meetings", "", self.owner, "csv-excel")
        self.assertTrue(excel.startswith(b"\xef\xbb\xbf"))
        self.assertEqual(excel[3:], self.content("meetings", "", self.owner, "csv"))


class IdeaExportTests(PeopleExportTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        day = NOW.date()
        cls.ours = Idea.objects.create(
            text="Повестка заранее", author=cls.teammate.employee, team=cls.team_a, created_on=day
        )
        cls.theirs = Idea.objects.create(
            text="Счета раньше", author=cls.outsider.employee, team=cls.team_b, created_on=day
        )
        cls.anonymous = Idea.objects.create(text="Меньше совещаний", created_on=day)
        set_idea_status(
            cls.anonymous, "declined", answer="Совещания нужны", by=cls.lead.employee, now=NOW
        )
        propose(cls.owner.employee, [cls.kickoff], from_idea=cls.ours)

    def test_it_holds_the_pages_ideas_with_their_answers_for_each_scope(self):
        for user, count in ((self.owner, 1), (self.outsider, 1), (self.lead, 3)):
            with self.subTest(user=user.username):
                page = self.page(reverse("ideas"), user)
                self.assertContains(page, EXPORT_CONTROL)
                rows = self.rows("ideas", "", user)
                self.assertEqual(
                    [r["Idea or remark"] for r in rows],
                    [row["idea"].text for row in page.context["rows"]],
                )
                self.assertEqual(len(rows), count)
        by_text = {r["Idea or remark"]: r for r in self.rows("ideas", "", self.lead)}
        anonymous = by_text["Меньше совещаний"]
        self.assertEqual((anonymous["From"], anonymous["Team"]), ("anonymous", ""))
        self.assertEqual(
            (anonymous["Status"], anonymous["Our answer"]), ("declined", "Совещания нужны")
        )
        ours = by_text["Повестка заранее"]
        self.assertEqual(
            (ours["From"], ours["Team"]), ("Teammate", "Team A")
        )  # as the page: the team's name
        self.assertTrue(ours["Initiative"].startswith("I-"), ours["Initiative"])


class PulseExportTests(PeopleExportTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.survey = make_pulse()
        question = cls.survey.questions.get(order=1)
        for team, scores in (
            (cls.team_a, [10, 10, 9, 9, 3, 8]),
            (cls.team_a1, [0, 0, 0, 0, 0]),
            (cls.team_b, [10, 10, 10, 10]),
        ):
            for i, score in enumerate(scores):
                user = User.objects.create_user(f"pulse-{team.pk}-{i}", password=PASSWORD)
                employee = Employee.objects.create(user=user, team=team)
                answer_pulse(cls.survey, employee, {question.pk: score}, now=NOW)
        cls.url = reverse("pulse_results", args=[cls.survey.pk])
        cls.query = f"survey={cls.survey.pk}"

    def test_it_holds_everyone_and_the_teams_the_page_shows(self):
        for user, teams in (
            (self.lead, ["Firm › Team A", "Firm › Team A › Team A1", "Firm › Team B"]),
            (self.owner, ["Firm › Team A", "Firm › Team A › Team A1"]),
        ):
            with self.subTest(user=user.username):
                page = self.page(self.url, user)
                self.assertContains(page, f'name="query" value="{self.query}"')
                rows = self.rows("pulse_results", self.query, user)
                self.assertEqual(rows[0]["Team"], "Everyone")
                self.assertEqual(int(rows[0]["Answers"]), page.context["results"].overall.n)
                shown = page.context["teams"]
                self.assertEqual(sorted(r["Team"] for r in rows[1:]), teams)
                for row, team in zip(rows[1:], shown, strict=True):
                    self.assertEqual((row["Team"], int(row["Answers"])), (team.name, team.n))
                    value = None if team.enps is None else team.enps.value
                    self.assertEqual(_number(row["eNPS"]), value)
                    self.assertEqual(row["Withheld to keep the answers anonymous"],
                                     "yes" if team.enps is None else "no")  # fmt: skip
        by_team = {r["Team"]: r for r in self.rows("pulse_results", self.query, self.lead)}
        self.assertAlmostEqual(float(by_team["Firm › Team A"]["eNPS"]), 50.0)
        self.assertEqual(by_team["Firm › Team B"]["eNPS"], "")  # four answers: withheld

    def test_its_chart_is_the_pages_trend_and_its_link_the_surveys_page(self):
        page = self.page(self.url, self.lead)
        kind = KINDS["pulse_results"]
        self.assertTrue(kind.dashboard)
        with translation.override("en"):
            table = kind.table(filter_request(self.lead, self.query))
            titled = {"title": "eNPS by team over time", **page.context["trend_chart"]}
            self.assertEqual(table.charts(), [titled])
        self.assertEqual(kind.url(self.query), f"{self.url}?{self.query}")

    def test_whom_the_page_refuses_the_export_refuses_with_its_status(self):
        self.page(self.url, self.teammate, status=403)
        self.export("pulse_results", self.query, self.teammate, status=403)
        missing = reverse("pulse_results", args=[self.survey.pk + 99])
        self.page(missing, self.lead, status=404)
        self.export("pulse_results", f"survey={self.survey.pk + 99}", self.lead, status=404)

    def test_a_survey_that_is_no_id_is_refused_naming_it(self):
        self.assert_refused("pulse_results", "survey=abc", self.lead, "Survey", "abc")
        self.assert_refused("pulse_results", "", self.lead, "Survey")


class AuditLogExportTests(PeopleExportTestCase):
    def setUp(self):
        audit.record(Action.READ, kind="contact", object_id=7, label="#7", details={"path": "/x/"})
        audit.record(Action.CHANGE, kind="survey", object_id=3, label="Опрос", details={"a": 1})
        self.url = reverse("audit_log")

    def shown(self, query=""):
        return [event.pk for event in self.page(self.url, self.lead, query).context["page"]]

    def test_it_holds_the_pages_events_for_the_cx_lead_under_each_filter_as_xlsx(self):
        for query in ("", "action=read", "kind=survey", "since=2000-01-01&until=2999-12-31"):
            with self.subTest(query=query):
                # The page first: the export adds its own event to the log once written.
                shown = self.shown(query)
                events = AuditEvent.objects.in_bulk(shown)
                expected = [(events[pk].actor, events[pk].object_id) for pk in shown]
                book = load_workbook(
                    io.BytesIO(self.content("audit_log", query, self.lead, "xlsx"))
                )  # fmt: skip
                header, *rows = list(book.active.values)
                who, record = header.index("Who"), header.index("Record id")
                self.assertEqual([(row[who], row[record] or "") for row in rows], expected)
        header, *rows = list(
            load_workbook(io.BytesIO(self.content("audit_log", "action=read", self.lead, "xlsx")))
            .active.values
        )  # fmt: skip
        self.assertEqual(
            [header.index(name) for name in ("Action", "Kind of record", "Record", "Details")],
            [3, 4, 6, 7],
        )
        (read,) = [row for row in rows if row[header.index("Record id")] == "7"]
        self.assertEqual(read[3:8], ("read", "contact", "7", None, "path: /x/"))

    def test_it_shows_what_the_page_shows_and_no_user_id(self):
        self.assertContains(self.page(self.url, self.lead), EXPORT_CONTROL)
        rows = self.rows("audit_log", "kind=survey", self.lead)
        self.assertEqual(
            list(rows[0]),
            [
                "When",
                "Who",
                "Address",
                "Action",
                "Kind of record",
                "Record id",
                "Record",
                "Details",
            ],
        )
        self.assertEqual((rows[0]["Record"], rows[0]["Details"]), ("Опрос", "a: 1"))

    def test_only_the_cx_lead_may_export_it_and_the_export_is_audited(self):
        for user in (self.owner, self.viewer):
            with self.subTest(user=user.username):
                self.page(self.url, user, status=403)
                self.export("audit_log", "", user, status=403)
        self.rows("audit_log", "action=change", self.lead)
        exported = AuditEvent.objects.filter(action=Action.EXPORT).get()
        self.assertEqual((exported.object_kind, exported.actor), ("audit_log", "lead"))
        self.assertEqual(exported.details["filters"], {"action": "change"})

    def test_a_filter_the_page_refuses_refuses_the_export_naming_it(self):
        self.assert_refused("audit_log", "since=someday", self.lead, "since", "someday")
        self.assert_refused("audit_log", "action=bribe", self.lead, "action", "bribe")
