"""The measured effect on the full demo (issue #12, point 7): an initiative on the kick-off
meeting finished on the planted improvement's date recovers the planted rise within its
interval, against the journey's other touchpoints and before/after.

The demo plants +0.7 on the *latent* quality; a rating is that quality rounded and clipped to
1–5 (cxloop/demo/simulate.py), so on the rating scale the rise is smaller where it meets the
ceiling. The rise to recover is that of the ratings, computed here by Monte Carlo from the
simulator's model (base 3.5, client effect N(0, 0.35²), team effect N(0, 0.12²), noise
N(0, 0.75²)): about 0.65."""

import datetime as dt

import numpy as np
from django.contrib.auth import get_user_model

from cxloop.demo import organisation as org
from cxloop.insights.initiatives import initiative_effect
from cxloop.journeys.models import Touchpoint
from tests.demo.test_demo import TRUTH
from tests.effect_data import finished
from tests.improvements.data import propose


def rating_scale_lift(code: str, lift: float) -> float:
    """E[clip(rint(q + lift))] − E[clip(rint(q))] over the simulator's latent quality q."""
    base = next(t.base for t in org.TOUCHPOINTS if t.code == code)
    rng = np.random.default_rng(12)
    n = 2_000_000
    q = base + rng.normal(0, 0.35, n) + rng.normal(0, 0.12, n) + rng.normal(0, 0.75, n)
    rating = lambda x: np.clip(np.rint(x), 1, 5)  # noqa: E731
    return float(rating(q + lift).mean() - rating(q).mean())


class FullDemoEffectTruths:
    """Mixed into tests/demo/test_full_demo.py's FullDemoTests, so that the full demo is built
    once."""

    def test_it_recovers_the_planted_improvement(self):
        lead = get_user_model().objects.get(username="cx.lead").employee
        kickoff = Touchpoint.objects.get(code=TRUTH.improvement["touchpoint"])
        change = dt.date.fromisoformat(TRUTH.improvement["from_date"])
        proposed_at = dt.datetime.combine(change, dt.time(9), tzinfo=dt.UTC) - dt.timedelta(60)
        proposed = propose(lead, [kickoff], now=proposed_at)
        initiative = finished(proposed, effective_from=change, by=lead)
        effect = initiative_effect(initiative, today=TRUTH.end, cache=False)
        lift = TRUTH.improvement["lift"]
        expected = rating_scale_lift(TRUTH.improvement["touchpoint"], lift)
        self.assertAlmostEqual(expected, 0.65, delta=0.02)
        self.assertEqual((effect.status, effect.grain), ("measured", "quarter"))
        did, ba = effect.did, effect.before_after
        self.assertEqual(did.comparison, "touchpoints")
        self.assertEqual(did.claim, "causal_if_parallel_trends")
        for name, estimate in (("did", did.effect), ("before/after", ba.change)):
            with self.subTest(estimate=name):
                self.assertLessEqual(estimate.low, expected, estimate)
                self.assertLessEqual(expected, estimate.high, estimate)
                self.assertLess(abs(estimate.value - lift), 0.1, estimate)
