"""Family-independent solver for quantiles of finite mixtures (MODEL.md §7, "Quantiles").

Every group posterior is a mixture Σ_g w_g F_g of conjugate distributions; its
quantiles solve Σ_g w_g F_g(x) = p. This module holds the vectorised
bracketed-Newton solver that does not care which family the components come
from: the caller passes the mixture CDF, survival function and density as
functions of ``(x, k)``, where ``k`` indexes the problems (one problem = one
group pattern at one probability), on whatever scale is natural (Beta: x in
(0, 1); Gamma: log x on the whole line).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["solve_mixture"]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)

Evaluator = Callable[[np.ndarray, np.ndarray], np.ndarray]


def solve_mixture(
    cdf: Evaluator,
    sf: Evaluator,
    density: Evaluator,
    prob: np.ndarray,
    x0: np.ndarray,
    scale: np.ndarray,
    *,
    lo: float = -np.inf,
    hi: float = np.inf,
    atol: float = 0.0,
    rtol: float = 0.0,
    max_iter: int = 200,
) -> np.ndarray:
    """Solve ``F_k(x_k) = prob_k`` for increasing mixture CDFs, all problems at once.

    Safeguarded Newton steps from ``x0``. The CDF is evaluated exactly at
    the start (``sf`` for probabilities above 1/2, so that 1 − p keeps its
    digits); each short Newton step then updates it by integrating the
    density over the step with 8-point Gauss–Legendre, exact to rounding for
    the short steps Newton takes and far cheaper than another exact pass. A
    step longer than a tenth of ``scale``, or one that leaves the bracket,
    gets an exact evaluation instead. An unbounded side of the bracket is
    explored by steps that double each time.

    Parameters
    ----------
    cdf, sf : callable
        ``cdf(x, k)`` and ``sf(x, k)``: mixture CDF and survival function at
        points ``x`` (1-d) for problems ``k`` (1-d, same length).
    density : callable
        ``density(x, k)``: dF/dx at ``x`` of shape ``(..., len(k))``.
    prob : numpy.ndarray
        Target probabilities in (0, 1), one per problem.
    x0, scale : numpy.ndarray
        Starting points and a typical length (the mixture's sd on this scale).
    lo, hi : float
        The support on this scale.
    atol, rtol : float
        A Newton step shorter than ``atol + rtol·|x|`` ends the search.

    Returns
    -------
    numpy.ndarray
        The solutions, one per problem.

    Examples
    --------
    A two-component normal mixture, 0.3·N(0, 1) + 0.7·N(3, 1):

    >>> from scipy.stats import norm
    >>> w, m = np.array([0.3, 0.7]), np.array([0.0, 3.0])
    >>> def cdf(x, k):
    ...     return norm.cdf(x[:, None] - m) @ w
    >>> def sf(x, k):
    ...     return norm.sf(x[:, None] - m) @ w
    >>> def dens(x, k):
    ...     return norm.pdf(x[..., None] - m) @ w
    >>> q = solve_mixture(cdf, sf, dens, np.array([0.1, 0.9]), np.zeros(2), np.ones(2),
    ...                   atol=1e-13)
    >>> np.round(cdf(q, None), 12).tolist()
    [0.1, 0.9]
    """
    prob = np.asarray(prob, dtype=float)
    up = prob > 0.5
    target = np.where(up, prob - 1.0, prob)  # solve on an increasing scale
    scale = np.asarray(scale, dtype=float)

    def exact(x: np.ndarray, k: np.ndarray) -> np.ndarray:
        res = np.empty(k.size)
        u = up[k]
        if (~u).any():
            res[~u] = cdf(x[~u], k[~u])
        if u.any():
            res[u] = -sf(x[u], k[u])
        return res

    x = np.array(x0, dtype=float)
    mid = 0.5 * (lo + hi) if np.isfinite(lo) and np.isfinite(hi) else 0.0
    x = np.where(np.isfinite(x), x, mid)
    x = np.clip(x, lo, hi)
    all_k = np.arange(prob.size)
    fx = exact(x, all_k) - target
    lo_b = np.where(fx <= 0, x, lo)
    hi_b = np.where(fx >= 0, x, hi)
    reach = np.maximum(np.where(np.isfinite(scale), scale, 1.0), 1e-300)
    active = np.ones(prob.size, dtype=bool)
    for _ in range(max_iter):
        k = np.flatnonzero(active)
        if k.size == 0:
            break
        xk, fk, lk, hk = x[k], fx[k], lo_b[k], hi_b[k]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            nxt = xk - fk / density(xk, k)
        # A Newton step below tolerance ends the search (before any bracket test:
        # at the root, rounding may put the step a hair outside the bracket).
        done = np.isfinite(nxt) & (np.abs(nxt - xk) <= atol + rtol * np.abs(xk))
        bad = ~np.isfinite(nxt) | (nxt < lk) | (nxt > hk)
        finite = np.isfinite(lk) & np.isfinite(hk)
        with np.errstate(invalid="ignore"):
            fallback = np.where(
                finite, 0.5 * (lk + hk), np.where(np.isfinite(lk), lk + reach[k], hk - reach[k])
            )
        # Toward an unbounded side a step may go at most ``reach`` (doubled each time it
        # is used): Newton from a point of negligible density can propose absurd steps.
        wild = ~bad & ~finite & (np.abs(nxt - xk) > reach[k])
        nxt = np.where(wild, xk + np.sign(nxt - xk) * reach[k], nxt)
        grow = (bad | wild) & ~finite
        reach[k[grow]] *= 2.0
        nxt = np.where(bad, fallback, nxt)
        nxt = np.where(done, xk, nxt)
        far = bad | (np.abs(nxt - xk) > 0.1 * scale[k])
        half = 0.5 * (nxt - xk)
        fnew = np.empty(k.size)
        near = ~far
        if near.any():
            kn = k[near]
            nodes = (xk[near] + half[near])[None, :] + half[near][None, :] * _GL_X[:, None]
            with np.errstate(all="ignore"):
                fnew[near] = fk[near] + half[near] * (_GL_W @ density(nodes, kn))
        if far.any():
            fnew[far] = exact(nxt[far], k[far]) - target[k[far]]
        x[k], fx[k] = nxt, fnew
        lo_b[k] = np.where(fnew <= 0, nxt, lk)
        hi_b[k] = np.where(fnew >= 0, nxt, hk)
        width = hi_b[k] - lo_b[k]
        active[k] = ~done & (width > atol + rtol * np.abs(nxt))
    return x
