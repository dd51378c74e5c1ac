"""The outbox: every e-mail delivered exactly once through an SMTP outage and a killed worker,
retries with backoff, dead letters the admin can retry, the fatigue rule counting deliveries."""

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

from aiosmtpd.controller import Controller
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import OperationalError, connection, transaction
from django.test import TransactionTestCase, override_settings
from django.utils import timezone

from cxloop.customers.models import Contact, Customer
from cxloop.lib import env
from cxloop.outbox import kinds
from cxloop.outbox.delivery import LEASE, send_due
from cxloop.outbox.kinds import backoff
from cxloop.outbox.models import OutboxMessage, State
from cxloop.outbox.services import enqueue_email
from cxloop.surveys.distribution import distribute, plan_invitations
from cxloop.surveys.models import Invitation
from tests.smtp import Mailbox, SmtpServer, free_port
from tests.surveys.test_respond import make_survey


def run_worker() -> None:
    call_command("worker", batch=True, verbosity=0)


def received(mailboxes) -> Counter:
    """How many times each Message-ID reached the servers."""
    return Counter(m["Message-ID"] for box in mailboxes for m in box.messages)


def start_worker(port: int, *options: str) -> subprocess.Popen:
    """A real ``cxloop worker`` on the test database, sending to ``port``."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        url = f"sqlite:///{database['NAME']}"
    else:
        url = (
            f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST'] or ''}"
            f":{database['PORT'] or 5432}/{database['NAME']}"
        )
    return subprocess.Popen(
        [sys.executable, "-m", "cxloop.cli", "worker", *options],
        env={
            **os.environ,
            "CXLOOP_DATABASE_URL": url,
            "CXLOOP_EMAIL_URL": f"smtp://127.0.0.1:{port}",
        },
    )


def wait_until_held(box: "StallingMailbox", worker: subprocess.Popen) -> None:
    """Until every connection of the worker waits for the server's reply."""
    deadline = time.monotonic() + 60
    while box.held < 1 and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(0.05)
    held = -1
    while held != box.held:
        held = box.held
        time.sleep(0.5)


class StallingMailbox(Mailbox):
    """Accepts ``limit`` messages, then holds every further one before its reply until
    ``release`` is set; a client that dies meanwhile has its message dropped, as a real server
    drops a message whose sender left before the server took it (aiosmtpd cancels the handler)."""

    def __init__(self, limit: int):
        super().__init__(pipelining=True)
        self.limit, self.held, self.dropped = limit, 0, 0
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if len(self.messages) >= self.limit and not self.release.is_set():
            self.held += 1
            try:
                while not self.release.is_set():
                    await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                self.dropped += 1
                raise
        return await super().handle_DATA(server, session, envelope)

    def wait_until_dropped(self, timeout: float = 30) -> None:
        """Until the server has noticed that every held client died (on a loaded machine that
        takes a moment; a release before it would take the dead clients' messages)."""
        deadline = time.monotonic() + timeout
        while self.dropped < self.held and time.monotonic() < deadline:
            time.sleep(0.05)


class OutboxTests(TransactionTestCase):
    """Committed data: the sending connections are threads with their own database connections."""

    def setUp(self):
        self.survey = make_survey()
        self.customer = Customer.objects.create(external_id="C-1", name="Acme")

    def contacts(self, count: int) -> list[Contact]:
        return Contact.objects.bulk_create(
            Contact(
                customer=self.customer,
                name=f"Клиент {i} <&>",
                email=f"c{i}@acme.example",
                consent=True,
                language="ru" if i % 2 else "en",
            )
            for i in range(count)
        )

    def test_it_delivers_every_message_once_after_an_outage(self):
        port = free_port()
        smtp = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": port, "EMAIL_USE_TLS": False}
        backend = {"EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"}
        contacts = self.contacts(30)
        with override_settings(**smtp, **backend):
            with transaction.atomic():
                distribute(self.survey, contacts, now=timezone.now(), fatigue_days=30)
                enqueue_email("lead@acme.example", "Case #7 is overdue", "Please look.")
            run_worker()  # nothing listens on the port
            messages = OutboxMessage.objects.all()
            self.assertEqual({(m.state, m.attempts) for m in messages}, {(State.QUEUED, 1)})
            self.assertTrue(all("Connection refused" in m.last_error for m in messages))
            self.assertEqual(Invitation.objects.exclude(sent_at=None).count(), 0)
            # Queued e-mails still count for the fatigue rule: no second invitation meanwhile.
            self.assertEqual(plan_invitations(contacts, now=timezone.now()).invite, [])

            box = Mailbox(pipelining=True)
            server = Controller(box, hostname="127.0.0.1", port=port)
            server.start()
            try:
                run_worker()  # the server is back, but the messages wait out their backoff
                self.assertEqual(box.messages, [])
                later = timezone.now() + backoff(1)
                self.assertEqual(send_due(now=later), {"sent": 31})
                run_worker()
                self.assertEqual(send_due(now=later + dt.timedelta(days=1)), {})
            finally:
                server.stop()
        expected = set(OutboxMessage.objects.values_list("message_id", flat=True))
        self.assertEqual(received([box]), Counter({message_id: 1 for message_id in expected}))
        self.assertEqual(Invitation.objects.filter(sent_at=later).count(), 30)
        notification = next(m for m in box.messages if m["To"] == "lead@acme.example")
        self.assertEqual(notification["Subject"], "Case #7 is overdue")
        self.assertEqual(notification["From"], "cxloop <cxloop@localhost>")

    def test_it_loses_and_duplicates_nothing_when_the_worker_is_killed(self):
        box = StallingMailbox(limit=40)
        server = Controller(box, hostname="127.0.0.1", port=free_port())
        server.start()
        self.addCleanup(server.stop)
        with transaction.atomic():
            distribute(self.survey, self.contacts(150), now=timezone.now(), fatigue_days=30)
            enqueue_email("lead@acme.example", "Digest", "Ten new comments.")
        worker = start_worker(server.port, "--batch")
        try:
            wait_until_held(box, worker)
        finally:
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
        self.assertGreater(box.held, 0, "the worker never reached the held messages")
        self.assertEqual(len(box.messages), 40)
        self.assertEqual(OutboxMessage.objects.filter(state=State.SENT).count(), 40)
        self.assertTrue(OutboxMessage.objects.filter(state=State.SENDING).exists())
        box.wait_until_dropped()
        self.assertEqual(box.dropped, box.held)
        box.release.set()
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=server.port,
        ):
            self.assertEqual(send_due(), {})  # claimed by the dead worker: its lease holds them
            outcomes = send_due(now=timezone.now() + LEASE)  # … until it ends
        self.assertEqual(outcomes, {"sent": 151 - 40})
        expected = set(OutboxMessage.objects.values_list("message_id", flat=True))
        self.assertEqual(received([box]), Counter({message_id: 1 for message_id in expected}))
        self.assertEqual(Invitation.objects.filter(sent_at=None).count(), 0)

    def test_it_backs_off_exponentially_and_gives_up_after_the_last_try(self):
        self.assertEqual(
            [backoff(n).total_seconds() / 60 for n in range(1, 11)],
            [1, 2, 4, 8, 16, 32, 64, 128, 240, 240],
        )
        message = enqueue_email("lead@acme.example", "Alert", "Text")
        waits = []
        with override_settings(EMAIL_PORT=free_port(), EMAIL_MAX_ATTEMPTS=4):
            smtp = "django.core.mail.backends.smtp.EmailBackend"
            with override_settings(EMAIL_BACKEND=smtp, EMAIL_HOST="127.0.0.1"):
                for _ in range(4):
                    now = message.next_attempt_at
                    send_due(now=now)
                    message.refresh_from_db()
                    if message.next_attempt_at:
                        waits.append((message.next_attempt_at - now).total_seconds() / 60)
        self.assertEqual(waits, [1, 2, 4])
        self.assertEqual((message.state, message.attempts), (State.DEAD, 4))
        self.assertIn("Connection refused", message.last_error)

    def test_it_shows_dead_messages_to_the_admin_who_can_retry_them(self):
        dead = enqueue_email("lead@acme.example", "Alert", "Text")
        OutboxMessage.objects.filter(pk=dead.pk).update(
            state=State.DEAD, attempts=10, next_attempt_at=None, last_error="421 try later"
        )
        admin = User.objects.create_superuser("root", password="x" * 12)
        self.client.force_login(admin)
        page = self.client.get("/admin/outbox/outboxmessage/?state__exact=dead")
        self.assertContains(page, "lead@acme.example")
        self.client.post(
            "/admin/outbox/outboxmessage/",
            {"action": "retry", "_selected_action": [dead.pk]},
        )
        dead.refresh_from_db()
        self.assertEqual((dead.state, dead.attempts), (State.QUEUED, 0))
        with SmtpServer() as smtp, override_settings(**smtp.settings):
            self.assertEqual(send_due(), {"sent": 1})
        self.assertEqual([m["Subject"] for m in smtp.messages], ["Alert"])

    def test_it_refuses_for_good_what_the_server_refuses_for_good(self):
        message = enqueue_email("bounce@acme.example", "Alert", "Text", html="<p>Text</p>")
        with SmtpServer() as smtp, override_settings(**smtp.settings):
            self.assertEqual(send_due(), {"refused": 1})
        message.refresh_from_db()
        self.assertEqual(message.state, State.REFUSED)
        self.assertIn("550", message.last_error)

    def test_it_queues_in_the_callers_transaction_and_once_per_key(self):
        with self.assertRaises(RuntimeError), transaction.atomic():
            enqueue_email("lead@acme.example", "Alert", "Text")
            raise RuntimeError("the change that caused the e-mail failed")
        self.assertFalse(OutboxMessage.objects.exists())
        first = enqueue_email("lead@acme.example", "Alert", "Text", key="case:7:overdue")
        again = enqueue_email("lead@acme.example", "Alert", "Text", key="case:7:overdue")
        self.assertEqual((first.pk, OutboxMessage.objects.count()), (again.pk, 1))
        for to, subject in (("not an address", "Alert"), ("a@b.example", "Two\nlines")):
            with self.assertRaises(ValueError):
                enqueue_email(to, subject, "Text")

    def test_it_sends_an_html_alternative_from_the_configured_sender(self):
        enqueue_email("lead@acme.example", "Alert", "Plain", html="<p>Rich</p>")
        with (
            SmtpServer() as smtp,
            override_settings(**smtp.settings, DEFAULT_FROM_EMAIL="CX desk <cx@firm.example>"),
        ):
            send_due()
        (message,) = smtp.messages
        self.assertEqual(message["From"], "CX desk <cx@firm.example>")
        self.assertEqual(message.get_body(("html",)).get_content().strip(), "<p>Rich</p>")
        self.assertEqual(message.get_body(("plain",)).get_content().strip(), "Plain")
        with self.assertRaisesMessage(env.SettingError, "CXLOOP_EMAIL_FROM"):
            env.parse_email_from("CXLOOP_EMAIL_FROM", "cx@firm\r\nBcc: x@y.z", default="")

    def test_it_counts_for_fatigue_what_was_delivered_or_is_on_its_way(self):
        now = timezone.now()
        (queued, dead, bounced, delivered_late, old) = contacts = self.contacts(5)
        distribute(self.survey, contacts, now=now - dt.timedelta(days=40), fatigue_days=30)
        sent = {delivered_late.pk: now - dt.timedelta(days=10), old.pk: now - dt.timedelta(days=40)}
        for contact_pk, moment in sent.items():
            Invitation.objects.filter(contact_id=contact_pk).update(sent_at=moment)
        Invitation.objects.filter(contact=bounced).update(bounced_at=now)
        OutboxMessage.objects.filter(recipient=dead.email).update(
            state=State.DEAD, next_attempt_at=None
        )
        OutboxMessage.objects.filter(recipient__in=[delivered_late.email, old.email]).update(
            state=State.SENT, next_attempt_at=None
        )
        # Created 40 days ago, but the e-mail of the first is still queued and the fourth was
        # delivered 10 days ago: both count; a dead or bounced e-mail or an old delivery do not.
        self.assertEqual(plan_invitations(contacts, now=now).invite, [dead, bounced, old])
        self.assertEqual(plan_invitations([queued], now=now + dt.timedelta(days=60)).invite, [])

    def test_it_ends_the_pass_and_loses_nothing_when_the_database_fails_mid_send(self):
        invitation = kinds.get("invitation")
        failures = []

        def settle_failing_once(cursor, state, refs, at):
            if not failures:
                failures.append(refs)
                raise OperationalError("disk I/O error")  # injected fault
            invitation.settle(cursor, state, refs, at)

        kinds.register("invitation", kinds.Kind(invitation.build, settle_failing_once))
        self.addCleanup(kinds.register, "invitation", invitation)
        distribute(self.survey, self.contacts(40), now=timezone.now(), fatigue_days=30)
        with SmtpServer() as smtp, override_settings(**smtp.settings):
            outcomes = {}
            thread = threading.Thread(target=lambda: outcomes.update(send_due()))
            thread.start()
            thread.join(60)
            self.assertFalse(thread.is_alive(), "the pass hung")
            self.assertEqual(len(failures), 1)
            self.assertGreater(outcomes["retried"], 0)
            send_due(now=timezone.now() + backoff(1))
        self.assertEqual(Invitation.objects.filter(sent_at=None).count(), 0)
        counts = received([smtp])
        self.assertEqual(
            set(counts), set(OutboxMessage.objects.values_list("message_id", flat=True))
        )
        # Accepted by the server but not recorded: the batch whose commit failed, at most one
        # message per connection, goes out again.
        self.assertLessEqual(sum(counts.values()) - len(counts), len(failures[0]))

    def test_it_stops_on_sigterm_after_the_messages_being_sent(self):
        box = StallingMailbox(limit=10)
        server = Controller(box, hostname="127.0.0.1", port=free_port())
        server.start()
        self.addCleanup(server.stop)
        distribute(self.survey, self.contacts(60), now=timezone.now(), fatigue_days=30)
        worker = start_worker(server.port)  # running, not --batch
        try:
            wait_until_held(box, worker)
            worker.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            box.release.set()  # the messages being sent are accepted …
            self.assertEqual(worker.wait(30), 0)
        finally:
            if worker.poll() is None:
                worker.kill()
        # … recorded, and the rest put back untried, due at once; none left under a lease.
        states = Counter(OutboxMessage.objects.values_list("state", flat=True))
        self.assertEqual(
            states, {State.SENT: len(box.messages), State.QUEUED: 60 - len(box.messages)}
        )
        self.assertEqual(len(box.messages), 10 + box.held)
        self.assertFalse(OutboxMessage.objects.filter(state=State.QUEUED, attempts__gt=0).exists())
