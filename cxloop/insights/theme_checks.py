"""A theme's precision from the CX lead's spot-checks: the share of the checked comments found
right, with its Wilson interval (the pages reach :mod:`cxloop.analytics` through here)."""

from cxloop.analytics import Estimate, wilson_interval
from cxloop.comments import checks


def precision(right: int, checked: int) -> Estimate | None:
    """Precision = right / checked, in percent, with its 95 % Wilson score interval; None
    before any check."""
    if not checked:
        return None
    interval = wilson_interval(right, checked)
    return Estimate(
        value=100 * right / checked, low=100 * interval.low, high=100 * interval.high, n=checked
    )


def theme_precision(theme) -> tuple[checks.ThemeCounts, Estimate | None]:
    """The theme's counts (:func:`cxloop.comments.checks.counts_of`) and its precision."""
    counted = checks.counts_of(theme)
    return counted, precision(counted.right, counted.checked)
