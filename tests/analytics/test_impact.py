"""Before/after and difference-in-differences against independent computations.

Sources: scipy's Welch t test; statsmodels OLS ``y ~ treated * after`` whose interaction
coefficient is the difference-in-differences, with the HC2 standard error that equals the
four-sample formula in a saturated model (MacKinnon & White 1985).
"""

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from scipy import stats

from cxloop.analytics import before_after, difference_in_differences, nps_difference


def test_before_after_tests_means_with_welch_and_nps_with_a_z_test():
    rng = np.random.default_rng(0)
    before = rng.choice(11, size=120, p=np.r_[np.full(6, 0.05), np.full(5, 0.14)])
    after = rng.choice(11, size=150, p=np.r_[np.full(6, 0.02), np.full(5, 0.176)])
    res = before_after(before, after)
    ref = stats.ttest_ind(after, before, equal_var=False)
    assert res.mean_change.value == pytest.approx(after.mean() - before.mean())
    assert res.mean_change.p_value == pytest.approx(ref.pvalue)
    assert res.mean_before.n == 120 and res.mean_after.n == 150
    assert res.nps_change == nps_difference(after, before)
    assert res.nps_after.value - res.nps_before.value == pytest.approx(res.nps_change.value)


def test_before_after_on_another_scale_skips_nps():
    res = before_after([3, 4, 2, 5, 4], [4, 5, 5, 4, 5], nps=False)
    assert res.nps_change is None and res.mean_change.value == pytest.approx(1.0)
    with pytest.raises(ValueError, match="0–10 scale"):
        before_after([3, 4, 12], [4, 5, 5])


def test_difference_in_differences_equals_the_ols_interaction():
    rng = np.random.default_rng(1)
    groups = {
        (1, 0): rng.normal(3.0, 1.0, 40),
        (1, 1): rng.normal(3.6, 1.3, 55),
        (0, 0): rng.normal(3.0, 0.8, 35),
        (0, 1): rng.normal(3.1, 1.1, 60),
    }
    rows = [(v, t, a) for (t, a), values in groups.items() for v in values]
    frame = pd.DataFrame(rows, columns=["y", "treated", "after"])
    fit = smf.ols("y ~ treated * after", frame).fit(cov_type="HC2")
    d = difference_in_differences(groups[1, 0], groups[1, 1], groups[0, 0], groups[0, 1])
    assert d.value == pytest.approx(fit.params["treated:after"], abs=1e-12)
    se = (d.high - d.value) / stats.t.ppf(0.975, d.df)
    assert se == pytest.approx(fit.bse["treated:after"], rel=1e-10)
    assert d.statistic == pytest.approx(d.value / se)
    assert d.n == 190


def test_nps_difference_in_differences():
    tb, ta = ([10] * 30 + [5] * 30) * 3, ([10] * 45 + [5] * 15) * 3
    cb, ca = ([10] * 30 + [5] * 30) * 3, ([10] * 33 + [5] * 27) * 3
    d = difference_in_differences(tb, ta, cb, ca, metric="nps")
    assert d.value == pytest.approx(((45 - 15) - (30 - 30)) / 60 * 100 - 10)
    assert d.low <= d.value <= d.high
    assert 0 < d.p_value < 0.05


def test_impact_names_bad_input():
    with pytest.raises(ValueError, match="treated_after: no answers"):
        difference_in_differences([1, 2], [None], [1, 2], [2, 3])
    with pytest.raises(ValueError, match="metric"):
        difference_in_differences([1, 2], [1, 3], [1, 2], [2, 3], metric="median")
    with pytest.raises(ValueError, match="control_before: needs at least 2"):
        difference_in_differences([1, 2], [1, 3], [1], [2, 3])
