"""Whether a distribution of answers changed between two periods: the safeguard of reward
plans against gaming (a person whose customers' scores jump to 10 the quarter pay starts)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ._input import as_vector
from .results import to_plain

__all__ = ["DistributionShift", "distribution_shift"]


@dataclass(frozen=True)
class DistributionShift:
    """Pearson's χ² test of homogeneity of two count vectors over the same categories.
    ``cramers_v``: the effect size, 0 (same shares) to 1 (no category in common)."""

    statistic: float
    df: int
    p_value: float
    n_before: int
    n_after: int
    cramers_v: float

    def to_dict(self) -> dict:
        return to_plain(self)


def distribution_shift(before, after) -> DistributionShift:
    r"""Pearson's χ² test that two periods' answers share one distribution over categories.

    With :math:`O_{ij}` the count of category :math:`j` in period :math:`i`, row totals
    :math:`R_i`, column totals :math:`C_j` and :math:`N` in all,

    .. math::

        X^2 = \sum_{i=1}^{2}\sum_j \frac{(O_{ij} - R_i C_j / N)^2}{R_i C_j / N},\qquad
        V = \sqrt{X^2 / N}

    on :math:`k - 1` degrees of freedom, :math:`k` the categories seen in either period
    (categories empty in both are left out); no continuity correction. :math:`V` is Cramér's V
    of a 2 × k table.

    Parameters
    ----------
    before, after : array-like of non-negative counts, the same length

    Returns
    -------
    DistributionShift
        ``p_value`` 1 and ``statistic`` 0 where fewer than two categories were seen.

    References
    ----------
    Agresti, A. (2007). *An Introduction to Categorical Data Analysis*, 2nd ed., §2.4
    (party identification by gender, :math:`X^2 = 30.07`, df 2).

    Examples
    --------
    >>> s = distribution_shift([762, 327, 468], [484, 239, 477])
    >>> round(s.statistic, 2), s.df, f"{s.p_value:.3e}"
    (30.07, 2, '2.954e-07')
    """
    before = as_vector(before, name="before")
    after = as_vector(after, name="after")
    if before.shape != after.shape:
        raise ValueError(
            f"before and after must count the same categories; got {before.size} and {after.size}"
        )
    if (before < 0).any() or (after < 0).any():
        raise ValueError("counts must be 0 or more")
    table = np.vstack([before, after])
    table = table[:, table.sum(axis=0) > 0]
    n_before, n_after = int(before.sum()), int(after.sum())
    if table.shape[1] < 2 or n_before == 0 or n_after == 0:
        return DistributionShift(0.0, max(table.shape[1] - 1, 0), 1.0, n_before, n_after, 0.0)
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    df = table.shape[1] - 1
    total = float(table.sum())
    return DistributionShift(
        statistic=statistic,
        df=df,
        p_value=float(stats.chi2.sf(statistic, df)),
        n_before=n_before,
        n_after=n_after,
        cramers_v=float(np.sqrt(statistic / total)),
    )
