"""Importance–performance analysis: quadrants after Martilla & James (1977) and the ranking."""

import pytest

from cxloop.analytics import DriverImportance, Estimate, importance_performance


def test_it_ranks_by_importance_weighted_shortfall_and_names_quadrants():
    importance = {"billing": 0.20, "onboarding": 0.12, "parking": 0.02, "wifi": 0.06}
    performance = {"billing": 3.1, "onboarding": 4.5, "parking": 3.0, "wifi": 4.4}
    ops = importance_performance(importance, performance, target=4.0)
    assert [o.name for o in ops] == ["billing", "parking", "wifi", "onboarding"]
    quadrant = {o.name: o.quadrant for o in ops}
    assert quadrant == {
        "billing": "concentrate here",
        "onboarding": "keep up the good work",
        "parking": "low priority",
        "wifi": "possible overkill",
    }
    billing = ops[0]
    assert billing.gap == pytest.approx(0.9)
    assert billing.score == pytest.approx(0.20 / 0.40 * 0.9)


def test_it_takes_driver_results_estimates_and_per_item_targets():
    drivers = DriverImportance(0.5, {"a": 0.3, "b": 0.2}, 100)
    performance = {"a": Estimate(70.0, 60.0, 80.0, 50), "b": Estimate(50.0, 40.0, 60.0, 50)}
    ops = importance_performance(drivers, performance, target={"a": 80.0, "b": 40.0})
    assert [(o.name, o.gap) for o in ops] == [("a", 10.0), ("b", -10.0)]
    assert ops[0].to_dict()["quadrant"] == "concentrate here"


def test_default_target_is_the_mean_performance():
    ops = importance_performance({"a": 1.0, "b": 1.0}, {"a": 3.0, "b": 5.0})
    assert {o.name: o.gap for o in ops} == {"a": 1.0, "b": -1.0}


def test_it_names_mismatched_or_bad_items():
    with pytest.raises(ValueError, match="only in importance: \\['c'\\]"):
        importance_performance({"a": 1, "c": 2}, {"a": 3})
    with pytest.raises(ValueError, match="non-negative"):
        importance_performance({"a": -1}, {"a": 3})
    with pytest.raises(ValueError, match="performance\\['a'\\] must be a number"):
        importance_performance({"a": 1}, {"a": "good"})
    with pytest.raises(ValueError, match="target has no value"):
        importance_performance({"a": 1, "b": 1}, {"a": 3, "b": 4}, target={"a": 4})
