"""The decision log: recording and changing a decision (validation by field, nothing
half-written, an immutable history), the verdict of a measured change against the expected
one (every branch), who sees and records decisions, and the measured effect on a fact store
with a planted drop after a decision that expected a rise."""

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.test import SimpleTestCase
from django.urls import reverse

from cxloop.improvements import queries, services
from cxloop.improvements.models import Decision, DecisionEvent
from cxloop.improvements.queries import verdict
from cxloop.insights.decisions import decision_effect, decisions_worse_than_expected
from cxloop.test import OwnFactStore
from tests.effect_data import write_store
from tests.improvements.data import NOW, ImprovementTestCase


def record(by, touchpoints, **fields):
    values = {
        "title": "Новая система счетов",
        "title_en": "New billing system",
        "kind": "system",
        "decided_on": dt.date(2025, 11, 1),
        "in_force_from": dt.date(2026, 1, 1),
        "metric": "rating",
        "expected_direction": "up",
        "expected_size": Decimal("0.3"),
        **fields,
    }
    return services.create_decision(by=by, now=NOW, touchpoints=touchpoints, **values)


class VerdictTests(SimpleTestCase):
    def test_a_rise_expected(self):
        self.assertEqual(verdict(0.3, 0.1, 0.5), "as_expected")
        self.assertEqual(verdict(0.3, 0.5, 0.9), "better")
        self.assertEqual(verdict(0.3, -0.4, 0.2), "worse")
        self.assertEqual(verdict(0.3, -0.2, 0.6), "unclear")

    def test_a_fall_expected(self):
        self.assertEqual(verdict(-0.2, -0.3, -0.1), "as_expected")
        self.assertEqual(verdict(-0.2, -0.5, -0.3), "worse")
        self.assertEqual(verdict(-0.2, -0.1, 0.3), "better")
        self.assertEqual(verdict(-0.2, -0.4, 0.1), "unclear")

    def test_no_change_expected(self):
        self.assertEqual(verdict(0.0, -0.1, 0.1), "as_expected")
        self.assertEqual(verdict(0.0, -0.5, -0.1), "worse")
        self.assertEqual(verdict(0.0, 0.1, 0.4), "better")


class ServiceTests(ImprovementTestCase):
    def test_it_records_a_decision_with_its_history(self):
        decision = record(self.lead.employee, [self.billing])
        self.assertEqual(decision.reference, f"D-{decision.pk:04d}")
        self.assertEqual(decision.expected_change, 0.3)
        self.assertEqual(list(decision.touchpoints.all()), [self.billing])
        event = DecisionEvent.objects.get(decision=decision)
        self.assertEqual((event.kind, event.data["expected_size"]), ("created", "0.30"))
        with self.assertRaises(ValidationError):
            event.save()
        with self.assertRaises(ValidationError):
            event.delete()

    def test_bad_input_names_the_field_and_writes_nothing(self):
        cases = [
            ({"expected_size": Decimal("-0.1")}, "expected_size"),
            ({"in_force_from": dt.date(2025, 10, 1)}, "in_force_from"),
            ({"title": "  "}, "title"),
            ({"kind": "war"}, "kind"),
            ({"metric": "mood"}, "metric"),
            ({"expected_direction": "sideways"}, "expected_direction"),
        ]
        for fields, field in cases:
            with self.subTest(field), self.assertRaises(services.InitiativeError) as caught:
                record(self.lead.employee, [self.billing], **fields)
            self.assertEqual(caught.exception.field, field)
        with self.assertRaises(services.InitiativeError) as caught:
            record(self.lead.employee, [])
        self.assertEqual(caught.exception.field, "touchpoints")
        self.assertFalse(Decision.objects.exists())
        self.assertFalse(DecisionEvent.objects.exists())

    def test_a_change_is_checked_whole_and_recorded(self):
        decision = record(self.lead.employee, [self.billing])
        later = NOW + dt.timedelta(days=1)
        with self.assertRaises(services.InitiativeError) as caught:
            services.update_decision(
                decision, by=self.lead.employee, now=later, decided_on=dt.date(2026, 2, 1),
                touchpoints=[self.kickoff],
            )  # fmt: skip
        self.assertEqual(caught.exception.field, "in_force_from")
        decision.refresh_from_db()
        self.assertEqual(list(decision.touchpoints.all()), [self.billing])
        self.assertEqual(decision.decided_on, dt.date(2025, 11, 1))
        services.update_decision(
            decision, by=self.lead.employee, now=later, expected_direction="down",
            touchpoints=[self.kickoff],
        )  # fmt: skip
        decision.refresh_from_db()
        self.assertEqual(decision.expected_change, -0.3)
        self.assertEqual(list(decision.touchpoints.all()), [self.kickoff])
        kinds = list(queries.decision_history(decision).values_list("kind", flat=True))
        self.assertEqual(kinds, ["created", "edited"])

    def test_no_change_expected_has_no_size(self):
        decision = record(self.lead.employee, [self.billing], expected_direction="none")
        self.assertEqual(decision.expected_size, 0)
        self.assertEqual(decision.expected_change, 0.0)

    def test_who_records_and_changes(self):
        whole = record(self.lead.employee, [self.billing])
        own = record(self.owner.employee, [self.billing], team=self.team_a)
        self.assertTrue(queries.may_record_decision(self.lead))
        self.assertTrue(queries.may_record_decision(self.owner))
        self.assertFalse(queries.may_record_decision(self.viewer))
        self.assertTrue(queries.may_edit_decision(self.owner, own))
        self.assertFalse(queries.may_edit_decision(self.owner, whole))
        self.assertFalse(queries.may_edit_decision(self.manager_b, own))
        self.assertFalse(queries.may_edit_decision(self.viewer, own))
        self.assertEqual(queries.visible_decisions(self.viewer).count(), 2)


FIRST, CHANGE, LAST = dt.date(2025, 1, 1), dt.date(2026, 1, 1), dt.date(2026, 11, 30)
TODAY = dt.date(2026, 12, 5)


class BillingDropTestCase(OwnFactStore, ImprovementTestCase):
    """Billing drops by 0.4 from the day the new billing system is in force, which expected a
    rise of 0.3 (a price rise on the same day expected the fall); the kick-off meeting, in the
    same journey, stays where it was and is the comparison."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        write_store(
            cls.facts_dir,
            touchpoints={cls.billing.pk: -0.4, cls.kickoff.pk: 0.0},
            change=CHANGE,
            first=FIRST,
            last=LAST,
            base=3.6,
        )
        cls.billing_system = record(cls.lead.employee, [cls.billing])
        cls.price_rise = record(
            cls.lead.employee,
            [cls.billing],
            title="Повышение цен",
            kind="price",
            expected_direction="down",
            expected_size=Decimal("0.4"),
        )


class MeasuredEffectTests(BillingDropTestCase):
    def test_the_planted_drop_is_measured_and_worse_than_expected(self):
        found = decision_effect(self.billing_system, today=TODAY, cache=False)
        self.assertEqual(found.effect.status, "measured")
        self.assertEqual(found.method, "did")
        self.assertLessEqual(found.measured.low, -0.4)
        self.assertGreaterEqual(found.measured.high, -0.4)
        self.assertLess(found.measured.high, 0.3)
        self.assertEqual(found.verdict, "worse")

    def test_a_decision_that_expected_the_drop_is_as_expected(self):
        found = decision_effect(self.price_rise, today=TODAY, cache=False)
        self.assertEqual(found.verdict, "as_expected", found.measured)

    def test_a_decision_not_yet_in_force_has_no_verdict(self):
        found = decision_effect(self.billing_system, today=dt.date(2025, 12, 1), cache=False)
        self.assertEqual(found.effect.status, "not_in_force")
        self.assertIsNone(found.verdict)

    def test_the_cycle_review_lists_the_decision_worse_than_expected(self):
        worse = decisions_worse_than_expected(
            dt.date(2025, 10, 1), dt.date(2026, 6, 30), today=TODAY
        )
        self.assertEqual([d.pk for d, _ in worse], [self.billing_system.pk])
        none = decisions_worse_than_expected(dt.date(2026, 2, 1), dt.date(2026, 6, 30), today=TODAY)
        self.assertEqual(none, [])

    def test_the_cycle_review_page_flags_it_and_not_the_one_as_expected(self):
        self.client.force_login(self.lead)
        page = self.client.get(
            reverse("cycle_review"),
            {"since": "2025-10-01", "until": "2026-06-30"},
            HTTP_ACCEPT_LANGUAGE="en",
        )
        self.assertEqual(page.status_code, 200)
        flagged = [row["decision"].pk for row in page.context["worse_decisions"]]
        self.assertEqual(flagged, [self.billing_system.pk])
        self.assertContains(page, "Decisions worse than expected")
        self.assertContains(page, reverse("decision_detail", args=[self.billing_system.pk]))
        self.assertNotContains(page, reverse("decision_detail", args=[self.price_rise.pk]))
