"""Exact LMG and relative weights against published values and independent computations.

Sources:
- Grömping, U. (2006). Relative importance for linear regression in R: the package relaimpo.
  Journal of Statistical Software 17(1): calc.relimp(Fertility ~ ., swiss, type = "lmg"),
  R² = 0.7067, values as given in tests/reference/README.md (data: tests/reference/swiss.csv).
- Independent: statsmodels OLS R² for every subset; LMG by brute force over all p! orderings;
  Johnson's (2000) relative weights by his original SVD procedure.
"""

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

import cxloop.analytics.drivers as drivers_module
from cxloop.analytics import (
    all_subsets_r2,
    lmg,
    lmg_from_covariance,
    pairwise_correlation,
    relative_weights,
    relative_weights_from_covariance,
)
from tests.datasets import REFERENCE

SWISS_DRIVERS = ["Agriculture", "Examination", "Education", "Catholic", "Infant.Mortality"]
RELAIMPO_SWISS_LMG = {
    "Agriculture": 0.05709122,
    "Examination": 0.17117303,
    "Education": 0.26013468,
    "Catholic": 0.10557015,
    "Infant.Mortality": 0.11276592,
}


@pytest.fixture(scope="module")
def swiss():
    return pd.read_csv(REFERENCE / "swiss.csv")


@pytest.fixture(scope="module")
def mtcars():
    return pd.read_csv(REFERENCE / "mtcars.csv")


def ols_r2(frame, outcome, columns):
    if not columns:
        return 0.0
    return sm.OLS(frame[outcome], sm.add_constant(frame[list(columns)])).fit().rsquared


def brute_force_lmg(frame, outcome, drivers):
    """Average R² gain of each driver over all p! orders of entry."""
    r2 = {}
    for k in range(len(drivers) + 1):
        for subset in itertools.combinations(drivers, k):
            r2[frozenset(subset)] = ols_r2(frame, outcome, subset)
    gains = dict.fromkeys(drivers, 0.0)
    orders = list(itertools.permutations(drivers))
    for order in orders:
        entered: frozenset = frozenset()
        for d in order:
            gains[d] += r2[entered | {d}] - r2[entered]
            entered = entered | {d}
    return {d: g / len(orders) for d, g in gains.items()}


def random_frame(seed, n, p):
    rng = np.random.default_rng(seed)
    mix = rng.normal(size=(p, p)) / math.sqrt(p)
    x = rng.normal(size=(n, p)) @ (np.eye(p) + mix)
    y = x @ rng.normal(size=p) + rng.normal(size=n) * 2
    frame = pd.DataFrame(x, columns=[f"d{i}" for i in range(p)])
    frame["y"] = y
    return frame


def test_lmg_matches_relaimpo_on_swiss(swiss):
    res = lmg(swiss, outcome="Fertility", drivers=SWISS_DRIVERS)
    assert res.r2 == pytest.approx(0.7067, abs=5e-5)
    assert res.n == 47
    for name, value in RELAIMPO_SWISS_LMG.items():
        assert res.importance[name] == pytest.approx(value, abs=1e-6)
    assert list(res.importance) == SWISS_DRIVERS


def test_lmg_matches_brute_force_over_all_orderings(swiss, mtcars):
    assert lmg(swiss, outcome="Fertility", drivers=SWISS_DRIVERS).importance == pytest.approx(
        brute_force_lmg(swiss, "Fertility", SWISS_DRIVERS), abs=1e-12
    )
    cars = ["cyl", "disp", "hp", "wt", "qsec"]
    assert lmg(mtcars, outcome="mpg", drivers=cars).importance == pytest.approx(
        brute_force_lmg(mtcars, "mpg", cars), abs=1e-12
    )


def test_every_subset_r2_matches_statsmodels_ols(mtcars):
    cars = ["cyl", "disp", "hp", "drat", "wt", "qsec", "gear"]
    cov = mtcars[[*cars, "mpg"]].cov().to_numpy()
    r2 = all_subsets_r2(cov, [*cars, "mpg"], outcome="mpg")
    assert r2.shape == (2 ** len(cars),)
    for mask in range(2 ** len(cars)):
        subset = [c for j, c in enumerate(cars) if mask >> j & 1]
        assert r2[mask] == pytest.approx(ols_r2(mtcars, "mpg", subset), abs=1e-12)


def test_chunked_and_threaded_lattice_gives_the_same_answer(monkeypatch):
    frame = random_frame(1, 300, 9)
    names = list(frame.columns)
    expected = lmg(frame, outcome="y")
    r2_whole = all_subsets_r2(frame.cov().to_numpy(), names, outcome="y")
    # Cut the lattice into 2**3-subset chunks so the chunk and thread paths are exercised.
    monkeypatch.setattr(drivers_module, "_CHUNK_LOG2", 3)
    for workers in (1, 3):
        chunked = lmg(frame, outcome="y", workers=workers)
        assert chunked.importance == pytest.approx(expected.importance, abs=1e-13)
    assert all_subsets_r2(frame.cov().to_numpy(), names, outcome="y") == pytest.approx(
        r2_whole, abs=1e-13
    )


def test_large_p_uses_every_subset_and_still_sums_to_r2():
    frame = random_frame(2, 2000, 18)
    res = lmg(frame, outcome="y")
    fit = sm.OLS(frame["y"], sm.add_constant(frame.drop(columns="y"))).fit()
    assert res.r2 == pytest.approx(fit.rsquared, abs=1e-12)
    assert sum(res.importance.values()) == pytest.approx(res.r2, abs=1e-12)
    assert min(res.importance.values()) >= 0


def test_lmg_runs_on_sufficient_statistics(swiss):
    cov = swiss[[*SWISS_DRIVERS, "Fertility"]].cov().to_numpy()
    res = lmg_from_covariance(cov, [*SWISS_DRIVERS, "Fertility"], outcome="Fertility", n=47)
    assert res.importance == pytest.approx(RELAIMPO_SWISS_LMG, abs=1e-6)
    # A correlation matrix carries the same information as the covariance matrix.
    corr = swiss[[*SWISS_DRIVERS, "Fertility"]].corr().to_numpy()
    res_corr = lmg_from_covariance(corr, [*SWISS_DRIVERS, "Fertility"], outcome="Fertility", n=47)
    assert res_corr.importance == pytest.approx(res.importance, abs=1e-12)


def test_pairwise_lmg_uses_the_pairwise_correlation_matrix(swiss):
    rng = np.random.default_rng(5)
    holes = swiss[[*SWISS_DRIVERS, "Fertility"]].copy()
    for col in holes.columns:
        holes.loc[rng.random(len(holes)) < 0.08, col] = np.nan
    res = lmg(holes, outcome="Fertility", drivers=SWISS_DRIVERS, missing="pairwise")
    corr = holes.corr().to_numpy()  # pandas: pairwise-complete Pearson
    ref = lmg_from_covariance(corr, list(holes.columns), outcome="Fertility", n=47)
    assert res.importance == pytest.approx(ref.importance, abs=1e-12)
    counts = (~holes.isna()).astype(int)
    assert res.n == int((counts.T @ counts).to_numpy().min())
    assert res.missing == "pairwise"
    listwise = lmg(holes, outcome="Fertility", drivers=SWISS_DRIVERS)
    assert listwise.n == int(holes.notna().all(axis=1).sum())
    assert pairwise_correlation(holes.to_numpy()) == pytest.approx(corr, abs=1e-12)


def johnson_by_svd(frame, outcome, drivers):
    """Johnson (2000) as published: Z = P Qᵀ from the SVD X = P Δ Qᵀ of the standardised data,
    then ε_j = Σ_k corr(x_j, z_k)² corr(y, z_k)²."""
    x = frame[drivers].to_numpy(float)
    y = frame[outcome].to_numpy(float)
    x = (x - x.mean(0)) / x.std(0, ddof=1)
    y = (y - y.mean()) / y.std(ddof=1)
    p_mat, _, q_t = np.linalg.svd(x, full_matrices=False)
    z = p_mat @ q_t  # orthonormal columns closest to x
    scale = math.sqrt(len(y) - 1)
    corr_zx = z.T @ x / scale
    corr_zy = z.T @ y / scale
    return dict(zip(drivers, (corr_zx**2).T @ corr_zy**2, strict=True))


def test_relative_weights_match_johnsons_procedure(mtcars):
    cars = ["cyl", "disp", "hp", "drat", "wt", "qsec"]
    res = relative_weights(mtcars, outcome="mpg", drivers=cars)
    assert res.importance == pytest.approx(johnson_by_svd(mtcars, "mpg", cars), abs=1e-10)
    assert sum(res.importance.values()) == pytest.approx(ols_r2(mtcars, "mpg", cars), abs=1e-12)
    cov = mtcars[[*cars, "mpg"]].cov().to_numpy()
    from_cov = relative_weights_from_covariance(cov, [*cars, "mpg"], outcome="mpg", n=32)
    assert from_cov.importance == pytest.approx(res.importance, abs=1e-12)


def test_bootstrap_intervals_are_reproducible_and_contain_the_estimate(swiss):
    kwargs = {"outcome": "Fertility", "drivers": SWISS_DRIVERS, "confidence": 0.9, "n_boot": 200}
    a = lmg(swiss, seed=7, **kwargs)
    b = lmg(swiss, seed=7, **kwargs)
    c = lmg(swiss, seed=8, **kwargs)
    assert a.intervals == b.intervals
    assert a.intervals != c.intervals
    assert a.confidence == 0.9
    for name, value in a.importance.items():
        assert a.intervals[name].low <= value <= a.intervals[name].high
    rw = relative_weights(swiss, seed=1, **kwargs)
    assert set(rw.intervals) == set(SWISS_DRIVERS)


# -------------------------------------------------------------------------------- bad input


def test_it_refuses_empty_input():
    with pytest.raises(ValueError, match="no rows"):
        lmg({"a": [], "b": [], "y": []}, outcome="y")


def test_it_names_an_all_missing_column():
    frame = {"a": [1.0, 2, 3, 4, 5], "b": [np.nan] * 5, "y": [1.0, 3, 2, 5, 4]}
    with pytest.raises(ValueError, match="'b' has no values"):
        lmg(frame, outcome="y")


def test_it_names_a_constant_driver():
    frame = {"a": [1.0, 2, 3, 4, 5, 6], "b": [4.0] * 6, "y": [1.0, 3, 2, 5, 4, 6]}
    with pytest.raises(ValueError, match="driver 'b' is constant"):
        lmg(frame, outcome="y")
    with pytest.raises(ValueError, match="driver 'b' is constant"):
        relative_weights(frame, outcome="y")


def test_it_names_perfectly_collinear_drivers():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(3, 30))
    frame = {"a": a, "b": b, "c": c, "sum": a + 2 * b, "y": a + c + rng.normal(size=30)}
    with pytest.raises(ValueError, match="collinear") as info:
        lmg(frame, outcome="y")
    message = str(info.value)
    assert "'a'" in message and "'b'" in message and "'sum'" in message and "'c'" not in message


def test_it_needs_more_rows_than_drivers():
    rng = np.random.default_rng(1)
    frame = {f"d{i}": rng.normal(size=5) for i in range(4)}
    frame["y"] = rng.normal(size=5)
    with pytest.raises(ValueError, match="fewer rows than needed: 5 rows for 4 drivers"):
        lmg(frame, outcome="y")


def test_it_refuses_an_inconsistent_pairwise_matrix():
    # Each pair is seen on different rows: a ≈ b, a ≈ y but b ≈ −y, which no data set can give.
    up = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    wobble = [1.1, 1.9, 3.2, 3.9, 5.1, 5.8]
    gap = [np.nan] * 6
    frame = {
        "a": up + up + gap,
        "b": wobble + gap + [-v for v in up],
        "y": gap + wobble + wobble,
    }
    with pytest.raises(ValueError, match="not positive semi-definite.*listwise"):
        lmg(frame, outcome="y", drivers=["a", "b"], missing="pairwise")


def test_it_limits_exact_lmg_to_thirty_drivers():
    names = [f"d{i}" for i in range(31)]
    with pytest.raises(ValueError, match="relative_weights"):
        lmg_from_covariance(np.eye(32), [*names, "y"], outcome="y", n=100)


def test_it_rejects_unknown_options():
    frame = {"a": [1.0, 2, 3, 4], "b": [2.0, 1, 4, 3], "y": [1.0, 2, 4, 3]}
    with pytest.raises(ValueError, match="missing"):
        lmg(frame, outcome="y", missing="mean-impute")
    with pytest.raises(ValueError, match="outcome 'y' cannot also be a driver"):
        lmg(frame, outcome="y", drivers=["a", "y"])


# -------------------------------------------------------------------------------- properties


@st.composite
def regression_data(draw):
    p = draw(st.integers(min_value=1, max_value=6))
    n = draw(st.integers(min_value=p + 5, max_value=60))
    seed = draw(st.integers(min_value=0, max_value=2**32 - 1))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, p)) @ (np.eye(p) + rng.normal(size=(p, p)) * 0.5)
    y = x @ rng.normal(size=p) + rng.normal(size=n) * draw(st.floats(0.1, 5.0))
    return x, y


def rounding(x) -> float:
    """The rounding error to allow on top of a fixed tolerance: results carry about machine epsilon
    times the condition number of the drivers' correlation matrix, and some of the generated
    drivers are nearly collinear (condition numbers up to about 1e9)."""
    return 1e-14 * np.linalg.cond(np.atleast_2d(np.corrcoef(x, rowvar=False)))


@settings(max_examples=40, deadline=None)
@given(regression_data(), st.randoms(use_true_random=False))
def test_lmg_shares_are_non_negative_sum_to_r2_and_ignore_driver_order(data, shuffle):
    x, y = data
    names = [f"d{j}" for j in range(x.shape[1])]
    frame = {**{n: x[:, j] for j, n in enumerate(names)}, "y": y}
    res = lmg(frame, outcome="y", drivers=names)
    assert min(res.importance.values()) >= -1e-12 - rounding(x)
    assert sum(res.importance.values()) == pytest.approx(res.r2, abs=1e-10 + rounding(x))
    shuffled = names[:]
    shuffle.shuffle(shuffled)
    again = lmg(frame, outcome="y", drivers=shuffled)
    for n in names:
        assert again.importance[n] == pytest.approx(res.importance[n], abs=1e-12 + rounding(x))


@settings(max_examples=40, deadline=None)
@given(regression_data())
def test_relative_weights_sum_to_r2(data):
    x, y = data
    names = [f"d{j}" for j in range(x.shape[1])]
    frame = {**{n: x[:, j] for j, n in enumerate(names)}, "y": y}
    res = relative_weights(frame, outcome="y", drivers=names)
    assert sum(res.importance.values()) == pytest.approx(res.r2, abs=1e-10 + rounding(x))
    assert min(res.importance.values()) >= -1e-12 - rounding(x)
    assert res.r2 == pytest.approx(lmg(frame, outcome="y", drivers=names).r2, abs=1e-12)
