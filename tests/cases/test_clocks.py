"""A case's clocks on its team's business calendar: the default Russian production calendar,
a team's own calendar in another time zone, the pause while waiting on the customer and the
restart by their reply; news held until the recipient's working hours."""

import datetime as dt
from zoneinfo import ZoneInfo

from cxloop.cases import services
from cxloop.cases.choices import CaseState, NotificationKind, Origin, Priority
from cxloop.cases.models import Notification, SlaPolicy
from cxloop.cases.notify import deliver_after
from cxloop.people.models import BusinessCalendar, CalendarDay, Employee, Role, Team
from cxloop.people.queries import team_calendar
from cxloop.test import BaseTestCase

MSK = ZoneInfo("Europe/Moscow")
NSK = ZoneInfo("Asia/Novosibirsk")


def msk(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MSK)


class ClockTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.policy = SlaPolicy.objects.create(
            name_ru="Стандарт", name_en="Standard", first_contact_hours=2, resolution_hours=16
        )
        cls.siberia = BusinessCalendar.objects.create(
            name="Новосибирск", time_zone="Asia/Novosibirsk"
        )
        CalendarDay.objects.create(
            calendar=cls.siberia, date=dt.date(2026, 3, 20), name="Local day"
        )
        cls.team_nsk = Team.objects.create(
            name="Novosibirsk", parent=cls.firm, calendar=cls.siberia
        )
        cls.team_nsk_sales = Team.objects.create(name="Sales", parent=cls.team_nsk)
        cls.siberian = cls._user("siberian", cls.team_nsk_sales, Role.EMPLOYEE).employee

    def open(self, owner: Employee, now: dt.datetime, **fields):
        return services.open_case(
            origin=Origin.MANUAL,
            title="Late delivery",
            now=now,
            owner=owner,
            sla_policy=self.policy,
            **fields,
        )

    def test_the_default_calendar_is_the_production_calendar(self):
        default = BusinessCalendar.objects.get(is_default=True)
        self.assertEqual(default.time_zone, "Europe/Moscow")
        self.assertFalse(default.days.get(date=dt.date(2026, 1, 1)).is_working)
        self.assertTrue(default.days.get(date=dt.date(2025, 11, 1)).is_working)
        self.assertEqual(team_calendar(self.team_a.pk).time_zone, "Europe/Moscow")

    def test_a_team_works_to_the_calendar_of_its_nearest_parent_with_one(self):
        calendar = team_calendar(self.team_nsk_sales.pk)
        self.assertEqual(calendar.time_zone, "Asia/Novosibirsk")
        self.assertFalse(calendar.is_working_day(dt.date(2026, 3, 20)))

    def test_friday_evening_deadline_falls_on_monday_morning(self):
        case = self.open(self.teammate.employee, msk(2026, 3, 13, 17, 30))
        self.assertEqual(case.first_contact_due, msk(2026, 3, 16, 10, 30))

    def test_a_public_holiday_is_skipped(self):
        case = self.open(self.teammate.employee, msk(2026, 6, 11, 17, 0))  # June 12 is a holiday
        self.assertEqual(case.first_contact_due, msk(2026, 6, 15, 10, 0))

    def test_deadlines_run_on_the_owner_teams_zone(self):
        # Friday 14:00 in Moscow is 18:00 in Novosibirsk: their day is over; Monday 9–11 there.
        case = self.open(self.siberian, msk(2026, 3, 13, 14, 0))
        self.assertEqual(case.first_contact_due, dt.datetime(2026, 3, 16, 11, 0, tzinfo=NSK))

    def test_waiting_on_the_customer_moves_the_deadlines_by_the_working_time_waited(self):
        case = self.open(self.teammate.employee, msk(2026, 3, 10, 10, 0))  # a Tuesday
        first_due, resolution_due = case.first_contact_due, case.resolution_due
        self.assertEqual(first_due, msk(2026, 3, 10, 12, 0))
        who = self.teammate.employee
        case = services.change_state(case, CaseState.WAITING, by=who, now=msk(2026, 3, 11, 10, 0))
        self.assertEqual(case.paused_at, msk(2026, 3, 11, 10, 0))
        case = services.customer_replied(case, "Here are the papers", now=msk(2026, 3, 12, 10, 0))
        self.assertEqual(case.state, CaseState.IN_PROGRESS)
        self.assertIsNone(case.paused_at)
        self.assertEqual(case.first_contact_due, msk(2026, 3, 11, 12, 0))  # + 9 working hours
        self.assertEqual(resolution_due, msk(2026, 3, 11, 17, 0))
        self.assertEqual(case.resolution_due, msk(2026, 3, 12, 17, 0))
        reply = Notification.objects.get(kind=NotificationKind.CUSTOMER_REPLIED)
        self.assertEqual(reply.recipient, who)

    def test_news_waits_for_the_recipients_working_morning_in_their_zone(self):
        evening = msk(2026, 3, 12, 16, 0)  # 20:00 in Novosibirsk
        self.assertEqual(
            deliver_after(self.siberian, evening, urgent=False),
            dt.datetime(2026, 3, 13, 9, 0, tzinfo=NSK),
        )
        self.assertEqual(deliver_after(self.teammate.employee, evening, urgent=False), evening)
        self.assertEqual(deliver_after(self.siberian, evening, urgent=True), evening)

    def test_an_urgent_case_tells_its_owner_at_once_at_night(self):
        night = msk(2026, 3, 12, 23, 0)
        calm = self.open(self.teammate.employee, night)
        urgent = self.open(self.teammate.employee, night, priority=Priority.URGENT)
        self.assertEqual(Notification.objects.get(case=urgent).deliver_after, night)
        self.assertEqual(Notification.objects.get(case=calm).deliver_after, msk(2026, 3, 13, 9, 0))
