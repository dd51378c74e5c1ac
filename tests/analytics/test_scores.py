"""NPS, top-box, means and the Wilson interval against published values and formulas.

Sources:
- Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion: comparison of
  seven methods. Statistics in Medicine 17, 857–872, Table I, method 3 (Wilson), as given in
  tests/reference/README.md.
- Rocks, B. (2016). R package NPS: var = (p + d) − (p − d)², se = sqrt(var / n); the adjusted-Wald
  variant (Sauro & Lewis) adds 3 to n and ¾ to promoters and detractors (tests/reference/README.md).
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from cxloop.analytics import (
    mean_from_moments,
    mean_score,
    nps,
    nps_counts,
    nps_from_counts,
    nps_from_histogram,
    top_box,
    wilson_interval,
)
from cxloop.lib.scales import nps_category
from cxloop.surveys.bands import band_of

Z95 = stats.norm.ppf(0.975)


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605)],
)
def test_wilson_matches_newcombe_table_1(x, n, low, high):
    ci = wilson_interval(x, n)
    assert ci.low == pytest.approx(low, abs=1e-4)
    assert ci.high == pytest.approx(high, abs=1e-4)


@pytest.mark.parametrize(("x", "n"), [(0, 10), (1, 10), (10, 10), (37, 120), (3, 7)])
@pytest.mark.parametrize("confidence", [0.8, 0.95, 0.99])
def test_wilson_matches_statsmodels(x, n, confidence):
    low, high = proportion_confint(x, n, alpha=1 - confidence, method="wilson")
    ci = wilson_interval(x, n, confidence=confidence)
    assert (ci.low, ci.high) == pytest.approx((low, high), abs=1e-12)


def test_it_counts_promoters_and_detractors():
    assert nps_counts([10, 9, 8, 7, 6, 0, None, float("nan")]) == (2, 2, 6)


def test_wald_nps_uses_the_rocks_variance():
    answers = [10] * 45 + [9] * 15 + [8] * 12 + [7] * 8 + [5] * 12 + [1] * 8
    n, p, d = 100, 0.60, 0.20
    se = math.sqrt(((p + d) - (p - d) ** 2) / n)
    e = nps(answers, method="wald")
    assert e.value == pytest.approx(40.0)
    assert e.n == n
    assert e.low == pytest.approx(100 * (0.40 - Z95 * se), abs=1e-10)
    assert e.high == pytest.approx(100 * (0.40 + Z95 * se), abs=1e-10)


def test_adjusted_wald_nps_adds_three_answers():
    P, D, n = 60, 20, 100
    na, pa, da = n + 3, (P + 0.75) / (n + 3), (D + 0.75) / (n + 3)
    se = math.sqrt(((pa + da) - (pa - da) ** 2) / na)
    e = nps_from_counts(P, D, n)
    assert e.value == pytest.approx(40.0)
    assert e.low == pytest.approx(100 * (pa - da - Z95 * se), abs=1e-10)
    assert e.high == pytest.approx(100 * (pa - da + Z95 * se), abs=1e-10)


def test_adjusted_wald_stays_informative_when_everyone_agrees():
    wald = nps([10] * 8, method="wald")
    adjusted = nps([10] * 8)
    assert (wald.low, wald.high) == (100.0, 100.0)  # the Wald interval collapses
    assert adjusted.value == 100.0
    assert adjusted.low < 75.0 and adjusted.high == 100.0


def test_a_single_answer_still_gets_an_interval_that_contains_it():
    e = nps([10])
    assert e.low <= e.value <= e.high


def test_it_ignores_missing_answers():
    assert nps([10, None, 0, float("nan"), 9]) == nps([10, 0, 9])


@pytest.mark.parametrize("bad", [11, -1, 7.5, float("inf")])
def test_it_names_an_answer_off_the_0_10_scale(bad):
    with pytest.raises(ValueError, match=f"{bad:g} at position 2"):
        nps([10, 8, bad, 3])


def test_it_refuses_an_nps_of_nothing():
    with pytest.raises(ValueError, match="no answers"):
        nps([])
    with pytest.raises(ValueError, match="no answers"):
        nps([None, None])


def test_it_rejects_a_bad_confidence_or_method():
    with pytest.raises(ValueError, match="confidence"):
        nps([10, 9], confidence=95)
    with pytest.raises(ValueError, match="method"):
        nps([10, 9], method="exact")


def test_top_box_is_a_wilson_interval_in_per_cent():
    answers = [5, 5, 4, 3, 2, 1, 4, 5, None, 3]
    e = top_box(answers)
    ci = wilson_interval(5, 9)
    assert (e.value, e.n) == (pytest.approx(500 / 9), 9)
    assert (e.low, e.high) == pytest.approx((100 * ci.low, 100 * ci.high))


def test_top_box_checks_the_scale_when_given():
    with pytest.raises(ValueError, match="6 is outside the 1–5 scale"):
        top_box([5, 6, 4], scale=(1, 5))
    assert top_box([7, 6, 1], top=(6, 7), scale=(1, 7)).value == pytest.approx(200 / 3)


def test_mean_score_matches_statsmodels_t_interval():
    values = [4, 5, 3, 4, 5, 2, 4, 4, 5, 3]
    low, high = DescrStatsW(np.array(values, dtype=float)).tconfint_mean(alpha=0.05)
    e = mean_score(values)
    assert e.value == pytest.approx(3.9)
    assert (e.low, e.high) == pytest.approx((low, high), abs=1e-12)
    assert mean_from_moments(3.9, np.std(values, ddof=1), 10) == e


def test_mean_score_needs_two_values():
    with pytest.raises(ValueError, match="at least 2"):
        mean_score([4, None])
    with pytest.raises(ValueError, match="infinite"):
        mean_score([4, float("inf")])


def test_wilson_rejects_impossible_counts():
    with pytest.raises(ValueError, match="cannot exceed"):
        wilson_interval(11, 10)
    with pytest.raises(ValueError, match="n > 0"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="non-negative"):
        wilson_interval(-1, 10)


@given(st.lists(st.integers(0, 40), min_size=11, max_size=11).filter(lambda c: sum(c) > 0))
def test_nps_from_a_histogram_is_the_nps_of_its_answers(counts):
    answers = [score for score, count in enumerate(counts) for _ in range(count)]
    from_histogram, from_answers = nps_from_histogram(counts), nps(answers)
    assert from_histogram.n == from_answers.n == sum(counts)
    for field in ("value", "low", "high"):
        assert getattr(from_histogram, field) == pytest.approx(getattr(from_answers, field))


def test_nps_from_a_histogram_needs_one_count_per_score():
    with pytest.raises(ValueError, match="one count for each score 0–10"):
        nps_from_histogram([1, 2, 3])


def test_the_nps_categories_are_defined_once():
    """Reichheld's categories (0–6, 7–8, 9–10); the bands people filter by, the category of an
    answer and the estimators' counts agree for every score."""
    expected = ["detractor"] * 7 + ["passive"] * 2 + ["promoter"] * 2
    assert [nps_category(score) for score in range(11)] == expected
    for score in range(11):
        promoters, detractors, _ = nps_counts([score])
        counted = "promoter" if promoters else "detractor" if detractors else "passive"
        assert nps_category(score) == counted == band_of("nps", score)
