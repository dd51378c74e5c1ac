"""Data in and out on the full demo (issue #16): the scheduled reports a CX lead starts with,
each due at its next time, and the journey map's schedule run on the demo's data — every leader
gets their own map, in their language; and the helpdesk webhook, set up but switched off, so
that no case event went to a receiver the demo does not have."""

import datetime as dt
import io
import re
import tempfile
from zoneinfo import ZoneInfo

import pypdf
from django.test import Client, override_settings
from django.urls import reverse

from cxloop.cases.models import Case
from cxloop.demo.webhooks import HELPDESK
from cxloop.exports import schedules
from cxloop.exports.demo import SCHEDULES
from cxloop.exports.models import DeliveryState, ReportDelivery, ReportSchedule
from cxloop.journeys.models import Touchpoint
from cxloop.people.models import Employee, Role
from cxloop.webhooks.models import Delivery, Subscription
from tests.demo.test_demo import TRUTH

MSK = ZoneInfo("Europe/Moscow")
# The morning after the demo's last day: when the schedules were planted, as `cxloop demo` does
# with its own clock.
PLANTED_AT = dt.datetime.combine(TRUTH.end + dt.timedelta(days=1), dt.time(6), tzinfo=MSK)


def _text(pdf: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", text.replace("\xa0", " ").replace("\u202f", " "))


class FullDemoReportTruths:
    """Mixed into tests/demo/test_full_demo.py's FullDemoTests (which plants the schedules at
    :data:`PLANTED_AT`), so that the full demo is built once."""

    def test_the_cx_lead_finds_the_schedules_a_firm_starts_with(self):
        planted = {s.name: s for s in ReportSchedule.objects.prefetch_related("recipients__user")}
        self.assertEqual(set(planted), {s.name for s in SCHEDULES})
        managers = set(
            Employee.objects.filter(role=Role.MANAGER).values_list("user__username", flat=True)
        )
        self.assertGreater(len(managers), 3)
        for wanted in SCHEDULES:
            with self.subTest(schedule=wanted.name):
                schedule = planted[wanted.name]
                self.assertEqual((schedule.report, schedule.format), (wanted.report, wanted.format))
                self.assertTrue(schedule.is_active)
                # Due next at its own hour, after the moment it was planted, within a month.
                due = schedule.next_run_at.astimezone(MSK)
                self.assertEqual(due.hour, wanted.hour)
                self.assertLess(PLANTED_AT, due)
                self.assertLess(due - PLANTED_AT, dt.timedelta(days=31))
                people = {r.user.username for r in schedule.recipients.all()}
                expected = set(wanted.recipients) - {"managers"}
                if "managers" in wanted.recipients:
                    expected |= managers
                self.assertEqual(people, expected)
        client = Client(HTTP_ACCEPT_LANGUAGE="ru")
        client.force_login(Employee.objects.get(user__username="cx.lead").user)
        page = client.get(reverse("report_schedule_list")).content.decode()
        for wanted in SCHEDULES:
            self.assertIn(wanted.name, page)

    def test_the_journey_schedule_gives_each_leader_their_own_map(self):
        schedule = ReportSchedule.objects.get(report="journey")
        # The demo's data end on its last day; the map's default period is the twelve months
        # to the real today, so the run names the demo's last year.
        since = TRUTH.end - dt.timedelta(days=364)
        ReportSchedule.objects.filter(pk=schedule.pk).update(query=f"since={since.isoformat()}")
        schedule.refresh_from_db()
        with tempfile.TemporaryDirectory() as folder, override_settings(DATA_DIR=folder):
            schedules.schedule_now(schedule, PLANTED_AT)
            self.assertEqual(schedules.send_due(PLANTED_AT), 3)
            deliveries = ReportDelivery.objects.filter(schedule=schedule).select_related(
                "recipient__user"
            )
            texts = {
                d.recipient.user.username: _text(
                    (schedules.reports_dir() / d.file_name).read_bytes()
                )
                for d in deliveries
            }
        self.assertEqual({d.state for d in deliveries}, {DeliveryState.QUEUED})
        self.assertEqual(set(texts), {"cx.lead", "ceo", "manager"})
        names = list(Touchpoint.objects.values_list("name_ru", flat=True))
        self.assertEqual(len(names), 20)
        for username, text in texts.items():
            with self.subTest(recipient=username):
                self.assertIn("Карта пути клиента", text)  # in the recipient's language: ru
                missing = [name for name in names if name not in text]
                self.assertEqual(missing, [])
        # The partner's map is his part of the firm's: other figures than the whole firm's.
        self.assertNotEqual(texts["manager"], texts["ceo"])
        # The next run is back at its own Monday morning.
        schedule.refresh_from_db()
        self.assertEqual(schedule.next_run_at.astimezone(MSK).weekday(), 0)

    def test_the_helpdesk_webhook_is_set_up_but_switched_off(self):
        (subscription,) = Subscription.objects.all()
        self.assertEqual(subscription.url, HELPDESK["url"])
        self.assertEqual(subscription.events, [str(kind) for kind in HELPDESK["events"]])
        self.assertFalse(subscription.is_active)
        # The demo opened cases in plenty, yet nothing was queued for a receiver it lacks.
        self.assertGreater(Case.objects.count(), 100)
        self.assertFalse(Delivery.objects.exists())
        client = Client(HTTP_ACCEPT_LANGUAGE="ru")
        client.force_login(Employee.objects.get(user__username="cx.lead").user)
        page = client.get(reverse("webhook_list")).content.decode()
        self.assertIn(HELPDESK["name"], page)
