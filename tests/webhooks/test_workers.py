"""Two workers delivering at once (threads with their own database connections, on SQLite and
on PostgreSQL): every event once, in order per subject — the claim with its lease and the
rule that an earlier undelivered event of a subject holds the later ones."""

import threading

from django.db import connection
from django.test import TransactionTestCase, override_settings
from django.utils import timezone

from cxloop.webhooks import services
from cxloop.webhooks.delivery import deliver_due
from cxloop.webhooks.models import Delivery
from tests.webhooks.receiver import Receiver


@override_settings(WEBHOOKS_ALLOW_PRIVATE=True)
class TwoWorkersTest(TransactionTestCase):
    def test_it_delivers_each_event_once_in_order_with_two_workers(self):
        receiver = Receiver("placeholder")
        receiver.delay = 0.003
        self.addCleanup(receiver.stop)
        subscription = services.create_subscription(
            name="Desk", url=receiver.url, events=["case.state_changed"]
        )
        receiver.secret = subscription.secret
        for n in range(1, 11):
            for subject in ("case:1", "case:2", "case:3", "case:4"):
                services.emit("case.state_changed", subject=subject, data={"n": n})
        now = timezone.now()
        errors = []

        def worker():
            try:
                while Delivery.objects.exclude(state="delivered").exists():
                    deliver_due(now=now)
            except Exception as error:  # reported below
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(errors, [])
        taken = receiver.taken
        self.assertEqual(len(taken), 40)
        self.assertEqual(len({t["event_id"] for t in taken}), 40)
        subjects = dict(Delivery.objects.values_list("pk", "subject"))
        for subject in ("case:1", "case:2", "case:3", "case:4"):
            order = [
                t["body"]["data"]["n"] for t in taken if subjects[int(t["delivery"])] == subject
            ]
            self.assertEqual(order, list(range(1, 11)), subject)
