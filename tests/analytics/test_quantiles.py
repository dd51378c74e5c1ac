"""The median's order-statistic interval against SciPy's exact binomial quantile test
(``scipy.stats.quantile_test(...).confidence_interval``, an independent implementation) and
against the published table of Conover (1999), Table A3 (ranks for n = 10 and 25)."""

import numpy as np
import pytest
from scipy import stats

from cxloop.analytics import median_interval, median_interval_min_n


@pytest.mark.parametrize("confidence", [0.90, 0.95, 0.99])
@pytest.mark.parametrize("n", [6, 7, 8, 10, 13, 25, 40, 101, 500])
def test_it_matches_scipys_exact_interval(n, confidence):
    if n < median_interval_min_n(confidence=confidence):
        pytest.skip("no interval at this n")
    x = np.random.default_rng(n).lognormal(1.0, 1.2, n)
    reference = stats.quantile_test(x, q=np.median(x), p=0.5).confidence_interval(confidence)
    got = median_interval(x, confidence=confidence)
    assert got.low == pytest.approx(reference.low, rel=1e-12)
    assert got.high == pytest.approx(reference.high, rel=1e-12)
    assert got.value == pytest.approx(np.median(x))
    assert got.n == n


@pytest.mark.parametrize(("n", "low_rank"), [(10, 2), (25, 8)])
def test_it_uses_the_tabulated_ranks(n, low_rank):
    # Conover (1999), Table A3 at 95 %: n = 10 → x(2)..x(9); n = 25 → x(8)..x(18).
    got = median_interval(np.arange(1.0, n + 1), confidence=0.95)
    assert (got.low, got.high) == (low_rank, n + 1 - low_rank)


def test_it_covers_the_median_at_least_as_promised():
    rng = np.random.default_rng(11)
    true_median = np.exp(1.0)  # of lognormal(1, 1)
    hits = sum(
        true_median in median_interval(rng.lognormal(1.0, 1.0, 20)).interval for _ in range(2000)
    )
    assert hits / 2000 >= 0.95 - 0.01  # exact coverage at n = 20 is 0.9586


def test_it_ignores_missing_values():
    assert median_interval([1.0, None, 2.0, 3.0, np.nan, 4.0, 5.0, 6.0]).n == 6


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1.0, 2.0, 3.0, 4.0, 5.0], "at least 6 values, got 5"),
        ([1.0, 2.0, np.inf, 4.0, 5.0, 6.0], "infinite"),
    ],
)
def test_it_refuses_what_has_no_interval(values, message):
    with pytest.raises(ValueError, match=message):
        median_interval(values)


def test_the_fewest_values_grow_with_the_confidence():
    assert [median_interval_min_n(confidence=c) for c in (0.9, 0.95, 0.99)] == [5, 6, 8]
