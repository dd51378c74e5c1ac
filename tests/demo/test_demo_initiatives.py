"""The demo's improvement cycle (issue #12, point 7): its planted initiatives, through the
services, tell the planted truths — the kick-off meeting's measured effect is the planted rise
and its standard the one from the planted date; the billing initiative's level is what the
roll-back undoes, so the watch alarms in the roll-back's period and opens a case for its owner;
the proposed one is on the target segment's top opportunity; the one in progress has an item
overdue on the demo's last day."""

import datetime as dt

from cxloop.cases.choices import Origin
from cxloop.customers.models import Segment
from cxloop.improvements.choices import InitiativeState
from cxloop.improvements.models import Initiative, RollbackAlert
from cxloop.improvements.queries import InitiativeFilter, initiatives_matching
from cxloop.insights.initiatives import baseline_for, initiative_effect
from cxloop.insights.journey import JourneyMapQuery, journey_of
from cxloop.insights.rollback import run_watch
from cxloop.insights.store import Scope
from cxloop.journeys.models import Standard, Touchpoint
from tests.demo.test_demo import TRUTH
from tests.demo.test_demo_effect import rating_scale_lift


class FullDemoInitiativeTruths:
    """Mixed into tests/demo/test_full_demo.py's FullDemoTests, so that the full demo is built
    once; reads its ``by_code`` (touchpoints by code) and ``proposed`` (the initiative
    :func:`propose_top_opportunity` proposed)."""

    def initiative(self, code: str, state: str) -> Initiative:
        return Initiative.objects.get(touchpoints=self.by_code[code], state=state)

    def test_the_kickoff_initiative_recovers_the_planted_rise_from_its_new_standard(self):
        planted = TRUTH.initiatives["kickoff"]
        initiative = self.initiative(planted["touchpoint"], InitiativeState.DONE)
        change = dt.date.fromisoformat(TRUTH.improvement["from_date"])
        self.assertEqual(initiative.effective_from, change)
        self.assertLess(initiative.started_at.date(), change)
        self.assertFalse(initiative.action_items.filter(done_at__isnull=True).exists())
        self.assertEqual(initiative.owner.role, "manager")
        latest = Standard.objects.filter(touchpoint=self.by_code[planted["touchpoint"]]).latest(
            "version"
        )
        self.assertEqual((latest.version, latest.effective_from), (2, change))
        self.assertEqual(list(initiative.standards.all()), [latest])
        self.assertIn("90", latest.text_ru)
        effect = initiative_effect(initiative, today=TRUTH.end, cache=False)
        self.assertEqual(effect.status, "measured")
        expected = rating_scale_lift(planted["touchpoint"], TRUTH.improvement["lift"])
        estimate = effect.did.effect
        self.assertLessEqual(estimate.low, expected, estimate)
        self.assertLessEqual(expected, estimate.high, estimate)
        self.assertLess(abs(estimate.value - TRUTH.improvement["lift"]), 0.1, estimate)

    def test_each_initiative_has_its_baseline_as_of_the_day_it_was_proposed(self):
        initiatives = Initiative.objects.order_by("pk")
        self.assertGreaterEqual(initiatives.count(), 4)
        for initiative in initiatives:
            scope = Scope(segment_id=initiative.segment_id) if initiative.segment_id else None
            found = baseline_for(
                list(initiative.touchpoints.values_list("pk", flat=True)),
                initiative.metric,
                initiative.created_at.date(),
                scope=scope,
            )
            with self.subTest(initiative=initiative.reference):
                self.assertGreater(found.n, 100)
                self.assertEqual(
                    (initiative.baseline, initiative.baseline_n, initiative.baseline_until),
                    (round(found.value, 4), found.n, found.until),
                )

    def test_the_roll_back_of_the_billing_initiative_alarms_and_opens_its_owners_case(self):
        planted = TRUTH.initiatives["billing"]
        initiative = self.initiative(planted["touchpoint"], InitiativeState.DONE)
        self.assertEqual(initiative.effective_from.isoformat(), planted["effective_from"])
        now = dt.datetime.combine(TRUTH.end, dt.time(20), tzinfo=dt.UTC)
        run_watch(today=TRUTH.end, now=now)
        alert = RollbackAlert.objects.get(touchpoint=self.by_code[planted["touchpoint"]])
        self.assertEqual(alert.initiative, initiative)
        self.assertEqual(alert.period_start.isoformat()[:7], planted["rollback_from_month"])
        self.assertEqual(alert.period_start.isoformat()[:7], TRUTH.rollback["from_month"])
        self.assertGreaterEqual(alert.baseline_since, initiative.effective_from)
        self.assertEqual(alert.case.origin, Origin.ROLLBACK)
        self.assertEqual(alert.case.owner, initiative.owner)

    def test_the_proposed_one_is_on_the_target_segments_top_opportunity(self):
        target = Segment.objects.get(is_target=True)
        touchpoints = Touchpoint.objects.order_by("stage__order", "order")
        ranked = JourneyMapQuery(
            touchpoint_stages=journey_of(touchpoints.values_list("pk", "stage_id")),
            scope=Scope(
                since=TRUTH.end - dt.timedelta(days=364), until=TRUTH.end, segment_id=target.pk
            ),
            target_segment_id=target.pk,
            as_of=TRUTH.end,
        ).run(cache=False)
        self.assertIsNotNone(self.proposed)
        self.assertEqual(
            (self.proposed.state, self.proposed.started_from),
            (InitiativeState.PROPOSED, "opportunities"),
        )
        self.assertEqual(
            list(self.proposed.touchpoints.values_list("pk", flat=True)),
            [ranked.opportunities[0].touchpoint_id],
        )
        self.assertEqual(self.proposed.segment, target)
        self.assertIsNotNone(self.proposed.baseline)

    def test_the_one_in_progress_has_an_item_overdue_on_the_last_day(self):
        planted = TRUTH.initiatives["in_progress"]
        initiative = self.initiative(planted["touchpoint"], InitiativeState.IN_PROGRESS)
        overdue = initiative.action_items.filter(done_at__isnull=True, due_on__lt=TRUTH.end)
        self.assertEqual([i.due_on.isoformat() for i in overdue], [planted["overdue_due_on"]])
        lead = initiative.created_by.user
        listed = initiatives_matching(lead, InitiativeFilter(overdue=True), today=TRUTH.end).get(
            pk=initiative.pk
        )
        self.assertEqual(listed.overdue_items, 1)
        self.assertTrue(
            Initiative.objects.filter(
                touchpoints=self.by_code[TRUTH.initiatives["abandoned"]["touchpoint"]],
                state=InitiativeState.ABANDONED,
            ).exists()
        )
