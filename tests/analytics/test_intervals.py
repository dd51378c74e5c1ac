"""Every interval contains its estimate (property tests over random counts and answers)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cxloop.analytics import (
    mean_score,
    newcombe_difference,
    nps,
    nps_difference,
    proportion_difference,
    top_box,
    wilson_interval,
)

answers = st.lists(st.integers(0, 10), min_size=1, max_size=300)
confidence = st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99])


@settings(max_examples=150, deadline=None)
@given(answers, confidence, st.sampled_from(["adjusted-wald", "wald"]))
def test_nps_interval_contains_the_nps(values, conf, method):
    e = nps(values, method=method, confidence=conf)
    assert -100.0 <= e.low <= e.value <= e.high <= 100.0


@settings(max_examples=100, deadline=None)
@given(answers, answers, confidence)
def test_nps_difference_interval_contains_the_difference(a, b, conf):
    d = nps_difference(a, b, confidence=conf)
    assert d.low <= d.value <= d.high
    assert 0.0 <= d.p_value <= 1.0


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 5000), st.floats(0, 1), confidence)
def test_wilson_interval_contains_the_proportion(n, share, conf):
    x = int(share * n)
    ci = wilson_interval(x, n, confidence=conf)
    assert 0.0 <= ci.low <= x / n <= ci.high <= 1.0


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 500), st.floats(0, 1), st.integers(1, 500), st.floats(0, 1), confidence)
def test_newcombe_interval_contains_the_difference(n1, s1, n2, s2, conf):
    x1, x2 = int(s1 * n1), int(s2 * n2)
    ci = newcombe_difference(x1, n1, x2, n2, confidence=conf)
    assert -1.0 <= ci.low <= x1 / n1 - x2 / n2 <= ci.high <= 1.0
    d = proportion_difference(x1, n1, x2, n2, confidence=conf)
    assert d.low <= d.value <= d.high


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=2, max_size=200), confidence)
def test_top_box_and_mean_intervals_contain_their_estimates(values, conf):
    t = top_box(values, confidence=conf)
    assert 0.0 <= t.low <= t.value <= t.high <= 100.0
    m = mean_score(values, confidence=conf)
    assert m.low <= m.value <= m.high
    assert m.value == np.mean(values)
