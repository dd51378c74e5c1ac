"""Statistical process control: p-chart, EWMA, tabular CUSUM and run rules.

They tell a real change in a touchpoint's score (for example a roll-back after an improvement)
from week-to-week noise. Inputs are short series of period values, not individual responses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.signal import lfilter

from ._input import as_vector
from .results import to_plain

__all__ = [
    "ControlChart",
    "Cusum",
    "ProportionSignals",
    "RuleSignal",
    "p_chart",
    "proportion_signals",
    "ewma_chart",
    "cusum_chart",
    "run_rules",
    "RollbackWatch",
    "RHYTHMS",
    "rollback_watch",
    "cusum_h_for_arl",
]


@dataclass(frozen=True)
class ControlChart:
    """A control chart: the plotted statistic, its limits per point, and the points that signal.

    ``signals`` are 0-based indices of points outside ``[lower, upper]``.
    """

    statistic: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    signals: tuple[int, ...]
    center: float

    def to_dict(self) -> dict[str, Any]:
        """The chart as a plain dict of lists."""
        return to_plain(self)


@dataclass(frozen=True)
class Cusum:
    """Tabular CUSUM: the upper and lower cumulative sums and the points where either exceeds h."""

    upper: np.ndarray
    lower: np.ndarray
    signals: tuple[int, ...]
    h: float

    def to_dict(self) -> dict[str, Any]:
        """The CUSUM as a plain dict of lists."""
        return to_plain(self)


@dataclass(frozen=True)
class RuleSignal:
    """A run rule that fired: the point (0-based) that completes the pattern, the rule number in
    its set, and what the rule says."""

    index: int
    rule: int
    description: str

    def to_dict(self) -> dict[str, Any]:
        """The signal as a plain dict."""
        return to_plain(self)


def _series(values: Any, name: str = "values") -> np.ndarray:
    x = as_vector(values, name=name)
    if x.size == 0:
        raise ValueError(f"{name} is empty")
    bad = ~np.isfinite(x)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}: missing or infinite value at position {i}; a chart needs every "
            f"period (drop or fill it explicitly)"
        )
    return x


def _positive(value: Any, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be positive, got {value!r}")
    return v


def _finite(value: Any, name: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return v


def _outside(stat: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.flatnonzero((stat > upper) | (stat < lower)))


def p_chart(successes: Any, n: Any, *, L: float = 3.0, center: float | None = None) -> ControlChart:
    r"""p-chart for a proportion per period (e.g. the share of detractors each week).

    .. math::

        \hat p_t = x_t / n_t, \qquad \bar p = \sum_t x_t \big/ \sum_t n_t, \qquad
        \bar p \pm L\sqrt{\bar p(1 - \bar p)/n_t}

    limits clipped to [0, 1] and varying with each period's :math:`n_t`.

    Parameters
    ----------
    successes, n : array-like
        Counts per period, :math:`0 \le x_t \le n_t`, :math:`n_t > 0`.
    L : float
        Width of the limits in standard errors, default 3.
    center : float, optional
        A known in-control proportion (phase II); default :math:`\bar p` from the data.

    Returns
    -------
    ControlChart
        ``statistic`` the proportions, ``signals`` the periods outside the limits.

    References
    ----------
    Montgomery, D. C. (2019). *Introduction to Statistical Quality Control*, 8th ed., §7.2.
    NIST/SEMATECH e-Handbook of Statistical Methods, §6.3.3.2 (proportion control charts).

    Examples
    --------
    >>> chart = p_chart([12, 15, 11, 30], [100, 110, 95, 105])
    >>> chart.signals
    (3,)
    """
    x = _series(successes, "successes")
    m = _series(n, "n")
    if x.size != m.size:
        raise ValueError(f"successes and n differ in length ({x.size} and {m.size})")
    if (m <= 0).any():
        raise ValueError(f"n must be positive; period {int(np.flatnonzero(m <= 0)[0])} has none")
    if (x < 0).any() or (x > m).any():
        i = int(np.flatnonzero((x < 0) | (x > m))[0])
        raise ValueError(f"period {i}: successes {x[i]:g} not within 0..n={m[i]:g}")
    width = _positive(L, "L")
    p_bar = float(x.sum() / m.sum()) if center is None else _finite(center, "center")
    if not 0.0 <= p_bar <= 1.0:
        raise ValueError(f"center must be a proportion in [0, 1], got {center!r}")
    p = x / m
    se = np.sqrt(p_bar * (1.0 - p_bar) / m)
    lower = np.clip(p_bar - width * se, 0.0, 1.0)
    upper = np.clip(p_bar + width * se, 0.0, 1.0)
    return ControlChart(p, lower, upper, _outside(p, lower, upper), p_bar)


def ewma_chart(
    values: Any,
    *,
    lam: float,
    target: float,
    sigma: float,
    L: float = 3.0,
    limits: str = "steady-state",
) -> ControlChart:
    r"""Exponentially weighted moving average (EWMA) chart.

    .. math::

        z_0 = \mu_0,\quad z_t = \lambda x_t + (1 - \lambda) z_{t-1},\qquad
        \mu_0 \pm L\sigma\sqrt{\frac{\lambda}{2 - \lambda}
        \bigl[1 - (1 - \lambda)^{2t}\bigr]}

    ``limits="steady-state"`` drops the bracket (its limit as :math:`t\to\infty`), as the
    NIST/SEMATECH e-Handbook does; ``limits="exact"`` keeps the narrower early limits, which
    catch an early shift sooner.

    Parameters
    ----------
    values : array-like
        One value per period (e.g. weekly mean satisfaction).
    lam : float
        Weight of the newest value, :math:`0 < \lambda \le 1` (0.2–0.3 is usual).
    target : float
        In-control mean :math:`\mu_0`.
    sigma : float
        In-control standard deviation :math:`\sigma` of one plotted value.
    L : float
        Width of the limits, default 3.
    limits : {"steady-state", "exact"}

    Returns
    -------
    ControlChart

    References
    ----------
    Roberts, S. W. (1959). Control chart tests based on geometric moving averages.
    *Technometrics* 1, 239–250.
    NIST/SEMATECH e-Handbook of Statistical Methods, §6.3.2.4 (EWMA control charts).

    Examples
    --------
    >>> chart = ewma_chart([52.0, 47.0, 53.0, 49.3], lam=0.3, target=50.0, sigma=2.0539)
    >>> chart.statistic.round(2).tolist()
    [50.6, 49.52, 50.56, 50.18]
    >>> round(float(chart.upper[0]), 4)
    52.5884
    """
    x = _series(values)
    lam_f = _positive(lam, "lam")
    if lam_f > 1:
        raise ValueError(f"lam must be in (0, 1], got {lam!r}")
    mu = _finite(target, "target")
    s = _positive(sigma, "sigma")
    width = _positive(L, "L")
    if limits not in ("steady-state", "exact"):
        raise ValueError(f"limits must be 'steady-state' or 'exact', got {limits!r}")
    z, _ = lfilter([lam_f], [1.0, lam_f - 1.0], x, zi=[(1.0 - lam_f) * mu])
    factor = lam_f / (2.0 - lam_f)
    if limits == "exact":
        t = np.arange(1, x.size + 1)
        half = width * s * np.sqrt(factor * (1.0 - (1.0 - lam_f) ** (2 * t)))
    else:
        half = np.full(x.size, width * s * math.sqrt(factor))
    lower, upper = mu - half, mu + half
    return ControlChart(z, lower, upper, _outside(z, lower, upper), mu)


def cusum_chart(values: Any, *, target: float, k: float, h: float) -> Cusum:
    r"""Tabular (two one-sided) CUSUM.

    .. math::

        S^{+}_t = \max(0,\; S^{+}_{t-1} + x_t - \mu_0 - k),\qquad
        S^{-}_t = \max(0,\; S^{-}_{t-1} + \mu_0 - k - x_t),\qquad S^{\pm}_0 = 0

    and a point signals when :math:`S^+_t > h` or :math:`S^-_t > h`. ``k`` and ``h`` are in the
    units of the data (often :math:`k = \sigma/2`, :math:`h = 4\sigma` or :math:`5\sigma`). The
    recursion is evaluated without a Python loop: :math:`S_t = C_t - \min(0, \min_{s \le t} C_s)`
    with :math:`C_t` the running sum of the increments.

    Parameters
    ----------
    values : array-like
        One value per period.
    target : float
        In-control mean :math:`\mu_0`.
    k : float
        Reference value (allowance), :math:`k \ge 0`.
    h : float
        Decision interval, :math:`h > 0`.

    Returns
    -------
    Cusum
        ``upper`` :math:`S^+`, ``lower`` :math:`S^-`, ``signals`` the 0-based indices where
        either exceeds ``h``.

    References
    ----------
    Page, E. S. (1954). Continuous inspection schemes. *Biometrika* 41, 100–115.
    NIST/SEMATECH e-Handbook of Statistical Methods, §6.3.2.3 (CUSUM control charts).
    Montgomery, D. C. & Runger, G. C. (2003). *Applied Statistics and Probability for
    Engineers*, 3rd ed., Example 16-6 (Table 16-8).

    Examples
    --------
    >>> c = cusum_chart([102.0, 94.8, 98.3, 98.4, 102.0], target=99.0, k=1.0, h=10.0)
    >>> c.upper.round(1).tolist(), c.lower.round(1).tolist()
    ([2.0, 0.0, 0.0, 0.0, 2.0], [0.0, 3.2, 2.9, 2.5, 0.0])
    """
    x = _series(values)
    mu = _finite(target, "target")
    k_f = _finite(k, "k")
    if k_f < 0:
        raise ValueError(f"k must be non-negative, got {k!r}")
    h_f = _positive(h, "h")

    def lindley(increments: np.ndarray) -> np.ndarray:
        c = np.cumsum(increments)
        return c - np.minimum(np.minimum.accumulate(c), 0.0)

    upper = np.maximum(lindley(x - mu - k_f), 0.0)
    lower = np.maximum(lindley(mu - k_f - x), 0.0)
    signals = tuple(int(i) for i in np.flatnonzero((upper > h_f) | (lower > h_f)))
    return Cusum(upper, lower, signals, h_f)


# --------------------------------------------------------------------------------------------
# Run rules

_WESTERN_ELECTRIC = {
    1: "one point beyond 3 sigma",
    2: "two of three consecutive points beyond 2 sigma on the same side",
    3: "four of five consecutive points beyond 1 sigma on the same side",
    4: "eight consecutive points on the same side of the center line",
}

_NELSON = {
    1: "one point beyond 3 sigma",
    2: "nine consecutive points on the same side of the center line",
    3: "six consecutive points steadily increasing or decreasing",
    4: "fourteen consecutive points alternating up and down",
    5: "two of three consecutive points beyond 2 sigma on the same side",
    6: "four of five consecutive points beyond 1 sigma on the same side",
    7: "fifteen consecutive points within 1 sigma of the center line",
    8: "eight consecutive points beyond 1 sigma, on both sides",
}


def _window_all(flags: np.ndarray, length: int) -> np.ndarray:
    """``out[i]`` is true when ``flags[i-length+1 .. i]`` are all true."""
    out = np.zeros(flags.size, dtype=bool)
    if flags.size >= length:
        windows = np.lib.stride_tricks.sliding_window_view(flags, length)
        out[length - 1 :] = windows.all(axis=1)
    return out


def _window_count(flags: np.ndarray, length: int, at_least: int) -> np.ndarray:
    out = np.zeros(flags.size, dtype=bool)
    if flags.size >= length:
        windows = np.lib.stride_tricks.sliding_window_view(flags, length)
        out[length - 1 :] = windows.sum(axis=1) >= at_least
    return out


def _k_of_m_same_side(z: np.ndarray, level: float, k: int, m: int) -> np.ndarray:
    # The point completing the pattern must itself be beyond the level, so the rule fires on the
    # point that creates it rather than on later points that merely keep an old pattern alive.
    above, below = z > level, z < -level
    return (_window_count(above, m, k) & above) | (_window_count(below, m, k) & below)


def _run_same_side(z: np.ndarray, length: int) -> np.ndarray:
    return _window_all(z > 0, length) | _window_all(z < 0, length)


def run_rules(
    values: Any, *, center: float, sigma: float, rules: str = "western-electric"
) -> list[RuleSignal]:
    r"""Which run rules fire at which point of a Shewhart chart.

    Each point is standardised,

    .. math:: z_t = (x_t - \text{center}) / \sigma,

    and the rules look
    for patterns that are unlikely under a stable process. A rule fires at the point that
    completes its pattern (the last point of the window); it fires again at every later point
    that still completes the pattern (e.g. the 9th, 10th, … point of a run).

    ``rules="western-electric"`` (Western Electric Handbook, 1956):

    1. one point beyond 3σ;
    2. two of three consecutive points beyond 2σ on the same side;
    3. four of five consecutive points beyond 1σ on the same side;
    4. eight consecutive points on the same side of the center line.

    ``rules="nelson"`` (Nelson, 1984): 1. one point beyond 3σ; 2. nine points in a row on one
    side; 3. six points in a row steadily increasing or decreasing; 4. fourteen points in a
    row alternating up and down; 5. two of three beyond 2σ on one side; 6. four of five beyond
    1σ on one side; 7. fifteen in a row within 1σ; 8. eight in a row beyond 1σ, on both sides.

    Parameters
    ----------
    values : array-like
        One value per period.
    center : float
        Center line.
    sigma : float
        Standard deviation of a plotted point.
    rules : {"western-electric", "nelson"}

    Returns
    -------
    list of RuleSignal
        Sorted by index, then rule number.

    References
    ----------
    Western Electric Company (1956). *Statistical Quality Control Handbook*.
    Nelson, L. S. (1984). The Shewhart control chart—tests for special causes. *Journal of
    Quality Technology* 16(4), 237–239.

    Examples
    --------
    >>> run_rules([0.2, 3.5, 0.1, -0.4], center=0.0, sigma=1.0)
    [RuleSignal(index=1, rule=1, description='one point beyond 3 sigma')]
    """
    x = _series(values)
    c = _finite(center, "center")
    s = _positive(sigma, "sigma")
    z = (x - c) / s
    fired: dict[int, np.ndarray] = {}
    if rules == "western-electric":
        names = _WESTERN_ELECTRIC
        fired[1] = np.abs(z) > 3
        fired[2] = _k_of_m_same_side(z, 2.0, 2, 3)
        fired[3] = _k_of_m_same_side(z, 1.0, 4, 5)
        fired[4] = _run_same_side(z, 8)
    elif rules == "nelson":
        names = _NELSON
        d = np.diff(z)
        fired[1] = np.abs(z) > 3
        fired[2] = _run_same_side(z, 9)
        # Six points steadily moving means five consecutive differences of one sign.
        trend = np.zeros(z.size, dtype=bool)
        trend[1:] = _window_all(d > 0, 5) | _window_all(d < 0, 5)
        fired[3] = trend
        # Fourteen points alternating means thirteen differences that alternate in sign.
        alternating = np.zeros(z.size, dtype=bool)
        if d.size >= 2:
            flips = np.zeros(d.size, dtype=bool)
            flips[1:] = d[1:] * d[:-1] < 0
            alternating[2:] = _window_all(flips[1:], 12)
        fired[4] = alternating
        fired[5] = _k_of_m_same_side(z, 2.0, 2, 3)
        fired[6] = _k_of_m_same_side(z, 1.0, 4, 5)
        fired[7] = _window_all(np.abs(z) < 1, 15)
        both_sides = np.zeros(z.size, dtype=bool)
        if z.size >= 8:
            w = np.lib.stride_tricks.sliding_window_view(z, 8)
            both_sides[7:] = (
                (np.abs(w) > 1).all(axis=1) & (w > 1).any(axis=1) & (w < -1).any(axis=1)
            )
        fired[8] = both_sides
    else:
        raise ValueError(f"rules must be 'western-electric' or 'nelson', got {rules!r}")
    out = [
        RuleSignal(int(i), rule, names[rule])
        for rule, flags in fired.items()
        for i in np.flatnonzero(flags)
    ]
    out.sort(key=lambda r: (r.index, r.rule))
    return out


# --------------------------------------------------------------------------------------------
# Signals on a proportion per period, tuned for many charts read at once

#: The limit, in standard errors, beyond which one point signals (rule 1). Wider than the usual
#: 3 because a journey map reads about 80 points at once (20 touchpoints × 4 quarters): on
#: simulated stable touchpoints of the demo's shape, Western Electric's rules badge half of the
#: maps, one point beyond 3 one map in 18, these two rules one in 50
#: (bench/control_false_alarms.py, bench/README.md).
SIGNAL_LIMIT = 3.5
#: Two usable points in a row beyond this many standard errors on one side signal (rule 2): a
#: sustained shift too small for rule 1.
RUN_LIMIT = 2.5
#: The median moving range of standard normal points, E-free (d2 of the median, n = 2).
_MEDIAN_MR = 0.954

SIGNAL_RULES = {
    1: "one point beyond {limit:g} standard errors",
    2: "two points in a row beyond {run:g} standard errors on the same side",
}


@dataclass(frozen=True)
class ProportionSignals:
    """A proportion chart with a phase-I baseline and overdispersion (see
    :func:`proportion_signals`). Arrays have one entry per period; ``z``, ``lower`` and
    ``upper`` are NaN where the period has no answers."""

    proportion: np.ndarray
    z: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    used: np.ndarray
    baseline: tuple[int, ...]
    center: float
    sigma_z: float
    limit: float
    signals: tuple[RuleSignal, ...]

    def to_dict(self) -> dict[str, Any]:
        """The chart as a plain dict of lists."""
        return to_plain(self)


def proportion_signals(
    successes: Any,
    n: Any,
    *,
    usable: Any = None,
    baseline: int = 2,
    limit: float = SIGNAL_LIMIT,
    run_limit: float = RUN_LIMIT,
) -> ProportionSignals:
    r"""Which periods of a proportion (e.g. the share of ratings 4–5) signal a real change.

    A p-chart (Montgomery §7.2) with three changes that keep false alarms rare when many charts
    are read at once and the periods' shares vary more than binomially:

    1. **Phase-I baseline.** The centre :math:`\bar p = \sum_B x_t / \sum_B n_t` is the pooled
       share of the first ``baseline`` usable periods :math:`B` (:math:`N_B` answers), so a
       later shift is measured against the level held before it. A point is compared with an
       *estimated* centre, so its standard error is that of the difference,

       .. math:: s_t = \sqrt{\bar p (1 - \bar p)\,\bigl(1/n_t \pm 1/N_B\bigr)},

       plus for periods outside the baseline, minus for those inside it (they are part of
       :math:`\bar p`).
    2. **Overdispersion (Laney's p′ chart).** With :math:`z_t = (\hat p_t - \bar p)/s_t`,
       :math:`\sigma_z` is estimated from the moving ranges of the usable :math:`z_t` — their
       median over 0.954, robust to the one large range a shift causes — and never below 1
       (binomial). Points are judged on :math:`z'_t = z_t / \sigma_z`; the limits are
       :math:`\bar p \pm L\,\sigma_z\,s_t`.
    3. **Two rules** instead of Western Electric's four (which together alarm about once in 90
       stable points): rule 1, one point with :math:`|z'_t| > L` (``limit``); rule 2, two
       usable points in a row beyond ``run_limit`` on the same side (fires on the second).

    Periods that are not ``usable`` (too few answers, or incomplete) take no part: they never
    signal, do not enter the baseline or :math:`\sigma_z`, and do not break a run. A centre of
    0 or 1 is moved half an answer inwards, :math:`\bar p \in [0.5/N_B, 1 - 0.5/N_B]`. With no
    usable period, the centre and limits come from every period with answers and nothing
    signals.

    Parameters
    ----------
    successes, n : array-like
        Counts per period, :math:`0 \le x_t \le n_t`; :math:`n_t = 0` is a period without answers.
    usable : array-like of bool, optional
        Periods that may signal (default: every period with answers).
    baseline : int
        Usable periods that set the centre; with fewer usable periods, all of them.
    limit, run_limit : float
        :math:`L` of rule 1 and the level of rule 2, in standard errors.

    Returns
    -------
    ProportionSignals
        ``signals`` sorted by index (a :class:`RuleSignal` per rule and point that fired).

    References
    ----------
    Montgomery, D. C. (2019). *Introduction to Statistical Quality Control*, 8th ed., §7.2
    (phase I and II) and §6.3 (sensitizing rules and their false-alarm rate).
    Laney, D. B. (2002). Improved control charts for attributes. *Quality Engineering* 14(4),
    531–537.
    Wheeler, D. J. (2010). *Understanding Statistical Process Control*, 3rd ed. (median
    moving range, 0.954).

    Examples
    --------
    >>> chart = proportion_signals([560, 550, 565, 300], [1000, 1000, 1000, 1000])
    >>> [(s.index, s.rule) for s in chart.signals]
    [(3, 1)]
    """
    x = as_vector(successes, name="successes")
    m = as_vector(n, name="n")
    if x.size != m.size:
        raise ValueError(f"successes and n differ in length ({x.size} and {m.size})")
    if not (np.isfinite(x).all() and np.isfinite(m).all()):
        raise ValueError("successes and n must be finite counts")
    if (m < 0).any() or (x < 0).any() or (x > m).any():
        i = int(np.flatnonzero((m < 0) | (x < 0) | (x > m))[0])
        raise ValueError(f"period {i}: successes {x[i]:g} not within 0..n={m[i]:g}")
    used = m > 0
    if usable is not None:
        flags = np.asarray(usable, dtype=bool)
        if flags.shape != m.shape:
            raise ValueError(f"usable has {flags.size} entries for {m.size} periods")
        used = used & flags
    check = int(baseline)
    if check < 1:
        raise ValueError(f"baseline must be at least 1 period, got {baseline!r}")
    L = _positive(limit, "limit")
    run = _positive(run_limit, "run_limit")

    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(m > 0, x / np.where(m > 0, m, 1), np.nan)
    nan = np.full(m.size, np.nan)
    index = np.flatnonzero(used)
    # With no usable period the centre is that of every period with answers, to draw; nothing
    # can signal then.
    base = index[:check] if index.size else np.flatnonzero(m > 0)
    if base.size == 0:
        return ProportionSignals(p, nan, nan.copy(), nan.copy(), used, (), math.nan, 1.0, L, ())
    n_base = float(m[base].sum())
    center = float(x[base].sum() / n_base)
    center = min(max(center, 0.5 / n_base), 1.0 - 0.5 / n_base)
    in_base = np.zeros(m.size, dtype=bool)
    in_base[base] = True
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(in_base, 1.0 / m - 1.0 / n_base, 1.0 / m + 1.0 / n_base)
        se = np.sqrt(center * (1.0 - center) * np.clip(share, 0.0, None))
        z_raw = np.where(se > 0, (p - center) / se, 0.0)
    z_raw[m == 0] = np.nan
    # Laney's σ_z reads the shares standardised by the binomial error alone: the centre's own
    # error cancels in a moving range, and the baseline's points are not pulled together.
    with np.errstate(invalid="ignore", divide="ignore"):
        z_binomial = (p - center) / np.sqrt(center * (1.0 - center) / m)
    ranges = np.abs(np.diff(z_binomial[index]))
    sigma_z = max(1.0, float(np.median(ranges)) / _MEDIAN_MR) if ranges.size >= 2 else 1.0
    z = z_raw / sigma_z
    half = L * sigma_z * se
    lower = np.clip(center - half, 0.0, 1.0)
    upper = np.clip(center + half, 0.0, 1.0)
    lower[m == 0] = upper[m == 0] = np.nan

    texts = {k: v.format(limit=L, run=run) for k, v in SIGNAL_RULES.items()}
    signals = [RuleSignal(int(i), 1, texts[1]) for i in index if abs(z[i]) > L]
    zu = z[index]
    for k in range(1, index.size):
        a, b = zu[k - 1], zu[k]
        if (a > run and b > run) or (a < -run and b < -run):
            signals.append(RuleSignal(int(index[k]), 2, texts[2]))
    signals.sort(key=lambda s: (s.index, s.rule))
    return ProportionSignals(
        p, z, lower, upper, used, tuple(int(i) for i in base), center, sigma_z, L, tuple(signals)
    )


# --------------------------------------------------------------------------------------------
# Roll-back watch: a one-sided CUSUM on a touchpoint's period means

#: Per rhythm of the data: periods after a change that set the baseline, and the nominal
#: in-control average run length (periods between false alarms were the baseline known),
#: twenty years either way. The baseline is estimated, which brings false alarms forward:
#: measured, about one per 1,400–2,000 watched weeks and per 460–580 watched months, and
#: 4–9 % of stable touchpoints raise a false alarm in their first watched year (n ≈ 200–50
#: answers a period; bench/bench_rollback_watch.py). A nominal ten years doubled those.
RHYTHMS = {"weekly": (8, 1040.0), "monthly": (6, 240.0)}
#: Siegmund's correction to the decision interval for a normal CUSUM (ρ = 0.583 × 2).
_SIEGMUND = 1.166


def cusum_h_for_arl(k: float, arl0: float) -> float:
    r"""The decision interval ``h`` of a one-sided CUSUM of standard normal values with
    allowance ``k`` whose in-control average run length is ``arl0`` (Siegmund's approximation).

    .. math::

        \mathrm{ARL}_0 \approx \frac{e^{2kb} - 2kb - 1}{2k^2},\qquad b = h + 1.166

    solved for :math:`h` (accurate to a few per cent for :math:`k \ge 0.25`).

    Parameters
    ----------
    k : float
        Allowance in standard deviations, :math:`k > 0` (half the shift to detect).
    arl0 : float
        Wanted in-control average run length, in periods (> 1).

    Returns
    -------
    float
        ``h`` in standard deviations (at least 0.05).

    References
    ----------
    Siegmund, D. (1985). *Sequential Analysis*. Springer, §X.2.
    Montgomery, D. C. (2019). *Introduction to Statistical Quality Control*, 8th ed., §9.1.4
    (Siegmund's approximation; k = 0.5, h = 5 gives a two-sided ARL₀ of about 465).

    Examples
    --------
    >>> round(cusum_h_for_arl(0.5, 930.0), 2)
    4.99
    """
    k_f = _positive(k, "k")
    target = _positive(arl0, "arl0")
    if target <= 1:
        raise ValueError(f"arl0 must exceed 1 period, got {arl0!r}")

    def excess(b: float) -> float:
        return (math.expm1(2 * k_f * b) - 2 * k_f * b) / (2 * k_f**2) - target

    if excess(_SIEGMUND + 0.05) >= 0:
        return 0.05
    upper = _SIEGMUND + 1.0
    while excess(upper) < 0:
        upper *= 2.0
    return float(brentq(excess, _SIEGMUND + 0.05, upper, xtol=1e-10)) - _SIEGMUND


@dataclass(frozen=True)
class RollbackWatch:
    """A touchpoint's roll-back watch (see :func:`rollback_watch`).

    Arrays have one entry per period: ``z`` the standardised distance from the baseline level
    (NaN for periods without answers), ``statistic`` the lower CUSUM (NaN where not watched).
    ``alarm`` is the first period whose CUSUM exceeds ``h`` (``None``: none), ``signals``
    every such period. ``state`` is a code: ``"collecting_baseline"``, ``"in_control"`` or
    ``"alarm"``.
    """

    alarm: int | None
    state: str
    signals: tuple[int, ...]
    baseline: tuple[int, ...]
    center: float
    sd: float
    sigma_z: float
    shift: float
    k: float
    h: float
    arl0: float
    z: np.ndarray
    statistic: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """The watch as a plain dict of lists."""
        return to_plain(self)


def _pooled_sd(sd: Any, counts: np.ndarray, base: np.ndarray) -> float:
    if np.ndim(sd) == 0:
        return _positive(sd, "sd")
    s = as_vector(sd, name="sd")
    if s.size != counts.size:
        raise ValueError(f"sd has {s.size} entries for {counts.size} periods (or give one)")
    # A period with one answer has no sd of its own (and weight n - 1 = 0 in the pool).
    pool = base[counts[base] >= 2]
    if pool.size == 0 or not np.isfinite(s[pool]).all():
        raise ValueError("sd: the baseline periods with two answers or more need a finite sd")
    w = counts[pool] - 1.0
    return _positive(math.sqrt(float(np.sum(w * s[pool] ** 2) / w.sum())), "sd")


def rollback_watch(
    means: Any,
    counts: Any,
    *,
    sd: Any,
    change: int | None = None,
    rhythm: str = "weekly",
    shift: float = 0.5,
    baseline: int | None = None,
    arl0: float | None = None,
) -> RollbackWatch:
    r"""Watch a touchpoint's mean score for a real drop: a lower one-sided CUSUM of the
    standardised period means against a baseline level.

    **Baseline.** After a change (``change`` = index of the first period after it) the level
    to hold is the post-change one: the first ``baseline`` periods with answers from
    ``change`` on set it, and the periods after them are watched; until there are enough,
    ``state`` is ``"collecting_baseline"``. Without a change the whole history is the baseline
    and every period is watched against it. The level and spread are pooled over the baseline
    periods :math:`B` (:math:`N_B` answers):

    .. math::

        \hat\mu_0 = \frac{\sum_B n_t \bar x_t}{N_B},\qquad
        z_t = \frac{\bar x_t - \hat\mu_0}{\sigma_z\, s\,\sqrt{1/n_t \pm 1/N_B}},\qquad
        S_t = \max(0,\; S_{t-1} - z_t - k),\quad S = 0 \text{ at the start}

    (:math:`+` for a watched period outside the baseline, :math:`-` inside it), :math:`s`
    the within-period standard deviation of answers, :math:`\sigma_z \ge 1` Laney's factor
    from the median moving range of the sampling-standardised means
    :math:`(\bar x_t - \hat\mu_0)/(s/\sqrt{n_t})` over every period up to the end of the
    baseline, before the change too but not across it (period-to-period swings beyond sampling
    noise widen the chart instead of raising alarms). A period alarms when :math:`S_t > h`.

    **Design.** The shift to catch, ``shift`` points, is :math:`\delta = \text{shift} /
    (\sigma_z s / \sqrt{\tilde n})` standard errors at the baseline's median count
    :math:`\tilde n`; :math:`k = \delta / 2` and :math:`h` gives the rhythm's nominal
    in-control run length (:data:`RHYTHMS`) by :func:`cusum_h_for_arl`. A CUSUM rather than
    an EWMA: for a sustained step of known size it is the optimal detector (shortest worst-case
    delay at a given false-alarm rate, Moustakides 1986), it needs only one side (a drop), and
    its run length has a closed-form approximation to set :math:`h`. Estimating
    :math:`\hat\mu_0` from a few periods shortens the in-control run length below the nominal
    one (Jones, Champ & Rigdon 2004); the measured figures, and the bound a test holds, are
    in bench/README.md: with :math:`s` ≈ 2.1 and n ≈ 50–200 answers a period the false-alarm
    rate per watched period stays below 1/500 weekly and 1/250 monthly (measured about
    1/1,400–1/2,000 and 1/460–1/580), and a 0.5-point drop is caught in a median of 1
    (n ≈ 200) to 4 (n ≈ 50) periods.

    Parameters
    ----------
    means : array-like
        Mean score per period (NaN or anything where the count is 0).
    counts : array-like
        Answers per period (0: a period without answers, skipped).
    sd : float or array-like
        Standard deviation of individual answers: one value, or one per period (pooled over
        the baseline).
    change : int, optional
        0-based index of the first period after the change; ``None`` watches the whole history.
    rhythm : {"weekly", "monthly"}
        Sets the default ``baseline`` and ``arl0``.
    shift : float
        The drop to detect, in the units of the score (0.5 point on a 0–10 scale).
    baseline : int, optional
        Periods with answers after the change that set the level.
    arl0 : float, optional
        Nominal in-control average run length, in periods.

    Returns
    -------
    RollbackWatch

    References
    ----------
    Page, E. S. (1954). Continuous inspection schemes. *Biometrika* 41, 100–115.
    Moustakides, G. V. (1986). Optimal stopping times for detecting changes in distributions.
    *Annals of Statistics* 14(4), 1379–1387.
    Jones, L. A., Champ, C. W. & Rigdon, S. E. (2004). The run length distribution of the
    CUSUM with estimated parameters. *Journal of Quality Technology* 36(1), 95–108.
    Laney, D. B. (2002). Improved control charts for attributes. *Quality Engineering* 14(4),
    531–537.

    Examples
    --------
    >>> means = [7.0, 8.0, 8.1, 7.9, 8.0, 8.1, 7.9, 8.0, 8.1, 7.9, 8.0, 7.5, 7.4, 7.5]
    >>> watch = rollback_watch(means, [100] * 14, sd=2.2, change=1, baseline=8)
    >>> watch.baseline, watch.alarm, watch.state
    ((1, 2, 3, 4, 5, 6, 7, 8), 12, 'alarm')
    """
    x = as_vector(means, name="means")
    m = as_vector(counts, name="counts")
    if x.size != m.size:
        raise ValueError(f"means and counts differ in length ({x.size} and {m.size})")
    if x.size == 0:
        raise ValueError("means is empty")
    if not np.isfinite(m).all() or (m < 0).any():
        i = int(np.flatnonzero(~np.isfinite(m) | (m < 0))[0])
        raise ValueError(f"counts: period {i} has {m[i]!r}, expected a count ≥ 0")
    used = m > 0
    if not np.isfinite(x[used]).all():
        i = int(np.flatnonzero(used & ~np.isfinite(x))[0])
        raise ValueError(f"means: period {i} has {int(m[i])} answers but no finite mean")
    if rhythm not in RHYTHMS:
        raise ValueError(f"rhythm must be one of {sorted(RHYTHMS)}, got {rhythm!r}")
    default_base, default_arl = RHYTHMS[rhythm]
    size = default_base if baseline is None else int(baseline)
    if size < 2:
        raise ValueError(f"baseline must be at least 2 periods, got {baseline!r}")
    nominal = default_arl if arl0 is None else _positive(arl0, "arl0")
    drop = _positive(shift, "shift")
    index = np.flatnonzero(used)
    if change is not None:
        start = int(change)
        if start != change or not 0 <= start < x.size:
            raise ValueError(f"change must be a period index within 0..{x.size - 1}")
        after = index[index >= start]
        base, watched = after[:size], after[size:]
    else:
        base, watched = index, index
    nan = np.full(x.size, np.nan)
    needed = size if change is not None else 2
    if base.size < needed:
        return RollbackWatch(
            None, "collecting_baseline", (), tuple(int(i) for i in base), math.nan,
            math.nan, 1.0, drop, math.nan, math.nan, nominal, nan, nan.copy(),
        )  # fmt: skip
    s = _pooled_sd(sd, m, base)
    n_base = float(m[base].sum())
    center = float(np.sum(m[base] * x[base]) / n_base)
    with np.errstate(invalid="ignore", divide="ignore"):
        z_sampling = np.where(used, (x - center) / (s / np.sqrt(m)), np.nan)
    # σ_z is the touchpoint's own: its moving ranges are read over the whole history up to the
    # end of the baseline, before the change too, but not across it (the step would count).
    known = index[index <= base[-1]]
    ranges = np.abs(np.diff(z_sampling[known]))
    if change is not None:
        ranges = ranges[~((known[:-1] < change) & (known[1:] >= change))]
    sigma_z = max(1.0, float(np.median(ranges)) / _MEDIAN_MR) if ranges.size >= 3 else 1.0
    # A baseline period is part of its own centre (minus); a later one is compared with it.
    share = 1.0 / np.where(used, m, 1.0) + 1.0 / n_base
    share[base] = 1.0 / m[base] - 1.0 / n_base
    se = s * np.sqrt(np.clip(share, 1e-12, None))
    z = np.where(used, (x - center) / (sigma_z * se), np.nan)
    delta = drop / (sigma_z * s / math.sqrt(float(np.median(m[base]))))
    k = delta / 2.0
    h = cusum_h_for_arl(k, nominal)
    statistic = nan.copy()
    signals: tuple[int, ...] = ()
    if watched.size:
        lower = cusum_chart(z[watched], target=0.0, k=k, h=h).lower
        statistic[watched] = lower
        # Periods without answers hold the last value, so the line on the chart is unbroken.
        first = int(watched[0])
        held = statistic[first:]
        last = np.maximum.accumulate(np.where(np.isnan(held), 0, np.arange(held.size)))
        statistic[first:] = held[last]
        signals = tuple(int(i) for i in watched[lower > h])
    alarm = signals[0] if signals else None
    return RollbackWatch(
        alarm,
        "alarm" if signals else "in_control",
        signals,
        tuple(int(i) for i in base),
        center,
        s,
        sigma_z,
        drop,
        k,
        h,
        nominal,
        z,
        statistic,
    )
