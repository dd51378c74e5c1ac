"""Invitations e-mailed through a real SMTP server, reminders, the fatigue rule, unsubscribing."""

import datetime as dt
import io
import re
import smtplib
import threading
from unittest import mock, skipUnless

from django.core import mail
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import TransactionTestCase, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cxloop.customers.models import Contact, Customer
from cxloop.outbox.delivery import send_due
from cxloop.outbox.models import OutboxMessage
from cxloop.surveys.distribution import (
    distribute,
    plan_invitations,
    queue_invitations,
    queue_reminders,
)
from cxloop.surveys.mail import mailer
from cxloop.surveys.models import Invitation, Question, Survey
from cxloop.surveys.services import hash_token, issue_invitation
from tests.smtp import SmtpServer, free_port
from tests.surveys.test_respond import make_survey

LINK = re.compile(r"http://127\.0\.0\.1:8000(/s/[^/\s]+/)")


def send_invitation(invitation_id: int, *, now=None) -> dict[str, int]:
    """Queue one invitation's e-mail (if it has none yet) and send what is due."""
    queue_invitations([invitation_id], now=now or timezone.now())
    return dict(send_due(now=now))


def text(message) -> str:
    """The plain-text part of a received e-mail."""
    return message.get_body(preferencelist=("plain",)).get_content()


def run_worker() -> None:
    call_command("worker", batch=True, verbosity=0)


class DistributionTests(TransactionTestCase):
    """Committed data, because the task worker runs each task in its own transaction."""

    def setUp(self):
        self.smtp = self.enterContext(SmtpServer())
        self.enterContext(override_settings(**self.smtp.settings))
        self.now = timezone.now()
        customer = Customer.objects.create(external_id="C-1", name="Acme")

        def contact(name, email, **fields):
            fields = {"consent": True, "language": "ru", **fields}
            return Contact.objects.create(customer=customer, name=name, email=email, **fields)

        self.anna = contact("Анна Петрова", "anna@acme.example")
        self.john = contact("John Smith", "john@acme.example", language="en")
        self.gone = contact("Олег", "oleg@acme.example", opted_out_at=timezone.now())
        self.shy = contact("Ирина", "irina@acme.example", consent=False)
        self.mute = contact("Пётр", "")
        self.bounce = contact("Bounce", "bounce@acme.example", language="en")
        self.survey = make_survey(reminder_after_days=3)
        self.other = Survey.objects.create(name_ru="Другой", name_en="Other", kind="transactional")

    def test_it_lists_whom_it_skips_and_why(self):
        sent, _ = issue_invitation(self.other, self.john, now=self.now - dt.timedelta(days=10))
        Invitation.objects.filter(pk=sent.pk).update(sent_at=sent.created_at)  # delivered
        everyone = [self.anna, self.john, self.gone, self.shy, self.mute, self.anna]
        plan = plan_invitations(everyone, now=self.now, fatigue_days=30)
        self.assertEqual(plan.invite, [self.anna])
        reasons = {(s.contact.name, s.reason) for s in plan.skipped}
        self.assertEqual(
            reasons,
            {
                ("John Smith", "приглашали в последние 30 дней"),
                ("Олег", "отказался от опросов"),
                ("Ирина", "нет согласия на опросы"),
                ("Пётр", "нет адреса e-mail"),
                ("Анна Петрова", "указан дважды"),
            },
        )
        self.assertEqual(
            plan_invitations([self.john], now=self.now, fatigue_days=7).invite, [self.john]
        )

    def test_it_emails_a_personal_link_in_the_contacts_language(self):
        distribute(self.survey, [self.anna, self.john], now=self.now, fatigue_days=30)
        self.assertEqual(self.smtp.messages, [])  # nothing leaves before the worker runs
        run_worker()
        by_address = {m["To"]: m for m in self.smtp.messages}
        self.assertEqual(set(by_address), {"anna@acme.example", "john@acme.example"})
        russian = by_address["anna@acme.example"]
        self.assertEqual(russian["Subject"], "Опрос клиентов")
        self.assertIn("Анна Петрова", text(russian))
        self.assertIn("/u/", russian["List-Unsubscribe"])
        english = text(by_address["john@acme.example"])
        self.assertIn("Dear John Smith", english)
        # Two scales and two comments take about three minutes; no sentence ends twice.
        self.assertIn("It takes about 3 minutes.", english)
        self.assertIn("около 3 минут.", text(russian))
        self.assertNotIn("..", text(russian) + english)
        path = LINK.search(english).group(1)
        token = path.split("/")[2]
        self.assertGreaterEqual(len(token) * 6, 128)
        invitation = Invitation.objects.get(contact=self.john)
        self.assertEqual(invitation.token_hash, hash_token(token))
        self.assertIsNotNone(invitation.sent_at)
        self.assertContains(self.client.get(path), "Would you recommend us?")

    def test_it_says_how_long_the_survey_takes_from_its_questions(self):
        self.assertEqual(self.other.minutes_to_answer(), 1)  # no questions: just the page
        self.assertEqual(self.survey.minutes_to_answer(), 3)  # 15 s + 2 × 8 s + 2 × 45 s
        for order in range(5, 25):
            Question.objects.create(
                survey=self.survey, order=order, kind="rating", text_ru="Оценка", text_en="Rating"
            )
        self.assertEqual(self.survey.minutes_to_answer(), 5)  # 20 more scales: 281 s

    def test_it_sends_each_invitation_once_even_when_run_twice(self):
        distribute(self.survey, [self.anna], now=self.now, fatigue_days=30)
        invitation = Invitation.objects.get()
        run_worker()
        self.assertEqual(send_invitation(invitation.pk), {})
        run_worker()
        self.assertEqual(len(self.smtp.messages), 1)

    def test_it_records_a_refused_recipient_as_bounced(self):
        distribute(self.survey, [self.bounce], now=self.now, fatigue_days=30)
        run_worker()
        invitation = Invitation.objects.get()
        self.assertIsNotNone(invitation.bounced_at)
        self.assertEqual(self.smtp.messages, [])

    @skipUnless(connection.vendor == "postgresql", "SQLite has no row locks to skip")
    def test_it_sends_while_another_worker_holds_the_survey_and_contact(self):
        invitation, _ = issue_invitation(self.survey, self.anna, now=self.now)
        locked, release = threading.Event(), threading.Event()

        def other_worker():
            with transaction.atomic():
                Survey.objects.select_for_update().get(pk=self.survey.pk)
                Contact.objects.select_for_update().get(pk=self.anna.pk)
                locked.set()
                release.wait(10)
            connections.close_all()

        thread = threading.Thread(target=other_worker)
        thread.start()
        locked.wait(10)
        try:
            self.assertEqual(send_invitation(invitation.pk), {"sent": 1})
        finally:
            release.set()
            thread.join()

    def test_it_keeps_an_invitation_unsent_when_the_server_is_down(self):
        invitation, _ = issue_invitation(self.survey, self.anna, now=self.now)
        with override_settings(EMAIL_PORT=free_port()):
            self.assertEqual(send_invitation(invitation.pk), {"retried": 1})
        invitation.refresh_from_db()
        self.assertIsNone(invitation.sent_at)
        self.assertEqual(send_due(), {})  # not before its backoff
        later = timezone.now() + dt.timedelta(minutes=1)
        self.assertEqual(send_invitation(invitation.pk, now=later), {"sent": 1})
        invitation.refresh_from_db()
        self.assertEqual(invitation.sent_at, later)

    def _reminders(self, days_later: int) -> None:
        later = self.now + dt.timedelta(days=days_later)
        queue_reminders(later)
        send_due(now=later)

    def test_it_reminds_once_those_who_have_not_finished(self):
        distribute(self.survey, [self.anna, self.john], now=self.now, fatigue_days=30)
        run_worker()
        john = Invitation.objects.get(contact=self.john)
        john.responses.create(
            survey=self.survey,
            channel="email",
            state="completed",
            started_at=self.now,
            submitted_at=self.now,
        )
        self._reminders(days_later=2)
        self.assertEqual(len(self.smtp.messages), 2)  # too early
        self._reminders(days_later=4)
        self._reminders(days_later=5)
        reminders = self.smtp.messages[2:]
        self.assertEqual([m["To"] for m in reminders], ["anna@acme.example"])
        # Python folds long encoded subjects after "Subject:"; readers drop that space.
        self.assertEqual(reminders[0]["Subject"].strip(), "Напоминание: Опрос клиентов")

    def test_it_stops_surveys_after_unsubscribing(self):
        distribute(self.survey, [self.anna], now=self.now, fatigue_days=30)
        run_worker()
        path = re.search(r"http://127\.0\.0\.1:8000(/u/[^/\s]+/)", text(self.smtp.messages[0]))
        page = self.client.get(path.group(1))
        self.assertContains(page, "Отписаться")
        self.anna.refresh_from_db()
        self.assertIsNone(self.anna.opted_out_at)  # a GET only asks
        self.assertContains(self.client.post(path.group(1)), "Вы отписаны")
        self.anna.refresh_from_db()
        self.assertIsNotNone(self.anna.opted_out_at)
        self._reminders(days_later=4)
        self.assertEqual(len(self.smtp.messages), 1)
        plan = plan_invitations([self.anna], now=self.now + dt.timedelta(days=60))
        self.assertEqual(plan.skipped[0].reason, "отказался от опросов")

    def test_it_sends_due_reminders_from_the_send_command(self):
        distribute(self.survey, [self.anna], now=self.now - dt.timedelta(days=4), fatigue_days=30)
        run_worker()
        Invitation.objects.update(sent_at=self.now - dt.timedelta(days=4))
        out = io.StringIO()
        call_command("send", stdout=out)
        self.assertEqual(out.getvalue().strip(), "sent: 1")
        call_command("send", stdout=out)
        self.assertEqual(out.getvalue().split("\n")[1], "none due")
        self.assertEqual(len(self.smtp.messages), 2)

    def test_it_writes_names_as_they_are_in_plain_text_mail(self):
        Survey.objects.filter(pk=self.survey.pk).update(name_en="Q&A <quarterly>")
        self.john.name = "O'Brien & Co"
        self.john.save()
        distribute(self.survey, [self.john], now=self.now, fatigue_days=30)
        run_worker()
        message = self.smtp.messages[0]
        self.assertEqual(message["Subject"].strip(), "Q&A <quarterly>")
        self.assertIn("Dear O'Brien & Co,", text(message))
        page = message.get_body(preferencelist=("html",)).get_content()
        self.assertIn("Dear O&#x27;Brien &amp; Co,", page)
        self.assertIn("Q&amp;A &lt;quarterly&gt;", page)
        self.assertNotIn("O'Brien", page)

    def test_it_writes_a_well_formed_mime_message(self):
        distribute(self.survey, [self.anna], now=self.now, fatigue_days=30)
        run_worker()
        (message,) = self.smtp.messages
        self.assertEqual(message.defects, [])
        self.assertEqual(message["From"], "cxloop <cxloop@localhost>")
        self.assertEqual(message["To"], "anna@acme.example")
        self.assertEqual(message["MIME-Version"], "1.0")
        self.assertEqual(message.get_content_type(), "multipart/alternative")
        plain, page = message.iter_parts()
        for part, kind in ((plain, "text/plain"), (page, "text/html")):
            self.assertEqual(part.get_content_type(), kind)
            self.assertEqual(part.get_content_charset(), "utf-8")
            self.assertEqual(part["Content-Transfer-Encoding"], "base64")
        self.assertLess(abs(message["Date"].datetime - timezone.now()), dt.timedelta(minutes=1))
        self.assertRegex(message["Message-ID"], r"^<[^<>@\s]+@[^<>@\s]+>$")
        self.assertEqual(message["Message-ID"], OutboxMessage.objects.get().message_id)
        body = plain.get_content()
        self.assertIn(f'href="{LINK.search(body).group(0)}"', page.get_content())
        unsubscribe = re.search(r"http://127\.0\.0\.1:8000/u/[^/\s]+/", body).group(0)
        self.assertEqual(message["List-Unsubscribe"], f"<{unsubscribe}>")
        self.assertIn("Анна Петрова", body)

    def test_it_claims_and_builds_invitations_in_bulk(self):
        """The claiming thread's statements do not grow with the number of invitations (each
        sending connection records its own messages, one small transaction each)."""

        def queries_to_send(count: int) -> int:
            customer = Customer.objects.create(external_id=f"bulk-{count}", name="Bulk")
            ids = [
                issue_invitation(
                    self.survey,
                    Contact.objects.create(
                        customer=customer, name="Bulk", email=f"b{i}@bulk.example", consent=True
                    ),
                    now=self.now,
                )[0].pk
                for i in range(count)
            ]
            queue_invitations(ids, now=self.now)
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(send_due(now=self.now), {"sent": count})
            return len(queries)

        self.assertEqual(queries_to_send(2), queries_to_send(7))
        self.assertEqual(Invitation.objects.filter(sent_at=self.now).count(), 9)

    def test_it_pipelines_the_commands_when_the_server_offers_it(self):
        distribute(self.survey, [self.anna, self.bounce], now=self.now, fatigue_days=30)
        refused = AssertionError("sendmail() sends one command at a time")
        with mock.patch.object(smtplib.SMTP, "sendmail", side_effect=refused):
            run_worker()
        self.assertEqual([m["To"] for m in self.smtp.messages], ["anna@acme.example"])
        self.assertIsNotNone(Invitation.objects.get(contact=self.bounce).bounced_at)

    def test_it_sends_one_command_at_a_time_to_a_server_without_pipelining(self):
        with SmtpServer(pipelining=False) as plain, override_settings(**plain.settings):
            distribute(self.survey, [self.anna, self.bounce], now=self.now, fatigue_days=30)
            run_worker()
        self.assertEqual([m["To"] for m in plain.messages], ["anna@acme.example"])
        self.assertIn("Анна Петрова", text(plain.messages[0]))
        self.assertIsNotNone(Invitation.objects.get(contact=self.bounce).bounced_at)

    def test_it_keeps_lines_that_start_with_a_dot(self):
        with mailer() as send:
            send("anna@acme.example", b"Subject: dots\r\n\r\n.first\r\n..second\r\n.")
        self.assertEqual(self.smtp.messages[0].get_content(), ".first\r\n..second\r\n.\r\n")

    @override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    def test_it_hands_the_same_message_to_the_other_backends(self):
        invitation, token = issue_invitation(self.survey, self.john, now=self.now)
        self.assertEqual(send_invitation(invitation.pk), {"sent": 1})
        (message,) = [m.message() for m in mail.outbox]
        self.assertEqual(message["To"], "john@acme.example")
        self.assertEqual(message["Subject"], "Client survey")
        self.assertIn(f"/s/{token}/", message.get_payload(0).get_payload(decode=True).decode())
        self.assertEqual(self.smtp.messages, [])
