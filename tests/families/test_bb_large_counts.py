"""Beta–Binomial with counts of 10^6 to 2^53 per group (issue 16): exact, fast, no warning.

The collapsed likelihood's changes between hyperparameter points are checked
against mpmath (60 digits, log-gamma form); whole fits against a posterior
integrated here on a dense grid with an mpmath likelihood (no hierbayes code).
"""

import warnings

import mpmath as mp
import numpy as np
import pytest
from scipy import stats

import hierbayes as hb
from hierbayes.families.betabinomial.math import CollapsedLikelihood
from hierbayes.special import log_rising_change

PRIOR = {"mu": stats.beta(2, 2), "kappa": stats.lognorm(1.0, scale=10.0)}


def _mp_loglik(y, n, u, v):
    mu = 1 / (1 + mp.e ** (-mp.mpf(u)))
    k = mp.e ** mp.mpf(v)
    a, b = mu * k, (1 - mu) * k
    return sum(mp.loggamma(a + int(yy)) + mp.loggamma(b + int(nn - yy)) - mp.loggamma(k + int(nn))
               - mp.loggamma(a) - mp.loggamma(b) + mp.loggamma(k)
               for yy, nn in zip(y, n, strict=True))


def test_rising_factorial_changes_against_mpmath():
    mp.mp.dps = 60
    rng = np.random.default_rng(1)
    worst = 0.0
    for _ in range(200):
        x0 = 10 ** rng.uniform(-3, 19)
        r = rng.choice([1e-6, 1e-3, 0.1, 1, 3, 20, 45]) * rng.choice([-1, 1])
        k = float(int(10 ** rng.uniform(0, 9.5)))
        got = log_rising_change(x0, np.array([[r]]), np.array([k]))[0, 0]
        x0m, km = mp.mpf(x0), mp.mpf(k)
        xm = x0m * mp.e ** mp.mpf(r)
        want = float(mp.loggamma(xm + km) - mp.loggamma(xm) - mp.loggamma(x0m + km)
                     + mp.loggamma(x0m))
        worst = max(worst, abs(got - want) / max(abs(want), 1.0))
    assert worst < 1e-12  # the difference of two log-gamma values kept 3e-6 at k = 1e9


@pytest.mark.parametrize("n", [10**6, 10**9, 2**53])
def test_centred_likelihood_changes_are_exact_at_huge_counts(n):
    mp.mp.dps = 60
    rng = np.random.default_rng(2)
    y = rng.binomial(min(n, 2**62), rng.beta(1, 4, 8)).astype(np.int64)
    trials = np.full(8, n, dtype=np.int64)
    lik = CollapsedLikelihood.from_pairs(y, trials, np.ones(8, np.int64), path="pairs")
    lik = lik.centred(-1.2, 1.5)
    u = np.array([-1.2, -1.1, -1.3, 0.5, -3.0, -1.2])
    v = np.array([1.5, 1.6, 1.2, 4.0, -1.0, 30.0])
    ref = _mp_loglik(y, trials, -1.2, 1.5)
    want = np.array([float(_mp_loglik(y, trials, a, b) - ref) for a, b in zip(u, v, strict=True)])
    got = lik(u, v)
    assert np.all(np.abs(got - want) <= 1e-11 * np.maximum(1.0, np.abs(want)))


def _reference(y, n, prior):
    """Posterior means of mu, log kappa and each theta_j on a dense (u, v) grid.

    At such counts every theta_j is observed to ~1e-5, and the likelihood is
    Π_j Beta(y_j/n_j; a, b) times a constant, up to terms of ~a²/(2y): 1e-7 at
    n = 1e9, 1e-14 at 2^53 (the tolerances below follow them).
    """
    u = np.linspace(-7.0, 5.0, 601)
    v = np.linspace(-6.0, 14.0, 801)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    mu, kappa = 1 / (1 + np.exp(-uu)), np.exp(vv)
    a, b = mu * kappa, (1 - mu) * kappa
    logp = (prior["mu"].logpdf(mu) + prior["kappa"].logpdf(kappa)
            + np.log(mu * (1 - mu) * kappa))  # Jacobian of (u, v) -> (mu, kappa)
    p_hat = np.asarray(y, float) / np.asarray(n, float)
    ll = sum(stats.beta.logpdf(p, a, b) for p in p_hat)
    w = np.exp(logp + ll - (logp + ll).max())
    w /= w.sum()
    # the edges carry no mass: the trapezoid rule on this box converges spectrally
    assert max(w[0].max(), w[-1].max(), w[:, 0].max(), w[:, -1].max()) < 1e-16
    theta = [(w * (a + yy) / (kappa + nn)).sum() for yy, nn in zip(y, n, strict=True)]
    return (w * mu).sum(), (w * vv).sum(), np.array(theta)


@pytest.mark.parametrize("n", [10**9, 2**53])
def test_fit_at_huge_counts_equals_a_dense_mpmath_grid(n):
    rng = np.random.default_rng(4)
    y = rng.binomial(min(n, 2**62), rng.beta(2, 6, 6)).astype(np.int64)
    trials = np.full(6, n, dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # was: grid not converged, error 1e-4, 40 s
        fit = hb.BetaBinomial(prior=PRIOR).fit(successes=y, trials=trials)
        hyper = fit.hyper
        # intervals at 2^53 are right but slow (Beta quantiles at shapes of 1e15: 80 s)
        groups = fit.groups if n < 2**40 else fit.moments
    assert fit.error < 1e-9
    mu, log_kappa, theta = _reference(y, trials, PRIOR)
    tol = 1e-6 if n < 2**40 else 1e-9  # the reference's own limit error, ~a²/(2y)
    assert abs(hyper.loc["mu", "mean"] - mu) < tol
    assert abs(hyper.loc["log_kappa", "mean"] - log_kappa) < tol
    assert np.max(np.abs(groups["mean"].to_numpy() - theta) / theta) < tol
