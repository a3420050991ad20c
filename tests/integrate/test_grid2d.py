import math

import numpy as np
from scipy import stats

from hierbayes.integrate.grid2d import integrate_2d, sample_grid


def _corr_gauss(u, v):
    return -0.5 * (u**2 - 1.2 * u * v + v**2) / (1 - 0.36)


def test_correlated_gaussian_integral_and_marginals():
    g = integrate_2d(_corr_gauss, start=(0.4, -0.3), bounds=((-40, 40), (-40, 40)),
                     summaries=lambda u, v, w: np.array([np.sum(w * u), np.sum(w * u * v)]))
    assert abs(g.log_norm - math.log(2 * math.pi * 0.8)) < 1e-10
    assert abs(g.mean(g.u * g.v) - 0.6) < 1e-10
    x = np.array([-1.0, 0.3, 2.0])
    assert np.allclose(g.outer_cdf(x), stats.norm.cdf(x), atol=1e-10)
    thr = np.repeat(x[:, None], g.s.size, axis=1)
    assert np.allclose(g.inner_cdf(thr), stats.norm.cdf(x), atol=1e-9)


def test_heavy_tail_reached():
    # v has an exp(-v/2) right tail like log kappa under the default prior.
    def lp(u, v):
        return -0.5 * u**2 - 0.5 * v - np.exp(-v)

    g = integrate_2d(lp, start=(0.0, 0.0), bounds=((-40, 40), (-40, 250)),
                     summaries=lambda u, v, w: np.array([np.sum(w * v)]))
    # v density ∝ exp(-v/2 - e^{-v}): with x = e^{-v}, a Gamma(1/2) variable: E[v] = -ψ(1/2).
    from scipy.special import digamma

    assert abs(g.mean(g.v) + digamma(0.5)) < 1e-9


def test_draws_match_the_target():
    g = integrate_2d(_corr_gauss, start=(0.1, 0.1), bounds=((-40, 40), (-40, 40)),
                     summaries=lambda u, v, w: np.array([np.sum(w * u)]))
    u, v = sample_grid(g, _corr_gauss, 20000, np.random.default_rng(3))
    # KS against the exact N(0, 1) marginals; correlation within 4 standard errors.
    assert stats.kstest(v, "norm").pvalue > 1e-3
    assert stats.kstest(u, "norm").pvalue > 1e-3
    assert abs(np.corrcoef(u, v)[0, 1] - 0.6) < 4 * (1 - 0.36) / math.sqrt(20000)
