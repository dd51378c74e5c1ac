"""Pairwise-complete correlations against pandas and an exact computation.

Source: independent computations — pandas ``DataFrame.corr()`` (pairwise-complete Pearson) and
NumPy's ``corrcoef`` on the rows where each pair is present.
"""

import numpy as np
import pandas as pd
import pytest

import cxloop.analytics.correlation as correlation_module
from cxloop.analytics import pairwise_correlation, pairwise_covariance


def holes(seed, n, p, missing=0.3, loc=0.0, scale=1.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p)) @ (np.eye(p) + 0.4 * rng.normal(size=(p, p)))
    x = loc + scale * x
    x[rng.random((n, p)) < missing] = np.nan
    return x


def pair_by_pair(x):
    p = x.shape[1]
    out = np.eye(p)
    for i in range(p):
        for j in range(i + 1, p):
            both = ~np.isnan(x[:, i]) & ~np.isnan(x[:, j])
            out[i, j] = out[j, i] = np.corrcoef(x[both, i], x[both, j])[0, 1]
    return out


@pytest.mark.parametrize(
    ("n", "p", "workers"),
    [(12, 3, None), (511, 4, 1), (513, 5, 1), (20_000, 6, 1), (70_001, 7, 3)],
)
def test_it_matches_pandas_and_a_pair_by_pair_computation(n, p, workers):
    x = holes(n, n, p)
    r = pairwise_correlation(x, workers=workers)
    assert r == pytest.approx(pd.DataFrame(x).corr().to_numpy(), abs=1e-12)
    assert r == pytest.approx(pair_by_pair(x), abs=1e-12)
    assert np.array_equal(r, r.T)
    assert np.all(np.diag(r) == 1.0)


def test_it_keeps_its_accuracy_far_from_zero():
    # Ratings recorded as 1e6 + small deviations cancel badly without the shift.
    x = holes(1, 50_000, 4, loc=1e6, scale=0.5)
    assert pairwise_correlation(x) == pytest.approx(pair_by_pair(x), abs=1e-9)


def test_it_works_block_by_block_without_changing_the_result(monkeypatch):
    x = holes(2, 5000, 5)
    expected = pair_by_pair(x)
    monkeypatch.setattr(correlation_module, "_BLOCK", 1000)
    monkeypatch.setattr(correlation_module, "_SUB", 96)
    for workers in (1, 2, 4):
        assert pairwise_correlation(x, workers=workers) == pytest.approx(expected, abs=1e-12)


def test_it_accepts_float32_and_fortran_order():
    x = holes(3, 3000, 4)
    expected = pairwise_correlation(x)
    assert pairwise_correlation(np.asfortranarray(x)) == pytest.approx(expected, abs=1e-14)
    x32 = x.astype(np.float32)
    assert pairwise_correlation(x32) == pytest.approx(pair_by_pair(x32.astype(float)), abs=1e-12)


def test_covariances_and_counts_match_pandas():
    x = holes(4, 400, 4)
    cov, counts = pairwise_covariance(x)
    assert cov == pytest.approx(pd.DataFrame(x).cov().to_numpy(), abs=1e-12)
    mask = (~np.isnan(x)).astype(int)
    assert np.array_equal(counts, mask.T @ mask)


def test_it_names_what_is_wrong():
    with pytest.raises(ValueError, match="non-empty"):
        pairwise_correlation(np.empty((0, 3)))
    x = holes(5, 50, 3, missing=0.0)
    x[:, 1] = np.nan
    with pytest.raises(ValueError, match="column 1 has no values"):
        pairwise_correlation(x)
    x = holes(5, 50, 3, missing=0.0)
    x[:, 2] = 3.0
    with pytest.raises(ValueError, match="column 2 is constant"):
        pairwise_correlation(x)
    nan = np.nan
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, nan, nan, nan], "b": [nan, nan, nan, 1.0, 2.0, 3.0]})
    with pytest.raises(ValueError, match="columns 'a' and 'b' are both present in only 0 rows"):
        pairwise_correlation(frame)
    with pytest.raises(ValueError, match="column 'a' has only 2 values"):
        pairwise_correlation(frame[["a"]].iloc[1:])
    x = holes(6, 50, 3, missing=0.0)
    x[4, 0] = np.inf
    with pytest.raises(ValueError, match="infinite value at row 4"):
        pairwise_correlation(x)
