"""The estimators from histograms and moments that the fact store's pages use, against
independent computations: scipy's Welch test from summary statistics, NumPy on the answers the
counts stand for, the per-respondent sum that the pooled stage variance stands for and
statsmodels' cluster-robust regression, and statsmodels' eigenvalue clipping for the repaired
correlation matrix."""

import numpy as np
import pandas as pd
import pytest
import scipy.linalg
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.correlation_tools import corr_clipped
from statsmodels.stats.proportion import proportion_confint

from cxloop.analytics import (
    histogram_moments,
    mean_difference,
    mean_difference_from_moments,
    mean_from_histogram,
    mean_score,
    means_from_histograms,
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


@given(st.lists(st.lists(st.integers(0, 60), min_size=5, max_size=5), min_size=1, max_size=8))
def test_means_of_many_histograms_are_the_t_intervals_of_their_answers(rows):
    estimates = means_from_histograms(FIVE, rows)
    assert len(estimates) == len(rows)
    for counts, estimate in zip(rows, estimates, strict=True):
        answers = np.repeat(FIVE, counts)
        if answers.size < 2:
            assert estimate is None
            continue
        low, high = (
            stats.t.interval(0.95, answers.size - 1, loc=answers.mean(), scale=stats.sem(answers))
            if answers.std() > 0
            else (answers.mean(), answers.mean())
        )
        assert (estimate.value, estimate.low, estimate.high) == pytest.approx(
            (answers.mean(), low, high), abs=1e-12
        )
        assert estimate.n == answers.size


def test_means_of_many_histograms_refuse_what_is_not_counts():
    with pytest.raises(ValueError, match="whole numbers"):
        means_from_histograms(FIVE, [[1, 2, 0.5, 0, 0]])
    with pytest.raises(ValueError, match="one histogram a row"):
        means_from_histograms(FIVE, [1, 2, 3, 4, 5])


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


def test_the_pooled_mean_is_statsmodels_cluster_robust_estimate():
    """The same estimate by another road: OLS of every rating on its item's dummy, with the
    standard errors clustered by respondent (statsmodels; the sandwich of Liang & Zeger, 1986,
    without the small-sample factor), gives the pooled mean as ``w @ beta`` with
    ``w_t = n_t / N`` and its standard error as ``sqrt(w @ V @ w)``."""
    rng = np.random.default_rng(8)
    people, items = 300, 5
    ratings = np.clip(
        np.rint(3.5 + rng.normal(0, 0.9, (people, 1)) + rng.normal(0, 0.8, (people, items))), 1, 5
    )
    ratings[rng.random((people, items)) < 0.4] = np.nan
    ratings[:, 2] -= 1  # items with different means: the dummies are not one intercept
    present = ~np.isnan(ratings)
    n_t = present.sum(axis=0)
    sums, squares = np.nansum(ratings, axis=0), np.nansum(ratings**2, axis=0)
    deviations = np.where(present, ratings - sums / n_t, 0.0)
    cross = deviations.T @ deviations  # summed over the respondents who rated both
    estimate = pooled_mean(n_t, sums, squares, cross)

    person, item = np.nonzero(present)
    long = pd.DataFrame({"person": person, "item": item, "score": ratings[person, item]})
    dummies = pd.get_dummies(long["item"]).astype(float).to_numpy()
    fit = sm.OLS(long["score"].to_numpy(), dummies).fit(
        cov_type="cluster", cov_kwds={"groups": long["person"].to_numpy(), "use_correction": False}
    )
    w = n_t / n_t.sum()
    se = np.sqrt(w @ fit.cov_params() @ w)
    t = stats.t.ppf(0.975, n_t.sum() - 1)
    assert estimate.value == pytest.approx(w @ fit.params, abs=1e-12)
    assert (estimate.low, estimate.high) == pytest.approx(
        (w @ fit.params - t * se, w @ fit.params + t * se), abs=1e-12
    )


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


@settings(max_examples=30)
@given(st.integers(3, 8), st.integers(0, 10_000))
def test_the_nearest_psd_correlation_is_statsmodels_clipped_correlation(size, seed):
    """statsmodels' ``corr_clipped`` (the same spectral repair, another implementation) gives
    the same matrix from the correlation matrix of a covariance with mismatched entries."""
    rng = np.random.default_rng(seed)
    sd = rng.uniform(0.5, 3.0, size)
    off = rng.uniform(-0.95, 0.95, (size, size))
    corr = np.triu(off, 1) + np.triu(off, 1).T + np.eye(size)
    covariance = corr * np.outer(sd, sd)
    reference = corr_clipped(corr, threshold=1e-9)
    assert np.allclose(nearest_psd_correlation(covariance), reference, atol=1e-9)
