"""The reward plan pages (/people/rewards/, issue #13 point 4): who sees which payout, who may
change a plan or move a period on, the simulator, the payroll exports and the plan form."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pyarrow.parquet as pq
from openpyxl import load_workbook

from cxloop.audit.models import AuditEvent
from cxloop.insights import rewards
from cxloop.people.models import Role
from cxloop.people.reward_services import approve_period, lock_period, open_period, save_plan
from cxloop.people.rewards import RewardPeriod, RewardPlan
from cxloop.test import BaseTestCase
from tests.reward_data import BASKET, PLAN, figures_of, make_plan, measured_as

Q2 = dt.date(2026, 4, 1)


class RewardPageTests(BaseTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.ceo = cls._user("ceo", cls.firm, Role.EXECUTIVE)
        cls.partner = cls._user("partner", cls.team_b, Role.MANAGER)
        cls.viewer = cls._user("viewer", cls.firm, Role.VIEWER)
        cls.plan = make_plan(cls.ceo.employee)
        cls.figures = figures_of(cls.owner.employee.pk, cls.partner.employee.pk, cls.team_b.pk)
        period = open_period(cls.plan, Q2, by=cls.ceo.employee)
        with measured_as(cls.figures):
            cls.period = approve_period(period, rewards.to_freeze(period), by=cls.ceo.employee)

    def get(self, user, path, **query):
        self.client.force_login(user)
        with measured_as(self.figures):
            return self.client.get(path, query, HTTP_ACCEPT_LANGUAGE="en")

    def post(self, user, path, data):
        self.client.force_login(user)
        with measured_as(self.figures):
            return self.client.post(path, data, HTTP_ACCEPT_LANGUAGE="en")

    @property
    def period_url(self):
        return f"/people/rewards/periods/{self.period.pk}/"

    def shown(self, page) -> list[str]:
        return [row["payout"].name for row in page.context["rows"]]

    def test_it_shows_each_role_only_the_payouts_it_may_see(self):
        self.assertEqual(self.shown(self.get(self.teammate, self.period_url)), [])
        self.assertEqual(self.shown(self.get(self.owner, self.period_url)), ["Owner"])
        self.assertEqual(self.shown(self.get(self.partner, self.period_url)), ["Partner"])
        self.assertEqual(self.shown(self.get(self.viewer, self.period_url)), [])
        page = self.get(self.ceo, self.period_url)
        self.assertEqual(self.shown(page), ["Owner", "Partner"])
        # the breakdown anyone can check: 0.75 × 50 % + 1.25 × 30 % + 0.75 × 20 % = 90 %
        self.assertContains(page, "90.0\xa0%")
        self.assertContains(page, "125.0\xa0%")
        self.assertContains(page, "capped")

    def test_it_shows_an_employee_their_own_payout_and_not_a_colleagues(self):
        plan = make_plan(self.ceo.employee, name="Сотрудники", name_en="Staff", role=Role.EMPLOYEE)
        period = open_period(plan, Q2, by=self.ceo.employee)
        url = f"/people/rewards/periods/{period.pk}/"
        self.assertEqual(self.shown(self.get(self.ceo, url)), ["Outsider", "Teammate"])
        mine = self.get(self.teammate, url)
        self.assertEqual(self.shown(mine), ["Teammate"])
        self.assertContains(mine, 'aria-current="true"')
        self.assertEqual(self.shown(self.get(self.outsider, url)), ["Outsider"])

    def test_it_lets_only_administrators_and_executives_decide(self):
        for user in (self.owner, self.teammate, self.viewer):
            for path in ("/people/rewards/new/", f"/people/rewards/{self.plan.pk}/edit/"):
                self.assertEqual(self.get(user, path).status_code, 403)
            refused = self.post(user, f"{self.period_url}state/", {"step": "lock"})
            self.assertEqual(refused.status_code, 403)
            for export in ("payroll.csv", "payroll.xlsx", "payroll.parquet"):
                self.assertEqual(self.get(user, self.period_url + export).status_code, 403)
        self.assertEqual(RewardPeriod.objects.get(pk=self.period.pk).state, "approved")

    def test_it_answers_404_for_a_plan_or_period_that_is_not_there(self):
        self.assertEqual(self.get(self.ceo, "/people/rewards/999999/").status_code, 404)
        self.assertEqual(self.get(self.ceo, "/people/rewards/periods/999999/").status_code, 404)

    def test_it_locks_a_period_and_refuses_to_move_it_again(self):
        done = self.post(self.ceo, f"{self.period_url}state/", {"step": "lock"})
        self.assertRedirects(done, self.period_url)
        self.assertEqual(RewardPeriod.objects.get(pk=self.period.pk).state, "locked")
        again = self.post(self.ceo, f"{self.period_url}state/", {"step": "reopen"})
        self.assertRedirects(again, self.period_url, fetch_redirect_response=False)
        page = self.get(self.ceo, self.period_url)
        self.assertContains(page, "The period is locked")
        self.assertEqual(RewardPeriod.objects.get(pk=self.period.pk).state, "locked")

    def test_it_exports_the_period_for_payroll(self):
        lock_period(self.period, by=self.ceo.employee)
        page = self.get(self.ceo, self.period_url + "payroll.csv")
        text = page.content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        self.assertEqual(rows[0][:2], ["Employee id", "Name"])
        by_name = {row[1]: row for row in rows[1:]}
        self.assertEqual(by_name["Owner"][7:11], ["0.9", "0.9", "90000.00", "RUB"])
        self.assertEqual(by_name["Partner"][9], "120000.00")
        book = load_workbook(
            io.BytesIO(self.get(self.ceo, self.period_url + "payroll.xlsx").content)
        )
        payouts, lines = book.worksheets
        amounts = sorted(row[9] for row in payouts.iter_rows(min_row=2, values_only=True))
        self.assertEqual(amounts, [90000.0, 120000.0])
        self.assertEqual(payouts["J2"].number_format, "#,##0.00")
        self.assertEqual(lines.max_row, 1 + 2 * 3)  # a row per line of each payout
        parquet = pq.read_table(
            io.BytesIO(self.get(self.ceo, self.period_url + "payroll.parquet").content)
        )
        typed = {row["Name"]: row for row in parquet.to_pylist()}
        self.assertEqual(typed["Owner"]["Amount"], 90000.0)
        self.assertEqual(typed["Owner"]["Share paid"], 0.9)
        self.assertEqual(str(parquet.schema.field("Period starts").type), "date32[day]")
        self.assertEqual(AuditEvent.objects.filter(action="export").count(), 3)

    def test_it_simulates_a_payout(self):
        page = self.get(
            self.ceo,
            f"/people/rewards/{self.plan.pk}/simulate/",
            value_own_nps="50",
            value_loop_in_sla="85",
            value_first_contact_hours="24",
        )
        # NPS 50: 1.25 × 0.5; SLA and hours at target: 1.0 × 0.3 + 1.0 × 0.2 → 112.5 %
        self.assertAlmostEqual(page.context["result"].total, 1.125)
        self.assertEqual(page.context["amount"], Decimal("112500.00"))
        self.assertContains(page, "112.5\xa0%")

    def test_it_creates_a_plan_from_the_form_and_names_a_bad_field(self):
        data = {k: v for k, v in PLAN.items() if v is not None}
        data.update(name="Руководители", name_en="Heads", role="executive")
        for row in BASKET:
            for part in ("weight", "threshold", "target", "maximum"):
                data[f"{part}_{row['metric']}"] = row[part]
        bad = self.post(self.ceo, "/people/rewards/new/", {**data, "target_own_nps": 70})
        self.assertEqual(bad.status_code, 200)
        self.assertIn("target_own_nps", bad.context["form"].errors)
        self.assertFalse(RewardPlan.objects.filter(name="Руководители").exists())
        done = self.post(self.ceo, "/people/rewards/new/", data)
        plan = RewardPlan.objects.get(name="Руководители")
        self.assertRedirects(done, f"/people/rewards/{plan.pk}/", fetch_redirect_response=False)
        self.assertEqual([m.metric for m in plan.metrics.all()], [r["metric"] for r in BASKET])

    def test_it_shows_the_plan_with_its_safeguards_and_history_to_the_executive(self):
        save_plan(self.plan, {"cap": 130}, BASKET, by=self.ceo.employee)
        page = self.get(self.ceo, f"/people/rewards/{self.plan.pk}/")
        self.assertContains(page, "Cap on the total, %: 120 → 130")
        self.assertContains(page, 'id="safeguards"')
        self.assertContains(page, "365 days before the plan starts")
        self.assertContains(page, 'id="plan-history"')
        employee_view = self.get(self.teammate, f"/people/rewards/{self.plan.pk}/")
        self.assertNotContains(employee_view, 'id="plan-history"')
        self.assertContains(employee_view, "Basket of metrics")
