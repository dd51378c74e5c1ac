"""The insights run on Spark (``CXLOOP_ANALYTICS_ENGINE=spark``) and give DuckDB's results.

A real Spark Connect server (``tests/spark_connect.py``: local mode, one core, bound to
127.0.0.1) reads the same Parquet store. The first half compares the query expressions case by
case — counts and sums exactly, everything computed from them to 1e-9. The second half builds
the small demo and renders every page that reads the fact store with each engine: the pages
must be the same.

Spark needs Java 17: in CI (``CI=true``) a missing Java fails this module loudly; elsewhere it is
skipped with the reason shown.
"""

import dataclasses
import datetime as dt
import os
import re
import shutil
import time

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import TestCase, override_settings
from django.urls import reverse

from cxloop import timeouts
from cxloop.demo.build import build_demo
from cxloop.facts.store import read_manifest
from cxloop.facts.sync import rebuild, refresh_months
from cxloop.facts.synthetic import generate
from cxloop.insights import store as insights_store
from cxloop.insights.dashboards import (
    ComparisonQuery,
    LeaderboardQuery,
    OverviewQuery,
    PortfolioQuery,
    TouchpointQuery,
)
from cxloop.insights.dashboards.scorecard import ScorecardScoresQuery
from cxloop.insights.journey import JourneyMapQuery
from cxloop.insights.store import FactStore, FactTables, Scope, SparkFactStore, engine_failed
from cxloop.journeys.models import Touchpoint
from cxloop.surveys.models import Response, ResponseState
from cxloop.test import OwnFactStore
from tests import spark_connect
from tests.demo.test_demo import TRUTH

SCOPES = {
    "everything": Scope(),
    "period and segment": Scope(
        since=dt.date(2025, 2, 10), until=dt.date(2025, 7, 20), segment_id=1
    ),
    "teams": Scope(team_ids=(1, 2, 3, 4)),
}
FRACTIONS = {"every response": 1.0, "time windows": 0.3}


@pytest.fixture(scope="module")
def spark_remote(tmp_path_factory):
    reason = spark_connect.unavailable()
    if reason is not None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"the Spark comparison cannot run in CI: {reason}", pytrace=False)
        pytest.skip(f"the Spark comparison did not run: {reason}")
    log = tmp_path_factory.mktemp("spark") / "connect-server.log"
    with spark_connect.running(log) as server:
        yield server.remote


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    return generate(
        tmp_path_factory.mktemp("facts"), responses=6_000, teams=8, segments=3, years=1, seed=5
    )


@pytest.fixture(scope="module")
def on_duckdb(synthetic):
    tables = FactStore(synthetic.directory, threads=1).tables()
    return run_cases(tables, synthetic.touchpoint_stages)


@pytest.fixture(scope="module")
def on_spark(synthetic, spark_remote):
    store = SparkFactStore(synthetic.directory, remote=spark_remote)
    try:
        return run_cases(store.tables(), synthetic.touchpoint_stages)
    finally:
        store.close()


def run_cases(tables: FactTables, touchpoint_stages) -> dict:
    """Every case's results on ``tables`` (either engine), keyed for the comparison."""
    results = {}
    for name, scope in SCOPES.items():
        expressions = histogram_query(touchpoint_stages, scope).to_query(tables)
        results["histogram", name] = rows(expressions.histogram)
        for segment, members in expressions.members.items():
            results["members", name, segment] = rows(members)
        if expressions.moments is not None:
            results["moments", name] = rows(expressions.moments)
    for name, fraction in FRACTIONS.items():
        sample = sample_query(touchpoint_stages).to_query(tables, fraction=fraction).sample
        results["sample", name] = rows(sample)
    results["journey map"] = journey_query(touchpoint_stages, use_moments=False).calculate(tables)
    results["journey map, moments"] = journey_query(touchpoint_stages).calculate(tables)
    for name, query in dashboard_queries(touchpoint_stages).items():
        results[name] = query.calculate(tables)
    return results


def histogram_query(touchpoint_stages, scope: Scope) -> JourneyMapQuery:
    return JourneyMapQuery(touchpoint_stages, scope=scope, target_segment_id=1)


def sample_query(touchpoint_stages) -> JourneyMapQuery:
    return JourneyMapQuery(touchpoint_stages, windows=4, seed=2)


def journey_query(touchpoint_stages, **options) -> JourneyMapQuery:
    return JourneyMapQuery(
        touchpoint_stages,
        scope=Scope(segment_id=1),
        target_segment_id=1,
        sample_responses=150,
        windows=4,
        **options,
    )


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
        # Counted: whole months from answer_counts' rows per segment, the cut ones scanned.
        "segments on CSAT in a period": ComparisonQuery(
            scope=dataclasses.replace(scope, segment_id=None), by="segment", metric="csat"
        ),
        "touchpoint": TouchpointQuery(scope=Scope(), touchpoint_id=touchpoint),
        "portfolio": PortfolioQuery(
            scope=Scope(), today=dt.date(2025, 12, 31), target_segment_id=1
        ),
        "team leaderboard": LeaderboardQuery(scope=scope, by="team", min_n=5),
        "scorecard scores": ScorecardScoresQuery(scope=Scope(), by="team"),
        "scorecard scores in a period and segment": ScorecardScoresQuery(scope=scope, by="team"),
    }


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
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-9, err_msg=path)
    elif isinstance(a, float) and not isinstance(b, bool):
        assert b == pytest.approx(a, rel=1e-9, abs=1e-9), path
    else:
        assert a == b, path


@pytest.mark.parametrize("scope", SCOPES)
def test_it_counts_the_same_histograms_on_spark(on_duckdb, on_spark, scope):
    expected = on_duckdb["histogram", scope]
    assert expected  # something to compare
    assert on_spark["histogram", scope] == expected
    members = {key: value for key, value in on_duckdb.items() if key[:2] == ("members", scope)}
    for key, value in members.items():
        assert on_spark[key] == value
    if ("moments", scope) in on_duckdb:
        assert on_spark["moments", scope] == on_duckdb["moments", scope]


@pytest.mark.parametrize("fraction", FRACTIONS)
def test_it_draws_the_same_sample_on_spark(on_duckdb, on_spark, fraction):
    expected = on_duckdb["sample", fraction]
    assert len(expected) > 1000
    assert on_spark["sample", fraction] == expected


@pytest.mark.parametrize("query", dashboard_queries(((1, 1),)))
def test_it_computes_the_same_dashboards_on_spark(on_duckdb, on_spark, query):
    assert_same(on_duckdb[query], on_spark[query])


def test_it_computes_the_same_journey_map_on_spark(on_duckdb, on_spark):
    on_duck = on_duckdb["journey map"]
    assert 0 < on_duck.drivers.fraction < 1  # the windowed sample is part of the comparison
    assert on_duck.opportunities
    assert_same(on_duck, on_spark["journey map"])


def test_it_computes_the_same_journey_map_from_the_moments_on_spark(on_duckdb, on_spark):
    on_duck = on_duckdb["journey map, moments"]
    assert on_duck.drivers.fraction == 1.0  # every response, from answer_moments
    assert on_duck.opportunities
    assert_same(on_duck, on_spark["journey map, moments"])


def test_it_reads_only_the_months_of_the_manifest_on_spark(synthetic, spark_remote, tmp_path):
    """A month's files that the manifest does not list (being written, or left behind) are not
    read, as on DuckDB."""
    copy = tmp_path / "facts"
    shutil.copytree(synthetic.directory, copy)
    listed = read_manifest(base=copy).months
    first = min(listed)
    for table in ("responses", "answers"):
        stray = copy / table / "month=2031-01"
        stray.mkdir()
        shutil.copy(copy / table / f"month={first}" / "part-0.parquet", stray)
    store = SparkFactStore(copy, remote=spark_remote)
    try:
        responses = store.tables().responses
        counted = rows(responses.group_by("month").aggregate(n=responses.count()))
    finally:
        store.close()
    assert dict(counted) == {month: counts.responses for month, counts in listed.items()}


# --- the pages, on each engine -------------------------------------------------------------------

# Values that differ from one rendering to the next whatever the engine.
VOLATILE = re.compile(rb'(name="csrfmiddlewaretoken" value=|nonce=)"[^"]*"')
# The charts' data carry floats at full precision: the engines add floats in their own order,
# so these agree to about 1e-15, not to the last digit. Compared to 10 significant digits.
FULL_PRECISION = re.compile(rb"-?\d+\.\d{10,}(?:e-?\d+)?")


def _ten_digits(match: re.Match) -> bytes:
    return b"%.10g" % float(match.group())


def month_of(moment: dt.datetime) -> str:
    return f"{moment.astimezone(dt.UTC):%Y-%m}"


@pytest.fixture(scope="class")
def _remote_for_class(request, spark_remote):
    request.cls.remote = spark_remote


@pytest.mark.usefixtures("_remote_for_class")
class SparkPagesTests(OwnFactStore, TestCase):
    """Every page that reads the fact store, on the small demo, is the same on Spark."""

    @classmethod
    def setUpTestData(cls):
        build_demo(TRUTH, size="small", progress=False)
        # The last month as a refresh leaves it: its latest responses appended as a part of
        # their own (completed after the month was written), its comments written again.
        completed = Response.objects.filter(state=ResponseState.COMPLETED)
        month = month_of(completed.latest("submitted_at").submitted_at)
        late = list(completed.order_by("-submitted_at").values_list("pk", flat=True)[:40])
        completed.filter(pk__in=late).update(state=ResponseState.PARTIAL)
        rebuild()
        Response.objects.filter(pk__in=late).update(state=ResponseState.COMPLETED)
        refresh_months([month], appended=True)
        assert len(read_manifest().months[month].parts["answers"]) == 2
        cls.touchpoint = Touchpoint.objects.order_by("stage__order", "order").first()

    def setUp(self):
        self.client.force_login(get_user_model().objects.get(username="cx.lead"))

    def page(self, url: str, **engine) -> bytes:
        cache.clear()  # the results of the other engine would be served from the cache
        insights_store._local.stores = {}
        # The comparison is of the numbers, not of the time: a busy machine's first queries on
        # the JVM may take more than the request deadline (tested on its own below).
        with override_settings(REQUEST_TIMEOUT=120, **engine):
            response = self.client.get(url, HTTP_ACCEPT_LANGUAGE="en")
            self.assertEqual(response.status_code, 200, url)
            stores = list(insights_store._local.stores.values())
        wanted = engine.get("ANALYTICS_ENGINE", "duckdb")
        self.assertTrue(stores, f"{url} did not read the fact store")
        self.assertEqual({s.engine for s in stores}, {wanted}, url)
        for store in stores:
            if isinstance(store, SparkFactStore):
                store.close()
        return FULL_PRECISION.sub(_ten_digits, VOLATILE.sub(rb"\1-", response.content))

    def test_every_insights_page_is_the_same_on_spark(self):
        since, until = TRUTH.start, TRUTH.end
        pages = [
            reverse("journey_map") + "?segment=all",
            reverse("journey_map"),
            reverse("overview"),
            reverse("compare") + "?by=team&metric=nps",
            reverse("compare") + "?by=period&metric=csat&grain=quarter",
            reverse("portfolio"),
            reverse("executive_dashboard"),
            reverse("touchpoint_detail", args=[self.touchpoint.pk]),
            reverse("weigh_in"),
            reverse("scorecard_list"),
            reverse("theme_impact"),
        ]
        spark = {"ANALYTICS_ENGINE": "spark", "SPARK_REMOTE": self.remote}
        for url in pages:
            url += ("&" if "?" in url else "?") + f"since={since}&until={until}"
            with self.subTest(url=url):
                on_duckdb = self.page(url)
                self.assertEqual(self.page(url, **spark), on_duckdb)

    # No Spark Connect server where the settings say: the pages that need it answer 503 with a
    # message, fast, and /healthz names the analytics check.

    def nowhere(self):
        return override_settings(
            ANALYTICS_ENGINE="spark", SPARK_REMOTE=f"sc://127.0.0.1:{spark_connect.free_port()}"
        )

    def test_a_page_that_needs_spark_down_says_it_is_unavailable(self):
        cache.clear()
        insights_store._local.stores = {}
        for language, words in (("en", "analytics engine"), ("ru", "аналитики")):
            started = time.monotonic()
            with self.nowhere():
                response = self.client.get(reverse("journey_map"), HTTP_ACCEPT_LANGUAGE=language)
            self.assertLess(time.monotonic() - started, 15)
            self.assertEqual(response.status_code, 503)
            self.assertEqual(response["Retry-After"], "30")
            self.assertContains(response, words, status_code=503)

    def test_healthz_fails_its_analytics_check_when_spark_is_down(self):
        insights_store._local.stores = {}
        with self.nowhere():
            response = self.client.get("/healthz")
        self.assertEqual(response.status_code, 503)
        check = response.json()["checks"]["analytics"]
        self.assertEqual((check["ok"], check.get("error")), (False, True))


# --- when Spark fails ----------------------------------------------------------------------------


def test_a_query_past_the_requests_deadline_is_interrupted(synthetic, spark_remote):
    """The watchdog stops what the session runs once the deadline of the request that read the
    tables passes; the error is the engine's, which the middleware answers with a 503."""
    store = SparkFactStore(synthetic.directory, remote=spark_remote)
    answers = store.tables().answers  # registered before the deadline is set
    token = timeouts._deadline.set(time.monotonic() + 1.0)
    try:
        answers = store.tables().answers  # the request's reading: armed with its deadline
        a, b, c = (answers.select(**{name: answers.score}) for name in "abc")
        endless = a.cross_join(b).cross_join(c).count()  # 10¹³ rows
        started = time.monotonic()
        with pytest.raises(Exception) as stopped:
            endless.execute()
        assert engine_failed(stopped.value)
        assert time.monotonic() - started < 10
    finally:
        timeouts._deadline.reset(token)
        store.close()
    assert store._deadline is None  # interrupted once for that deadline, not again


def test_healthz_passes_its_analytics_check_on_a_running_server(spark_remote, client, db):
    insights_store._local.stores = {}
    with override_settings(ANALYTICS_ENGINE="spark", SPARK_REMOTE=spark_remote):
        check = client.get("/healthz").json()["checks"]["analytics"]
    assert check["ok"] and check["engine"] == "spark"
