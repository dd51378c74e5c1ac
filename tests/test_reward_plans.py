"""Reward plans in the database: payouts computed from hand-set figures (the arithmetic in
tests/reward_data.py), frozen on approval, never changed once locked, every plan change in the
audit log, whose payouts each role sees, totals for the executive dashboard, and the gaming
flags on a planted change."""

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from cxloop.audit.models import AuditEvent
from cxloop.customers.models import Contact, Customer
from cxloop.facts.schema import ANSWERS, RESPONSES
from cxloop.insights import rewards
from cxloop.insights.store import FactStore
from cxloop.people.models import Employee, Role
from cxloop.people.reward_choices import PeriodState
from cxloop.people.reward_queries import visible_payees
from cxloop.people.reward_services import (
    approve_period,
    lock_period,
    open_period,
    period_end,
    reopen_period,
    save_plan,
)
from cxloop.people.rewards import LockedPeriodError, RewardPayout, RewardPeriod
from cxloop.people.services import OutOfScope
from cxloop.surveys.models import Invitation, Survey
from cxloop.test import BaseTestCase
from tests.reward_data import BASKET, Figure, figures_of, make_plan, measured_as
from tests.test_insights_dashboards import write_store

Q1, Q2 = dt.date(2026, 1, 1), dt.date(2026, 4, 1)


class RewardPlanTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.ceo = cls._user("ceo", cls.firm, Role.EXECUTIVE).employee
        cls.partner = cls._user("partner", cls.team_b, Role.MANAGER).employee
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)
        cls.plan = make_plan(cls.ceo)
        cls.figures = figures_of(cls.owner.employee.pk, cls.partner.pk, cls.team_b.pk)

    def approved(self, start=Q2):
        period = open_period(self.plan, start, by=self.ceo)
        with measured_as(self.figures):
            return approve_period(period, rewards.to_freeze(period), by=self.ceo)

    def test_it_computes_a_draft_live_and_freezes_it_on_approval(self):
        period = open_period(self.plan, Q2, by=self.ceo)
        self.assertEqual((period.ends_on, period.is_pilot), (dt.date(2026, 6, 30), False))
        with measured_as(self.figures):
            live = rewards.period_payouts(period)
        by_name = {row.name: row for row in live}
        owner, partner = by_name["Owner"], by_name["Partner"]
        self.assertAlmostEqual(owner.share, 0.90)
        self.assertEqual(owner.amount, Decimal("90000.00"))
        self.assertAlmostEqual(partner.uncapped, 1.375)
        self.assertAlmostEqual(partner.share, 1.20)
        self.assertEqual(partner.amount, Decimal("120000.00"))
        self.assertEqual(partner.lines[0].source, "team")
        with measured_as(self.figures):
            approve_period(period, rewards.to_freeze(period), by=self.ceo)
        # The figures change after approval; the approved payouts do not.
        with measured_as({"people": {}, "teams": {}}):
            frozen = rewards.period_payouts(RewardPeriod.objects.get(pk=period.pk))
        self.assertEqual([(r.name, r.amount, r.frozen) for r in frozen], [
            ("Owner", Decimal("90000.00"), True), ("Partner", Decimal("120000.00"), True),
        ])  # fmt: skip
        self.assertEqual(frozen[0].lines, owner.lines)

    def test_it_shows_but_does_not_pay_a_pilot_period(self):
        period = self.approved(Q1)
        self.assertTrue(period.is_pilot)
        rows = rewards.period_payouts(period)
        self.assertEqual([(r.share, r.paid_share, r.amount) for r in rows][0], (
            pytest.approx(0.90), 0.0, Decimal("0.00")
        ))  # fmt: skip

    def test_it_never_changes_a_locked_period(self):
        period = lock_period(self.approved(), by=self.ceo)
        payout = RewardPayout.objects.filter(period=period).first()
        payout.share = 9.0
        for attempt in (
            lambda: reopen_period(period, by=self.ceo),
            lambda: lock_period(period, by=self.ceo),
            lambda: approve_period(period, [], by=self.ceo),
            payout.save,
            payout.delete,
            lambda: RewardPayout.objects.filter(period=period).update(share=2.0),
            lambda: RewardPayout.objects.filter(period=period).delete(),
            lambda: RewardPeriod.objects.filter(pk=period.pk).update(state="draft"),
            RewardPeriod.objects.get(pk=period.pk).delete,
        ):
            with self.assertRaises(LockedPeriodError):
                attempt()
        self.assertEqual(
            sorted(RewardPayout.objects.values_list("share", flat=True)),
            [pytest.approx(0.90), pytest.approx(1.20)],
        )

    def test_it_reopens_an_approved_period_as_a_draft(self):
        period = reopen_period(self.approved(), by=self.ceo)
        self.assertEqual(period.state, PeriodState.DRAFT)
        self.assertFalse(RewardPayout.objects.filter(period=period).exists())
        with self.assertRaisesMessage(ValidationError, "Закрыть можно только утверждённый период"):
            lock_period(period, by=self.ceo)

    def test_it_audits_every_change_to_a_plan_with_before_and_after(self):
        basket = [dict(BASKET[0], weight=60), *BASKET[1:]]
        save_plan(self.plan, {"cap": 130}, basket, by=self.ceo)
        event = AuditEvent.objects.filter(object_kind="rewardplan", action="change").get()
        changes = event.details["changes"]
        self.assertEqual(changes["cap"], [120, 130])
        before, after = changes["metrics"]
        self.assertEqual((before[0]["weight"], after[0]["weight"]), (50, 60))
        self.assertTrue(
            AuditEvent.objects.filter(object_kind="rewardplan", action="create").exists()
        )

    def test_it_lets_only_administrators_and_executives_change_plans(self):
        for who in (self.owner.employee, self.teammate.employee, self.viewer.employee):
            with self.assertRaises(OutOfScope):
                save_plan(self.plan, {"cap": 200}, BASKET, by=who)
            with self.assertRaises(OutOfScope):
                open_period(self.plan, Q2, by=who)
        self.plan.refresh_from_db()
        self.assertEqual(self.plan.cap, 120)

    def test_it_refuses_a_plan_that_does_not_hold_together(self):
        with self.assertRaises(ValidationError) as caught:
            save_plan(self.plan, {"baseline_since": dt.date(2026, 2, 1)}, BASKET, by=self.ceo)
        self.assertIn("baseline_since", caught.exception.message_dict)
        with self.assertRaisesMessage(ValidationError, "указан дважды"):
            save_plan(self.plan, {}, [BASKET[0], BASKET[0]], by=self.ceo)
        with self.assertRaisesMessage(ValidationError, "не первый день"):
            open_period(self.plan, dt.date(2026, 2, 1), by=self.ceo)

    def test_it_counts_periods_in_calendar_months(self):
        self.assertEqual(period_end(dt.date(2026, 1, 1), 3), dt.date(2026, 3, 31))
        self.assertEqual(period_end(dt.date(2025, 11, 1), 3), dt.date(2026, 1, 31))
        self.assertEqual(period_end(dt.date(2026, 1, 1), 12), dt.date(2026, 12, 31))

    def test_it_shows_each_role_the_payouts_it_may_see(self):
        owner, teammate = self.owner.employee, self.teammate.employee
        self.assertEqual(visible_payees(self.teammate), {teammate.pk})
        self.assertEqual(visible_payees(self.owner), {owner.pk, teammate.pk})
        self.assertIsNone(visible_payees(self.ceo.user))
        self.assertEqual(visible_payees(self.viewer), frozenset())
        period = self.approved()
        mine = rewards.period_payouts(period, payees=visible_payees(self.owner))
        self.assertEqual([row.name for row in mine], ["Owner"])

    def test_it_totals_each_plan_for_the_executive_dashboard(self):
        self.approved()
        (total,) = rewards.payout_totals(Q2)
        # 0.90 + 1.20 = 2.10 target bonuses; 90,000 + 120,000 roubles
        self.assertEqual((total.plan, total.people, total.state), ("Партнёры", 2, "approved"))
        self.assertAlmostEqual(total.share_sum, 2.10)
        self.assertAlmostEqual(total.mean_share, 1.05)
        self.assertEqual(total.amount, Decimal("210000.00"))

    def test_it_pays_an_executive_on_the_whole_organisations_figures(self):
        plan = make_plan(self.ceo, name="CEO", role=Role.EXECUTIVE, measured_on="organisation")
        period = open_period(plan, Q2, by=self.ceo)
        teams = {
            self.team_a.pk: {"own_nps": Figure(20, 30), "loop_in_sla": Figure(90, 10)},
            self.team_b.pk: {"own_nps": Figure(50, 10), "first_contact_hours": Figure(36, 5)},
        }
        with measured_as({"people": {}, "teams": teams}):
            (row,) = rewards.period_payouts(period)
        # NPS (20 × 30 + 50 × 10) / 40 = 27.5 → 0.5 + 0.5 × 7.5/20 = 0.6875; SLA 90 → 1.25;
        # 36 h → 0.75; total 0.6875 × 0.5 + 1.25 × 0.3 + 0.75 × 0.2 = 0.86875
        self.assertEqual(row.name, "Ceo")
        self.assertAlmostEqual(row.lines[0].value, 27.5)
        self.assertAlmostEqual(row.share, 0.86875)

    def test_it_simulates_a_payout_for_hypothetical_figures(self):
        with measured_as(self.figures):
            result = rewards.simulate(
                self.plan, {"own_nps": 40, "loop_in_sla": 85, "first_contact_hours": None}
            )
        # hours dropped: NPS 1.0 × 50/80 + SLA 1.0 × 30/80 = 1.0
        self.assertAlmostEqual(result.total, 1.0)
        self.assertTrue(result.rescaled)


class GamingFlagTests(BaseTestCase):
    """The owner's response rate jumps from 20 % to 60 % and their customers' answers from
    mostly detractors to all promoters after the plan starts; the teammate's stay as they
    were."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.ceo = cls._user("ceo", cls.firm, Role.EXECUTIVE).employee
        Employee.objects.filter(pk=cls.teammate.employee.pk).update(role=Role.MANAGER)
        cls.plan = make_plan(cls.ceo)
        survey = Survey.objects.create(name_ru="Опрос", name_en="Survey", kind="relationship")
        cls.customers = {}
        for person in (cls.owner.employee, cls.teammate.employee):
            customer = Customer.objects.create(
                external_id=f"C{person.pk}", name="Acme", owner=person
            )
            cls.customers[person.pk] = customer
            contact = Contact.objects.create(customer=customer, name="A", email=f"{person.pk}@x")
            jump = person == cls.owner.employee
            for day, done in (
                (dt.date(2025, 6, 1), 20),
                (dt.date(2026, 2, 1), 60 if jump else 20),
            ):
                at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
                Invitation.objects.bulk_create(
                    Invitation(
                        survey=survey,
                        contact=contact,
                        token_hash=f"{person.pk}-{day}-{i}".ljust(64, "x"),
                        created_at=at,
                        sent_at=at,
                        started_at=at if i < done else None,
                        completed_at=at if i < done else None,
                        expires_at=at + dt.timedelta(days=30),
                    )
                    for i in range(100)
                )

    def store(self, directory):
        rows = []
        for person, customer in self.customers.items():
            jump = person == self.owner.employee.pk
            before = [2] * 20 + [8] * 10 + [10] * 10
            after = [10] * 40 if jump else before
            sides = ((dt.datetime(2025, 6, 1, 12), before), (dt.datetime(2026, 2, 1, 12), after))
            for day, scores in sides:
                for score in scores:
                    rows.append({"customer_id": customer.pk, "nps": score, "submitted_at": day})
        frame = pd.DataFrame(rows)
        frame["submitted_at"] = pd.to_datetime(frame.submitted_at).dt.tz_localize("UTC")
        frame["month"] = frame.submitted_at.dt.strftime("%Y-%m")
        frame["response_id"] = range(1, len(frame) + 1)
        common = {"survey_id": 1, "channel": "email", "touchpoint_id": None, "team_id": 1}
        responses = frame.assign(**common, survey_kind="relationship", language="ru")
        answers = frame.assign(**common, kind="nps", score=frame.nps)
        customers = pd.DataFrame(
            {
                "customer_id": [c.pk for c in self.customers.values()],
                "owner_id": list(self.customers),
                "team_id": 1,
                "currency": "RUB",
                "tier": "key",
                "lifecycle_stage": "active",
            }
        )
        write_store(
            directory,
            responses[[*RESPONSES.names, "month"]],
            answers[[*ANSWERS.names, "month"]],
            customers,
        )
        return FactStore(directory, threads=1)

    def test_it_flags_a_sharp_change_after_the_plan_starts(self):
        with tempfile.TemporaryDirectory() as folder:
            check = rewards.gaming_check(
                self.plan, today=dt.date(2026, 3, 31), store=self.store(Path(folder))
            )
        self.assertTrue(check.baseline_ok)
        self.assertEqual(check.baseline_days, 365)
        flags = {(flag.employee_id, flag.kind): flag for flag in check.flags}
        self.assertEqual(
            set(flags),
            {(self.owner.employee.pk, "response_rate"), (self.owner.employee.pk, "scores")},
        )
        rate = flags[(self.owner.employee.pk, "response_rate")]
        self.assertEqual((rate.before, rate.after, rate.n_before, rate.n_after), (20, 60, 100, 100))
        scores = flags[(self.owner.employee.pk, "scores")]
        # before: 20 detractors, 10 passives, 10 promoters of 40 → NPS −25; after: 40 promoters
        self.assertEqual((scores.before, scores.after), (-25, 100))
        self.assertLess(scores.p_value, 0.01)

    def test_it_raises_no_flag_before_the_plan_starts_and_warns_of_a_short_baseline(self):
        plan = save_plan(self.plan, {"baseline_since": dt.date(2025, 10, 1)}, BASKET, by=self.ceo)
        check = rewards.gaming_check(plan, today=dt.date(2025, 12, 1))
        self.assertEqual((check.started, check.flags, check.baseline_ok), (False, (), False))
