"""How often the journey map's signals fire on stable touchpoints, and how soon they see a drop.

Simulates in-control data of the demo's shape and runs the one function that decides the map's
badges and the touchpoint page's control chart, :func:`cxloop.analytics.control.
proportion_signals`, with the options the product uses, against the textbook alternatives:

- **shape**: 20 touchpoints, 24 months of a relationship survey in quarterly waves (9 calendar
  quarters: the first holds one wave, the last is the incomplete current quarter and never
  signals), the share of ratings 4–5 per touchpoint between 0.35 and 0.80; per quarter about
  400 ratings of a touchpoint in the target segment and 980 overall (the full demo: 367–429 and
  932–1,011); the map reads the last four complete quarters (the default year).
  A monthly series (transactional CSAT, about 90 answers a month, the last 12 months read) too.
- **overdispersion**: each period's true share is the touchpoint's share moved on the logit
  scale by N(0, τ²), τ = 0 (binomial), 0.05 and 0.10 (about ±1.2 and ±2.5 points of share
  between waves: what real waves of one client base show).
- **rules**: ``product`` (phase-I baseline of the first 6 months, Laney's σ_z, one point
  beyond 3.5 standard errors or two in a row beyond 2.5); ``3-sigma`` (the same, one point
  beyond 3); ``western-electric`` (3-sigma limits plus Western Electric's rules 2–4, what the
  touchpoint page used before).
- **detection**: the planted roll-back (``ROLLBACK_DROP`` = −0.8 rating points on the demo's
  latent scale, σ ≈ 0.84) and a third of it, from the 8th quarter on; the delay is the number
  of usable periods after the first changed one before a signal (0: the first changed period
  signals).

``python bench/control_false_alarms.py [--maps N] [--seed S]`` (about 3 minutes for 1,000 maps
on a loaded 2-core machine).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from cxloop.analytics.control import proportion_signals, run_rules

ROLLBACK_DROP = -0.8  # cxloop.demo.truth.ROLLBACK_DROP (rating points)
LATENT_SD = math.sqrt(0.35**2 + 0.12**2 + 0.75**2)  # client, team and answer noise of the demo
TOUCHPOINTS = 20


@dataclass(frozen=True)
class Shape:
    name: str
    periods: int  # periods in the chart, the last one incomplete
    n: int  # answers per complete period
    first_n: int  # answers in the first period
    last_n: int  # answers in the incomplete last period
    baseline: int  # periods of the first 6 months (data from a December: Q4, Q1, Q2)
    read: int  # complete periods the map reads (the last year)


SHAPES = (
    Shape("quarterly, target segment (n ≈ 400)", 9, 400, 375, 10, 3, 4),
    Shape("quarterly, everyone (n ≈ 980)", 9, 980, 944, 20, 3, 4),
    Shape("monthly (n ≈ 90)", 25, 90, 90, 12, 6, 12),
)
RULES = ("product", "3-sigma", "western-electric")


def simulate(rng, shape: Shape, tau: float, *, shift: float = 0.0, shift_from: int | None = None):
    """Counts (successes, n) of one touchpoint; ``shift`` in latent rating points from period
    ``shift_from`` on."""
    p0 = rng.uniform(0.35, 0.80)
    n = np.full(shape.periods, shape.n)
    n[0], n[-1] = shape.first_n, shape.last_n
    logit = np.log(p0 / (1 - p0)) + rng.normal(0.0, tau, shape.periods)
    p = 1.0 / (1.0 + np.exp(-logit))
    if shift and shift_from is not None:
        moved = norm.cdf(norm.ppf(p) + shift / LATENT_SD)
        p = np.where(np.arange(shape.periods) >= shift_from, moved, p)
    return rng.binomial(n, p), n


def signalled(x, n, shape: Shape, rules: str) -> np.ndarray:
    """Which periods signal (bool per period)."""
    usable = np.ones(shape.periods, dtype=bool)
    usable[-1] = False  # the incomplete current period
    out = np.zeros(shape.periods, dtype=bool)
    if rules == "product":
        chart = proportion_signals(x, n, usable=usable, baseline=shape.baseline)
        for s in chart.signals:
            out[s.index] = True
        return out
    chart = proportion_signals(x, n, usable=usable, baseline=shape.baseline, limit=3.0)
    index = np.flatnonzero(chart.used)
    z = chart.z[index]
    fired = run_rules(z, center=0.0, sigma=1.0) if rules == "western-electric" else []
    for s in fired:
        out[index[s.index]] = True
    out[index[np.abs(z) > 3.0]] = True
    return out


def false_alarms(rng, shape: Shape, tau: float, rules: str, maps: int) -> tuple[float, float]:
    """(per-point rate over every usable point after the baseline, per-map rate of any badge
    in the periods read)."""
    points = alarms = maps_alarmed = 0
    read = slice(shape.periods - 1 - shape.read, shape.periods - 1)
    for _ in range(maps):
        badge = False
        for _ in range(TOUCHPOINTS):
            x, n = simulate(rng, shape, tau)
            s = signalled(x, n, shape, rules)
            points += shape.periods - 1 - shape.baseline
            alarms += int(s[shape.baseline : -1].sum())
            badge |= bool(s[read].any())
        maps_alarmed += badge
    return alarms / points, maps_alarmed / maps


def delay(rng, shape: Shape, tau: float, rules: str, drop: float, runs: int) -> tuple[float, float]:
    """(share of drops signalled within the chart, median delay in periods of those)."""
    start = shape.periods - 3  # two complete periods after the change, then the current one
    delays = []
    for _ in range(runs):
        x, n = simulate(rng, shape, tau, shift=drop, shift_from=start)
        s = np.flatnonzero(signalled(x, n, shape, rules)[start:-1])
        if s.size:
            delays.append(int(s[0]))
    return len(delays) / runs, float(np.median(delays)) if delays else math.nan


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--maps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261204)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    print(
        f"{args.maps} simulated maps of {TOUCHPOINTS} stable touchpoints per row; seed {args.seed}"
    )
    print("| series | τ | rules | false alarms per point | maps with a false badge |")
    print("| --- | --- | --- | --- | --- |")
    for shape in SHAPES:
        for tau in (0.0, 0.05, 0.10):
            for rules in RULES:
                per_point, per_map = false_alarms(rng, shape, tau, rules, args.maps)
                print(
                    f"| {shape.name} | {tau:g} | {rules} | {per_point:.5f} (1 in "
                    f"{(1 / per_point if per_point else math.inf):,.0f}) | {per_map:.3f} |"
                )
    print()
    print("| series | τ | drop (rating points) | rules | signalled | median delay (periods) |")
    print("| --- | --- | --- | --- | --- | --- |")
    runs = max(200, args.maps // 2)
    for shape in SHAPES:
        for tau in (0.0, 0.10):
            for drop in (ROLLBACK_DROP, ROLLBACK_DROP / 3):
                for rules in ("product", "western-electric"):
                    found, median = delay(rng, shape, tau, rules, drop, runs)
                    row = (shape.name, f"{tau:g}", f"{drop:.2f}", rules)
                    row += (f"{found:.3f}", f"{median:g}")
                    print("| " + " | ".join(row) + " |")
    print(f"\n{time.perf_counter() - started:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
