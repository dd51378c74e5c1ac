"""Ranking people and teams fairly: an interval for each rank, and funnel-plot control limits
that say which groups really stand apart from the rest rather than which had a lucky week."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ._input import as_vector, check_confidence
from .results import to_plain

__all__ = ["RankInterval", "Funnel", "rank_intervals", "funnel_limits", "nps_funnel"]


@dataclass(frozen=True)
class RankInterval:
    """Where one group stands among all: ``rank`` by its estimate (1 is best; ties share the
    better rank), ``low``–``high`` the ranks it plausibly holds (``low`` the best), and
    ``first`` the probability that it is truly first."""

    rank: int
    low: int
    high: int
    first: float

    def to_dict(self) -> dict[str, Any]:
        """The result as a plain dict."""
        return to_plain(self)


def _finite(values: Any, name: str) -> np.ndarray:
    out = as_vector(values, name=name)
    if not np.isfinite(out).all():
        i = int(np.flatnonzero(~np.isfinite(out))[0])
        raise ValueError(f"{name}[{i}]: expected a finite number, got {out[i]!r}")
    return out


def _estimates(values: Any, sds: Any) -> tuple[np.ndarray, np.ndarray]:
    v = _finite(values, "values")
    s = _finite(sds, "sds")
    if v.size != s.size:
        raise ValueError(f"values and sds differ in length: {v.size} and {s.size}")
    if v.size < 2:
        raise ValueError("at least 2 groups are needed to rank")
    if (s < 0).any():
        i = int(np.flatnonzero(s < 0)[0])
        raise ValueError(f"group {i}: sds must not be negative, got {s[i]!r}")
    return v, s


def rank_intervals(
    values: Any,
    sds: Any,
    *,
    confidence: float = 0.95,
    draws: int = 10_000,
    seed: int = 0,
) -> list[RankInterval]:
    r"""An interval for each group's rank, from the uncertainty of every group's estimate.

    Each group's true score is taken as normal around its estimate (for shrunk estimates:
    their posterior), the groups independent:

    .. math::

        \theta_i \sim N(\hat\theta_i, s_i^2),\qquad
        R_i = 1 + \#\{j : \theta_j > \theta_i\}.

    In each of ``draws`` simulated worlds the groups are ranked (1 = the highest score); a
    group's interval is the equal-tailed ``confidence`` range of :math:`R_i` over the worlds,
    and ``first`` the share of worlds in which it ranks first. A group whose
    interval spans most of the table cannot be told apart from the others: its place on the
    table says nothing about it.

    Parameters
    ----------
    values, sds : array-like
        Estimates and their standard errors (higher scores rank better); at least 2 groups.
    confidence : float
        Coverage of each interval, default 0.95.
    draws : int
        Simulated worlds; the probabilities are within about ±0.01 at 10,000.
    seed : int
        The simulation's seed: the same input gives the same intervals.

    Returns
    -------
    list of RankInterval
        In the groups' order.

    References
    ----------
    Goldstein, H. & Spiegelhalter, D. J. (1996). League tables and their limitations:
    statistical issues in comparisons of institutional performance. *JRSS A* 159(3), 385–443.
    Marshall, E. C. & Spiegelhalter, D. J. (1998). Reliability of league tables of in vitro
    fertilisation clinics: retrospective analysis of live birth rates. *BMJ* 316, 1701–1704.

    Examples
    --------
    >>> [(r.rank, r.low, r.high) for r in rank_intervals([10.0, 0.0], [0.5, 0.5])]
    [(1, 1, 1), (2, 2, 2)]
    """
    v, s = _estimates(values, sds)
    conf = check_confidence(confidence)
    if int(draws) < 100:
        raise ValueError(f"draws must be at least 100, got {draws!r}")
    rng = np.random.default_rng(seed)
    worlds = v + s * rng.standard_normal((int(draws), v.size))
    # Rank 1 for the highest: the number of groups scoring more, plus one.
    order = np.argsort(-worlds, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, v.size + 1), axis=1)
    low = np.quantile(ranks, (1 - conf) / 2, axis=0, method="inverted_cdf")
    high = np.quantile(ranks, (1 + conf) / 2, axis=0, method="inverted_cdf")
    point = 1 + (v[None, :] > v[:, None]).sum(axis=1)
    first = (ranks == 1).mean(axis=0)
    return [
        RankInterval(int(r), int(min(lo, r)), int(max(hi, r)), float(f))
        for r, lo, hi, f in zip(point, low, high, first, strict=True)
    ]


@dataclass(frozen=True)
class Funnel:
    """Control limits around ``center`` for groups of each size in ``n``: a group outside the
    inner limits (``inner``, 95 %) differs from the centre more than chance usually makes it,
    outside the outer limits (``outer``, 99.8 %) it almost surely does. ``position`` of each
    group: −2 below the outer limit, −1 below the inner one, 0 within, 1 above the inner, 2
    above the outer."""

    center: float
    n: np.ndarray
    inner_low: np.ndarray
    inner_high: np.ndarray
    outer_low: np.ndarray
    outer_high: np.ndarray
    position: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """The result as a plain dict."""
        return to_plain(self)


def _positions(values: np.ndarray, sizes: np.ndarray, center, unit_sd, inner, outer):
    se = unit_sd / np.sqrt(sizes)
    z = np.where(se > 0, (values - center) / np.where(se > 0, se, 1.0), 0.0)
    return np.select([z < -outer, z < -inner, z > outer, z > inner], [-2, -1, 2, 1], default=0)


def funnel_limits(
    center: float,
    unit_sd: float,
    values: Any,
    n: Any,
    *,
    grid: Any = None,
    inner: float = 0.95,
    outer: float = 0.998,
    bounds: tuple[float, float] = (-np.inf, np.inf),
) -> Funnel:
    r"""Funnel-plot limits for a measure whose standard error shrinks as :math:`1/\sqrt{n}`.

    A group of :math:`n` answers from a process whose true level is ``center`` and whose one
    answer varies with standard deviation :math:`\sigma` (``unit_sd``) lies within

    .. math::

        \theta_0 \pm z_p\,\sigma/\sqrt{n}

    with probability :math:`p` (normal approximation); :math:`z_p` is 1.96 for the inner 95 %
    limits and 3.09 for the outer 99.8 % ones, as in Spiegelhalter (2005). Plotting each group's
    value against its :math:`n` with these limits shows at a glance who differs from the centre
    beyond chance, whatever their size; a league table does not.

    Parameters
    ----------
    center, unit_sd : float
        The target (usually the pooled level of all groups) and one answer's standard deviation.
    values, n : array-like
        Each group's value and its number of answers (positive).
    grid : array-like, optional
        Sizes at which to draw the limits; by default 60 sizes from the smallest to the largest
        group, spaced evenly on the log scale.
    inner, outer : float
        The two coverages, default 0.95 and 0.998.
    bounds : (float, float)
        The measure's range; limits are clipped to it.

    Returns
    -------
    Funnel

    References
    ----------
    Spiegelhalter, D. J. (2005). Funnel plots for comparing institutional performance.
    *Statistics in Medicine* 24(8), 1185–1202.

    Examples
    --------
    >>> f = funnel_limits(0.0, 1.0, [0.5, 0.5], [4, 100], grid=[4, 100])
    >>> f.inner_high.round(2).tolist(), f.position.tolist()
    ([0.98, 0.2], [0, 2])
    """
    y = _finite(values, "values")
    m = _finite(n, "n")
    if y.size != m.size:
        raise ValueError(f"values and n differ in length: {y.size} and {m.size}")
    if (m <= 0).any():
        i = int(np.flatnonzero(m <= 0)[0])
        raise ValueError(f"group {i}: n must be positive, got {m[i]!r}")
    if not unit_sd >= 0:
        raise ValueError(f"unit_sd must not be negative, got {unit_sd!r}")
    z_in = float(stats.norm.ppf(0.5 + check_confidence(inner) / 2))
    z_out = float(stats.norm.ppf(0.5 + check_confidence(outer) / 2))
    if z_out <= z_in:
        raise ValueError(f"outer ({outer}) must be wider than inner ({inner})")
    if grid is None:
        sizes = np.unique(np.geomspace(max(1.0, m.min()), max(1.0, m.max()), 60).round())
    else:
        sizes = _finite(grid, "grid")
    se = unit_sd / np.sqrt(sizes)
    low, high = bounds
    return Funnel(
        center=float(center),
        n=sizes,
        inner_low=np.clip(center - z_in * se, low, high),
        inner_high=np.clip(center + z_in * se, low, high),
        outer_low=np.clip(center - z_out * se, low, high),
        outer_high=np.clip(center + z_out * se, low, high),
        position=_positions(y, m, center, unit_sd, z_in, z_out),
    )


def nps_funnel(promoters: Any, detractors: Any, n: Any, **kwargs: Any) -> Funnel:
    r"""Funnel limits for NPS per group (−100..100) around the pooled NPS of all groups.

    One answer scores +1 (promoter), 0 or −1 (detractor); with the pooled shares :math:`p`
    and :math:`d` its variance is :math:`p + d - (p - d)^2`, so under the null that a group of
    :math:`n` is like the rest its NPS has standard error

    .. math::

        \mathrm{se}(n) = 100\sqrt{\frac{p + d - (p - d)^2}{n}}.

    Keyword arguments are :func:`funnel_limits`'s.

    References
    ----------
    Spiegelhalter, D. J. (2005), as for :func:`funnel_limits`; Rocks, B. (2016), R package
    ``NPS`` (the variance of NPS).

    Examples
    --------
    >>> f = nps_funnel([60, 20], [10, 20], [100, 100])
    >>> round(f.center), f.position.tolist()
    (25, [2, -2])
    """
    P = _finite(promoters, "promoters")
    D = _finite(detractors, "detractors")
    m = _finite(n, "n")
    if not P.size == D.size == m.size:
        raise ValueError("promoters, detractors and n differ in length")
    wrong = (m < P + D) | (P < 0) | (D < 0)
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise ValueError(f"group {i}: counts must be non-negative and sum to at most n")
    total = m.sum()
    if total <= 0:
        raise ValueError("no answers in any group")
    p, d = P.sum() / total, D.sum() / total
    unit_sd = 100.0 * float(np.sqrt(max(p + d - (p - d) ** 2, 0.0)))
    values = 100.0 * (P - D) / np.where(m > 0, m, 1)
    return funnel_limits(100.0 * (p - d), unit_sd, values, m, bounds=(-100.0, 100.0), **kwargs)
