"""Moments of callable priors, decided on the quadrature grid (issue 16)."""

import warnings

import numpy as np
import pytest
from scipy import stats
from scipy.special import betaln

import hierbayes as hb
from hierbayes.errors import AccuracyWarning

Y8 = np.array([28, 8, -3, 7, -1, 1, 18, 12.0])
S8 = np.array([15, 10, 16, 11, 9, 11, 10, 18.0])


def test_bounded_callable_prior_reports_a_finite_mean_against_a_dense_grid():
    # was E[alpha] = inf (and E[beta], E[kappa]) for alpha <= 2 by the prior
    y, n = np.array([1, 2, 3, 3]), np.array([10] * 4)

    def prior(a, b):
        return np.where(a <= 2, 0.0, -np.inf) + stats.expon.logpdf(b)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AccuracyWarning)  # the hard edge at alpha = 2
        fit = hb.BetaBinomial(prior=prior).fit(successes=y, trials=n)
        hyper = fit.hyper
    # oracle: midpoint rule in (alpha, beta) on (0, 2] x (0, 40)
    a = (np.arange(1600) + 0.5) * (2.0 / 1600)
    b = (np.arange(1600) + 0.5) * (40.0 / 1600)
    A, B = np.meshgrid(a, b, indexing="ij")
    logp = -B + sum(betaln(yj + A, nj - yj + B) - betaln(A, B)
                    for yj, nj in zip(y, n, strict=True))
    w = np.exp(logp - logp.max())
    w /= w.sum()
    assert hyper.loc["alpha", "mean"] <= 2.0
    assert hyper.loc["alpha", "mean"] == pytest.approx(np.sum(w * A), rel=1e-2)
    assert hyper.loc["beta", "mean"] == pytest.approx(np.sum(w * B), rel=1e-2)
    assert hyper.loc["kappa", "mean"] == pytest.approx(np.sum(w * (A + B)), rel=1e-2)


def test_normal_callable_prior_gives_the_means_of_the_same_prior_as_a_dict():
    # was NaN means and sds, with no warning
    dists = {"mu": stats.norm(0, 20), "tau": stats.halfcauchy(scale=5)}

    def prior(mu, tau):
        return dists["mu"].logpdf(mu) + dists["tau"].logpdf(tau)

    want = hb.NormalNormal(prior=dists).fit(estimate=Y8, std_error=S8).hyper
    with pytest.warns(AccuracyWarning, match="sd of tau is reported as NaN: the prior is a "
                                             "callable"):
        got = hb.NormalNormal(prior=prior).fit(estimate=Y8, std_error=S8).hyper
    assert got.loc["mu", "mean"] == pytest.approx(want.loc["mu", "mean"], rel=1e-8)
    assert got.loc["mu", "sd"] == pytest.approx(want.loc["mu", "sd"], rel=1e-8)
    assert got.loc["tau", "mean"] == pytest.approx(want.loc["tau", "mean"], rel=1e-8)
    # sd(tau): the half-Cauchy tail has not decayed at the grid's edge: NaN, said so
    assert np.isnan(got.loc["tau", "sd"])


def test_heavy_tailed_callable_prior_is_nan_with_a_warning_never_inf():
    # the default Beta-Binomial prior written as a callable: E[alpha] = inf truly, but
    # from a callable it cannot be known; NaN and a statement, not a grid-dependent number
    def prior(a, b):
        return -2.5 * np.log(a + b)

    rats = hb.datasets.load("rats")
    with pytest.warns(AccuracyWarning, match="mean of kappa is reported as NaN"):
        hyper = hb.BetaBinomial(prior=prior).fit(rats).hyper
    assert np.isnan(hyper.loc[["alpha", "beta", "kappa"], "mean"]).all()
    assert np.isfinite(hyper.loc["mu", "mean"])


def test_gamma_poisson_callable_prior_gives_the_means_of_the_same_prior_as_a_dict():
    pumps = hb.datasets.load("pumps")
    dists = {"alpha": stats.expon(scale=1.0), "beta": stats.gamma(2.0, scale=1.0)}

    def prior(a, b):
        return dists["alpha"].logpdf(a) + dists["beta"].logpdf(b)

    want = hb.GammaPoisson(prior=dists).fit(pumps).hyper
    got = hb.GammaPoisson(prior=prior).fit(pumps).hyper  # was inf for alpha, beta, mean
    for name in ("alpha", "beta"):
        assert got.loc[name, "mean"] == pytest.approx(want.loc[name, "mean"], rel=1e-7)
        assert got.loc[name, "sd"] == pytest.approx(want.loc[name, "sd"], rel=1e-6)
