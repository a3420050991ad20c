"""Exact per-row standardisation of a 2-D log density for the adaptive grid.

:func:`~hierbayes.integrate.grid2d.integrate_2d` centres and scales each row of its
grid by a Newton search started from a linear prediction off the global mode. Where the posterior
ridge bends (Gamma–Poisson: the conditional mode of the log mean follows log
alpha for small shapes and is flat for large ones) and a row is log-linear on
one side, that search can fail for rows far from the mode; a failed row then
carries no mass, and an edge row without mass stops the grid from extending.

:class:`RowStandardised` removes the problem at its source: it hands the
quadrature the density in coordinates (s, v) with u = c(v) + σ(v)·s, where
c(v) is each row's exact conditional mode (a bracketed, vectorised Newton
search, safe for log-concave rows and guarded otherwise) and σ(v) the
curvature scale there; the Jacobian σ(v) is included. Every row then peaks
at s = 0 with unit curvature, so the quadrature's own row searches start at
the answer. Neither c nor σ needs to be smooth in v: a row's integral does
not depend on where it is centred or how it is scaled.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["RowStandardised"]

LogDensity = Callable[[np.ndarray, np.ndarray], np.ndarray]

_CACHE_MAX = 200_000


class RowStandardised:
    """A log density in (u, v) re-expressed in (s, v), u = c(v) + σ(v)·s.

    Parameters
    ----------
    logpost : callable
        Vectorised log density ``logpost(u, v)`` (−inf outside its support).
    bounds : (float, float)
        The range of u searched for each row's mode.
    guess : callable
        A rough ridge ``guess(v) -> u`` to start from (any finite values).

    Examples
    --------
    A correlated Gaussian, whose rows peak at u = v/2:

    >>> r = RowStandardised(lambda u, v: -(u - v / 2) ** 2 - v**2 / 8, (-50, 50),
    ...                     lambda v: np.zeros_like(v))
    >>> c, sigma = r.maps(np.array([-2.0, 4.0]))
    >>> np.round(c, 8).tolist(), np.round(sigma, 6).tolist()
    ([-1.0, 2.0], [0.707107, 0.707107])
    """

    def __init__(
        self,
        logpost: LogDensity,
        bounds: tuple[float, float],
        guess: Callable[[np.ndarray], np.ndarray],
    ) -> None:
        self.logpost = logpost
        self.lo, self.hi = float(bounds[0]), float(bounds[1])
        self.guess = guess
        self._cache: dict[float, tuple[float, float]] = {}

    def __call__(self, s: np.ndarray, v: np.ndarray) -> np.ndarray:
        """log density in (s, v), the Jacobian σ(v) included."""
        s, v = np.broadcast_arrays(np.asarray(s, float), np.asarray(v, float))
        c, sigma = self.maps(v)
        with np.errstate(invalid="ignore"):
            return self.logpost(c + sigma * s, v) + np.log(sigma)

    def to_u(self, s: np.ndarray, v: np.ndarray) -> np.ndarray:
        """u at grid coordinates (s, v)."""
        c, sigma = self.maps(np.asarray(v, float))
        return c + sigma * np.asarray(s, float)

    def maps(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """c(v) and σ(v), elementwise (computed once per distinct v, then cached)."""
        v = np.asarray(v, dtype=float)
        flat = v.ravel()
        uniq, inverse = np.unique(flat, return_inverse=True)
        missing = np.array([x not in self._cache for x in uniq.tolist()], dtype=bool)
        if missing.any():
            if len(self._cache) > _CACHE_MAX:
                self._cache.clear()
            c, sigma = self._solve(uniq[missing])
            self._cache.update(zip(uniq[missing].tolist(), zip(c.tolist(), sigma.tolist(),
                                                              strict=True), strict=True))
        table = np.array([self._cache[x] for x in uniq.tolist()]).reshape(-1, 2)
        out = table[inverse.reshape(-1)]
        return out[:, 0].reshape(v.shape), out[:, 1].reshape(v.shape)

    def _solve(self, v: np.ndarray, max_iter: int = 200) -> tuple[np.ndarray, np.ndarray]:
        """Conditional modes by bracketed Newton steps on finite differences."""
        lo = np.full(v.size, self.lo)
        hi = np.full(v.size, self.hi)
        u = np.clip(np.asarray(self.guess(v), dtype=float), lo + 1e-3, hi - 1e-3)
        u = np.where(np.isfinite(u), u, 0.5 * (lo + hi))
        d = 1e-4
        h = np.full(v.size, -1.0)
        active = np.ones(v.size, dtype=bool)
        for _ in range(max_iter):
            k = np.flatnonzero(active)
            if k.size == 0:
                break
            uk = u[k]
            with np.errstate(all="ignore"):
                f = self.logpost(uk[:, None] + np.array([-d, 0.0, d]), np.repeat(v[k, None], 3, 1))
                g = (f[:, 2] - f[:, 0]) / (2 * d)
                hk = (f[:, 2] - 2 * f[:, 1] + f[:, 0]) / d**2
            ok = np.isfinite(g) & np.isfinite(hk)
            lo[k] = np.where(ok & (g > 0), uk, lo[k])
            hi[k] = np.where(ok & (g < 0), uk, hi[k])
            # Outside the support (−inf) the side is unknown: move toward the middle.
            with np.errstate(all="ignore"):
                step = np.where(ok & (hk < 0), -g / hk, np.sign(g) * (hi[k] - lo[k]) / 4)
            nxt = uk + np.where(np.isfinite(step), step, 0.0)
            outside = ~ok | ~np.isfinite(nxt) | (nxt <= lo[k]) | (nxt >= hi[k])
            nxt = np.where(outside, 0.5 * (lo[k] + hi[k]), nxt)
            h[k] = np.where(ok, hk, h[k])
            u[k] = nxt
            active[k] = (np.abs(nxt - uk) > 1e-9 * np.maximum(1.0, np.abs(uk))) & (
                hi[k] - lo[k] > 1e-12 * np.maximum(1.0, np.abs(nxt)))
        with np.errstate(divide="ignore"):
            sigma = np.where(np.isfinite(h) & (h < 0), 1.0 / np.sqrt(np.abs(h)), 1.0)
        sigma = np.clip(sigma, 1e-6, 1e6)
        # Polish with differences on the row's own scale: their roundoff is ~1e-12, so c and
        # σ become smooth functions of v (the truncation error left is itself smooth), and
        # the density in (s, v) can be differentiated along v, as the mode search does.
        for _ in range(2):
            d = 0.05 * sigma
            with np.errstate(all="ignore"):
                f = self.logpost(u[:, None] + d[:, None] * np.array([-1.0, 0.0, 1.0]),
                                 np.repeat(v[:, None], 3, 1))
                g = (f[:, 2] - f[:, 0]) / (2 * d)
                hh = (f[:, 2] - 2 * f[:, 1] + f[:, 0]) / d**2
            ok = np.isfinite(g) & np.isfinite(hh) & (hh < 0)
            with np.errstate(all="ignore"):
                u = np.where(ok, u - g / np.where(ok, hh, -1.0), u)
                sigma = np.where(ok, 1.0 / np.sqrt(np.where(ok, -hh, 1.0)), sigma)
        return u, np.clip(sigma, 1e-6, 1e6)
