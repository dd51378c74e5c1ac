"""The journey map's Ibis expressions give the same aggregates on PySpark as on DuckDB.

ARCHITECTURE.md promises that the scans run unchanged on a distributed engine; this runs them on
Spark in local mode (one core, no UI, bound to 127.0.0.1) over the same small Parquet store and
compares: counts and sums exactly, everything computed from them to 1e-9.

Spark needs Java 17: in CI (``CI=true``) a missing Java fails this module loudly; elsewhere it is
skipped with the reason shown.
"""

import dataclasses
import datetime as dt
import logging
import os
import shutil

import pytest

from cxloop.facts.synthetic import generate
from cxloop.insights.journey import JourneyMapQuery
from cxloop.insights.store import FactStore, FactTables, Scope, read_manifest


def _unavailable(reason: str):
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"the Spark comparison cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"the Spark comparison did not run: {reason}")


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        _unavailable("Java is not installed (apt-get install openjdk-17-jre-headless)")
    # Spark would otherwise look up the machine's address and talk about it.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    logging.getLogger("py4j").setLevel(logging.WARNING)  # no chatter when the JVM goes away
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:  # pragma: no cover - pyspark is a test dependency
        _unavailable(f"pyspark cannot be imported ({error}); pip install -e '.[test]'")
    session = (
        SparkSession.builder.master("local[1]")
        .appName("cxloop-insights-test")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.memory", "512m")
        # Short jobs: the quick compiler and a small collector start faster than the defaults.
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.default.parallelism", "1")
        .config("spark.sql.session.timeZone", "UTC")
        # The partition key month ("2025-03") stays a string, as in DuckDB.
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return generate(
        tmp_path_factory.mktemp("facts"), responses=6_000, teams=8, segments=3, years=1, seed=5
    )


@pytest.fixture(scope="module")
def duck(synthetic):
    return FactStore(synthetic.directory, threads=1).tables()


@pytest.fixture(scope="module")
def sparked(spark, synthetic):
    import ibis

    con = ibis.pyspark.connect(spark)
    root = synthetic.directory
    return FactTables(
        answers=con.read_parquet(f"{root}/answers", table_name="answers"),
        responses=con.read_parquet(f"{root}/responses", table_name="responses"),
        customers=con.read_parquet(f"{root}/customers.parquet", table_name="customers"),
        segments=con.read_parquet(f"{root}/segments.parquet", table_name="segments"),
        manifest=read_manifest(root),
    )


def rows(expr) -> list[tuple]:
    table = expr.to_pyarrow()
    values = zip(*(table[c].to_pylist() for c in table.column_names), strict=True)
    return sorted(values, key=lambda row: tuple((v is None, v or 0) for v in row))


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


SCOPES = [
    Scope(),
    Scope(since=dt.date(2025, 2, 10), until=dt.date(2025, 7, 20), segment_id=1),
    Scope(team_ids=(1, 2, 3, 4)),
]


@pytest.mark.parametrize("scope", SCOPES, ids=["everything", "period and segment", "teams"])
def test_it_counts_the_same_histograms_on_spark(synthetic, duck, sparked, scope):
    q = JourneyMapQuery(synthetic.touchpoint_stages, scope=scope, target_segment_id=1)
    on_duckdb, on_spark = q.to_query(duck), q.to_query(sparked)
    expected = rows(on_duckdb.histogram)
    assert expected  # something to compare
    assert rows(on_spark.histogram) == expected
    for segment, members in on_duckdb.members.items():
        assert rows(on_spark.members[segment]) == rows(members)


@pytest.mark.parametrize("fraction", [1.0, 0.3], ids=["every response", "time windows"])
def test_it_draws_the_same_sample_on_spark(synthetic, duck, sparked, fraction):
    q = JourneyMapQuery(synthetic.touchpoint_stages, windows=4, seed=2)
    expected = rows(q.to_query(duck, fraction=fraction).sample)
    assert len(expected) > 1000
    assert rows(q.to_query(sparked, fraction=fraction).sample) == expected


def test_it_computes_the_same_journey_map_on_spark(synthetic, duck, sparked):
    q = JourneyMapQuery(
        synthetic.touchpoint_stages,
        scope=Scope(segment_id=1),
        target_segment_id=1,
        sample_responses=150,
        windows=4,
    )
    on_duckdb = q.calculate(duck)
    assert 0 < on_duckdb.drivers.fraction < 1  # the windowed sample is part of the comparison
    assert on_duckdb.opportunities
    assert_same(on_duckdb, q.calculate(sparked))
