"""The CX lead's webhook pages: the list, a subscription's form and log, the secret once,
switching on and off, replay; others get 403."""

import datetime as dt

from django.test import override_settings

from cxloop.audit.models import AuditEvent
from cxloop.people.models import Role
from cxloop.test import BaseTestCase
from cxloop.webhooks import services
from cxloop.webhooks.models import Delivery, Subscription

WHEN = dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC)


class WebhookPagesTest(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)
        cls.hook = services.create_subscription(
            name="Helpdesk", url="https://hooks.example/in", events=["case.opened"], now=WHEN
        )

    def setUp(self):
        self.client.force_login(self.lead)

    def post_new(self, **fields):
        data = {"name": "CRM", "url": "https://crm.example/hook", "events": ["case.opened"]}
        return self.client.post("/settings/webhooks/new/", data | fields)

    def test_it_lists_the_subscriptions(self):
        response = self.client.get("/settings/webhooks/")
        self.assertContains(response, "Helpdesk")
        self.assertContains(response, "https://hooks.example/in")

    def test_it_creates_one_and_shows_its_secret_once(self):
        response = self.post_new()
        hook = Subscription.objects.get(name="CRM")
        self.assertRedirects(
            response, f"/settings/webhooks/{hook.pk}/", fetch_redirect_response=False
        )
        self.assertContains(self.client.get(f"/settings/webhooks/{hook.pk}/"), hook.secret)
        self.assertNotContains(self.client.get(f"/settings/webhooks/{hook.pk}/"), hook.secret)
        self.assertTrue(
            AuditEvent.objects.filter(object_kind="webhook_subscription", action="create").exists()
        )

    def test_it_refuses_a_url_that_is_not_http_naming_the_field(self):
        for url in ("ftp://crm.example/x", "javascript:alert(1)", "crm.example", ""):
            with self.subTest(url=url):
                response = self.post_new(url=url)
                self.assertEqual(response.status_code, 200)
                self.assertIn("url", response.context["form"].errors)
        self.assertFalse(Subscription.objects.filter(name="CRM").exists())

    def test_it_refuses_a_private_address_unless_allowed(self):
        response = self.post_new(url="http://127.0.0.1:9000/x")
        self.assertIn("url", response.context["form"].errors)
        response = self.post_new(url="http://169.254.169.254/latest")
        self.assertIn("url", response.context["form"].errors)
        with override_settings(WEBHOOKS_ALLOW_PRIVATE=True):
            self.assertEqual(self.post_new(url="http://127.0.0.1:9000/x").status_code, 302)

    def test_it_refuses_no_events_and_unknown_ones(self):
        self.assertIn("events", self.post_new(events=[]).context["form"].errors)
        self.assertIn("events", self.post_new(events=["case.eaten"]).context["form"].errors)

    def test_it_edits_rolls_the_secret_and_switches_off_and_on(self):
        path = f"/settings/webhooks/{self.hook.pk}/"
        data = {"name": "Desk", "url": "https://hooks.example/v2", "events": ["case.closed"]}
        self.assertRedirects(self.client.post(path, data), path)
        hook = Subscription.objects.get(pk=self.hook.pk)
        self.assertEqual((hook.name, hook.events), ("Desk", ["case.closed"]))
        old = hook.secret
        self.client.post(path + "secret/")
        hook.refresh_from_db()
        self.assertNotEqual(hook.secret, old)
        self.assertContains(self.client.get(path), hook.secret)
        self.client.post(path + "active/", {"active": "0"})
        self.assertFalse(Subscription.objects.get(pk=hook.pk).is_active)
        self.client.post(path + "active/", {"active": "1"})
        self.assertTrue(Subscription.objects.get(pk=hook.pk).is_active)

    def test_it_shows_the_log_and_replays_a_delivery(self):
        services.emit("case.opened", subject="case:1", data={"case": 1}, now=WHEN)
        delivery = Delivery.objects.get()
        Delivery.objects.filter(pk=delivery.pk).update(
            state="delivered", next_attempt_at=None, attempts=1, status_code=204
        )
        path = f"/settings/webhooks/{self.hook.pk}/"
        response = self.client.get(path)
        self.assertContains(response, str(delivery.event_id))
        self.assertContains(response, "204")
        self.client.post(f"{path}deliveries/{delivery.pk}/replay/")
        again = Delivery.objects.exclude(pk=delivery.pk).get()
        self.assertEqual((again.event_id, again.state), (delivery.event_id, "queued"))

    def test_it_refuses_everyone_but_the_cx_lead(self):
        for user in (self.owner, self.teammate, self.outsider):
            self.client.force_login(user)
            with self.subTest(user=user):
                self.assertEqual(self.client.get("/settings/webhooks/").status_code, 403)
                self.assertEqual(self.post_new().status_code, 403)
                path = f"/settings/webhooks/{self.hook.pk}/active/"
                self.assertEqual(self.client.post(path, {"active": "0"}).status_code, 403)
        self.assertEqual(Subscription.objects.count(), 1)
        self.assertTrue(Subscription.objects.get().is_active)

    def test_it_renders_in_russian(self):
        response = self.client.get("/settings/webhooks/", headers={"Accept-Language": "ru"})
        self.assertContains(response, "Helpdesk")
        self.assertEqual(response.context["LANGUAGE_CODE"], "ru")
