"""On the demo data (issue "Foundation") lmg recovers the planted order of the strongest drivers.

The demo generator (cxloop.demo.simulate, pure NumPy) draws relationship-survey answers whose NPS
is a weighted sum of touchpoint ratings with planted weights per segment (cxloop.demo.truth).
The analytics never see those weights; they must find the three strongest drivers from the data.
"""

import datetime as dt

import numpy as np
import pytest

from cxloop.analytics import lmg
from cxloop.demo import organisation
from cxloop.demo import simulate as simulate_module
from cxloop.demo import truth as truth_module


@pytest.fixture(scope="module")
def demo():
    truth = truth_module.planted_truth(seed=7, end=dt.date(2026, 11, 1))
    return simulate_module.simulate(truth, size="full")


def relationship_answers(demo, target: bool):
    feedback = demo.feedback
    tiers = np.array(
        [demo.clients[demo.contacts[c].client].tier in organisation.TARGET_TIERS
         for c in feedback.contact]
    )  # fmt: skip
    rows = (feedback.survey == "relationship") & ~np.isnan(feedback.nps) & (tiers == target)
    codes = [tp.code for tp in organisation.TOUCHPOINTS]
    frame = {code: feedback.ratings[rows, j] for j, code in enumerate(codes)}
    frame["nps"] = feedback.nps[rows]
    return frame, codes


@pytest.mark.parametrize("target", [False, True], ids=["other clients", "target segment"])
@pytest.mark.parametrize("missing", ["listwise", "pairwise"])
def test_lmg_recovers_the_three_strongest_planted_drivers(demo, target, missing):
    planted = demo.truth.target_driver_weights if target else demo.truth.driver_weights
    frame, codes = relationship_answers(demo, target)
    res = lmg(frame, outcome="nps", drivers=codes, missing=missing)
    strongest = sorted(planted, key=lambda code: -planted[code])[:3]
    assert res.ranking()[:3] == strongest
    assert len(codes) >= 15 and res.n > 500
