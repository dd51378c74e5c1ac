"""How often the roll-back watch cries wolf on a stable touchpoint, and how soon it sees a drop.

Simulates touchpoints after an initiative and runs the one function that raises the roll-back
alert, :func:`cxloop.analytics.control.rollback_watch`, with its defaults for the rhythm:

- **answers**: 0–10 ratings drawn from a rounded normal on a latent scale (mean 8.0, sd 2.6,
  clipped to 0..10): mean ≈ 7.6, sd of individual answers ≈ 2.2, the ceiling's skew included.
  Counts per period are Poisson around ``n`` (weekly n ≈ 50, 100, 200; monthly n ≈ 200 and
  50), so the sd of a period mean is about 2.2/√n: 0.31, 0.22, 0.16 (and 0.31 monthly at 50).
  The watch gets each period's mean, count and within-period sd, as the fact store holds them.
- **overdispersion**: optionally each period's latent mean moves by N(0, τ²) (τ = 0.15 point:
  campaigns, mix of customers) — what real weeks show beyond sampling noise.
- **in control**: the baseline is the first ``baseline`` periods after the change (8 weeks or
  6 months); then ``HORIZON`` periods are watched. The false-alarm rate per watched period is
  alarms / periods watched until the first alarm (or the horizon): the rate of a geometric run
  length with censoring; ARL₀ = 1 / rate. 95 % intervals by bootstrap over touchpoints.
  Also: the share of touchpoints with a false alarm in their first year.
- **detection**: the latent mean drops so that the rating mean falls by 0.5 point, from the
  ``LEAD``-th watched period on (the CUSUM has run a while, as it will have in use); touchpoints
  that alarmed before the drop are left out (counted). Delay = periods from the first dropped
  period to the alarm (0: the first dropped period alarms); median with its order-statistic
  interval, mean with its t interval.

``python bench/bench_rollback_watch.py [--series N] [--seed S] [--out FILE]``
(about a minute for 2,000 series on a loaded 2-core machine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm

from cxloop.analytics.control import RHYTHMS, rollback_watch
from cxloop.analytics.quantiles import median_interval

LATENT_MEAN, LATENT_SD = 8.0, 2.6
SHIFT = 0.5  # rating points
LEAD = 5  # watched periods before the drop
HORIZON = {"weekly": 520, "monthly": 240}  # watched periods in control: 10 and 20 years
HISTORY = {"weekly": 26, "monthly": 12}  # periods before the change, at the old level
GAIN = 0.5  # the initiative's gain: the old level is this much lower (rating points)
SCALE = np.arange(11)


@dataclass(frozen=True)
class Scenario:
    rhythm: str
    n: int
    tau: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.rhythm}, n ≈ {self.n}" + (f", τ = {self.tau:g}" if self.tau else "")


SCENARIOS = (
    Scenario("weekly", 50),
    Scenario("weekly", 100),
    Scenario("weekly", 200),
    Scenario("monthly", 200),
    Scenario("monthly", 50),
    Scenario("weekly", 100, 0.15),
)


def probabilities(latent_mean: np.ndarray) -> np.ndarray:
    """P(rating = 0..10) for latent means (any shape): a rounded, clipped normal."""
    edges = np.r_[-np.inf, np.arange(0.5, 10.5), np.inf]
    cdf = norm.cdf((edges - np.asarray(latent_mean)[..., None]) / LATENT_SD)
    return np.diff(cdf, axis=-1)


def rating_mean(latent_mean: float) -> float:
    return float(probabilities(np.array(latent_mean)) @ SCALE)


def latent_for_drop(drop: float) -> float:
    """The latent mean whose rating mean is ``drop`` below the in-control one."""
    goal = rating_mean(LATENT_MEAN) - drop
    return brentq(lambda m: rating_mean(m) - goal, LATENT_MEAN - 5, LATENT_MEAN)


def simulate(rng, sc: Scenario, periods: int, *, drop_from: int | None = None):
    """Means, counts and sds of one touchpoint: ``HISTORY`` periods at the old level, then
    ``periods`` from the change on (index ``HISTORY``); ``drop_from`` counts from the change."""
    before = HISTORY[sc.rhythm]
    total = before + periods
    n = np.maximum(rng.poisson(sc.n, total), 2)
    latent = np.full(total, LATENT_MEAN) + rng.normal(0.0, sc.tau, total)
    latent[:before] += latent_for_drop(GAIN) - LATENT_MEAN
    if drop_from is not None:
        latent[before + drop_from :] += latent_for_drop(SHIFT) - LATENT_MEAN
    counts = rng.multinomial(n, probabilities(latent))
    means = counts @ SCALE / n
    sds = np.sqrt((counts @ SCALE**2 - n * means**2) / (n - 1))
    return means, n, sds


def watch(means, n, sds, sc: Scenario):
    return rollback_watch(
        means, n, sd=sds, change=HISTORY[sc.rhythm], rhythm=sc.rhythm, shift=SHIFT
    )


def in_control(rng, sc: Scenario, series: int):
    """Per touchpoint: whether it alarmed, periods watched until then, alarm in year one, and
    the CUSUM's k and h."""
    base = HISTORY[sc.rhythm] + RHYTHMS[sc.rhythm][0]
    horizon = HORIZON[sc.rhythm]
    year = 52 if sc.rhythm == "weekly" else 12
    alarmed = np.zeros(series, dtype=bool)
    exposure = np.zeros(series)
    first_year = np.zeros(series, dtype=bool)
    design = np.zeros((series, 2))
    for i in range(series):
        w = watch(*simulate(rng, sc, RHYTHMS[sc.rhythm][0] + horizon), sc)
        design[i] = w.k, w.h
        if w.alarm is None:
            exposure[i] = horizon
        else:
            alarmed[i] = True
            exposure[i] = w.alarm - base + 1
            first_year[i] = w.alarm - base < year
    return alarmed, exposure, first_year, design


def detection(rng, sc: Scenario, series: int):
    """Delays (periods) to the alarm after a 0.5-point drop, and how many alarmed earlier."""
    drop = RHYTHMS[sc.rhythm][0] + LEAD
    start = HISTORY[sc.rhythm] + drop
    delays, early, missed = [], 0, 0
    for _ in range(series):
        w = watch(*simulate(rng, sc, drop + 200, drop_from=drop), sc)
        if w.alarm is None:
            missed += 1
        elif w.alarm < start:
            early += 1
        else:
            delays.append(w.alarm - start)
    return np.array(delays), early, missed


def rate_interval(rng, alarmed, exposure, draws: int = 2000):
    """False alarms per watched period with a 95 % percentile bootstrap interval."""
    rate = alarmed.sum() / exposure.sum()
    idx = rng.integers(0, alarmed.size, (draws, alarmed.size))
    boot = alarmed[idx].sum(axis=1) / exposure[idx].sum(axis=1)
    return rate, *np.quantile(boot, [0.025, 0.975])


def false_alarm_rate(rng, sc: Scenario, series: int) -> float:
    """The measured false-alarm rate per watched period (for the test)."""
    alarmed, exposure, _, _ = in_control(rng, sc, series)
    return float(alarmed.sum() / exposure.sum())


def sd_of_mean(sc: Scenario) -> float:
    p = probabilities(np.array(LATENT_MEAN))
    var = float(p @ SCALE**2 - (p @ SCALE) ** 2)
    # τ is on the latent scale; a latent step moves the rating mean by this much less.
    slope = (rating_mean(LATENT_MEAN + 0.01) - rating_mean(LATENT_MEAN - 0.01)) / 0.02
    return math.sqrt(var / sc.n + (slope * sc.tau) ** 2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--series", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from machine import cpu_name

    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    p = probabilities(np.array(LATENT_MEAN))
    mean, sd = float(p @ SCALE), math.sqrt(float(p @ SCALE**2 - (p @ SCALE) ** 2))
    lines = [
        f"Roll-back watch (`rollback_watch`, lower CUSUM, defaults per rhythm), "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d}, {cpu_name()}, Python {platform.python_version()}, "
        f"{args.series} simulated touchpoints per row, seed {args.seed}.",
        f"Answers 0–10: mean {mean:.2f}, sd {sd:.2f}; drop to detect {SHIFT} point "
        f"(latent {LATENT_MEAN} → {latent_for_drop(SHIFT):.3f}).",
        "",
        "| series | sd of a period mean | baseline | k / h (z units, median) | nominal ARL₀ "
        "| false alarms per watched period [95 %] | ARL₀ measured [95 %] "
        "| touchpoints with a false alarm in year one |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    delay_rows = [
        "| series | delay median [95 %] (periods) | delay mean [95 %] "
        "| alarm within the first 4 dropped periods | alarmed before the drop "
        "| not detected in 200 |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for sc in SCENARIOS:
        base, nominal = RHYTHMS[sc.rhythm]
        alarmed, exposure, first_year, design = in_control(rng, sc, args.series)
        k, h = np.median(design, axis=0)
        rate, lo, hi = rate_interval(rng, alarmed, exposure)
        lines.append(
            f"| {sc.name} | {sd_of_mean(sc):.2f} | {base} {sc.rhythm[:-2]}s "
            f"| {k:.2f} / {h:.2f} | {nominal:g} "
            f"| {rate:.5f} [{lo:.5f}, {hi:.5f}] "
            f"| {1 / rate:.0f} [{1 / hi:.0f}, {1 / lo:.0f}] | {first_year.mean():.1%} |"
        )
        delays, early, missed = detection(rng, sc, args.series)
        med = median_interval(delays)
        m, se = delays.mean(), delays.std(ddof=1) / math.sqrt(delays.size)
        delay_rows.append(
            f"| {sc.name} | {med.value:g} [{med.low:g}, {med.high:g}] "
            f"| {m:.2f} [{m - 1.96 * se:.2f}, {m + 1.96 * se:.2f}] "
            f"| {(delays <= 3).mean():.1%} | {early} | {missed} |"
        )
        print(lines[-1], delay_rows[-1], sep="\n", file=sys.stderr)
    text = "\n".join([*lines, "", *delay_rows, ""])
    text += f"\n{time.perf_counter() - started:.0f} s on this machine.\n"
    print(text)
    if args.out:
        args.out.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
