"""Result objects: frozen, JSON-ready through to_dict()."""

import dataclasses
import json

import numpy as np
import pytest

from cxloop.analytics import (
    ControlChart,
    Difference,
    DriverImportance,
    Estimate,
    Interval,
    ewma_chart,
)


def test_it_gives_plain_dicts():
    assert Interval(0.1, 0.2).to_dict() == {"low": 0.1, "high": 0.2}
    e = Estimate(np.float64(40.0), np.float64(20.0), 55.5, np.int64(50))
    d = e.to_dict()
    assert d == {"value": 40.0, "low": 20.0, "high": 55.5, "n": 50}
    assert type(d["value"]) is float and type(d["n"]) is int
    json.dumps(d)


def test_it_is_frozen():
    e = Estimate(1.0, 0.0, 2.0, 3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.value = 5.0  # type: ignore[misc]


def test_difference_is_an_estimate_with_a_test():
    d = Difference(3.0, 1.0, 5.0, 10, statistic=2.5, p_value=0.01, test="z")
    assert isinstance(d, Estimate)
    assert d.z == 2.5
    assert d.interval == Interval(1.0, 5.0)
    assert d.to_dict()["p_value"] == 0.01


def test_it_serialises_nested_results_and_arrays():
    res = DriverImportance(0.5, {"a": 0.3, "b": 0.2}, 10, {"a": Interval(0.1, 0.4)})
    out = res.to_dict()
    assert out["intervals"]["a"] == {"low": 0.1, "high": 0.4}
    chart = ewma_chart([1.0, 2.0, 3.0], lam=0.5, target=2.0, sigma=1.0)
    assert isinstance(chart, ControlChart)
    as_json = json.loads(json.dumps(chart.to_dict()))
    assert as_json["statistic"] == [1.5, 1.75, 2.375]
    assert as_json["signals"] == []


def test_normalized_importances_sum_to_one():
    res = DriverImportance(0.5, {"a": 0.3, "b": 0.2}, 10)
    assert sum(res.normalized().values()) == pytest.approx(1.0)
    assert res.ranking() == ["a", "b"]
