"""Scheduled reports (issue #16, part 3): when a schedule is next due, that a due run is claimed
once however many workers ask, each recipient's copy in their own scope and language (a
dashboard's XLSX holds the rows their page shows them; someone whose role does not show the
report is skipped), the e-mail through a real SMTP server with the executive pack's and the
journey map's PDF and their charts attached, and the CX lead's pages. Every dashboard of the
catalog, the charts that fail and the dashboards that are gone: test_scheduled_dashboards.py."""

import datetime as dt
import email
import email.policy
import io
import re
import tempfile
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.test import TransactionTestCase, override_settings
from django.urls import reverse
from django.utils import translation

from cxloop.audit.choices import Action
from cxloop.audit.models import AuditEvent
from cxloop.exports import schedules
from cxloop.exports.catalog import KINDS
from cxloop.exports.models import DeliveryState, ReportDelivery, ReportSchedule
from cxloop.exports.tables import filter_request
from cxloop.facts.sync import rebuild
from cxloop.outbox.delivery import send_due as send_email
from cxloop.outbox.kinds import PENDING_FIELDS, Pending
from cxloop.outbox.models import OutboxMessage
from cxloop.people.models import Employee, Role, Team
from cxloop.test import BaseTestCase, OwnFactStore
from tests.front.insight_data import InsightPageTestCase, make_insight_data
from tests.front.test_cycle_review import HAS_PDF
from tests.smtp import SmtpServer

MSK = ZoneInfo("Europe/Moscow")  # the site's time zone: no daylight saving time
NOW = dt.datetime(2026, 4, 6, 9, 30, tzinfo=MSK)  # a Monday
JOURNEY_QUERY = "since=2025-12-01&segment=all"
Q1 = "since=2026-01-01&until=2026-03-31"


def _plain(row) -> list:
    """A row as XLSX gives it back: no empty strings, floats to 9 places."""
    return [None if c == "" else round(c, 9) if isinstance(c, float) else c for c in row]


def schedule(**fields) -> ReportSchedule:
    return ReportSchedule(**{"name": "R", "report": "journey", "hour": 8, **fields})


def pdf_text(reader) -> str:
    """The PDF's text with its spaces made plain (no-break and narrow ones, line breaks)."""
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text.replace("\xa0", " ").replace("\u202f", " "))


def vector_forms(reader) -> list:
    """The PDF's form XObjects: a chart drawn from vl-convert's SVG is one, an image is not."""
    return [
        x
        for page in reader.pages
        for x in page["/Resources"].get("/XObject", {}).values()
        if x.get_object()["/Subtype"] == "/Form"
    ]


def outbox_messages(address: str) -> list[Pending]:
    rows = OutboxMessage.objects.filter(recipient=address).values_list(*PENDING_FIELDS)
    return [Pending(*row) for row in rows]


def at(year, month, day, hour=8, zone=MSK) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=zone)


DAILY = {"frequency": "daily"}
FRIDAYS = {"frequency": "weekly", "weekday": 4}
MONDAYS = {"frequency": "weekly", "weekday": 0}
ON_28TH = {"frequency": "monthly", "day_of_month": 28}
ON_1ST_AT_23 = {"frequency": "monthly", "day_of_month": 1, "hour": 23}


@pytest.mark.parametrize(
    ("fields", "after", "expected"),
    [
        # Daily: today's hour if still ahead, else tomorrow's.
        (DAILY, NOW.replace(hour=7), at(2026, 4, 6)),
        (DAILY, NOW, at(2026, 4, 7)),
        # Exactly at the hour: the next one, never the same twice.
        (DAILY, at(2026, 4, 7), at(2026, 4, 8)),
        # Weekly on Friday, and on Monday when Monday's hour has passed: a week later.
        (FRIDAYS, NOW, at(2026, 4, 10)),
        (MONDAYS, NOW, at(2026, 4, 13)),
        # Monthly on the 28th, across the year's end and February.
        (ON_28TH, at(2026, 12, 29, 0), at(2027, 1, 28)),
        (ON_28TH, at(2027, 1, 30, 0), at(2027, 2, 28)),
        # The site's day, not UTC's: 20:00 UTC on 31 January is 1 February in Moscow.
        (ON_1ST_AT_23, at(2026, 1, 31, 20, dt.UTC), at(2026, 2, 1, 23)),
    ],
)
def test_the_next_occurrence(fields, after, expected):
    assert schedules.next_occurrence(schedule(**fields), after) == expected


@override_settings(BASE_URL="https://cx.example.org")
class ScheduleRunTests(InsightPageTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)
        cls.ceo = cls._user("ceo", cls.firm, Role.EXECUTIVE)

    def setUp(self):
        self.data_dir = tempfile.TemporaryDirectory()
        self.enterContext(override_settings(DATA_DIR=self.data_dir.name))
        self.addCleanup(self.data_dir.cleanup)

    def make(self, recipients, **fields) -> ReportSchedule:
        made = ReportSchedule(
            **{"name": "Journey", "report": "journey", "format": "xlsx", "query": JOURNEY_QUERY}
            | fields
        )
        people = [user.employee for user in recipients]
        return schedules.save_schedule(made, people, now=NOW - dt.timedelta(days=7), user=self.lead)

    def test_a_due_run_is_claimed_once(self):
        made = self.make([self.ceo], frequency="daily")
        due = made.next_run_at
        self.assertEqual(due, dt.datetime(2026, 3, 31, 8, tzinfo=MSK))
        self.assertEqual(schedules.claim(made.pk, due, NOW), dt.datetime(2026, 4, 7, 8, tzinfo=MSK))
        self.assertIsNone(schedules.claim(made.pk, due, NOW))  # a second worker: nothing
        # The round: the claim is taken, so nothing is queued; then the next day's once.
        self.assertEqual(schedules.send_due(NOW), 0)
        tomorrow = dt.datetime(2026, 4, 7, 8, 1, tzinfo=MSK)
        self.assertEqual(schedules.send_due(tomorrow), 1)
        self.assertEqual(schedules.send_due(tomorrow), 0)
        self.assertEqual(ReportDelivery.objects.count(), 1)

    def test_each_recipient_gets_the_dashboard_rows_their_page_shows_them(self):
        Employee.objects.filter(user=self.ceo).update(language="en")
        self.ceo.employee.refresh_from_db()
        headers = {"en": "Touchpoint", "ru": "Точка контакта"}
        made = self.make([self.ceo, self.outsider])
        self.assertEqual(schedules.send_due(NOW), 2)
        for user in (self.ceo, self.outsider):
            with self.subTest(user=user.username):
                delivery = ReportDelivery.objects.get(schedule=made, recipient=user.employee)
                self.assertEqual(delivery.state, DeliveryState.QUEUED)
                self.assertEqual(delivery.attachment_name, "journey-2026-04-06.xlsx")
                path = schedules.reports_dir() / delivery.file_name
                sheet = openpyxl.load_workbook(path, read_only=True).active
                rows = [_plain(row) for row in sheet.iter_rows(values_only=True)]
                with translation.override(user.employee.language):
                    table = KINDS["journey"].table(filter_request(user, JOURNEY_QUERY))
                    expected = [_plain(row) for batch in table.batches() for row in batch]
                self.assertEqual(rows[0], [column.header for column in table.columns])
                self.assertEqual(rows[0][1], headers[user.employee.language])
                self.assertEqual(rows[1:], expected)
                self.assertIn(f"/journey/?{JOURNEY_QUERY}", delivery.text)
        # The e-mail the outbox builds has the file attached, read from disk at send time.
        (message,) = outbox_messages("ceo@example.org")
        built = email.message_from_bytes(
            schedules._build([message], {})[message.pk], policy=email.policy.default
        )
        (attachment,) = list(built.iter_attachments())
        self.assertEqual(attachment.get_filename(), "journey-2026-04-06.xlsx")
        workbook = openpyxl.load_workbook(io.BytesIO(attachment.get_content()), read_only=True)
        self.assertEqual(next(workbook.active.iter_rows(values_only=True))[1], "Touchpoint")
        self.assertEqual(built.get_body(("html",)).get_content().count("/journey/?since="), 1)
        # The outsider sees only their own customer's answers: fewer ratings than the CEO.
        counts = {}
        for user in (self.ceo, self.outsider):
            path = schedules.reports_dir() / (
                ReportDelivery.objects.get(recipient=user.employee).file_name
            )
            sheet = openpyxl.load_workbook(path, read_only=True).active
            counts[user.username] = sum(
                row[2] or 0 for row in sheet.iter_rows(min_row=2, values_only=True)
            )
        self.assertLess(counts["outsider"], counts["ceo"])

    @pytest.mark.skipif(not HAS_PDF, reason="WeasyPrint cannot load Pango")
    def test_a_dashboard_as_pdf_is_its_table_printed(self):
        import pypdf

        Employee.objects.filter(user=self.ceo).update(language="en")
        made = self.make([self.ceo], format="pdf")
        self.assertEqual(schedules.send_due(NOW), 1)
        delivery = ReportDelivery.objects.get(schedule=made)
        self.assertEqual(delivery.attachment_name, "journey-2026-04-06.pdf")
        reader = pypdf.PdfReader(schedules.reports_dir() / delivery.file_name)
        text = " ".join(page.extract_text() for page in reader.pages)
        for word in ("Journey map", "Work · Kick-off meeting", "Work · Billing", "Ratings"):
            self.assertIn(word, text)
        # Recorded as an export by the recipient, in whose scope it was read.
        event = AuditEvent.objects.get(action=Action.EXPORT)
        self.assertEqual((event.object_kind, event.details["rows"]), ("journey", 2))
        self.assertEqual(event.details["schedule"], made.pk)

    def test_the_weekly_digest_is_each_persons_own_e_mail(self):
        Employee.objects.filter(user=self.teammate).update(language="en")
        self.make([self.teammate], report="weekly_digest", query="")
        self.assertEqual(schedules.send_due(NOW), 1)
        delivery = ReportDelivery.objects.get()
        self.assertEqual((delivery.state, delivery.file_name), (DeliveryState.QUEUED, ""))
        self.assertIn("Your week in cxloop", delivery.subject)
        (message,) = outbox_messages("teammate@example.org")
        built = email.message_from_bytes(
            schedules._build([message], {})[message.pk], policy=email.policy.default
        )
        self.assertIn("image/png", {part.get_content_type() for part in built.walk()})

    def test_someone_whose_role_does_not_show_the_review_is_skipped(self):
        made = self.make([self.teammate], report="cycle_review", format="pdf", query=Q1)
        self.assertEqual(schedules.send_due(NOW), 0)
        delivery = ReportDelivery.objects.get(schedule=made)
        self.assertEqual(delivery.state, DeliveryState.SKIPPED)
        self.assertEqual(delivery.file_name, "")
        # The reason in the recipient's language (Russian, the default).
        with translation.override("ru"):
            self.assertEqual(
                delivery.error, translation.gettext("Their role does not show this report.")
            )
        self.assertNotEqual(delivery.error, "Their role does not show this report.")

    def test_old_files_are_deleted(self):
        self.make([self.ceo])
        schedules.send_due(NOW)
        delivery = ReportDelivery.objects.get()
        path = schedules.reports_dir() / delivery.file_name
        self.assertTrue(path.exists())
        self.assertEqual(schedules.purge_files(NOW + dt.timedelta(days=schedules.KEPT_DAYS - 1)), 0)
        later = NOW + dt.timedelta(days=schedules.KEPT_DAYS + 1)
        self.assertEqual(schedules.purge_files(later), 1)
        self.assertFalse(path.exists())


class SchedulePageTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)
        cls.ceo = cls._user("ceo", cls.firm, Role.EXECUTIVE)

    def form(self, **fields):
        return {
            "name": "Board pack",
            "report": "executive",
            "format": "pdf",
            "query": "",
            "frequency": "monthly",
            "weekday": "0",
            "day_of_month": "1",
            "hour": "8",
            "recipients": [self.ceo.employee.pk],
        } | fields

    def test_only_the_cx_lead_sees_the_pages(self):
        made = ReportSchedule.objects.create(name="R", report="journey", created_at=NOW)
        for user in (self.ceo, self.owner, self.teammate):
            self.client.force_login(user)
            for name, args in (
                ("report_schedule_list", []),
                ("report_schedule_new", []),
                ("report_schedule_edit", [made.pk]),
            ):
                self.assertEqual(self.client.get(reverse(name, args=args)).status_code, 403)
            response = self.client.post(reverse("report_schedule_send", args=[made.pk]))
            self.assertEqual(response.status_code, 403)
        self.client.force_login(self.lead)
        self.assertEqual(self.client.get(reverse("report_schedule_list")).status_code, 200)

    def test_the_cx_lead_creates_switches_and_sends_now(self):
        self.client.force_login(self.lead)
        response = self.client.post(reverse("report_schedule_new"), self.form())
        made = ReportSchedule.objects.get()
        self.assertRedirects(response, reverse("report_schedule_edit", args=[made.pk]))
        self.assertEqual(list(made.recipients.all()), [self.ceo.employee])
        self.assertEqual(made.next_run_at.astimezone(MSK).day, 1)
        self.assertEqual(made.next_run_at.astimezone(MSK).hour, 8)
        self.client.post(reverse("report_schedule_send", args=[made.pk]))
        made.refresh_from_db()
        self.assertLess(made.next_run_at, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5))
        self.client.post(reverse("report_schedule_toggle", args=[made.pk]), {"active": "0"})
        made.refresh_from_db()
        self.assertFalse(made.is_active)
        self.assertIsNone(made.next_run_at)
        html = self.client.get(reverse("report_schedule_list")).content.decode()
        self.assertIn("Board pack", html)
        self.assertNotIn("style=", html)

    def test_bad_input_is_refused_naming_the_field(self):
        self.client.force_login(self.lead)
        cases = [
            ({"day_of_month": "31"}, "day_of_month"),
            ({"recipients": []}, "recipients"),
            ({"format": "xlsx"}, "format"),  # the executive pack is PDF only
            ({"query": "since=2026-13-01&until=x"}, "query"),
            ({"report": "journey", "query": "segment=no-such-segment"}, "query"),
            ({"report": "responses"}, "report"),  # a list, not a dashboard
            ({"report": "no_such_dashboard"}, "report"),
            ({"hour": "24"}, "hour"),
        ]
        for fields, field in cases:
            with self.subTest(field=field, fields=fields):
                response = self.client.post(reverse("report_schedule_new"), self.form(**fields))
                self.assertEqual(response.status_code, 200)
                self.assertIn(field, response.context["form"].errors)
        self.assertFalse(ReportSchedule.objects.exists())


@pytest.mark.skipif(not HAS_PDF, reason="WeasyPrint cannot load Pango")
@override_settings(BASE_URL="https://cx.example.org")
class ScheduledPdfThroughSmtpTests(OwnFactStore, TransactionTestCase):
    """Committed data: the outbox sends from threads with their own database connections."""

    def setUp(self):
        self.data_dir = tempfile.TemporaryDirectory()
        self.enterContext(override_settings(DATA_DIR=self.data_dir.name))
        self.addCleanup(self.data_dir.cleanup)
        firm = Team.objects.create(name="Firm")
        team = Team.objects.create(name="Team A", parent=firm)
        self.lead = self.person("lead", firm, Role.ADMIN, "ru")
        self.ceo = self.person("ceo", firm, Role.EXECUTIVE, "en")
        self.clerk = self.person("clerk", team, Role.EMPLOYEE, "en")
        make_insight_data(ours=self.clerk, theirs=self.clerk)
        rebuild()

    def person(self, username, team, role, language) -> Employee:
        user = BaseTestCase._user(username, team, role)
        Employee.objects.filter(user=user).update(language=language)
        return Employee.objects.get(user=user)

    def test_the_executive_pack_arrives_with_its_charts_in_each_recipients_language(self):
        import pypdf

        made = ReportSchedule(name="Board pack", report="executive", format="pdf", query=Q1)
        made = schedules.save_schedule(
            made, [self.lead, self.ceo, self.clerk], now=NOW - dt.timedelta(days=40)
        )
        with SmtpServer() as smtp:
            self.assertEqual(schedules.send_due(NOW), 2)
            with override_settings(**smtp.settings):
                outcomes = send_email(now=NOW)
            self.assertEqual(outcomes["sent"], 2)
            by_recipient = {m["To"]: m for m in smtp.messages}
        self.assertEqual(set(by_recipient), {"lead@example.org", "ceo@example.org"})
        words = {
            "lead@example.org": ("Key clients", "март 2026"),
            "ceo@example.org": ("Executive review", "NPS by month", "March 2026"),
        }
        for address, message in by_recipient.items():
            with self.subTest(recipient=address):
                (attachment,) = list(message.iter_attachments())
                self.assertEqual(attachment.get_content_type(), "application/pdf")
                self.assertEqual(
                    attachment.get_filename(), "executive-review-2026-01-01-2026-03-31.pdf"
                )
                reader = pypdf.PdfReader(io.BytesIO(attachment.get_content()))
                text = pdf_text(reader)
                for word in words[address]:
                    self.assertIn(word, text)
                # The charts, drawn as vector forms (vl-convert's SVG): two at least.
                self.assertGreaterEqual(len(vector_forms(reader)), 2)
                body = message.get_body(("plain",)).get_content()
                self.assertIn("https://cx.example.org/dashboard/executive/?since=2026-01-01", body)
        self.assertIn("Executive", by_recipient["ceo@example.org"]["Subject"])
        self.assertIn("Board pack", by_recipient["lead@example.org"]["Subject"])
        states = dict(
            ReportDelivery.objects.filter(schedule=made).values_list(
                "recipient__user__username", "state"
            )
        )
        self.assertEqual(
            states,
            {"lead": DeliveryState.SENT, "ceo": DeliveryState.SENT, "clerk": DeliveryState.SKIPPED},
        )

    def test_the_journey_map_arrives_with_its_charts_in_each_recipients_language(self):
        import pypdf

        made = ReportSchedule(
            name="Monday map", report="journey", format="pdf", query=JOURNEY_QUERY
        )
        made = schedules.save_schedule(made, [self.lead, self.ceo], now=NOW - dt.timedelta(days=7))
        with SmtpServer() as smtp:
            self.assertEqual(schedules.send_due(NOW), 2)
            with override_settings(**smtp.settings):
                self.assertEqual(send_email(now=NOW)["sent"], 2)
            by_recipient = {m["To"]: m for m in smtp.messages}
        self.assertEqual(set(by_recipient), {"lead@example.org", "ceo@example.org"})
        # The page's two charts, each titled as the page titles it, in the recipient's words.
        words = {
            "lead@example.org": ("Карта пути клиента", "Средняя оценка по этапам пути", "Работа"),
            "ceo@example.org": ("Journey map", "Mean rating by journey stage", "Work"),
        }
        for address, message in by_recipient.items():
            with self.subTest(recipient=address):
                (attachment,) = list(message.iter_attachments())
                self.assertEqual(attachment.get_filename(), "journey-2026-04-06.pdf")
                reader = pypdf.PdfReader(io.BytesIO(attachment.get_content()))
                text = pdf_text(reader)
                for word in (*words[address], "Monday map", "Kick-off meeting", "Billing"):
                    self.assertIn(word, text)
                other = "ceo@example.org" if address == "lead@example.org" else "lead@example.org"
                self.assertNotIn(words[other][1], text)
                # The importance grid and the emotion curve, as vector forms, not pictures.
                self.assertGreaterEqual(len(vector_forms(reader)), 2)
                body = message.get_body(("plain",)).get_content()
                self.assertIn(f"https://cx.example.org/journey/?{JOURNEY_QUERY}", body)
        states = set(ReportDelivery.objects.filter(schedule=made).values_list("state", flat=True))
        self.assertEqual(states, {DeliveryState.SENT})
