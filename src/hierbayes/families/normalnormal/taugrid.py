"""The posterior of tau by adaptive 1-D quadrature, for every Normal–Normal fit
whose other hyperparameters (mu, or the coefficients beta) integrate out in
closed form given tau (MODEL.md §4)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from hierbayes.families.normalnormal.priors import NormalPrior
from hierbayes.integrate.grid1d import Grid1D, integrate_1d

__all__ = ["integrate_tau"]


def integrate_tau(
    prior: NormalPrior,
    scale: float,
    loglik: Callable[[np.ndarray], np.ndarray],
    summaries_of: Callable[[np.ndarray, np.ndarray], list[float]],
    order: int,
    tol: float,
    what: str,
) -> Grid1D:
    """The grid of z (tau = ``prior.tau_map.value(z)``) for log p(y | tau) + log p(tau).

    Parameters
    ----------
    prior : NormalPrior
        Gives the map from z to tau and the log prior in z.
    scale : float
        The data's scale (bounds, start and the moment of tau are in its units).
    loglik : callable
        log p(y | tau(z)) with the other hyperparameters integrated out.
    summaries_of : callable
        ``(z, w) -> list`` of shift-free summaries the grid refines until they
        stop changing (group means in sd units, log sds, ...), after the
        location and log scale of z which are always included.
    order : int
        The heaviest reported moment of tau (E[tau^order], 0 for none): the grid
        must reach its tail.
    tol : float
        Target error of the summaries.
    what : str
        Name of the posterior in messages.
    """
    tmap = prior.tau_map

    def logpdf(z: np.ndarray) -> np.ndarray:
        return loglik(z) + prior.log_prior_tau(z)

    def summaries(z: np.ndarray, w: np.ndarray) -> np.ndarray:
        ez = w @ z
        sz = math.sqrt(max(float(w @ (z - ez) ** 2), 1e-300))
        out = [ez / sz, math.log(sz), *summaries_of(z, w)]
        if order:
            out.append(math.log(float(w @ (tmap.value(z) / scale) ** order)))
        return np.array(out)

    def tail(z: np.ndarray) -> np.ndarray:
        return 1.0 + (tmap.value(z) / scale) ** order

    return integrate_1d(logpdf, bounds=tmap.bounds(0.0, scale), summaries=summaries, tol=tol,
                        what=what, tail=tail if order else None,
                        start=float(tmap.inverse(min(tmap.a + scale / 2, (tmap.a + tmap.b) / 2))))
