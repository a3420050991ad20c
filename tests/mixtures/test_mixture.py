"""The family-independent mixture-quantile solver (hierbayes.mixtures.mixture)."""

import numpy as np
from scipy import optimize, stats
from scipy.special import betainc, betaincc, betaln

from hierbayes.families.betabinomial.math import conditional_moments
from hierbayes.families.conjugate import BETA, NORMAL
from hierbayes.mixtures.mixture import mixture_quantiles, solve_mixture


def _brentq_quantiles(cdf, probs, lo, hi):
    """Independent reference: scipy's brentq on the exact mixture CDF, one root at a time."""
    return np.array([optimize.brentq(lambda x, p=p: cdf(x) - p, lo, hi, xtol=1e-300,
                                     rtol=1e-15, maxiter=500) for p in probs])


def test_beta_mixture_quantiles_match_brentq():
    """The engine on Beta components against brentq on Σ w_g I_x(A_g, B_g), to ~1e-12."""
    rng = np.random.default_rng(3)
    alpha, beta = rng.gamma(3.0, 1.0, 40), rng.gamma(5.0, 4.0, 40)
    w = rng.random(40)
    w /= w.sum()
    y, n = np.array([0.0, 4.0, 9.0]), np.array([10.0, 14.0, 9.0])
    probs = np.array([0.025, 0.5, 0.975])
    mean, sd, _ = conditional_moments(y, n, alpha, beta, w)

    def components(sl):
        return BETA.update((alpha[:, None], beta[:, None]), y[None, sl], n[None, sl])

    got = mixture_quantiles(BETA, components, w, probs, mean, sd)
    for j in range(3):
        A, B = y[j] + alpha, n[j] - y[j] + beta
        ref = _brentq_quantiles(lambda x, A=A, B=B: float(w @ betainc(A, B, x)), probs,
                                1e-300, 1 - 1e-16)
        np.testing.assert_allclose(got[j], ref, rtol=1e-10)


def test_normal_mixture_quantiles_match_brentq():
    """Normal components with spreads over six orders: the engine against brentq."""
    rng = np.random.default_rng(5)
    m = rng.normal(0.0, 3.0, (25, 2))
    v = np.exp(rng.uniform(-12.0, 2.0, (25, 2)))
    w = rng.random(25)
    w /= w.sum()
    mean = w @ m
    sd = np.sqrt(w @ (v + (m - mean) ** 2))
    probs = np.array([1e-6, 0.025, 0.5, 0.975, 1 - 1e-6])
    got = mixture_quantiles(NORMAL, lambda sl: (m[:, sl], v[:, sl]), w, probs, mean, sd)
    for j in range(2):
        def cdf(x, j=j):
            return float(w @ stats.norm.cdf(x, m[:, j], np.sqrt(v[:, j])))

        ref = _brentq_quantiles(cdf, probs[1:-1], -50.0, 50.0)
        np.testing.assert_allclose(got[j, 1:-1], ref, rtol=1e-11, atol=1e-12)
        for p, q in zip(probs[[0, -1]], got[j, [0, -1]], strict=True):  # tails: by the sf
            tail = p if p < 0.5 else 1 - p
            val = (float(w @ stats.norm.cdf(q, m[:, j], np.sqrt(v[:, j]))) if p < 0.5
                   else float(w @ stats.norm.sf(q, m[:, j], np.sqrt(v[:, j]))))
            assert abs(val - tail) < 1e-9 * tail


def test_solve_mixture_on_beta_components():
    """The bare solver, given a Beta mixture's CDF, survival function and density."""
    rng = np.random.default_rng(3)
    alpha, beta = rng.gamma(3.0, 1.0, 40), rng.gamma(5.0, 4.0, 40)
    w = rng.random(40)
    w /= w.sum()
    y, n = np.array([0, 4, 9]), np.array([10, 14, 9])
    probs = np.array([0.025, 0.5, 0.975])
    mean, sd, _ = conditional_moments(y, n, alpha, beta, w)
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
                        atol=1e-300, rtol=1e-12)
    p = np.tile(probs, 3)
    err = np.abs(cdf(got, np.arange(9)) - p) / (dens(got, np.arange(9)) * got)
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
