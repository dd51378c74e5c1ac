"""Periods at the rhythm of the data and the control chart's signals (cxloop.insights.signals)."""

import datetime as dt

import pytest

from cxloop.insights.signals import (
    MIN_N,
    control_chart,
    periods,
    rhythm,
)

# A relationship survey in quarterly waves (March, June, September, December) with a few late
# answers between them, as the demo's: 2024-12 .. 2026-12.
MONTHS = [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)]
MONTHS = ["2024-12", *MONTHS]


def waves(share=0.62, drop_from=None, drop_to=0.3, n=400):
    counts = {}
    for month in MONTHS:
        wave = int(month[5:]) % 3 == 0 and month != "2026-12"  # before the December wave
        size = n if wave else 4
        p = drop_to if drop_from and month >= drop_from else share
        counts[month] = (round(size * p), size)
    return counts


def test_it_finds_quarterly_waves_and_monthly_feedback():
    assert rhythm({m: n for m, (_, n) in waves().items()}) == "quarter"
    assert rhythm({m: 90 for m in MONTHS}) == "month"
    assert rhythm({"2026-03": 400}) == "month"  # one wave is no rhythm yet
    assert rhythm({}) == "month"


def test_it_cuts_calendar_quarters_and_marks_the_current_one_partial():
    cut = periods("2024-12", "2026-12", "quarter", as_of=dt.date(2026, 12, 4))
    assert [p.start for p in cut[:2]] == ["2024-10-01", "2025-01-01"]
    assert cut[0].months == ("2024-12",)
    assert cut[-1].months == ("2026-10", "2026-11", "2026-12")
    assert [p.partial for p in cut] == [False] * 8 + [True]
    months = periods("2026-10", "2026-12", "month", as_of=dt.date(2026, 11, 30))
    assert [p.partial for p in months] == [False, False, True]
    with pytest.raises(ValueError, match="grain"):
        periods("2026-01", "2026-02", "week")


def test_it_signals_a_drop_from_the_first_month_of_its_quarter():
    chart = control_chart(waves(drop_from="2026-07"), as_of=dt.date(2026, 12, 4))
    assert chart.grain == "quarter"
    assert chart.first_drop == "2026-07-01"
    signal = chart.signal_from(dt.date(2025, 12, 4))
    assert (signal.direction, signal.since, signal.rule) == ("down", "2026-07", 1)
    assert "fell from 62 % to 30 %" in signal.reason
    # The current quarter holds four late answers: hollow, partial, never a signal.
    last = chart.points[-1]
    assert last.partial and last.low_n and last.n == 12
    assert all(s.index != len(chart.points) - 1 for s in chart.rule_signals)
    # A page whose period starts after the signalled quarter shows no badge.
    assert chart.signal_from(dt.date(2026, 10, 1)) is None


def test_a_period_with_too_few_answers_never_signals():
    counts = {m: (int(0.6 * 100), 100) for m in MONTHS[:12]}
    counts["2025-12"] = (0, MIN_N - 1)  # every answer below 4, but too few answers
    chart = control_chart(counts, as_of=dt.date(2026, 12, 4))
    point = next(p for p in chart.points if p.period == "2025-12-01")
    assert point.low_n and point.value == 0
    assert chart.rule_signals == () and chart.signal is None
    counts["2025-12"] = (0, MIN_N)
    assert control_chart(counts, as_of=dt.date(2026, 12, 4)).signal.direction == "down"


def test_a_stable_touchpoint_has_no_signal():
    chart = control_chart(waves(), as_of=dt.date(2026, 12, 4))
    assert chart.rule_signals == () and chart.first_signal is None
    assert chart.centre == pytest.approx(62, abs=0.5)
    assert control_chart({}, as_of=dt.date(2026, 12, 4)) is None
