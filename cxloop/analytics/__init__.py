"""cxloop.analytics — the statistical core of cxloop.

Pure NumPy/SciPy statistics on arrays, lists, pandas or Polars objects; no Django, no other
cxloop module. Every function returns a frozen dataclass with ``to_dict()`` (or a NumPy array),
documents its formula and reference, and raises ``ValueError`` naming the problem on bad input
rather than returning NaN.

Topics: :mod:`~.scores` (NPS, top-box, means, Wilson), :mod:`~.quantiles` (medians with
order-statistic intervals), :mod:`~.comparisons` (differences,
segment screening with FDR control), :mod:`~.drivers` (exact LMG, relative weights),
:mod:`~.opportunities` (importance–performance), :mod:`~.control` (p, EWMA, CUSUM, run rules,
the roll-back watch),
:mod:`~.shrinkage` (James–Stein, empirical Bayes), :mod:`~.ranking` (rank intervals, funnel
limits), :mod:`~.impact` (before/after, DiD as a
regression, interrupted time series) and
:mod:`~.correlation` (pairwise-complete correlations of large matrices).
"""

from .comparisons import (
    SegmentComparison,
    benjamini_hochberg,
    compare_segments,
    mean_difference,
    mean_difference_from_moments,
    newcombe_difference,
    nps_difference,
    nps_difference_from_counts,
    proportion_difference,
)
from .control import (
    ControlChart,
    Cusum,
    RollbackWatch,
    RuleSignal,
    cusum_chart,
    cusum_h_for_arl,
    ewma_chart,
    p_chart,
    rollback_watch,
    run_rules,
)
from .correlation import (
    PairwiseSums,
    pairwise_correlation,
    pairwise_covariance,
    pairwise_covariance_from_sums,
    pairwise_sums,
)
from .drivers import (
    DriverImportance,
    all_subsets_r2,
    lmg,
    lmg_from_covariance,
    nearest_psd_correlation,
    relative_weights,
    relative_weights_from_covariance,
)
from .impact import (
    BeforeAfter,
    CellCounts,
    DidRegression,
    InterruptedTimeSeries,
    before_after,
    did_regression,
    difference_in_differences,
    interrupted_time_series,
)
from .opportunities import QUADRANTS, Opportunity, importance_performance
from .quantiles import median_interval, median_interval_min_n
from .ranking import Funnel, RankInterval, funnel_limits, nps_funnel, rank_intervals
from .results import Difference, Estimate, Interval
from .scores import (
    MIN_N,
    histogram_moments,
    mean_from_histogram,
    mean_from_moments,
    mean_score,
    means_from_histograms,
    nps,
    nps_counts,
    nps_from_counts,
    nps_from_histogram,
    pooled_mean,
    top_box,
    top_box_from_counts,
    wilson_interval,
)
from .shifts import DistributionShift, distribution_shift
from .shrinkage import (
    BetaPrior,
    JamesStein,
    fit_beta_binomial,
    james_stein,
    shrink_nps,
    shrink_nps_in_teams,
    shrink_proportions,
)
from .staggered import CohortEffect, EventTimeEffect, StaggeredDid, staggered_did

__all__ = [
    # results
    "Estimate",
    "Interval",
    "Difference",
    # shifts
    "distribution_shift",
    "StaggeredDid",
    "CohortEffect",
    "EventTimeEffect",
    "staggered_did",
    "DistributionShift",
    # scores
    "MIN_N",
    "nps",
    "nps_from_counts",
    "nps_from_histogram",
    "histogram_moments",
    "mean_from_histogram",
    "means_from_histograms",
    "top_box_from_counts",
    "pooled_mean",
    "nps_counts",
    "top_box",
    "mean_score",
    "mean_from_moments",
    "wilson_interval",
    # quantiles
    "median_interval",
    "median_interval_min_n",
    # comparisons
    "newcombe_difference",
    "proportion_difference",
    "nps_difference",
    "nps_difference_from_counts",
    "mean_difference",
    "mean_difference_from_moments",
    "benjamini_hochberg",
    "compare_segments",
    "SegmentComparison",
    # drivers
    "lmg",
    "lmg_from_covariance",
    "nearest_psd_correlation",
    "relative_weights",
    "relative_weights_from_covariance",
    "all_subsets_r2",
    "DriverImportance",
    # opportunities
    "importance_performance",
    "Opportunity",
    "QUADRANTS",
    # control charts
    "p_chart",
    "ewma_chart",
    "cusum_chart",
    "run_rules",
    "ControlChart",
    "Cusum",
    "RuleSignal",
    "rollback_watch",
    "cusum_h_for_arl",
    "RollbackWatch",
    # shrinkage
    "james_stein",
    "fit_beta_binomial",
    "shrink_proportions",
    "shrink_nps",
    "shrink_nps_in_teams",
    "JamesStein",
    "BetaPrior",
    # ranking
    "rank_intervals",
    "funnel_limits",
    "nps_funnel",
    "RankInterval",
    "Funnel",
    # impact
    "before_after",
    "difference_in_differences",
    "did_regression",
    "interrupted_time_series",
    "BeforeAfter",
    "DidRegression",
    "InterruptedTimeSeries",
    "CellCounts",
    # building blocks
    "PairwiseSums",
    "pairwise_correlation",
    "pairwise_covariance",
    "pairwise_covariance_from_sums",
    "pairwise_sums",
]
