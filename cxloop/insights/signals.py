"""Periods at the rhythm of the data, and the control chart that signals real changes.

One place decides both, so that the journey map's badges, the touchpoint page's control chart
and the charts over time agree on what a period is and when it signals:

- :func:`rhythm` reads when the answers arrive: a relationship survey that runs in waves puts
  nearly all its answers into one month of each quarter, and is charted per quarter (the wave
  and the late answers after it); anything else, per month.
- :func:`periods` cuts a range of months into those periods; the period that is not over yet
  (or that the page's period cuts off) is ``partial``.
- :func:`control_chart` takes per-month counts (answers in the top box, answers) and returns a
  :class:`ControlChartResult`: the points, their limits, which periods take part (at least
  :data:`MIN_N` answers, complete), the rule signals and the latest :class:`Signal` in
  plain words. The maths is :func:`cxloop.analytics.control.proportion_signals`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cxloop.analytics import MIN_N
from cxloop.analytics.control import SIGNAL_LIMIT, proportion_signals
from cxloop.analytics.results import to_plain

__all__ = [
    "BASELINE_MONTHS",
    "MIN_N",
    "WAVE_SHARE",
    "ChartPoint",
    "ChartSignal",
    "ControlChartResult",
    "Period",
    "Signal",
    "control_chart",
    "periods",
    "rhythm",
]

#: The first months of data whose periods set the control chart's centre line (phase I).
BASELINE_MONTHS = 6
#: A series whose answers fall into one month of each quarter at least this often runs in
#: waves: the demo's relationship survey puts 99 % of its ratings into its wave months.
WAVE_SHARE = 0.8

MONTH, QUARTER = "month", "quarter"


class _Plain:
    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)


def _index(month: str) -> int:
    year, mon = month.split("-")[:2]
    return int(year) * 12 + int(mon) - 1


def _month(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _last_day(month: str) -> dt.date:
    nxt = _index(month) + 1
    return dt.date(nxt // 12, nxt % 12 + 1, 1) - dt.timedelta(days=1)


@dataclass(frozen=True)
class Period(_Plain):
    """A period of a chart: ``start`` and ``end`` (ISO first and last day), its ``months``
    ("YYYY-MM"), the ``grain`` ("month" or "quarter") and whether it is ``partial`` (not over
    on the day the data are read to)."""

    start: str
    end: str
    months: tuple[str, ...]
    grain: str
    partial: bool

    @property
    def key(self) -> str:
        """The period's first month, "YYYY-MM"."""
        return self.months[0]


def rhythm(counts_by_month: Mapping[str, int]) -> str:
    """ "quarter" when the answers arrive in quarterly waves, else "month".

    Waves: over at least two quarters with answers, the months of one position in the quarter
    (all Marches, Junes, Septembers and Decembers, say) hold at least :data:`WAVE_SHARE` of the
    answers. Monthly transactional feedback spreads over the three positions evenly."""
    total = sum(int(v) for v in counts_by_month.values())
    if total == 0:
        return MONTH
    by_position = [0, 0, 0]
    quarters = set()
    for month, count in counts_by_month.items():
        if count:
            by_position[_index(month) % 3] += int(count)
            quarters.add(_index(month) // 3)
    if len(quarters) >= 2 and max(by_position) >= WAVE_SHARE * total:
        return QUARTER
    return MONTH


def periods(
    first: str, last: str, grain: str, *, as_of: dt.date | None = None
) -> tuple[Period, ...]:
    """The periods of ``grain`` covering the months ``first``..``last`` ("YYYY-MM"); a
    quarter is a calendar quarter (its months outside the range left out). A period whose last
    day is after ``as_of`` is partial."""
    if grain not in (MONTH, QUARTER):
        raise ValueError(f"grain must be 'month' or 'quarter', got {grain!r}")
    lo, hi = _index(first), _index(last)
    out: list[Period] = []
    step = 3 if grain == QUARTER else 1
    start = lo - lo % 3 if grain == QUARTER else lo
    while start <= hi:
        months = tuple(_month(i) for i in range(max(start, lo), min(start + step, hi + 1)))
        end = _last_day(_month(start + step - 1))
        out.append(
            Period(
                start=f"{_month(start)}-01",
                end=end.isoformat(),
                months=months,
                grain=grain,
                partial=as_of is not None and end > as_of,
            )
        )
        start += step
    return tuple(out)


@dataclass(frozen=True)
class ChartPoint(_Plain):
    """A period of the control chart: the top-2-box share in per cent and its control limits
    (which vary with the period's ``n``). ``period`` is the ISO first day; ``low_n``: fewer than
    :data:`MIN_N` answers; ``partial``: the period is not over. Either way the point is
    drawn hollow and takes no part in the signals."""

    period: str
    value: float
    lower: float
    upper: float
    n: int
    low_n: bool = False
    partial: bool = False
    end: str = ""

    @property
    def usable(self) -> bool:
        return not (self.low_n or self.partial)


@dataclass(frozen=True)
class ChartSignal(_Plain):
    """A point that signals: ``index`` into the chart's points, the ``rule`` that fired
    (:data:`cxloop.analytics.control.SIGNAL_RULES`), what it says, and whether the share
    moved ``"down"`` (a roll-back) or ``"up"``."""

    period: str
    index: int
    rule: int
    description: str
    direction: str


@dataclass(frozen=True)
class Signal(_Plain):
    """The latest change a control chart signals, in words a page can print.

    ``direction`` "down" or "up"; ``since`` the first month ("YYYY-MM") of the signalled run
    (the consecutive usable periods on the signal's side of the centre line, beyond one
    standard error, that end at the signalling period); ``period`` the ISO first day of the
    last signalling period; ``rule`` the rule that fired; ``before`` and ``after`` the share of
    4s and 5s (per cent) at the centre line and in the run; ``reason`` one line in English
    (pages translate from the numbers: ``message`` names the sentence)."""

    direction: str
    since: str
    period: str
    rule: int
    before: float
    after: float
    reason: str
    message: str


@dataclass(frozen=True)
class ControlChartResult(_Plain):
    """A chart of the share of 4s and 5s per period with its signals.

    The centre line is the share over the ``baseline`` periods (those of the first
    :data:`BASELINE_MONTHS` months with usable answers: phase I), limits are the centre ±
    ``limit`` standard errors of each period's difference from it, widened by ``sigma_z`` when
    periods vary more than chance allows (Laney); see
    :func:`cxloop.analytics.control.proportion_signals`. ``signals`` are the indices beyond the
    limits (for :func:`cxloop.insights.charts.control_chart`); ``rule_signals`` every rule that
    fired; ``first_signal`` and ``first_drop`` the ISO first day of the first signalled run
    and of the first signalled drop; ``signal`` the latest signal (see :meth:`signal_from`).
    """

    points: tuple[ChartPoint, ...]
    centre: float
    baseline: tuple[str, ...]
    rules: str
    signals: tuple[int, ...]
    rule_signals: tuple[ChartSignal, ...]
    first_signal: str | None
    first_drop: str | None
    grain: str = MONTH
    limit: float = SIGNAL_LIMIT
    sigma_z: float = 1.0
    runs: tuple[Signal, ...] = ()

    @property
    def signal(self) -> Signal | None:
        return self.runs[-1] if self.runs else None

    def signal_from(self, day: dt.date | str | None) -> Signal | None:
        """The latest signal whose signalling period ends on or after ``day`` (the first day of
        a page's period), None without one."""
        start = None if day is None else str(day)[:10]
        for run in reversed(self.runs):
            point = next(p for p in self.points if p.period == run.period)
            if start is None or point.end >= start:
                return run
        return None


def control_chart(
    counts: Mapping[str, tuple[int, int]],
    *,
    grain: str | None = None,
    first: str | None = None,
    last: str | None = None,
    as_of: dt.date | None = None,
    baseline_months: int | None = BASELINE_MONTHS,
    min_n: int = MIN_N,
) -> ControlChartResult | None:
    """The control chart of per-month ``counts`` ("YYYY-MM" → (answers 4–5, answers)).

    ``grain`` defaults to :func:`rhythm` of the counts; ``first``/``last`` widen the range of
    months (default: the first and last month with answers); ``as_of`` the day the data are read
    to (periods ending after it are partial). None when there are no answers."""
    months = sorted(m for m, (_, n) in counts.items() if n > 0)
    if not months:
        return None
    grain = grain or rhythm({m: n for m, (_, n) in counts.items()})
    lo = min(months[0], first or months[0])
    hi = max(months[-1], last or months[-1])
    cut = periods(lo, hi, grain, as_of=as_of)
    x = np.array([sum(counts.get(m, (0, 0))[0] for m in p.months) for p in cut], dtype=float)
    n = np.array([sum(counts.get(m, (0, 0))[1] for m in p.months) for p in cut], dtype=float)
    # Periods before the first answer or after the last add nothing: drop empty ends.
    filled = np.flatnonzero(n > 0)
    keep = slice(int(filled[0]), int(filled[-1]) + 1)
    cut, x, n = cut[keep], x[keep], n[keep]
    low_n = n < min_n
    partial = np.array([p.partial for p in cut])
    usable = ~low_n & ~partial & (n > 0)
    first_usable = next((p for p, u in zip(cut, usable, strict=True) if u), None)
    if baseline_months is None or first_usable is None:
        size = max(int(usable.sum()), 1)
    else:
        horizon = _index(first_usable.key) + baseline_months
        size = max(
            1, sum(1 for p, u in zip(cut, usable, strict=True) if u and _index(p.key) < horizon)
        )
    chart = proportion_signals(x, n, usable=usable, baseline=size)
    # Periods without answers have no point; indices below are into the points.
    shown = [i for i in range(len(cut)) if n[i] > 0]
    at = {i: k for k, i in enumerate(shown)}
    rule_signals = tuple(
        ChartSignal(
            period=cut[s.index].start,
            index=at[s.index],
            rule=s.rule,
            description=s.description,
            direction="down" if chart.z[s.index] < 0 else "up",
        )
        for s in chart.signals
    )
    runs = _runs(cut, chart)
    drops = [r for r in runs if r.direction == "down"]
    points = tuple(
        ChartPoint(
            period=cut[i].start,
            value=100.0 * float(chart.proportion[i]),
            lower=100.0 * float(chart.lower[i]),
            upper=100.0 * float(chart.upper[i]),
            n=int(n[i]),
            low_n=bool(low_n[i]),
            partial=bool(partial[i]),
            end=cut[i].end,
        )
        for i in shown
    )
    return ControlChartResult(
        points=points,
        centre=100.0 * chart.center,
        baseline=tuple(cut[i].start for i in chart.baseline),
        rules="proportion-signals",
        signals=tuple(dict.fromkeys(s.index for s in rule_signals if s.rule == 1)),
        rule_signals=rule_signals,
        first_signal=f"{runs[0].since}-01" if runs else None,
        first_drop=f"{drops[0].since}-01" if drops else None,
        grain=grain,
        limit=chart.limit,
        sigma_z=chart.sigma_z,
        runs=runs,
    )


_REASONS = {
    "down": "the share of 4s and 5s fell from {before:.0f} % to {after:.0f} % since {since}",
    "up": "the share of 4s and 5s rose from {before:.0f} % to {after:.0f} % since {since}",
}


def _runs(cut: Sequence[Period], chart) -> tuple[Signal, ...]:
    """One :class:`Signal` per signalled run, oldest first: a signalling point with the usable
    points before it on the same side beyond one standard error; a later signal of the same run
    replaces the earlier one (the run's ``period`` is its latest signal)."""
    used = np.flatnonzero(chart.used)
    position = {int(i): k for k, i in enumerate(used)}
    runs: dict[tuple[str, int], Signal] = {}
    for s in chart.signals:
        direction = "down" if chart.z[s.index] < 0 else "up"
        sign = -1.0 if direction == "down" else 1.0
        k = position[s.index]
        while k > 0 and sign * chart.z[used[k - 1]] > 1.0:
            k -= 1
        first = int(used[k])
        members = [int(i) for i in used[k : position[s.index] + 1]]
        after = 100.0 * float(np.mean(chart.proportion[members]))
        before = 100.0 * chart.center
        since = cut[first].key
        runs[(direction, first)] = Signal(
            direction=direction,
            since=since,
            period=cut[s.index].start,
            rule=s.rule,
            before=before,
            after=after,
            reason=_REASONS[direction].format(before=before, after=after, since=since),
            message=f"signal_{direction}",
        )
    return tuple(sorted(runs.values(), key=lambda r: (r.period, r.since)))
