"""The estimators from histograms and moments that the fact store's pages use, against
independent computations: scipy's Welch test from summary statistics, NumPy on the answers the
counts stand for, and the per-respondent sum that the pooled stage variance stands for."""

import numpy as np
import pytest
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from cxloop.analytics import (
    histogram_moments,
    mean_difference,
    mean_difference_from_moments,
    mean_from_histogram,
    mean_score,
    nearest_psd_correlation,
    pooled_mean,
    top_box_from_counts,
)

FIVE = np.arange(1, 6)
counts_of_five = st.lists(st.integers(0, 60), min_size=5, max_size=5).filter(lambda c: sum(c) > 1)


@given(counts_of_five)
def test_histogram_moments_are_those_of_the_answers(counts):
    answers = np.repeat(FIVE, counts)
    n, mean, variance = histogram_moments(FIVE, counts)
    assert n == answers.size
    assert mean == pytest.approx(answers.mean())
    assert variance == pytest.approx(answers.var(ddof=1), abs=1e-12)
    estimate, direct = mean_from_histogram(FIVE, counts), mean_score(answers)
    assert (estimate.low, estimate.high) == pytest.approx((direct.low, direct.high), abs=1e-12)


@given(counts_of_five, counts_of_five)
def test_welch_from_moments_is_scipys_welch_from_summary_statistics(a, b):
    first, second = histogram_moments(FIVE, a), histogram_moments(FIVE, b)
    if first[2] + second[2] == 0:
        with pytest.raises(ValueError, match="constant"):
            mean_difference_from_moments(first, second)
        return
    ours = mean_difference_from_moments(first, second)
    (na, ma, va), (nb, mb, vb) = first, second
    theirs = stats.ttest_ind_from_stats(ma, va**0.5, na, mb, vb**0.5, nb, equal_var=False)
    assert ours.statistic == pytest.approx(theirs.statistic)
    assert ours.p_value == pytest.approx(theirs.pvalue, abs=1e-12)
    raw = mean_difference(np.repeat(FIVE, a), np.repeat(FIVE, b))
    assert (ours.value, ours.low, ours.high, ours.df) == pytest.approx(
        (raw.value, raw.low, raw.high, raw.df)
    )


def test_welch_from_moments_needs_two_answers_a_group():
    with pytest.raises(ValueError, match="a: a t test needs at least 2"):
        mean_difference_from_moments((1, 4.0, 0.0), (5, 3.0, 1.0))


def test_top_box_from_counts_is_statsmodels_wilson_interval_in_per_cent():
    estimate = top_box_from_counts(6, 9)
    low, high = proportion_confint(6, 9, alpha=0.05, method="wilson")
    assert (estimate.value, estimate.low, estimate.high, estimate.n) == pytest.approx(
        (100 * 6 / 9, 100 * low, 100 * high, 9)
    )


def test_the_pooled_mean_counts_each_respondent_once():
    """Ratings of four items by 400 respondents, each skipping some, with a respondent effect
    that correlates their ratings: the pooled variance from per-item moments and pairwise cross
    products equals the variance of each respondent's summed deviations, computed directly."""
    rng = np.random.default_rng(3)
    people, items = 400, 4
    ratings = np.clip(
        np.rint(3 + rng.normal(0, 1, (people, 1)) + rng.normal(0, 0.7, (people, items))), 1, 5
    )
    ratings[rng.random((people, items)) < 0.3] = np.nan
    present = ~np.isnan(ratings)
    n_t = present.sum(axis=0)
    sums = np.nansum(ratings, axis=0)
    squares = np.nansum(ratings**2, axis=0)
    deviations = np.where(present, ratings - sums / n_t, 0.0)
    cross = np.zeros((items, items))
    for t in range(items):
        for u in range(items):
            both = present[:, t] & present[:, u]
            cross[t, u] = np.sum(deviations[both, t] * deviations[both, u])
    estimate = pooled_mean(n_t, sums, squares, cross)

    per_respondent = deviations.sum(axis=1)  # each respondent's deviations, summed
    total = n_t.sum()
    se = np.sqrt(np.sum(per_respondent**2)) / total
    half = stats.t.ppf(0.975, total - 1) * se
    assert estimate.value == pytest.approx(np.nanmean(ratings))
    assert (estimate.high - estimate.value) == pytest.approx(half)
    # Counting the correlated pairs widens the interval against independent ratings.
    independent = pooled_mean(n_t, sums, squares)
    assert estimate.high - estimate.low > 1.2 * (independent.high - independent.low)


def test_the_pooled_mean_needs_two_ratings():
    with pytest.raises(ValueError, match="at least 2 ratings"):
        pooled_mean([1], [4], [16])


def test_the_nearest_psd_correlation_keeps_a_valid_one():
    covariance = np.array([[4.0, 1.2, 0.4], [1.2, 1.0, 0.3], [0.4, 0.3, 2.25]])
    sd = np.sqrt(np.diag(covariance))
    assert np.allclose(nearest_psd_correlation(covariance), covariance / np.outer(sd, sd))


@settings(max_examples=50)
@given(st.integers(3, 8), st.integers(0, 10_000))
def test_the_nearest_psd_correlation_repairs_an_indefinite_one(size, seed):
    rng = np.random.default_rng(seed)
    # A symmetric matrix with a unit diagonal and off-diagonals in (−1, 1): usually indefinite.
    off = rng.uniform(-0.95, 0.95, (size, size))
    matrix = np.triu(off, 1) + np.triu(off, 1).T + np.eye(size)
    repaired = nearest_psd_correlation(matrix)
    assert np.allclose(np.diag(repaired), 1.0)
    assert np.allclose(repaired, repaired.T)
    assert scipy.linalg.eigvalsh(repaired).min() > -1e-10
    # Independently: scipy's eigendecomposition, eigenvalues clipped, rescaled.
    values, vectors = scipy.linalg.eigh(matrix)
    clipped = vectors @ np.diag(np.clip(values, 1e-9, None)) @ vectors.T
    d = np.sqrt(np.diag(clipped))
    assert np.allclose(repaired, clipped / np.outer(d, d), atol=1e-9)
