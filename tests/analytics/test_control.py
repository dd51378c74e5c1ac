"""Control charts against published examples and a plain step-by-step computation.

Sources:
- NIST/SEMATECH e-Handbook of Statistical Methods, §6.3.2.4, EWMA example (data, λ = 0.3,
  target 50, s = 2.0539, printed EWMA values to 2 decimals and limits 52.5884 / 47.4115), in
  tests/reference/nist_ewma.json. The handbook rounds sqrt(λ/(2−λ)) to 0.4201, so the limits
  are compared at 1e-4.
- Montgomery, D. C. & Runger, G. C. (2003). Applied Statistics and Probability for Engineers,
  3rd ed., Example 16-6, Table 16-8: tabular CUSUM of the chemical process concentration data
  with target 99, K = 1, H = 10 (values printed to 1 decimal). Same recursion as the NIST
  e-Handbook §6.3.2.3.
"""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxloop.analytics import (
    cusum_chart,
    cusum_h_for_arl,
    ewma_chart,
    p_chart,
    rollback_watch,
    run_rules,
)
from cxloop.analytics.control import proportion_signals
from tests.datasets import REFERENCE

CONCENTRATION = [102.0, 94.8, 98.3, 98.4, 102.0, 98.5, 99.0, 97.7, 100.0, 98.1,
                 101.3, 98.7, 101.1, 98.4, 97.0, 96.7, 100.3, 101.4, 97.2, 101.0]  # fmt: skip
MONTGOMERY_SH = [2.0, 0.0, 0.0, 0.0, 2.0, 0.5, 0.0, 0.0, 0.0, 0.0,
                 1.3, 0.0, 1.1, 0.0, 0.0, 0.0, 0.3, 1.7, 0.0, 1.0]  # fmt: skip
MONTGOMERY_SL = [0.0, 3.2, 2.9, 2.5, 0.0, 0.0, 0.0, 0.3, 0.0, 0.0,
                 0.0, 0.0, 0.0, 0.0, 1.0, 2.3, 0.0, 0.0, 0.8, 0.0]  # fmt: skip


def test_ewma_matches_the_nist_handbook_example():
    example = json.loads((REFERENCE / "nist_ewma.json").read_text())
    par, published = example["parameters"], example["published"]
    chart = ewma_chart(
        example["data"], lam=par["lambda"], target=par["target"], sigma=par["sigma"], L=par["L"]
    )
    assert chart.statistic == pytest.approx(published["ewma"], abs=0.005)
    assert np.all(np.abs(chart.upper - published["ucl"]) < 1e-4)
    assert np.all(np.abs(chart.lower - published["lcl"]) < 1e-4)
    assert list(chart.signals) == published["out_of_control"]


def test_exact_ewma_limits_widen_toward_the_steady_state():
    lam, sigma = 0.2, 1.5
    chart = ewma_chart(np.zeros(30), lam=lam, target=0.0, sigma=sigma, limits="exact")
    t = np.arange(1, 31)
    expected = 3 * sigma * np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * t)))
    assert chart.upper == pytest.approx(expected, rel=1e-12)
    assert chart.upper[0] == pytest.approx(3 * sigma * lam)  # first point: λσ
    assert np.all(np.diff(chart.upper) > 0)


def test_ewma_signals_a_shift():
    values = [50.0] * 10 + [54.0] * 10
    chart = ewma_chart(values, lam=0.3, target=50.0, sigma=2.0)
    assert chart.signals and chart.signals[0] >= 10
    assert set(chart.signals) == set(range(chart.signals[0], 20))


def test_cusum_matches_montgomery_table_16_8():
    c = cusum_chart(CONCENTRATION, target=99.0, k=1.0, h=10.0)
    assert c.upper == pytest.approx(MONTGOMERY_SH, abs=0.05)
    assert c.lower == pytest.approx(MONTGOMERY_SL, abs=0.05)
    assert c.signals == ()


def cusum_by_steps(values, target, k):
    hi, lo, his, los = 0.0, 0.0, [], []
    for x in values:
        hi = max(0.0, hi + x - target - k)
        lo = max(0.0, lo + target - k - x)
        his.append(hi)
        los.append(lo)
    return his, los


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-100, 100), min_size=1, max_size=60),
    st.floats(-10, 10),
    st.floats(0, 3),
    st.floats(0.1, 20),
)
def test_cusum_equals_the_step_by_step_recursion(values, target, k, h):
    c = cusum_chart(values, target=target, k=k, h=h)
    his, los = cusum_by_steps(values, target, k)
    assert c.upper == pytest.approx(his, abs=1e-9)
    assert c.lower == pytest.approx(los, abs=1e-9)
    expected = tuple(i for i, (a, b) in enumerate(zip(his, los, strict=True)) if a > h or b > h)
    # Points within rounding of h may go either way; everything clearly past it must agree.
    clear = {i for i in expected if max(his[i], los[i]) > h + 1e-9}
    assert (
        clear
        <= set(c.signals)
        <= set(expected) | {i for i in range(len(values)) if abs(max(his[i], los[i]) - h) <= 1e-9}
    )


def test_p_chart_limits_follow_each_periods_size():
    x, n = [12, 15, 11, 30, 9], [100, 110, 95, 105, 400]
    chart = p_chart(x, n)
    p_bar = sum(x) / sum(n)
    se = np.sqrt(p_bar * (1 - p_bar) / np.array(n))
    assert chart.center == pytest.approx(p_bar)
    assert chart.upper == pytest.approx(p_bar + 3 * se)
    assert chart.lower == pytest.approx(np.maximum(p_bar - 3 * se, 0))
    assert chart.signals == (3, 4)  # 30/105 is too high, 9/400 too low


def test_charts_refuse_gaps_and_bad_parameters():
    with pytest.raises(ValueError, match="position 1"):
        ewma_chart([1.0, None, 2.0], lam=0.2, target=0, sigma=1)
    with pytest.raises(ValueError, match="lam"):
        ewma_chart([1.0], lam=1.5, target=0, sigma=1)
    with pytest.raises(ValueError, match="sigma"):
        ewma_chart([1.0], lam=0.2, target=0, sigma=0)
    with pytest.raises(ValueError, match="h must be positive"):
        cusum_chart([1.0], target=0, k=0.5, h=0)
    with pytest.raises(ValueError, match="period 1: successes 12"):
        p_chart([1, 12], [10, 10])
    with pytest.raises(ValueError, match="empty"):
        run_rules([], center=0, sigma=1)


def fired(values, rules="western-electric"):
    return {(s.index, s.rule) for s in run_rules(values, center=0.0, sigma=1.0, rules=rules)}


def test_western_electric_rules_fire_where_their_pattern_completes():
    assert fired([0, 0, 3.5, 0]) == {(2, 1)}
    assert fired([0, 2.5, 0.5, 2.2, 0]) == {(3, 2)}
    assert fired([0, -2.5, -2.5, 0]) == {(2, 2)}
    assert fired([0, 2.5, -2.5, 0]) == set()  # opposite sides
    assert fired([1.5, 1.5, 0.2, 1.5, 1.5, 0]) == {(4, 3)}
    assert fired([0.5] * 8 + [-0.5]) == {(7, 4)}
    assert fired([0.5] * 9) == {(7, 4), (8, 4)}


def test_nelson_rules_fire_where_their_pattern_completes():
    assert (8, 2) in fired([0.3] * 9, "nelson")
    assert (7, 2) not in fired([0.3] * 9, "nelson")
    rising = [-0.9, -0.6, -0.3, 0.0, 0.3, 0.6]
    assert fired(rising, "nelson") == {(5, 3)}
    zigzag = [0.5, -0.5] * 7
    assert (13, 4) in fired(zigzag, "nelson")
    assert not any(r == 4 for _, r in fired(zigzag[:13], "nelson"))
    assert fired([0.1, -0.1] * 7 + [0.1], "nelson") >= {(14, 7)}
    both = [1.5, -1.5, 1.2, -1.2, 1.3, -1.4, 1.6, -1.1]
    assert (7, 8) in fired(both, "nelson")
    assert (7, 8) not in fired([1.5] * 8, "nelson")


def test_run_rules_name_the_rule():
    [signal] = run_rules([0.0, 4.0], center=0.0, sigma=1.0)
    assert signal.to_dict() == {"index": 1, "rule": 1, "description": "one point beyond 3 sigma"}
    with pytest.raises(ValueError, match="nelson"):
        run_rules([0.0], center=0, sigma=1, rules="shewhart")


# --- proportion_signals ---------------------------------------------------------------------
# Laney's p' chart is checked against his own standardisation written out with plain NumPy
# (Laney 2002, Quality Engineering 14(4): z_i = (p_i - p̄)/σ_pi, σ_z = MR̄/1.128; here the
# median moving range over 0.954, Wheeler 2010) and a phase-I centre.


def test_proportion_signals_follow_the_written_out_formulae():
    rng = np.random.default_rng(7)
    n = rng.integers(200, 600, 12)
    x = rng.binomial(n, 0.6 + rng.normal(0, 0.04, 12).clip(-0.2, 0.2))
    chart = proportion_signals(x, n, baseline=3)
    centre = x[:3].sum() / n[:3].sum()
    z_b = (x / n - centre) / np.sqrt(centre * (1 - centre) / n)
    sigma_z = max(1.0, np.median(np.abs(np.diff(z_b))) / 0.954)
    extra = np.where(np.arange(12) < 3, -1, 1) / n[:3].sum()
    se = np.sqrt(centre * (1 - centre) * (1 / n + extra))
    assert chart.center == pytest.approx(centre)
    assert chart.sigma_z == pytest.approx(sigma_z)
    assert chart.upper == pytest.approx(np.clip(centre + 3.5 * sigma_z * se, 0, 1))
    assert chart.z == pytest.approx((x / n - centre) / se / sigma_z)
    assert sigma_z > 1  # the shares were drawn overdispersed: the limits widened


def test_proportion_signals_fire_on_a_drop_and_not_on_noise():
    n = np.full(10, 400)
    x = np.array([240, 236, 244, 238, 242, 239, 241, 150, 148, 237])
    chart = proportion_signals(x, n, baseline=3)
    assert [(s.index, s.rule) for s in chart.signals if s.rule == 1] == [(7, 1), (8, 1)]
    assert [s.index for s in chart.signals if s.rule == 2] == [8]
    steady = proportion_signals(np.array([240, 236, 244, 238, 242, 239, 241]), n[:7], baseline=3)
    assert steady.signals == ()


def test_unusable_periods_never_signal_nor_set_the_centre():
    n = np.array([400, 400, 5, 400, 400, 6])
    x = np.array([240, 236, 0, 238, 120, 0])
    usable = [True, True, False, True, True, False]
    chart = proportion_signals(x, n, usable=usable, baseline=2)
    assert chart.baseline == (0, 1)
    assert chart.center == pytest.approx(476 / 800)
    assert [s.index for s in chart.signals] == [4]
    nothing = proportion_signals([1, 2], [3, 4], usable=[False, False])
    assert nothing.signals == () and nothing.center == pytest.approx(3 / 7)


def test_proportion_signals_refuse_bad_counts():
    with pytest.raises(ValueError, match="period 1"):
        proportion_signals([1, 5], [3, 4])
    with pytest.raises(ValueError, match="usable"):
        proportion_signals([1, 2], [3, 4], usable=[True])
    with pytest.raises(ValueError, match="baseline"):
        proportion_signals([1, 2], [3, 4], baseline=0)


def test_a_map_of_stable_touchpoints_rarely_shows_a_false_badge():
    """The figure bench/README.md states: on simulated stable touchpoints of the demo's shape
    (20 touchpoints, quarterly waves of about 400 ratings, the last year read), fewer than one
    map in 12 shows any badge (measured 2.0 % over 1,000 maps; seeded, 150 maps here)."""
    bench = pytest.importorskip("bench.control_false_alarms")
    rng = np.random.default_rng(11)
    per_point, per_map = bench.false_alarms(rng, bench.SHAPES[0], 0.0, "product", 150)
    assert per_map < 1 / 12
    assert per_point < 1 / 1000
    # The textbook Western Electric rules on the same maps badge most of them.
    _, we_map = bench.false_alarms(np.random.default_rng(11), bench.SHAPES[0], 0.0,
                                   "western-electric", 30)  # fmt: skip
    assert we_map > 0.4


# --- rollback_watch ----------------------------------------------------------------------------
# Checked against the CUSUM written out step by step from its formula (Page 1954), Siegmund's
# approximation against Montgomery's ARL table (Introduction to Statistical Quality Control,
# §9.1: the two-sided tabular CUSUM with k = 1/2 has ARL₀ 168 at h = 4 and 465 at h = 5), and
# on simulated stable touchpoints (bench/bench_rollback_watch.py) against the bound its
# docstring states.


@pytest.mark.parametrize(("two_sided_arl", "h"), [(168.0, 4.0), (465.0, 5.0)])
def test_siegmund_h_matches_montgomerys_arl_table(two_sided_arl, h):
    # Two one-sided schemes alarm twice as often as one: one side's ARL is twice the table's.
    assert cusum_h_for_arl(0.5, 2 * two_sided_arl) == pytest.approx(h, abs=0.02)


def watch_by_hand(means, counts, sd, change, size, arl0, shift=0.5):
    x, n = np.asarray(means, float), np.asarray(counts, float)
    used = np.flatnonzero(n > 0)
    after = used[used >= change]
    base, watched = after[:size], after[size:]
    center = (n[base] * x[base]).sum() / n[base].sum()
    known = used[used <= base[-1]]
    z_s = (x[known] - center) / (sd / np.sqrt(n[known]))
    ranges = [abs(b - a) for i, (a, b) in enumerate(zip(z_s, z_s[1:], strict=False))
              if not (known[i] < change <= known[i + 1])]  # fmt: skip
    sigma_z = max(1.0, np.median(ranges) / 0.954)
    k = shift / (sigma_z * sd / np.sqrt(np.median(n[base]))) / 2
    h = cusum_h_for_arl(k, arl0)
    s, alarms = 0.0, []
    for t in watched:
        z = (x[t] - center) / (sigma_z * sd * np.sqrt(1 / n[t] + 1 / n[base].sum()))
        s = max(0.0, s - z - k)
        if s > h:
            alarms.append(int(t))
    return center, sigma_z, k, alarms


def test_rollback_watch_is_the_cusum_written_out():
    rng = np.random.default_rng(12)
    counts = rng.integers(40, 160, 60)
    counts[[5, 30]] = 0  # weeks without answers
    level = np.r_[np.full(20, 7.2), np.full(25, 7.8), np.full(15, 7.2)]
    means = np.where(counts > 0, rng.normal(level, 2.2 / np.sqrt(np.maximum(counts, 1))), np.nan)
    watch = rollback_watch(means, counts, sd=2.2, change=20)
    center, sigma_z, k, alarms = watch_by_hand(means, counts, 2.2, 20, 8, 1040.0)
    assert watch.baseline == tuple(range(20, 28))
    assert watch.center == pytest.approx(center, rel=1e-12)
    assert watch.sigma_z == pytest.approx(sigma_z, rel=1e-12)
    assert watch.k == pytest.approx(k, rel=1e-12)
    assert list(watch.signals) == alarms and watch.alarm == alarms[0] >= 45
    assert watch.state == "alarm"
    assert np.isnan(watch.statistic[:28]).all()
    assert watch.statistic[30] == watch.statistic[29]  # a week without answers holds the line
    assert np.isnan(watch.z[5])


def test_rollback_watch_alarm_does_not_move_as_periods_arrive():
    rng = np.random.default_rng(13)
    counts = np.full(70, 100)
    level = np.r_[np.full(10, 7.3), np.full(40, 7.8), np.full(20, 7.3)]
    means = rng.normal(level, 0.22)
    alarm = rollback_watch(means, counts, sd=2.2, change=10).alarm
    assert alarm is not None and alarm >= 50
    # Each refresh sees a few more periods: the alarm appears with its period and stays there.
    for end in range(20, 70):
        seen = rollback_watch(means[:end], counts[:end], sd=2.2, change=10).alarm
        assert seen == (alarm if end > alarm else None)


def test_rollback_watch_without_a_change_takes_the_whole_history():
    rng = np.random.default_rng(14)
    counts = np.full(40, 150)
    means = rng.normal(np.r_[np.full(32, 8.0), np.full(8, 7.3)], 2.2 / np.sqrt(150))
    watch = rollback_watch(means, counts, sd=np.full(40, 2.2), rhythm="monthly")
    assert watch.baseline == tuple(range(40))
    assert watch.center == pytest.approx(means.mean())
    assert not np.isnan(watch.statistic).any()
    assert watch.alarm is not None and watch.alarm >= 32
    stable = rollback_watch(means[:32], counts[:32], sd=2.2, rhythm="monthly")
    assert stable.state == "in_control" and stable.alarm is None


def test_rollback_watch_waits_for_its_baseline():
    watch = rollback_watch([7.0, 8.0, 8.1, 7.2], [100, 100, 0, 100], sd=2.2, change=1)
    assert watch.state == "collecting_baseline" and watch.alarm is None
    assert watch.baseline == (1, 3)
    assert watch.to_dict()["center"] is None


def test_rollback_watch_names_bad_input():
    with pytest.raises(ValueError, match="period 1 has 100 answers but no finite mean"):
        rollback_watch([7.0, None], [100, 100], sd=2.2)
    with pytest.raises(ValueError, match="differ in length"):
        rollback_watch([7.0, 7.1], [100], sd=2.2)
    with pytest.raises(ValueError, match="rhythm"):
        rollback_watch([7.0, 7.1], [100, 100], sd=2.2, rhythm="daily")
    with pytest.raises(ValueError, match="sd must be positive"):
        rollback_watch([7.0, 7.1], [100, 100], sd=0)
    with pytest.raises(ValueError, match="counts: period 0"):
        rollback_watch([7.0, 7.1], [-1, 100], sd=2.2)


@pytest.mark.parametrize(
    ("rhythm", "n", "bound"), [("weekly", 50, 1 / 500), ("weekly", 200, 1 / 500),
                               ("monthly", 50, 1 / 250)]
)  # fmt: skip
def test_stable_touchpoints_rarely_raise_a_roll_back_alarm(rhythm, n, bound):
    """The bound rollback_watch's docstring states: on simulated stable touchpoints (0–10
    answers, sd 2.1, Poisson(n) answers a period, 26 weeks or 12 months at the old level, the
    baseline, then 10 or 20 years watched) false alarms per watched period stay below 1/500
    weekly and 1/250 monthly; measured about 1/1,400–1/2,000 and 1/460 over 2,000 touchpoints
    (bench/README.md). Seeded: 300 touchpoints here, the bound several standard errors away."""
    bench = pytest.importorskip("bench.bench_rollback_watch")
    scenario = bench.Scenario(rhythm, n)
    rate = bench.false_alarm_rate(np.random.default_rng(2026), scenario, 300)
    assert 0 < rate < bound


def test_a_half_point_drop_is_caught_within_weeks():
    bench = pytest.importorskip("bench.bench_rollback_watch")
    delays, early, missed = bench.detection(
        np.random.default_rng(7), bench.Scenario("weekly", 100), 200
    )
    assert np.median(delays) <= 3 and missed == 0
    assert early < 10


def test_rollback_watch_pools_the_baselines_sd_by_its_answers():
    means = [7.0, 8.0, 8.1, 7.9, 8.0]
    counts = [100, 50, 1, 150, 100]
    sd = [2.0, 2.0, np.nan, 3.0, 2.5]  # one answer: no sd of its own
    watch = rollback_watch(means, counts, sd=sd, change=1, baseline=3)
    expected = np.sqrt((49 * 2.0**2 + 149 * 3.0**2) / (49 + 149))
    assert watch.baseline == (1, 2, 3)
    assert watch.sd == pytest.approx(expected)
    assert watch.center == pytest.approx((50 * 8.0 + 8.1 + 150 * 7.9) / 201)
