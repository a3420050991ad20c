"""meta.posterior: tabulated quantiles, shortest intervals and weights against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats

from hierbayes.meta.posterior import (
    Tabulated,
    mixture_pdf,
    mixture_sf,
    posterior_weights,
    shortest_interval,
)


def test_tabulated_quantiles_of_a_skewed_density_match_scipy():
    # smooth on the table, negligible at its ends: what the meta-analysis tables hold
    dist = stats.skewnorm(4.0, loc=0.5, scale=2.0)
    x = np.linspace(-8.0, 16.0, 1025)
    table = Tabulated(x, dist.logpdf(x))
    p = np.array([1e-6, 0.025, 0.5, 0.975, 1 - 1e-6])
    q = table.ppf(p)
    np.testing.assert_allclose(dist.cdf(q), p, rtol=0, atol=1e-9)  # mass error
    np.testing.assert_allclose(q[1:4], dist.ppf(p[1:4]), rtol=0, atol=1e-8)


def test_shortest_interval_of_a_gamma_has_equal_end_densities():
    dist = stats.gamma(3.0)
    lo, hi = shortest_interval(dist.ppf, 0.9, bounded_below=True)

    def gap(a):  # the HPD by its definition: f(L) = f(U) with mass 0.9 between
        return dist.pdf(dist.ppf(a + 0.9)) - dist.pdf(dist.ppf(a))

    a = optimize.brentq(gap, 1e-9, 0.1 - 1e-9, xtol=1e-15)
    assert lo == pytest.approx(dist.ppf(a), abs=1e-7)
    assert hi == pytest.approx(dist.ppf(a + 0.9), abs=1e-7)


def test_shortest_interval_starts_at_zero_for_a_decreasing_density():
    lo, hi = shortest_interval(stats.halfnorm.ppf, 0.95, bounded_below=True)
    assert lo == 0.0 and hi == pytest.approx(stats.halfnorm.ppf(0.95), abs=1e-12)


def test_mixture_density_and_tail_match_scipy():
    m, s, w = np.array([-1.0, 2.0]), np.array([0.5, 2.0]), np.array([0.3, 0.7])
    x = np.array([-3.0, 0.0, 4.0])
    np.testing.assert_allclose(mixture_pdf(x, m, s, w),
                               0.3 * stats.norm.pdf(x, -1, 0.5) + 0.7 * stats.norm.pdf(x, 2, 2))
    np.testing.assert_allclose(mixture_sf(x, m, s, w),
                               0.3 * stats.norm.sf(x, -1, 0.5) + 0.7 * stats.norm.sf(x, 2, 2))
    assert mixture_sf(np.array([40.0]), m, s, w)[0] == pytest.approx(
        0.7 * stats.norm.sf(40, 2, 2), rel=1e-12)  # far tail, no cancellation


def test_posterior_weights_at_one_tau_are_the_inverse_variance_weights():
    s2, tau2, v0 = np.array([0.1, 0.4, 1.0]), np.array([0.25]), 16.0
    precision = np.sum(1 / (s2 + tau2)) + 1 / v0
    weights, prior = posterior_weights(np.array([1.0]), tau2, np.array([1 / precision]), s2, v0)
    np.testing.assert_allclose(weights, (1 / (s2 + tau2)) / precision)
    assert prior == pytest.approx((1 / v0) / precision)
    assert weights.sum() + prior == pytest.approx(1.0)
