"""Medians with distribution-free intervals: durations (hours to first contact, to resolution)
are skewed and heavy-tailed, so no normal approximation is assumed."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from scipy import stats

from ._input import as_vector, check_confidence, drop_missing
from .results import Estimate

__all__ = ["median_interval", "median_interval_min_n"]


@functools.lru_cache(maxsize=4096)
def _rank(n: int, confidence: float) -> int:
    """The largest rank k with P(B ≤ k − 1) ≤ α/2 for B ~ Binomial(n, 1/2); 0 when none."""
    alpha = 1.0 - confidence
    k = int(stats.binom.ppf(alpha / 2.0, n, 0.5))
    # ppf gives the smallest k with P(B ≤ k) ≥ α/2; step to the last k keeping the tail ≤ α/2.
    while k > 0 and stats.binom.cdf(k - 1, n, 0.5) > alpha / 2.0:
        k -= 1
    while stats.binom.cdf(k, n, 0.5) <= alpha / 2.0:
        k += 1
    return k


def median_interval_min_n(*, confidence: float = 0.95) -> int:
    r"""The fewest observations for which :func:`median_interval` has an interval.

    .. math::

        n_{\min} = \min\{n : 2 \cdot 2^{-n} \le \alpha\}

    (the interval from the smallest to the largest observation covers the median with
    probability :math:`1 - 2^{1-n}`).

    References
    ----------
    Conover, W. J. (1999). *Practical Nonparametric Statistics*, 3rd ed., Wiley, §3.2.

    Examples
    --------
    >>> median_interval_min_n()
    6
    """
    alpha = 1.0 - check_confidence(confidence)
    n = 1
    while 2.0 * 0.5**n > alpha:
        n += 1
    return n


def median_interval(values: Any, *, confidence: float = 0.95) -> Estimate:
    r"""The sample median with the order-statistic (binomial) confidence interval.

    With :math:`x_{(1)} \le \dots \le x_{(n)}` the sorted sample and :math:`B \sim
    \mathrm{Binomial}(n, 1/2)`, the interval is

    .. math::

        \left[x_{(k)},\; x_{(n-k+1)}\right],\qquad
        k = \max\{j \ge 1 : P(B \le j - 1) \le \alpha/2\},

    whose coverage is :math:`1 - 2P(B \le k - 1) \ge 1 - \alpha` for any continuous
    distribution (no normality, no symmetry assumed).

    Parameters
    ----------
    values : array-like
        The observations (hours, say); missing values are ignored.
    confidence : float
        Confidence level, default 0.95.

    Returns
    -------
    Estimate
        The median, the interval and the number of observations.

    Raises
    ------
    ValueError
        Fewer observations than :func:`median_interval_min_n` (no pair of order statistics
        reaches the confidence), or an infinite value.

    References
    ----------
    Conover, W. J. (1999). *Practical Nonparametric Statistics*, 3rd ed., Wiley, §3.2
    (confidence interval for a quantile).
    Hahn, G. J. and Meeker, W. Q. (1991). *Statistical Intervals*, Wiley, §5.2.

    Examples
    --------
    >>> e = median_interval([3.5, 1.0, 7.25, 2.0, 12.0, 4.0, 5.5, 9.0, 0.5, 6.0])
    >>> e.value, e.low, e.high, e.n
    (4.75, 1.0, 9.0, 10)
    """
    level = check_confidence(confidence)
    v = drop_missing(as_vector(values, name="values"))
    if not np.isfinite(v).all():
        raise ValueError("values: infinite values have no median interval")
    n = int(v.size)
    needed = median_interval_min_n(confidence=level)
    if n < needed:
        raise ValueError(
            f"a {level:.0%} interval for a median needs at least {needed} values, got {n}"
        )
    x = np.sort(v)
    k = _rank(n, level)
    return Estimate(value=float(np.median(x)), low=float(x[k - 1]), high=float(x[n - k]), n=n)
