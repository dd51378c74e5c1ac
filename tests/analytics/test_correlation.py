"""Pairwise-complete correlations against pandas and an exact computation.

Source: independent computations — pandas ``DataFrame.corr()`` (pairwise-complete Pearson) and
NumPy's ``corrcoef`` on the rows where each pair is present.
"""

import numpy as np
import pandas as pd
import pytest

import cxloop.analytics.correlation as correlation_module
from cxloop.analytics import (
    pairwise_correlation,
    pairwise_covariance,
    pairwise_covariance_from_sums,
    pairwise_sums,
)


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


def scores_with_holes(seed, n, p):
    """Integer scores 0–10 with a quarter missing: what the fact store keeps sums of."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 11, size=(n, p)).astype(float)
    x[:, 1] = np.clip(x[:, 0] + rng.integers(-2, 3, size=n), 0, 10)  # a correlated pair
    x[rng.random((n, p)) < 0.25] = np.nan
    return x


def test_covariance_from_sums_equals_pandas_pairwise_covariance():
    x = scores_with_holes(3, 5_000, 6)
    cov, n = pairwise_covariance_from_sums(pairwise_sums(x))
    assert cov == pytest.approx(pd.DataFrame(x).cov().to_numpy(), abs=1e-12)
    assert (
        n.tolist()
        == pd.DataFrame(x)
        .notna()
        .astype(int)
        .T.dot(pd.DataFrame(x).notna().astype(int))
        .to_numpy()
        .tolist()
    )


def test_sums_of_parts_add_up_to_the_sums_of_the_whole_and_subtract_to_the_rest():
    x = scores_with_holes(4, 9_000, 5)
    whole, first, rest = pairwise_sums(x), pairwise_sums(x[:4_000]), pairwise_sums(x[4_000:])
    for name in ("n", "x", "x2", "xx"):
        assert getattr(first + rest, name) == pytest.approx(getattr(whole, name), rel=0, abs=0)
        assert getattr(whole - first, name) == pytest.approx(getattr(rest, name), rel=0, abs=0)
    columns = [3, 0]
    cov, _ = pairwise_covariance_from_sums((first + rest).take(columns))
    assert cov == pytest.approx(pd.DataFrame(x[:, columns]).cov().to_numpy(), abs=1e-12)


def test_covariance_from_sums_refuses_what_pairwise_covariance_refuses():
    x = scores_with_holes(5, 100, 3)
    x[:, 2] = 4.0  # constant
    with pytest.raises(ValueError, match="column 'c' is constant"):
        pairwise_covariance_from_sums(pairwise_sums(x), ["a", "b", "c"])
    with pytest.raises(ValueError, match="column 'c' is constant"):
        pairwise_covariance(pd.DataFrame(x, columns=["a", "b", "c"]))
    x[:, 2] = np.nan
    x[:2, 2] = 1.0
    with pytest.raises(ValueError, match="only 2 values"):
        pairwise_covariance_from_sums(pairwise_sums(x))
    with pytest.raises(ValueError, match="infinite value at row 7"):
        x[7, 0] = np.inf
        pairwise_sums(x)
    assert pairwise_sums(np.empty((0, 3))).n.tolist() == np.zeros((3, 3)).tolist()
