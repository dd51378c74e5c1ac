"""The insights' Ibis expressions give the same results on PySpark as on DuckDB.

ARCHITECTURE.md promises that the scans run unchanged on a distributed engine; this runs them on
Spark in local mode (one core, no UI, bound to 127.0.0.1, in a process of its own: see
``tests/spark_side.py``) over the same small Parquet store and compares: counts and sums
exactly, everything computed from them to 1e-9.

Spark needs Java 17: in CI (``CI=true``) a missing Java fails this module loudly; elsewhere it is
skipped with the reason shown.
"""

import dataclasses
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cxloop.facts.synthetic import generate
from cxloop.insights.store import FactStore
from tests import spark_side

ROOT = Path(__file__).parents[1]


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"the Spark comparison cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"the Spark comparison did not run: {reason}")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    store = generate(
        tmp_path_factory.mktemp("facts"), responses=6_000, teams=8, segments=3, years=1, seed=5
    )
    (Path(store.directory) / "touchpoint_stages.pickle").write_bytes(
        pickle.dumps(store.touchpoint_stages)
    )
    return store


@pytest.fixture(scope="module")
def on_duckdb(synthetic):
    tables = FactStore(synthetic.directory, threads=1).tables()
    return spark_side.run_cases(tables, synthetic.touchpoint_stages)


@pytest.fixture(scope="module")
def on_spark(synthetic, tmp_path_factory):
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        _unavailable("Java is not installed (apt-get install openjdk-17-jre-headless)")
    out = tmp_path_factory.mktemp("spark") / "results.pickle"
    run = subprocess.run(
        [sys.executable, "-m", "tests.spark_side", str(synthetic.directory), str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-4000:]
    return pickle.loads(out.read_bytes())


def assert_same(a, b, path="result"):
    """Equal, ints and strings exactly, floats to 1e-9 (relative, or absolute near zero)."""
    if dataclasses.is_dataclass(a):
        assert type(a) is type(b), path
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            assert_same(a[k], b[k], f"{path}[{k!r}]")
    elif isinstance(a, list | tuple):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and not isinstance(b, bool):
        assert b == pytest.approx(a, rel=1e-9, abs=1e-9), path
    else:
        assert a == b, path


@pytest.mark.parametrize("scope", spark_side.SCOPES)
def test_it_counts_the_same_histograms_on_spark(on_duckdb, on_spark, scope):
    expected = on_duckdb["histogram", scope]
    assert expected  # something to compare
    assert on_spark["histogram", scope] == expected
    members = {key: value for key, value in on_duckdb.items() if key[:2] == ("members", scope)}
    for key, value in members.items():
        assert on_spark[key] == value


@pytest.mark.parametrize("fraction", spark_side.FRACTIONS)
def test_it_draws_the_same_sample_on_spark(on_duckdb, on_spark, fraction):
    expected = on_duckdb["sample", fraction]
    assert len(expected) > 1000
    assert on_spark["sample", fraction] == expected


@pytest.mark.parametrize("query", spark_side.dashboard_queries(((1, 1),)))
def test_it_computes_the_same_dashboards_on_spark(on_duckdb, on_spark, query):
    assert_same(on_duckdb[query], on_spark[query])


def test_it_computes_the_same_journey_map_on_spark(on_duckdb, on_spark):
    on_duck = on_duckdb["journey map"]
    assert 0 < on_duck.drivers.fraction < 1  # the windowed sample is part of the comparison
    assert on_duck.opportunities
    assert_same(on_duck, on_spark["journey map"])
