"""Working-time arithmetic on a business calendar (pure: no database)."""

import datetime as dt
import unittest
from zoneinfo import ZoneInfo

from cxloop.lib import workhours
from cxloop.people import calendar_ru

MSK = ZoneInfo("Europe/Moscow")
NSK = ZoneInfo("Asia/Novosibirsk")


def russian(zone: str = "Europe/Moscow") -> workhours.Calendar:
    return workhours.Calendar(
        time_zone=zone,
        work_days=frozenset(range(1, 6)),
        day_start=dt.time(9),
        day_end=dt.time(18),
        exceptions={day: worked for day, worked, _name in calendar_ru.DAYS},
    )


def msk(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=MSK)


class WorkhoursTests(unittest.TestCase):
    def setUp(self):
        self.calendar = russian()

    def test_friday_evening_plus_two_hours_is_monday_morning(self):
        friday = msk(2026, 3, 13, 17, 30)
        self.assertEqual(
            workhours.add(self.calendar, friday, dt.timedelta(hours=2)), msk(2026, 3, 16, 10, 30)
        )

    def test_a_moment_given_in_another_zone_is_counted_on_the_calendar_zone(self):
        friday_utc = dt.datetime(2026, 3, 13, 14, 30, tzinfo=dt.UTC)  # 17:30 in Moscow
        self.assertEqual(
            workhours.add(self.calendar, friday_utc, dt.timedelta(hours=2)),
            msk(2026, 3, 16, 10, 30),
        )

    def test_new_year_holidays_are_skipped(self):
        last_day = msk(2025, 12, 30, 17, 0)  # Dec 31 2025 and Jan 1–11 2026 are not worked
        self.assertEqual(
            workhours.add(self.calendar, last_day, dt.timedelta(hours=3)), msk(2026, 1, 12, 11, 0)
        )

    def test_public_holidays_of_2026_are_skipped(self):
        for before, after in [
            (msk(2026, 4, 30, 17, 0), msk(2026, 5, 4, 10, 0)),  # May 1 (Friday)
            (msk(2026, 5, 8, 17, 0), msk(2026, 5, 12, 10, 0)),  # May 11, for May 9 (Saturday)
            (msk(2026, 6, 11, 17, 0), msk(2026, 6, 15, 10, 0)),  # June 12 (Friday)
            (msk(2026, 11, 3, 17, 0), msk(2026, 11, 5, 10, 0)),  # November 4 (Wednesday)
        ]:
            with self.subTest(before=before):
                self.assertEqual(workhours.add(self.calendar, before, dt.timedelta(hours=2)), after)

    def test_a_transferred_working_saturday_counts(self):
        friday = msk(2025, 10, 31, 17, 0)  # Saturday Nov 1 2025 is worked, Nov 3 and 4 are not
        self.assertEqual(
            workhours.add(self.calendar, friday, dt.timedelta(hours=2)), msk(2025, 11, 1, 10, 0)
        )
        self.assertEqual(
            workhours.add(self.calendar, friday, dt.timedelta(hours=11)), msk(2025, 11, 5, 10, 0)
        )

    def test_working_days_of_a_year_match_the_production_calendar(self):
        for year, expected in [(2025, 247), (2026, 247)]:
            days = [dt.date(year, 1, 1) + dt.timedelta(days=i) for i in range(365)]
            with self.subTest(year=year):
                self.assertEqual(sum(map(self.calendar.is_working_day, days)), expected)

    def test_time_between_counts_only_working_hours(self):
        wednesday, thursday = msk(2026, 3, 11, 10, 0), msk(2026, 3, 12, 10, 0)
        self.assertEqual(
            workhours.between(self.calendar, wednesday, thursday), dt.timedelta(hours=9)
        )
        self.assertEqual(workhours.between(self.calendar, thursday, wednesday), dt.timedelta(0))
        weekend = msk(2026, 3, 14, 12, 0), msk(2026, 3, 15, 12, 0)
        self.assertEqual(workhours.between(self.calendar, *weekend), dt.timedelta(0))

    def test_subtracting_goes_back_over_the_weekend(self):
        monday = msk(2026, 3, 16, 10, 30)
        self.assertEqual(
            workhours.add(self.calendar, monday, -dt.timedelta(hours=2)), msk(2026, 3, 13, 17, 30)
        )

    def test_adding_then_measuring_gives_the_same_time(self):
        start = msk(2026, 12, 28, 15, 17)
        for hours in (1, 7.5, 9, 40, 100):
            end = workhours.add(self.calendar, start, dt.timedelta(hours=hours))
            self.assertEqual(
                workhours.between(self.calendar, start, end), dt.timedelta(hours=hours)
            )

    def test_next_working_moment_in_novosibirsk_is_nine_their_time(self):
        novosibirsk = russian("Asia/Novosibirsk")
        evening = msk(2026, 3, 12, 16, 0)  # 20:00 in Novosibirsk: their day is over
        moment = workhours.next_working_moment(novosibirsk, evening)
        self.assertEqual(moment, dt.datetime(2026, 3, 13, 9, 0, tzinfo=NSK))
        self.assertEqual(moment, msk(2026, 3, 13, 5, 0))
        during = msk(2026, 3, 12, 8, 0)  # 12:00 in Novosibirsk
        self.assertEqual(workhours.next_working_moment(novosibirsk, during), during)

    def test_the_summary_day_is_a_working_day_within_its_hours(self):
        day = workhours.working_hours_day
        self.assertIsNone(day(self.calendar, msk(2026, 3, 16, 8, 59)))
        self.assertEqual(day(self.calendar, msk(2026, 3, 16, 9, 0)), dt.date(2026, 3, 16))
        self.assertEqual(day(self.calendar, msk(2026, 3, 16, 17, 59)), dt.date(2026, 3, 16))
        self.assertIsNone(day(self.calendar, msk(2026, 3, 16, 18, 0)))  # the evening: not today
        self.assertIsNone(day(self.calendar, msk(2026, 3, 16, 22, 57)))
        self.assertIsNone(day(self.calendar, msk(2026, 1, 5, 12, 0)))  # a public holiday

    def test_a_calendar_without_working_days_is_refused(self):
        never = workhours.Calendar("Europe/Moscow", frozenset(), dt.time(9), dt.time(18))
        with self.assertRaisesRegex(ValueError, "no working day"):
            workhours.add(never, msk(2026, 3, 16, 10, 0), dt.timedelta(hours=1))
        with self.assertRaisesRegex(ValueError, "ends after it starts"):
            workhours.Calendar("Europe/Moscow", frozenset({1}), dt.time(18), dt.time(9))
        with self.assertRaisesRegex(ValueError, "aware"):
            workhours.add(self.calendar, dt.datetime(2026, 3, 16, 10), dt.timedelta(hours=1))
