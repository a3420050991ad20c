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
    """t0 of the default prior: the geometric mean of the exposures of the groups
    that carry information, each weighted by the chance it would.

    A group with a positive count has weight 1. A group with count 0 has
    weight 1 − exp(−t_j·r), r = Σy/Σt the pooled rate: the probability that
    a group of its exposure shows an event at that rate. A group that could
    not have seen an event (count 0 at exposure 1e-90) has weight ~1e-90 and
    cannot move t0, so it cannot move the other groups' shrinkage; where
    every count is positive (pumps) t0 is the plain geometric mean. The
    weights do not change when every exposure is multiplied by c, so t0 is
    multiplied by c and the fit stays invariant to the units of exposure.

    Examples
    --------
    >>> from hierbayes.families.gammapoisson.data import poisson_counts
    >>> t0 = reference_exposure(poisson_counts(counts=[1, 4], exposure=[1.0, 4.0]))
    >>> round(t0, 12)
    2.0
    >>> uninformative = poisson_counts(counts=[1, 4, 0], exposure=[1.0, 4.0, 1e-90])
    >>> round(reference_exposure(uninformative), 12)
    2.0
    """
    t = np.asarray(data.exposure, dtype=float)
    y = np.asarray(data.counts, dtype=float)
    log_t = np.log(t)
    total = float(y.sum())
    if total == 0.0:  # no events (the default prior's posterior is then improper)
        return float(np.exp(np.mean(log_t)))
    w = np.where(y > 0, 1.0, -np.expm1(-t * (total / float(t.sum()))))
    return float(np.exp(np.sum(w * log_t) / np.sum(w)))


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
