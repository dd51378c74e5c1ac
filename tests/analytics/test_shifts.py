"""distribution_shift against R's chisq.test and a published table."""

import pytest

from cxloop.analytics import distribution_shift


def test_it_matches_agresti_party_identification_by_gender():
    # Agresti (2007), An Introduction to Categorical Data Analysis, Table 2.5; in R:
    # chisq.test(rbind(c(762, 327, 468), c(484, 239, 477)))
    #   X-squared = 30.07, df = 2, p-value = 2.954e-07
    shift = distribution_shift([762, 327, 468], [484, 239, 477])
    assert shift.statistic == pytest.approx(30.070149, abs=1e-5)
    assert shift.df == 2
    assert shift.p_value == pytest.approx(2.954e-07, rel=1e-3)
    assert (shift.n_before, shift.n_after) == (1557, 1200)


def test_it_leaves_out_categories_nobody_chose():
    # R: chisq.test(rbind(c(10, 20), c(20, 10))) → X-squared = 6.6667, df = 1, p = 0.009823
    shift = distribution_shift([10, 0, 20], [20, 0, 10])
    assert shift.df == 1
    assert shift.statistic == pytest.approx(6.6667, abs=1e-4)
    assert shift.p_value == pytest.approx(0.009823, rel=1e-3)


def test_it_finds_no_shift_in_the_same_shares_or_without_answers():
    assert distribution_shift([5, 10, 20], [10, 20, 40]).p_value == pytest.approx(1.0)
    assert distribution_shift([5, 10, 20], [0, 0, 0]).p_value == 1.0


def test_it_refuses_counts_of_different_categories():
    with pytest.raises(ValueError, match="same categories"):
        distribution_shift([1, 2], [1, 2, 3])
