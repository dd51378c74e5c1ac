"""The fact store's derived tables (cxloop/facts/derived.py), against plain counting."""

import datetime as dt
from collections import Counter

import numpy as np
import pyarrow as pa
from scipy import stats

from cxloop.facts import derived
from cxloop.facts.schema import ANSWER_SAMPLE, ANSWERS, SEGMENTS


def month_of_answers(responses: int, seed: int = 5) -> pa.Table:
    """A month of answers: per response an NPS answer and ratings of three touchpoints, some
    with a customer (of two teams), some anonymous, and a CSAT answer now and then."""
    rng = np.random.default_rng(seed)
    rows = {name: [] for name in ANSWERS.names}
    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    for response in range(1, responses + 1):
        customer = int(rng.integers(1, 200)) if rng.random() < 0.9 else None
        team = None if customer is None else customer % 2 + 1
        kinds = [("nps", None, int(rng.integers(0, 11)))]
        kinds += [("rating", tp, int(rng.integers(1, 6))) for tp in (4, 5, 6)]
        if rng.random() < 0.2:
            kinds.append(("csat", None, int(rng.integers(1, 6))))
        for kind, touchpoint, score in kinds:
            for name, value in zip(
                ANSWERS.names,
                (response, at, 1, "email", customer, team, touchpoint, kind, score),
                strict=True,
            ):
                rows[name].append(value)
    return pa.table(rows, schema=ANSWERS)


SEGMENT_MEMBERS = pa.table(
    {"customer_id": [1, 2, 3, 2, 150], "segment_id": [7, 7, 7, 8, 8]}, schema=SEGMENTS
)


def test_counts_equal_the_answers_counted_one_by_one():
    answers = month_of_answers(2_000)
    segments_of: dict[int, list[int]] = {}
    for row in SEGMENT_MEMBERS.to_pylist():
        segments_of.setdefault(row["customer_id"], []).append(row["segment_id"])
    expected = Counter()
    for a in answers.to_pylist():
        values = (a["team_id"], a["touchpoint_id"], a["kind"], a["score"])
        for segment in [None, *segments_of.get(a["customer_id"], [])]:
            expected[(segment, *values)] += 1
    counted = derived.answer_counts(answers, SEGMENT_MEMBERS).to_pylist()
    assert Counter(
        {(r["segment_id"], r["team_id"], r["touchpoint_id"], r["kind"], r["score"]): r["n"]
         for r in counted}
    ) == expected  # fmt: skip
    assert len(counted) == len(expected)  # one row per combination
    segments = [r["segment_id"] for r in counted]
    assert segments == sorted(segments, key=lambda s: (s is not None, s))  # every answer first


def test_the_draws_are_uniform_and_fixed_by_the_id():
    ids = np.arange(1, 200_001)
    draws = derived.draws(ids)
    assert ((draws >= 0) & (draws < 1)).all()
    assert stats.kstest(draws, "uniform").pvalue > 0.001
    # Neighbouring ids are not correlated (the store's ids are consecutive).
    assert abs(np.corrcoef(draws[:-1], draws[1:])[0, 1]) < 0.01
    assert np.array_equal(derived.draws(ids[::-1])[::-1], draws)


def test_the_sample_keeps_the_nps_and_ratings_of_the_drawn_responses_by_draw():
    answers = month_of_answers(20_000)
    sample = derived.answer_sample(answers)
    assert sample.schema.equals(ANSWER_SAMPLE)
    frame = answers.to_pandas()
    frame = frame[frame.kind.isin(["nps", "rating"])]
    chosen = frame[derived.draws(frame.response_id.to_numpy()) < derived.SAMPLE_SHARE]
    kept = sample.to_pandas()
    assert sorted(kept.response_id.unique()) == sorted(chosen.response_id.unique())
    assert len(kept) == len(chosen)
    columns = ["response_id", "touchpoint_id", "kind", "score", "customer_id", "team_id"]
    assert (
        kept[columns].sort_values(columns).fillna(-1).values.tolist()
        == chosen[columns].sort_values(columns).fillna(-1).values.tolist()
    )
    assert (kept.draw.diff().dropna() >= 0).all()  # sorted by draw
    # About one response in 16, within a 99.9 % binomial interval.
    low, high = stats.binom.interval(0.999, 20_000, derived.SAMPLE_SHARE)
    assert low <= kept.response_id.nunique() <= high
