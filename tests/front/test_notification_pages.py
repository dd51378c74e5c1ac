"""The notifications page (each person's instant or digest choice per kind, their language) and
the CX lead's business calendar pages."""

import datetime as dt

from django.urls import reverse

from cxloop.cases.choices import Delivery, NotificationKind
from cxloop.cases.models import NotificationPreference
from cxloop.lib import workhours
from cxloop.people.models import BusinessCalendar, CalendarDay, Employee, Role
from cxloop.people.queries import team_calendar
from cxloop.test import PASSWORD, BaseTestCase

SETTINGS = reverse("notification_settings")


def choices(**overrides) -> dict[str, str]:
    data = {kind: Delivery.INSTANT for kind in NotificationKind.values}
    return {"language": "ru", **data, **overrides}


class NotificationSettingsTests(BaseTestCase):
    def setUp(self):
        self.client.force_login(self.teammate)

    def test_the_page_shows_every_kind_in_russian_and_english(self):
        page = self.client.get(SETTINGS)
        self.assertContains(page, 'value="digest"', count=len(NotificationKind.values))
        english = self.client.get(SETTINGS, HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(english, "a case is escalated to me")
        self.assertContains(english, "in the daily summary")

    def test_choosing_digest_and_english_is_kept(self):
        data = choices(language="en", due_soon=Delivery.DIGEST)
        response = self.client.post(SETTINGS, data)
        self.assertRedirects(response, SETTINGS)
        employee = Employee.objects.get(user__username="teammate")
        self.assertEqual(employee.language, "en")
        kept = dict(
            NotificationPreference.objects.filter(employee=employee).values_list("kind", "delivery")
        )
        self.assertEqual(kept[NotificationKind.DUE_SOON], Delivery.DIGEST)
        self.assertEqual(kept[NotificationKind.ASSIGNED], Delivery.INSTANT)
        page = self.client.get(SETTINGS)
        self.assertContains(page, 'value="digest" id="id_due_soon_1" required checked')
        self.assertContains(page, "required checked", count=len(NotificationKind.values))

    def test_bad_input_is_named_and_nothing_is_kept(self):
        response = self.client.post(
            SETTINGS, choices(language="de", breached="sometimes"), HTTP_ACCEPT_LANGUAGE="en"
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="id_language-error"')
        self.assertContains(response, 'id="id_breached-error"')
        self.assertFalse(NotificationPreference.objects.exists())
        self.assertEqual(Employee.objects.get(user__username="teammate").language, "ru")

    def test_a_login_without_an_employee_record_gets_not_found(self):
        from django.contrib.auth.models import User

        self.client.force_login(User.objects.create_user("robot", password=PASSWORD))
        self.assertEqual(self.client.get(SETTINGS).status_code, 404)


class CalendarPageTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.lead = cls._user("lead", cls.firm, Role.ADMIN)
        cls.calendar = BusinessCalendar.objects.get(is_default=True)
        cls.url = reverse("calendar_edit", args=[cls.calendar.pk])

    def test_only_the_cx_lead_edits_calendars(self):
        self.client.force_login(self.owner)
        self.assertEqual(self.client.get(reverse("calendar_list")).status_code, 403)
        self.assertEqual(
            self.client.post(self.url, {"action": "remove_day", "date": "2026-01-01"}).status_code,
            403,
        )
        self.assertTrue(
            CalendarDay.objects.filter(calendar=self.calendar, date=dt.date(2026, 1, 1)).exists()
        )

    def test_the_lead_sees_the_holidays_of_a_year(self):
        self.client.force_login(self.lead)
        self.assertContains(self.client.get(reverse("calendar_list")), self.calendar.name)
        page = self.client.get(self.url, {"year": "2026"}, HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(page, "Holidays and transferred working days of 2026")
        self.assertContains(page, "День России")

    def test_the_hours_read_as_hours_and_minutes_and_the_zone_is_explained(self):
        self.client.force_login(self.lead)
        page = self.client.get(self.url, HTTP_ACCEPT_LANGUAGE="en")
        start = self.calendar.day_start.strftime("%H:%M")
        self.assertContains(page, f'name="day_start" value="{start}"')
        self.assertNotContains(page, f'value="{start}:00"')
        self.assertContains(page, "A time zone name, e.g. Europe/Moscow")

    def test_changing_the_hours_moves_the_working_day(self):
        self.client.force_login(self.lead)
        data = {
            "action": "calendar",
            "name": "Москва",
            "time_zone": "Europe/Moscow",
            "work_days": ["1", "2", "3", "4", "5", "6"],
            "day_start": "10:00",
            "day_end": "19:00",
        }
        self.assertEqual(self.client.post(self.url, data).status_code, 302)
        calendar = team_calendar(self.team_a.pk)
        saturday = dt.datetime(2026, 3, 14, 12, 0, tzinfo=calendar.zone)
        self.assertEqual(workhours.next_working_moment(calendar, saturday), saturday)
        self.assertEqual(calendar.day_start, dt.time(10))

    def test_a_bad_time_zone_or_hours_are_refused_naming_the_field(self):
        self.client.force_login(self.lead)
        data = {
            "action": "calendar",
            "name": "Москва",
            "time_zone": "Mars/Olympus",
            "work_days": ["1"],
            "day_start": "18:00",
            "day_end": "09:00",
        }
        response = self.client.post(self.url, data, HTTP_ACCEPT_LANGUAGE="en")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, 'id="id_time_zone-error"')
        self.calendar.refresh_from_db()
        self.assertEqual(self.calendar.time_zone, "Europe/Moscow")
        self.assertEqual(self.calendar.day_start, dt.time(9))

    def test_adding_and_removing_a_holiday(self):
        self.client.force_login(self.lead)
        day = {
            "action": "add_day",
            "date": "15.04.2026",
            "is_working": "0",
            "name": "Corporate day",
        }
        self.assertEqual(self.client.post(self.url, day).status_code, 302)
        self.assertFalse(team_calendar(self.team_a.pk).is_working_day(dt.date(2026, 4, 15)))
        self.client.post(self.url, {"action": "remove_day", "date": "2026-04-15"})
        self.assertTrue(team_calendar(self.team_a.pk).is_working_day(dt.date(2026, 4, 15)))
        bad = self.client.post(self.url, {**day, "date": "31.02.2026"}, HTTP_ACCEPT_LANGUAGE="en")
        self.assertContains(bad, 'id="id_date-error"')
