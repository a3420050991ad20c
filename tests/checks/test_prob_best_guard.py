"""Exact P(best) refuses what its quadrature cannot resolve (issue 16: no silent wrong answer).

Four groups with equal data have P(best) = 1/4 each, by symmetry. Empirical Bayes on
them collapses to complete pooling (alpha, beta ~ 3e16): Beta shapes whose log densities
cancel to nothing in double precision. The exact quadrature returned
1.3e131 for every group there (before this check); now it fails its own check (the
probabilities must sum to 1), says so, and the estimate comes from joint draws.
"""

import math
import warnings

import numpy as np

import hierbayes as hb


def test_prob_best_exact_where_shapes_reach_1e16():
    """Empirical Bayes on four equal groups collapses to complete pooling (alpha, beta
    ~ 3e16): the quadrature used to return 1.3e131 there, then fell back to draws; on
    the log-odds scale with the normal limit of such shapes it gives 1/4 exactly."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hb.DegenerateDataWarning)
        fit = hb.BetaBinomial(method="eb").fit(successes=[5, 5, 5, 5], trials=[10] * 4)
    assert float(fit.hyper.loc["alpha", "mean"]) > 1e15  # the regime
    with warnings.catch_warnings():
        warnings.simplefilter("error", hb.AccuracyWarning)
        p = fit.prob_best()
    np.testing.assert_allclose(p.to_numpy(), 0.25, rtol=1e-13)


def test_prob_best_small_fit_exact_and_against_draws():
    """Issue 16: ``successes=[1, 2, 3, 3], trials=[10]*4`` gave NaN (then draws): the
    default prior's kappa tail reaches Beta shapes of 1e17, where betainc fails. Now
    exact (no warning, sum 1), and within 4 Monte Carlo se of 50 000 joint draws."""
    fit = hb.BetaBinomial().fit(successes=[1, 2, 3, 3], trials=[10] * 4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", hb.AccuracyWarning)
        p = fit.prob_best().to_numpy()
    assert abs(p.sum() - 1.0) < 1e-9 and p[2] == p[3]
    d = fit.draws(50_000, seed=7).filter(like="theta").to_numpy()
    mc = np.bincount(d.argmax(axis=1), minlength=4) / d.shape[0]
    se = np.sqrt(mc * (1 - mc) / d.shape[0])
    assert np.all(np.abs(p - mc) < 4 * se), (p, mc, se)


def test_prob_best_falls_back_to_draws_with_a_warning_when_the_quadrature_fails(monkeypatch):
    """Where the quadrature cannot resolve a point (simulated: NaN tails), it says so
    and estimates P(best) from joint draws: never a wrong number."""
    from hierbayes.families.conjugate import BETA

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hb.DegenerateDataWarning)
        fit = hb.BetaBinomial(method="eb").fit(successes=[5, 5, 5, 5], trials=[10] * 4)
    real = type(BETA).order_terms

    def broken(self, z, A, B, upper):
        log_dens, tail = real(self, z, A, B, upper)
        return log_dens, tail * np.nan

    monkeypatch.setattr(type(BETA), "order_terms", broken)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = fit.prob_best()
    messages = [str(w.message) for w in caught if issubclass(w.category, hb.AccuracyWarning)]
    assert any("failed its own check" in m for m in messages)
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))
    assert abs(float(p.sum()) - 1.0) < 1e-12
    se = math.sqrt(0.25 * 0.75 / 200_000)  # the Monte Carlo error of each share
    assert np.all(np.abs(p.to_numpy() - 0.25) < 5 * se)


def test_prob_best_exact_passes_its_check_on_pumps():
    """The check does not fire where the quadrature works (pumps: no warning, sum 1)."""
    fit = hb.GammaPoisson().fit(hb.datasets.load("pumps"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", hb.AccuracyWarning)
        p = fit.prob_best()
    assert abs(float(p.sum()) - 1.0) < 1e-6
