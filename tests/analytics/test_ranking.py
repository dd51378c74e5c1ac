"""Rank intervals and funnel limits, against closed forms and simulated groups.

- Rank intervals: with two groups the probability of ranking first is Φ((θ₁ − θ₂)/√(s₁² + s₂²))
  exactly, which the simulation must recover within its Monte Carlo error; groups far apart
  hold one rank each, identical groups every rank.
- Funnel limits (Spiegelhalter 2005): θ₀ ± z σ/√n, and on groups simulated in control (every
  group drawn from the same promoter and detractor shares) about 5 % fall outside the inner
  limits and 0.2 % outside the outer ones, whatever their sizes.
"""

import numpy as np
import pytest
from scipy import stats

from cxloop.analytics.ranking import funnel_limits, nps_funnel, rank_intervals


def test_two_groups_rank_first_as_often_as_the_normal_says():
    draws = 20_000
    result = rank_intervals([3.0, 2.0], [1.0, 1.5], draws=draws, seed=7)
    expected = stats.norm.cdf(1.0 / np.hypot(1.0, 1.5))
    error = np.sqrt(expected * (1 - expected) / draws)
    assert abs(result[0].first - expected) < 4 * error
    assert abs(result[0].first + result[1].first - 1.0) < 1e-12
    assert (result[0].rank, result[1].rank) == (1, 2)
    # Neither is surely first: both intervals span both ranks.
    assert [(r.low, r.high) for r in result] == [(1, 2), (1, 2)]


def test_groups_far_apart_hold_one_rank_and_identical_groups_any():
    apart = rank_intervals([90.0, 50.0, 10.0], [1.0, 1.0, 1.0])
    assert [(r.rank, r.low, r.high) for r in apart] == [(1, 1, 1), (2, 2, 2), (3, 3, 3)]
    alike = rank_intervals([5.0] * 6, [2.0] * 6)
    assert {(r.rank, r.low, r.high) for r in alike} == {(1, 1, 6)}
    assert all(abs(r.first - 1 / 6) < 0.02 for r in alike)


def test_a_small_group_s_wide_estimate_gives_a_wide_rank_interval():
    # The top estimate from few answers: first on the table, but it may be anywhere.
    result = rank_intervals([60.0, 40.0, 35.0, 30.0], [30.0, 3.0, 3.0, 3.0])
    assert result[0].rank == 1
    assert (result[0].low, result[0].high) == (1, 4)
    # The second is 5 points above the third on sds of 3: P(below it) = Φ(−5/√18) ≈ 0.12.
    assert (result[1].low, result[1].high) == (1, 3)


def test_rank_intervals_are_the_same_for_the_same_seed():
    a = rank_intervals([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], seed=3)
    b = rank_intervals([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], seed=3)
    assert a == b


@pytest.mark.parametrize(
    ("values", "sds", "message"),
    [
        ([1.0], [1.0], "at least 2 groups"),
        ([1.0, 2.0], [1.0], "differ in length"),
        ([1.0, 2.0], [1.0, -1.0], "group 1: sds must not be negative"),
        ([1.0, float("nan")], [1.0, 1.0], "values[1]: expected a finite number"),
    ],
)
def test_rank_intervals_name_what_is_wrong(values, sds, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        rank_intervals(values, sds)


def test_funnel_limits_are_the_centre_plus_or_minus_z_standard_errors():
    funnel = funnel_limits(0.3, 2.0, [0.3], [50], grid=[4, 25, 100])
    se = 2.0 / np.sqrt([4, 25, 100])
    np.testing.assert_allclose(funnel.inner_high, 0.3 + stats.norm.ppf(0.975) * se)
    np.testing.assert_allclose(funnel.outer_low, 0.3 - stats.norm.ppf(0.999) * se)
    assert funnel.position.tolist() == [0]
    clipped = funnel_limits(0.9, 2.0, [0.9], [4], grid=[4], bounds=(-1.0, 1.0))
    assert clipped.inner_high.tolist() == [1.0]


def test_in_control_groups_fall_outside_the_limits_as_often_as_stated():
    rng = np.random.default_rng(2005)
    sizes = rng.integers(20, 400, size=6000)
    counts = np.array([rng.multinomial(n, [0.5, 0.3, 0.2]) for n in sizes])
    funnel = nps_funnel(counts[:, 0], counts[:, 2], sizes)
    outside_inner = np.mean(np.abs(funnel.position) >= 1)
    outside_outer = np.mean(np.abs(funnel.position) == 2)
    assert abs(outside_inner - 0.05) < 0.012, outside_inner
    assert outside_outer < 0.006, outside_outer


def test_the_nps_funnel_centres_on_the_pooled_score_and_flags_a_real_difference():
    promoters, detractors, n = [300, 40, 3, 260], [100, 15, 0, 40], [600, 80, 3, 400]
    funnel = nps_funnel(promoters, detractors, n)
    pooled = 100 * (sum(promoters) - sum(detractors)) / sum(n)
    assert funnel.center == pytest.approx(pooled)
    # 55 against a centre of about 41 on 400 answers: beyond 99.8 %; three unanimous
    # promoters: within the funnel, however high their raw score.
    assert funnel.position.tolist() == [-1, 0, 0, 2]
    assert funnel.n[0] == 3 and funnel.n[-1] == 600
    assert (funnel.outer_high >= funnel.inner_high).all()
    with pytest.raises(ValueError, match="group 1: counts"):
        nps_funnel([1, 5], [1, 1], [2, 5])
    with pytest.raises(ValueError, match="group 0: n must be positive"):
        funnel_limits(0.0, 1.0, [0.0], [0])
