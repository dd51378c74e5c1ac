"""Comparisons between groups: differences of proportions and NPS, and many-segment screening."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ._input import as_vector, check_confidence, check_count, drop_missing
from .results import Difference, Estimate, Interval, to_plain
from .scores import (
    _nps_center_se,
    mean_score,
    nps_counts,
    nps_from_counts,
    top_box,
    wilson_interval,
)

__all__ = [
    "newcombe_difference",
    "proportion_difference",
    "nps_difference",
    "nps_difference_from_counts",
    "mean_difference",
    "mean_difference_from_moments",
    "benjamini_hochberg",
    "SegmentComparison",
    "compare_segments",
]


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + check_confidence(confidence) / 2.0))


def _check_pair(x: float, n: float, label: str) -> tuple[float, float]:
    xv, nv = check_count(x, f"x{label}"), check_count(n, f"n{label}")
    if nv == 0:
        raise ValueError(f"n{label} must be positive")
    if xv > nv:
        raise ValueError(f"x{label} ({xv:g}) cannot exceed n{label} ({nv:g})")
    return xv, nv


def newcombe_difference(
    x1: float, n1: float, x2: float, n2: float, *, confidence: float = 0.95
) -> Interval:
    r"""Newcombe's hybrid score interval for a difference of independent proportions.

    With :math:`\hat p_i = x_i/n_i` and Wilson limits :math:`(l_i, u_i)` for each proportion
    (:func:`~cxloop.analytics.wilson_interval`), the interval for :math:`p_1 - p_2` is

    .. math::

        \Bigl[\hat p_1 - \hat p_2 - \sqrt{(\hat p_1 - l_1)^2 + (u_2 - \hat p_2)^2},\;
              \hat p_1 - \hat p_2 + \sqrt{(u_1 - \hat p_1)^2 + (\hat p_2 - l_2)^2}\Bigr]

    (method 10 of Newcombe 1998b), which keeps close to nominal coverage even for small samples
    and proportions near 0 or 1.

    Parameters
    ----------
    x1, n1, x2, n2 : float
        Successes and trials in the two groups.
    confidence : float
        Confidence level, default 0.95.

    Returns
    -------
    Interval
        For :math:`p_1 - p_2`, on the −1..1 scale.

    References
    ----------
    Newcombe, R. G. (1998b). Interval estimation for the difference between independent
    proportions: comparison of eleven methods. *Statistics in Medicine* 17, 873–890.

    Examples
    --------
    >>> ci = newcombe_difference(56, 70, 48, 80)
    >>> round(ci.low, 4), round(ci.high, 4)
    (0.0524, 0.3339)
    """
    x1, n1 = _check_pair(x1, n1, "1")
    x2, n2 = _check_pair(x2, n2, "2")
    p1, p2 = x1 / n1, x2 / n2
    w1 = wilson_interval(x1, n1, confidence=confidence)
    w2 = wilson_interval(x2, n2, confidence=confidence)
    d = p1 - p2
    low = d - math.sqrt((p1 - w1.low) ** 2 + (w2.high - p2) ** 2)
    high = d + math.sqrt((w1.high - p1) ** 2 + (p2 - w2.low) ** 2)
    return Interval(max(-1.0, low), min(1.0, high))


def proportion_difference(
    x1: float, n1: float, x2: float, n2: float, *, confidence: float = 0.95
) -> Difference:
    r"""Difference of two proportions (per cent points) with Newcombe's interval and a z test.

    The interval is :func:`newcombe_difference`; the test is the pooled two-proportion z test

    .. math::

        z = \frac{\hat p_1 - \hat p_2}{\sqrt{\bar p(1 - \bar p)(1/n_1 + 1/n_2)}},\qquad
        \bar p = \frac{x_1 + x_2}{n_1 + n_2}

    with a two-sided normal p-value (equal to Pearson's χ² test without continuity correction).
    When :math:`\bar p` is 0 or 1 both groups agree exactly; ``statistic`` is then 0 and the
    p-value 1.

    Returns
    -------
    Difference
        ``value`` = :math:`100(\hat p_1 - \hat p_2)`, interval in per cent points.

    References
    ----------
    Newcombe (1998b), method 10; Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., §3.1.

    Examples
    --------
    >>> d = proportion_difference(56, 70, 48, 80)
    >>> round(d.value, 1), round(d.low, 2), round(d.high, 2), round(d.p_value, 4)
    (20.0, 5.24, 33.39, 0.008)
    """
    ci = newcombe_difference(x1, n1, x2, n2, confidence=confidence)
    x1, n1, x2, n2 = float(x1), float(n1), float(x2), float(n2)
    d = x1 / n1 - x2 / n2
    pooled = (x1 + x2) / (n1 + n2)
    se0 = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2))
    z = d / se0 if se0 > 0 else 0.0
    p = float(2.0 * stats.norm.sf(abs(z)))
    return Difference(
        100.0 * d,
        100.0 * ci.low,
        100.0 * ci.high,
        int(round(n1 + n2)),
        statistic=z,
        p_value=p,
        test="two-proportion z (pooled), Newcombe interval",
    )


def nps_difference_from_counts(
    a: tuple[float, float, float],
    b: tuple[float, float, float],
    *,
    method: str = "adjusted-wald",
    confidence: float = 0.95,
) -> Difference:
    r""":func:`nps_difference` from ``(promoters, detractors, n)`` counts of the two groups.

    .. math::

        z = \frac{\mathrm{NPS}_a - \mathrm{NPS}_b}{\sqrt{v_a/n_a + v_b/n_b}},\qquad
        v = (p + d) - (p - d)^2

    References
    ----------
    Rocks, B. (2016). R package ``NPS``. Sauro, J. & Lewis, J. R. (2016). *Quantifying the User
    Experience*, 2nd ed., ch. 5.

    Examples
    --------
    >>> d = nps_difference_from_counts((60, 15, 100), (40, 30, 100))
    >>> d.value
    35.0
    """
    ea = nps_from_counts(*a, method=method, confidence=confidence)
    eb = nps_from_counts(*b, method=method, confidence=confidence)
    ca, sa, _ = _nps_center_se(float(a[0]), float(a[1]), float(a[2]), method)
    cb, sb, _ = _nps_center_se(float(b[0]), float(b[1]), float(b[2]), method)
    value = (ea.value - eb.value) / 100.0
    se = math.sqrt(sa * sa + sb * sb)
    if se == 0.0:
        raise ValueError(
            "both groups gave identical answers only (zero variance), so the Wald test is "
            "undefined; use method='adjusted-wald'"
        )
    z = _z(confidence)
    center = ca - cb
    statistic = center / se
    low, high = max(-2.0, center - z * se), min(2.0, center + z * se)
    low, high = min(low, value), max(high, value)
    return Difference(
        100.0 * value,
        100.0 * low,
        100.0 * high,
        ea.n + eb.n,
        statistic=statistic,
        p_value=float(2.0 * stats.norm.sf(abs(statistic))),
        test=f"z ({method}, multinomial variance)",
    )


def nps_difference(
    a: Any, b: Any, *, method: str = "adjusted-wald", confidence: float = 0.95
) -> Difference:
    r"""Difference between the NPS of two independent groups, with an interval and a z test.

    Each group's NPS variance is the multinomial one, :math:`v = (p + d) - (p - d)^2`
    (Rocks), and

    .. math::

        \mathrm{se} = \sqrt{v_a/n_a + v_b/n_b},\qquad
        z = \frac{\mathrm{NPS}_a - \mathrm{NPS}_b}{\mathrm{se}},\qquad
        \text{interval } (\mathrm{NPS}_a - \mathrm{NPS}_b) \pm z_{1-\alpha/2}\,\mathrm{se}.

    With ``method="adjusted-wald"`` (default; Sauro & Lewis) both the interval and the test use
    the adjusted counts (¾ added to promoters and detractors, 3 to n in each group), which keeps
    them defined when a small group answers unanimously; the reported ``value`` is the observed
    difference and the interval is widened to contain it if needed.

    Parameters
    ----------
    a, b : array-like
        0–10 answers of the two groups (missing values ignored).
    method : {"adjusted-wald", "wald"}
    confidence : float
        Confidence level, default 0.95.

    Returns
    -------
    Difference
        ``value`` = NPS(a) − NPS(b) in points (−200..200), ``statistic`` the z, ``p_value``
        two-sided.

    References
    ----------
    Rocks, B. (2016). R package ``NPS`` (``nps.var``, ``nps.test``).
    Sauro, J. & Lewis, J. R. (2016). *Quantifying the User Experience*, 2nd ed., ch. 5.

    Examples
    --------
    >>> a = [10] * 60 + [8] * 25 + [3] * 15
    >>> b = [10] * 40 + [8] * 30 + [3] * 30
    >>> d = nps_difference(a, b)
    >>> d.value, d.p_value < 0.01
    (35.0, True)
    """
    ca = nps_counts(a, name="a")
    cb = nps_counts(b, name="b")
    for label, c in (("a", ca), ("b", cb)):
        if c[2] == 0:
            raise ValueError(f"{label}: no answers (all values are missing or the input is empty)")
    return nps_difference_from_counts(ca, cb, method=method, confidence=confidence)


def mean_difference(a: Any, b: Any, *, confidence: float = 0.95) -> Difference:
    r"""Difference of two means with Welch's t test and interval.

    .. math::

        t = \frac{\bar a - \bar b}{\sqrt{s_a^2/n_a + s_b^2/n_b}},\qquad
        \nu = \frac{(s_a^2/n_a + s_b^2/n_b)^2}
                   {\frac{(s_a^2/n_a)^2}{n_a - 1} + \frac{(s_b^2/n_b)^2}{n_b - 1}}

    Missing values are ignored.

    References
    ----------
    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. *Biometrika* 34, 28–35.

    Examples
    --------
    >>> d = mean_difference([4, 5, 4, 5, 5, 4], [3, 4, 3, 2, 4, 3])
    >>> round(d.value, 3), round(d.p_value, 4)
    (1.333, 0.0065)
    """
    va = drop_missing(as_vector(a, name="a"))
    vb = drop_missing(as_vector(b, name="b"))
    return _welch(va, vb, confidence)


def mean_difference_from_moments(
    a: tuple[int, float, float], b: tuple[int, float, float], *, confidence: float = 0.95
) -> Difference:
    r"""Welch's t test and interval for two means given as their sufficient statistics
    ``(n, mean, variance)`` (variance with ``ddof=1``), e.g. from
    :func:`~cxloop.analytics.histogram_moments`:

    .. math::

        t = \frac{\bar a - \bar b}{\sqrt{s_a^2/n_a + s_b^2/n_b}},\qquad
        \nu = \frac{(s_a^2/n_a + s_b^2/n_b)^2}
                   {\frac{(s_a^2/n_a)^2}{n_a - 1} + \frac{(s_b^2/n_b)^2}{n_b - 1}}

    References
    ----------
    Welch, B. L. (1947). The generalization of "Student's" problem when several different
    population variances are involved. *Biometrika* 34, 28–35.

    Examples
    --------
    >>> d = mean_difference_from_moments((6, 4.5, 0.3), (6, 19 / 6, 17 / 30))
    >>> round(d.value, 3), round(d.p_value, 4)
    (1.333, 0.0065)
    """
    (na, mean_a, var_a), (nb, mean_b, var_b) = a, b
    for label, n in (("a", na), ("b", nb)):
        if int(n) != n or n < 2:
            raise ValueError(f"{label}: a t test needs at least 2 non-missing values, got {n}")
    if not all(math.isfinite(x) for x in (mean_a, var_a, mean_b, var_b)):
        raise ValueError("infinite values cannot be averaged")
    qa, qb = max(var_a, 0.0) / na, max(var_b, 0.0) / nb
    se2 = qa + qb
    if se2 == 0.0:
        raise ValueError("both groups are constant, so the t test is undefined")
    df = se2**2 / (qa**2 / (na - 1) + qb**2 / (nb - 1))
    diff = float(mean_a - mean_b)
    se = math.sqrt(se2)
    t = diff / se
    q = float(stats.t.ppf(0.5 + check_confidence(confidence) / 2.0, df))
    return Difference(
        diff,
        diff - q * se,
        diff + q * se,
        int(na + nb),
        statistic=t,
        p_value=float(2.0 * stats.t.sf(abs(t), df)),
        test="Welch t",
        df=float(df),
    )


def _welch(
    va: np.ndarray, vb: np.ndarray, confidence: float, labels: tuple[str, str] = ("a", "b")
) -> Difference:
    for label, v in zip(labels, (va, vb), strict=True):
        if v.size < 2:
            raise ValueError(f"{label}: a t test needs at least 2 non-missing values, got {v.size}")
        if not np.isfinite(v).all():
            raise ValueError(f"{label}: infinite values cannot be averaged")
    moments = [(v.size, float(v.mean()), float(v.var(ddof=1))) for v in (va, vb)]
    return mean_difference_from_moments(*moments, confidence=confidence)


def benjamini_hochberg(p_values: Any) -> np.ndarray:
    r"""Benjamini–Hochberg adjusted p-values (q-values) controlling the false discovery rate.

    With the p-values sorted :math:`p_{(1)} \le \dots \le p_{(m)}`,

    .. math:: q_{(i)} = \min_{j \ge i} \min\!\left(1, \frac{m\,p_{(j)}}{j}\right)

    and a test is a discovery at FDR level :math:`\alpha` when :math:`q \le \alpha`. Valid for
    independent or positively dependent tests.

    Parameters
    ----------
    p_values : array-like
        p-values in [0, 1]; NaN is not allowed.

    Returns
    -------
    numpy.ndarray
        q-values in the input order.

    References
    ----------
    Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate: a practical and
    powerful approach to multiple testing. *JRSS B* 57, 289–300.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.20]).round(3).tolist()
    [0.04, 0.053, 0.053, 0.2]
    """
    p = as_vector(p_values, name="p_values")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("p_values must all be numbers in [0, 1]")
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    q = np.empty(m)
    q[order] = q_sorted
    return q


@dataclass(frozen=True)
class SegmentComparison:
    """One segment against the rest: its estimate, the difference, and the FDR verdict."""

    name: str
    estimate: Estimate
    difference: Difference
    q_value: float
    significant: bool

    def to_dict(self) -> dict[str, Any]:
        """The comparison as a plain dict."""
        return to_plain(self)


def compare_segments(
    groups: Mapping[str, Any],
    *,
    metric: str = "nps",
    alpha: float = 0.05,
    confidence: float = 0.95,
    top: Collection[float] = (4, 5),
) -> list[SegmentComparison]:
    r"""Flag the teams or segments that differ from the rest, controlling false discoveries.

    Each segment :math:`g` is compared with everyone else (the whole minus :math:`g`, so the two
    samples are independent) by

    - ``metric="nps"``: :func:`nps_difference` (adjusted-Wald z test);
    - ``metric="top_box"``: :func:`proportion_difference` on the top-box share;
    - ``metric="mean"``: Welch's t test (:func:`mean_difference`).

    The :math:`m` p-values are adjusted with Benjamini–Hochberg,

    .. math:: q_{(i)} = \min_{j \ge i} \min(1,\ m\,p_{(j)}/j),

    and a segment is flagged when its q-value is at most ``alpha``, so that on average at most
    a fraction ``alpha`` of the flagged segments are false alarms however many segments there
    are.

    Parameters
    ----------
    groups : mapping of name to answers
        For example ``dict(df.groupby("team")["nps"])``. At least two groups.
    metric : {"nps", "top_box", "mean"}
    alpha : float
        False discovery rate, default 0.05.
    confidence : float
        Confidence level of the per-segment intervals, default 0.95 (not adjusted).
    top : collection of numbers
        Top-box answers for ``metric="top_box"``.

    Returns
    -------
    list of SegmentComparison
        In the order of ``groups``; ``difference`` is segment minus rest.

    References
    ----------
    Benjamini & Hochberg (1995); see :func:`benjamini_hochberg`.

    Examples
    --------
    >>> groups = {"north": [10] * 80 + [3] * 20, "south": [10] * 55 + [3] * 45,
    ...           "east": [10] * 56 + [3] * 44, "west": [10] * 54 + [3] * 46}
    >>> [c.name for c in compare_segments(groups) if c.significant]
    ['north']
    """
    if metric not in ("nps", "top_box", "mean"):
        raise ValueError(f"metric must be 'nps', 'top_box' or 'mean', got {metric!r}")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha!r}")
    if len(groups) < 2:
        raise ValueError("compare_segments needs at least two groups")
    names = list(groups)
    vectors = {g: drop_missing(as_vector(groups[g], name=f"group {g!r}")) for g in names}
    for g, v in vectors.items():
        if v.size == 0:
            raise ValueError(f"group {g!r} has no answers")
    results: list[tuple[str, Estimate, Difference]] = []
    if metric == "nps":
        counts = {g: nps_counts(v, name=f"group {g!r}") for g, v in vectors.items()}
        total = np.sum([counts[g] for g in names], axis=0)
        for g in names:
            rest = tuple(total - np.asarray(counts[g]))
            est = nps_from_counts(*counts[g], confidence=confidence)
            diff = nps_difference_from_counts(counts[g], rest, confidence=confidence)
            results.append((g, est, diff))
    elif metric == "top_box":
        tops = np.asarray(list(top), dtype=float)
        xs = {g: int(np.isin(v, tops).sum()) for g, v in vectors.items()}
        x_all, n_all = sum(xs.values()), sum(v.size for v in vectors.values())
        for g in names:
            est = top_box(vectors[g], top=top, confidence=confidence)
            diff = proportion_difference(
                xs[g],
                vectors[g].size,
                x_all - xs[g],
                n_all - vectors[g].size,
                confidence=confidence,
            )
            results.append((g, est, diff))
    else:
        for g in names:
            if vectors[g].size < 2:
                raise ValueError(f"group {g!r} needs at least 2 answers for a mean comparison")
            rest = np.concatenate([vectors[h] for h in names if h != g])
            diff = _welch(vectors[g], rest, confidence, (f"group {g!r}", "the rest"))
            results.append((g, mean_score(vectors[g], confidence=confidence), diff))
    q = benjamini_hochberg([d.p_value for _, _, d in results])
    return [
        SegmentComparison(g, est, diff, float(qi), bool(qi <= alpha))
        for (g, est, diff), qi in zip(results, q, strict=True)
    ]
