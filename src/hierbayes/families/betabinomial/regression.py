"""Beta–Binomial regression: partial pooling toward logit mu_j = x_j'beta (issue 13).

    y_j ~ Binomial(n_j, theta_j),   theta_j ~ Beta(mu_j kappa, (1 − mu_j) kappa),
    logit mu_j = x_j'beta,   beta ~ flat, normal or t,   kappa ~ the kappa prior.

The collapsed likelihood is a product of Beta–Binomial terms; the posterior
of (beta, v = log kappa) is integrated by the nested rule of
:mod:`hierbayes.integrate.nested` (engine: :mod:`hierbayes.families.regression`).
Default prior: flat coefficients (refused when the covariates separate the
data) and p(kappa) ∝ kappa^(−3/2), the family's default (uniform on
kappa^(−1/2)), proper iff some group has 0 < successes < trials.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import digamma, expit, gammaln, polygamma

from hierbayes.data.design import Design
from hierbayes.errors import ImproperPosteriorError, PriorError
from hierbayes.families.betabinomial.fit import BetaBinomialResult
from hierbayes.families.coefprior import CoefPrior, coef_prior
from hierbayes.families.conjugate import BETA
from hierbayes.families.regression import (
    Patterns,
    RegressionFamily,
    RegressionFitMixin,
    fit_conjugate_regression,
)
from hierbayes.integrate.nested import NestedGrid
from hierbayes.mathml import block, dist, fn, gap, num, op, paren, row, sub, sup
from hierbayes.special import stirlerr

__all__ = ["BetaBinomialRegressionResult", "fit_bb_regression"]


def _population(eta: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    kappa = np.exp(v)
    return expit(eta) * kappa, expit(-eta) * kappa


_LARGE = 1e5  # above it, differences of digamma from their asymptotic series


def _dpsi(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """psi(a + y) − psi(a), without cancellation at large a (series to a^-4: 1e-20)."""
    a, y = np.broadcast_arrays(a, y)
    big = a > _LARGE
    ab = np.where(big, a, _LARGE)
    x = ab + y
    series = np.log1p(y / ab) + y / (2 * ab * x) + y * (2 * ab + y) / (12 * ab**2 * x**2)
    return np.where(big, series, digamma(np.where(big, 1.0, a) + y)
                    - digamma(np.where(big, 1.0, a)))


def _dpsi1(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """psi'(a + y) − psi'(a), without cancellation at large a."""
    a, y = np.broadcast_arrays(a, y)
    big = a > _LARGE
    ab = np.where(big, a, _LARGE)
    x = ab + y
    series = (-y / (ab * x) - y * (2 * ab + y) / (2 * ab**2 * x**2)
              - y * (3 * ab**2 + 3 * ab * y + y * y) / (6 * ab**3 * x**3))
    small = np.where(big, 1.0, a)
    return np.where(big, series, polygamma(1, small + y) - polygamma(1, small))


def _eta_derivatives(eta, v, y, n):
    kappa = np.exp(v)
    mu, nu = expit(eta), expit(-eta)
    a, b = mu * kappa, nu * kappa
    s = kappa * mu * nu
    D = _dpsi(a, y) - _dpsi(b, n - y)
    T = _dpsi1(a, y) + _dpsi1(b, n - y)
    return s * D, s * (nu - mu) * D + s * s * T


_FAST = 1e4  # gammaln differences keep ~1e-12 below this (n + kappa)


def _loglik(A: np.ndarray, B: np.ndarray, y: np.ndarray, n: np.ndarray) -> np.ndarray:
    """log p(y | A, B) without log C(n, y): gammaln where n + kappa < 1e4, else the
    family's cancellation-free form."""
    kappa = A + B
    if np.all(n + kappa < _FAST):
        return (gammaln(y + A) - gammaln(A) + gammaln(n - y + B) - gammaln(B)
                - gammaln(n + kappa) + gammaln(kappa))
    return BETA.log_marginal((A, B), y, n) - _constant(y, n)


def _constant(y: np.ndarray, n: np.ndarray) -> np.ndarray:
    """log C(n, y) to full precision at any n (Stirling's remainders, no cancellation):
    s(n) − s(y) − s(m) + y log(n/y) + m log1p(y/m) − ½ log(2π y m / n), m = n − y."""
    y, n = np.broadcast_arrays(np.asarray(y, float), np.asarray(n, float))
    m = n - y
    inner = (y > 0) & (m > 0)
    yy, mm, nn = (np.where(inner, x, 1.0) for x in (y, m, n))
    val = (stirlerr(nn) - stirlerr(yy) - stirlerr(mm) + yy * np.log(nn / yy)
           + mm * np.log1p(yy / mm) - 0.5 * np.log(2 * np.pi * yy * mm / nn))
    return np.where(inner, val, 0.0)


FAMILY = RegressionFamily(
    conj=BETA,
    population=_population,
    eta_derivatives=_eta_derivatives,
    shrinkage=lambda A, B, d: (A + B) / (A + B + d),
    mean=expit,
    scale="kappa",
    loglik=_loglik,
    constant=_constant,
)


@dataclass(frozen=True, repr=False)
class BetaBinomialRegressionResult(RegressionFitMixin, BetaBinomialResult):
    """Result of a Beta–Binomial fit with covariates (beta-binomial regression).

    Beyond :class:`BetaBinomialResult`: :attr:`coefficients` (the coefficients'
    posterior), ``groups['population_mean']`` (each group's own population mean
    E[mu_j]), :attr:`hyper` with kappa and log_kappa.

    Examples
    --------
    >>> import hierbayes as hb
    >>> seeds = hb.datasets.load("seeds")
    >>> fit = hb.BetaBinomial().fit(seeds, covariates="~ x1")
    >>> list(fit.coefficients.index)
    ['intercept', 'x1']
    """

    design: Design | None = None
    nested: NestedGrid | None = None
    patterns: Patterns | None = None
    coef_prior_: CoefPrior | None = None
    regression = FAMILY

    def _scale_moments_exist(self) -> tuple[bool, bool]:
        prior = self.model._prior
        if prior.kind == "independent" and "kappa" in prior.names:
            return prior.has_finite_mean("kappa"), prior.has_finite_var("kappa")
        return False, False  # kappa^(-3/2): the posterior tail keeps it

    def _scale_prior_proper(self) -> bool:
        return self.model._prior.kind == "independent"

    def _scale_prior_text(self) -> str:
        prior = self.model._prior
        return "p(kappa) ∝ kappa^(-3/2)" if prior.kind == "default" else prior.describe()

    def _model_population(self) -> tuple[str, str]:
        mu = sub("μ", "j")
        return (block(row(sub("θ", "j"), op("∼"),
                          dist("Beta", row(mu, "κ"), row(paren(row(num(1), op("−"), mu)), "κ"))),
                      gap(), fn("logit", mu), op("="),
                      row(sup(sub("x", "j"), "T"), "β")),
                "Population: each group's probability comes from a Beta distribution with its "
                "own mean μ_j, given by the regression logit μ_j = x_j'β on the group's "
                "covariates, and a shared concentration κ (partial pooling toward the "
                "regression).")


def _log_kappa_prior(prior: Any):
    if prior.kind == "default":
        return lambda v: -0.5 * v  # p(kappa) ∝ kappa^(-3/2), times the Jacobian kappa
    dist = prior.dists[0]
    return lambda v: dist.logpdf(np.exp(v)) + v


def fit_bb_regression(spec: Any, counts: Any, design: Design, start: tuple[float, float]):
    """The exact Beta–Binomial regression fit."""
    raw = spec.prior if isinstance(spec.prior, dict) else {}
    extra = set(raw) - {"coef", "kappa"}
    if extra or spec._prior.kind == "callable":
        raise PriorError(
            "With covariates the population mean is expit(x'beta): give priors as "
            "{'coef': scipy.stats.norm(0, 2.5), 'kappa': <scipy.stats distribution>} "
            f"(got keys {sorted(map(str, raw)) or 'a callable'})."
        )
    cp = coef_prior(spec.prior, design.names)
    y = counts.successes.astype(float)
    n = counts.trials.astype(float)
    if spec._prior.kind == "default" and not np.any((y > 0) & (y < n)):
        raise ImproperPosteriorError(
            "The default kappa prior kappa^(-3/2) gives an improper posterior for these "
            "data: no group has 0 < successes < trials. Give a proper prior on kappa, e.g. "
            "{'kappa': scipy.stats.lognorm(1, scale=10)}."
        )
    parts = fit_conjugate_regression(
        spec, FAMILY, y, n, design, _log_kappa_prior(spec._prior), v_start=start[1],
        v_bounds=(-40.0, 250.0), cp=cp, bounded=True,
    )
    return spec._regression_class(
        spec, parts["points"], counts, design=design, nested=parts["nested"],
        patterns=parts["patterns"], coef_prior_=cp,
    )


