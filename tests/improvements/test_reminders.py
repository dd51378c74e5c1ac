"""Overdue action items reach their owners through the outbox and a real SMTP server: in the
owner's language, with the link to the initiative, only within the owner's working hours, once
per item, and not for items done or of initiatives finished."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.test import TransactionTestCase, override_settings

from cxloop.improvements import reminders, services
from cxloop.improvements.models import ActionItem
from cxloop.journeys.models import Journey, Stage
from cxloop.outbox.delivery import send_due
from cxloop.people.models import Employee, Role, Team
from cxloop.test import BaseTestCase
from tests.cases.test_case_mail import parts
from tests.improvements.data import propose, touchpoint
from tests.smtp import SmtpServer

MSK = ZoneInfo("Europe/Moscow")
BASE_URL = "https://cx.example.org"
TUESDAY_10 = dt.datetime(2026, 3, 17, 10, 0, tzinfo=MSK)
MONDAY = dt.date(2026, 3, 16)


@override_settings(BASE_URL=BASE_URL)
class OverdueActionItemTests(TransactionTestCase):
    """Committed data: the outbox sends from threads with their own database connections."""

    def setUp(self):
        team = Team.objects.create(name="Sales")
        self.anna = self.employee("anna", team, "en")
        self.boris = self.employee("boris", team, "ru")
        stage = Stage.objects.create(
            journey=Journey.objects.create(name_ru="Путь", name_en="Journey"),
            order=1,
            name_ru="Начало",
            name_en="Start",
        )
        self.kickoff = touchpoint(stage, 1, "kickoff", "Встреча", "Kick-off")
        self.initiative = propose(self.boris, [self.kickoff], now=TUESDAY_10 - dt.timedelta(7))

    @staticmethod
    def employee(username, team, language) -> Employee:
        user = BaseTestCase._user(username, team, Role.EMPLOYEE)
        Employee.objects.filter(user=user).update(language=language)
        return Employee.objects.get(user=user)

    def item(self, owner, due_on=MONDAY, text="Send the agenda template") -> ActionItem:
        return services.add_action_item(
            self.initiative,
            text=text,
            owner=owner,
            due_on=due_on,
            by=self.boris,
            now=TUESDAY_10 - dt.timedelta(days=7),
        )

    def deliver(self, smtp, now):
        reminders.run_due(now)
        with override_settings(**smtp.settings):
            return send_due(now=now)

    def test_the_owner_hears_once_in_their_language_with_the_link(self):
        english = self.item(self.anna)
        self.item(self.boris, text="Разослать шаблон")
        with SmtpServer() as smtp:
            self.assertEqual(self.deliver(smtp, TUESDAY_10), {"sent": 2})
            self.assertEqual(self.deliver(smtp, TUESDAY_10 + dt.timedelta(hours=1)), {})
            by_recipient = {m["To"]: m for m in smtp.messages}
        message = by_recipient["anna@example.org"]
        reference = self.initiative.reference
        self.assertEqual(
            message["Subject"],
            f"Action item overdue since 16.03.2026: {reference} Agenda sent ahead",
        )
        body = parts(message)
        self.assertIn("Send the agenda template", body["text/plain"])
        self.assertIn(f"{BASE_URL}/initiatives/{self.initiative.pk}/", body["text/plain"])
        self.assertIn('<html lang="en">', body["text/html"])
        russian = by_recipient["boris@example.org"]
        self.assertIn("Разослать шаблон", parts(russian)["text/plain"])
        self.assertIn('<html lang="ru">', parts(russian)["text/html"])
        english.refresh_from_db()
        self.assertEqual(english.overdue_told_at, TUESDAY_10)
        told = self.initiative.events.filter(kind="action_overdue")
        self.assertEqual(told.count(), 2)

    def test_it_waits_for_the_owners_working_day(self):
        self.item(self.anna)
        with SmtpServer() as smtp:
            self.deliver(smtp, dt.datetime(2026, 3, 17, 7, 30, tzinfo=MSK))
            self.deliver(smtp, dt.datetime(2026, 3, 16, 23, 0, tzinfo=MSK))
            self.assertEqual(smtp.messages, [])
            self.deliver(smtp, dt.datetime(2026, 3, 17, 9, 0, tzinfo=MSK))
            self.assertEqual([m["To"] for m in smtp.messages], ["anna@example.org"])

    def test_an_item_due_today_done_or_of_a_finished_initiative_is_not_overdue(self):
        self.item(self.anna, due_on=TUESDAY_10.date())
        done = self.item(self.boris)
        services.set_action_item_done(done, True, by=self.boris, now=TUESDAY_10)
        with SmtpServer() as smtp:
            self.deliver(smtp, TUESDAY_10)
            self.assertEqual(smtp.messages, [])
        self.item(self.anna, text="late")
        services.change_state(self.initiative, "abandoned", by=self.boris, now=TUESDAY_10)
        with SmtpServer() as smtp:
            self.deliver(smtp, TUESDAY_10)
            self.assertEqual(smtp.messages, [])
