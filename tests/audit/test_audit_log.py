"""The audit log: sign-ins, reads of personal data on pages and the API, changes from a request
and from the command line; it refuses to be changed; the retention purge; the admin's page."""

import datetime as dt

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from cxloop.api.services import issue_token
from cxloop.audit import services
from cxloop.audit.models import AppendOnlyError, AuditEvent
from cxloop.customers.models import Contact, Customer
from cxloop.lib.env import SettingError
from cxloop.people.models import Employee, Role
from cxloop.test import PASSWORD, BaseTestCase

FAST = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])


class AuditLogTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.admin = User.objects.create_user("cx.lead", "lead@example.org", PASSWORD, is_staff=True)
        cls.admin.is_superuser = True
        cls.admin.save()
        Employee.objects.create(user=cls.admin, team=cls.firm, role=Role.ADMIN)
        cls.acme = Customer.objects.create(external_id="C-1", name="Acme", owner=cls.owner.employee)

    def events(self, **filters):
        return list(AuditEvent.objects.filter(**filters).order_by("id"))

    def test_it_logs_sign_in_and_failed_sign_in_with_address(self):
        self.client.post(
            reverse("login"),
            {"username": "owner", "password": "wrong"},
            REMOTE_ADDR="203.0.113.7",
        )
        self.client.post(
            reverse("login"),
            {"username": "owner", "password": PASSWORD},
            REMOTE_ADDR="203.0.113.8",
        )
        failed = self.events(action="sign_in_failed")
        self.assertEqual(
            [(e.label, e.address, e.actor) for e in failed], [("owner", "203.0.113.7", "anonymous")]
        )
        signed = self.events(action="sign_in")
        self.assertEqual(len(signed), 1)
        self.assertEqual(
            (signed[0].actor, signed[0].actor_id, signed[0].address),
            ("owner", self.owner.pk, "203.0.113.8"),
        )
        # last_login's own save is not a second event
        self.assertEqual(self.events(action="change", object_id=str(self.owner.pk)), [])

    def test_it_logs_a_read_of_a_customer_page(self):
        self.client.force_login(self.admin)
        url = reverse("admin:customers_customer_change", args=[self.acme.pk])
        self.assertEqual(self.client.get(url, REMOTE_ADDR="198.51.100.2").status_code, 200)
        reads = self.events(action="read", object_kind="customer")
        self.assertEqual(
            [(e.object_id, e.actor, e.address) for e in reads],
            [(str(self.acme.pk), "cx.lead", "198.51.100.2")],
        )

    def test_it_logs_a_read_of_the_feedback_page_but_not_of_aggregates(self):
        self.client.force_login(self.owner)
        self.client.get(reverse("response_list"), {"channel": "email"})
        self.client.get(reverse("ideas"))
        reads = self.events(action="read")
        self.assertEqual(
            [(e.object_kind, e.details["query"]) for e in reads],
            [("response", {"channel": "email"})],
        )

    def test_it_logs_an_api_read_as_the_tokens_user(self):
        _, token = issue_token(self.owner.employee, "CRM")
        answer = self.client.get(
            "/api/responses",
            {"limit": 5, "customer_external_id": "C-1"},
            headers={"authorization": f"Bearer {token}"},
        )
        self.assertEqual(answer.status_code, 200)
        reads = self.events(action="read")
        self.assertEqual(len(reads), 1)
        self.assertEqual(
            (reads[0].actor, reads[0].actor_id, reads[0].object_kind),
            ("owner", self.owner.pk, "response"),
        )
        self.assertEqual(reads[0].details["query"]["customer_external_id"], "C-1")

    def test_it_logs_a_refused_read_not_at_all(self):
        answer = self.client.get("/api/responses", headers={"authorization": "Bearer nope"})
        self.assertEqual(answer.status_code, 401)
        self.assertEqual(self.events(action="read"), [])

    def test_it_logs_a_contact_change_by_id_only_with_the_acting_user(self):
        contact = Contact.objects.create(customer=self.acme, name="Vera Secret", email="v@x.org")
        self.client.force_login(self.admin)
        answer = self.client.post(
            reverse("admin:customers_contact_change", args=[contact.pk]),
            {
                "customer": self.acme.pk,
                "name": "Vera Changed",
                "email": "v@x.org",
                "phone": "",
                "job_title": "",
                "language": "ru",
            },
        )
        self.assertEqual(answer.status_code, 302, answer.content[:2000])
        created, changed = self.events(object_kind="contact", action__in=["create", "change"])
        self.assertTrue(created.actor.startswith("system"), created.actor)  # made in code
        self.assertEqual(
            (changed.action, changed.actor, changed.object_id, changed.label),
            ("change", "cx.lead", str(contact.pk), f"#{contact.pk}"),
        )
        names = AuditEvent.objects.filter(label__icontains="Vera").count()
        self.assertEqual(names, 0)

    def test_it_logs_deletes_of_watched_records(self):
        customer = Customer.objects.create(external_id="C-9", name="Gone")
        pk = customer.pk
        customer.delete()
        deleted = self.events(action="delete", object_kind="customer")
        self.assertEqual([(e.object_id, e.label) for e in deleted], [(str(pk), "Gone")])

    def test_it_refuses_to_change_or_delete_an_event(self):
        event = services.record("read", kind="customer", object_id=1)
        event.label = "forged"
        with self.assertRaises(AppendOnlyError):
            event.save()
        with self.assertRaises(AppendOnlyError):
            event.delete()
        with self.assertRaises(AppendOnlyError):
            AuditEvent.objects.filter(pk=event.pk).update(label="forged")
        with self.assertRaises(AppendOnlyError):
            AuditEvent.objects.filter(pk=event.pk).delete()
        self.assertEqual(AuditEvent.objects.get(pk=event.pk).label, "")

    def test_it_refuses_raw_sql_changes_on_postgresql(self):
        if connection.vendor != "postgresql":
            self.skipTest("the trigger is PostgreSQL's; SQLite has the model's refusal")
        event = services.record("read", kind="customer", object_id=1)
        for sql in (
            "UPDATE audit_auditevent SET label = 'x' WHERE id = %s",
            "DELETE FROM audit_auditevent WHERE id = %s",
        ):
            with self.assertRaises(DatabaseError), transaction.atomic(), connection.cursor() as c:
                c.execute(sql, [event.pk])
        self.assertTrue(AuditEvent.objects.filter(pk=event.pk).exists())

    def test_it_purges_only_events_older_than_the_retention(self):
        now = timezone.now()
        first = services.record("read", kind="customer", object_id=9001)
        second = services.record("read", kind="customer", object_id=9002)
        # An event 400 days old, written by SQL: the ORM cannot back-date one.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO audit_auditevent (at, actor, address, action, object_kind, "
                "object_id, label, details) VALUES (%s, 'x', '', 'read', 'customer', '9003', "
                "'', '{}')",
                [now - dt.timedelta(days=400)],
            )
        self.assertEqual(services.purge_expired(days=365, now=now), 1)
        left = set(
            AuditEvent.objects.filter(object_id__startswith="900").values_list(
                "object_id", flat=True
            )
        )
        self.assertEqual(left, {first.object_id, second.object_id})
        self.assertEqual(services.purge_expired(days=365, now=now), 0)

    def test_the_page_filters_and_is_for_admins_only(self):
        services.record("sign_in", kind="user", label="someone")
        services.record("read", kind="customer", object_id=self.acme.pk)
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get(reverse("audit_log")).status_code, 403)
        self.client.force_login(self.admin)
        page = self.client.get(reverse("audit_log"), {"action": "read", "kind": "customer"})
        self.assertEqual(page.status_code, 200)
        self.assertEqual([e.object_kind for e in page.context["page"]], ["customer"])
        # Kinds of record read in the page's language, in the table and in the filter.
        self.assertContains(page, f"клиент #{self.acme.pk}")
        self.assertContains(page, '<option value="customer" selected>клиент</option>', html=True)
        today = timezone.localdate().isoformat()
        day = {"kind": "customer", "action": "read", "since": today, "until": today}
        page = self.client.get(reverse("audit_log"), day)
        self.assertEqual(len(page.context["page"]), 1)
        yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
        page = self.client.get(reverse("audit_log"), day | {"until": yesterday})
        self.assertEqual(len(page.context["page"]), 0)
        bad = self.client.get(reverse("audit_log"), {"since": "9999-12-31", "until": "x"})
        self.assertEqual(bad.status_code, 200)
        self.assertEqual(len(bad.context["errors"]), 2)
        self.assertContains(bad, "since")

    def test_the_page_has_no_write(self):
        self.client.force_login(self.admin)
        before = AuditEvent.objects.count()
        self.assertEqual(self.client.post(reverse("audit_log")).status_code, 405)
        self.assertEqual(AuditEvent.objects.count(), before)


class RetentionSettingTests(BaseTestCase):
    def test_it_parses_days_strictly(self):
        from cxloop.settings import _parse_days

        self.assertEqual(_parse_days("X", None, default=365), 365)
        self.assertEqual(_parse_days("X", " 30 ", default=None), 30)
        self.assertIsNone(_parse_days("X", "", default=None))
        for bad in ("0", "-1", "1.5", "ten", "36501", "١٢"):
            with self.assertRaises(SettingError) as raised:
                _parse_days("CXLOOP_AUDIT_RETENTION_DAYS", bad, default=365)
            self.assertIn("CXLOOP_AUDIT_RETENTION_DAYS", str(raised.exception))
