"""The demo's closed loop: rules a firm starts with, cases in every state with their history,
inquiries answered and waiting, and the planted truth (from the billing roll-back's month,
billing's cases are mostly invoice errors) visible through the loop dashboard's query."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Min
from django.test import TestCase

from cxloop.cases.choices import CaseState, EventKind, Origin
from cxloop.cases.conditions import parse_condition
from cxloop.cases.models import AlertRuleVersion, Case, CaseEvent, Inquiry, RootCause
from cxloop.demo.build import build_demo
from cxloop.demo.cases import demo_now
from cxloop.insights.loop import LoopQuery
from cxloop.journeys.models import Touchpoint
from tests.demo.test_demo import TRUTH


def _day(iso: str) -> dt.date:
    return dt.date.fromisoformat(iso)


class SmallDemoCaseTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        build_demo(TRUTH, size="small", progress=False)
        cls.now = demo_now(TRUTH)

    def test_it_has_cases_in_every_state(self):
        states = set(Case.objects.values_list("state", flat=True))
        self.assertEqual(states, set(CaseState.values))
        open_rule_states = set(
            Case.objects.filter(origin=Origin.RULE).values_list("state", flat=True)
        )
        self.assertLessEqual(
            {CaseState.NEW, CaseState.IN_PROGRESS, CaseState.WAITING}, open_rule_states
        )

    def test_its_rules_are_valid_and_every_rule_case_keeps_its_version_and_trigger(self):
        versions = list(AlertRuleVersion.objects.all())
        self.assertGreaterEqual(len(versions), 3)
        for version in versions:
            parse_condition(version.condition)  # raises on a condition the rule page refuses
        rule_cases = Case.objects.filter(origin=Origin.RULE)
        self.assertFalse(rule_cases.filter(rule_version=None).exists())
        self.assertFalse(rule_cases.annotate(n=Count("triggers")).filter(n=0).exists())

    def test_its_history_stops_where_the_live_rules_take_over(self):
        last = Case.objects.filter(origin=Origin.RULE).aggregate(last=Max("opened_at"))["last"]
        self.assertLess(last.date(), _day(TRUTH.cases["rules_from"]))
        first = Case.objects.aggregate(first=Min("opened_at"))["first"]
        self.assertGreaterEqual(first.date(), _day(TRUTH.cases["since"]))
        self.assertFalse(CaseEvent.objects.filter(at__gt=self.now).exists())

    def test_every_case_begins_with_its_opening_and_resolved_ones_say_how(self):
        first_kinds = {case.events.order_by("at", "pk").first().kind for case in Case.objects.all()}
        self.assertEqual(first_kinds, {EventKind.OPENED})
        done = Case.objects.filter(state__in=[CaseState.RESOLVED, CaseState.CLOSED])
        self.assertFalse(done.filter(resolution="").exists())
        self.assertFalse(done.filter(resolved_at=None).exists())
        closed_loops = done.filter(origin=Origin.RULE).exclude(customer_reaction="")
        self.assertEqual(closed_loops.count(), done.filter(origin=Origin.RULE).count())

    def test_some_cases_are_overdue_and_escalated_now(self):
        loop = LoopQuery(since=_day(TRUTH.cases["since"]), until=TRUTH.end, now=self.now).run(
            get_user_model().objects.get(username="cx.lead")
        )
        self.assertGreater(loop.total.overdue_now, 0)
        self.assertGreater(loop.total.escalations, 0)
        self.assertTrue(Case.objects.filter(state__in=["new", "in_progress"], escalation_level=2))

    def test_it_has_inquiries_answered_and_waiting(self):
        states = set(Inquiry.objects.values_list("case__state", flat=True))
        self.assertTrue(states & {CaseState.RESOLVED, CaseState.CLOSED})
        self.assertTrue(states & {CaseState.NEW, CaseState.WAITING})
        answered = CaseEvent.objects.filter(case__origin=Origin.INQUIRY, kind=EventKind.MESSAGE_OUT)
        self.assertTrue(answered.exists())

    def test_its_root_causes_are_named_in_both_languages(self):
        self.assertFalse(RootCause.objects.filter(name_en="").exists())
        self.assertTrue(RootCause.objects.filter(touchpoint=None).exists())


class FullDemoCaseTruths:
    """On the full demo, the loop dashboard's query ranks the invoice error first on billing in
    the roll-back's month, and the error's cases burst from that month. Mixed into
    tests/demo/test_full_demo.py's FullDemoTests, so that the full demo is built once."""

    def causes(self, since: dt.date, until: dt.date):
        user = get_user_model().objects.get(username="cx.lead")
        billing = Touchpoint.objects.get(code=TRUTH.cases["rollback_touchpoint"])
        result = LoopQuery(
            since=since, until=until, now=demo_now(TRUTH), touchpoint_id=billing.pk
        ).run(user)
        return result.causes_of(billing.pk)

    @property
    def invoice_error(self) -> RootCause:
        return RootCause.objects.get(
            touchpoint__code=TRUTH.cases["rollback_touchpoint"],
            name_en=TRUTH.cases["rollback_root_cause"],
        )

    def invoice_errors_per_month(self, since: dt.date, until: dt.date) -> float:
        billing = self.causes(since, until)
        cause = self.invoice_error.pk
        count = next(c.count for c in billing.causes if c.root_cause_id == cause)
        return count / ((until - since).days / 30.44)

    def test_it_ranks_the_invoice_error_first_on_billing_in_the_roll_back_month(self):
        first = _day(TRUTH.rollback["from_month"] + "-01")
        last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        billing = self.causes(first, last)
        self.assertEqual(billing.causes[0].root_cause_id, self.invoice_error.pk)
        self.assertGreater(billing.causes[0].share, 0.5)

    def test_it_shows_a_burst_of_invoice_errors_from_the_roll_back_month(self):
        first = _day(TRUTH.rollback["from_month"] + "-01")
        before = self.invoice_errors_per_month(_day(TRUTH.cases["since"]), first)
        after = self.invoice_errors_per_month(first, _day(TRUTH.cases["rules_from"]))
        self.assertGreater(after, 3 * before)
        # Before the roll-back the error was one cause among several.
        earlier = self.causes(_day(TRUTH.cases["since"]), first - dt.timedelta(days=1))
        cause = self.invoice_error.pk
        share = next(c.share for c in earlier.causes if c.root_cause_id == cause)
        self.assertLess(share, 0.4)
