"""The full demo, through the fact store and the insights the pages show, tells the truths it
was planted with (issue #5: "the demo must tell its truth", without tuning by hand)."""

import datetime as dt
from unittest import mock

from django.contrib.auth import get_user_model
from django.test import RequestFactory

from cxloop.front.insight_views import insight_filters
from cxloop.insights.dashboards import ComparisonQuery, TouchpointQuery
from cxloop.insights.journey import JourneyMapQuery
from cxloop.insights.store import Scope
from tests.demo.test_demo import TRUTH, top


class FullDemoTruths:
    """Mixed into tests/demo/test_full_demo.py's FullDemoTests, so that the full demo is built
    once; reads its ``code`` (touchpoint codes by id), ``target`` (the target segment) and
    ``journey`` (the journey's touchpoints by stage)."""

    def touchpoint(self, code: str) -> int:
        return next(pk for pk, c in self.code.items() if c == code)

    def journey_map(self, scope: Scope):
        return JourneyMapQuery(
            touchpoint_stages=self.journey, scope=scope, target_segment_id=self.target.pk
        ).run(cache=False)

    def ranked(self, importance: dict[int, float], k: int = 3) -> list[str]:
        return top({self.code[pk]: value for pk, value in importance.items()}, k)

    def test_it_ranks_the_planted_strongest_drivers_first_in_each_segment(self):
        drivers = self.journey_map(Scope()).drivers
        self.assertEqual(
            set(self.ranked(drivers.target.importance)), set(top(TRUTH.target_driver_weights, 3))
        )
        self.assertEqual(
            set(self.ranked(drivers.rest.importance)), set(top(TRUTH.driver_weights, 3))
        )

    def test_it_ranks_the_target_segments_opportunities_apart_from_the_rest(self):
        everyone = self.journey_map(Scope())
        target = self.journey_map(Scope(segment_id=self.target.pk))
        first = [self.code[o.touchpoint_id] for o in target.opportunities[:3]]
        self.assertNotEqual(first, [self.code[o.touchpoint_id] for o in everyone.opportunities[:3]])
        self.assertIn(
            top(TRUTH.target_driver_weights, 1)[0],
            self.ranked({c.touchpoint_id: c.importance or 0 for c in target.cards}, 1),
        )

    def test_its_control_chart_flags_the_roll_back_from_the_planted_month(self):
        result = TouchpointQuery(
            scope=Scope(), touchpoint_id=self.touchpoint(TRUTH.rollback["touchpoint"])
        ).run(cache=False)
        self.assertEqual(result.control.first_drop, TRUTH.rollback["from_month"] + "-01")

    def default_map(self, **params):
        """The journey map of the journey page's default view on the demo's last day: what
        insight_filters gives (the last 365 days, the target segment, every team)."""
        request = RequestFactory().get("/journey/", params)
        request.user = get_user_model().objects.get(username="cx.lead")
        with mock.patch("django.utils.timezone.localdate", return_value=TRUTH.end):
            _, scope = insight_filters(request)
        return JourneyMapQuery(
            touchpoint_stages=self.journey,
            scope=scope,
            target_segment_id=self.target.pk,
            as_of=TRUTH.end,
        ).run(cache=False)

    def badges(self, journey_map) -> dict[str, tuple[str, str]]:
        return {
            self.code[c.touchpoint_id]: (c.signal.direction, c.signal.since)
            for c in journey_map.cards
            if c.signal is not None
        }

    def test_its_default_journey_map_shows_the_planted_signals_and_no_other(self):
        expected = {
            TRUTH.rollback["touchpoint"]: ("down", TRUTH.rollback["from_month"]),
            TRUTH.improvement["touchpoint"]: "up",
            # The rise the effective course brings, team by team (cxloop/demo/training.py).
            TRUTH.training["effective"]["touchpoint"]: "up",
        }
        for params in ({}, {"segment": "all"}):
            with self.subTest(params=params):
                journey_map = self.default_map(**params)
                badges = self.badges(journey_map)
                self.assertEqual(set(badges), set(expected), badges)
                rollback = TRUTH.rollback["touchpoint"]
                self.assertEqual(badges[rollback], expected[rollback])
                self.assertEqual(badges[TRUTH.improvement["touchpoint"]][0], "up")
                self.assertEqual(badges[TRUTH.training["effective"]["touchpoint"]][0], "up")
                # The improvement's run starts in the quarter of the planted date.
                since = dt.date.fromisoformat(TRUTH.improvement["from_date"])
                first = dt.date.fromisoformat(badges[TRUTH.improvement["touchpoint"]][1] + "-01")
                self.assertLessEqual(abs((first - since).days), 92)

    def test_it_shows_the_improvement_as_a_significant_rise(self):
        since = dt.date.fromisoformat(TRUTH.improvement["from_date"])
        result = ComparisonQuery(
            scope=Scope(),
            by="period",
            metric="rating",
            touchpoint_id=self.touchpoint(TRUTH.improvement["touchpoint"]),
            grain="quarter",
        ).run(cache=False)
        quarters = {dt.date.fromisoformat(str(g.key)): g for g in result.groups}
        rises = [day for day, g in quarters.items() if g.significant and g.difference.value > 0]
        # A significant rise in the quarter holding the planted date or the one after it.
        self.assertTrue(rises, "no quarter rose significantly")
        self.assertTrue(all(0 <= (day - since).days + 92 <= 92 + 184 for day in rises), rises)
        # From the last quarter wholly before the date to the first wholly after it.
        before = max(day for day in quarters if (since - day).days >= 92)
        after = min(day for day in quarters if day >= since)
        change = quarters[after].estimate.value - quarters[before].estimate.value
        self.assertAlmostEqual(change, TRUTH.improvement["lift"], delta=0.3)
