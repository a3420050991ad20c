import math

import numpy as np
import pytest
from scipy import stats
from scipy.special import digamma

import hierbayes as hb
from hierbayes.integrate.grid1d import integrate_1d


def _moments(x, w):
    return np.array([w @ x, w @ x**2])


def test_gaussian_integral_cdf_quantiles_and_draws():
    g = integrate_1d(lambda x: -0.5 * (x - 1.0) ** 2 / 4.0, bounds=(-100.0, 100.0),
                     summaries=_moments)
    assert abs(g.log_norm - math.log(math.sqrt(2 * math.pi) * 2.0)) < 1e-12
    x = np.array([-5.0, 0.0, 1.0, 3.5])
    assert np.allclose(g.cdf(x), stats.norm(1, 2).cdf(x), atol=1e-13)
    p = np.array([0.025, 0.5, 0.975])
    assert np.allclose(g.quantile(p), stats.norm(1, 2).ppf(p), rtol=0, atol=1e-10)
    # far tail: the sinc CDF is good to ~1e-17 absolute, so 1e-9 to ~1e-8 relative
    assert stats.norm(1, 2).cdf(g.quantile(np.array([1e-9]))[0]) == pytest.approx(1e-9, rel=1e-6)
    draws = g.sample(20000, np.random.default_rng(0))
    assert stats.kstest(draws, stats.norm(1, 2).cdf).pvalue > 1e-3


def test_one_sided_exponential_tails():
    # x = log of a Gamma(1/2) variable: density exp(x/2 − e^x), slow left tail
    g = integrate_1d(lambda x: 0.5 * x - np.exp(x), bounds=(-200.0, 60.0), summaries=_moments)
    assert abs(g.weight @ g.x - digamma(0.5)) < 1e-12
    q = g.quantile(np.array([1e-6]))[0]
    assert math.exp(q) == pytest.approx(stats.gamma(0.5).ppf(1e-6), rel=1e-9)


def test_tail_weight_reaches_heavy_moments():
    # density ∝ e^{-3x} for x → ∞ (a tau^-3 tail in x = log tau): E[e^{2x}] = E[tau²]
    # needs the grid to go where the density alone is negligible.
    def lp(x):
        return -np.logaddexp(0.0, 3.0 * x) + x  # tau^(+1) near 0, tau^(-2) at ∞, in x

    plain = integrate_1d(lp, bounds=(-100.0, 100.0), summaries=_moments)
    heavy = integrate_1d(lp, bounds=(-100.0, 100.0), summaries=_moments,
                         tail=lambda x: 1.0 + np.exp(1.5 * x))
    # exact: ∫ e^{x(1+s)}/(1+e^{3x}) dx = (π/3)/sin(π(1+s)/3)
    exact = (math.pi / 3 / math.sin(math.pi * 2.5 / 3)) / (math.pi / 3 / math.sin(math.pi / 3))
    assert heavy.weight @ np.exp(1.5 * heavy.x) == pytest.approx(exact, rel=1e-9)
    assert plain.x.max() < heavy.x.max()


def test_non_decaying_density_is_improper():
    with pytest.raises(hb.ImproperPosteriorError, match="does not decay"):
        integrate_1d(lambda x: np.minimum(x, 0.0) * 0.0, bounds=(-50.0, 50.0),
                     summaries=_moments)
