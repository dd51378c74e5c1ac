"""The demo's decision log (issue #12, point 7) tells the planted truths: the new billing system,
in force from the planted roll-back's month, is measured worse than expected — the roll-back
itself — and the cycle review of that quarter lists it, in both languages; the decisions whose
touchpoints the data leave unchanged measure near zero, the kick-off standard measures the
planted rise, and each verdict shown is the one those effects earn. The CX lead sees them all
on the decision pages."""

import datetime as dt
from unittest import mock

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from cxloop.demo.decisions import DECISION_SPECS
from cxloop.improvements.models import Decision, DecisionEvent, Initiative
from cxloop.insights.decisions import decision_effect
from tests.demo.test_demo import TRUTH
from tests.demo.test_demo_effect import rating_scale_lift

TITLES = {spec.name: spec.title for spec in DECISION_SPECS}


def _quarter_of(day: dt.date) -> tuple[dt.date, dt.date]:
    first = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    after = (first + dt.timedelta(days=95)).replace(day=1)
    return first, after - dt.timedelta(days=1)


class FullDemoDecisionTruths:
    """Mixed into tests/demo/test_full_demo.py's FullDemoTests, so that the full demo is built
    once."""

    def decision(self, name: str) -> Decision:
        return Decision.objects.get(title_en=TITLES[name][1])

    def page(self, url: str, language: str, **params):
        """``url`` as the CX lead sees it on the demo's last day."""
        self.client.force_login(get_user_model().objects.get(username="cx.lead"))
        with mock.patch("django.utils.timezone.localdate", return_value=TRUTH.end):
            page = self.client.get(url, params, HTTP_ACCEPT_LANGUAGE=language)
        self.assertEqual(page.status_code, 200)
        return page

    def test_the_decisions_are_the_planted_ones_with_their_history(self):
        planted = {k: v for k, v in TRUTH.decisions.items() if k != "explanation"}
        self.assertEqual(Decision.objects.count(), len(planted))
        lead = get_user_model().objects.get(username="cx.lead").employee
        for name, facts in planted.items():
            with self.subTest(decision=name):
                decision = self.decision(name)
                self.assertEqual(decision.title, TITLES[name][0])
                self.assertEqual(decision.kind, facts["kind"])
                self.assertEqual(decision.in_force_from.isoformat(), facts["in_force_from"])
                self.assertEqual(decision.decided_on.isoformat(), facts["decided_on"])
                self.assertEqual(
                    sorted(decision.touchpoints.values_list("code", flat=True)),
                    sorted(facts["touchpoints"]),
                )
                self.assertAlmostEqual(
                    decision.expected_change,
                    {"up": 1, "down": -1, "none": 0}[facts["expected_direction"]]
                    * facts["expected_size"],
                )
                (event,) = DecisionEvent.objects.filter(decision=decision)
                self.assertEqual((event.kind, event.by), ("created", lead))
                self.assertEqual(event.data["in_force_from"], facts["in_force_from"])
        self.assertEqual(
            self.decision("kickoff_standard").initiative,
            Initiative.objects.get(effective_from=TRUTH.improvement["from_date"]),
        )

    def test_the_billing_system_is_the_roll_back_measured_worse_than_expected(self):
        decision = self.decision("billing_system")
        self.assertEqual(decision.in_force_from.isoformat()[:7], TRUTH.rollback["from_month"])
        self.assertEqual(
            list(decision.touchpoints.values_list("code", flat=True)),
            [TRUTH.rollback["touchpoint"]],
        )
        self.assertGreater(decision.expected_change, 0)
        found = decision_effect(decision, today=TRUTH.end, cache=False)
        self.assertEqual((found.method, found.verdict), ("did", "worse"))
        # The planted drop of the latent quality, on the rating scale (the simulator's model).
        drop = rating_scale_lift(TRUTH.rollback["touchpoint"], TRUTH.rollback["drop"])
        self.assertLess(abs(found.measured.value - drop), 0.1, (found.measured, drop))
        self.assertLess(found.measured.high, 0)

    def test_the_others_earn_the_verdicts_of_their_data(self):
        lift = rating_scale_lift(TRUTH.improvement["touchpoint"], TRUTH.improvement["lift"])
        # What the data plant on each decision's touchpoints from the day it is in force.
        planted_change = {"rate_rise": 0.0, "assistant_pool": 0.0, "kickoff_standard": lift}
        for name, change in planted_change.items():
            with self.subTest(decision=name):
                found = decision_effect(self.decision(name), today=TRUTH.end, cache=False)
                self.assertEqual(found.method, "did")
                self.assertEqual(found.verdict, TRUTH.decisions[name]["verdict"])
                self.assertLessEqual(found.measured.low, change, found.measured)
                self.assertLessEqual(change, found.measured.high, found.measured)

    def test_the_cycle_review_of_the_roll_back_quarter_lists_the_billing_system(self):
        billing = self.decision("billing_system")
        since, until = _quarter_of(billing.in_force_from)
        detail = reverse("decision_detail", args=[billing.pk])
        for language in ("en", "ru"):
            with self.subTest(language=language):
                page = self.page(reverse("cycle_review"), language, since=since, until=until)
                flagged = [row["decision"] for row in page.context["worse_decisions"]]
                self.assertEqual(flagged, [billing])
                html = page.content.decode()
                table = html[html.index('id="worse-decisions"') :]
                self.assertIn(detail, table)
                self.assertIn(escape(TITLES["billing_system"][language == "en"]), table)
        # The quarter of a decision measured as expected lists none.
        since, until = _quarter_of(self.decision("assistant_pool").in_force_from)
        page = self.page(reverse("cycle_review"), "en", since=since, until=until)
        self.assertEqual(page.context["worse_decisions"], [])
        self.assertContains(page, "No decision in force in the period turned out worse")

    def test_the_decision_pages_list_them_for_the_cx_lead(self):
        for language in ("en", "ru"):
            with self.subTest(language=language):
                page = self.page(reverse("decision_list"), language)
                for name, title in TITLES.items():
                    self.assertContains(page, escape(title[language == "en"]))
                    self.assertContains(
                        page, reverse("decision_detail", args=[self.decision(name).pk])
                    )
        verdicts = {"worse": "worse than expected", "better": "better than expected"}
        for name, title in TITLES.items():
            with self.subTest(decision=name):
                decision = self.decision(name)
                page = self.page(reverse("decision_detail", args=[decision.pk]), "en")
                self.assertContains(page, escape(title[1]))
                self.assertEqual(page.context["found"].verdict, TRUTH.decisions[name]["verdict"])
                label = verdicts.get(TRUTH.decisions[name]["verdict"], "as expected")
                with translation.override("en"):
                    self.assertEqual(str(page.context["verdict_label"]), label)
