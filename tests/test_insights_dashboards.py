"""The dashboards' queries over the fact store (cxloop.insights.dashboards).

Every figure is checked against an independent computation from the same Parquet files: pandas
reads the files (the month from the partition's directory name), and the statistics come from
their textbook formulas or other libraries, not from cxloop.analytics:

- NPS and its adjusted-Wald interval: Sauro, J. & Lewis, J. R. (2016), *Quantifying the User
  Experience*, 2nd ed., ch. 5, written out below; the variance of a difference of NPS, Rocks, B.
  (2016), R package ``NPS``.
- Wilson intervals: statsmodels ``proportion_confint(method="wilson")``; t intervals:
  statsmodels ``DescrStatsW.tconfint_mean``; Newcombe's interval for a difference of
  proportions: statsmodels ``confint_proportions_2indep(method="newcomb")``; the pooled z test:
  statsmodels ``proportions_ztest``; Welch's t test: scipy ``ttest_ind(equal_var=False)``;
  Benjamini–Hochberg: statsmodels ``multipletests(method="fdr_bh")``.
- p-chart limits: Montgomery, D. C. (2019), *Introduction to Statistical Quality Control*, 8th
  ed., §7.2: centre ± 3 √(p̄(1 − p̄)/nₜ).
- Correlations: pandas ``Series.corr``.

Two kinds of store: the synthetic one of cxloop.facts.synthetic, and small ones written here
with pyarrow in the documented layout, with a planted roll-back and a planted rise.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)
from statsmodels.stats.weightstats import DescrStatsW

from cxloop.facts import derived
from cxloop.facts.schema import ANSWERS, CUSTOMERS, RESPONSES, SCHEMA_VERSION, SEGMENTS
from cxloop.facts.synthetic import generate
from cxloop.insights.dashboards import (
    ComparisonQuery,
    OverviewQuery,
    PortfolioQuery,
    TouchpointQuery,
)
from cxloop.insights.signals import MIN_N
from cxloop.insights.store import FactStore, Scope

TOL = 1e-9  # the same arithmetic in another order: equal to rounding
Z = stats.norm.ppf(0.975)
UTC = dt.UTC

# --- the stores -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    directory = tmp_path_factory.mktemp("synthetic")
    truth = generate(
        directory,
        responses=12_000,
        touchpoints=6,  # the generator plants effects on six (it checks only ≥ 2)
        teams=4,
        segments=3,
        years=1,
        seed=7,
        customers=200,
    )
    return truth, FactStore(directory, threads=1)


@pytest.fixture(scope="module")
def frames(synthetic):
    truth, _ = synthetic
    return read_store(Path(truth.directory))


def read_store(directory: Path) -> dict[str, pd.DataFrame]:
    """The store's tables as pandas frames, the month taken from each file's directory."""

    def monthly(name: str) -> pd.DataFrame:
        parts = []
        for path in sorted((directory / name).glob("month=*/part-0.parquet")):
            frame = pq.read_table(path).to_pandas()
            frame["month"] = path.parent.name.removeprefix("month=")
            parts.append(frame)
        return pd.concat(parts, ignore_index=True)

    return {
        "responses": monthly("responses"),
        "answers": monthly("answers"),
        "customers": pq.read_table(directory / "customers.parquet").to_pandas(),
        "segments": pq.read_table(directory / "segments.parquet").to_pandas(),
    }


def in_scope(frame: pd.DataFrame, scope: Scope, segments: pd.DataFrame) -> pd.DataFrame:
    keep = pd.Series(True, index=frame.index)
    if scope.since is not None:
        keep &= frame.submitted_at >= pd.Timestamp(scope.since, tz=UTC)
    if scope.until is not None:
        keep &= frame.submitted_at < pd.Timestamp(scope.until + dt.timedelta(days=1), tz=UTC)
    if scope.team_ids is not None:
        keep &= frame.team_id.isin(scope.team_ids)
    if scope.segment_id is not None:
        members = segments.customer_id[segments.segment_id == scope.segment_id]
        keep &= frame.customer_id.isin(members)
    return frame[keep]


def write_store(
    directory: Path,
    responses: pd.DataFrame,
    answers: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    segments: pd.DataFrame | None = None,
) -> None:
    """A store in the documented layout from frames holding the schema's columns (responses and
    answers with a ``month`` column for the partition)."""
    directory.mkdir(parents=True, exist_ok=True)
    segments = segments if segments is not None else pd.DataFrame(columns=SEGMENTS.names)
    members = pa.Table.from_pandas(segments, schema=SEGMENTS, preserve_index=False)
    months = {}
    for month in sorted(responses.month.unique()):
        for name, frame, schema in (
            ("responses", responses, RESPONSES),
            ("answers", answers, ANSWERS),
        ):
            part = frame[frame.month == month].drop(columns="month")
            path = directory / name / f"month={month}"
            path.mkdir(parents=True, exist_ok=True)
            table = pa.Table.from_pandas(part, schema=schema, preserve_index=False)
            pq.write_table(table, path / "part-0.parquet")
        for name, derived_table in derived.tables(table, members).items():
            path = directory / name / f"month={month}"
            path.mkdir(parents=True, exist_ok=True)
            pq.write_table(derived_table, path / "part-0.parquet")
        months[month] = {
            "responses": int((responses.month == month).sum()),
            "answers": int((answers.month == month).sum()),
        }
    customers = customers if customers is not None else pd.DataFrame(columns=CUSTOMERS.names)
    # Columns a test does not care about (say, the owner) are empty.
    customers = customers.reindex(columns=CUSTOMERS.names)
    for name, frame, schema in (
        ("customers", customers, CUSTOMERS),
        ("segments", segments, SEGMENTS),
    ):
        pq.write_table(
            pa.Table.from_pandas(frame, schema=schema, preserve_index=False),
            directory / f"{name}.parquet",
        )
    manifest = {
        "schema": SCHEMA_VERSION,
        "version": uuid.uuid4().hex,
        "written_at": dt.datetime.now(UTC).isoformat(timespec="seconds"),
        "months": months,
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))


def planted_store(directory: Path, *, months: int, per_month: int, shift_at: int, seed: int):
    """Relationship responses about touchpoints 7 and 8, one a response, each with an NPS answer
    and a rating of one touchpoint. From month ``shift_at`` on, touchpoint 7's ratings fall
    (top-2-box share 0.80 → 0.55) and NPS rises (promoters 30 % → 55 %, detractors 30 % → 15 %).
    """
    rng = np.random.default_rng(seed)
    rows = []
    response_id = 0
    for index in range(months):
        year, number = 2024 + index // 12, index % 12 + 1
        month = f"{year:04d}-{number:02d}"
        shifted = index >= shift_at
        for _ in range(per_month):
            response_id += 1
            touchpoint = 7 if rng.random() < 0.6 else 8
            top = 0.55 if shifted and touchpoint == 7 else 0.80
            rating = rng.choice([4, 5]) if rng.random() < top else rng.choice([1, 2, 3])
            p, d = (0.55, 0.15) if shifted else (0.30, 0.30)
            u = rng.random()
            nps = rng.choice([9, 10]) if u < p else rng.choice(range(7)) if u < p + d else 8
            day = int(rng.integers(1, 29))
            rows.append(
                {
                    "response_id": response_id,
                    "submitted_at": dt.datetime(year, number, day, 12, tzinfo=UTC),
                    "survey_id": 1,
                    "survey_kind": "relationship",
                    "channel": "email",
                    "customer_id": int(rng.integers(1, 41)),
                    "team_id": int(rng.integers(1, 3)),
                    "touchpoint_id": None,
                    "language": "ru",
                    "nps": int(nps),
                    "month": month,
                    "rated": touchpoint,
                    "rating": int(rating),
                }
            )
    frame = pd.DataFrame(rows)
    responses = frame[[*RESPONSES.names, "month"]]
    common = ["response_id", "submitted_at", "survey_id", "channel", "customer_id", "team_id"]
    nps = frame[common + ["month"]].assign(touchpoint_id=None, kind="nps", score=frame.nps)
    rated = frame[common + ["month"]].assign(
        touchpoint_id=frame.rated, kind="rating", score=frame.rating
    )
    answers = pd.concat([nps, rated]).sort_values(["response_id", "kind"])
    answers = answers[[*ANSWERS.names, "month"]]
    customers = pd.DataFrame(
        {
            "customer_id": range(1, 41),
            "team_id": [1 + i % 2 for i in range(40)],
            "annual_value": [1000.0 * (i + 1) for i in range(40)],
            "currency": "RUB",
            "tier": "key",
            "lifecycle_stage": "active",
        }
    )
    segments = pd.DataFrame({"customer_id": range(1, 21), "segment_id": 1})
    write_store(directory, responses, answers, customers, segments)
    return frame


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    directory = tmp_path_factory.mktemp("planted")
    frame = planted_store(directory, months=18, per_month=300, shift_at=12, seed=3)
    return frame, FactStore(directory, threads=1)


# --- independent statistics ------------------------------------------------------------------


def ref_nps(scores) -> tuple[float, float, float, int]:
    """NPS with the adjusted-Wald interval (Sauro & Lewis): ¾ added to promoters and detractors,
    3 to n; limits clipped to ±100 and widened to hold the observed score."""
    s = np.asarray(scores, dtype=float)
    n = s.size
    P, D = np.sum(s >= 9), np.sum(s <= 6)
    value = 100.0 * (P - D) / n
    p, d = (P + 0.75) / (n + 3), (D + 0.75) / (n + 3)
    se = math.sqrt((p + d - (p - d) ** 2) / (n + 3))
    low, high = max(-1.0, p - d - Z * se) * 100, min(1.0, p - d + Z * se) * 100
    return value, min(low, value), max(high, value), n


def ref_top_box(scores) -> tuple[float, float, float, int]:
    s = np.asarray(scores)
    x, n = int(np.isin(s, (4, 5)).sum()), s.size
    low, high = proportion_confint(x, n, alpha=0.05, method="wilson")
    return 100.0 * x / n, 100.0 * low, 100.0 * high, n


def ref_mean(scores) -> tuple[float, float, float, int]:
    s = np.asarray(scores, dtype=float)
    low, high = DescrStatsW(s).tconfint_mean(alpha=0.05)
    return float(s.mean()), float(low), float(high), s.size


REF_ESTIMATE = {"nps": ref_nps, "csat": ref_top_box, "ces": ref_mean, "rating": ref_mean}


def ref_difference(metric: str, a, b) -> tuple[float, float, float, float]:
    """(value, low, high, p) of a − b."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if metric == "nps":

        def adjusted(s):
            n = s.size + 3
            p, d = (np.sum(s >= 9) + 0.75) / n, (np.sum(s <= 6) + 0.75) / n
            return p - d, (p + d - (p - d) ** 2) / n

        (ca, va), (cb, vb) = adjusted(a), adjusted(b)
        observed = ref_nps(a)[0] / 100 - ref_nps(b)[0] / 100
        se = math.sqrt(va + vb)
        low = min(max(-2.0, ca - cb - Z * se), observed)
        high = max(min(2.0, ca - cb + Z * se), observed)
        p = 2 * stats.norm.sf(abs((ca - cb) / se))
        return 100 * observed, 100 * low, 100 * high, p
    if metric == "csat":
        xa, xb = int(np.isin(a, (4, 5)).sum()), int(np.isin(b, (4, 5)).sum())
        low, high = confint_proportions_2indep(
            xa, a.size, xb, b.size, method="newcomb", compare="diff"
        )
        _, p = proportions_ztest([xa, xb], [a.size, b.size])
        return 100 * (xa / a.size - xb / b.size), 100 * low, 100 * high, p
    test = stats.ttest_ind(a, b, equal_var=False)
    ci = test.confidence_interval(0.95)
    return a.mean() - b.mean(), ci.low, ci.high, test.pvalue


def assert_estimate(estimate, expected, tol=TOL):
    value, low, high, n = expected
    assert estimate is not None
    assert estimate.n == n
    assert estimate.value == pytest.approx(value, abs=tol)
    assert estimate.low == pytest.approx(low, abs=tol)
    assert estimate.high == pytest.approx(high, abs=tol)


def metric_scores(frames, scope, metric, touchpoint_id=None) -> pd.DataFrame:
    """The answers a metric is computed from, in the scope, with ``score``."""
    if metric == "nps":
        responses = in_scope(frames["responses"], scope, frames["segments"])
        return responses[responses.nps.notna()].assign(score=lambda f: f.nps)
    answers = in_scope(frames["answers"], scope, frames["segments"])
    answers = answers[answers.kind == metric]
    if touchpoint_id is not None:
        answers = answers[answers.touchpoint_id == touchpoint_id]
    return answers


NARROW = Scope(since=dt.date(2025, 1, 10), until=dt.date(2025, 8, 20), team_ids=(1, 2, 4))
SEGMENT = Scope(segment_id=2)


# --- overview -----------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", [Scope(), NARROW, SEGMENT], ids=["all", "narrow", "segment"])
def test_it_gives_the_overview_of_a_scope(synthetic, frames, scope):
    truth, store = synthetic
    result = OverviewQuery(scope).run(store=store)
    assert result.version == truth.version
    responses = in_scope(frames["responses"], scope, frames["segments"])
    answers = in_scope(frames["answers"], scope, frames["segments"])
    nps = responses.nps.dropna()
    csat = answers.score[answers.kind == "csat"]
    ces = answers.score[answers.kind == "ces"]
    assert_estimate(result.nps.estimate, ref_nps(nps))
    assert_estimate(result.csat.estimate, ref_top_box(csat))
    assert_estimate(result.csat_mean.estimate, ref_mean(csat))
    assert_estimate(result.ces.estimate, ref_mean(ces))
    assert result.responses == len(responses)
    counts = responses.channel.value_counts()
    assert {c.channel: c.responses for c in result.channels} == counts.to_dict()
    assert [c.responses for c in result.channels] == sorted(counts, reverse=True)
    months = sorted(responses.month.unique())
    assert result.months == tuple(f"{m}-01" for m in months)
    for summary, frame, kind, ref in (
        (result.nps, responses.assign(score=responses.nps).dropna(subset="score"), None, ref_nps),
        (result.csat, answers, "csat", ref_top_box),
        (result.csat_mean, answers, "csat", ref_mean),
        (result.ces, answers, "ces", ref_mean),
    ):
        if kind is not None:
            frame = frame[frame.kind == kind]
        assert [p.period for p in summary.trend] == list(result.months)
        for point, month in zip(summary.trend, months, strict=True):
            scores = frame.score[frame.month == month]
            assert point.n == len(scores)
            value, low, high, _ = ref(scores)
            assert (point.value, point.low, point.high) == pytest.approx(
                (value, low, high), abs=TOL
            )
    json.dumps(result.to_dict())


def test_it_flags_a_figure_under_the_minimum(synthetic):
    _, store = synthetic
    result = OverviewQuery(Scope(), min_n=10**6).run(store=store)
    assert result.nps.low_n and result.csat.low_n and result.ces.low_n
    assert not OverviewQuery(Scope()).run(store=store).nps.low_n


# --- comparisons --------------------------------------------------------------------------------


def reference_groups(frames, scope, by, metric, touchpoint_id=None):
    """key → (the group's scores, the reference's scores) as the query defines them."""
    scored = metric_scores(frames, scope, metric, touchpoint_id)
    if by == "team":
        return {
            int(team): (scored.score[scored.team_id == team], scored.score[scored.team_id != team])
            for team in sorted(scored.team_id.dropna().unique())
        }
    if by == "segment":
        out = {}
        segments = frames["segments"]
        for segment in sorted(segments.segment_id.unique()):
            inside = scored.customer_id.isin(segments.customer_id[segments.segment_id == segment])
            if inside.any():
                out[int(segment)] = (scored.score[inside], scored.score[~inside])
        return out
    months = sorted(scored.month.unique())
    return {
        f"{m}-01": (scored.score[scored.month == m], scored.score[scored.month == previous])
        for previous, m in zip([None, *months], months, strict=False)
    }


def check_comparison(result, expected, metric, alpha=0.05):
    assert [g.key for g in result.groups] == list(expected)
    tested, p_values = [], []
    for group in result.groups:
        scores, reference = expected[group.key]
        assert_estimate(group.estimate, REF_ESTIMATE[metric](scores))
        assert group.n == len(scores) and group.reference_n == len(reference)
        if len(reference):
            assert_estimate(group.reference, REF_ESTIMATE[metric](reference))
        small = len(scores) < result.min_n or len(reference) < result.min_n
        if len(reference) == 0 or small:
            assert group.difference is None and group.q_value is None and not group.significant
            assert group.untested in ("no_previous", "too_few")
            continue
        value, low, high, p = ref_difference(metric, scores, reference)
        d = group.difference
        assert (d.value, d.low, d.high) == pytest.approx((value, low, high), abs=TOL)
        assert d.p_value == pytest.approx(p, rel=1e-7, abs=1e-12)
        tested.append(group)
        p_values.append(p)
    assert result.tests == len(tested)
    if tested:
        reject, q, _, _ = multipletests(p_values, alpha=alpha, method="fdr_bh")
        assert [g.q_value for g in tested] == pytest.approx(list(q), rel=1e-7, abs=1e-12)
        assert [g.significant for g in tested] == list(reject)


@pytest.mark.parametrize("by", ["team", "segment", "period"])
@pytest.mark.parametrize("metric", ["nps", "csat", "ces"])
def test_it_compares_groups_like_scipy_and_statsmodels(synthetic, frames, by, metric):
    _, store = synthetic
    result = ComparisonQuery(NARROW, by, metric).run(store=store)
    assert result.overall.n == len(metric_scores(frames, NARROW, metric))
    check_comparison(result, reference_groups(frames, NARROW, by, metric), metric)
    json.dumps(result.to_dict())


def test_it_compares_a_touchpoints_rating_by_segment(synthetic, frames):
    _, store = synthetic
    result = ComparisonQuery(Scope(), "segment", "rating", touchpoint_id=3).run(store=store)
    expected = reference_groups(frames, Scope(), "segment", "rating", touchpoint_id=3)
    check_comparison(result, expected, "rating")
    assert result.tests == 3


def test_it_flags_small_groups_and_leaves_them_out_of_the_family(synthetic, frames):
    _, store = synthetic
    teams = metric_scores(frames, NARROW, "nps").team_id.value_counts()
    min_n = int(teams.sort_values().iloc[1])  # the smallest team falls under it, no other
    result = ComparisonQuery(NARROW, "team", "nps", min_n=min_n).run(store=store)
    small = [g for g in result.groups if g.low_n]
    assert [g.key for g in small] == [int(teams.idxmin())]
    assert small[0].untested == "too_few" and small[0].estimate is not None
    assert result.tests == len(result.groups) - 1
    check_comparison(result, reference_groups(frames, NARROW, "team", "nps"), "nps")


def test_it_marks_significance_after_benjamini_hochberg(tmp_path):
    """Exact CSAT counts per team, chosen so that team 2 differs from the rest at p < 0.05 but
    not after the false-discovery correction over the five teams tested; team 6 is under the
    minimum, shown but not tested; answers without a team count in every team's rest."""
    counts = {1: (180, 200), 2: (157, 200), 3: (140, 200), 4: (141, 200), 5: (1400, 2000)}
    counts |= {6: (7, 10), None: (30, 40)}
    rows = []
    for team, (top, n) in counts.items():
        rows += [(team, 5 if i < top // 2 else 4 if i < top else 2) for i in range(n)]
    frame = pd.DataFrame(rows, columns=["team_id", "score"])
    frame["response_id"] = range(1, len(frame) + 1)
    frame["submitted_at"] = dt.datetime(2025, 3, 3, tzinfo=UTC)
    frame["month"] = "2025-03"
    common = {"survey_id": 5, "channel": "web", "customer_id": None, "touchpoint_id": 4}
    responses = frame.assign(**common, survey_kind="transactional", language="en", nps=None)
    answers = frame.assign(**common, kind="csat")
    write_store(tmp_path, responses[[*RESPONSES.names, "month"]], answers)
    result = ComparisonQuery(Scope(), "team", "csat").run(store=FactStore(tmp_path, threads=1))

    groups = {g.key: g for g in result.groups}
    assert list(groups) == [1, 2, 3, 4, 5, 6] and result.tests == 5
    assert groups[6].low_n and groups[6].untested == "too_few" and groups[6].q_value is None
    p_values = []
    for team in range(1, 6):
        top, n = counts[team]
        rest_top = sum(t for k, (t, _) in counts.items() if k != team)
        rest_n = sum(m for k, (_, m) in counts.items() if k != team)
        _, p = proportions_ztest([top, rest_top], [n, rest_n])
        assert groups[team].difference.p_value == pytest.approx(p, rel=1e-9)
        p_values.append(p)
    reject, q, _, _ = multipletests(p_values, alpha=0.05, method="fdr_bh")
    assert [groups[t].q_value for t in range(1, 6)] == pytest.approx(list(q), rel=1e-9)
    assert [groups[t].significant for t in range(1, 6)] == list(reject)
    assert groups[2].difference.p_value < 0.05 < groups[2].q_value
    assert [t for t, g in groups.items() if g.significant] == [1, 5]


def test_it_shows_a_planted_rise_as_a_significant_period_difference(planted):
    _, store = planted
    result = ComparisonQuery(Scope(), "period", "nps").run(store=store)
    significant = [g.key for g in result.significant]
    assert significant == ["2025-01-01"]
    rise = result.groups[12]
    assert rise.key == "2025-01-01" and rise.difference.value > 20
    assert rise.q_value <= 0.05
    # The first month has nothing before it; the others are in the family.
    assert result.groups[0].untested == "no_previous" and result.tests == 17


def test_it_compares_quarters(planted):
    frame, store = planted
    result = ComparisonQuery(Scope(), "period", "nps", grain="quarter").run(store=store)
    assert [g.key for g in result.groups] == [
        "2024-01-01",
        "2024-04-01",
        "2024-07-01",
        "2024-10-01",
        "2025-01-01",
        "2025-04-01",
    ]
    quarter = frame[(frame.month >= "2025-01") & (frame.month <= "2025-03")]
    before = frame[(frame.month >= "2024-10") & (frame.month <= "2024-12")]
    assert_estimate(result.groups[4].estimate, ref_nps(quarter.nps))
    value, low, high, p = ref_difference("nps", quarter.nps, before.nps)
    difference = result.groups[4].difference
    assert (difference.value, difference.low, difference.high) == pytest.approx(
        (value, low, high), abs=TOL
    )
    assert difference.p_value == pytest.approx(p, rel=1e-7, abs=1e-12)
    assert [g.key for g in result.significant] == ["2025-01-01"]


# --- touchpoint ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "kinds"),
    [(Scope(), ("rating",)), (NARROW, ("rating",)), (SEGMENT, ("rating", "csat"))],
    ids=["all", "narrow", "segment-pooled"],
)
def test_it_gives_a_touchpoints_figures(synthetic, frames, scope, kinds):
    _, store = synthetic
    touchpoint = 2
    result = TouchpointQuery(scope, touchpoint, kinds=kinds).run(store=store)
    answers = in_scope(frames["answers"], scope, frames["segments"])
    rated = answers[(answers.touchpoint_id == touchpoint) & answers.kind.isin(kinds)]
    assert result.n == len(rated)
    assert_estimate(result.mean, ref_mean(rated.score))
    assert_estimate(result.top_box, ref_top_box(rated.score))
    counts = rated.score.value_counts()
    assert [(c.score, c.n) for c in result.distribution] == [
        (s, int(counts.get(s, 0))) for s in range(1, 6)
    ]
    months = sorted(rated.month.unique())
    assert result.months == tuple(f"{m}-01" for m in months)
    for mean, top, month in zip(result.mean_trend, result.top_box_trend, months, strict=True):
        scores = rated.score[rated.month == month]
        assert (mean.value, mean.low, mean.high) == pytest.approx(ref_mean(scores)[:3], abs=TOL)
        assert (top.value, top.low, top.high) == pytest.approx(ref_top_box(scores)[:3], abs=TOL)
        assert mean.n == top.n == len(scores)

    # Monthly answers: the trend at the data's rhythm is the monthly one, flagged.
    assert result.grain == "month"
    by_period = result.mean_by_period
    assert [p.period for p in by_period] == [m.period for m in result.mean_trend]
    assert [p.value for p in by_period] == [m.value for m in result.mean_trend]
    assert [p.low_n for p in by_period] == [m.n < MIN_N for m in result.mean_trend]
    # Partial: only a month the scope's end cuts (the synthetic store ends in the past).
    cut = scope.until is not None and scope.until.day < 28
    assert [p.partial for p in by_period] == [cut and p is by_period[-1] for p in by_period]

    # The chart of cxloop.insights.signals, recomputed: monthly periods (the answers do not
    # come in waves), centre from the first six usable months (n >= 30), each month's limits
    # ±3.5 σ_z standard errors of its difference from the centre, σ_z (Laney) from the median
    # moving range of the binomially standardised shares, never below 1.
    x = rated.score.isin([4, 5]).groupby(rated.month).sum()
    n = rated.groupby("month").size()
    usable = (n >= MIN_N).to_numpy()
    base = np.flatnonzero(usable)[:6]
    n_base = n.iloc[base].sum()
    centre = x.iloc[base].sum() / n_base
    p = x / n
    in_base = np.isin(np.arange(len(n)), base)
    se = np.sqrt(centre * (1 - centre) * np.where(in_base, 1 / n - 1 / n_base, 1 / n + 1 / n_base))
    z_binomial = ((p - centre) / np.sqrt(centre * (1 - centre) / n)).to_numpy()[usable]
    sigma_z = max(1.0, np.median(np.abs(np.diff(z_binomial))) / 0.954)
    limit = 3.5 * sigma_z * se
    chart = result.control
    assert chart.grain == "month"
    assert chart.sigma_z == pytest.approx(sigma_z, abs=1e-9)
    assert chart.centre == pytest.approx(100 * centre, abs=TOL)
    assert chart.baseline == tuple(f"{months[i]}-01" for i in base)
    assert [p.value for p in chart.points] == pytest.approx(list(100 * x / n), abs=TOL)
    assert [p.lower for p in chart.points] == pytest.approx(
        list(100 * np.clip(centre - limit, 0, 1)), abs=TOL
    )
    assert [p.upper for p in chart.points] == pytest.approx(
        list(100 * np.clip(centre + limit, 0, 1)), abs=TOL
    )
    assert [p.low_n for p in chart.points] == list(~usable)
    outside = np.flatnonzero((np.abs(p - centre) > limit).to_numpy() & usable).tolist()
    assert list(chart.signals) == outside

    # Drivers: the rating against the NPS answer of the same response, per segment.
    responses = in_scope(frames["responses"], scope, frames["segments"])
    pairs = rated.merge(responses[responses.nps.notna()][["response_id", "nps"]], on="response_id")
    overall = result.drivers[0]
    assert overall.segment_id is None and overall.n == len(pairs)
    assert overall.r == pytest.approx(pairs.score.corr(pairs.nps), abs=1e-9)
    segments = frames["segments"]
    by_segment = pairs.merge(segments, on="customer_id")
    expected = {int(s): (len(g), g.score.corr(g.nps)) for s, g in by_segment.groupby("segment_id")}
    assert {d.segment_id: d.n for d in result.drivers[1:]} == {
        s: n for s, (n, _) in expected.items()
    }
    for driver in result.drivers[1:]:
        assert driver.r == pytest.approx(expected[driver.segment_id][1], abs=1e-9)
    json.dumps(result.to_dict())


def test_it_signals_a_planted_roll_back_at_its_month(planted):
    _, store = planted
    result = TouchpointQuery(Scope(), 7, kinds=["rating"]).run(store=store)
    chart = result.control
    first_drop = dt.date.fromisoformat(chart.first_drop)
    planted_at = dt.date(2025, 1, 1)  # month 12 of the store
    months_off = (first_drop.year - planted_at.year) * 12 + first_drop.month - planted_at.month
    assert abs(months_off) <= 1, chart.first_drop
    assert not [s for s in chart.rule_signals if s.direction == "down" and s.period < "2024-12"]
    assert chart.centre == pytest.approx(80, abs=4)  # the baseline's share, as planted
    assert chart.baseline == tuple(f"2024-{m:02d}-01" for m in range(1, 7))
    # Touchpoint 8 did not change: no drop.
    steady = TouchpointQuery(Scope(), 8, kinds=["rating"]).run(store=store)
    assert steady.control.first_drop is None


def test_it_keeps_the_latest_comments_for_the_page(planted):
    _, store = planted
    result = TouchpointQuery(Scope(), 7).run(store=store)
    assert result.comments == ()
    assert result.with_comments(["a", "b"]).comments == ("a", "b")


# --- portfolio ----------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", [Scope(), Scope(team_ids=(1, 3))], ids=["all", "teams"])
def test_it_gives_the_portfolio_and_the_revenue_at_risk(synthetic, frames, scope):
    truth, store = synthetic
    today = dt.date(2025, 10, 15)
    result = PortfolioQuery(
        scope,
        today,
        silent_after_days=20,
        target_segment_id=truth.target_segment_id,
    ).run(store=store)
    customers = frames["customers"]
    if scope.team_ids is not None:
        customers = customers[customers.team_id.isin(scope.team_ids)]
    responses = frames["responses"]
    answered = responses[
        responses.nps.notna()
        & responses.customer_id.notna()
        & (responses.submitted_at < pd.Timestamp(today + dt.timedelta(days=1), tz=UTC))
    ]
    latest = (
        answered.sort_values(["submitted_at", "response_id"])
        .groupby("customer_id")
        .tail(1)
        .set_index("customer_id")
    )
    segments = frames["segments"]
    target = set(segments.customer_id[segments.segment_id == truth.target_segment_id])
    since = today - dt.timedelta(days=20)
    expected = {}
    for c in customers.itertuples():
        day = score = None
        if c.customer_id in latest.index:
            day = latest.submitted_at[c.customer_id].date()
            if day >= since:
                score = int(latest.nps[c.customer_id])
        status = (
            "silent"
            if score is None
            else "promoter"
            if score >= 9
            else "passive"
            if score >= 7
            else "detractor"
        )
        value = None if pd.isna(c.annual_value) else c.annual_value
        expected[c.customer_id] = (value, c.currency, c.customer_id in target, status, score, day)
    got = {
        r.customer_id: (r.annual_value, r.currency, r.target, r.status, r.score, r.answered_at)
        for r in result.customers
    }
    assert got == expected
    statuses = {r.status for r in result.customers}
    assert {"silent", "detractor", "promoter"} <= statuses

    def at_risk(rows):
        out = {}
        for currency, group in rows.groupby("currency"):
            value = group.annual_value.fillna(0)
            out[currency] = {
                "customers": len(group),
                "value": value.sum(),
                "detractor_value": value[group.status == "detractor"].sum(),
                "silent_value": value[group.status == "silent"].sum(),
                "at_risk": value[group.status.isin(["detractor", "silent"])].sum(),
                "silent": int((group.status == "silent").sum()),
                "detractors": int((group.status == "detractor").sum()),
                "unknown_value": int(group.annual_value.isna().sum()),
            }
        return out

    table = pd.DataFrame(
        [(k, *v) for k, v in expected.items()],
        columns=["customer_id", "annual_value", "currency", "target", "status", "score", "day"],
    )
    for split, rows in (
        (result.overall, table),
        (result.target, table[table.target]),
        (result.rest, table[~table.target]),
    ):
        want = at_risk(rows)
        assert [r.currency for r in split] == sorted(want)
        for r in split:
            for name, value in want[r.currency].items():
                assert getattr(r, name) == pytest.approx(value, rel=1e-12), name
            assert r.share == pytest.approx(r.at_risk / r.value, rel=1e-12)
    json.dumps(result.to_dict())


# --- empty scopes, bad input, caching, portability ----------------------------------------------


def queries(scope):
    return [
        OverviewQuery(scope),
        ComparisonQuery(scope, "team", "nps"),
        ComparisonQuery(scope, "period", "csat"),
        ComparisonQuery(scope, "segment", "rating", touchpoint_id=7),
        TouchpointQuery(scope, 7),
        PortfolioQuery(scope, dt.date(2025, 6, 30), target_segment_id=1),
    ]


@pytest.mark.parametrize(
    "scope",
    [
        Scope(team_ids=()),
        Scope(since=dt.date(2030, 1, 1)),
        Scope(since=dt.date(2025, 3, 2), until=dt.date(2025, 3, 1)),
        Scope(team_ids=(99,)),
    ],
    ids=["no-team", "after-the-data", "backwards", "unknown-team"],
)
def test_it_gives_empty_results_for_an_empty_scope(planted, scope):
    _, store = planted
    overview, by_team, by_period, by_segment, touchpoint, portfolio = (
        q.run(store=store) for q in queries(scope)
    )
    assert overview.responses == 0 and overview.nps.estimate is None and overview.months == ()
    assert overview.nps.trend == () and overview.channels == () and overview.nps.low_n
    for result in (by_team, by_period, by_segment):
        assert result.groups == () and result.overall is None and result.tests == 0
    assert touchpoint.n == 0 and touchpoint.mean is None and touchpoint.control is None
    assert [c.n for c in touchpoint.distribution] == [0] * 5
    assert touchpoint.drivers[0].r is None and touchpoint.drivers[0].n == 0
    if scope.team_ids == (99,):
        assert portfolio.customers == () and portfolio.overall == ()
    for result in (overview, by_team, by_period, by_segment, touchpoint, portfolio):
        json.dumps(result.to_dict())


def test_it_gives_empty_results_for_a_store_never_written(tmp_path):
    store = FactStore(tmp_path / "nothing", threads=1)
    for result in (q.run(store=store) for q in queries(Scope())):
        assert result.version is None
        json.dumps(result.to_dict())


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ComparisonQuery(Scope(), "team", "loyalty"), "'loyalty'"),
        (lambda: ComparisonQuery(Scope(), "region", "nps"), "'region'"),
        (lambda: ComparisonQuery(Scope(), "period", "nps", grain="week"), "'week'"),
        (lambda: ComparisonQuery(Scope(), "team", "rating"), "touchpoint_id"),
        (
            lambda: ComparisonQuery(Scope(), "team", "nps", touchpoint_id=7),
            "touchpoint_id 7",
        ),
        (lambda: TouchpointQuery(Scope(), 7, kinds=["ces"]), "'ces'"),
        (lambda: TouchpointQuery(Scope(), "7"), "'7'"),
        (lambda: PortfolioQuery(Scope(), "2025-01-01"), "'2025-01-01'"),
        (
            lambda: PortfolioQuery(Scope(), dt.date(2025, 1, 1), silent_after_days=0),
            "silent_after_days",
        ),
        (lambda: OverviewQuery({"team_ids": [1]}), "scope"),
    ],
)
def test_it_refuses_bad_input_naming_it(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    "query",
    [
        TouchpointQuery(Scope(), 999),
        ComparisonQuery(Scope(), "team", "rating", touchpoint_id=999),
        ComparisonQuery(Scope(team_ids=()), "team", "csat", touchpoint_id=999),
    ],
)
def test_it_refuses_a_touchpoint_not_in_the_store(planted, query):
    _, store = planted
    with pytest.raises(ValueError, match="touchpoint_id 999 is not in the fact store"):
        query.run(store=store, cache=False)


def test_it_caches_by_data_version(tmp_path):
    planted_store(tmp_path, months=3, per_month=50, shift_at=99, seed=1)
    store = FactStore(tmp_path, threads=1)
    first = OverviewQuery(Scope()).run(store=store)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["version"] = uuid.uuid4().hex  # a new write, with the same files
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    again = OverviewQuery(Scope()).run(store=store)
    assert again.version == manifest["version"] != first.version
    assert again.nps == first.nps
    # Without the files, only the cache can answer for this version and this query.
    for path in tmp_path.glob("*/month=*/part-0.parquet"):
        path.unlink()
    assert OverviewQuery(Scope()).run(store=store) == again
    with pytest.raises(Exception, match="No files found|IO Error"):
        OverviewQuery(Scope(team_ids=(1,))).run(store=store)


def test_its_scans_are_portable_to_spark(planted):
    """Every expression compiles for Spark SQL (tests/test_insights_spark.py runs the store's
    expressions on Spark itself)."""
    pytest.importorskip("pyspark")
    from ibis.backends.pyspark import Backend

    Backend.register_options()  # the Spark compiler reads them; no Spark session is started

    _, store = planted
    scope = Scope(since=dt.date(2024, 2, 3), team_ids=(1,), segment_id=1)
    for query in queries(scope):
        for name, expr in query.to_query(store.tables()).items():
            assert "SELECT" in ibis.to_sql(expr, dialect="pyspark"), name


def test_it_charts_a_survey_in_waves_per_quarter():
    """NPS asked in quarterly waves (March, June, September) with a few late answers between
    them: one point per quarter, each counting its wave and its late answers, not a zig-zag of
    months of five answers; effort asked every month stays monthly."""
    waves = {"2025-03": 400, "2025-04": 5, "2025-06": 380, "2025-07": 4, "2025-09": 410}
    rows = {
        "nps": [
            {"month": month, "score": score, "n": n // 2}
            for month, n in waves.items()
            for score in (3, 10)
        ],
        "rated": [
            {"kind": "ces", "month": month, "score": 6, "n": 50}
            for month in ("2025-03", "2025-04", "2025-05", "2025-06")
        ],
    }
    result = OverviewQuery(Scope()).assemble("v", rows)
    assert result.nps.grain == "quarter"
    assert [(p.period, p.end, p.n) for p in result.nps.trend] == [
        ("2025-01-01", "2025-03-31", 400),
        ("2025-04-01", "2025-06-30", 384),
        ("2025-07-01", "2025-09-30", 414),
    ]
    assert result.ces.grain == "month"
    assert len(result.ces.trend) == len(result.months)
