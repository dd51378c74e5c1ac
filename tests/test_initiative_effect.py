"""The measured effect of an initiative (cxloop.insights.initiatives) on fact stores with a
planted lift: the difference-in-differences against the other touchpoints, the customers outside
the segment or the other teams, and the before/after, recover the lift within their intervals;
without a comparison group the interrupted time series is chosen and recovers it too; initiatives
not started have no effect; a touchpoint without answers says so; the baseline source wired at
start-up measures the last three complete months as an independent count of the files does."""

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.dataset as ds

from cxloop.customers.models import Segment
from cxloop.improvements import services
from cxloop.insights.initiatives import PERIODS_AFTER, baseline_for, initiative_effect
from cxloop.insights.store import Scope
from cxloop.journeys.models import Journey, Stage
from cxloop.test import OwnFactStore
from tests.effect_data import finished, write_store
from tests.improvements.data import ImprovementTestCase, propose, touchpoint

FIRST, CHANGE, LAST = dt.date(2025, 1, 1), dt.date(2026, 1, 1), dt.date(2026, 11, 30)
TODAY = dt.date(2026, 12, 5)
LIFT = 0.5


def inside(estimate, value) -> bool:
    return estimate.low <= value <= estimate.high


class AllCustomersTests(OwnFactStore, ImprovementTestCase):
    """The kick-off meeting improves by 0.5 from 1 January; billing, in the same journey, not."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        write_store(
            cls.facts_dir,
            touchpoints={cls.kickoff.pk: LIFT, cls.billing.pk: 0.0},
            change=CHANGE,
            first=FIRST,
            last=LAST,
        )
        cls.initiative = finished(
            propose(cls.owner.employee, [cls.kickoff]),
            effective_from=CHANGE,
            by=cls.lead.employee,
        )

    def effect(self, initiative=None):
        return initiative_effect(initiative or self.initiative, today=TODAY, cache=False)

    def test_it_recovers_the_planted_lift_against_the_other_touchpoints(self):
        effect = self.effect()
        self.assertEqual(effect.status, "measured")
        self.assertEqual((effect.grain, effect.comparison), ("month", "touchpoints"))
        did = effect.did
        self.assertIsNotNone(did)
        self.assertTrue(inside(did.effect, LIFT), did.effect)
        self.assertTrue(did.effect.significant)
        self.assertEqual(did.claim, "causal_if_parallel_trends")
        self.assertIsNone(effect.its)
        # 12 months before, the 11 complete ones after (December is not over).
        self.assertEqual(len(did.points), 23)
        self.assertLessEqual(sum(p.after for p in did.points), PERIODS_AFTER)
        self.assertEqual(did.change_period, "2026-01-01")
        cells = did.cells
        self.assertEqual(cells.treated_before + cells.treated_after, sum(p.n for p in did.points))
        self.assertEqual(cells.control_after, sum(p.control_n for p in did.points if p.after))

    def test_it_recovers_the_lift_before_and_after_over_equal_windows(self):
        ba = self.effect().before_after
        self.assertEqual(ba.claim, "association_only")
        self.assertEqual((ba.before_until - ba.before_since).days, 181)
        self.assertEqual((ba.after_until - ba.after_since).days, 181)
        self.assertEqual(ba.after_since, CHANGE)
        self.assertTrue(inside(ba.change, LIFT), ba.change)
        self.assertTrue(inside(ba.before, 3.4) and inside(ba.after, 3.9))
        self.assertEqual(ba.before.n, 182 * 8)

    def test_it_checks_the_target_against_what_was_achieved(self):
        target = self.effect().target
        self.assertEqual(target.target, 4.5)
        self.assertEqual(target.verdict, "missed")  # 3.9 achieved, the target 4.5
        self.assertEqual(target.direction, "up")

    def test_it_measures_nothing_before_the_work_starts(self):
        proposed = propose(self.owner.employee, [self.kickoff])
        self.assertEqual(self.effect(proposed).status, "not_started")
        services.change_state(proposed, "approved", by=self.lead.employee, now=dt.datetime(
            2026, 3, 1, tzinfo=dt.UTC))  # fmt: skip
        self.assertEqual(self.effect(proposed).status, "not_started")
        self.assertIsNone(self.effect(proposed).before_after)

    def test_it_measures_from_the_start_while_in_progress(self):
        started = propose(self.owner.employee, [self.kickoff])
        at = dt.datetime(2026, 1, 1, 9, tzinfo=dt.UTC)
        started = services.change_state(started, "approved", by=self.lead.employee, now=at)
        started = services.change_state(started, "in_progress", by=self.lead.employee, now=at)
        effect = self.effect(started)
        self.assertTrue(effect.provisional)
        self.assertEqual(effect.change, CHANGE)
        self.assertTrue(inside(effect.did.effect, LIFT))

    def test_it_leaves_out_the_period_the_change_falls_in(self):
        # Finished on 15 December: December is part before, part after (and the lift comes on
        # 1 January, so the DiD against December's neighbours still finds it all).
        mid = finished(
            propose(self.owner.employee, [self.kickoff]),
            effective_from=dt.date(2025, 12, 15),
            by=self.lead.employee,
        )
        did = self.effect(mid).did
        periods = [p.period for p in did.points]
        self.assertNotIn("2025-12-01", periods)
        self.assertEqual((periods[11], did.change_period), ("2025-11-01", "2026-01-01"))
        self.assertTrue(inside(did.effect, LIFT), did.effect)

    def test_it_says_a_touchpoint_without_answers_has_no_data(self):
        stage = self.kickoff.stage
        silent = touchpoint(stage, 3, "silent", "Тишина", "Silence")
        initiative = finished(
            propose(self.owner.employee, [silent]), effective_from=CHANGE, by=self.lead.employee
        )
        self.assertEqual(self.effect(initiative).status, "no_data")

    def test_it_says_too_few_when_the_change_is_too_recent(self):
        late = finished(
            propose(self.owner.employee, [self.kickoff]),
            effective_from=dt.date(2026, 11, 29),
            by=self.lead.employee,
        )
        effect = self.effect(late)
        self.assertEqual(effect.status, "too_few")
        self.assertLess(effect.answers_after, 30)

    def test_the_wired_source_measures_the_last_three_complete_months(self):
        # Proposed on 16 March 2026 (tests.improvements.data.NOW): December to February.
        fresh = propose(self.owner.employee, [self.kickoff])
        self.assertEqual(fresh.baseline_since, dt.date(2025, 12, 1))
        self.assertEqual(fresh.baseline_until, dt.date(2026, 2, 28))
        files = ds.dataset(Path(self.facts_dir) / "answers", partitioning="hive")
        table = files.to_table(filter=pc.field("touchpoint_id") == self.kickoff.pk)
        day = pc.cast(table["submitted_at"], "date32").to_numpy(zero_copy_only=False)
        keep = (day >= np.datetime64("2025-12-01")) & (day <= np.datetime64("2026-02-28"))
        scores = table["score"].to_numpy()[keep]
        self.assertEqual(fresh.baseline_n, scores.size)
        self.assertAlmostEqual(fresh.baseline, scores.mean(), places=4)

    def test_the_baseline_reads_within_a_segment(self):
        whole = baseline_for([self.kickoff.pk], "rating", dt.date(2026, 3, 16))
        csat = baseline_for([self.kickoff.pk], "csat", dt.date(2026, 3, 16))
        self.assertGreater(whole.n, 0)
        self.assertIsNone(csat)


class SegmentScopeTests(OwnFactStore, ImprovementTestCase):
    """Only the segment's customers get the lift at the kick-off meeting."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.segment = Segment.objects.create(name="Key clients", kind="manual", is_target=True)
        write_store(
            cls.facts_dir,
            touchpoints={cls.kickoff.pk: LIFT},
            change=CHANGE,
            first=FIRST,
            last=LAST,
            per_day=12,
            segment_only=True,
            segment_id=cls.segment.pk,
        )
        initiative = propose(
            cls.owner.employee, [cls.kickoff], scope="segment", segment=cls.segment
        )
        cls.initiative = finished(initiative, effective_from=CHANGE, by=cls.lead.employee)

    def test_its_baseline_reads_the_segments_answers(self):
        created = self.initiative.events.get(kind="created")
        day = created.at.date()
        within = baseline_for(
            [self.kickoff.pk], "rating", day, scope=Scope(segment_id=self.segment.pk)
        )
        whole = baseline_for([self.kickoff.pk], "rating", day)
        self.assertEqual(
            (self.initiative.baseline_n, self.initiative.baseline),
            (within.n, round(within.value, 4)),
        )
        self.assertLess(within.n, 0.6 * whole.n)

    def test_it_compares_with_the_customers_outside_the_segment(self):
        effect = initiative_effect(self.initiative, today=TODAY, cache=False)
        self.assertEqual(effect.comparison, "segment")
        self.assertTrue(inside(effect.did.effect, LIFT), effect.did.effect)
        # The before/after reads the segment only: the whole lift, on about half the answers.
        ba = effect.before_after
        self.assertTrue(inside(ba.change, LIFT), ba.change)
        self.assertLess(ba.before.n, 0.6 * 182 * 12)
        self.assertGreater(ba.before.n, 0.4 * 182 * 12)


class TeamScopeTests(OwnFactStore, ImprovementTestCase):
    """Only team A's customers get the lift at the kick-off meeting."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        write_store(
            cls.facts_dir,
            touchpoints={cls.kickoff.pk: LIFT},
            change=CHANGE,
            first=FIRST,
            last=LAST,
            per_day=12,
            team_only=True,
            team_ids=(cls.team_a.pk, cls.team_b.pk),
        )
        initiative = propose(
            cls.owner.employee, [cls.kickoff], scope="teams", scope_teams=[cls.team_a]
        )
        cls.initiative = finished(initiative, effective_from=CHANGE, by=cls.lead.employee)

    def test_it_compares_with_the_teams_outside_the_scope(self):
        effect = initiative_effect(self.initiative, today=TODAY, cache=False)
        self.assertEqual(effect.comparison, "teams")
        self.assertTrue(inside(effect.did.effect, LIFT), effect.did.effect)


class NoComparisonTests(OwnFactStore, ImprovementTestCase):
    """A journey of one touchpoint: nothing to compare with, so the time series."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        journey = Journey.objects.create(name_ru="Один", name_en="Alone")
        stage = Stage.objects.create(journey=journey, order=1, name_ru="Этап", name_en="Stage")
        cls.alone = touchpoint(stage, 1, "alone", "Одна", "Alone")
        write_store(
            cls.facts_dir,
            touchpoints={cls.alone.pk: LIFT},
            change=CHANGE,
            first=FIRST,
            last=LAST,
        )
        cls.initiative = finished(
            propose(cls.owner.employee, [cls.alone]), effective_from=CHANGE, by=cls.lead.employee
        )

    def test_it_falls_back_to_the_interrupted_time_series(self):
        effect = initiative_effect(self.initiative, today=TODAY, cache=False)
        self.assertIsNone(effect.did)
        its = effect.its
        self.assertIsNotNone(its)
        self.assertEqual((its.periods_before, its.periods_after), (12, 11))
        self.assertEqual(its.claim, "causal_if_trend_continues")
        self.assertTrue(inside(its.level_change, LIFT), its.level_change)
        self.assertTrue(inside(its.pre_trend, 0.0), its.pre_trend)
        after = [p for p in its.points if p.after]
        # The counterfactual carries the flat pre-trend on: about the old level, not the new.
        self.assertLess(abs(np.mean([p.counterfactual for p in after]) - 3.4), 0.15)
        self.assertEqual(its.answers_before + its.answers_after, sum(p.n for p in its.points))

    def test_the_charts_are_valid_vega_lite_that_draws(self):
        import vl_convert
        from django.utils import translation

        from cxloop.insights import charts
        from tests.test_charts import schema_error

        effect = initiative_effect(self.initiative, today=TODAY, cache=False)
        points = [
            {**p.to_dict(), "control": p.value - 0.2, "control_n": p.n} for p in effect.its.points
        ]
        with translation.override("en"):
            specs = {
                "did": charts.did_chart(
                    points, change=effect.its.change_period, title="Rating by period",
                    y_title="Rating", treated_label="Changed", control_label="Others",
                ),
                "its": charts.its_chart(
                    effect.its.points, change=effect.its.change_period,
                    title="Rating by period", y_title="Rating",
                ),
            }  # fmt: skip
        for name, spec in specs.items():
            with self.subTest(chart=name):
                self.assertIsNone(schema_error(spec))
                self.assertIn("The change: 01/01/2026.", spec["description"])
                svg = vl_convert.vegalite_to_svg({**spec, "width": 600}, vl_version="6.4")
                self.assertIn("<svg", svg)
                # The rule at the change is drawn (a line in the rule marks' group) and labelled.
                self.assertRegex(svg, r'class="mark-rule role-mark[^"]*"[^>]*><line')
                self.assertRegex(svg, r">change</text>")
        self.assertIn("Changed: 3.40 on average before", specs["did"]["description"])
        self.assertIn("Had nothing changed: 3.4", specs["its"]["description"])
        # The fitted line (ink) and the counterfactual (grey) are drawn as lines.
        svg = vl_convert.vegalite_to_svg({**specs["its"], "width": 600}, vl_version="6.4")
        self.assertEqual(len(re.findall(r'<path d="M[^"]+" stroke="#1A1A1A"', svg)), 2)
        self.assertEqual(len(re.findall(r'<path d="M[^"]+" stroke="#737373"', svg)), 1)


def test_the_coded_answers_average_to_the_metric():
    """NPS: the mean of ±100/0 codes is the NPS of cxloop.analytics (Reichheld's definition);
    CSAT: the mean of 100/0 is the share of 4s and 5s in per cent."""
    from cxloop.analytics import nps_counts, nps_from_counts
    from cxloop.insights.initiatives import code_scores

    answers = np.array([0, 3, 6, 7, 8, 9, 10, 10, 9, 5, 8, 10])
    expected = nps_from_counts(*nps_counts(answers)).value
    assert abs(code_scores("nps", answers).mean() - expected) < 1e-12
    assert code_scores("csat", [1, 3, 4, 5]).mean() == 50.0
    assert list(code_scores("ces", [1, 7])) == [1.0, 7.0]
