"""The roll-back watch (issue #12, point 4) on a fact store written with planted levels: it
alarms in the month of a planted drop, not without one (nor on a rise), holds a done
initiative's post-change level in its scope, records each alarm once however often it reruns
and opens one high-priority case for the initiative's owner (or the touchpoint's team); it
runs after a refresh of the store; the journey map and the initiative page show it."""

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

from cxloop.cases.choices import Origin, Priority
from cxloop.cases.models import Case
from cxloop.facts import derived
from cxloop.facts.schema import ANSWERS, CUSTOMERS, RESPONSES, SEGMENTS
from cxloop.facts.signals import facts_refreshed
from cxloop.facts.store import Manifest, MonthCounts, month_path, new_version, table_path
from cxloop.facts.store import writing as store_writing
from cxloop.facts.sync import Written
from cxloop.improvements import services
from cxloop.improvements.models import RollbackAlert
from cxloop.improvements.queries import latest_rollback_alerts, rollback_alerts
from cxloop.insights import rollback
from cxloop.insights.initiatives import initiative_effect
from cxloop.insights.rollback import record_alarms, run_watch, watch_touchpoints, watches
from cxloop.journeys.models import Touchpoint
from cxloop.test import OwnFactStore
from tests.improvements.data import ImprovementTestCase, propose, rollback_alert, touchpoint

TODAY = dt.date(2026, 6, 30)
NOW = dt.datetime(2026, 6, 30, 12, 0, tzinfo=dt.UTC)
FIRST = "2024-07"  # two years of months up to TODAY
CHANGE = dt.date(2025, 1, 1)  # the initiatives' changes are in force from this day


NO_SEGMENTS = pa.table({"customer_id": [], "segment_id": []}).cast(SEGMENTS)


def months(first: str, count: int) -> list[str]:
    y, m = map(int, first.split("-"))
    out = []
    for _ in range(count):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


MONTHS = months(FIRST, 24)


def write_store(directory, levels, *, per_month=80, teams=(), seed=3, sizes=None):
    """Ratings (1–5) of each touchpoint every month: ``levels`` maps a touchpoint id to a
    function (month, team index) → the month's mean, scores normal around it (sd 0.8),
    rounded and clipped. Each answer is one response of one of 40 customers, whose teams
    alternate over ``teams``; ``sizes`` maps a touchpoint id to a function month → answers
    (default ``per_month``)."""
    # One stream each, seeded by the touchpoint's place in ``levels``, not its primary key:
    # keys differ between databases and runs, and so would the data.
    rngs = {tp: np.random.default_rng([seed, place]) for place, tp in enumerate(levels)}
    directory = Path(directory)
    team_of = {c: (teams[c % len(teams)] if teams else None) for c in range(1, 41)}
    counts: dict[str, MonthCounts] = {}
    next_id = 1
    with store_writing(base=directory) as writer:
        for month in MONTHS:
            y, m = map(int, month.split("-"))
            rows = []
            for tp, level in levels.items():
                rng = rngs[tp]
                size = (sizes or {}).get(tp, lambda month: per_month)(month)
                customers = rng.integers(1, 41, size)
                days = rng.integers(1, 28, size)
                for customer, day in zip(customers, days, strict=True):
                    index = int(customer) % len(teams) if teams else 0
                    mean = level(month, index)
                    score = int(np.clip(np.rint(rng.normal(mean, 0.8)), 1, 5))
                    at = dt.datetime(y, m, int(day), 12, tzinfo=dt.UTC)
                    rows.append((next_id, at, int(customer), tp, score))
                    next_id += 1
            ids = [r[0] for r in rows]
            common = {
                "response_id": ids,
                "submitted_at": [r[1] for r in rows],
                "survey_id": [1] * len(rows),
                "channel": ["email"] * len(rows),
                "customer_id": [r[2] for r in rows],
                "team_id": [team_of[r[2]] for r in rows],
                "touchpoint_id": [r[3] for r in rows],
            }
            responses = pa.table(
                {
                    **common,
                    "survey_kind": ["transactional"] * len(rows),
                    "language": ["ru"] * len(rows),
                    "nps": [None] * len(rows),
                }
            ).select(RESPONSES.names)
            answers = pa.table(
                {**common, "kind": ["rating"] * len(rows), "score": [r[4] for r in rows]}
            ).select(ANSWERS.names)
            writer.write(responses.cast(RESPONSES), month_path("responses", month, base=directory))
            writer.write(answers.cast(ANSWERS), month_path("answers", month, base=directory))
            derived.write(writer, month, answers.cast(ANSWERS), NO_SEGMENTS)
            counts[month] = MonthCounts(len(rows), len(rows))
        customers = pa.table(
            {
                "customer_id": list(range(1, 41)),
                "team_id": [team_of[c] for c in range(1, 41)],
                "owner_id": [None] * 40,
                "annual_value": [None] * 40,
                "currency": ["RUB"] * 40,
                "tier": ["standard"] * 40,
                "lifecycle_stage": ["active"] * 40,
            }
        ).cast(CUSTOMERS)
        writer.write(customers, table_path("customers", base=directory))
        writer.write(NO_SEGMENTS, table_path("segments", base=directory))
        writer.commit(Manifest(version=new_version(), written_at=NOW, months=counts))


def from_month(first: str, before: float, after: float):
    return lambda month, team: after if month >= first else before


def finished(initiative, by, effective_from=CHANGE):
    for state in ("approved", "in_progress"):
        services.change_state(initiative, state, by=by, now=NOW)
    return services.finish(
        initiative,
        change_ru="Новый порядок",
        change_en="The new way",
        effective_from=effective_from,
        by=by,
        now=NOW,
    )


class RollbackWatchTests(OwnFactStore, ImprovementTestCase):
    """billing (team B's) drops by 0.6 from January 2026, without an initiative; kickoff rose
    with a done initiative and holds; status rose with a done initiative of team A and falls
    back (by 0.6) from February 2026; steady never changes; sparse has a month of five low
    answers."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        stage = cls.kickoff.stage
        cls.status = touchpoint(stage, 3, "status", "Статус-отчёты", "Status updates")
        cls.steady = touchpoint(stage, 4, "steady", "Договор", "Engagement letter")
        cls.sparse = touchpoint(stage, 5, "sparse", "Акт", "Closing act")
        Touchpoint.objects.filter(pk=cls.billing.pk).update(team=cls.team_b)
        lead = cls.lead.employee
        cls.kickoff_initiative = finished(propose(cls.owner.employee, [cls.kickoff]), lead)
        cls.status_initiative = finished(propose(cls.owner.employee, [cls.status]), lead)

    def setUp(self):
        super().setUp()
        write_store(
            self.facts_dir,
            {
                self.billing.pk: from_month("2026-01", 3.9, 3.3),
                self.kickoff.pk: from_month("2025-01", 3.4, 3.9),
                self.status.pk: lambda m, t: 3.3 if m < "2025-01" or m >= "2026-02" else 3.9,
                self.steady.pk: lambda m, t: 3.6,
                # A month of five answers all far down: too few to signal (MIN_N).
                self.sparse.pk: lambda m, t: 1.5 if m == "2026-03" else 3.6,
            },
            sizes={self.sparse.pk: lambda m: 5 if m == "2026-03" else 80},
        )

    def alarms(self):
        return {a.touchpoint_id: a for a in watch_touchpoints(TODAY)}

    def test_it_alarms_in_the_month_of_a_planted_drop_and_nowhere_else(self):
        alarms = self.alarms()
        self.assertEqual(set(alarms), {self.billing.pk, self.status.pk})
        self.assertEqual(alarms[self.billing.pk].month, "2026-01")
        self.assertEqual(alarms[self.status.pk].month, "2026-02")
        billing = alarms[self.billing.pk]
        self.assertIsNone(billing.initiative_id)
        self.assertEqual(billing.grain, "month")
        self.assertLess(billing.level, billing.center - 0.25)
        status = alarms[self.status.pk]
        self.assertEqual(status.initiative_id, self.status_initiative.pk)
        # The level held is the post-change one (about 3.9 before the clipping), not the
        # whole history's: the first six months from the change set it.
        self.assertEqual(status.baseline_since, CHANGE)
        self.assertEqual(status.baseline_until, dt.date(2025, 6, 30))
        self.assertGreater(status.center, billing.level + 0.3)

    def test_a_period_of_a_few_answers_is_left_out(self):
        sparse = next(w for w in watches(TODAY) if w.touchpoint_id == self.sparse.pk)
        march = [p.start[:7] for p in sparse.periods].index("2026-03")
        self.assertEqual(sparse.counts[march], 0)
        self.assertIsNone(sparse.alarm)

    def test_a_rise_with_its_initiative_is_held_without_an_alarm(self):
        kickoff = next(w for w in watches(TODAY) if w.touchpoint_id == self.kickoff.pk)
        self.assertEqual(kickoff.initiative_id, self.kickoff_initiative.pk)
        self.assertEqual(kickoff.change_from, CHANGE)
        self.assertEqual(kickoff.watch.state, "in_control")
        self.assertIsNone(kickoff.alarm)

    def test_a_period_not_over_is_not_watched(self):
        # On 15 January the drop's month is not over: no alarm yet for billing.
        alarms = {a.touchpoint_id for a in watch_touchpoints(dt.date(2026, 1, 15))}
        self.assertNotIn(self.billing.pk, alarms)

    def test_it_records_each_alarm_once_and_opens_one_case_for_it(self):
        first = run_watch(today=TODAY, now=NOW)
        self.assertEqual(len(first["recorded"]), 2)
        for _ in range(2):
            again = run_watch(today=TODAY, now=NOW + dt.timedelta(hours=1))
            self.assertEqual(again["recorded"], [])
        self.assertEqual(RollbackAlert.objects.count(), 2)
        self.assertEqual(Case.objects.filter(origin=Origin.ROLLBACK).count(), 2)
        status = RollbackAlert.objects.get(touchpoint=self.status)
        self.assertEqual(status.initiative, self.status_initiative)
        self.assertEqual(status.period_start, dt.date(2026, 2, 1))
        self.assertEqual(status.detected_at, NOW)
        case = status.case
        self.assertEqual(case.origin, Origin.ROLLBACK)
        self.assertEqual(case.priority, Priority.HIGH)
        self.assertEqual(case.owner, self.owner.employee)
        self.assertEqual(list(case.touchpoints.all()), [self.status])
        with translation.override("en"):
            expected = f"Roll-back: Status updates fell from {status.center:.2f} to "
        self.assertTrue(case.title_en.startswith(expected), case.title_en)
        self.assertIn("Статус-отчёты", case.title)
        # Without an initiative the case goes to the touchpoint's team, to no one in person.
        billing = RollbackAlert.objects.get(touchpoint=self.billing)
        self.assertIsNone(billing.initiative)
        self.assertIsNone(billing.case.owner)
        self.assertEqual(billing.case.team, self.team_b)
        self.assertIn("Billing", billing.case.title_en)

    def test_the_case_page_reads_the_alert_s_note_in_the_reader_s_language(self):
        run_watch(today=TODAY, now=NOW)
        alert = RollbackAlert.objects.get(touchpoint=self.status)
        self.client.force_login(self.lead)
        url = reverse("case_detail", args=[alert.case_id])
        english = self.client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        russian = self.client.get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()
        level = f"{alert.level:.2f}"
        self.assertIn("The mean rating of Status updates in the period from", english)
        self.assertIn(f"was {level} (", english)
        self.assertNotIn("Средняя оценка", english)
        self.assertIn("Статус-отчёты", russian)
        self.assertIn(level.replace(".", ","), russian)
        self.assertNotIn("The mean rating of", russian)

    def test_the_same_drop_found_a_period_later_is_not_recorded_again(self):
        alarm = self.alarms()[self.billing.pk]
        self.assertEqual(len(record_alarms([alarm], now=NOW)), 1)
        # Late answers move the first alarm to the next month of the same episode.
        later = alarm.__class__(**{**alarm.__dict__, "period": alarm.episode[1]})
        self.assertEqual(record_alarms([later], now=NOW), [])
        self.assertEqual(RollbackAlert.objects.filter(touchpoint=self.billing).count(), 1)

    def test_the_watch_runs_after_a_refresh_of_the_store(self):
        with override_settings(ROLLBACK_WATCH=False):
            facts_refreshed.send(sender=None, written=None)
        self.assertFalse(RollbackAlert.objects.exists())
        facts_refreshed.send(sender=None, written=None)  # today: after the demo's months
        self.assertEqual(
            set(RollbackAlert.objects.values_list("touchpoint_id", flat=True)),
            {self.billing.pk, self.status.pk},
        )

    def test_a_refresh_of_the_open_month_alone_skips_the_watch_once_it_ran_that_day(self):
        today = dt.datetime.now(dt.UTC).date()
        current = Written("v", (f"{today:%Y-%m}",), (), 1, 1, 1, 0.0)
        past = Written("v", ("2026-01",), (), 1, 1, 1, 0.0)
        self.addCleanup(setattr, rollback, "_watched_on", None)
        rollback._watched_on = today
        facts_refreshed.send(sender=None, written=current)
        self.assertFalse(RollbackAlert.objects.exists())  # nothing it reads has changed
        rollback._watched_on = today - dt.timedelta(days=1)
        facts_refreshed.send(sender=None, written=current)  # the day's first: a month may end
        self.assertEqual(RollbackAlert.objects.count(), 2)
        RollbackAlert.objects.all().delete()
        facts_refreshed.send(sender=None, written=past)  # a complete month rewritten
        self.assertEqual(RollbackAlert.objects.count(), 2)

    def test_the_cycle_review_and_the_badges_read_the_alerts(self):
        run_watch(today=TODAY, now=NOW)
        in_cycle = rollback_alerts(dt.date(2026, 1, 1), dt.date(2026, 1, 31))
        self.assertEqual([a.touchpoint_id for a in in_cycle], [self.billing.pk])
        detected = rollback_alerts(dt.date(2026, 6, 1), dt.date(2026, 6, 30))
        self.assertEqual(detected.count(), 2)
        self.assertFalse(rollback_alerts(dt.date(2025, 1, 1), dt.date(2025, 12, 31)).exists())
        badges = latest_rollback_alerts([self.billing.pk], case_states=("new",))
        self.assertEqual(list(badges), [self.billing.pk])
        Case.objects.filter(origin=Origin.ROLLBACK).update(state="closed")
        self.assertEqual(latest_rollback_alerts(case_states=("new",)), {})

    def test_the_initiative_page_lists_its_alerts_with_their_cases(self):
        run_watch(today=TODAY, now=NOW)
        alert = RollbackAlert.objects.get(touchpoint=self.status)
        self.client.force_login(self.lead)
        url = reverse("initiative_detail", args=[self.status_initiative.pk])
        page = self.client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        self.assertIn('id="rollback-alerts"', page)
        self.assertIn(reverse("case_detail", args=[alert.case_id]), page)
        self.assertIn("Status updates: since February 2026 the mean rating fell", page)
        other = reverse("initiative_detail", args=[self.kickoff_initiative.pk])
        page = self.client.get(other, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        self.assertIn('id="rollback-none"', page)
        self.assertNotIn('id="rollback-alerts"', page)

    def test_the_effect_is_measured_until_the_roll_back(self):
        """An initiative's effect is what it held: once a roll-back of it is recorded, the
        windows after the change end the day before the roll-back's period; the page says so.
        (The kick-off's gain holds in the data; a roll-back from July 2025 is recorded for it
        here to cut its twelve months after the change in half.)"""
        before = initiative_effect(self.kickoff_initiative, today=TODAY, cache=False)
        self.assertIsNone(before.rolled_back)
        self.assertEqual(before.did.points[-1].period, "2025-12-01")
        self.assertEqual(before.before_after.after_until, dt.date(2025, 7, 1))
        rollback_alert(
            self.kickoff,
            self.kickoff_initiative,
            dt.date(2025, 7, 1),
            baseline_since=dt.date(2025, 1, 1),
            baseline_until=dt.date(2025, 6, 30),
            center=3.9,
            detected_at=NOW,
        )
        effect = initiative_effect(self.kickoff_initiative, today=TODAY, cache=False)
        self.assertEqual(effect.rolled_back, dt.date(2025, 7, 1))
        self.assertEqual(effect.did.points[-1].period, "2025-06-01")
        self.assertEqual(effect.before_after.after_until, dt.date(2025, 6, 30))
        self.client.force_login(self.lead)
        url = reverse("initiative_detail", args=[self.kickoff_initiative.pk])
        page = self.client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        self.assertIn("Measured until the roll-back that began on 07/01/2025", page)
        self.assertIsNone(initiative_effect(self.status_initiative, today=TODAY).rolled_back)

    def test_the_journey_map_badges_the_touchpoint_and_links_its_case(self):
        run_watch(today=TODAY, now=NOW)
        billing = RollbackAlert.objects.get(touchpoint=self.billing)
        url = reverse("journey_map") + "?since=2024-07-01&until=2026-06-30"
        self.client.force_login(self.lead)
        page = self.client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        case_url = reverse("case_detail", args=[billing.case_id])
        self.assertIn(f'href="{case_url}"', page)
        self.assertIn("Roll-back alert since January 2026", page)
        self.assertEqual(page.count("cx-rollback-alert"), 2)  # billing and status
        new = reverse("initiative_new")
        self.assertIn(f"{new}?from=journey_map&amp;touchpoint={self.billing.pk}", page)
        # Once its case is closed the badge goes; a viewer may not propose initiatives.
        Case.objects.filter(pk=billing.case_id).update(state="closed")
        self.client.force_login(self.viewer)
        page = self.client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        self.assertNotIn(f'href="{case_url}"', page)
        self.assertEqual(page.count("cx-rollback-alert"), 1)
        self.assertNotIn(new, page)


class ScopedRollbackTests(OwnFactStore, ImprovementTestCase):
    """A done initiative scoped to team A holds the level of team A's customers: a drop (of a
    point) of team B's customers alone raises nothing for it; a drop of team A's does."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        initiative = propose(
            cls.owner.employee, [cls.kickoff], scope="teams", scope_teams=[cls.team_a]
        )
        cls.initiative = finished(initiative, cls.lead.employee)

    def write(self, dropping_team: int):
        teams = (self.team_a.pk, self.team_b.pk)

        def level(month, team):
            return 3.0 if month >= "2026-01" and team == dropping_team else 4.0

        write_store(self.facts_dir, {self.kickoff.pk: level}, per_month=240, teams=teams)

    def test_a_drop_outside_its_scope_raises_nothing(self):
        self.write(dropping_team=1)  # team B's customers
        self.assertEqual(watch_touchpoints(TODAY), [])

    def test_a_drop_inside_its_scope_alarms_for_it(self):
        self.write(dropping_team=0)  # team A's customers
        (alarm,) = watch_touchpoints(TODAY)
        self.assertEqual((alarm.initiative_id, alarm.month), (self.initiative.pk, "2026-01"))
