"""Before/after, difference-in-differences and interrupted time series against independent
computations.

Sources: scipy's Welch t test; statsmodels OLS ``y ~ treated * after`` whose interaction
coefficient is the difference-in-differences, with the HC2 standard error that equals the
four-sample formula in a saturated model (MacKinnon & White 1985). ``did_regression`` and
``interrupted_time_series`` against ``statsmodels.api.OLS`` with the same design (classical,
HC1, cluster-robust CR1 and Newey–West covariances, to 1e-8), and against the published
worked example of Card & Krueger (1994), Table 3.
"""

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats
from statsmodels.stats.stattools import durbin_watson

from cxloop.analytics import (
    before_after,
    did_regression,
    difference_in_differences,
    interrupted_time_series,
    nps_difference,
)


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
    assert res.claim == "association_only"


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


# --- did_regression --------------------------------------------------------------------------


def answers(seed, periods=10, change=6, effect=0.5, pre_slope=(0.05, 0.05), shock=0.3):
    """Ratings 0–10 of a treated and a control touchpoint over ``periods`` weeks, with a shock
    per period and group (what makes period clustering matter)."""
    rng = np.random.default_rng(seed)
    rows = []
    for week in range(periods):
        for group in (0, 1):
            mu = 7.0 + 0.3 * group + pre_slope[group] * week + rng.normal(0, shock)
            mu += effect if group and week >= change else 0.0
            y = np.clip(np.round(rng.normal(mu, 2.2, rng.integers(30, 90))), 0, 10)
            rows += [(v, group, week) for v in y]
    frame = pd.DataFrame(rows, columns=["y", "treated", "period"])
    frame["post"] = (frame.period >= change).astype(float)
    return frame


def design(frame):
    return sm.add_constant(np.column_stack([frame.treated, frame.post, frame.treated * frame.post]))


def test_did_regression_equals_statsmodels_ols_with_three_covariances():
    f = answers(3)
    res = did_regression(f.y, f.treated, f.period, change=6)
    X, y = design(f), f.y.to_numpy()
    classical = sm.OLS(y, X).fit()
    hc1 = sm.OLS(y, X).fit(cov_type="HC1")
    cluster = sm.OLS(y, X).fit(
        cov_type="cluster", cov_kwds={"groups": f.period.to_numpy()}, use_t=True
    )
    assert res.coef == pytest.approx(classical.params, rel=1e-8, abs=1e-10)
    assert res.se_classical == pytest.approx(classical.bse, rel=1e-8)
    assert res.se_hc1 == pytest.approx(hc1.bse, rel=1e-8)
    assert res.se_cluster == pytest.approx(cluster.bse, rel=1e-8)
    # With two or more periods a side the effect is tested with the clustered error on
    # t(G - 1), as statsmodels does with use_t and its default df correction.
    assert res.cov == "cluster" and res.effect.df == 9
    low, high = cluster.conf_int()[3]
    assert (res.effect.low, res.effect.high) == pytest.approx((low, high), rel=1e-8)
    assert res.effect.p_value == pytest.approx(cluster.pvalues[3], rel=1e-8)
    assert res.terms[3] == "treated:post" and res.effect.value == res.coef[3]
    assert res.effect.n == len(f)


def test_did_regression_chosen_covariance_sets_the_interval():
    f = answers(4)
    hc1 = did_regression(f.y, f.treated, f.period, change=6, cov="hc1")
    ref = sm.OLS(f.y.to_numpy(), design(f)).fit(cov_type="HC1", use_t=True)
    assert hc1.effect.df == len(f) - 4
    assert (hc1.effect.low, hc1.effect.high) == pytest.approx(tuple(ref.conf_int()[3]), rel=1e-8)
    classical = did_regression(f.y, f.treated, f.period, change=6, cov="classical")
    assert classical.effect.statistic == pytest.approx(
        sm.OLS(f.y.to_numpy(), design(f)).fit().tvalues[3], rel=1e-8
    )


def test_did_regression_gives_both_groups_series_and_cells():
    f = answers(5)
    f.loc[(f.treated == 0) & (f.period == 2), "y"] = np.nan  # a week without control answers
    res = did_regression(f.y, f.treated, f.period, change=6)
    means = f.dropna().groupby(["treated", "period"]).y.agg(["mean", "size"])
    assert res.periods.tolist() == list(range(10))
    assert res.treated_mean == pytest.approx(means.loc[1]["mean"].to_numpy(), rel=1e-12)
    assert res.treated_n.tolist() == means.loc[1]["size"].tolist()
    assert np.isnan(res.control_mean[2]) and res.control_n[2] == 0
    assert res.to_dict()["control_mean"][2] is None
    live = f.dropna()
    assert res.cells.treated_before == int(((live.treated == 1) & (live.post == 0)).sum())
    assert res.cells.control_after == int(((live.treated == 0) & (live.post == 1)).sum())


def test_pre_trends_check_is_the_statsmodels_slope_difference():
    f = answers(6, pre_slope=(0.0, 0.12))
    res = did_regression(f.y, f.treated, f.period, change=6)
    pre = f[f.post == 0]
    ref = smf.ols("y ~ treated * period", pre).fit(
        cov_type="cluster", cov_kwds={"groups": pre.period.to_numpy()}, use_t=True
    )
    assert res.pre_trends.value == pytest.approx(ref.params["treated:period"], rel=1e-8)
    assert res.pre_trends.p_value == pytest.approx(ref.pvalues["treated:period"], rel=1e-8)
    assert res.pre_trends.df == 5 and res.pre_trends.n == len(pre)


def test_did_regression_claims_what_its_data_allow():
    parallel = answers(7)
    assert (
        did_regression(parallel.y, parallel.treated, parallel.period, change=6).claim
        == "causal_if_parallel_trends"
    )
    apart = answers(8, pre_slope=(-0.2, 0.3), shock=0.05)
    res = did_regression(apart.y, apart.treated, apart.period, change=6)
    assert res.claim == "pre_trends_differ"
    assert res.pre_trends.significant and res.pre_trends.value > 0
    short = answers(9, periods=4, change=2)
    res = did_regression(short.y, short.treated, short.period, change=2)
    assert res.claim == "pre_trends_untested" and res.pre_trends is None
    assert res.cov == "cluster"


def test_did_regression_names_bad_input():
    f = answers(10, periods=4, change=2)
    with pytest.raises(ValueError, match="control_after: no answers"):
        did_regression(f.y[f.treated == 1].tolist() + [5.0], [1] * int(f.treated.sum()) + [0],
                       f.period[f.treated == 1].tolist() + [0], change=2)  # fmt: skip
    with pytest.raises(ValueError, match="treated must be 0/1"):
        did_regression([5, 6, 7], [0, 2, 1], [0, 1, 1], change=1)
    with pytest.raises(ValueError, match="differ in length"):
        did_regression([5, 6, 7], [0, 1], [0, 1, 1], change=1)
    with pytest.raises(ValueError, match="cov='cluster' needs two periods"):
        did_regression(f.y, f.treated, f.period.clip(upper=2), change=2, cov="cluster")


# Card, D. & Krueger, A. B. (1994). Minimum wages and employment: a case study of the
# fast-food industry in New Jersey and Pennsylvania. American Economic Review 84(4), 772–793,
# Table 3, rows 1–3 (all available observations): mean FTE employment per store (standard
# error), stores with the figure in each wave 321 and 319 in New Jersey, 77 and 77 in
# Pennsylvania (public data file).
CARD_KRUEGER = {  # (treated, wave): (mean, standard error, stores)
    (0, 0): (23.33, 1.35, 77),
    (1, 0): (20.44, 0.51, 321),
    (0, 1): (21.17, 0.94, 77),
    (1, 1): (21.03, 0.52, 319),
}
PUBLISHED = {"NJ-PA before": (-2.89, 1.44), "NJ-PA after": (-0.14, 1.07), "DiD": 2.76}


def stores_with(mean, se, n, rng):
    """n values whose mean and standard error are exactly the published ones."""
    z = rng.standard_normal(n)
    z = (z - z.mean()) / z.std(ddof=1)
    return mean + se * np.sqrt(n) * z


def test_did_regression_reproduces_card_and_krueger_table_3():
    rng = np.random.default_rng(1994)
    y, treated, wave = [], [], []
    for (g, w), (mean, se, n) in CARD_KRUEGER.items():
        y += stores_with(mean, se, n, rng).tolist()
        treated += [g] * n
        wave += [w] * n
    res = did_regression(y, treated, wave, change=1)
    # One period a side: HC1, whose cell variances are the published (s²/n) up to (n-1)/n and
    # N/(N-K); the published figures are rounded to 0.01, so they agree within 0.01.
    assert res.cov == "hc1" and res.claim == "pre_trends_untested"
    assert res.coef[1] == pytest.approx(PUBLISHED["NJ-PA before"][0], abs=0.005)
    assert res.se_hc1[1] == pytest.approx(PUBLISHED["NJ-PA before"][1], abs=0.01)
    # The DiD from the rounded means is 2.75; each mean is within 0.005 of the paper's, so the
    # published 2.76 is within 0.02.
    assert res.effect.value == pytest.approx(PUBLISHED["DiD"], abs=0.02)
    # The after-wave difference: the same regression with the waves' roles swapped.
    swapped = did_regression(y, treated, 1 - np.array(wave), change=1)
    assert swapped.coef[1] == pytest.approx(PUBLISHED["NJ-PA after"][0], abs=0.005)
    assert swapped.se_hc1[1] == pytest.approx(PUBLISHED["NJ-PA after"][1], abs=0.01)
    # The paper's DiD error (1.36) uses each store's own change (a panel); repeated cross
    # sections cannot, and give the larger sqrt(1.44² + 1.07²) ≈ 1.79.
    se = (res.effect.high - res.effect.value) / stats.t.ppf(0.975, res.effect.df)
    assert se == pytest.approx(np.hypot(1.44, 1.07), abs=0.01)


# --- interrupted_time_series -------------------------------------------------------------------


def its_series(seed, periods=40, change=20):
    rng = np.random.default_rng(seed)
    t = np.arange(periods)
    noise = np.zeros(periods)
    for i in range(1, periods):  # AR(1) noise: what HAC errors are for
        noise[i] = 0.5 * noise[i - 1] + rng.normal(0, 0.1)
    return 7.0 + 0.01 * t + 0.3 * (t >= change) + 0.02 * (t - change) * (t >= change) + noise


def its_design(periods, change):
    t = np.arange(periods, dtype=float)
    d = (t >= change).astype(float)
    return sm.add_constant(np.column_stack([t, d, (t - change) * d]))


def test_interrupted_time_series_equals_statsmodels_segmented_ols():
    y = its_series(1)
    X = its_design(40, 20)
    res = interrupted_time_series(y, change=20)
    ref = sm.OLS(y, X).fit()
    assert res.coef == pytest.approx(ref.params, rel=1e-8)
    assert res.se_classical == pytest.approx(ref.bse, rel=1e-8)
    for term, i in (("pre_trend", 1), ("level_change", 2), ("slope_change", 3)):
        d = getattr(res, term)
        assert d.value == pytest.approx(ref.params[i], rel=1e-8)
        assert d.p_value == pytest.approx(ref.pvalues[i], rel=1e-8)
        assert (d.low, d.high) == pytest.approx(tuple(ref.conf_int()[i]), rel=1e-8)
    assert res.fitted == pytest.approx(ref.fittedvalues, rel=1e-10)
    assert res.counterfactual == pytest.approx(ref.params[0] + ref.params[1] * np.arange(40))
    assert res.durbin_watson == pytest.approx(durbin_watson(ref.resid), rel=1e-10)
    assert res.claim == "causal_if_trend_continues"


@pytest.mark.parametrize("lags", [None, 1, 5])
def test_interrupted_time_series_newey_west_equals_statsmodels_hac(lags):
    y = its_series(2, periods=60, change=24)
    res = interrupted_time_series(y, change=24, cov="hac", maxlags=lags)
    expected_lags = int(4 * (60 / 100) ** (2 / 9)) if lags is None else lags
    ref = sm.OLS(y, its_design(60, 24)).fit(
        cov_type="HAC", cov_kwds={"maxlags": expected_lags}, use_t=True
    )
    assert res.maxlags == expected_lags
    assert res.se_hac == pytest.approx(ref.bse, rel=1e-8)
    assert res.level_change.p_value == pytest.approx(ref.pvalues[2], rel=1e-8)


def test_interrupted_time_series_says_when_it_has_too_few_periods():
    y = its_series(3, periods=12, change=6)
    assert interrupted_time_series(y, change=6).claim == "too_few_periods"
    with pytest.raises(ValueError, match="at least 2 periods on each side"):
        interrupted_time_series(y, change=11)
    with pytest.raises(ValueError, match="period 3"):
        interrupted_time_series([1.0, 2.0, 3.0, None, 5.0, 6.0], change=3)
    with pytest.raises(ValueError, match="cov"):
        interrupted_time_series(y, change=6, cov="hc1")
