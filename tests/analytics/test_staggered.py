"""The staggered difference-in-differences (cxloop.analytics.staggered_did): it recovers a
planted effect within its interval over simulated roll-outs, finds none where none was
planted, and one cohort-period cell equals the weighted two-way fixed-effects regression of
that 2×2 comparison fitted by statsmodels (the reference)."""

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from cxloop.analytics import staggered_did


def simulate(seed: int, effect: float, units: int = 150, periods: int = 24):
    """People with their own level, a common seasonal swing, 0–8 answers a month and
    training completed at random months (30 % never trained)."""
    rng = np.random.default_rng(seed)
    first = np.where(rng.random(units) < 0.3, -1, rng.integers(6, 20, units))
    level = rng.normal(4.0, 0.3, (units, 1)) + 0.2 * np.sin(np.arange(periods) / 3)
    treated = (first[:, None] >= 0) & (np.arange(periods) >= first[:, None])
    count = rng.poisson(3, (units, periods))
    noise = rng.normal(0, 1, (units, periods)) / np.sqrt(np.maximum(count, 1))
    return level + effect * treated + noise, count, first


def test_it_recovers_the_planted_effect_within_its_interval_across_roll_outs():
    estimates, covered = [], 0
    for seed in range(30):
        result = staggered_did(*simulate(seed, 0.3), replicates=199)
        estimates.append(result.att.value)
        covered += result.att.low < 0.3 < result.att.high
    assert abs(np.mean(estimates) - 0.3) < 0.02  # unbiased: sd of one estimate ≈ 0.04
    assert covered >= 25  # nominal 95 %: 28.5 of 30 expected


def test_it_finds_no_effect_where_none_was_planted():
    result = staggered_did(*simulate(7, 0.0))
    assert result.att.low < 0 < result.att.high
    assert abs(result.att.value) < 0.1


def test_it_recovers_an_effect_that_grows_with_time_since_training():
    values, count, first = simulate(11, 0.0)
    since = np.arange(values.shape[1]) - first[:, None]
    growing = np.where((first[:, None] >= 0) & (since >= 0), 0.1 * np.minimum(since + 1, 4), 0)
    result = staggered_did(values + growing, count, first)
    by_time = {e.since: e for e in result.by_time}
    assert by_time[0].low < 0.1 < by_time[0].high
    assert by_time[3].low < 0.4 < by_time[3].high


def test_it_equals_the_weighted_two_by_two_regression_of_one_cell():
    """One cohort (first treated in period 8), one period (10), one pre period (7): the cell
    is the DiD of a regression with unit and period fixed effects over the treated and the
    not-yet-treated units, each unit weighted by h = n₁₀·n₇/(n₁₀+n₇)."""
    values, count, first = simulate(3, 0.3)
    result = staggered_did(values, count, first, pre_periods=1)
    cell = next(c for c in result.cells if c.cohort == 8 and c.period == 10)
    rows = []
    for unit in range(values.shape[0]):
        n_pre, n_post = count[unit, 7], count[unit, 10]
        treated, not_yet = first[unit] == 8, first[unit] == -1 or first[unit] > 10
        if not (treated or not_yet) or not n_pre or not n_post:
            continue
        h = n_pre * n_post / (n_pre + n_post)
        for post, period in ((0, 7), (1, 10)):
            rows.append((unit, post, int(treated), values[unit, period], h))
    frame = pd.DataFrame(rows, columns=["unit", "post", "treated", "y", "h"])
    fit = smf.wls("y ~ C(unit) + post + post:treated", data=frame, weights=frame.h).fit()
    assert cell.value == pytest.approx(fit.params["post:treated"], abs=1e-10)
    assert cell.treated == frame[frame.treated == 1].unit.nunique()
    assert cell.controls == frame[frame.treated == 0].unit.nunique()


def test_it_is_none_without_a_cohort_to_compare():
    values, count, _first = simulate(1, 0.0, units=10, periods=6)
    assert staggered_did(values, count, np.full(10, -1)) is None


@pytest.mark.parametrize(
    "change, message",
    [
        ({"first_treated": np.full(9, -1)}, "first_treated has 9 values"),
        ({"first_treated": np.full(10, 0.5)}, "integers"),
        ({"first_treated": np.full(10, 99)}, "a period from 0 to 5"),
        ({"count": -np.ones((10, 6))}, "not negative"),
        ({"pre_periods": 0}, "pre_periods"),
        ({"replicates": 10}, "replicates"),
    ],
)
def test_it_names_what_is_wrong_with_its_input(change, message):
    values, count, _first = simulate(1, 0.0, units=10, periods=6)
    first = np.repeat([-1, 3], 5)
    arguments = {"outcome": values, "count": count, "first_treated": first} | change
    with pytest.raises(ValueError, match=message):
        staggered_did(**arguments)
