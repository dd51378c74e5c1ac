"""The journey map's data (cxloop.insights.journey) on a small synthetic fact store.

Every number is checked against values computed here, independently, with pandas, SciPy and
statsmodels from the same Parquet files; the importances against the weights the generator planted
(cxloop.facts.synthetic).
"""

import datetime as dt
import json
import math
import shutil

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from django.core.cache import cache
from django.test import override_settings
from scipy import stats
from statsmodels.stats.multitest import multipletests

from cxloop.analytics import QUADRANTS, nps_difference_from_counts
from cxloop.facts.derived import SAMPLE_SHARE, draws
from cxloop.facts.schema import MONTHLY
from cxloop.facts.synthetic import generate
from cxloop.insights.journey import MIN_N, JourneyMapQuery, _history, _history_of_histogram
from cxloop.insights.store import FactStore, Scope, cache_key

LOCMEM = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    directory = tmp_path_factory.mktemp("facts")
    return generate(directory, responses=24_000, teams=12, segments=4, years=1, seed=3)


@pytest.fixture(scope="module")
def store(synthetic):
    return FactStore(synthetic.directory, threads=2)


@pytest.fixture(scope="module")
def answers(synthetic):
    frame = pd.read_parquet(f"{synthetic.directory}/answers")
    frame["month"] = frame["month"].astype(str)
    return frame


@pytest.fixture(scope="module")
def segments(synthetic):
    return pd.read_parquet(f"{synthetic.directory}/segments.parquet")


def query(synthetic, **kwargs):
    return JourneyMapQuery(synthetic.touchpoint_stages, **kwargs)


# -- independent reference values ---------------------------------------------------------------


def t_interval(values: pd.Series):
    n = len(values)
    mean = values.mean()
    half = stats.t.ppf(0.975, n - 1) * values.std(ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half, n


def wilson(x: int, n: int):
    """Wilson (1927) score interval, 95 %."""
    z = stats.norm.ppf(0.975)
    center = (x + z * z / 2) / (n + z * z)
    half = z / (n + z * z) * math.sqrt(x * (n - x) / n + z * z / 4)
    return max(0.0, center - half), min(1.0, center + half)


def adjusted_wald_nps(scores: pd.Series):
    """NPS with the adjusted-Wald interval of Sauro & Lewis (2016): P, D += ¾, n += 3."""
    n = len(scores)
    promoters, detractors = int((scores >= 9).sum()), int((scores <= 6).sum())
    value = (promoters - detractors) / n
    p, d = (promoters + 0.75) / (n + 3), (detractors + 0.75) / (n + 3)
    se = math.sqrt((p + d - (p - d) ** 2) / (n + 3))
    z = stats.norm.ppf(0.975)
    low, high = max(-1.0, p - d - z * se), min(1.0, p - d + z * se)
    return 100 * value, 100 * min(low, value), 100 * max(high, value), n


def in_scope(answers, segments, scope: Scope):
    rows = answers
    if scope.since is not None:
        rows = rows[rows.submitted_at >= pd.Timestamp(scope.since, tz="UTC")]
    if scope.until is not None:
        rows = rows[rows.submitted_at < pd.Timestamp(scope.until + dt.timedelta(days=1), tz="UTC")]
    if scope.team_ids is not None:
        rows = rows[rows.team_id.isin(scope.team_ids)]
    if scope.segment_id is not None:
        members = segments.loc[segments.segment_id == scope.segment_id, "customer_id"]
        rows = rows[rows.customer_id.isin(members)]
    return rows


def ranking(fit):
    return sorted(fit.importance, key=lambda t: -fit.importance[t])


# -- tests ----------------------------------------------------------------------------------------


def test_it_ranks_the_planted_strongest_drivers_first(synthetic, store):
    result = query(synthetic, target_segment_id=synthetic.target_segment_id).calculate(
        store.tables()
    )
    assert result.drivers.fraction == 1.0  # small store: every response, no sample
    assert ranking(result.drivers.filtered)[:3] == list(synthetic.strongest)
    # The touchpoint planted to matter to the target segment matters more there than elsewhere.
    target, rest = result.drivers.target, result.drivers.rest
    driver = synthetic.target_driver
    assert driver in ranking(target)[:4]
    assert target.share(driver) > 2 * rest.share(driver)
    assert sum(result.drivers.filtered.importance.values()) == pytest.approx(result.drivers.r2)
    shares = [c.importance_share for c in result.cards]
    assert sum(shares) == pytest.approx(1.0)


def test_it_matches_pandas_for_every_score(synthetic, store, answers):
    result = query(synthetic).calculate(store.tables())
    ratings = answers[answers.kind == "rating"]
    for card in result.cards:
        tp = card.touchpoint_id
        rated = ratings.loc[ratings.touchpoint_id == tp, "score"].astype(float)
        mean, low, high, n = t_interval(rated)
        assert (card.n, card.score.n) == (n, n)
        assert card.score.value == pytest.approx(mean, abs=1e-12)
        assert (card.score.low, card.score.high) == pytest.approx((low, high), abs=1e-9)
        top = int((rated >= 4).sum())
        assert card.top_box.value == pytest.approx(100 * top / n, abs=1e-12)
        assert (card.top_box.low, card.top_box.high) == pytest.approx(
            tuple(100 * v for v in wilson(top, n)), abs=1e-9
        )
        csat = answers.loc[(answers.kind == "csat") & (answers.touchpoint_id == tp), "score"]
        if len(csat):
            assert card.csat.n == len(csat)
            assert card.csat.value == pytest.approx(100 * (csat >= 4).mean(), abs=1e-12)
        ces = answers.loc[(answers.kind == "ces") & (answers.touchpoint_id == tp), "score"]
        if len(ces) > 1:
            assert card.ces.value == pytest.approx(ces.astype(float).mean(), abs=1e-12)
        assert card.volume == int((answers.touchpoint_id == tp).sum())
        assert card.low_n is (n < MIN_N)

        by_month = ratings[ratings.touchpoint_id == tp].groupby("month")["score"]
        expected = {m: (len(s), s.astype(float).mean()) for m, s in by_month}
        for point in card.trend:
            count, value = expected.get(point.month, (0, None))
            assert point.n == count
            if count >= 2:
                assert point.score.value == pytest.approx(value, abs=1e-12)

    nps = answers.loc[answers.kind == "nps", "score"].astype(int)
    value, low, high, n = adjusted_wald_nps(nps)
    assert result.nps.n == n
    assert (result.nps.value, result.nps.low, result.nps.high) == pytest.approx(
        (value, low, high), abs=1e-9
    )


def test_it_pools_the_ratings_of_a_stage_with_an_honest_interval(synthetic, store, answers):
    """Against statsmodels: OLS of the stage's ratings on their touchpoints' dummies with
    standard errors clustered by response (Liang & Zeger, 1986; no small-sample factor) gives
    the pooled mean as ``w @ beta`` (``w_t = n_t / N``) and its standard error. The map takes
    the cross terms from pairwise covariances (each pair about its own means), so the standard
    errors agree to 1e-3, not exactly."""
    result = query(synthetic).calculate(store.tables())
    assert result.drivers.fraction == 1.0  # the cross terms come from every response
    ratings = answers[answers.kind == "rating"]
    for stage in result.stages:
        rows = ratings[ratings.touchpoint_id.isin(stage.touchpoint_ids)]
        mean, naive_low, naive_high, n = t_interval(rows.score.astype(float))
        assert stage.n == n
        assert stage.score.value == pytest.approx(mean, abs=1e-12)
        dummies = pd.get_dummies(rows.touchpoint_id).astype(float)
        fit = sm.OLS(rows.score.astype(float).to_numpy(), dummies.to_numpy()).fit(
            cov_type="cluster",
            cov_kwds={"groups": rows.response_id.to_numpy(), "use_correction": False},
        )
        w = dummies.sum().to_numpy() / n
        se = math.sqrt(w @ fit.cov_params() @ w)
        half = stats.t.ppf(0.975, n - 1) * se
        assert stage.score.value == pytest.approx(w @ fit.params, abs=1e-12)
        assert stage.score.high - stage.score.value == pytest.approx(half, rel=1e-3)
        # One response rates several touchpoints of a stage and its ratings share the customer's
        # halo, so the honest interval is wider than one that treats every rating as independent.
        assert stage.score.high - stage.score.low > naive_high - naive_low


@pytest.mark.parametrize(
    "scope",
    [
        Scope(since=dt.date(2025, 2, 10), until=dt.date(2025, 6, 20)),
        Scope(since=dt.date(2025, 3, 1), until=dt.date(2025, 3, 31)),
        Scope(since=dt.date(2025, 4, 5), until=dt.date(2025, 4, 24), segment_id=3),
        Scope(segment_id=2),
        Scope(team_ids=(1, 2, 3)),
        Scope(since=dt.date(2025, 5, 3), segment_id=1, team_ids=[4, 5, 6, 7]),
    ],
    ids=["period", "one month", "inside a month", "segment", "teams", "all three"],
)
def test_it_filters_by_period_segment_and_teams(synthetic, store, answers, segments, scope):
    result = query(synthetic, scope=scope).calculate(store.tables())
    rows = in_scope(answers, segments, scope)
    ratings = rows[rows.kind == "rating"]
    assert len(ratings) < len(answers[answers.kind == "rating"])  # the filter does something
    for card in result.cards:
        rated = ratings.loc[ratings.touchpoint_id == card.touchpoint_id, "score"].astype(float)
        assert card.n == len(rated)
        assert card.volume == int((rows.touchpoint_id == card.touchpoint_id).sum())
        if len(rated) >= 2:
            assert card.score.value == pytest.approx(rated.mean(), abs=1e-12)
    nps = rows.loc[rows.kind == "nps", "score"]
    assert result.nps.n == len(nps)
    assert result.nps.value == pytest.approx(
        100 * ((nps >= 9).mean() - (nps <= 6).mean()), abs=1e-9
    )
    months = sorted(set(rows.month))
    assert list(result.months) == months
    nps_rows = rows[rows.kind == "nps"]
    assert [p.n for p in result.nps_trend] == [int((nps_rows.month == m).sum()) for m in months]


@pytest.mark.parametrize(
    "scope",
    [
        Scope(team_ids=()),
        Scope(since=dt.date(2031, 1, 1)),
        Scope(since=dt.date(2025, 6, 1), until=dt.date(2025, 5, 1)),
        Scope(segment_id=999),
        Scope(team_ids=(999,)),
    ],
    ids=["no visible team", "after the data", "reversed period", "unknown segment", "no team data"],
)
def test_it_returns_a_valid_empty_map_for_an_empty_scope(synthetic, store, scope):
    result = query(synthetic, scope=scope, target_segment_id=1).calculate(store.tables())
    assert result.empty
    assert result.opportunities == ()
    assert all(c.n == 0 and c.score is None and c.importance is None for c in result.cards)
    assert all(s.score is None and s.low_n for s in result.stages)
    assert result.drivers.filtered is None
    json.dumps(result.to_dict())  # the page and the API can still serialise it


def test_it_explains_each_opportunity(synthetic, store):
    result = query(
        synthetic, scope=Scope(segment_id=1), target_segment_id=synthetic.target_segment_id
    ).calculate(store.tables())
    ops = result.opportunities
    assert [o.rank for o in ops] == list(range(1, len(ops) + 1))
    assert [o.score for o in ops] == sorted((o.score for o in ops), reverse=True)
    best = max(o.performance for o in ops)
    mean_performance = np.mean([o.performance for o in ops])
    for o in ops:
        card = result.card(o.touchpoint_id)
        assert (card.rank, card.quadrant, card.opportunity) == (o.rank, o.quadrant, o.score)
        assert o.quadrant in QUADRANTS
        assert o.performance == card.score.value
        assert o.target == pytest.approx(mean_performance)
        assert o.gap == pytest.approx(o.target - o.performance)
        assert o.gap_to_best == pytest.approx(best - o.performance)
        assert o.score == pytest.approx(o.importance * o.gap)
        # The filter is the target segment, so its importance is the target's.
        assert o.target_segment_importance == pytest.approx(o.importance)
        assert o.target_weight == pytest.approx(o.target_segment_importance / o.rest_importance)
        below = o.gap >= 0.05
        to_target = o.target_weight >= 1.2
        assert o.reason == ("target" if to_target else "important") + (
            "_below" if below else "_above"
        )
        assert f"{100 * o.importance:.0f} % of what drives NPS" in o.explanation
    planted = next(o for o in ops if o.touchpoint_id == synthetic.target_driver)
    assert planted.target_weight > 2
    assert planted.reason.startswith("target_")


def test_it_samples_a_large_scope_and_keeps_the_scores_exact(synthetic, store):
    tables = store.tables()
    whole = query(synthetic).calculate(tables)
    sampled = query(synthetic, use_moments=False, sample_responses=1_500, windows=12)
    sampled = sampled.calculate(tables)
    assert 0.1 < sampled.drivers.fraction < 0.5
    expected = sampled.drivers.fraction * whole.drivers.responses
    assert sampled.drivers.responses == pytest.approx(expected, rel=0.25)
    assert ranking(sampled.drivers.filtered)[0] == synthetic.strongest[0]
    assert [c.score for c in sampled.cards] == [c.score for c in whole.cards]
    assert [c.trend for c in sampled.cards] == [c.trend for c in whole.cards]
    windows = query(synthetic, sample_responses=1_500, windows=12).sample_windows(
        tables, sampled.drivers.fraction
    )
    assert len(windows) == 12
    assert all(a[1] <= b[0] for a, b in zip(windows, windows[1:], strict=False))


@pytest.mark.parametrize(
    ("scope", "journey"),
    [
        (Scope(), "whole"),
        (Scope(since=dt.date(2025, 3, 1), until=dt.date(2025, 8, 31), segment_id=2), "whole"),
        (Scope(), "without its last touchpoint"),
    ],
    ids=["everything", "months of a segment", "a journey without a rated touchpoint"],
)
def test_the_drivers_from_the_stored_moments_are_those_of_every_response(
    synthetic, store, scope, journey
):
    stages = synthetic.touchpoint_stages
    if journey != "whole":
        stages = stages[:-1]
    tables = store.tables()
    common = dict(scope=scope, target_segment_id=synthetic.target_segment_id)
    q = JourneyMapQuery(stages, **common)
    assert q.exact_drivers(tables)
    exact = q.calculate(tables)
    # The same responses pivoted one by one: a sample as large as the population.
    every = JourneyMapQuery(stages, **common, use_moments=False, sample_responses=10**9)
    every = every.calculate(tables)
    assert (exact.drivers.fraction, every.drivers.fraction) == (1.0, 1.0)
    assert exact.drivers.responses == every.drivers.responses > 0
    for name in ("filtered", "target", "rest"):
        fit, reference = getattr(exact.drivers, name), getattr(every.drivers, name)
        assert (fit.responses, fit.n) == (reference.responses, reference.n)
        assert fit.r2 == pytest.approx(reference.r2, abs=1e-9)
        assert fit.importance == pytest.approx(reference.importance, abs=1e-9)
    for stage, reference in zip(exact.stages, every.stages, strict=True):
        assert stage.score == pytest.approx(reference.score, abs=1e-9)
    # The moments answer in one read, with no sample and no list of a segment's customers.
    names = set(q.to_query(tables))
    assert "moments" in names and not any(n.startswith("members:") for n in names)


def test_the_moments_are_not_used_where_they_do_not_hold_the_scope(synthetic, store):
    tables = store.tables()
    for scope in (Scope(team_ids=(1, 2)), Scope(since=dt.date(2025, 3, 15))):
        assert not query(synthetic, scope=scope).exact_drivers(tables)
        assert "moments" not in query(synthetic, scope=scope).to_query(tables)
    assert not query(synthetic, use_moments=False).exact_drivers(tables)


def test_a_small_sample_is_the_stored_sample_of_the_responses_drawn(synthetic, store, answers):
    tables = store.tables()
    sampled = query(synthetic, use_moments=False, sample_responses=300).calculate(tables)
    fraction = sampled.drivers.fraction
    assert 0 < fraction <= SAMPLE_SHARE
    ids = [t for t, _ in synthetic.touchpoint_stages]
    rated = answers[(answers.kind == "rating") & answers.touchpoint_id.isin(ids)]
    drawn = rated[draws(rated.response_id.to_numpy()) < fraction]
    assert sampled.drivers.responses == drawn.response_id.nunique()
    assert ranking(sampled.drivers.filtered)[0] == synthetic.strongest[0]
    whole = query(synthetic).calculate(tables)
    assert [c.score for c in sampled.cards] == [c.score for c in whole.cards]


@pytest.mark.parametrize(
    "scope",
    [Scope(), Scope(until=dt.date(2025, 8, 31), segment_id=2), Scope(team_ids=(1, 2))],
    ids=["everything", "to a month's end, a segment", "teams"],
)
def test_the_history_summed_from_the_histogram_is_the_history_counted(synthetic, store, scope):
    q = query(synthetic, scope=scope)
    expressions = q.to_query(store.tables())
    assert "history" not in expressions  # summed from the histogram, not counted again
    ids = [t for t, _ in synthetic.touchpoint_stages]
    summed = _history_of_histogram(expressions.histogram.to_pyarrow(), ids)
    assert summed == _history(q.history_query(store.tables()).to_pyarrow())
    assert sum(n for months in summed.values() for _top, n in months.values()) > 0


def test_it_reads_only_the_months_in_the_manifest(synthetic, tmp_path):
    copy = tmp_path / "facts"
    shutil.copytree(synthetic.directory, copy)
    before = query(synthetic).calculate(FactStore(copy).tables())
    # A month being written (files in place, manifest not yet) is not read.
    for table in set(MONTHLY) - {"comments"}:  # a synthetic store has no comments
        shutil.copytree(copy / table / "month=2025-03", copy / table / "month=2030-01")
    after = query(synthetic).calculate(FactStore(copy).tables())
    assert [c.n for c in after.cards] == [c.n for c in before.cards]
    assert after.months == before.months


@override_settings(CACHES=LOCMEM)
def test_it_caches_per_data_version(synthetic, tmp_path):
    cache.clear()
    copy = tmp_path / "facts"
    shutil.copytree(synthetic.directory, copy)
    store = FactStore(copy)
    q = query(synthetic, scope=Scope(segment_id=1), target_segment_id=1)
    first = q.run(store=store)
    assert first.version == synthetic.version

    # New files under the same version: the cached result is served.
    manifest = json.loads((copy / "manifest.json").read_text())
    rewritten = generate(copy, responses=6_000, teams=12, segments=4, years=1, seed=11)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert q.run(store=store) == first
    assert q.run(store=store, cache=False) != first  # bypassing the cache reads the new files

    # A new version gives a fresh result.
    manifest["version"] = rewritten.version
    (copy / "manifest.json").write_text(json.dumps(manifest))
    fresh = q.run(store=store)
    assert fresh.version == rewritten.version
    assert [c.n for c in fresh.cards] != [c.n for c in first.cards]
    assert fresh.cards[0].n < first.cards[0].n  # a quarter of the responses
    # Other filters are other entries.
    assert query(synthetic).run(store=store).scope == Scope()
    assert cache_key(q, "v1") != cache_key(query(synthetic, scope=Scope(segment_id=2)), "v1")


def test_it_returns_an_empty_map_before_the_store_is_written(synthetic, tmp_path):
    result = query(synthetic).run(store=FactStore(tmp_path))
    assert result.empty
    assert result.version is None
    assert result.months == ()
    assert [c.touchpoint_id for c in result.cards] == [t for t, _ in synthetic.touchpoint_stages]


def test_it_badges_the_planted_roll_back_reading_history_before_the_period(synthetic, store):
    """The generator drops one touchpoint by 0.6 rating points for the last six months
    (2025-05 on): a map of only the last three months still badges it, from May, because the
    control chart reads the months before the period; and it badges nothing else down."""
    late = query(synthetic, scope=Scope(since=dt.date(2025, 9, 1))).run(store=store)
    assert late.grain == "month"
    drops = [c for c in late.cards if c.signal and c.signal.direction == "down"]
    assert [(c.signal.since, c.signal.message) for c in drops] == [("2025-05", "signal_down")]
    assert "fell from" in drops[0].signal.reason
    rolled_back = drops[0].touchpoint_id
    # Before the drop, the same touchpoint has no badge.
    early = query(synthetic, scope=Scope(until=dt.date(2025, 3, 31))).run(store=store)
    assert early.card(rolled_back).signal is None
    json.dumps(late.to_dict())


def test_it_says_what_changed_against_the_previous_period(synthetic, store, answers):
    """The last six months against the six before: the planted roll-back (−0.6 from 2025-05)
    is a significant drop, recomputed here with SciPy's Welch test and statsmodels-free BH; a
    card's trend arrow appears only for significant changes."""
    scope = Scope(since=dt.date(2025, 5, 1), until=dt.date(2025, 10, 31))
    result = query(synthetic, scope=scope).run(store=store)
    assert result.previous == ("2024-11-01", "2025-04-30")
    ratings = answers[answers.kind == "rating"]
    now = ratings[(ratings.month >= "2025-05") & (ratings.month <= "2025-10")]
    before = ratings[(ratings.month >= "2024-11") & (ratings.month <= "2025-04")]
    p_values = {}
    for card in result.cards:
        a = now.score[now.touchpoint_id == card.touchpoint_id]
        b = before.score[before.touchpoint_id == card.touchpoint_id]
        welch = stats.ttest_ind(a, b, equal_var=False)
        assert card.change.value == pytest.approx(a.mean() - b.mean(), abs=1e-9)
        assert card.change.p_value == pytest.approx(welch.pvalue, rel=1e-6, abs=1e-12)
        p_values[card.touchpoint_id] = welch.pvalue
    # Benjamini–Hochberg (statsmodels) over the touchpoints and the NPS of every NPS answer.
    nps = answers[answers.kind == "nps"]
    counts = [
        (int((g.score >= 9).sum()), int((g.score <= 6).sum()), len(g))
        for g in (nps[nps.month.between("2025-05", "2025-10")],
                  nps[nps.month.between("2024-11", "2025-04")])
    ]  # fmt: skip
    p_values[None] = nps_difference_from_counts(*counts).p_value
    keys = list(p_values)
    q = dict(zip(keys, multipletests([p_values[k] for k in keys], method="fdr_bh")[1], strict=True))
    for change in result.changes:
        if change.source == "comparison":
            assert change.q_value == pytest.approx(q[change.touchpoint_id], rel=1e-6)
    assert {c.touchpoint_id for c in result.changes if c.source == "comparison"} == {
        k for k in keys if q[k] <= 0.05
    }
    rolled = [c for c in result.changes if c.source == "comparison" and c.direction == "down"]
    assert rolled, result.changes
    for card in result.cards:
        if card.change_significant:
            assert card.trend_direction == ("up" if card.change.value > 0 else "down")
            assert any(c.touchpoint_id == card.touchpoint_id for c in result.changes)
        else:
            assert card.trend_direction is None
    dropped = {c.touchpoint_id for c in rolled}
    signalled = {c.touchpoint_id for c in result.cards if c.signal and c.signal.direction == "down"}
    assert signalled <= dropped
    change = rolled[0]
    assert change.message == "rating_down" and "lower than the period before" in change.explanation
    assert change.difference.high < 0 and change.q_value <= 0.05
    json.dumps(result.to_dict())
