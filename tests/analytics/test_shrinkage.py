"""Shrinkage against Efron & Morris's batting averages and independent fits.

Sources:
- Efron, B. & Morris, C. (1975). Data analysis using Stein's estimator and its generalizations.
  JASA 70, 311–319: averages after 45 at-bats (y) and for the rest of the season (p), in
  tests/reference/efron_morris_1975.csv.
- Efron, B. & Morris, C. (1977). Stein's paradox in statistics. Scientific American 236(5),
  119–127: the James–Stein estimates of the same 18 players (shrinkage factor c = .212 toward
  the grand average .265, printed to 3 decimals: Clemente .294 … Alvis .242).
- Independent: the beta-binomial likelihood from scipy.stats.betabinom, maximised separately.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, stats

from cxloop.analytics import (
    fit_beta_binomial,
    james_stein,
    shrink_nps,
    shrink_nps_in_teams,
    shrink_proportions,
)
from tests.datasets import REFERENCE

EFRON_MORRIS_1977 = [0.294, 0.289, 0.285, 0.280, 0.275, 0.275, 0.270, 0.266, 0.261, 0.261,
                     0.256, 0.256, 0.256, 0.256, 0.256, 0.252, 0.247, 0.242]  # fmt: skip


@pytest.fixture(scope="module")
def batting():
    return pd.read_csv(REFERENCE / "efron_morris_1975.csv")


def test_james_stein_reproduces_efron_and_morris(batting):
    y = batting["y"].to_numpy()
    js = james_stein(y, variance=y.mean() * (1 - y.mean()) / 45)
    assert js.mean == pytest.approx(0.265, abs=5e-4)
    assert js.factor == pytest.approx(0.212, abs=5e-4)
    assert js.estimates == pytest.approx(EFRON_MORRIS_1977, abs=5e-4)


def test_james_stein_beats_the_raw_averages_on_the_rest_of_the_season(batting):
    y, p = batting["y"].to_numpy(), batting["p"].to_numpy()
    js = james_stein(y, variance=y.mean() * (1 - y.mean()) / 45)
    assert ((js.estimates - p) ** 2).sum() < ((y - p) ** 2).sum() / 3


def test_james_stein_needs_four_groups_and_one_variance():
    with pytest.raises(ValueError, match="at least 4"):
        james_stein([0.1, 0.2, 0.3], variance=0.01)
    with pytest.raises(ValueError, match="one number"):
        james_stein([0.1, 0.2, 0.3, 0.4], variance=[0.01, 0.02])
    with pytest.raises(ValueError, match="positive"):
        james_stein([0.1, 0.2, 0.3, 0.4], variance=0)


def test_beta_binomial_fit_maximises_the_scipy_likelihood():
    rng = np.random.default_rng(11)
    n = rng.integers(10, 300, size=40)
    x = rng.binomial(n, rng.beta(4, 9, size=40))
    prior = fit_beta_binomial(x, n)

    def negloglik(theta):
        return -stats.betabinom.logpmf(x, n, np.exp(theta[0]), np.exp(theta[1])).sum()

    best = optimize.minimize(
        negloglik,
        [0.0, 0.0],
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000},
    )
    assert negloglik(np.log([prior.alpha, prior.beta])) == pytest.approx(best.fun, abs=1e-6)
    assert prior.alpha == pytest.approx(np.exp(best.x[0]), rel=1e-3)
    assert prior.beta == pytest.approx(np.exp(best.x[1]), rel=1e-3)


def test_shrunk_proportions_are_posterior_means_with_credible_intervals():
    x, n = [4, 45, 12, 60, 30], [5, 120, 50, 150, 60]
    prior = fit_beta_binomial(x, n)
    est = shrink_proportions(x, n, confidence=0.9)
    for e, xi, ni in zip(est, x, n, strict=True):
        a, b = prior.alpha + xi, prior.beta + ni - xi
        assert e.value == pytest.approx(a / (a + b))
        assert e.low == pytest.approx(stats.beta.ppf(0.05, a, b))
        assert e.high == pytest.approx(stats.beta.ppf(0.95, a, b))
        assert e.n == ni


def test_small_groups_move_most():
    est = shrink_proportions([5, 80], [5, 100])  # 100 % of 5 answers vs 80 % of 100
    assert est[0].value < 0.95 and est[1].value == pytest.approx(0.8, abs=0.03)


def test_groups_with_no_successes_keep_an_honest_interval():
    est = shrink_proportions([0, 0, 0], [10, 20, 30])
    for e in est:
        assert e.low <= e.value <= e.high
        assert e.high > 0.02  # not a point mass at zero


def test_shrink_nps_pulls_small_teams_toward_the_pooled_score():
    promoters, detractors, n = [5, 300, 120, 2], [0, 100, 60, 2], [5, 600, 300, 6]
    est = shrink_nps(promoters, detractors, n)
    pooled = 100 * (sum(promoters) - sum(detractors)) / sum(n)
    raw = [100 * (p - d) / m for p, d, m in zip(promoters, detractors, n, strict=True)]
    assert est[0].value < 60 < raw[0]  # 5 of 5 promoters is not a +100 team
    assert abs(est[0].value - pooled) < 0.5 * abs(raw[0] - pooled)
    assert abs(est[1].value - raw[1]) < 1.5  # 600 answers keep their own score
    assert est[0].high - est[0].low > 3 * (est[1].high - est[1].low)
    for e, r in zip(est, raw, strict=True):
        assert min(r, pooled) - 1e-9 <= e.value <= max(r, pooled) + 1e-9


def test_shrink_nps_pools_completely_when_teams_differ_by_noise_only():
    est = shrink_nps([50, 52, 49, 51], [20, 19, 21, 20], [100, 100, 100, 100])
    pooled = 100 * (202 - 80) / 400
    assert all(e.value == pytest.approx(pooled) for e in est)
    assert all(e.high - e.low > 5 for e in est)  # the pooled score is still uncertain


def test_shrinkage_names_bad_counts():
    with pytest.raises(ValueError, match="group 1: successes 12"):
        shrink_proportions([1, 12], [10, 10])
    with pytest.raises(ValueError, match="n = 0"):
        shrink_proportions([0, 1], [0, 10])
    with pytest.raises(ValueError, match="at least 2 groups"):
        shrink_nps([1], [0], [3])
    with pytest.raises(ValueError, match="exceed n"):
        shrink_nps([5, 5], [6, 1], [10, 10])


counts = st.lists(
    st.tuples(st.integers(1, 400), st.floats(0, 1), st.floats(0, 1)), min_size=2, max_size=15
)


@settings(max_examples=50, deadline=None)
@given(counts)
def test_shrinkage_moves_every_group_toward_the_mean(groups):
    n = np.array([g[0] for g in groups])
    x = np.floor(np.array([g[1] for g in groups]) * n)
    prior = fit_beta_binomial(x, n)
    for e, xi, ni in zip(shrink_proportions(x, n), x, n, strict=True):
        raw = xi / ni
        assert min(raw, prior.mean) - 1e-12 <= e.value <= max(raw, prior.mean) + 1e-12
        assert e.low <= e.value <= e.high
    promoters = np.floor(np.array([g[1] for g in groups]) * n)
    detractors = np.floor(np.array([g[2] for g in groups]) * (n - promoters))
    pooled = 100 * (promoters.sum() - detractors.sum()) / n.sum()
    for e, p, d, m in zip(
        shrink_nps(promoters, detractors, n), promoters, detractors, n, strict=True
    ):
        raw = 100 * (p - d) / m
        assert min(raw, pooled) - 1e-9 <= e.value <= max(raw, pooled) + 1e-9
        assert e.low <= e.value <= e.high


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-5, 5), min_size=4, max_size=30), st.floats(0.01, 4))
def test_james_stein_moves_every_value_toward_the_mean(values, variance):
    js = james_stein(values, variance=variance)
    y = np.asarray(values)
    assert 0.0 <= js.factor <= 1.0
    assert np.all(np.abs(js.estimates - js.mean) <= np.abs(y - js.mean) + 1e-12)


# People of three teams: (promoters, detractors, n, team).
PEOPLE = [
    (40, 5, 60, "a"),
    (3, 0, 4, "a"),
    (30, 10, 70, "a"),
    (10, 20, 50, "b"),
    (3, 0, 4, "b"),
    (25, 15, 60, "b"),
    (20, 12, 45, "c"),
    (18, 2, 30, "c"),
]


def test_shrink_nps_in_teams_is_shrink_nps_with_one_person_per_team():
    promoters, detractors, n = [5, 300, 120, 2], [0, 100, 60, 2], [5, 600, 300, 6]
    alone = shrink_nps_in_teams(promoters, detractors, n, ["w", "x", "y", "z"])
    for mine, firm in zip(alone, shrink_nps(promoters, detractors, n), strict=True):
        assert mine.to_dict() == pytest.approx(firm.to_dict(), abs=1e-9)


def test_shrink_nps_in_teams_moves_people_toward_their_team_by_the_meta_regression_tau():
    """τ² within teams by the matrix form of the method of moments for a meta-regression
    (Raudenbush 2009, eq. 16.13): τ² = (Q_E − (k − p)) / tr(P), P = W − W X (XᵀWX)⁻¹ XᵀW, on
    team indicators X; each person is then θ = c + (1 − B)(y − c) around their team's level c,
    which is shrink_nps of the teams' pooled counts."""
    promoters, detractors, n, teams = (list(column) for column in zip(*PEOPLE, strict=True))
    P, D, m = (np.array(x, float) for x in (promoters, detractors, n))
    pa, da = (P + 0.75) / (m + 3), (D + 0.75) / (m + 3)
    y, v = (P - D) / m, (pa + da - (pa - da) ** 2) / (m + 3)
    names = sorted(set(teams))
    X = np.array([[t == name for name in names] for t in teams], float)
    W = np.diag(1 / v)
    proj = W - W @ X @ np.linalg.inv(X.T @ W @ X) @ X.T @ W
    tau2 = max(0.0, (y @ proj @ y - (len(y) - len(names))) / np.trace(proj))
    assert tau2 > 0
    pooled = [X[:, j] @ np.array([P, D, m]).T for j in range(len(names))]
    level = {
        name: e.value / 100
        for name, e in zip(names, shrink_nps(*zip(*pooled, strict=True)), strict=True)
    }
    centre = np.array([level[t] for t in teams])
    expected = 100 * (centre + (1 - v / (v + tau2)) * (y - centre))
    found = shrink_nps_in_teams(promoters, detractors, n, teams)
    assert [e.value for e in found] == pytest.approx(expected, abs=1e-9)
    # The two four-answer people with the same answers land near their own teams' levels.
    assert found[1].value > found[4].value
    assert abs(found[1].value - 100 * level["a"]) < abs(found[1].value - 100 * level["b"])
    for e in found:
        assert e.low <= e.value <= e.high


def test_shrink_nps_in_teams_names_a_missing_team():
    with pytest.raises(ValueError, match="teams has 2 labels for 3 groups"):
        shrink_nps_in_teams([1, 2, 3], [0, 0, 0], [5, 5, 5], ["a", "b"])
