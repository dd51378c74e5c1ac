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

__all__ = ["BeforeAfter", "before_after", "difference_in_differences"]


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
