"""Gamma–Poisson hyperprior densities in the integration coordinates (MODEL.md §5).

The default prior and its reference exposure t0 are explained in
:mod:`hierbayes.families.gammapoisson.model`.
"""

from __future__ import annotations

import math

import numpy as np

from hierbayes.families.gammapoisson.data import PoissonCounts
from hierbayes.families.gammapoisson.math import params_of
from hierbayes.families.priors import Prior

__all__ = ["log_prior_uv", "reference_exposure"]


def reference_exposure(data: PoissonCounts) -> float:
    """t0 of the default prior: the geometric mean of the groups' exposures."""
    return float(np.exp(np.mean(np.log(data.exposure))))


def log_prior_uv(prior: Prior, u: np.ndarray, v: np.ndarray, t0: float = 1.0) -> np.ndarray:
    """Log prior density in (u, v) = (log mean, log shape), Jacobians included.

    |∂(alpha, beta)/∂(u, v)| = alpha·beta, |∂(mean, shape)/∂(u, v)| = mean·shape.
    The default prior is flat in u and standard logistic in log(beta/t0) = v − u − log t0
    (Jacobian 1).

    Examples
    --------
    >>> from hierbayes.families.priors import Prior
    >>> float(np.exp(log_prior_uv(Prior("default"), np.array(0.0), np.array(0.0))))
    0.25
    """
    if prior.kind == "default":
        z = np.abs(v - u - math.log(t0))
        return -z - 2.0 * np.log1p(np.exp(-z))
    if prior.kind == "independent" and prior.names == ("mean", "shape"):
        return prior.logpdf(np.exp(u), np.exp(v)) + u + v
    a, b = params_of(u, v)
    log_jac = 2.0 * v - u
    if prior.kind == "independent":
        return prior.logpdf(a, b) + log_jac
    return prior.call(a, b) + log_jac
