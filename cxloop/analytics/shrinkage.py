"""Empirical-Bayes shrinkage, so that small groups are not ranked first or last on noise."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special, stats

from ._input import as_vector, check_confidence
from .results import Estimate, to_plain

__all__ = [
    "JamesStein",
    "BetaPrior",
    "james_stein",
    "fit_beta_binomial",
    "shrink_proportions",
    "shrink_nps",
    "shrink_nps_in_teams",
]


@dataclass(frozen=True)
class JamesStein:
    """James–Stein estimates with the grand mean they shrink toward and the shrinkage factor.

    ``estimates = mean + factor * (values - mean)``; ``factor`` is in [0, 1] (0: everything is
    pooled to the mean, 1: no shrinkage).
    """

    estimates: np.ndarray
    mean: float
    factor: float

    def to_dict(self) -> dict[str, Any]:
        """The result as a plain dict."""
        return to_plain(self)


@dataclass(frozen=True)
class BetaPrior:
    """A Beta(alpha, beta) prior for group proportions, fitted to the groups."""

    alpha: float
    beta: float

    @property
    def mean(self) -> float:
        """Prior mean ``alpha / (alpha + beta)``: the proportion every group is shrunk toward."""
        return self.alpha / (self.alpha + self.beta)

    @property
    def strength(self) -> float:
        """``alpha + beta``: how many answers' worth of weight the prior carries."""
        return self.alpha + self.beta

    def to_dict(self) -> dict[str, Any]:
        """The prior as a plain dict."""
        return to_plain(self)


def james_stein(values: Any, *, variance: float, positive_part: bool = True) -> JamesStein:
    r"""James–Stein estimator in the Efron–Morris form, shrinking toward the grand mean.

    For :math:`k \ge 4` group means :math:`y_i` with a common known sampling variance
    :math:`\sigma^2`,

    .. math::

        \hat\theta_i = \bar y + c\,(y_i - \bar y),\qquad
        c = 1 - \frac{(k - 3)\,\sigma^2}{\sum_j (y_j - \bar y)^2}

    (Efron & Morris 1975, eq. 1.5). With ``positive_part=True`` (default) :math:`c` is
    truncated at 0, which never does worse. The estimates have smaller total squared error than
    the raw means whatever the true means are (for :math:`k \ge 4`).

    Parameters
    ----------
    values : array-like
        Group means :math:`y_i` (no missing values).
    variance : float
        Common sampling variance :math:`\sigma^2` of each :math:`y_i` (e.g. ``p(1-p)/n`` for a
        proportion from ``n`` trials).
    positive_part : bool
        Truncate the factor at 0.

    Returns
    -------
    JamesStein

    References
    ----------
    James, W. & Stein, C. (1961). Estimation with quadratic loss. *Proc. Fourth Berkeley Symp.*
    1, 361–379.
    Efron, B. & Morris, C. (1975). Data analysis using Stein's estimator and its
    generalizations. *JASA* 70, 311–319.
    Efron, B. & Morris, C. (1977). Stein's paradox in statistics. *Scientific American*
    236(5), 119–127.

    Examples
    --------
    >>> y = np.array([0.400, 0.378, 0.356, 0.333, 0.311, 0.311, 0.289, 0.267, 0.244, 0.244,
    ...               0.222, 0.222, 0.222, 0.222, 0.222, 0.200, 0.178, 0.156])
    >>> js = james_stein(y, variance=y.mean() * (1 - y.mean()) / 45)
    >>> round(js.factor, 3), round(float(js.estimates[0]), 3)
    (0.212, 0.294)
    """
    y = as_vector(values, name="values")
    if not np.isfinite(y).all():
        raise ValueError("values must not contain missing or infinite values")
    k = y.size
    if k < 4:
        raise ValueError(f"the James–Stein estimator needs at least 4 groups, got {k}")
    var = np.asarray(variance, dtype=float)
    if var.ndim != 0:
        raise ValueError("variance must be one number, the common sampling variance")
    s2 = float(var)
    if not math.isfinite(s2) or s2 <= 0:
        raise ValueError(f"variance must be positive, got {variance!r}")
    mean = float(y.mean())
    spread = float(((y - mean) ** 2).sum())
    factor = 0.0 if spread == 0 else 1.0 - (k - 3) * s2 / spread
    if positive_part:
        factor = max(factor, 0.0)
    return JamesStein(mean + factor * (y - mean), mean, factor)


def _counts(successes: Any, n: Any, label: str = "successes"):
    x = as_vector(successes, name=label)
    m = as_vector(n, name="n")
    if x.size != m.size:
        raise ValueError(f"{label} and n differ in length ({x.size} and {m.size})")
    if x.size < 2:
        raise ValueError(f"shrinkage needs at least 2 groups, got {x.size}")
    if not (np.isfinite(x).all() and np.isfinite(m).all()):
        raise ValueError(f"{label} and n must not contain missing or infinite values")
    if (m <= 0).any():
        raise ValueError(f"group {int(np.flatnonzero(m <= 0)[0])} has n = 0; drop empty groups")
    bad = (x < 0) | (x > m)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"group {i}: {label} {x[i]:g} not within 0..n={m[i]:g}")
    return x, m


def fit_beta_binomial(successes: Any, n: Any) -> BetaPrior:
    r"""Fit a Beta(α, β) prior to group counts by marginal maximum likelihood.

    Maximises the beta-binomial likelihood

    .. math::

        \ell(\alpha, \beta) = \sum_i \left[\ln B(\alpha + x_i, \beta + n_i - x_i)
        - \ln B(\alpha, \beta)\right]

    over :math:`\log\alpha, \log\beta` (L-BFGS-B, started from the method-of-moments fit),
    with both kept in :math:`[\tfrac12, N]`, :math:`N = \sum_i n_i`:

    - at most :math:`N`: when the groups differ no more than binomial noise the likelihood keeps
      rising as :math:`\alpha + \beta \to \infty` (complete pooling), but the prior mean is
      itself estimated from :math:`N` answers, and a stronger prior would claim more precision
      than all the data hold (a group of five answers would get an interval narrower than the
      pooled proportion's own);
    - at least ½ (the Jeffreys prior Beta(½, ½)): with no successes in any group the likelihood
      drives :math:`\alpha \to 0`, a point mass at 0 that would call every rate exactly 0.

    References
    ----------
    Skellam, J. G. (1948). A probability distribution derived from the binomial distribution by
    regarding the probability of success as variable between the sets of trials. *JRSS B* 10.
    Efron, B. (2010). *Large-Scale Inference*, ch. 1. Cambridge University Press.

    Examples
    --------
    >>> prior = fit_beta_binomial([30, 45, 12, 60], [100, 120, 50, 150])
    >>> round(prior.mean, 3)
    0.346
    """
    x, m = _counts(successes, n)
    p = x / m
    total = max(float(m.sum()), 1.0)
    mu0 = float(np.clip(x.sum() / m.sum(), 0.01, 0.99))
    # Method of moments for the starting strength: var(p) ≈ μ(1-μ)[1/(M+1) + M/((M+1) n̄)].
    extra = float(p.var(ddof=1)) - mu0 * (1 - mu0) * float(np.mean(1.0 / m))
    strength0 = mu0 * (1 - mu0) / extra - 1 if extra > 1e-12 else total
    strength0 = float(np.clip(strength0, 1.0, total))
    lo, hi = math.log(0.5), math.log(max(total, 0.5))

    def negloglik(theta: np.ndarray) -> float:
        a, b = math.exp(theta[0]), math.exp(theta[1])
        return -float(np.sum(special.betaln(a + x, b + m - x) - special.betaln(a, b)))

    start = np.clip(np.log([mu0 * strength0, (1 - mu0) * strength0]), lo, hi)
    fit = optimize.minimize(negloglik, start, method="L-BFGS-B", bounds=[(lo, hi), (lo, hi)])
    return BetaPrior(float(math.exp(fit.x[0])), float(math.exp(fit.x[1])))


def shrink_proportions(successes: Any, n: Any, *, confidence: float = 0.95) -> list[Estimate]:
    r"""Empirical-Bayes (beta-binomial) estimates of group proportions, with intervals.

    The prior Beta(α, β) is fitted to all groups by marginal maximum likelihood
    (:func:`fit_beta_binomial`). Each group's posterior is
    :math:`\mathrm{Beta}(\alpha + x_i,\ \beta + n_i - x_i)`; the estimate is its mean

    .. math::

        \hat p_i = \frac{\alpha + x_i}{\alpha + \beta + n_i}
        = w_i \frac{x_i}{n_i} + (1 - w_i)\,\frac{\alpha}{\alpha+\beta},\qquad
        w_i = \frac{n_i}{\alpha+\beta+n_i},

    so small groups move most toward the prior mean, and the interval is the equal-tailed
    posterior credible interval (widened to contain the mean in the rare very skewed case).

    Parameters
    ----------
    successes, n : array-like
        Counts per group (e.g. top-box answers and answers per team); at least 2 groups.
    confidence : float
        Credible level, default 0.95.

    Returns
    -------
    list of Estimate
        On the 0..1 scale, in the groups' order; ``n`` is each group's ``n``.

    References
    ----------
    Efron, B. & Morris, C. (1975); Casella, G. (1985). An introduction to empirical Bayes data
    analysis. *The American Statistician* 39(2), 83–87.

    Examples
    --------
    >>> est = shrink_proportions([4, 45, 12, 60], [5, 120, 50, 150])
    >>> round(4 / 5, 1), round(est[0].value, 1)  # the estimated prior's last digits vary by SciPy
    (0.8, 0.4)
    """
    conf = check_confidence(confidence)
    x, m = _counts(successes, n)
    prior = fit_beta_binomial(x, m)
    a = prior.alpha + x
    b = prior.beta + m - x
    mean = a / (a + b)
    low = stats.beta.ppf((1 - conf) / 2, a, b)
    high = stats.beta.ppf((1 + conf) / 2, a, b)
    return [
        Estimate(float(v), float(min(lo, v)), float(max(hi, v)), int(round(k)))
        for v, lo, hi, k in zip(mean, low, high, m, strict=True)
    ]


def shrink_nps(
    promoters: Any, detractors: Any, n: Any, *, confidence: float = 0.95
) -> list[Estimate]:
    r"""Empirical-Bayes NPS per group (team, employee), so rankings are not driven by noise.

    A normal–normal model on the −1..1 scale. Group :math:`i` has observed
    :math:`y_i = (P_i - D_i)/n_i` with sampling variance :math:`v_i` from the multinomial
    formula on the adjusted-Wald counts (¾ added to promoters and detractors, 3 to
    :math:`n_i`, so a unanimous small group still has :math:`v_i > 0`):
    :math:`v_i = [p_i + d_i - (p_i - d_i)^2] / (n_i + 3)`. True group scores vary around the
    pooled NPS :math:`\mu = (\sum P - \sum D)/\sum n` with between-group variance
    :math:`\tau^2`, estimated by the DerSimonian–Laird method of moments:

    .. math::

        \hat\tau^2 = \max\!\left(0,\ \frac{Q - (k-1)}{\sum w_i - \sum w_i^2/\sum w_i}\right),
        \quad Q = \sum w_i (y_i - \bar y_w)^2,\quad w_i = 1/v_i.

    Each group is shrunk toward :math:`\mu` by :math:`B_i = v_i/(v_i + \hat\tau^2)`:

    .. math::

        \hat\theta_i = \mu + (1 - B_i)(y_i - \mu),\qquad
        \mathrm{Var}_i = (1 - B_i)\,v_i + B_i^2\,\mathrm{Var}(\mu)

    (the second term, after Morris 1983, carries the uncertainty of :math:`\mu`). The
    interval is :math:`\hat\theta_i \pm z\sqrt{\mathrm{Var}_i}`, clipped to −100..100. A group of
    five answers thus lands near the organisation's NPS unless it is far off; a group of
    hundreds keeps almost its own score.

    Parameters
    ----------
    promoters, detractors, n : array-like
        Counts per group (use :func:`~cxloop.analytics.nps_counts` on raw answers).
    confidence : float
        Confidence level, default 0.95.

    Returns
    -------
    list of Estimate
        NPS on the −100..100 scale, in the groups' order.

    References
    ----------
    DerSimonian, R. & Laird, N. (1986). Meta-analysis in clinical trials. *Controlled Clinical
    Trials* 7, 177–188.
    Morris, C. N. (1983). Parametric empirical Bayes inference: theory and applications.
    *JASA* 78, 47–55.
    Rocks, B. (2016). R package ``NPS`` (the variance of NPS).

    Examples
    --------
    >>> est = shrink_nps([5, 300, 120], [0, 100, 60], [5, 600, 300])
    >>> [round(e.value) for e in est]   # the 5-answer team's raw NPS is 100
    [48, 33, 21]
    """
    z = float(stats.norm.ppf(0.5 + check_confidence(confidence) / 2.0))
    P, D, m = _nps_counts(promoters, detractors, n)
    y, v = _nps_moments(P, D, m)
    w = 1.0 / v
    y_w = float((w * y).sum() / w.sum())
    Q = float((w * (y - y_w) ** 2).sum())
    tau2 = max(0.0, (Q - (y.size - 1)) / float(w.sum() - (w**2).sum() / w.sum()))
    mu = float((P.sum() - D.sum()) / m.sum())
    p_all, d_all = P.sum() / m.sum(), D.sum() / m.sum()
    var_mu = float((p_all + d_all - (p_all - d_all) ** 2) / m.sum())
    return _shrunk(y, v, tau2, np.full_like(y, mu), np.full_like(y, var_mu), m, z)


def _nps_counts(promoters: Any, detractors: Any, n: Any) -> tuple[np.ndarray, ...]:
    P, m = _counts(promoters, n, "promoters")
    D, _ = _counts(detractors, n, "detractors")
    excess = (P + D) - m
    if (excess > 0).any():
        i = int(np.flatnonzero(excess > 0)[0])
        raise ValueError(f"group {i}: promoters + detractors exceed n")
    return P, D, m


def _nps_moments(P: np.ndarray, D: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each group's NPS on −1..1 and its sampling variance (adjusted Wald, see shrink_nps)."""
    pa, da, na = (P + 0.75) / (m + 3), (D + 0.75) / (m + 3), m + 3
    return (P - D) / m, (pa + da - (pa - da) ** 2) / na


def _shrunk(y, v, tau2, centre, var_centre, m, z) -> list[Estimate]:
    """θ = c + (1 − B)(y − c), Var = (1 − B) v + B² Var(c), B = v / (v + τ²); on −100..100."""
    B = np.ones_like(v) if tau2 == 0 else v / (v + tau2)
    theta = centre + (1 - B) * (y - centre)
    half = z * np.sqrt((1 - B) * v + B**2 * var_centre)
    low = np.clip(theta - half, -1.0, 1.0)
    high = np.clip(theta + half, -1.0, 1.0)
    return [
        Estimate(100 * float(t), 100 * float(lo), 100 * float(hi), int(round(c)))
        for t, lo, hi, c in zip(theta, low, high, m, strict=True)
    ]


def shrink_nps_in_teams(
    promoters: Any, detractors: Any, n: Any, teams: Any, *, confidence: float = 0.95
) -> list[Estimate]:
    r"""Empirical-Bayes NPS per person, shrunk toward their team's level, and each team's
    level toward the organisation's.

    A two-level normal–normal model on the −1..1 scale: person :math:`i` of team :math:`t` has
    :math:`y_i` and :math:`v_i` as in :func:`shrink_nps`; true scores vary around the team's
    level :math:`\mu_t` with within-team variance :math:`\tau_w^2`. The team levels are the
    teams' pooled answers shrunk toward the organisation by :func:`shrink_nps` (so a team of
    one lucky person does not become its own prior). :math:`\tau_w^2` is the method-of-moments
    estimator of a meta-regression on team indicators (DerSimonian–Laird generalised,
    Raudenbush 2009), which for indicators reduces to

    .. math::

        \hat\tau_w^2 = \max\!\left(0,\ \frac{Q_E - (k - p)}
        {\sum_i w_i - \sum_t \sum_{i \in t} w_i^2 / \sum_{i \in t} w_i}\right),\quad
        Q_E = \sum_i w_i (y_i - \bar y_{w,t(i)})^2,

    with :math:`k` people in :math:`p` teams. Each person is shrunk toward their team's level
    by :math:`B_i = v_i / (v_i + \hat\tau_w^2)`; the variance adds :math:`B_i^2` times the team
    level's variance. With one person per team there is nothing to learn about people within
    teams (:math:`k = p`): everyone is their team's level, which is :func:`shrink_nps` of their
    own answers.

    Parameters
    ----------
    promoters, detractors, n : array-like
        Counts per person.
    teams : array-like
        Each person's team (any hashable labels).
    confidence : float
        Confidence level, default 0.95.

    Returns
    -------
    list of Estimate
        NPS on the −100..100 scale, in the people's order.

    References
    ----------
    Raudenbush, S. W. (2009). Analyzing effect sizes: random-effects models. In Cooper, Hedges
    & Valentine (eds.), *The Handbook of Research Synthesis and Meta-Analysis*, 2nd ed.,
    295–315.
    Morris, C. N. (1983). Parametric empirical Bayes inference. *JASA* 78, 47–55.

    Examples
    --------
    >>> est = shrink_nps_in_teams(
    ...     [4, 40, 30, 4, 10, 12], [0, 5, 6, 0, 20, 18], [4, 60, 50, 4, 50, 45], "aaabbb"
    ... )
    >>> [round(e.value) for e in est]  # four promoters: 79 in the strong team, 49 in the weak
    [79, 58, 49, 49, -19, -13]
    """
    z = float(stats.norm.ppf(0.5 + check_confidence(confidence) / 2.0))
    P, D, m = _nps_counts(promoters, detractors, n)
    labels = list(teams)
    if len(labels) != P.size:
        raise ValueError(f"teams has {len(labels)} labels for {P.size} groups")
    names = sorted(set(labels), key=str)
    team = np.array([names.index(label) for label in labels])
    sums = [np.bincount(team, weights=x, minlength=len(names)) for x in (P, D, m)]
    levels = shrink_nps(*sums, confidence=confidence) if len(names) >= 2 else None
    if levels is None:  # one team: its pooled score is the level, known to its sampling error
        centre_t, var_t = _nps_moments(*sums)
    else:
        centre_t = np.array([e.value / 100 for e in levels])
        var_t = np.array([((e.high - e.low) / 200 / z) ** 2 for e in levels])
    y, v = _nps_moments(P, D, m)
    w = 1.0 / v
    w_t = np.bincount(team, weights=w)
    y_wt = np.bincount(team, weights=w * y) / w_t
    q = float((w * (y - y_wt[team]) ** 2).sum())
    denominator = float(w.sum() - (np.bincount(team, weights=w**2) / w_t).sum())
    tau2 = max(0.0, (q - (P.size - len(names))) / denominator) if denominator > 0 else 0.0
    return _shrunk(y, v, tau2, centre_t[team], var_t[team], m, z)
