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


def test_prob_best_falls_back_to_draws_with_a_warning_when_the_quadrature_fails():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hb.DegenerateDataWarning)
        fit = hb.BetaBinomial(method="eb").fit(successes=[5, 5, 5, 5], trials=[10] * 4)
    assert float(fit.hyper.loc["alpha", "mean"]) > 1e15  # the regime of the failure
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
