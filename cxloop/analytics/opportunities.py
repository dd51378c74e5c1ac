"""Importance–performance analysis: where improving a touchpoint pays most."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .results import to_plain

__all__ = ["Opportunity", "importance_performance", "QUADRANTS"]

QUADRANTS = (
    "concentrate here",
    "keep up the good work",
    "low priority",
    "possible overkill",
)


@dataclass(frozen=True)
class Opportunity:
    """One touchpoint (or attribute) placed on the importance–performance grid.

    Attributes
    ----------
    name : str
    importance : float
        The importance as given (e.g. an LMG share of R²).
    performance : float
        The performance as given (e.g. a mean rating or a top-box per cent).
    gap : float
        ``target - performance``: how far performance falls short (negative when it exceeds).
    score : float
        ``share × gap`` with ``share`` the importance as a fraction of the total: the
        importance-weighted shortfall. Larger means a better opportunity.
    quadrant : str
        One of :data:`QUADRANTS`.
    """

    name: str
    importance: float
    performance: float
    gap: float
    score: float
    quadrant: str

    def to_dict(self) -> dict[str, Any]:
        """The opportunity as a plain dict."""
        return to_plain(self)


def _as_mapping(values: Any, label: str) -> dict[str, float]:
    if hasattr(values, "importance") and isinstance(values.importance, Mapping):
        values = values.importance  # a DriverImportance
    if hasattr(values, "to_dict") and not isinstance(values, Mapping):
        values = values.to_dict()  # a pandas Series
    if not isinstance(values, Mapping):
        raise ValueError(f"{label} must map names to numbers, got {type(values).__name__}")
    out: dict[str, float] = {}
    for key, value in values.items():
        if hasattr(value, "value") and not isinstance(value, int | float):
            value = value.value  # an Estimate
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{label}[{key!r}] must be a number, got {value!r}") from None
        if not math.isfinite(v):
            raise ValueError(f"{label}[{key!r}] must be finite, got {value!r}")
        out[str(key)] = v
    return out


def importance_performance(
    importance: Any,
    performance: Any,
    *,
    target: float | Mapping[str, float] | None = None,
) -> list[Opportunity]:
    r"""Rank improvement opportunities by importance and performance (IPA).

    Each item :math:`i` with importance :math:`I_i \ge 0` and performance :math:`P_i` gets

    .. math::

        s_i = I_i / \textstyle\sum_k I_k, \qquad g_i = T_i - P_i, \qquad
        \text{score}_i = s_i\, g_i

    where :math:`T_i` is the target (by default the mean performance of all items). The score
    is the importance-weighted shortfall: items that matter and fall short come first. The
    quadrant follows Martilla & James (1977), splitting importance at its mean and performance
    at the target:

    =====================  ==========================  ==========================
    \                      performance below target    performance at/above target
    =====================  ==========================  ==========================
    importance above mean  concentrate here            keep up the good work
    importance below mean  low priority                possible overkill
    =====================  ==========================  ==========================

    Parameters
    ----------
    importance : mapping or DriverImportance
        Name → importance (e.g. ``lmg(...).importance``); non-negative.
    performance : mapping
        Name → performance (numbers or :class:`Estimate`), on one scale for all items. Must have
        the same names as ``importance``.
    target : float or mapping, optional
        The performance aimed at, one for all or per name. Default: mean performance.

    Returns
    -------
    list of Opportunity
        Ranked by ``score``, highest first (ties by importance, then name).

    References
    ----------
    Martilla, J. A. & James, J. C. (1977). Importance-performance analysis. *Journal of
    Marketing* 41(1), 77–79.

    Examples
    --------
    >>> ops = importance_performance({"billing": 0.20, "onboarding": 0.10, "parking": 0.02},
    ...                              {"billing": 3.1, "onboarding": 4.5, "parking": 3.0})
    >>> for o in ops:
    ...     print(o.name, "|", o.quadrant, "|", round(o.score, 3))
    billing | concentrate here | 0.271
    parking | low priority | 0.033
    onboarding | possible overkill | -0.302
    """
    imp = _as_mapping(importance, "importance")
    perf = _as_mapping(performance, "performance")
    if not imp:
        raise ValueError("importance is empty")
    if set(imp) != set(perf):
        only_imp = sorted(set(imp) - set(perf))
        only_perf = sorted(set(perf) - set(imp))
        raise ValueError(
            f"importance and performance must name the same items; only in importance: "
            f"{only_imp}, only in performance: {only_perf}"
        )
    negative = [k for k, v in imp.items() if v < 0]
    if negative:
        raise ValueError(f"importance must be non-negative; negative for {negative}")
    total = sum(imp.values())
    if total <= 0:
        raise ValueError("importances are all zero, so nothing can be ranked")
    mean_perf = sum(perf.values()) / len(perf)
    if target is None:
        targets = dict.fromkeys(imp, mean_perf)
    elif isinstance(target, Mapping):
        targets = _as_mapping(target, "target")
        missing = sorted(set(imp) - set(targets))
        if missing:
            raise ValueError(f"target has no value for {missing}")
    else:
        t = float(target)
        if not math.isfinite(t):
            raise ValueError(f"target must be finite, got {target!r}")
        targets = dict.fromkeys(imp, t)
    mean_share = 1.0 / len(imp)
    out = []
    for name in imp:
        share = imp[name] / total
        gap = targets[name] - perf[name]
        important = share > mean_share
        short = perf[name] < targets[name]
        if important:
            quadrant = QUADRANTS[0] if short else QUADRANTS[1]
        else:
            quadrant = QUADRANTS[2] if short else QUADRANTS[3]
        out.append(Opportunity(name, imp[name], perf[name], gap, share * gap, quadrant))
    out.sort(key=lambda o: (-o.score, -o.importance, o.name))
    return out
