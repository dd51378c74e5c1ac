"""The Spark half of tests/test_insights_spark.py, run in a process of its own.

    python -m tests.spark_side STORE_DIR OUT_FILE

PySpark starts its JVM with a ``preexec_fn``, which is not safe in a process that already runs
threads (DuckDB's, Playwright's, OpenBLAS's): inside a long test session the fork crashed. Here
a fresh process runs every case on Spark in local mode and pickles the results for the test to
compare with DuckDB's.
"""

import datetime as dt
import logging
import os
import pickle
import sys
from pathlib import Path

from cxloop.facts.store import read_manifest
from cxloop.insights.dashboards import (
    ComparisonQuery,
    OverviewQuery,
    PortfolioQuery,
    TouchpointQuery,
)
from cxloop.insights.journey import JourneyMapQuery
from cxloop.insights.store import FactTables, Scope

SCOPES = {
    "everything": Scope(),
    "period and segment": Scope(
        since=dt.date(2025, 2, 10), until=dt.date(2025, 7, 20), segment_id=1
    ),
    "teams": Scope(team_ids=(1, 2, 3, 4)),
}
FRACTIONS = {"every response": 1.0, "time windows": 0.3}


def histogram_query(touchpoint_stages, scope: Scope) -> JourneyMapQuery:
    return JourneyMapQuery(touchpoint_stages, scope=scope, target_segment_id=1)


def sample_query(touchpoint_stages) -> JourneyMapQuery:
    return JourneyMapQuery(touchpoint_stages, windows=4, seed=2)


def journey_query(touchpoint_stages) -> JourneyMapQuery:
    return JourneyMapQuery(
        touchpoint_stages,
        scope=Scope(segment_id=1),
        target_segment_id=1,
        sample_responses=150,
        windows=4,
    )


def rows(expr) -> list[tuple]:
    table = expr.to_pyarrow()
    values = zip(*(table[c].to_pylist() for c in table.column_names), strict=True)
    return sorted(values, key=lambda row: tuple((v is None, v or 0) for v in row))


def spark_session():
    from pyspark.sql import SparkSession

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
    return session


def spark_tables(session, root: Path) -> FactTables:
    import ibis

    con = ibis.pyspark.connect(session)
    return FactTables(
        answers=con.read_parquet(f"{root}/answers", table_name="answers"),
        responses=con.read_parquet(f"{root}/responses", table_name="responses"),
        customers=con.read_parquet(f"{root}/customers.parquet", table_name="customers"),
        segments=con.read_parquet(f"{root}/segments.parquet", table_name="segments"),
        manifest=read_manifest(base=root),
    )


def run_cases(tables: FactTables, touchpoint_stages) -> dict:
    """Every case's results on ``tables`` (either engine), keyed for the comparison."""
    results = {}
    for name, scope in SCOPES.items():
        expressions = histogram_query(touchpoint_stages, scope).to_query(tables)
        results["histogram", name] = rows(expressions.histogram)
        for segment, members in expressions.members.items():
            results["members", name, segment] = rows(members)
    for name, fraction in FRACTIONS.items():
        sample = sample_query(touchpoint_stages).to_query(tables, fraction=fraction).sample
        results["sample", name] = rows(sample)
    results["journey map"] = journey_query(touchpoint_stages).calculate(tables)
    for name, query in dashboard_queries(touchpoint_stages).items():
        results[name] = query.calculate(tables)
    return results


def dashboard_queries(touchpoint_stages) -> dict:
    touchpoint = touchpoint_stages[0][0]
    scope = SCOPES["period and segment"]
    return {
        "overview": OverviewQuery(scope=Scope()),
        "teams on NPS": ComparisonQuery(scope=Scope(), by="team", metric="nps"),
        "quarters on a rating": ComparisonQuery(
            scope=Scope(), by="period", metric="rating", touchpoint_id=touchpoint, grain="quarter"
        ),
        "segments on CES": ComparisonQuery(scope=scope, by="segment", metric="ces"),
        "touchpoint": TouchpointQuery(scope=Scope(), touchpoint_id=touchpoint),
        "portfolio": PortfolioQuery(
            scope=Scope(), today=dt.date(2025, 12, 31), target_segment_id=1
        ),
    }


def main(store: str, out: str) -> None:
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    root = Path(store)
    touchpoint_stages = pickle.loads((root / "touchpoint_stages.pickle").read_bytes())
    session = spark_session()
    try:
        results = run_cases(spark_tables(session, root), touchpoint_stages)
    finally:
        session.stop()
    Path(out).write_bytes(pickle.dumps(results))


if __name__ == "__main__":
    main(*sys.argv[1:])
