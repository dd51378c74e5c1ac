"""The dashboards that sum the store's pre-counted answers (``answer_counts``) give what a scan
of the answers gives: the comparisons of CSAT, CES and ratings, and the scorecards' counts.

Each figure is checked against pandas over the same Parquet files (the helpers of
tests/test_insights_dashboards.py), in scopes that the counts answer differently: a period that
starts and ends inside a month (those months are counted from their answers), a segment (the
counts' own rows per segment), teams, and a response that asks NPS twice (a response's NPS is
its first answer, which the counts do not single out, so NPS stays a scan of the responses).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter

import ibis.expr.operations as ops
import pandas as pd
import pytest

from cxloop.facts.schema import ANSWERS, RESPONSES
from cxloop.facts.synthetic import generate
from cxloop.insights.dashboards import ComparisonQuery, LeaderboardQuery, OverviewQuery
from cxloop.insights.dashboards.scorecard import ScorecardScoresQuery
from cxloop.insights.store import FactStore, Scope
from tests.test_insights_dashboards import (
    check_comparison,
    in_scope,
    read_store,
    ref_nps,
    reference_groups,
    write_store,
)

UTC = dt.UTC

# Periods cut inside months, a segment, teams, and whole months only.
SCOPES = {
    "everything": Scope(),
    "cut period in a segment": Scope(
        since=dt.date(2025, 2, 10), until=dt.date(2025, 7, 20), segment_id=2
    ),
    "cut period of teams": Scope(
        since=dt.date(2025, 1, 10), until=dt.date(2025, 8, 20), team_ids=(1, 2, 4)
    ),
    "whole months of teams in a segment": Scope(
        since=dt.date(2025, 2, 1), until=dt.date(2025, 6, 30), team_ids=(1, 3), segment_id=1
    ),
}
WHOLE = Scope(since=dt.date(2025, 2, 1), until=dt.date(2025, 6, 30), team_ids=(1, 3))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    directory = tmp_path_factory.mktemp("synthetic")
    generate(
        directory,
        responses=8_000,
        touchpoints=6,
        teams=4,
        segments=3,
        years=1,
        seed=11,
        customers=200,
    )
    return read_store(directory), FactStore(directory, threads=1)


def tally(scores) -> dict[int, int]:
    return {int(score): n for score, n in Counter(scores).items()}


def counts_of(scores) -> dict[int, int]:
    """A :class:`Scores` as {score: answers}, the scores without answers left out."""
    return {c.score: c.n for c in scores.distribution() if c.n}


def read_tables(query, tables) -> dict[str, set[str]]:
    """The store's tables each of the query's expressions reads."""
    return {
        name: {table.name for table in expr.op().find(ops.DatabaseTable)}
        for name, expr in query.to_query(tables).items()
    }


# --- comparisons -------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("by", ["team", "segment", "period"])
@pytest.mark.parametrize(
    ("metric", "touchpoint_id"), [("csat", None), ("ces", None), ("rating", 3)]
)
def test_it_compares_counted_answers_as_it_would_scan_them(
    synthetic, scope, by, metric, touchpoint_id
):
    frames, store = synthetic
    scope = SCOPES[scope]
    result = ComparisonQuery(scope, by, metric, touchpoint_id=touchpoint_id).run(
        store=store, cache=False
    )
    expected = reference_groups(frames, scope, by, metric, touchpoint_id)
    assert expected  # something to compare
    check_comparison(result, expected, metric)
    answers = in_scope(frames["answers"], scope, frames["segments"])
    answers = answers[answers.kind == metric]
    if touchpoint_id is not None:
        answers = answers[answers.touchpoint_id == touchpoint_id]
    assert result.n == len(answers)


def test_it_reads_whole_months_from_the_counts_only(synthetic):
    _, store = synthetic
    tables = store.tables()
    counted = [
        ComparisonQuery(WHOLE, "team", "csat"),
        ComparisonQuery(WHOLE, "segment", "rating", touchpoint_id=3),
        ComparisonQuery(WHOLE, "period", "ces", grain="quarter"),
        ScorecardScoresQuery(dataclasses.replace(WHOLE, segment_id=1), "team"),
    ]
    for query in counted:
        assert set(map(frozenset, read_tables(query, tables).values())) == {
            frozenset({"answer_counts"})
        }, query
    # The months a period starts or ends inside are counted from their answers.
    cut = dataclasses.replace(WHOLE, since=dt.date(2025, 2, 10))
    found = read_tables(ComparisonQuery(cut, "segment", "csat"), tables)
    assert {"answer_counts", "answers", "segments"} == found["groups"]
    # A person's customers are those they own now; NPS is the response's first answer; a
    # segment within a segment is customers in both: the answers or responses, scanned.
    person = read_tables(ScorecardScoresQuery(WHOLE, "person"), tables)
    assert "answers" in person["csat"] and "answer_counts" not in person["csat"]
    assert person["touchpoint_nps"] == person["touchpoint_csat"] == {"answer_counts"}
    for query in (
        ComparisonQuery(WHOLE, "team", "nps"),
        ComparisonQuery(dataclasses.replace(WHOLE, segment_id=1), "segment", "csat"),
    ):
        for name, read in read_tables(query, tables).items():
            assert "answer_counts" not in read and read & {"answers", "responses"}, name


# --- scorecards --------------------------------------------------------------------------------


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("by", ["team", "person"])
def test_it_counts_the_scorecards_answers_as_it_would_scan_them(synthetic, scope, by):
    frames, store = synthetic
    scope = SCOPES[scope]
    result = ScorecardScoresQuery(scope, by).run(store=store, cache=False)
    answers = in_scope(frames["answers"], scope, frames["segments"])
    csat = answers[answers.kind == "csat"]
    if by == "team":
        keyed = csat[csat.team_id.notna()].assign(key=lambda f: f.team_id)
    else:
        owners = frames["customers"][["customer_id", "owner_id"]]
        keyed = csat.merge(owners, on="customer_id")
        keyed = keyed[keyed.owner_id.notna()].assign(key=lambda f: f.owner_id)
    expected = {int(key): tally(group.score) for key, group in keyed.groupby("key")}
    assert expected
    assert {key: counts_of(scores) for key, scores in result.csat.items()} == expected
    about = answers[answers.touchpoint_id.notna()]
    for kind, found in (("nps", result.touchpoint_nps), ("csat", result.touchpoint_csat)):
        rated = about[about.kind == kind]
        expected = {int(tp): tally(group.score) for tp, group in rated.groupby("touchpoint_id")}
        assert {tp: counts_of(scores) for tp, scores in found.items()} == expected, kind


# --- a response that asks NPS twice --------------------------------------------------------------


@pytest.fixture(scope="module")
def asked_twice(tmp_path_factory):
    """Responses that ask NPS about touchpoint 4 and then about touchpoint 5, the first answer
    mostly high and the second mostly low, and responses with one NPS answer about none; two
    teams, customers 1–3 in segment 1, over two months."""
    responses, answers = [], []
    common = ["response_id", "submitted_at", "survey_id", "channel", "customer_id", "team_id"]
    for i in range(240):
        month = 3 + i % 2
        row = {
            "response_id": i + 1,
            "submitted_at": dt.datetime(2025, month, 1 + i % 28, 9, tzinfo=UTC),
            "survey_id": 1,
            "survey_kind": "relationship",
            "channel": "email",
            "customer_id": 1 + i % 6,
            "team_id": 1 + i % 2,
            "touchpoint_id": None,
            "language": "en",
            "nps": (10, 9, 8, 3)[i % 4] if i % 5 else (7, 2)[i % 2],
            "month": f"2025-{month:02d}",
        }
        responses.append(row)
        keys = {k: row[k] for k in [*common, "month"]}
        if i % 5:  # asked twice: the first answer is the response's NPS
            answers.append(keys | {"touchpoint_id": 4, "kind": "nps", "score": row["nps"]})
            second = (0, 1, 6, 9, 5)[i % 5]
            answers.append(keys | {"touchpoint_id": 5, "kind": "nps", "score": second})
        else:
            answers.append(keys | {"touchpoint_id": None, "kind": "nps", "score": row["nps"]})
    responses = pd.DataFrame(responses)[[*RESPONSES.names, "month"]]
    answers = pd.DataFrame(answers)[[*ANSWERS.names, "month"]]
    customers = pd.DataFrame(
        {"customer_id": range(1, 7), "team_id": [1, 2] * 3, "currency": "RUB", "tier": "key"}
    ).assign(lifecycle_stage="active")
    segments = pd.DataFrame({"customer_id": [1, 2, 3], "segment_id": 1})
    directory = tmp_path_factory.mktemp("asked-twice")
    write_store(directory, responses, answers, customers, segments)
    return read_store(directory), FactStore(directory, threads=1)


@pytest.mark.parametrize(
    "scope",
    [Scope(), Scope(since=dt.date(2025, 3, 10), until=dt.date(2025, 4, 20)), Scope(segment_id=1)],
    ids=["everything", "cut period", "segment"],
)
def test_it_takes_a_responses_first_nps_answer_and_counts_every_one_per_touchpoint(
    asked_twice, scope
):
    frames, store = asked_twice
    responses = in_scope(frames["responses"], scope, frames["segments"])
    answers = in_scope(frames["answers"], scope, frames["segments"])
    assert len(answers) > len(responses)  # the store holds more NPS answers than responses
    first = responses.nps

    overview = OverviewQuery(scope).run(store=store, cache=False)
    assert overview.nps.n == len(first)
    assert overview.nps.estimate.value == pytest.approx(ref_nps(first)[0], abs=1e-9)
    for by in ("team", "segment", "period"):
        compared = ComparisonQuery(scope, by, "nps").run(store=store, cache=False)
        assert compared.n == len(first), by
        check_comparison(compared, reference_groups(frames, scope, by, "nps"), "nps")
    board = LeaderboardQuery(scope, "team", min_n=1).run(store=store, cache=False)
    per_team = first.groupby(responses.team_id).size().to_dict()
    assert {s.key: s.n for s in board.standings} == per_team

    found = ScorecardScoresQuery(scope, "team").run(store=store, cache=False).touchpoint_nps
    about = answers[answers.touchpoint_id.notna()]
    expected = {int(tp): tally(group.score) for tp, group in about.groupby("touchpoint_id")}
    assert set(expected) == {4, 5}
    assert {tp: counts_of(scores) for tp, scores in found.items()} == expected


# --- counts summed over the teams --------------------------------------------------------------


@pytest.mark.parametrize("scope", [*SCOPES, "segment, whole months"])
def test_the_counts_without_teams_are_the_answers_counted_in_scope(synthetic, scope):
    frames, store = synthetic
    scope = SCOPES.get(scope) or Scope(
        since=dt.date(2025, 2, 1), until=dt.date(2025, 6, 30), segment_id=3
    )
    tables = store.tables()
    counted = scope.counted(tables, by_team=False)
    assert "team_id" not in counted.columns
    keys = ["touchpoint_id", "kind", "score"]
    got = counted.to_pyarrow().to_pandas()
    got["touchpoint_id"] = got["touchpoint_id"].fillna(-1).astype(int)  # NaN ≠ NaN as a key
    answers = in_scope(frames["answers"], scope, frames["segments"]).copy()
    answers["touchpoint_id"] = answers["touchpoint_id"].fillna(-1).astype(int)
    expected = answers.groupby(keys).size()
    assert got.groupby(keys)["n"].sum().to_dict() == expected.to_dict()
    # Every team: the whole months from the counts summed over the teams, not the counts.
    read = {t.name for t in counted.op().find(ops.DatabaseTable)}
    everyone = scope.team_ids is None
    assert ("answer_totals" in read, "answer_counts" in read) == (everyone, not everyone)
    assert ("answers" in read) == bool(scope.partial_months())
