"""The weekly digest through the outbox to a real SMTP server: on Monday morning each person gets
their own scorecard in their language, as text + HTML with the trend chart as an inline PNG the
HTML names by Content-ID, with their open cases and the links to their scorecard; once a week
however many rounds run; not before the working day, and not on Tuesday."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.test import TransactionTestCase, override_settings

from cxloop.cases import services
from cxloop.cases.choices import Origin
from cxloop.cases.models import SlaPolicy
from cxloop.customers.models import Customer
from cxloop.improvements.training import Assignment, Course
from cxloop.outbox.delivery import send_due
from cxloop.people.models import Employee, Role, Team
from cxloop.reports import weekly_digest
from cxloop.test import BaseTestCase, OwnFactStore
from tests.smtp import SmtpServer

MSK = ZoneInfo("Europe/Moscow")
BASE_URL = "https://cx.example.org"
MONDAY_10 = dt.datetime(2026, 3, 16, 10, 0, tzinfo=MSK)


def parts(message) -> dict[str, object]:
    """The message's leaf parts by content type."""
    return {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}


@override_settings(BASE_URL=BASE_URL)
class WeeklyDigestTests(OwnFactStore, TransactionTestCase):
    """Committed data: the outbox sends from threads with their own database connections."""

    def setUp(self):
        team = Team.objects.create(name="Sales")
        self.english = self.employee("anna", team, "en")
        self.russian = self.employee("boris", team, "ru")
        policy = SlaPolicy.objects.create(
            name_ru="Стандарт", name_en="Standard", first_contact_hours=4, resolution_hours=16
        )
        self.case = services.open_case(
            origin=Origin.MANUAL,
            title="Invoice sent twice",
            now=MONDAY_10 - dt.timedelta(days=3),
            owner=self.english,
            customer=Customer.objects.create(name="Alpha Leasing"),
            sla_policy=policy,
        )
        course = Course.objects.create(
            title="Работа с возражениями", title_en="Handling objections", created_at=MONDAY_10
        )
        Assignment.objects.create(
            course=course,
            employee=self.english,
            due_on=dt.date(2026, 3, 20),
            assigned_at=MONDAY_10 - dt.timedelta(days=10),
        )

    def employee(self, username: str, team: Team, language: str) -> Employee:
        user = BaseTestCase._user(username, team, Role.EMPLOYEE)
        Employee.objects.filter(user=user).update(language=language)
        return Employee.objects.get(user=user)

    def deliver(self, smtp, now: dt.datetime) -> int:
        """One worker round at ``now``: the digest is queued, the outbox sends it."""
        queued = weekly_digest.send_due(now)
        with override_settings(**smtp.settings):
            send_due(now=now)
        return queued

    def test_it_arrives_on_monday_morning_in_each_language_with_the_chart_inline(self):
        with SmtpServer() as smtp:
            self.assertEqual(self.deliver(smtp, MONDAY_10), 2)
            by_recipient = {m["To"]: m for m in smtp.messages}
        english = by_recipient["anna@example.org"]
        self.assertEqual(english["Subject"], "Your week in cxloop: the scorecard to 15.03.2026")
        body = parts(english)
        self.assertEqual(set(body), {"text/plain", "text/html", "image/png"})
        text, html = body["text/plain"].get_content(), body["text/html"].get_content()
        image = body["image/png"]
        self.assertTrue(image.get_content().startswith(b"\x89PNG"))
        content_id = image["Content-ID"].strip("<>")
        self.assertIn(f'src="cid:{content_id}"', html)
        self.assertNotIn("data:image", html)
        scorecard = f"{BASE_URL}/people/scorecards/people/{self.english.pk}/"
        self.assertIn(scorecard, text)
        self.assertIn(f'href="{scorecard}"', html)
        self.assertIn(f"{BASE_URL}/cases/{self.case.pk}/", text)
        self.assertIn(self.case.reference, html)
        self.assertIn("Customers’ NPS: —, n = 0", text)
        self.assertIn("Training: 0 of 1 done, 0 overdue.", " ".join(text.split()))
        self.assertIn("Handling objections (due 03/20/2026)", text)
        self.assertIn('<html lang="en">', html)
        russian = parts(by_recipient["boris@example.org"])
        self.assertIn('<html lang="ru">', russian["text/html"].get_content())
        self.assertIn("Здравствуйте, Boris.", russian["text/plain"].get_content())
        self.assertIn("image/png", russian)

    def test_it_goes_once_a_week_however_many_rounds_run(self):
        with SmtpServer() as smtp:
            self.deliver(smtp, MONDAY_10)
            self.assertEqual(self.deliver(smtp, MONDAY_10), 0)
            self.assertEqual(self.deliver(smtp, MONDAY_10 + dt.timedelta(hours=5)), 0)
            self.assertEqual(len(smtp.messages), 2)
            # The next Monday brings the next week's.
            self.assertEqual(self.deliver(smtp, MONDAY_10 + dt.timedelta(days=7)), 2)
        self.assertEqual(
            set(Employee.objects.values_list("weigh_in_sent_for", flat=True)),
            {dt.date(2026, 3, 23)},
        )

    def test_it_waits_for_the_working_day_and_is_not_sent_on_tuesday(self):
        with SmtpServer() as smtp:
            self.assertEqual(self.deliver(smtp, MONDAY_10.replace(hour=7)), 0)
            self.assertEqual(self.deliver(smtp, MONDAY_10 + dt.timedelta(days=1)), 0)
            self.assertEqual(smtp.messages, [])
