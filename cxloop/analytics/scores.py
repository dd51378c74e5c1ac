"""Scores with honest intervals: NPS, top-box (CSAT), mean ratings, the Wilson interval."""

from __future__ import annotations

import functools
import math
from collections.abc import Collection
from typing import Any

import numpy as np
from scipy import stats

from cxloop.lib.scales import NPS_DETRACTORS, NPS_PROMOTERS

from ._input import as_vector, check_confidence, check_count, drop_missing
from .results import Estimate, Interval

__all__ = [
    "MIN_N",
    "nps",
    "nps_from_counts",
    "nps_from_histogram",
    "nps_counts",
    "top_box",
    "mean_score",
    "mean_from_moments",
    "histogram_moments",
    "mean_from_histogram",
    "means_from_histograms",
    "top_box_from_counts",
    "pooled_mean",
    "wilson_interval",
]

NPS_METHODS = ("adjusted-wald", "wald")

#: Fewer answers than this behind a figure, and it is shown with a "too few answers" warning
#: (drawn hollow on a chart, never signalling, not measured as an effect): the one threshold of
#: every page. At n = 30 the 95 % interval of a proportion near ½ is still ±18 points.
MIN_N = 30


# Quantiles are cached: a dashboard asks for hundreds of intervals at one confidence, and
# scipy's ppf costs about 0.1 ms a call, more than the rest of an interval.
def _z(confidence: float) -> float:
    return _normal_quantile(0.5 + check_confidence(confidence) / 2.0)


def _t(confidence: float, df: int) -> float:
    return _t_quantile(0.5 + check_confidence(confidence) / 2.0, df)


@functools.lru_cache(maxsize=1024)
def _normal_quantile(p: float) -> float:
    return float(stats.norm.ppf(p))


@functools.lru_cache(maxsize=4096)
def _t_quantile(p: float, df: int) -> float:
    return float(stats.t.ppf(p, df))


def nps_counts(scores: Any, *, name: str = "scores") -> tuple[int, int, int]:
    r"""Count promoters (9–10), detractors (0–6) and answers on a 0–10 scale.

    .. math::

        P = \#\{i : s_i \ge 9\},\quad D = \#\{i : s_i \le 6\},\quad
        n = \#\{i : s_i \text{ present}\}

    Missing values (``None``, ``NaN``, nulls) are ignored. Any other value must be a whole number
    from 0 to 10; anything else raises ``ValueError`` naming the value and its position.

    Returns
    -------
    (promoters, detractors, n) : tuple of int

    References
    ----------
    Reichheld, F. (2003). The one number you need to grow. *Harvard Business Review* 81(12).

    Examples
    --------
    >>> nps_counts([10, 9, 8, 6, None, 0])
    (2, 2, 5)
    """
    values = as_vector(scores, name=name)
    present = ~np.isnan(values)
    bad = present & ((values < 0) | (values > 10) | (values != np.floor(values)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}: {values[i]:g} at position {i} is not an answer on the 0–10 scale "
            f"(whole numbers 0 to 10 expected)"
        )
    v = values[present]
    promoters = np.count_nonzero(v >= NPS_PROMOTERS[0])
    return int(promoters), int(np.count_nonzero(v <= NPS_DETRACTORS[1])), int(v.size)


def _nps_center_se(promoters: float, detractors: float, n: float, method: str):
    """Centre and standard error of NPS on the −1..1 scale for the chosen interval method."""
    if method == "adjusted-wald":
        promoters, detractors, n = promoters + 0.75, detractors + 0.75, n + 3.0
    elif method != "wald":
        raise ValueError(f"method must be one of {NPS_METHODS}, got {method!r}")
    p, d = promoters / n, detractors / n
    variance = max(p + d - (p - d) ** 2, 0.0)
    return p - d, math.sqrt(variance / n), variance


def nps_from_counts(
    promoters: float,
    detractors: float,
    n: float,
    *,
    method: str = "adjusted-wald",
    confidence: float = 0.95,
) -> Estimate:
    r"""Net Promoter Score from counts, with a confidence interval, on the −100..100 scale.

    Use this when the counts come from a database aggregate; :func:`nps` takes raw answers and
    explains the methods.

    .. math::

        \mathrm{NPS} = 100\,\frac{P - D}{n},\qquad
        \mathrm{se} = \sqrt{\frac{(p + d) - (p - d)^2}{n}}
        \quad (\text{adjusted-Wald: } P, D \mathrel{+}= \tfrac34,\ n \mathrel{+}= 3)

    References
    ----------
    Rocks, B. (2016). *NPS*, R package. Sauro, J. & Lewis, J. R. (2016). *Quantifying the User
    Experience*, 2nd ed., ch. 5.

    Examples
    --------
    >>> e = nps_from_counts(60, 15, 100)
    >>> e.value, e.n
    (45.0, 100)
    >>> round(e.low, 1), round(e.high, 1)
    (29.3, 58.0)
    """
    P = check_count(promoters, "promoters")
    D = check_count(detractors, "detractors")
    N = check_count(n, "n")
    if N == 0:
        raise ValueError("NPS needs at least one answer; n is 0")
    if P + D > N:
        raise ValueError(f"promoters + detractors ({P:g} + {D:g}) exceed the answers n={N:g}")
    z = _z(confidence)
    value = (P - D) / N
    center, se, _ = _nps_center_se(P, D, N, method)
    low, high = max(-1.0, center - z * se), min(1.0, center + z * se)
    # The adjusted-Wald interval is centred on the adjusted score; for a handful of answers it can
    # miss the observed score. Widen it to include the observed value rather than report an
    # interval that excludes its own estimate.
    low, high = min(low, value), max(high, value)
    return Estimate(100.0 * value, 100.0 * low, 100.0 * high, int(round(N)))


def nps_from_histogram(
    counts: Any, *, method: str = "adjusted-wald", confidence: float = 0.95
) -> Estimate:
    r"""Net Promoter Score from a histogram of 0–10 answers: ``counts[s]`` answers scored ``s``.

    What the fact store's queries return (answers counted by score); the categories are those
    of :mod:`cxloop.lib.scales`, the interval :func:`nps_from_counts`'s:

    .. math::

        P = \sum_{s=9}^{10} c_s,\quad D = \sum_{s=0}^{6} c_s,\quad n = \sum_{s=0}^{10} c_s

    References
    ----------
    Reichheld, F. (2003). The one number you need to grow. *Harvard Business Review* 81(12).

    Examples
    --------
    >>> nps_from_histogram([1, 0, 0, 0, 0, 0, 1, 1, 0, 2, 1]).value
    16.666666666666664
    """
    histogram = np.asarray(counts, dtype=np.float64)
    if histogram.shape != (11,):
        raise ValueError(f"counts: expected one count for each score 0–10, got {histogram.shape}")
    promoters = histogram[NPS_PROMOTERS[0] : NPS_PROMOTERS[1] + 1].sum()
    detractors = histogram[NPS_DETRACTORS[0] : NPS_DETRACTORS[1] + 1].sum()
    return nps_from_counts(
        promoters, detractors, histogram.sum(), method=method, confidence=confidence
    )


def nps(scores: Any, *, method: str = "adjusted-wald", confidence: float = 0.95) -> Estimate:
    r"""Net Promoter Score of 0–10 answers with a confidence interval, on the −100..100 scale.

    With :math:`P` promoters (9–10), :math:`D` detractors (0–6) among :math:`n` answers,
    :math:`p = P/n`, :math:`d = D/n`:

    .. math::

        \mathrm{NPS} = 100\,(p - d), \qquad
        \widehat{\mathrm{Var}} = (p + d) - (p - d)^2, \qquad
        \mathrm{se} = \sqrt{\widehat{\mathrm{Var}} / n}

    (the multinomial variance used by Rocks' R package ``NPS``). ``method="wald"`` gives
    :math:`\mathrm{NPS} \pm z\,\mathrm{se}`. ``method="adjusted-wald"`` (the default, Sauro &
    Lewis) first adds 3 to :math:`n` and ¾ to :math:`P` and :math:`D` and applies the same
    formula, which keeps a sensible width when all answers agree or :math:`n` is small. Limits
    are clipped to −100..100; the reported value is always the observed NPS, and for very small
    :math:`n` the adjusted interval is widened to contain it.

    Parameters
    ----------
    scores : array-like
        Answers 0–10 (list, NumPy array, pandas or Polars Series). Missing values are ignored.
    method : {"adjusted-wald", "wald"}
    confidence : float
        Confidence level of the interval, default 0.95.

    Returns
    -------
    Estimate
        ``value`` the NPS, ``low``/``high`` the interval, ``n`` the answers used.

    Raises
    ------
    ValueError
        If there are no answers, or an answer is not a whole number 0–10 (the message names it).

    References
    ----------
    Reichheld, F. (2003). The one number you need to grow. *Harvard Business Review* 81(12).
    Rocks, B. (2016). *NPS: Convenience functions and tests for Net Promoter Score*. R package.
    Sauro, J. & Lewis, J. R. (2016). *Quantifying the User Experience*, 2nd ed., ch. 5.

    Examples
    --------
    >>> e = nps([10, 10, 9, 8, 7, 6, 3, 10, 9, 9])
    >>> e.value, e.n
    (40.0, 10)
    >>> e.low < 40.0 < e.high
    True
    """
    P, D, N = nps_counts(scores)
    if N == 0:
        raise ValueError("scores: no answers (all values are missing or the input is empty)")
    return nps_from_counts(P, D, N, method=method, confidence=confidence)


def wilson_interval(successes: float, n: float, *, confidence: float = 0.95) -> Interval:
    r"""Wilson score interval for a binomial proportion.

    .. math::

        \frac{x + z^2/2}{n + z^2} \pm
        \frac{z}{n + z^2}\sqrt{\frac{x(n - x)}{n} + \frac{z^2}{4}}

    with :math:`z` the standard normal quantile for the confidence level. This is method 3 of
    Newcombe (1998a), recommended there over the Wald interval because it keeps its coverage for
    small :math:`n` and proportions near 0 or 1.

    Parameters
    ----------
    successes : float
        Number of successes :math:`x`, ``0 <= x <= n``.
    n : float
        Number of trials, ``n > 0``.
    confidence : float
        Confidence level, default 0.95.

    Returns
    -------
    Interval
        On the 0..1 scale.

    References
    ----------
    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference.
    *JASA* 22, 209–212.
    Newcombe, R. G. (1998a). Two-sided confidence intervals for the single proportion:
    comparison of seven methods. *Statistics in Medicine* 17, 857–872 (Table I).

    Examples
    --------
    >>> ci = wilson_interval(81, 263)
    >>> round(ci.low, 4), round(ci.high, 4)
    (0.2553, 0.3662)
    """
    x = check_count(successes, "successes")
    N = check_count(n, "n")
    if N == 0:
        raise ValueError("wilson_interval needs n > 0 trials")
    if x > N:
        raise ValueError(f"successes ({x:g}) cannot exceed n ({N:g})")
    z = _z(confidence)
    z2 = z * z
    center = (x + z2 / 2.0) / (N + z2)
    half = z / (N + z2) * math.sqrt(x * (N - x) / N + z2 / 4.0)
    low = 0.0 if x == 0 else max(0.0, center - half)
    high = 1.0 if x == N else min(1.0, center + half)
    return Interval(low, high)


def top_box(
    scores: Any,
    *,
    top: Collection[float] = (4, 5),
    confidence: float = 0.95,
    scale: tuple[float, float] | None = None,
) -> Estimate:
    r"""Top-box share (e.g. CSAT: the per cent of 4s and 5s) with a Wilson interval.

    .. math::

        \hat p = \frac{\#\{i : s_i \in \text{top}\}}{n}, \qquad
        \text{interval: Wilson (see } \texttt{wilson\_interval}\text{)}

    Parameters
    ----------
    scores : array-like
        Answers; missing values are ignored.
    top : collection of numbers
        The answers that count as "top", default ``(4, 5)`` for a 1–5 CSAT question.
    confidence : float
        Confidence level, default 0.95.
    scale : (low, high), optional
        If given, every answer must lie in ``[low, high]``; a value outside raises ``ValueError``.

    Returns
    -------
    Estimate
        Per cent (0..100) with the Wilson interval, ``n`` answers used.

    References
    ----------
    Wilson (1927); Newcombe (1998a), method 3. See :func:`wilson_interval`.

    Examples
    --------
    >>> e = top_box([5, 4, 3, 5, 2, None, 4, 5])
    >>> round(e.value, 2), e.n
    (71.43, 7)
    """
    if len(top) == 0:
        raise ValueError("top must name at least one answer value, e.g. top=(4, 5)")
    values = drop_missing(as_vector(scores, name="scores"))
    if not np.isfinite(values).all():
        raise ValueError("scores: infinite values are not answers")
    if scale is not None:
        lo, hi = scale
        bad = (values < lo) | (values > hi)
        if bad.any():
            v = values[np.flatnonzero(bad)[0]]
            raise ValueError(f"scores: {v:g} is outside the {lo:g}–{hi:g} scale")
    if values.size == 0:
        raise ValueError("scores: no answers (all values are missing or the input is empty)")
    x = int(np.isin(values, np.asarray(list(top), dtype=float)).sum())
    return top_box_from_counts(x, int(values.size), confidence=confidence)


def mean_from_moments(mean: float, std: float, n: int, *, confidence: float = 0.95) -> Estimate:
    r"""Mean with a Student-t interval from its sufficient statistics.

    .. math:: \bar x \pm t_{n-1,\,1-\alpha/2}\; s / \sqrt{n}

    ``std`` is the sample standard deviation (``ddof=1``). See :func:`mean_score`.

    References
    ----------
    Student (1908). The probable error of a mean. *Biometrika* 6, 1–25.

    Examples
    --------
    >>> e = mean_from_moments(4.2, 0.8, 25)
    >>> round(e.low, 3), round(e.high, 3)
    (3.87, 4.53)
    """
    n_int = int(n)
    if n_int != n or n_int < 2:
        raise ValueError(f"a t interval needs at least 2 observations, got n={n!r}")
    if not (math.isfinite(mean) and math.isfinite(std)) or std < 0:
        raise ValueError(f"mean and std must be finite with std >= 0, got {mean!r}, {std!r}")
    half = _t(confidence, n_int - 1) * std / math.sqrt(n_int)
    return Estimate(float(mean), float(mean - half), float(mean + half), n_int)


def histogram_moments(values: Any, counts: Any) -> tuple[int, float, float]:
    r"""Answers, mean and sample variance (``ddof=1``) of answers given as a histogram:
    ``counts[i]`` answers of ``values[i]``.

    .. math::

        n = \sum_i c_i,\quad \bar x = \frac{1}{n}\sum_i c_i v_i,\quad
        s^2 = \frac{1}{n - 1}\sum_i c_i (v_i - \bar x)^2

    The sums are over the distinct values, never the answers, so a histogram of millions of
    answers costs what its few bins cost; centring on the mean before squaring keeps them exact
    for the short integer scales the fact store holds. ``s²`` is NaN under two answers.

    References
    ----------
    Welford, B. P. (1962). Note on a method for calculating corrected sums of squares and
    products. *Technometrics* 4, 419–420 (why the deviations are taken from the mean).

    Examples
    --------
    >>> histogram_moments([1, 2, 3, 4, 5], [0, 1, 0, 2, 1])
    (4, 3.75, 1.5833333333333333)
    """
    v = np.asarray(values, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    if v.shape != c.shape or v.ndim != 1:
        raise ValueError(
            f"values and counts must be two vectors of one length: {v.shape}, {c.shape}"
        )
    if (c < 0).any() or not np.isfinite(c).all() or (c != np.floor(c)).any():
        raise ValueError("counts must be whole numbers ≥ 0")
    n = int(c.sum())
    if n == 0:
        return 0, math.nan, math.nan
    mean = float(c @ v / n)
    variance = float(c @ (v - mean) ** 2 / (n - 1)) if n > 1 else math.nan
    return n, mean, variance


def mean_from_histogram(values: Any, counts: Any, *, confidence: float = 0.95) -> Estimate:
    r"""Mean of answers given as a histogram, with the Student-t interval of
    :func:`mean_from_moments`:

    .. math:: \bar x \pm t_{n-1,\,1-\alpha/2}\; s / \sqrt{n}

    with :math:`\bar x, s` from :func:`histogram_moments`; at least two answers.

    References
    ----------
    Student (1908). The probable error of a mean. *Biometrika* 6, 1–25.

    Examples
    --------
    >>> round(mean_from_histogram([1, 2, 3, 4, 5], [0, 1, 0, 2, 1]).low, 3)
    1.748
    """
    n, mean, variance = histogram_moments(values, counts)
    return mean_from_moments(mean, math.sqrt(max(variance, 0.0)) if n > 1 else 0.0, n,
                             confidence=confidence)  # fmt: skip


def means_from_histograms(
    values: Any, counts: Any, *, confidence: float = 0.95
) -> list[Estimate | None]:
    r""":func:`mean_from_histogram` of each row of ``counts`` (one histogram a row, over
    ``values``), as arrays: the same formula and figures, None for a row of fewer than two
    answers. A journey map's sparklines are 500 histograms, which one call at a time took a
    fifth of the page's computing.

    .. math:: \bar x_r \pm t_{n_r-1,\,1-\alpha/2}\; s_r / \sqrt{n_r}

    References
    ----------
    Student (1908). The probable error of a mean. *Biometrika* 6, 1–25.

    Examples
    --------
    >>> [e and round(e.low, 3) for e in means_from_histograms([1, 2], [[0, 1], [1, 3]])]
    [None, 0.954]
    """
    v = np.asarray(values, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    if v.ndim != 1 or c.ndim != 2 or c.shape[1] != v.shape[0]:
        raise ValueError(
            f"counts must be a matrix of one histogram a row over the values: {v.shape}, {c.shape}"
        )
    if (c < 0).any() or not np.isfinite(c).all() or (c != np.floor(c)).any():
        raise ValueError("counts must be whole numbers ≥ 0")
    n = c.sum(axis=1)
    enough = n >= 2
    out: list[Estimate | None] = [None] * len(n)
    if not enough.any():
        return out
    n, c = n[enough], c[enough]
    mean = c @ v / n
    variance = np.maximum((c * (v[None, :] - mean[:, None]) ** 2).sum(axis=1) / (n - 1), 0.0)
    t = np.array([_t(confidence, int(k) - 1) for k in n])
    half = t * np.sqrt(variance) / np.sqrt(n)
    for row, m, h, k in zip(np.flatnonzero(enough), mean, half, n, strict=True):
        out[row] = Estimate(float(m), float(m - h), float(m + h), int(k))
    return out


def top_box_from_counts(top: int, n: int, *, confidence: float = 0.95) -> Estimate:
    r"""Per cent of ``n`` answers in the top box (``top`` of them) with the Wilson interval:

    .. math:: 100\,\frac{x}{n}, \qquad \text{interval: Wilson (see } \texttt{wilson\_interval})

    References
    ----------
    Wilson (1927); Newcombe (1998a), method 3. See :func:`wilson_interval`.

    Examples
    --------
    >>> e = top_box_from_counts(5, 7)
    >>> round(e.value, 2), round(e.low, 1), round(e.high, 1)
    (71.43, 35.9, 91.8)
    """
    ci = wilson_interval(top, n, confidence=confidence)
    return Estimate(100.0 * top / n, 100.0 * ci.low, 100.0 * ci.high, int(n))


def pooled_mean(
    counts: Any, sums: Any, squares: Any, cross: Any = None, *, confidence: float = 0.95
) -> Estimate:
    r"""Mean of the ratings of several items together (a journey stage's touchpoints) when one
    respondent may rate several of them, with a t interval whose variance counts those pairs.

    Item :math:`t` has :math:`n_t` ratings with sum :math:`S_t` and sum of squares :math:`Q_t`
    (``counts``, ``sums``, ``squares``); ``cross[t, u]`` (:math:`t \ne u`) is the sum, over the
    respondents who rated both, of the products of their deviations from the items' means
    (:math:`n_{tu} c_{tu}` for a pairwise covariance :math:`c_{tu}`; None: nobody rated two).
    With :math:`N = \sum_t n_t`:

    .. math::

        \bar x = \frac{\sum_t S_t}{N},\qquad
        V = \sum_t \Bigl(Q_t - \frac{S_t^2}{n_t}\Bigr) + \sum_{t \ne u} \mathrm{cross}_{tu},
        \qquad \mathrm{se} = \frac{\sqrt V}{N}

    :math:`V` is the variance of a sum of correlated variables (each respondent's deviations,
    summed over the items they rated): the respondent is the cluster, so a respondent who rates
    five touchpoints of a stage well is not counted as five independent answers. The interval
    is :math:`\bar x \pm t_{N-1}\,\mathrm{se}`.

    References
    ----------
    Casella, G. & Berger, R. L. (2002). *Statistical Inference*, 2nd ed., Theorem 4.5.6 (the
    variance of a sum). Kish, L. (1965). *Survey Sampling*, ch. 5–6 (cluster samples).

    Examples
    --------
    >>> e = pooled_mean([2, 2], [9, 7], [41, 25])
    >>> round(e.value, 2), e.n
    (4.0, 4)
    """
    n = np.asarray(counts, dtype=np.float64)
    s1 = np.asarray(sums, dtype=np.float64)
    s2 = np.asarray(squares, dtype=np.float64)
    if not n.shape == s1.shape == s2.shape or n.ndim != 1:
        raise ValueError("counts, sums and squares must be vectors of one length")
    total = int(n.sum())
    if total < 2:
        raise ValueError(f"a t interval needs at least 2 ratings, got {total}")
    with np.errstate(invalid="ignore", divide="ignore"):
        within = np.where(n > 0, s2 - s1**2 / np.maximum(n, 1.0), 0.0)
    variance = float(within.sum())
    if cross is not None:
        pairs = np.asarray(cross, dtype=np.float64)
        if pairs.shape != (n.size, n.size):
            raise ValueError(f"cross must be {n.size}×{n.size}, got {pairs.shape}")
        variance += float(pairs.sum() - np.trace(pairs))
    mean = float(s1.sum() / total)
    # mean_from_moments takes a standard deviation: the one whose s/√N is se = √V / N.
    return mean_from_moments(mean, math.sqrt(max(variance, 0.0) / total), total,
                             confidence=confidence)  # fmt: skip


def mean_score(values: Any, *, confidence: float = 0.95) -> Estimate:
    r"""Mean rating with a Student-t confidence interval.

    .. math::

        \bar x \pm t_{n-1,\,1-\alpha/2}\,\frac{s}{\sqrt n},\qquad
        s^2 = \frac{1}{n-1}\sum_i (x_i - \bar x)^2

    Parameters
    ----------
    values : array-like
        Ratings; missing values are ignored.
    confidence : float
        Confidence level, default 0.95.

    Returns
    -------
    Estimate

    Raises
    ------
    ValueError
        Fewer than two non-missing values, or an infinite value.

    References
    ----------
    Student (1908). The probable error of a mean. *Biometrika* 6, 1–25.

    Examples
    --------
    >>> e = mean_score([4, 5, 3, 4, 5, None])
    >>> e.value, e.n
    (4.2, 5)
    >>> round(e.low, 3), round(e.high, 3)
    (3.161, 5.239)
    """
    v = drop_missing(as_vector(values, name="values"))
    if not np.isfinite(v).all():
        raise ValueError("values: infinite values cannot be averaged")
    if v.size < 2:
        raise ValueError(f"a t interval needs at least 2 non-missing values, got {v.size}")
    return mean_from_moments(float(v.mean()), float(v.std(ddof=1)), v.size, confidence=confidence)
