"""The demo's reward plans (issue #13, point 4): a plan for the partners and one for the CEO,
each with two finished quarters locked — the first a pilot that pays nothing — and the current
quarter, where it has begun, a draft; the locked payouts are what the demo's own figures give,
and each adds up from its lines."""

from decimal import Decimal

from cxloop.demo.rewards import CEO, PARTNERS
from cxloop.insights import rewards
from cxloop.people.models import Employee
from cxloop.people.reward_queries import plan_periods, reward_plans
from tests.demo.test_demo import TRUTH


class FullDemoRewardTruths:
    """Mixed into tests/demo/test_full_demo.py's FullDemoTests."""

    def test_it_locks_two_finished_quarters_of_each_plan_the_first_a_pilot(self):
        plans = {plan.name: plan for plan in reward_plans()}
        self.assertEqual(set(plans), {PARTNERS["name"], CEO["name"]})
        for plan in plans.values():
            finished = list(plan_periods(plan).filter(ends_on__lte=TRUTH.end).order_by("starts_on"))
            self.assertEqual([p.state for p in finished], ["locked", "locked"])
            self.assertEqual([p.is_pilot for p in finished], [True, False])
            # a quarter begun but not over is a draft (none where the demo ends with a quarter)
            later = plan_periods(plan).exclude(pk__in=[p.pk for p in finished])
            self.assertTrue(all(p.state == "draft" and p.starts_on <= TRUTH.end for p in later))
            self.assertGreaterEqual((plan.starts_on - plan.baseline_since).days, 365)

    def test_it_pays_the_partners_what_the_demos_figures_give(self):
        plan = next(p for p in reward_plans() if p.name == PARTNERS["name"])
        pilot, paid = plan_periods(plan).order_by("starts_on")[:2]
        partners = Employee.objects.filter(role="manager", title="Партнёр").count()
        self.assertGreaterEqual(partners, 5)
        frozen = rewards.period_payouts(paid)
        self.assertEqual(len(frozen), partners)
        # Computed again now from the same data, the locked payouts come out the same.
        again = {row.employee_id: row.share for row in rewards.to_freeze(paid)}
        for row in frozen:
            self.assertAlmostEqual(again[row.employee_id], row.share)
            # each payout is the capped sum of its lines, paid in roubles of the target bonus
            self.assertAlmostEqual(row.uncapped, sum(line.weighted for line in row.lines))
            self.assertAlmostEqual(row.share, min(row.uncapped, plan.cap / 100))
            expected = (plan.target_bonus * Decimal(repr(row.share))).quantize(Decimal("0.01"))
            self.assertEqual(row.amount, expected)
        shares = [row.share for row in frozen]
        self.assertGreater(max(shares) - min(shares), 0.05)  # the figures tell partners apart
        self.assertTrue(all(row.paid_share == 0 for row in rewards.period_payouts(pilot)))

    def test_it_flags_the_partner_who_asks_clients_for_a_ten_and_no_other(self):
        plan = next(p for p in reward_plans() if p.name == PARTNERS["name"])
        self.assertEqual(plan.starts_on.isoformat(), TRUTH.rewards["gaming"]["from"])
        gaming = TRUTH.rewards["gaming"]
        partner = Employee.objects.get(title=gaming["title"], team__name=gaming["team"])
        check = rewards.gaming_check(plan, today=TRUTH.end)
        self.assertTrue(check.baseline_ok)
        (flag,) = check.flags
        self.assertEqual((flag.employee_id, flag.kind), (partner.pk, "scores"))
        self.assertGreater(flag.after, flag.before + 20)  # the NPS of their clients jumped
        self.assertLess(flag.p_value, 0.01)

    def test_it_pays_the_ceo_one_payout_a_quarter(self):
        plan = next(p for p in reward_plans() if p.name == CEO["name"])
        paid = plan_periods(plan).order_by("starts_on")[1]
        (row,) = rewards.period_payouts(paid)
        self.assertEqual(row.name, str(Employee.objects.get(user__username="ceo")))
        self.assertGreater(row.amount, 0)
        (total,) = [t for t in rewards.payout_totals(paid.starts_on) if t.plan_id == plan.pk]
        self.assertEqual((total.people, total.state, total.amount), (1, "locked", row.amount))
