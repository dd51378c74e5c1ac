"""Benchmarks of cxloop.analytics: exact LMG and pairwise-complete correlations.

Run from the repository root: ``python bench/bench_analytics.py``. It prints the machine, then the
median (and min/max) wall time of several repeats of each case, and peak memory where it matters.
Targets (issue "The statistical core"): exact LMG with p = 18, n = 20,000 in ≤ 0.1 s and p = 25
in ≤ 10 s; pairwise_correlation on 10 M × 21 with 30 % missing in ≤ 1.5 s, on 2 cores.
The whole run takes about a minute; the latest figures are in bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import sys
import time
import tracemalloc
from functools import partial
from pathlib import Path

import numpy as np
from machine import cpu_name


def timed(fn, repeats: int) -> list[float]:
    fn()  # warm-up: thread pools, first-touch page faults
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def report(label: str, times: list[float], target: float | None = None) -> None:
    med = statistics.median(times)
    verdict = "" if target is None else ("  OK" if med <= target else f"  MISSES {target:g} s")
    print(
        f"{label:58s} median {med:8.4f} s   min {min(times):8.4f}   max {max(times):8.4f}"
        f"   ({len(times)} runs){verdict}"
    )


def survey_frame(n: int, p: int, seed: int):
    """Touchpoint ratings 1–5 (correlated) and a 0–10 recommendation driven by them."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    mix = np.eye(p) + 0.3 * rng.normal(size=(p, p)) / np.sqrt(p)
    latent = rng.normal(size=(n, p)) @ mix
    ratings = np.clip(np.rint(3.4 + 0.9 * latent), 1, 5)
    weights = rng.uniform(0.02, 0.9, size=p)
    nps = np.clip(np.rint(7.5 + (latent @ weights) / np.sqrt(p) + rng.normal(0, 1.3, n)), 0, 10)
    frame = pd.DataFrame(ratings, columns=[f"tp{j:02d}" for j in range(p)])
    frame["nps"] = nps
    return frame


def bench_lmg(repeats: int) -> None:
    from cxloop.analytics import lmg, lmg_from_covariance, relative_weights

    for p, runs, target in ((18, repeats, 0.1), (20, repeats, None), (25, 3, 10.0)):
        frame = survey_frame(20_000, p, seed=p)
        drivers = [c for c in frame.columns if c != "nps"]
        times = timed(partial(lmg, frame, outcome="nps", drivers=drivers), runs)
        report(f"lmg exact, p = {p}, n = 20,000 (pandas frame → result)", times, target)
        if p == 18:
            cov, names = frame.cov().to_numpy(), list(frame.columns)
            times = timed(partial(lmg_from_covariance, cov, names, outcome="nps", n=20_000), runs)
            report("lmg_from_covariance, p = 18 (the 2^18 subsets only)", times)
            boot = partial(lmg, frame, outcome="nps", drivers=drivers, confidence=0.95)
            times = timed(partial(boot, n_boot=200, seed=1), 1)
            report("lmg exact + 200 bootstrap resamples, p = 18, n = 20,000", times)
        if p == 25:
            times = timed(partial(lmg, frame, outcome="nps", drivers=drivers, workers=2), runs)
            report("lmg exact, p = 25, n = 20,000, workers=2 (threads)", times)
            tracemalloc.start()
            lmg(frame, outcome="nps", drivers=drivers)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"{'':58s} peak memory of the p = 25 call: {peak / 1e6:.1f} MB (tracemalloc)")
    frame = survey_frame(20_000, 100, seed=100)
    drivers = [c for c in frame.columns if c != "nps"]
    times = timed(partial(relative_weights, frame, outcome="nps", drivers=drivers), repeats)
    report("relative_weights, p = 100, n = 20,000", times)


def big_matrix(n: int, p: int, missing: float, seed: int) -> np.ndarray:
    """n × p ratings-like floats with NaN holes, generated in chunks to keep memory flat."""
    rng = np.random.default_rng(seed)
    mix = np.eye(p) + 0.4 * rng.normal(size=(p, p)) / np.sqrt(p)
    out = np.empty((n, p))
    step = 500_000
    for start in range(0, n, step):
        stop = min(n, start + step)
        block = 3.5 + (rng.standard_normal((stop - start, p)) @ mix)
        block[rng.random((stop - start, p)) < missing] = np.nan
        out[start:stop] = block
    return out


def bench_correlation(repeats: int, rows: int) -> None:
    from cxloop.analytics import pairwise_correlation

    x = big_matrix(rows, 21, 0.3, seed=21)
    gb = x.nbytes / 1e9
    times = timed(partial(pairwise_correlation, x), repeats)
    report(
        f"pairwise_correlation {rows / 1e6:g} M × 21, 30 % missing ({gb:.2f} GB input)",
        times,
        1.5 if rows == 10_000_000 else None,
    )
    tracemalloc.start()
    pairwise_correlation(x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KiB on Linux → GB
    print(
        f"{'':58s} working memory beyond the input: {peak / 1e6:.1f} MB (tracemalloc peak); "
        f"process peak RSS {rss:.2f} GB (input included)"
    )
    one = x[: min(rows, 1_000_000)]
    import pandas as pd

    frame = pd.DataFrame(one)
    times = timed(frame.corr, 1)
    report(f"  for scale: pandas DataFrame.corr() on {len(one) / 1e6:g} M × 21", times)
    times = timed(partial(pairwise_correlation, one), repeats)
    report(f"  pairwise_correlation on the same {len(one) / 1e6:g} M × 21", times)


def main() -> None:
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows for correlations")
    args = parser.parse_args()
    import scipy

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"cxloop.analytics benchmarks — {dt.date.today().isoformat()}")
    print(
        f"{cpu_name()}, {cores} cores; Python {platform.python_version()}, NumPy "
        f"{np.__version__}, SciPy {scipy.__version__}; load average {os.getloadavg()[0]:.2f}"
    )
    print()
    bench_lmg(args.repeats)
    print()
    bench_correlation(max(3, args.repeats // 2), args.rows)


if __name__ == "__main__":
    main()
