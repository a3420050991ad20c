"""Vectorised root finding for monotone functions known only by their values.

The inverse of a hyperparameter marginal CDF (a sinc or trapezoid
interpolant) where no density is at hand. Quantiles of mixtures of conjugate
distributions have their own engine, :mod:`hierbayes.mixtures.mixture`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["solve_increasing"]


def solve_increasing(
    func: Callable[[np.ndarray], np.ndarray],
    target: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    *,
    xtol: float = 1e-12,
    max_iter: int = 200,
) -> np.ndarray:
    """Solve ``func(x) = target`` elementwise for an increasing ``func``.

    Uses the Illinois variant of regula falsi inside a bracket that always
    shrinks, falling back to bisection when it stalls; ``func`` is called on
    whole arrays, never in a Python loop over elements.

    Parameters
    ----------
    func : callable
        Vectorised increasing function.
    target, lo, hi : numpy.ndarray
        Targets and brackets with ``func(lo) <= target <= func(hi)``.
    xtol : float
        Absolute tolerance on x, scaled by the bracket width at the start.

    Examples
    --------
    >>> x = solve_increasing(lambda x: x**3, np.array([8.0, 27.0]),
    ...                      np.array([0.0, 0.0]), np.array([10.0, 10.0]))
    >>> np.round(x, 10).tolist()
    [2.0, 3.0]
    """
    target = np.asarray(target, dtype=float)
    lo = np.array(np.broadcast_to(lo, target.shape), dtype=float)
    hi = np.array(np.broadcast_to(hi, target.shape), dtype=float)
    flo = func(lo) - target
    fhi = func(hi) - target
    tol = xtol * np.maximum(1.0, np.abs(hi - lo))
    x = 0.5 * (lo + hi)
    side = np.zeros(target.shape, dtype=int)
    for it in range(max_iter):
        width = hi - lo
        active = width > tol
        if not active.any():
            break
        denom = fhi - flo
        with np.errstate(divide="ignore", invalid="ignore"):
            x = np.where(denom > 0, lo - flo * width / denom, 0.5 * (lo + hi))
        # Every fourth step bisects, so the bracket at least halves regularly.
        bad = ~np.isfinite(x) | (x <= lo) | (x >= hi) | (it % 4 == 3)
        x = np.where(bad, 0.5 * (lo + hi), x)
        x = np.where(active, x, 0.5 * (lo + hi))
        fx = func(x) - target
        upd = active & (fx < 0)
        dwn = active & (fx >= 0)
        # Illinois: when the same end moves twice running, halve the other end's value.
        fhi = np.where(upd & (side == -1), 0.5 * fhi, fhi)
        flo = np.where(dwn & (side == 1), 0.5 * flo, flo)
        lo = np.where(upd, x, lo)
        flo = np.where(upd, fx, flo)
        hi = np.where(dwn, x, hi)
        fhi = np.where(dwn, fx, fhi)
        side = np.where(upd, -1, np.where(dwn, 1, side))
        exact = active & (fx == 0)
        lo = np.where(exact, x, lo)
        hi = np.where(exact, x, hi)
    return 0.5 * (lo + hi)
