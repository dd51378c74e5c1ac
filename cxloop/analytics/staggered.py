"""Difference-in-differences when units are treated at different times (staggered adoption).

A two-way fixed-effects regression over a staggered roll-out compares late-treated units with
already-treated ones and can even flip the sign of the effect (Goodman-Bacon 2021). Here each
cohort (the units first treated in one period) is compared, period by period, only with the
units not yet treated by then, as Callaway & Sant'Anna (2021) do; the cohort-period effects are
averaged with weights, and the interval comes from a bootstrap that resamples whole units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._input import check_confidence
from .results import Estimate, to_plain

__all__ = ["CohortEffect", "EventTimeEffect", "StaggeredDid", "staggered_did"]

NEVER = -1


@dataclass(frozen=True)
class CohortEffect:
    """The effect on the units first treated in period ``cohort``, in ``period``, against the
    units not yet treated then: ``treated`` and ``controls`` units, ``weight`` the treated
    units' total weight (answers) in the cell."""

    cohort: int
    period: int
    value: float
    weight: float
    treated: int
    controls: int


@dataclass(frozen=True)
class EventTimeEffect:
    """The effect ``since`` periods after treatment (0: the first treated period), averaged
    over the cohorts observed then, with its bootstrap interval."""

    since: int
    value: float
    low: float
    high: float
    cells: int


@dataclass(frozen=True)
class StaggeredDid:
    """The average effect on the treated (``att``: value, interval and ``n``, the treated
    units that entered it), the effects by periods since treatment, the cohort-period cells,
    how many units served as controls and the bootstrap's replicates."""

    att: Estimate
    by_time: tuple[EventTimeEffect, ...]
    cells: tuple[CohortEffect, ...]
    controls: int
    confidence: float
    replicates: int

    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)


def _checked(outcome, count, first_treated) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(outcome, dtype=np.float64)
    n = np.asarray(count, dtype=np.float64)
    g = np.asarray(first_treated)
    if y.ndim != 2:
        raise ValueError(f"outcome must be a units × periods matrix, got {y.ndim} dimension(s)")
    if n.shape != y.shape:
        raise ValueError(f"count has shape {n.shape}, outcome {y.shape}: they must match")
    if g.shape != (y.shape[0],):
        raise ValueError(f"first_treated has {g.size} values for {y.shape[0]} units")
    if not np.issubdtype(g.dtype, np.integer):
        raise ValueError("first_treated must hold period indices (integers), -1 for never")
    if (n < 0).any() or not np.isfinite(n).all():
        raise ValueError("count must be finite and not negative")
    if (g < NEVER).any() or (g >= y.shape[1]).any():
        raise ValueError(f"first_treated must be -1 or a period from 0 to {y.shape[1] - 1}")
    if not np.isfinite(y[n > 0]).all():
        raise ValueError("outcome must be finite wherever count is positive")
    return np.where(n > 0, y, 0.0), n, g.astype(np.int64)


def _cells(y, n, g, pre_periods: int):
    """Per cohort-period cell: the cell, and per unit the weighted differences and weights of
    its treated units and of its controls (rows of four matrices)."""
    keys, rows = [], []
    later = np.where(g == NEVER, np.iinfo(np.int64).max, g)
    for cohort in np.unique(g[g > 0]):
        window = slice(max(0, cohort - pre_periods), cohort)
        m = n[:, window].sum(axis=1)
        base = np.divide((y * n)[:, window].sum(axis=1), m, out=np.zeros_like(m), where=m > 0)
        for period in range(cohort, y.shape[1]):
            nt = n[:, period]
            h = np.divide(nt * m, nt + m, out=np.zeros_like(m), where=(nt > 0) & (m > 0))
            d = y[:, period] - base
            treated = (g == cohort) & (h > 0)
            controls = (later > period) & (h > 0)
            if not treated.any() or controls.sum() < 2:
                continue
            keys.append((int(cohort), period, int(treated.sum()), int(controls.sum())))
            rows.append((h * d * treated, h * treated, h * d * controls, h * controls))
    return keys, rows


def _combine(weights: np.ndarray, parts: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    """Cell effects and weights for each row of unit ``weights`` (replicates × units)."""
    sum_dt, sum_t, sum_dc, sum_c = (weights @ part.T for part in parts)
    with np.errstate(invalid="ignore", divide="ignore"):
        effect = sum_dt / sum_t - sum_dc / sum_c
    ok = (sum_t > 0) & (sum_c > 0)
    return np.where(ok, effect, 0.0), np.where(ok, sum_t, 0.0)


def _average(effect: np.ndarray, weight: np.ndarray, mask: np.ndarray) -> np.ndarray:
    total = (weight * mask).sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, (effect * weight * mask).sum(axis=-1) / total, np.nan)


def staggered_did(
    outcome,
    count,
    first_treated,
    *,
    pre_periods: int = 6,
    confidence: float = 0.95,
    replicates: int = 999,
    seed: int = 0,
) -> StaggeredDid | None:
    """The average effect of a treatment adopted at different times, against not-yet-treated
    units, from unit × period means.

    ``outcome[i, t]`` is unit *i*'s mean in period *t* over ``count[i, t]`` observations
    (ignored where the count is 0); ``first_treated[i]`` the first period unit *i* is treated
    in (-1: never). For each cohort *g* (units first treated in *g*) and period *t ≥ g*, each
    unit's change is taken from its mean over the ``pre_periods`` periods before *g*
    (:math:`\\bar Y_{i,g}^{pre}` over :math:`M_{ig}` observations), weighted by the inverse of
    that change's variance under a common per-observation variance, and the cohort's mean
    change is compared with that of the units not yet treated in *t* (:math:`C_t`: first
    treated after *t*, or never):

    .. math::

        \\Delta_{igt} = Y_{it} - \\bar Y_{i,g}^{pre},\\qquad
        h_{igt} = \\frac{N_{it} M_{ig}}{N_{it} + M_{ig}},\\qquad
        \\mathrm{ATT}(g, t) = \\frac{\\sum_{G_i = g} h\\,\\Delta}{\\sum_{G_i = g} h}
            - \\frac{\\sum_{i \\in C_t} h\\,\\Delta}{\\sum_{i \\in C_t} h}

    The overall effect and the effect *e* periods after treatment average the cells with
    weights :math:`w_{gt} = \\sum_{G_i = g} h_{igt}`:
    :math:`\\mathrm{ATT} = \\sum w_{gt}\\,\\mathrm{ATT}(g,t) / \\sum w_{gt}`. Cells need a
    treated unit and two controls with observations. The interval is the percentile interval
    of ``replicates`` bootstrap samples of whole units (a cluster bootstrap: a unit's periods
    stay together, so serial correlation within a unit is respected), drawn with ``seed``.
    Returns None when no cell can be formed.

    References
    ----------
    Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
    periods. *Journal of Econometrics* 225(2), 200–230 (group-time effects against
    not-yet-treated units, their aggregation, the unit bootstrap).
    Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing.
    *Journal of Econometrics* 225(2), 254–277.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> level = rng.normal(4.0, 0.3, size=(40, 1)) + np.linspace(0, 0.2, 12)
    >>> first = np.repeat([-1, 4, 6, 8], 10)
    >>> treated = (first[:, None] >= 0) & (np.arange(12) >= first[:, None])
    >>> y = level + 0.5 * treated + rng.normal(0, 0.05, size=(40, 12))
    >>> result = staggered_did(y, np.full((40, 12), 5), first, replicates=199)
    >>> round(result.att.value, 1), result.att.low < 0.5 < result.att.high
    (0.5, True)
    """
    y, n, g = _checked(outcome, count, first_treated)
    check_confidence(confidence)
    if pre_periods < 1:
        raise ValueError(f"pre_periods must be at least 1, got {pre_periods}")
    if replicates < 99:
        raise ValueError(f"replicates must be at least 99, got {replicates}")
    keys, rows = _cells(y, n, g, pre_periods)
    if not keys:
        return None
    parts = tuple(np.array([row[k] for row in rows]) for k in range(4))
    units = y.shape[0]
    effect, weight = _combine(np.ones((1, units)), parts)
    effect, weight = effect[0], weight[0]
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(units, np.full(units, 1.0 / units), size=replicates).astype(float)
    boot_effect, boot_weight = _combine(draws, parts)
    alpha = (1.0 - confidence) / 2.0
    since = np.array([period - cohort for cohort, period, _t, _c in keys])

    def summary(mask: np.ndarray) -> tuple[float, float, float]:
        value = float(_average(effect, weight, mask))
        boot = _average(boot_effect, boot_weight, mask)
        low, high = np.nanquantile(boot, [alpha, 1.0 - alpha])
        return value, float(low), float(high)

    value, low, high = summary(np.ones(len(keys), bool))
    by_time = tuple(
        EventTimeEffect(int(e), *summary(since == e), cells=int((since == e).sum()))
        for e in np.unique(since)
    )
    treated_units = int((parts[1] > 0).any(axis=0).sum())
    controls = int((parts[3] > 0).any(axis=0).sum())
    return StaggeredDid(
        att=Estimate(value, low, high, treated_units),
        by_time=by_time,
        cells=tuple(
            CohortEffect(c, p, float(e), float(w), t, k)
            for (c, p, t, k), e, w in zip(keys, effect, weight, strict=True)
        ),
        controls=controls,
        confidence=confidence,
        replicates=replicates,
    )
