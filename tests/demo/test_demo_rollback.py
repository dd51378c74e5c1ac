"""The roll-back watch on the full demo (issue #12, point 4): over the demo's 24 months it
alarms on the billing touchpoint in the planted month of its roll-back and on no other
touchpoint, the kick-off meeting's planted rise included; the alert opens one case, once, and
shows on the journey map."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.urls import reverse

from cxloop.cases.choices import Origin
from cxloop.cases.models import Case
from cxloop.improvements.models import RollbackAlert
from cxloop.insights.rollback import run_watch, watch_touchpoints, watches
from tests.demo.test_demo import TRUTH


class FullDemoRollbackTruths:
    """Mixed into tests/demo/test_full_demo.py's FullDemoTests, so that the full demo is built
    once; reads its ``code`` (touchpoint codes by id)."""

    def test_it_alarms_on_billing_in_the_planted_month_and_nowhere_else(self):
        alarms = {self.code[a.touchpoint_id]: a for a in watch_touchpoints(TRUTH.end)}
        self.assertEqual(set(alarms), {TRUTH.rollback["touchpoint"]})
        billing = alarms[TRUTH.rollback["touchpoint"]]
        # The demo's ratings come in quarterly waves, so its periods are quarters: the planted
        # month (January 2026) opens the first quarter of the drop.
        self.assertEqual(billing.grain, "quarter")
        self.assertEqual(billing.month, TRUTH.rollback["from_month"])
        self.assertLess(billing.level - billing.center, TRUTH.rollback["drop"] / 2)

    def test_the_planted_rise_is_held_from_its_new_standard_without_an_alarm(self):
        improved = TRUTH.improvement["touchpoint"]
        (kickoff,) = [w for w in watches(TRUTH.end) if self.code[w.touchpoint_id] == improved]
        self.assertEqual(kickoff.change_from, dt.date.fromisoformat(TRUTH.improvement["from_date"]))
        self.assertIsNone(kickoff.alarm)

    def test_it_opens_one_case_once_and_badges_the_journey_map(self):
        now = dt.datetime.combine(TRUTH.end, dt.time(20), tzinfo=dt.UTC)
        first = run_watch(today=TRUTH.end, now=now)
        self.assertEqual(len(first["recorded"]), 1)
        self.assertEqual(run_watch(today=TRUTH.end, now=now)["recorded"], [])
        alert = RollbackAlert.objects.get()
        self.assertEqual(self.code[alert.touchpoint_id], TRUTH.rollback["touchpoint"])
        self.assertEqual(Case.objects.filter(origin=Origin.ROLLBACK).count(), 1)
        self.assertEqual(alert.case.team, alert.touchpoint.team)
        self.client.force_login(get_user_model().objects.get(username="cx.lead"))
        url = reverse("journey_map") + f"?since={TRUTH.start}&until={TRUTH.end}&segment=all"
        page = self.client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
        self.assertIn(f'href="{reverse("case_detail", args=[alert.case_id])}"', page)
        self.assertEqual(page.count("cx-rollback-alert"), 1)
        self.assertIn(f"{reverse('initiative_new')}?from=opportunities&amp;touchpoint=", page)
