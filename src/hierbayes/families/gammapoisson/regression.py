"""Gamma–Poisson regression with exposures: partial pooling toward log mu_j = x_j'beta.

    y_j ~ Poisson(theta_j t_j),   theta_j ~ Gamma(shape alpha, rate alpha/mu_j),
    log mu_j = x_j'beta (E[theta_j] = mu_j),   beta ~ flat, normal or t,   alpha ~ prior.

Clayton & Kaldor's (1987) disease-mapping model with a shared shape. The
posterior of (beta, v = log alpha) is integrated by the nested rule of
:mod:`hierbayes.integrate.nested` (engine: :mod:`hierbayes.families.regression`).

Default prior: flat coefficients (refused when the covariates separate the
data, e.g. a covariate level with no events) and the uniform-shrinkage prior
on the shape at a reference expected count m0: p(alpha) = m0/(alpha + m0)²,
i.e. alpha/(alpha + m0) ~ Uniform(0, 1), where a group with expected count m0
shrinks by alpha/(alpha + m0). m0 = (Σy/Σt)·t0 with t0 the information-weighted
reference exposure of the plain family, so a group with no information
cannot move it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import gammaln

from hierbayes.data.design import Design
from hierbayes.errors import PriorError
from hierbayes.families.coefprior import CoefPrior, coef_prior
from hierbayes.families.conjugate import GAMMA
from hierbayes.families.gammapoisson.fit import GammaPoissonResult
from hierbayes.families.gammapoisson.hyperprior import reference_exposure
from hierbayes.families.regression import (
    Patterns,
    RegressionFamily,
    RegressionFitMixin,
    fit_conjugate_regression,
)
from hierbayes.integrate.nested import NestedGrid
from hierbayes.mathml import block, dist, fn, gap, op, row, sub, sup

__all__ = ["GammaPoissonRegressionResult", "fit_gp_regression"]

_FAST = 1e4  # gammaln differences keep ~1e-12 below this (y + alpha)


def _population(eta: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    alpha = np.exp(v)
    return alpha + 0.0 * eta, alpha * np.exp(-eta)


def _eta_derivatives(eta, v, y, t):
    alpha = np.exp(v)
    q = t * np.exp(eta)  # the expected count t·mu
    return alpha * (y - q) / (alpha + q), -alpha * q * (alpha + y) / (alpha + q) ** 2


def _loglik(A: np.ndarray, B: np.ndarray, y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """log p(y | A, B) without −log y!: gammaln where y + alpha < 1e4, else the family's
    cancellation-free form."""
    if np.all(y + A < _FAST):
        with np.errstate(divide="ignore", invalid="ignore"):
            log_q = np.where(y > 0, y * (np.log(t) - np.log(B + t)), 0.0)
        return gammaln(y + A) - gammaln(A) - A * np.log1p(t / B) + log_q
    return GAMMA.log_marginal((A, B), y, t) - _constant(y, t)


def _constant(y: np.ndarray, t: np.ndarray) -> np.ndarray:
    return -gammaln(np.asarray(y, float) + 1.0)


FAMILY = RegressionFamily(
    conj=GAMMA,
    population=_population,
    eta_derivatives=_eta_derivatives,
    shrinkage=lambda A, B, d: B / (B + d),
    mean=np.exp,
    scale="shape",
    loglik=_loglik,
    constant=_constant,
)


@dataclass(frozen=True, repr=False)
class GammaPoissonRegressionResult(RegressionFitMixin, GammaPoissonResult):
    """Result of a Gamma–Poisson fit with covariates (Poisson–Gamma regression).

    Beyond :class:`GammaPoissonResult`: :attr:`coefficients`, each group's own
    population mean E[mu_j] in ``groups['population_mean']``, :attr:`hyper` with
    the shape and log_shape.

    Examples
    --------
    >>> import hierbayes as hb
    >>> lip = hb.datasets.load("lip_cancer")
    >>> fit = hb.GammaPoisson().fit(lip, covariates="~ aff_pct")
    >>> list(fit.coefficients.index)
    ['intercept', 'aff_pct']
    """

    design: Design | None = None
    nested: NestedGrid | None = None
    patterns: Patterns | None = None
    coef_prior_: CoefPrior | None = None
    m0: float = math.nan
    regression = FAMILY

    def _scale_moments_exist(self) -> tuple[bool, bool]:
        prior = self.model._prior
        if prior.kind == "independent" and "shape" in prior.names:
            return prior.has_finite_mean("shape"), prior.has_finite_var("shape")
        return False, False  # m0/(alpha + m0)^2: no mean

    def _new_moments_exist(self) -> tuple[bool | None, bool | None]:
        """E[exp(x'beta)] and E[theta_new²] depend on how the tails in beta and the
        shape meet: decided from the quadrature (None)."""
        return None, None

    def _model_population(self) -> tuple[str, str]:
        mu = sub("μ", "j")
        return (block(row(sub("θ", "j"), op("∼"), dist("Gamma", "α", row("α", op("/"), mu))),
                      gap(), fn("log", mu), op("="), row(sup(sub("x", "j"), "T"), "β")),
                "Population: each group's rate comes from a Gamma distribution with shape α "
                "(shared) and its own mean μ_j, given by the regression log μ_j = x_j'β on "
                "the group's covariates (partial pooling toward the regression).")

    def _scale_prior_text(self) -> str:
        prior = self.model._prior
        if prior.kind == "default":
            return f"shape/(shape + {self.m0:.3g}) ~ Uniform(0, 1)"
        return prior.describe()


def fit_gp_regression(spec: Any, data: Any, design: Design, v_start: float):
    """The exact Gamma–Poisson regression fit."""
    raw = spec.prior if isinstance(spec.prior, dict) else {}
    if set(raw) - {"coef", "shape"} or spec._prior.kind == "callable":
        raise PriorError(
            "With covariates the population mean is exp(x'beta): give priors as "
            "{'coef': scipy.stats.norm(0, 2.5), 'shape': <scipy.stats distribution>} "
            f"(got keys {sorted(map(str, raw)) or 'a callable'})."
        )
    cp = coef_prior(spec.prior, design.names)
    y = data.counts.astype(float)
    t = data.exposure.astype(float)
    total = float(y.sum())
    m0 = (total / float(t.sum())) * reference_exposure(data) if total > 0 else 1.0
    if spec._prior.kind == "default":
        log_m0 = math.log(m0)

        def log_v_prior(v: np.ndarray) -> np.ndarray:  # m0/(a + m0)² times the Jacobian a
            return log_m0 + v - 2.0 * np.logaddexp(v, log_m0)
    else:
        dist = spec._prior.dists[0]

        def log_v_prior(v: np.ndarray) -> np.ndarray:
            return dist.logpdf(np.exp(v)) + v
    parts = fit_conjugate_regression(
        spec, FAMILY, y, t, design, log_v_prior, v_start=v_start, v_bounds=(-40.0, 200.0),
        cp=cp, bounded=False,
    )
    return spec._regression_class(
        spec, parts["points"], data, design=design, nested=parts["nested"],
        patterns=parts["patterns"], coef_prior_=cp, m0=m0,
    )
