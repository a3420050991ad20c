"""Vectorised root finding for monotone functions known only by their values.

The inverse of a hyperparameter marginal CDF (a sinc or trapezoid
interpolant) where no density is at hand. Quantiles of mixtures of conjugate
distributions have their own engine, :mod:`hierbayes.mixtures.mixture`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["invert_hermite", "solve_increasing"]


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


def invert_hermite(x: np.ndarray, cdf: np.ndarray, dens: np.ndarray, p: np.ndarray,
                   iterations: int = 8) -> np.ndarray:
    """Solve F(q) = p where F is the cubic Hermite interpolant of a tabulated CDF.

    ``cdf`` and ``dens`` are the CDF (non-decreasing) and its derivative at the
    increasing nodes ``x``; in the interval holding ``p``, Newton steps on the
    cubic in s ∈ [0, 1] (safeguarded by clipping) invert it.

    Examples
    --------
    >>> from scipy import stats
    >>> x = np.linspace(-8.0, 8.0, 801)
    >>> q = invert_hermite(x, stats.norm.cdf(x), stats.norm.pdf(x), np.array([0.975]))
    >>> round(float(q[0]), 6)
    1.959964
    """
    p = np.asarray(p, dtype=float)
    j = np.clip(np.searchsorted(cdf, p) - 1, 0, x.size - 2)
    step = x[j + 1] - x[j]
    f0, f1, d0, d1 = cdf[j], cdf[j + 1], dens[j] * step, dens[j + 1] * step
    s = np.clip((p - f0) / np.maximum(f1 - f0, 1e-300), 0.0, 1.0)
    for _ in range(iterations):
        h00, h10 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s
        h01, h11 = -2 * s**3 + 3 * s**2, s**3 - s**2
        val = h00 * f0 + h10 * d0 + h01 * f1 + h11 * d1 - p
        der = ((6 * s**2 - 6 * s) * (f0 - f1) + (3 * s**2 - 4 * s + 1) * d0
               + (3 * s**2 - 2 * s) * d1)
        s = np.clip(s - val / np.where(der > 0, der, np.inf), 0.0, 1.0)
    return x[j] + s * step
