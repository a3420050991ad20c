"""Tail probabilities and flags at thresholds outside theta's support (issue 16)."""

import math

import numpy as np
import pytest

import hierbayes as hb


@pytest.fixture(scope="module")
def small_bb():
    return hb.BetaBinomial().fit(successes=[1, 2, 3, 3], trials=[10] * 4)


@pytest.fixture(scope="module")
def small_gp():
    return hb.GammaPoisson().fit(counts=[1, 2, 3, 4], exposure=[1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize(("c", "greater"), [(2.0, 0.0), (1.5, 0.0), (1.0, 0.0), (math.inf, 0.0),
                                            (-1.0, 1.0), (0.0, 1.0), (-math.inf, 1.0)])
def test_beta_tails_outside_the_unit_interval_are_exactly_0_or_1(small_bb, c, greater):
    # was NaN beyond [0, 1] (betainc is undefined there)
    up, low = small_bb.prob_greater(c).to_numpy(), small_bb.prob_less(c).to_numpy()
    np.testing.assert_array_equal(up, greater)
    np.testing.assert_array_equal(low, 1.0 - greater)


@pytest.mark.parametrize(("c", "greater"), [(-1.0, 1.0), (0.0, 1.0), (-math.inf, 1.0),
                                            (math.inf, 0.0)])
def test_gamma_tails_below_zero_and_at_infinity_are_exactly_0_or_1(small_gp, c, greater):
    np.testing.assert_array_equal(small_gp.prob_greater(c).to_numpy(), greater)
    np.testing.assert_array_equal(small_gp.prob_less(c).to_numpy(), 1.0 - greater)


def test_flag_beyond_the_support_flags_nothing_or_everything(small_bb):
    above = small_bb.flag(1.5)  # was NaN in every column
    np.testing.assert_array_equal(above["prob"], 0.0)
    np.testing.assert_array_equal(above["pep"], 1.0)
    assert not above["flagged"].any()
    below = small_bb.flag(-0.5)
    np.testing.assert_array_equal(below["prob"], 1.0)
    np.testing.assert_array_equal(below["qvalue"], 0.0)
    assert below["flagged"].all()
    less = small_bb.flag(1.5, direction="less")
    assert less["flagged"].all()


def test_inside_the_support_the_tails_are_unchanged(small_bb):
    # the clipping touches only thresholds outside [0, 1]: same as the mixture of betainc
    from scipy.special import betaincc

    from hierbayes.checks.predictive import group_posteriors

    y, d, inverse = small_bb._patterns()
    a, b = group_posteriors(small_bb, y, d)
    want = (small_bb.points.weight @ betaincc(a, b, 0.2))[inverse]
    np.testing.assert_allclose(small_bb.prob_greater(0.2).to_numpy(), want, rtol=1e-14)
