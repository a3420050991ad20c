"""The family-independent mixture-quantile solver (hierbayes.mixtures.mixture)."""

import numpy as np
from scipy import stats
from scipy.special import betainc, betaincc, betaln

from hierbayes.families.betabinomial.math import conditional_moments, mixture_quantiles
from hierbayes.mixtures.mixture import solve_mixture


def test_beta_mixture_quantiles_to_rounding():
    """Given Beta components it solves what Beta–Binomial's solver solves, to ~1e-12.

    (On this case ``betabinom_math.mixture_quantiles`` is off by 6.5e-7 relative at the
    2.5% quantile of the 0/10 group, 1.1e-9 absolute; the check below is relative.)
    """
    rng = np.random.default_rng(3)
    alpha, beta = rng.gamma(3.0, 1.0, 40), rng.gamma(5.0, 4.0, 40)
    w = rng.random(40)
    w /= w.sum()
    y, n = np.array([0, 4, 9]), np.array([10, 14, 9])
    probs = np.array([0.025, 0.5, 0.975])
    mean, sd, _ = conditional_moments(y, n, alpha, beta, w)
    ref = mixture_quantiles(y, n, alpha, beta, w, probs, mean, sd)
    k_pair = np.repeat(np.arange(3), 3)
    A = y[k_pair][None, :] + alpha[:, None]
    B = (n - y)[k_pair][None, :] + beta[:, None]

    def cdf(x, k):
        return w @ betainc(A[:, k], B[:, k], x[None, :])

    def sf(x, k):
        return w @ betaincc(A[:, k], B[:, k], x[None, :])

    def dens(x, k):
        lp = ((A[:, k] - 1) * np.log(x[..., None, :]) + (B[:, k] - 1)
              * np.log1p(-x[..., None, :]) - betaln(A[:, k], B[:, k]))
        return np.einsum("g,...gk->...k", w, np.exp(lp))

    x0 = stats.beta(mean[k_pair] * 10, (1 - mean[k_pair]) * 10).ppf(np.tile(probs, 3))
    got = solve_mixture(cdf, sf, dens, np.tile(probs, 3), x0, sd[k_pair], lo=0.0, hi=1.0,
                        atol=1e-300, rtol=1e-12).reshape(3, 3)
    np.testing.assert_allclose(got, ref, rtol=1e-6)
    p = np.tile(probs, 3)
    q = got.ravel()
    err = np.abs(cdf(q, np.arange(9)) - p) / (dens(q, np.arange(9)) * q)
    assert err.max() < 1e-11


def test_unbounded_side_is_explored():
    """A start far from the answer on an unbounded scale is bracketed by doubling steps."""
    def cdf(x, k):
        return stats.norm.cdf(x)

    def sf(x, k):
        return stats.norm.sf(x)

    def dens(x, k):
        return stats.norm.pdf(x)

    p = np.array([1e-6, 0.3, 0.999999])
    got = solve_mixture(cdf, sf, dens, p, np.array([40.0, -30.0, -40.0]), np.ones(3),
                        atol=1e-13)
    np.testing.assert_allclose(got, stats.norm.ppf(p), rtol=1e-11)
