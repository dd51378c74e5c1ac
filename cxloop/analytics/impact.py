"""Impact of an improvement: before/after and difference-in-differences, with tests."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ._input import as_vector, check_confidence, drop_missing
from .comparisons import _welch, nps_difference_from_counts
from .results import Difference, Estimate, to_plain
from .scores import _nps_center_se, mean_score, nps_counts, nps_from_counts

__all__ = [
    "BeforeAfter",
    "CellCounts",
    "DidRegression",
    "InterruptedTimeSeries",
    "before_after",
    "did_regression",
    "difference_in_differences",
    "interrupted_time_series",
]

#: What each result may claim, as codes the page translates (no sentences in this layer).
#: ``association_only``: a before/after change; anything else that moved in the period is in it.
#: ``causal_if_parallel_trends``: DiD whose pre-periods show no difference in trends.
#: ``pre_trends_differ``: DiD whose pre-period trends differ: the estimate is not an effect.
#: ``pre_trends_untested``: DiD with fewer than ``MIN_PRE_PERIODS`` periods before the change.
#: ``causal_if_trend_continues``: interrupted time series with enough periods on both sides.
#: ``too_few_periods``: interrupted time series with fewer than ``MIN_SEGMENT`` on a side.
CLAIMS = (
    "association_only",
    "causal_if_parallel_trends",
    "pre_trends_differ",
    "pre_trends_untested",
    "causal_if_trend_continues",
    "too_few_periods",
)
#: Periods before the change needed to compare the groups' pre-trends (a slope and a residual).
MIN_PRE_PERIODS = 3
#: Periods on each side below which an interrupted time series says ``too_few_periods``:
#: Wagner et al. (2002) advise 12; with fewer than 8 a slope change is mostly noise.
MIN_SEGMENT = 8


@dataclass(frozen=True)
class BeforeAfter:
    """Scores before and after a change and the change itself (after − before).

    ``nps_*`` are ``None`` when the call asked for means only (``nps=False``).
    """

    mean_before: Estimate
    mean_after: Estimate
    mean_change: Difference
    nps_before: Estimate | None
    nps_after: Estimate | None
    nps_change: Difference | None
    #: Always ``"association_only"``: see :data:`CLAIMS`.
    claim: str = "association_only"

    def to_dict(self) -> dict[str, Any]:
        """The comparison as a plain dict."""
        return to_plain(self)


def _answers(values: Any, name: str) -> np.ndarray:
    v = drop_missing(as_vector(values, name=name))
    if v.size == 0:
        raise ValueError(f"{name}: no answers (all values are missing or the input is empty)")
    if not np.isfinite(v).all():
        raise ValueError(f"{name}: infinite values are not answers")
    return v


def before_after(
    before: Any, after: Any, *, nps: bool = True, confidence: float = 0.95
) -> BeforeAfter:
    r"""Did the score change after an improvement? Means (Welch t test) and NPS (z test).

    With independent samples of answers before and after the change:

    .. math::

        t = \frac{\bar a - \bar b}{\sqrt{s_a^2/n_a + s_b^2/n_b}},\qquad
        z = \frac{\mathrm{NPS}_a - \mathrm{NPS}_b}{\sqrt{v_a/n_a + v_b/n_b}}

    - mean: :math:`\bar a - \bar b` with Welch's t test and interval
      (:func:`~cxloop.analytics.mean_difference`);
    - NPS (0–10 answers): :math:`\mathrm{NPS}_a - \mathrm{NPS}_b` with the adjusted-Wald z test
      and interval (:func:`~cxloop.analytics.nps_difference`).

    A before/after comparison credits the change with everything else that moved in the same
    period (season, mix of customers); when an untouched comparison group exists, prefer
    :func:`difference_in_differences`.

    Parameters
    ----------
    before, after : array-like
        Answers in each period; missing values ignored.
    nps : bool
        Also compare NPS (requires 0–10 answers; other values raise ``ValueError``). Set False
        for other scales (CSAT 1–5, CES 1–7).
    confidence : float
        Confidence level, default 0.95.

    Returns
    -------
    BeforeAfter

    References
    ----------
    Welch (1947); Rocks (2016); Sauro & Lewis (2016). See :func:`mean_difference` and
    :func:`nps_difference`.

    Examples
    --------
    >>> res = before_after([6, 7, 9, 10, 5, 8, 9, 6] * 10, [9, 10, 9, 10, 7, 8, 9, 10] * 10)
    >>> round(res.mean_change.value, 3), res.nps_change.value, res.nps_change.p_value < 0.001
    (1.5, 75.0, True)
    """
    b = _answers(before, "before")
    a = _answers(after, "after")
    change = _welch(a, b, confidence, ("after", "before"))
    mb = mean_score(b, confidence=confidence)
    ma = mean_score(a, confidence=confidence)
    if not nps:
        return BeforeAfter(mb, ma, change, None, None, None)
    cb, ca = nps_counts(b, name="before"), nps_counts(a, name="after")
    return BeforeAfter(
        mb,
        ma,
        change,
        nps_from_counts(*cb, confidence=confidence),
        nps_from_counts(*ca, confidence=confidence),
        nps_difference_from_counts(ca, cb, confidence=confidence),
    )


def difference_in_differences(
    treated_before: Any,
    treated_after: Any,
    control_before: Any,
    control_after: Any,
    *,
    metric: str = "mean",
    confidence: float = 0.95,
) -> Difference:
    r"""Difference-in-differences: the change where the improvement was made, minus the change
    where it was not.

    .. math::

        \hat\delta = (\bar y_{T,a} - \bar y_{T,b}) - (\bar y_{C,a} - \bar y_{C,b}),\qquad
        \mathrm{se}^2 = \sum_{g} \frac{s_g^2}{n_g}

    over the four independent samples. For ``metric="mean"`` the test is Welch-type t with
    Satterthwaite degrees of freedom
    :math:`\nu = \mathrm{se}^4 / \sum_g (s_g^2/n_g)^2/(n_g - 1)`; for ``metric="nps"`` each
    sample's NPS and multinomial variance use the adjusted-Wald counts and the test is z. The
    estimate is causal under the parallel-trends assumption: without the change, treated and
    control would have moved alike.

    Parameters
    ----------
    treated_before, treated_after, control_before, control_after : array-like
        Answers of the touchpoint or team that was changed (treated) and of one that was not
        (control), before and after; missing values ignored.
    metric : {"mean", "nps"}
    confidence : float
        Confidence level, default 0.95.

    Returns
    -------
    Difference
        ``value`` the DiD (NPS points for ``"nps"``), interval, ``statistic`` and ``p_value``.

    References
    ----------
    Angrist, J. D. & Pischke, J.-S. (2009). *Mostly Harmless Econometrics*, ch. 5. Princeton.
    Satterthwaite, F. E. (1946). An approximate distribution of estimates of variance
    components. *Biometrics Bulletin* 2, 110–114.

    Examples
    --------
    >>> d = difference_in_differences([3, 4, 3, 4] * 20, [4, 5, 4, 5] * 20,
    ...                               [3, 4, 3, 4] * 20, [3, 4, 4, 4] * 20)
    >>> round(d.value, 2), d.p_value < 0.05
    (0.75, True)
    """
    conf = check_confidence(confidence)
    samples = {
        "treated_before": _answers(treated_before, "treated_before"),
        "treated_after": _answers(treated_after, "treated_after"),
        "control_before": _answers(control_before, "control_before"),
        "control_after": _answers(control_after, "control_after"),
    }
    sign = {
        "treated_before": -1.0,
        "treated_after": 1.0,
        "control_before": 1.0,
        "control_after": -1.0,
    }
    n_total = int(sum(v.size for v in samples.values()))
    if metric == "mean":
        for name, v in samples.items():
            if v.size < 2:
                raise ValueError(f"{name}: needs at least 2 answers for a variance")
        q = {k: v.var(ddof=1) / v.size for k, v in samples.items()}
        se2 = float(sum(q.values()))
        if se2 == 0:
            raise ValueError("all four samples are constant, so the test is undefined")
        value = float(sum(sign[k] * v.mean() for k, v in samples.items()))
        df = se2**2 / sum(q[k] ** 2 / (samples[k].size - 1) for k in samples)
        se = math.sqrt(se2)
        t = value / se
        crit = float(stats.t.ppf(0.5 + conf / 2.0, df))
        return Difference(
            value,
            value - crit * se,
            value + crit * se,
            n_total,
            statistic=t,
            p_value=float(2.0 * stats.t.sf(abs(t), df)),
            test="difference-in-differences, Welch–Satterthwaite t",
            df=float(df),
        )
    if metric != "nps":
        raise ValueError(f"metric must be 'mean' or 'nps', got {metric!r}")
    counts = {k: nps_counts(v, name=k) for k, v in samples.items()}
    value = 0.0
    center = 0.0
    se2 = 0.0
    for k, (P, D, N) in counts.items():
        value += sign[k] * (P - D) / N
        c, se_k, _ = _nps_center_se(P, D, N, "adjusted-wald")
        center += sign[k] * c
        se2 += se_k**2
    se = math.sqrt(se2)
    z = float(stats.norm.ppf(0.5 + conf / 2.0))
    low, high = min(center - z * se, value), max(center + z * se, value)
    statistic = center / se
    return Difference(
        100.0 * value,
        100.0 * low,
        100.0 * high,
        n_total,
        statistic=statistic,
        p_value=float(2.0 * stats.norm.sf(abs(statistic))),
        test="difference-in-differences of NPS, z (adjusted-wald)",
    )


# --------------------------------------------------------------------------------------------
# Regression forms: difference-in-differences on answers, interrupted time series on periods


@dataclass(frozen=True)
class _Fit:
    coef: np.ndarray
    classical: np.ndarray  # covariance matrices
    hc1: np.ndarray
    cluster: np.ndarray
    n: int
    k: int
    clusters: int


def _ols_cells(
    X: np.ndarray, n: np.ndarray, mean: np.ndarray, ss: np.ndarray, cluster: np.ndarray
) -> _Fit:
    """OLS of individual answers on regressors constant within cells, from each cell's count,
    mean and within-cell sum of squares: the answers' own fit, without the answers.

    Row ``c`` of ``X`` is the regressors of every answer in cell ``c``; ``cluster[c]`` the
    cluster (period) of the cell. Residuals in a cell are :math:`y_i - \\bar y_c + r_c` with
    :math:`r_c = \\bar y_c - x_c'\\beta`, so :math:`\\sum_i e_i^2 = SS_c + n_c r_c^2` and a
    cluster's score is :math:`\\sum_c n_c r_c x_c`.
    """
    N, K = float(n.sum()), X.shape[1]
    bread = np.linalg.inv(X.T @ (n[:, None] * X))
    coef = bread @ (X.T @ (n * mean))
    r = mean - X @ coef
    within = ss + n * r * r
    rss = float(within.sum())
    classical = rss / (N - K) * bread
    hc1 = N / (N - K) * bread @ ((X.T * within) @ X) @ bread
    ids, inverse = np.unique(cluster, return_inverse=True)
    scores = np.zeros((ids.size, K))
    np.add.at(scores, inverse, X * (n * r)[:, None])
    G = ids.size
    factor = G / (G - 1) * (N - 1) / (N - K) if G > 1 else math.nan
    clustered = factor * bread @ (scores.T @ scores) @ bread
    return _Fit(coef, classical, hc1, clustered, int(N), K, G)


def _term(value: float, se: float, df: float, n: int, confidence: float, test: str) -> Difference:
    crit = float(stats.t.ppf(0.5 + confidence / 2.0, df))
    t = value / se if se > 0 else math.copysign(math.inf, value) if value else 0.0
    return Difference(
        float(value),
        float(value - crit * se),
        float(value + crit * se),
        n,
        statistic=float(t),
        p_value=float(2.0 * stats.t.sf(abs(t), df)),
        test=test,
        df=float(df),
    )


_COV_NAMES = {
    "classical": "classical OLS",
    "hc1": "HC1 heteroskedasticity-robust",
    "cluster": "cluster-robust by period (CR1)",
}


def _pick(fit: _Fit, cov: str, index: int) -> tuple[float, float]:
    """The standard error of coefficient ``index`` under ``cov`` and its t degrees of freedom."""
    matrix = {"classical": fit.classical, "hc1": fit.hc1, "cluster": fit.cluster}[cov]
    df = fit.clusters - 1 if cov == "cluster" else fit.n - fit.k
    return math.sqrt(max(float(matrix[index, index]), 0.0)), float(df)


@dataclass(frozen=True)
class CellCounts:
    """Answers in each of the four cells of a difference-in-differences."""

    treated_before: int
    treated_after: int
    control_before: int
    control_after: int

    def to_dict(self) -> dict[str, Any]:
        """The counts as a plain dict."""
        return to_plain(self)


@dataclass(frozen=True)
class DidRegression:
    """Difference-in-differences as a regression (see :func:`did_regression`).

    ``terms`` names the coefficients in ``coef`` and the three standard-error vectors;
    ``effect`` is the ``treated:post`` coefficient with the interval and test of ``cov``.
    ``periods`` with ``treated_mean``/``treated_n`` and ``control_mean``/``control_n`` are the
    series for the parallel-trends plot (NaN mean where a group has no answer in a period).
    ``pre_trends`` is the difference of the groups' slopes per period unit before the change
    (``None`` with fewer than :data:`MIN_PRE_PERIODS`); ``claim`` one of :data:`CLAIMS`.
    """

    effect: Difference
    terms: tuple[str, ...]
    coef: np.ndarray
    se_classical: np.ndarray
    se_hc1: np.ndarray
    se_cluster: np.ndarray
    cov: str
    cells: CellCounts
    periods: np.ndarray
    treated_mean: np.ndarray
    treated_n: np.ndarray
    control_mean: np.ndarray
    control_n: np.ndarray
    pre_trends: Difference | None
    claim: str

    def to_dict(self) -> dict[str, Any]:
        """The analysis as a plain dict (NaN means as ``None``)."""
        return to_plain(self)


def _did_cells(
    y: Any, treated: Any, period: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cells (group × period) of the answers: group, period, n, mean, within sum of squares."""
    v = as_vector(y, name="y")
    g = as_vector(treated, name="treated")
    p = as_vector(period, name="period")
    if not v.size == g.size == p.size:
        raise ValueError(
            f"y, treated and period differ in length ({v.size}, {g.size} and {p.size})"
        )
    for name, arr in (("treated", g), ("period", p)):
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ValueError(f"{name}: missing value at position {int(np.flatnonzero(bad)[0])}")
    if not np.isin(g, (0.0, 1.0)).all():
        i = int(np.flatnonzero(~np.isin(g, (0.0, 1.0)))[0])
        raise ValueError(f"treated must be 0/1 (or bool); position {i} is {g[i]:g}")
    if np.isinf(v).any():
        raise ValueError(f"y: infinite value at position {int(np.flatnonzero(np.isinf(v))[0])}")
    keep = ~np.isnan(v)
    v, g, p = v[keep], g[keep], p[keep]
    periods, p_index = np.unique(p, return_inverse=True)
    cell = p_index * 2 + g.astype(np.int64)
    ids, inverse = np.unique(cell, return_inverse=True)
    n = np.bincount(inverse).astype(np.float64)
    mean = np.bincount(inverse, weights=v) / n
    ss = np.bincount(inverse, weights=(v - mean[inverse]) ** 2)
    return (ids % 2).astype(np.float64), periods[ids // 2], n, mean, ss, periods


def did_regression(
    y: Any,
    treated: Any,
    period: Any,
    *,
    change: float,
    cov: str = "auto",
    confidence: float = 0.95,
) -> DidRegression:
    r"""Difference-in-differences as the regression on individual answers, with the periods of
    both groups for the parallel-trends plot and a test of the groups' pre-trends.

    .. math::

        y_i = \beta_0 + \beta_1\,\mathrm{treated}_i + \beta_2\,\mathrm{post}_i
              + \delta\,\mathrm{treated}_i\,\mathrm{post}_i + \varepsilon_i,
        \qquad \mathrm{post}_i = [\,\mathrm{period}_i \ge \mathrm{change}\,]

    fitted by OLS on the answers (not on period means: every answer counts once, a period with
    many answers weighs more, and the within-period spread enters the standard errors).
    :math:`\hat\delta` equals the four-cell difference of means. Three covariance estimators,
    :math:`B = (X'X)^{-1}`, :math:`e` the residuals, :math:`N` answers, :math:`K = 4`:

    - classical :math:`\hat\sigma^2 B`;
    - HC1 :math:`\frac{N}{N-K} B\,(\sum_i e_i^2 x_i x_i')\,B`: the four cells' variances may
      differ (they do: a touchpoint that improves often narrows its spread);
    - cluster-robust by period (CR1) :math:`\frac{G}{G-1}\frac{N-1}{N-K} B\,
      (\sum_g u_g u_g')\,B`, :math:`u_g = \sum_{i \in g} e_i x_i` over the :math:`G`
      periods, with t on :math:`G - 1` degrees of freedom. Answers in one period share that
      period's shocks (a campaign, an outage); treating them as independent overstates the
      precision of :math:`\hat\delta` (Bertrand, Duflo & Mullainathan 2004).

    ``cov="auto"`` takes the cluster-robust error when there are at least two periods on each
    side of the change (with one period a side the residuals in it are zero by construction,
    so its clusters carry no information) and HC1 otherwise.

    Pre-trends: on the periods before the change,
    :math:`y_i = \gamma_0 + \gamma_1 \mathrm{treated}_i + \gamma_2 t_i +
    \gamma_3 \mathrm{treated}_i t_i`; :math:`\hat\gamma_3` (difference of slopes per period
    unit) with the same kind of standard error. A test that does not reject is not proof of
    parallel trends (Roth 2022): it has little power with few periods.

    Parameters
    ----------
    y : array-like
        One answer per row (e.g. a 0–10 rating); missing answers are dropped with their row.
    treated : array-like of bool or 0/1
        Whether the answer's touchpoint (team, segment) was changed by the initiative.
    period : array-like of numbers
        The answer's period as a number on an even scale (week or month ordinal); slopes are
        per unit of it.
    change : float
        The first period after the change: ``post`` is ``period >= change``.
    cov : {"auto", "cluster", "hc1", "classical"}
        The standard error behind ``effect`` and ``pre_trends``; all three are returned.
    confidence : float
        Confidence level, default 0.95.

    Returns
    -------
    DidRegression
        ``claim``: ``"pre_trends_untested"`` with fewer than :data:`MIN_PRE_PERIODS` periods
        before the change in either group, ``"pre_trends_differ"`` when the pre-trends'
        interval excludes 0, else ``"causal_if_parallel_trends"``.

    References
    ----------
    Angrist, J. D. & Pischke, J.-S. (2009). *Mostly Harmless Econometrics*, §5.2. Princeton.
    Card, D. & Krueger, A. B. (1994). Minimum wages and employment. *American Economic Review*
    84(4), 772–793 (Table 3).
    Bertrand, M., Duflo, E. & Mullainathan, S. (2004). How much should we trust
    differences-in-differences estimates? *Quarterly Journal of Economics* 119(1), 249–275.
    Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference.
    *Journal of Human Resources* 50(2), 317–372.
    Roth, J. (2022). Pretest with caution. *American Economic Review: Insights* 4(3), 305–322.

    Examples
    --------
    >>> y = [7, 8, 7, 8, 7, 8, 7, 8,  6, 7, 6, 7, 7, 8, 7, 8] * 5
    >>> treated = [1] * 8 + [0] * 8
    >>> period = [0, 0, 1, 1, 2, 2, 3, 3] * 2
    >>> res = did_regression(y, treated * 5, period * 5, change=2)
    >>> round(res.effect.value, 3), res.cov, res.cells.treated_after
    (-1.0, 'cluster', 20)
    """
    conf = check_confidence(confidence)
    if cov not in ("auto", "cluster", "hc1", "classical"):
        raise ValueError(f"cov must be 'auto', 'cluster', 'hc1' or 'classical', got {cov!r}")
    cut = float(change)
    if not math.isfinite(cut):
        raise ValueError(f"change must be a finite period, got {change!r}")
    g, p, n, mean, ss, periods = _did_cells(y, treated, period)
    post = (p >= cut).astype(np.float64)
    blocks = {
        "treated_before": (g == 1) & (post == 0),
        "treated_after": (g == 1) & (post == 1),
        "control_before": (g == 0) & (post == 0),
        "control_after": (g == 0) & (post == 1),
    }
    counts = {k: int(n[m].sum()) for k, m in blocks.items()}
    for name, c in counts.items():
        if c == 0:
            raise ValueError(f"{name}: no answers (a difference-in-differences needs all four)")
    N = int(n.sum())
    if N <= 4:
        raise ValueError(f"{N} answers for 4 coefficients: nothing is left to estimate the error")
    before, after = np.unique(p[post == 0]), np.unique(p[post == 1])
    if cov == "auto":
        cov = "cluster" if before.size >= 2 and after.size >= 2 else "hc1"
    elif cov == "cluster" and (before.size < 2 or after.size < 2):
        raise ValueError(
            f"cov='cluster' needs two periods on each side of the change "
            f"(got {before.size} before, {after.size} after); use cov='hc1'"
        )
    X = np.column_stack([np.ones_like(g), g, post, g * post])
    fit = _ols_cells(X, n, mean, ss, p)
    se, df = _pick(fit, cov, 3)
    effect = _term(
        fit.coef[3], se, df, N, conf, f"difference-in-differences, OLS, {_COV_NAMES[cov]}"
    )

    def series(group: float) -> tuple[np.ndarray, np.ndarray]:
        m = np.full(periods.size, np.nan)
        c = np.zeros(periods.size, dtype=np.int64)
        at = np.searchsorted(periods, p[g == group])
        m[at], c[at] = mean[g == group], n[g == group].astype(np.int64)
        return m, c

    t_mean, t_n = series(1.0)
    c_mean, c_n = series(0.0)

    pre_trends = None
    pre = post == 0
    enough = min(np.unique(p[pre & (g == 1)]).size, np.unique(p[pre & (g == 0)]).size)
    if enough >= MIN_PRE_PERIODS:
        # Centring time keeps X'X well conditioned; the slopes' difference does not move.
        t = p[pre] - p[pre].mean()
        Xp = np.column_stack([np.ones(t.size), g[pre], t, g[pre] * t])
        pre_fit = _ols_cells(Xp, n[pre], mean[pre], ss[pre], p[pre])
        se_p, df_p = _pick(pre_fit, cov, 3)
        pre_trends = _term(
            pre_fit.coef[3],
            se_p,
            df_p,
            pre_fit.n,
            conf,
            f"difference of pre-period slopes, OLS, {_COV_NAMES[cov]}",
        )
    if pre_trends is None:
        claim = "pre_trends_untested"
    elif pre_trends.significant:
        claim = "pre_trends_differ"
    else:
        claim = "causal_if_parallel_trends"
    return DidRegression(
        effect=effect,
        terms=("intercept", "treated", "post", "treated:post"),
        coef=fit.coef,
        se_classical=np.sqrt(np.diag(fit.classical)),
        se_hc1=np.sqrt(np.diag(fit.hc1)),
        se_cluster=np.sqrt(np.clip(np.diag(fit.cluster), 0.0, None)),
        cov=cov,
        cells=CellCounts(**counts),
        periods=periods,
        treated_mean=t_mean,
        treated_n=t_n,
        control_mean=c_mean,
        control_n=c_n,
        pre_trends=pre_trends,
        claim=claim,
    )


@dataclass(frozen=True)
class InterruptedTimeSeries:
    """Segmented regression of a series of period values (see :func:`interrupted_time_series`).

    ``terms`` names ``coef``, ``se_classical`` and ``se_hac`` (``None`` unless asked for);
    ``pre_trend``, ``level_change`` and ``slope_change`` carry the interval and test of
    ``cov``. ``fitted`` is the model and ``counterfactual`` the pre-change line carried on
    (what the series would be had nothing changed), one value per period, for the plot.
    """

    terms: tuple[str, ...]
    coef: np.ndarray
    se_classical: np.ndarray
    se_hac: np.ndarray | None
    cov: str
    maxlags: int | None
    pre_trend: Difference
    level_change: Difference
    slope_change: Difference
    fitted: np.ndarray
    counterfactual: np.ndarray
    durbin_watson: float
    n_before: int
    n_after: int
    claim: str

    def to_dict(self) -> dict[str, Any]:
        """The analysis as a plain dict."""
        return to_plain(self)


def _newey_west(X: np.ndarray, e: np.ndarray, bread: np.ndarray, lags: int) -> np.ndarray:
    u = X * e[:, None]
    meat = u.T @ u
    for j in range(1, lags + 1):
        gamma = u[j:].T @ u[:-j]
        meat += (1.0 - j / (lags + 1.0)) * (gamma + gamma.T)
    return bread @ meat @ bread


def interrupted_time_series(
    values: Any,
    *,
    change: int,
    cov: str = "classical",
    maxlags: int | None = None,
    confidence: float = 0.95,
) -> InterruptedTimeSeries:
    r"""Interrupted time series: the level and trend before a change, and how each moved at it.

    Segmented regression on one value per period, :math:`t = 0, 1, \dots, T-1`, the change at
    period :math:`t_0` (the first period after it):

    .. math::

        y_t = \beta_0 + \beta_1 t + \beta_2 D_t + \beta_3 (t - t_0) D_t + \varepsilon_t,
        \qquad D_t = [\,t \ge t_0\,]

    :math:`\beta_1` the pre-trend, :math:`\beta_2` the jump at the change (against the
    pre-trend carried on), :math:`\beta_3` the change of slope. Without a comparison group
    this is the honest fallback: it credits the change with any break at :math:`t_0`, so the
    claim holds only if the pre-trend would have continued and nothing else changed then.

    Standard errors: classical OLS, or Newey–West (``cov="hac"``, Bartlett kernel, no
    small-sample factor) when period values are autocorrelated; ``maxlags`` defaults to
    :math:`\lfloor 4 (T/100)^{2/9} \rfloor`. HAC errors are unreliable on short series
    (they are too small with fewer than about 50 periods), so classical is the default and
    ``durbin_watson`` :math:`= \sum (e_t - e_{t-1})^2 / \sum e_t^2` (about 2 without lag-1
    autocorrelation) is returned to judge it. Tests are t on :math:`T - 4` degrees of freedom.

    Parameters
    ----------
    values : array-like
        One value per period, evenly spaced and without gaps (e.g. monthly mean score).
    change : int
        0-based index of the first period after the change.
    cov : {"classical", "hac"}
    maxlags : int, optional
        Lags of the Newey–West estimator.
    confidence : float
        Confidence level, default 0.95.

    Returns
    -------
    InterruptedTimeSeries
        ``claim``: ``"too_few_periods"`` with fewer than :data:`MIN_SEGMENT` periods on either
        side, else ``"causal_if_trend_continues"``.

    References
    ----------
    Wagner, A. K., Soumerai, S. B., Zhang, F. & Ross-Degnan, D. (2002). Segmented regression
    analysis of interrupted time series studies in medication use research. *Journal of
    Clinical Pharmacy and Therapeutics* 27, 299–309.
    Newey, W. K. & West, K. D. (1987). A simple, positive semi-definite, heteroskedasticity
    and autocorrelation consistent covariance matrix. *Econometrica* 55(3), 703–708.
    Newey, W. K. & West, K. D. (1994). Automatic lag selection in covariance matrix
    estimation. *Review of Economic Studies* 61(4), 631–653.

    Examples
    --------
    >>> y = [7.0, 7.1, 7.0, 7.2, 7.1, 7.3, 7.8, 7.9, 7.9, 8.1, 8.0, 8.2]
    >>> res = interrupted_time_series(y, change=6)
    >>> round(res.level_change.value, 2), res.claim
    (0.52, 'too_few_periods')
    """
    conf = check_confidence(confidence)
    y = _series_values(values)
    T = y.size
    t0 = int(change)
    if t0 != change or not 2 <= t0 <= T - 2:
        raise ValueError(
            f"change must be a period index with at least 2 periods on each side "
            f"(2..{T - 2} for {T} periods), got {change!r}"
        )
    if T < 5:
        raise ValueError(f"{T} periods for 4 coefficients: nothing is left for the error")
    if cov not in ("classical", "hac"):
        raise ValueError(f"cov must be 'classical' or 'hac', got {cov!r}")
    t = np.arange(T, dtype=np.float64)
    D = (t >= t0).astype(np.float64)
    X = np.column_stack([np.ones(T), t, D, (t - t0) * D])
    bread = np.linalg.inv(X.T @ X)
    coef = bread @ (X.T @ y)
    e = y - X @ coef
    rss = float(e @ e)
    se_classical = np.sqrt(np.diag(rss / (T - 4) * bread))
    se_hac = None
    lags = None
    if cov == "hac":
        lags = int(4 * (T / 100.0) ** (2.0 / 9.0)) if maxlags is None else int(maxlags)
        if not 0 <= lags < T:
            raise ValueError(f"maxlags must be within 0..{T - 1}, got {maxlags!r}")
        se_hac = np.sqrt(np.diag(_newey_west(X, e, bread, lags)))
    se = se_classical if se_hac is None else se_hac
    test = "segmented regression, OLS, " + (
        "classical" if se_hac is None else f"Newey–West ({lags} lags)"
    )
    pick = [_term(coef[i], se[i], T - 4, T, conf, test) for i in (1, 2, 3)]
    dw = float(np.sum(np.diff(e) ** 2) / rss) if rss > 0 else math.nan
    claim = "too_few_periods" if min(t0, T - t0) < MIN_SEGMENT else "causal_if_trend_continues"
    return InterruptedTimeSeries(
        terms=("level", "pre_trend", "level_change", "slope_change"),
        coef=coef,
        se_classical=se_classical,
        se_hac=se_hac,
        cov=cov,
        maxlags=lags,
        pre_trend=pick[0],
        level_change=pick[1],
        slope_change=pick[2],
        fitted=X @ coef,
        counterfactual=coef[0] + coef[1] * t,
        durbin_watson=dw,
        n_before=t0,
        n_after=T - t0,
        claim=claim,
    )


def _series_values(values: Any) -> np.ndarray:
    y = as_vector(values, name="values")
    bad = ~np.isfinite(y)
    if bad.any():
        raise ValueError(
            f"values: missing or infinite value at period {int(np.flatnonzero(bad)[0])}; "
            f"the series needs every period"
        )
    return y
