"""Case e-mails through the outbox to a real SMTP server: instant news and the daily summary
arrive as text + HTML in the recipient's language with the link to the case, never outside the
recipient's working hours unless the case is urgent, once, and through an SMTP outage."""

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from django.test import TransactionTestCase, override_settings

from cxloop.cases import jobs, services
from cxloop.cases.choices import Delivery, NotificationKind, Origin, Priority
from cxloop.cases.models import Case, NotificationPreference, SlaPolicy
from cxloop.customers.models import Customer
from cxloop.outbox.delivery import send_due
from cxloop.outbox.kinds import backoff
from cxloop.outbox.models import OutboxMessage, State
from cxloop.people.models import Employee, Role, Team
from cxloop.test import BaseTestCase
from tests.smtp import Mailbox, SmtpServer, free_port

MSK = ZoneInfo("Europe/Moscow")
BASE_URL = "https://cx.example.org"


def msk(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MSK)


MONDAY_10 = msk(2026, 3, 16, 10, 0)


def parts(message) -> dict[str, str]:
    """The message's parts by content type (text/plain, text/html)."""
    return {
        part.get_content_type(): part.get_content()
        for part in message.walk()
        if not part.is_multipart()
    }


@override_settings(BASE_URL=BASE_URL)
class CaseMailTests(TransactionTestCase):
    """Committed data: the outbox sends from threads with their own database connections."""

    def setUp(self):
        firm = Team.objects.create(name="Firm")
        self.team = Team.objects.create(name="Sales", parent=firm)
        self.english = self.employee("anna", "en")
        self.russian = self.employee("boris", "ru")
        self.policy = SlaPolicy.objects.create(
            name_ru="Стандарт", name_en="Standard", first_contact_hours=4, resolution_hours=16
        )
        self.customer = Customer.objects.create(name="Alpha Leasing")
        # Monday's summaries are out already: the tests of instant news see only that news.
        Employee.objects.update(digest_sent_on=MONDAY_10.date())

    def employee(self, username: str, language: str) -> Employee:
        user = BaseTestCase._user(username, self.team, Role.EMPLOYEE)
        Employee.objects.filter(user=user).update(language=language)
        return Employee.objects.get(user=user)

    def open(
        self, owner: Employee, now: dt.datetime, *, title="Invoice sent twice", **fields
    ) -> Case:
        return services.open_case(
            origin=Origin.MANUAL,
            title=title,
            now=now,
            owner=owner,
            customer=self.customer,
            sla_policy=self.policy,
            **fields,
        )

    def deliver(self, smtp, now: dt.datetime) -> Counter:
        """One worker round at ``now``: the jobs queue the e-mails, the outbox sends them."""
        jobs.run_due(now)
        with override_settings(**smtp.settings):
            return send_due(now=now)

    def test_news_arrives_as_text_and_html_in_the_recipients_language_with_the_link(self):
        english_case = self.open(self.english, MONDAY_10)
        russian_case = self.open(self.russian, MONDAY_10, title="Счёт дважды")
        with SmtpServer() as smtp:
            self.assertEqual(self.deliver(smtp, MONDAY_10), {"sent": 2})
            self.assertEqual(self.deliver(smtp, MONDAY_10 + dt.timedelta(minutes=1)), {})
            by_recipient = {m["To"]: m for m in smtp.messages}
        english = by_recipient["anna@example.org"]
        self.assertEqual(
            english["Subject"],
            f"Case {english_case.reference} is assigned to you: Invoice sent twice",
        )
        body = parts(english)
        self.assertEqual(set(body), {"text/plain", "text/html"})
        self.assertIn(f"{BASE_URL}/cases/{english_case.pk}/", body["text/plain"])
        self.assertIn(f'href="{BASE_URL}/cases/{english_case.pk}/"', body["text/html"])
        self.assertIn("Customer: Alpha Leasing", body["text/plain"])
        self.assertIn('<html lang="en">', body["text/html"])
        russian = parts(by_recipient["boris@example.org"])
        self.assertIn("Клиент: Alpha Leasing", russian["text/plain"])
        self.assertIn('<html lang="ru">', russian["text/html"])
        self.assertIn(f"{BASE_URL}/cases/{russian_case.pk}/", russian["text/plain"])

    def test_news_waits_for_the_working_morning_unless_the_case_is_urgent(self):
        evening = msk(2026, 3, 16, 20, 0)
        calm = self.open(self.english, evening, title="Calm")
        self.open(self.russian, evening, title="Burning", priority=Priority.URGENT)
        with SmtpServer() as smtp:
            self.deliver(smtp, evening)
            self.deliver(smtp, msk(2026, 3, 17, 8, 59))
            self.assertEqual([m["Subject"].split(": ")[-1] for m in smtp.messages], ["Burning"])
            self.deliver(smtp, msk(2026, 3, 17, 9, 0))
            subjects = [m["Subject"] for m in smtp.messages if m["To"] == "anna@example.org"]
        self.assertIn(f"Case {calm.reference} is assigned to you: Calm", subjects)

    def test_digest_news_comes_in_the_next_summary_not_at_once(self):
        Employee.objects.update(digest_sent_on=None)
        NotificationPreference.objects.create(
            employee=self.english, kind=NotificationKind.ASSIGNED, delivery=Delivery.DIGEST
        )
        case = self.open(self.english, msk(2026, 3, 16, 7, 0))
        with SmtpServer() as smtp:
            self.deliver(smtp, msk(2026, 3, 16, 8, 0))  # before the working day: nothing
            self.assertEqual(smtp.messages, [])
            self.deliver(smtp, msk(2026, 3, 16, 9, 0))
            self.deliver(smtp, msk(2026, 3, 16, 9, 30))  # one summary a day
            self.assertEqual(len(smtp.messages), 1)
            summary = smtp.messages[0]
            self.assertTrue(
                summary["Subject"].startswith("Your cases on 16.03.2026: 1 open, 0 overdue")
            )
            text = parts(summary)["text/plain"]
            self.assertIn("News since the last summary", text)
            self.assertIn(f"{case.reference} Invoice sent twice: {BASE_URL}/cases/{case.pk}/", text)
            self.deliver(smtp, msk(2026, 3, 17, 9, 5))  # Tuesday: open and now overdue, no news
            summaries = [m for m in smtp.messages if m["Subject"].startswith("Your cases on")]
            self.assertEqual(len(summaries), 2)
            tuesday = parts(summaries[1])
        self.assertNotIn("News since the last summary", tuesday["text/plain"])
        self.assertIn("Overdue", tuesday["text/plain"])
        self.assertIn('<html lang="en">', tuesday["text/html"])

    def test_a_worker_started_in_the_evening_keeps_the_summary_for_the_next_morning(self):
        Employee.objects.update(digest_sent_on=None)
        self.open(self.english, msk(2026, 3, 16, 7, 0))
        with SmtpServer() as smtp:
            self.deliver(smtp, msk(2026, 3, 16, 22, 57))  # Monday, after hours: not "today"
            self.assertEqual(
                [m["Subject"] for m in smtp.messages if m["Subject"].startswith("Your cases")], []
            )
            self.deliver(smtp, msk(2026, 3, 17, 9, 0))
            summaries = [m["Subject"] for m in smtp.messages if m["Subject"].startswith("Your")]
        self.assertEqual(len(summaries), 1)
        self.assertTrue(summaries[0].startswith("Your cases on 17.03.2026"), summaries)

    def test_cases_opened_during_an_smtp_outage_are_mailed_once_when_it_is_back(self):
        port = free_port()
        down = {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": port,
            "EMAIL_USE_TLS": False,
        }
        cases = [self.open(self.english, MONDAY_10, title=f"Case {i}") for i in range(3)]
        jobs.run_due(MONDAY_10)
        with override_settings(**down):
            self.assertEqual(send_due(now=MONDAY_10), {"retried": 3})
        self.assertEqual(set(OutboxMessage.objects.values_list("state", flat=True)), {State.QUEUED})
        box = Mailbox(pipelining=True)
        server = Controller(box, hostname="127.0.0.1", port=port)
        server.start()
        try:
            later = MONDAY_10 + backoff(1)
            jobs.run_due(later)
            with override_settings(**down):
                self.assertEqual(send_due(now=later), {"sent": 3})
                jobs.run_due(later + dt.timedelta(hours=1))
                send_due(now=later + dt.timedelta(hours=1))
        finally:
            server.stop()
        links = sorted(
            next(line for line in parts(m)["text/plain"].splitlines() if BASE_URL in line)
            for m in box.messages
        )
        self.assertEqual(
            links, sorted(f"Open the case: {BASE_URL}/cases/{case.pk}/" for case in cases)
        )
        self.assertEqual(len(box.messages), 3)
        self.assertEqual(len({m["Message-ID"] for m in box.messages}), 3)
