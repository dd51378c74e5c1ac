"""Webhook deliveries to a real receiver on 127.0.0.1, driven with a controllable clock:
signatures, a receiver down for an hour then up (every event once, in order per subject),
replay, and the automatic disabling with the administrators' e-mail."""

import datetime as dt
import socket
import threading
import time
from unittest import mock

from django.test import TestCase, override_settings
from django.utils import timezone

from cxloop.outbox.models import OutboxMessage
from cxloop.people.models import Role
from cxloop.test import BaseTestCase
from cxloop.webhooks import delivery as delivery_module
from cxloop.webhooks import services
from cxloop.webhooks.delivery import deliver_due
from cxloop.webhooks.models import Delivery, Event, Subscription
from cxloop.webhooks.signing import signature
from tests.webhooks.receiver import Receiver, documented_verify

MINUTE = dt.timedelta(minutes=1)


class DocumentedVerificationTest(TestCase):
    def test_it_accepts_our_signature_and_refuses_a_changed_body_or_an_old_one(self):
        verify = documented_verify()
        now = int(timezone.now().timestamp())
        header = signature("whsec_x", now, b'{"a":1}')
        self.assertTrue(verify("whsec_x", header, b'{"a":1}'))
        self.assertFalse(verify("whsec_x", header, b'{"a":2}'))
        self.assertFalse(verify("whsec_y", header, b'{"a":1}'))
        old = signature("whsec_x", now - 600, b'{"a":1}')
        self.assertFalse(verify("whsec_x", old, b'{"a":1}'))
        self.assertFalse(verify("whsec_x", "garbage", b'{"a":1}'))


@override_settings(WEBHOOKS_ALLOW_PRIVATE=True)
class DeliveryTest(BaseTestCase):
    def setUp(self):
        self.t0 = timezone.now().replace(microsecond=0)
        self.receiver = Receiver("placeholder", tolerance=3 * 24 * 3600)
        self.addCleanup(self.receiver.stop)
        self.subscription = services.create_subscription(
            name="Helpdesk",
            url=self.receiver.url,
            events=["case.state_changed", "case.opened"],
            now=self.t0,
        )
        self.receiver.secret = self.subscription.secret

    def emit(self, subject: str, n: int, at: dt.datetime):
        services.emit("case.state_changed", subject=subject, data={"n": n}, now=at)

    def test_it_delivers_signed_events_to_a_real_receiver(self):
        self.emit("case:1", 1, self.t0)
        self.assertEqual(deliver_due(now=self.t0), {"delivered": 1})
        (taken,) = self.receiver.taken
        self.assertEqual(self.receiver.bad_signatures, 0)
        self.assertEqual(taken["kind"], "case.state_changed")
        self.assertEqual(taken["path"], "/hooks/cx")
        self.assertEqual(taken["body"]["type"], "case.state_changed")
        self.assertEqual(taken["body"]["data"], {"n": 1})
        delivery = Delivery.objects.get()
        self.assertEqual(str(delivery.event_id), taken["event_id"])
        self.assertEqual((delivery.state, delivery.status_code), ("delivered", 200))
        self.assertEqual(delivery.response_excerpt, "ok")
        self.assertEqual(deliver_due(now=self.t0 + MINUTE), {})  # nothing twice

    def test_it_refuses_a_delivery_signed_with_another_secret(self):
        self.receiver.secret = "whsec_other"
        self.emit("case:1", 1, self.t0)
        self.assertEqual(deliver_due(now=self.t0), {"retried": 1})
        self.assertEqual(self.receiver.bad_signatures, 1)
        delivery = Delivery.objects.get()
        self.assertEqual((delivery.state, delivery.status_code), ("queued", 400))

    def test_it_delivers_every_event_once_in_order_after_an_hour_down(self):
        self.receiver.stop()
        now = self.t0
        for n in range(1, 6):  # interleaved events of three subjects
            for subject in ("case:1", "case:2", "case:3"):
                self.emit(subject, n, now)
        for _ in range(60):  # the worker's rounds through an hour of outage
            outcomes = deliver_due(now=now)
            self.assertNotIn("delivered", outcomes)
            now += MINUTE
        subscription = Subscription.objects.get()
        self.assertTrue(subscription.is_active)
        # One try per backoff, not one per event: 15 s, 30 s, 1, 2, 4 min, then every 5 min.
        self.assertLess(subscription.failures, 20)
        self.assertLessEqual(subscription.retry_at - now, 5 * MINUTE)
        self.emit("case:1", 6, now)  # while it is down, a later event
        self.receiver.start()
        delivered_at = None
        for _ in range(6):
            if deliver_due(now=now).get("delivered"):
                delivered_at = now
                break
            now += MINUTE
        self.assertIsNotNone(delivered_at, "delivered within five minutes of coming back")
        deliver_due(now=now)
        taken = self.receiver.taken
        self.assertEqual(len(taken), 16)
        self.assertEqual(len({t["event_id"] for t in taken}), 16)  # each once
        for subject, count in (("case:1", 6), ("case:2", 5), ("case:3", 5)):
            order = [
                t["body"]["data"]["n"]
                for t in taken
                if Delivery.objects.get(pk=t["delivery"]).subject == subject
            ]
            self.assertEqual(order, list(range(1, count + 1)), subject)
        self.assertFalse(Delivery.objects.exclude(state="delivered").exists())
        self.assertEqual(Subscription.objects.get().failures, 0)
        self.assertEqual(self.receiver.bad_signatures, 0)

    def test_it_holds_a_later_event_of_a_subject_behind_an_earlier_failed_one(self):
        self.receiver.status = 500
        self.emit("case:1", 1, self.t0)
        self.assertEqual(deliver_due(now=self.t0), {"retried": 1})
        self.receiver.status = 200
        self.emit("case:1", 2, self.t0 + MINUTE)
        self.emit("case:2", 1, self.t0 + MINUTE)
        deliver_due(now=self.t0 + 10 * MINUTE)
        self.assertEqual(
            [(t["body"]["data"]["n"]) for t in self.receiver.taken if t["body"]["data"]], [1, 1, 2]
        )
        first = Delivery.objects.order_by("pk").first()
        self.assertEqual((first.attempts, first.status_code), (2, 200))

    def test_it_replays_a_delivery_with_the_same_event_id(self):
        self.emit("case:1", 1, self.t0)
        deliver_due(now=self.t0)
        original = Delivery.objects.get()
        again = services.replay(original, now=self.t0 + MINUTE)
        self.assertEqual(deliver_due(now=self.t0 + MINUTE), {"delivered": 1})
        first, second = self.receiver.taken
        self.assertEqual(first["event_id"], second["event_id"])
        self.assertEqual(second["delivery"], str(again.pk))
        self.assertEqual(Delivery.objects.get(pk=again.pk).replay_of, original)

    def test_it_disables_after_a_day_of_failures_and_tells_the_admins(self):
        admin = self._user("lead", self.firm, Role.ADMIN)
        self.receiver.status = 503
        self.emit("case:1", 1, self.t0)
        now = self.t0
        while now < self.t0 + dt.timedelta(hours=23):
            deliver_due(now=now)
            now += 10 * MINUTE
        self.assertTrue(Subscription.objects.get().is_active)  # a night down is not enough
        self.assertFalse(OutboxMessage.objects.filter(kind="webhook_disabled").exists())
        while Subscription.objects.get().is_active and now < self.t0 + dt.timedelta(hours=26):
            deliver_due(now=now)
            now += 10 * MINUTE
        subscription = Subscription.objects.get()
        self.assertFalse(subscription.is_active)
        self.assertIsNotNone(subscription.disabled_at)
        self.assertGreaterEqual(subscription.failures, 20)
        self.assertGreaterEqual(subscription.disabled_at - self.t0, dt.timedelta(hours=24))
        mail = OutboxMessage.objects.get(kind="webhook_disabled")
        self.assertEqual(mail.recipient, admin.email)
        self.assertIn("Helpdesk", mail.subject)
        # Nothing dropped, nothing tried while it is off; new events are not queued for it.
        delivery = Delivery.objects.get()
        self.assertEqual(delivery.state, "queued")
        attempts = delivery.attempts
        self.assertEqual(deliver_due(now=now + dt.timedelta(hours=1)), {})
        self.assertEqual(Delivery.objects.get().attempts, attempts)
        self.emit("case:1", 2, now)
        self.assertEqual(Delivery.objects.count(), 1)
        # Switched on again once the receiver works: the kept event goes out at once.
        self.receiver.status = 200
        services.set_active(subscription, True, now=now)
        self.assertEqual(deliver_due(now=now + MINUTE), {"delivered": 1})
        self.assertEqual(len(self.receiver.taken), 1)

    def test_it_keeps_a_short_excerpt_of_a_long_answer_and_goes_on(self):
        self.receiver.answer = b"x" * 100_000
        self.emit("case:1", 1, self.t0)
        self.emit("case:2", 1, self.t0)
        self.assertEqual(deliver_due(now=self.t0), {"delivered": 2})
        for delivery in Delivery.objects.all():
            self.assertEqual(len(delivery.response_excerpt), 300)

    def test_it_does_not_follow_a_redirect(self):
        self.receiver.status = 302
        self.receiver.headers = {"Location": "http://169.254.169.254/latest/meta-data"}
        self.emit("case:1", 1, self.t0)
        self.assertEqual(deliver_due(now=self.t0), {"retried": 1})
        delivery = Delivery.objects.get()
        self.assertEqual((delivery.status_code, delivery.error), (302, "HTTP 302"))

    def test_it_refuses_a_private_address_when_sending_unless_allowed(self):
        self.emit("case:1", 1, self.t0)
        with override_settings(WEBHOOKS_ALLOW_PRIVATE=False):
            self.assertEqual(deliver_due(now=self.t0), {"retried": 1})
        self.assertEqual(self.receiver.taken, [])
        self.assertIn("private", Delivery.objects.get().error)

    def test_a_name_server_that_does_not_answer_fails_the_try_in_bounded_time(self):
        ready, resolve = threading.Event(), socket.getaddrinfo

        def hanging(*args, **kwargs):  # the fault: a resolver that answers after 3 s
            ready.wait(3)
            return resolve(*args, **kwargs)

        self.emit("case:1", 1, self.t0)
        started = time.monotonic()
        with (
            mock.patch.object(delivery_module, "DNS_TIMEOUT", 0.3),
            mock.patch.object(delivery_module.socket, "getaddrinfo", hanging),
        ):
            self.assertEqual(deliver_due(now=self.t0), {"retried": 1})
        self.assertLess(time.monotonic() - started, 2)
        ready.set()
        self.assertIn("resolving 127.0.0.1 took more than 0.3 s", Delivery.objects.get().error)
        self.assertEqual(self.receiver.taken, [])

    def test_it_puts_back_what_a_stopped_pass_did_not_try(self):
        self.emit("case:1", 1, self.t0)
        self.emit("case:2", 1, self.t0)
        stop = threading.Event()
        self.receiver.on_request = stop.set  # SIGTERM while the first is being sent
        self.assertEqual(deliver_due(now=self.t0, stop=stop), {"delivered": 1, "put back": 1})
        waiting = Delivery.objects.get(state="queued")
        self.assertEqual((waiting.attempts, waiting.next_attempt_at), (0, self.t0))
        self.assertEqual(deliver_due(now=self.t0), {"delivered": 1})


@override_settings(WEBHOOKS_ALLOW_PRIVATE=True)
class BoundedTryTest(BaseTestCase):
    """A receiver that trickles its answer a byte at a time is cut off at the try's limit, and a
    worker that outlived its lease writes nothing over another worker's claim."""

    def setUp(self):
        self.t0 = timezone.now().replace(microsecond=0)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.addCleanup(self.server.close)
        port = self.server.getsockname()[1]
        self.subscription = services.create_subscription(
            name="Slow", url=f"http://127.0.0.1:{port}/", events=["case.opened"], now=self.t0
        )

    def _trickle(self, stop: threading.Event) -> None:
        connection, _ = self.server.accept()
        with connection:
            connection.recv(65536)
            while not stop.is_set():  # one byte of headers every 0.2 s, for ever
                try:
                    connection.sendall(b"X")
                except OSError:
                    return
                time.sleep(0.2)

    def test_a_trickling_receiver_is_cut_off_at_the_tries_limit(self):
        stop = threading.Event()
        thread = threading.Thread(target=self._trickle, args=(stop,), daemon=True)
        thread.start()
        self.addCleanup(stop.set)
        services.emit("case.opened", subject="case:1", data={}, now=self.t0)
        started = time.monotonic()
        with mock.patch.object(delivery_module, "TRY_LIMIT", 1.0):
            self.assertEqual(deliver_due(now=self.t0), {"retried": 1})
        self.assertLess(time.monotonic() - started, 5)  # each read came within READ_TIMEOUT
        self.assertEqual(Delivery.objects.get().state, "queued")

    def test_a_worker_whose_lease_ran_out_leaves_the_new_claim_alone(self):
        services.emit("case.opened", subject="case:1", data={}, now=self.t0)
        (first,) = delivery_module._claim(self.t0, 10)
        later = self.t0 + delivery_module.LEASE + MINUTE  # the lease ran out; B claims it
        (second,) = delivery_module._claim(later, 10)
        delivery_module._delivered(first, 200, "late", later)  # A comes back
        delivery_module._put_back(first, later)
        self.assertFalse(delivery_module._failed(first, 500, "HTTP 500", "", later))
        row = Delivery.objects.get()
        self.assertEqual((row.state, row.attempts), ("sending", 2))
        self.assertEqual(Subscription.objects.get().failures, 0)
        delivery_module._delivered(second, 200, "ok", later)
        self.assertEqual(Delivery.objects.get().state, "delivered")


class RetentionTest(BaseTestCase):
    def test_delivered_events_are_purged_after_a_month_undelivered_ones_kept(self):
        from cxloop.privacy.services import apply_retention

        t0 = timezone.now() - dt.timedelta(days=40)
        services.create_subscription(
            name="Helpdesk", url="https://hooks.example/cx", events=["case.opened"], now=t0
        )
        for n in (1, 2):
            services.emit("case.opened", subject=f"case:{n}", data={"n": n}, now=t0)
        Delivery.objects.filter(event__subject="case:1").update(
            state="delivered", next_attempt_at=None, delivered_at=t0
        )
        retained = apply_retention(now=timezone.now())
        self.assertEqual(retained.webhook_deliveries_purged, 1)
        self.assertEqual([d.event.subject for d in Delivery.objects.all()], ["case:2"])
        self.assertEqual(Event.objects.count(), 1)
