"""Differences between groups and false-discovery control.

Sources:
- Newcombe, R. G. (1998). Interval estimation for the difference between independent proportions:
  comparison of eleven methods. Statistics in Medicine 17, 873–890, Table II, method 10
  (56/70 − 48/80: 0.0524 to 0.3339; 9/10 − 3/10: 0.1705 to 0.8090).
- Rocks, B. (2016), R package NPS, for the NPS variance.
- Independent computations: statsmodels (multipletests fdr_bh, proportions_ztest) and scipy
  (Welch's ttest_ind).
"""

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest

from cxloop.analytics import (
    benjamini_hochberg,
    compare_segments,
    mean_difference,
    newcombe_difference,
    nps_difference,
    proportion_difference,
)


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "low", "high"),
    [(56, 70, 48, 80, 0.0524, 0.3339), (9, 10, 3, 10, 0.1705, 0.8090)],
)
def test_newcombe_matches_table_2_method_10(x1, n1, x2, n2, low, high):
    ci = newcombe_difference(x1, n1, x2, n2)
    assert ci.low == pytest.approx(low, abs=1e-4)
    assert ci.high == pytest.approx(high, abs=1e-4)


def test_proportion_difference_tests_like_statsmodels():
    d = proportion_difference(56, 70, 48, 80)
    z, p = proportions_ztest([56, 48], [70, 80])
    assert d.value == pytest.approx(20.0)
    assert d.statistic == pytest.approx(z)
    assert d.p_value == pytest.approx(p)
    assert d.low == pytest.approx(5.24, abs=0.01)


def test_wald_nps_difference_uses_the_rocks_variance():
    a = [10] * 60 + [8] * 25 + [3] * 15
    b = [10] * 40 + [8] * 30 + [3] * 30
    va = (0.60 + 0.15) - (0.60 - 0.15) ** 2
    vb = (0.40 + 0.30) - (0.40 - 0.30) ** 2
    se = math.sqrt(va / 100 + vb / 100)
    d = nps_difference(a, b, method="wald")
    assert d.value == pytest.approx(35.0)
    assert d.statistic == pytest.approx(0.35 / se)
    assert d.p_value == pytest.approx(2 * stats.norm.sf(0.35 / se))
    assert d.low == pytest.approx(100 * (0.35 - stats.norm.ppf(0.975) * se))
    assert d.n == 200


def test_adjusted_nps_difference_is_defined_for_unanimous_groups():
    d = nps_difference([10] * 5, [10] * 5)
    assert d.value == 0.0 and d.p_value == pytest.approx(1.0)
    with pytest.raises(ValueError, match="adjusted-wald"):
        nps_difference([10] * 5, [10] * 5, method="wald")


def test_mean_difference_is_welchs_test():
    a = [4, 5, 4, 5, 5, 4, 3]
    b = [3, 4, 3, 2, 4, 3, 5, 1]
    d = mean_difference(a, b)
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert d.statistic == pytest.approx(ref.statistic)
    assert d.p_value == pytest.approx(ref.pvalue)
    ci = ref.confidence_interval(0.95)
    assert (d.low, d.high) == pytest.approx((ci.low, ci.high))


def test_benjamini_hochberg_matches_statsmodels():
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(size=40), rng.uniform(0, 0.002, size=10)])
    assert benjamini_hochberg(p) == pytest.approx(multipletests(p, method="fdr_bh")[1])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        benjamini_hochberg([0.1, 1.2])


def test_it_flags_only_the_segment_that_truly_differs():
    rng = np.random.default_rng(42)
    groups = {f"team {i}": rng.choice([10, 8, 3], size=150, p=[0.5, 0.3, 0.2]) for i in range(12)}
    groups["outlier"] = rng.choice([10, 8, 3], size=150, p=[0.2, 0.3, 0.5])
    flagged = [c.name for c in compare_segments(groups) if c.significant]
    assert flagged == ["outlier"]


@pytest.mark.parametrize("metric", ["nps", "top_box", "mean"])
def test_segments_are_compared_with_the_rest(metric):
    groups = {"a": [10, 9, 8, 5, 4] * 20, "b": [3, 2, 10, 9, 8] * 20, "c": [7, 8, 9, 5, 10] * 20}
    results = compare_segments(groups, metric=metric, top=(9, 10))
    assert [r.name for r in results] == ["a", "b", "c"]
    if metric == "mean":
        rest = groups["b"] + groups["c"]
        ref = stats.ttest_ind(groups["a"], rest, equal_var=False)
        assert results[0].difference.p_value == pytest.approx(ref.pvalue)
    for r in results:
        assert r.difference.low <= r.difference.value <= r.difference.high
        assert r.q_value >= r.difference.p_value
        assert r.to_dict()["name"] == r.name


def test_compare_segments_needs_two_nonempty_groups():
    with pytest.raises(ValueError, match="two groups"):
        compare_segments({"a": [10]})
    with pytest.raises(ValueError, match="'b' has no answers"):
        compare_segments({"a": [10], "b": [None]})
