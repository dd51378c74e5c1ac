"""Result objects returned by :mod:`cxloop.analytics`.

They are frozen dataclasses so a result cannot be changed after it is computed, and each has
``to_dict()`` giving plain Python types (floats, ints, lists, dicts) ready for JSON.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Estimate", "Interval", "Difference", "to_plain"]


def to_plain(value: Any) -> Any:
    """Recursively convert NumPy scalars/arrays, tuples and dataclasses into JSON-ready types."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return [to_plain(v) for v in value.tolist()]
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        v = float(value)
        # JSON has no NaN/inf; results never carry NaN, infinities only as test statistics.
        return v if math.isfinite(v) else None
    return value


@dataclass(frozen=True)
class Interval:
    """A confidence interval ``[low, high]``.

    Examples
    --------
    >>> Interval(0.2553, 0.3662).to_dict()
    {'low': 0.2553, 'high': 0.3662}
    """

    low: float
    high: float

    def __contains__(self, value: float) -> bool:
        return self.low <= value <= self.high

    @property
    def width(self) -> float:
        """``high - low``."""
        return self.high - self.low

    def to_dict(self) -> dict[str, Any]:
        """The interval as a plain dict."""
        return to_plain(self)


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its confidence interval and the number of observations behind it.

    Examples
    --------
    >>> e = Estimate(value=40.0, low=20.1, high=57.3, n=50)
    >>> e.interval
    Interval(low=20.1, high=57.3)
    >>> e.to_dict()
    {'value': 40.0, 'low': 20.1, 'high': 57.3, 'n': 50}
    """

    value: float
    low: float
    high: float
    n: int

    @property
    def interval(self) -> Interval:
        """The confidence interval as an :class:`Interval`."""
        return Interval(self.low, self.high)

    def to_dict(self) -> dict[str, Any]:
        """The estimate as a plain dict."""
        return to_plain(self)


@dataclass(frozen=True)
class Difference(Estimate):
    """A difference between two groups with its interval and a test of "no difference".

    ``statistic`` is the test statistic: a standard normal deviate (``z``) when ``df`` is
    ``None``, otherwise Student's t with ``df`` degrees of freedom. ``n`` is the total number of
    observations in both groups. ``test`` names the method.

    Examples
    --------
    >>> d = Difference(10.0, 2.0, 18.0, 400, statistic=2.45, p_value=0.014, test="z")
    >>> round(d.z, 2)
    2.45
    """

    statistic: float
    p_value: float
    test: str
    df: float | None = None

    @property
    def z(self) -> float:
        """The test statistic (a z for normal-theory tests; see ``test`` and ``df``)."""
        return self.statistic

    @property
    def significant(self) -> bool:
        """Whether the interval excludes zero (equivalently ``p_value < 1 - confidence``)."""
        return not (self.low <= 0.0 <= self.high)
