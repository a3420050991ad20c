"""Adaptive quadrature of a one-dimensional log density (the 1-D sibling of ``quadrature``).

Where a family's hyperparameter posterior has one dimension left after the
conjugate integrals (Normal–Normal with mu integrated out: only tau remains),
it is integrated by the trapezoid rule in a transformed coordinate ``t``
(MODEL.md §6):

* ``x = x0 + sx·λ·sinh(t/λ)`` (λ = 4) around the mode ``x0`` with scale ``sx``
  (one standard deviation from the curvature): linear near the mode,
  exponentially stretched in the tails, so exponentially decaying tails in
  ``x`` (``tau → 0`` and ``tau → ∞`` in ``x = log tau``) decay
  double-exponentially in ``t`` and are reached in a few nodes;
* the grid starts at spacing ``h = 1``, is extended until the mass at each end
  node is negligible, then halved; the change of the summaries between two
  levels estimates the error of the coarser one, and the finer grid is kept;
* the CDF is the integral of the sinc interpolant of the sampled density (a
  sum of sine integrals), which is what the trapezoid rule integrates exactly;
  quantiles solve it and draws invert it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.special import sici

from hierbayes.errors import AccuracyWarning, ImproperPosteriorError
from hierbayes.mixtures.solve import invert_hermite, solve_increasing

__all__ = ["Grid1D", "integrate_1d"]

LogDensity1D = Callable[[np.ndarray], np.ndarray]

_LAMBDA = 4.0
_H_START = 1.0
_H_MIN = 1.0 / 64.0
_START_EXTENT = 6.0
_MAX_EXTENT = 48.0  # in t: x0 ± sx·λ·sinh(12), about 3e5 standard deviations
_EXTEND_STEP = 2.0
_SCAN_STEP = 0.25


@dataclass(frozen=True)
class Grid1D:
    """A one-dimensional posterior as weighted nodes.

    Attributes
    ----------
    x : numpy.ndarray
        Nodes in the integration coordinate.
    weight : numpy.ndarray
        Normalised quadrature weights (sum to 1).
    log_norm : float
        log ∫ exp(logpdf(x)) dx.
    error : float
        Estimated error of the summaries (change from the grid of double
        spacing; the grid kept is the finer one, so this is conservative).
    h : float
        Spacing in ``t``.
    t : numpy.ndarray
        Transformed nodes, ``x = x0 + sx·λ·sinh(t/λ)``.
    x0, sx : float
        Centre and scale of the map.
    n_evaluations : int
        Log-density evaluations spent, the mode search included.
    """

    x: np.ndarray
    weight: np.ndarray
    log_norm: float
    error: float
    h: float
    t: np.ndarray
    x0: float
    sx: float
    n_evaluations: int

    @property
    def size(self) -> int:
        """Number of nodes."""
        return int(self.x.size)

    def to_t(self, x: np.ndarray) -> np.ndarray:
        """The transformed coordinate of ``x``."""
        return _LAMBDA * np.arcsinh((np.asarray(x, dtype=float) - self.x0) / (self.sx * _LAMBDA))

    def to_x(self, t: np.ndarray) -> np.ndarray:
        """The integration coordinate of ``t``."""
        return self.x0 + self.sx * _LAMBDA * np.sinh(np.asarray(t, dtype=float) / _LAMBDA)

    def _cdf_t(self, t_star: np.ndarray) -> np.ndarray:
        si, _ = sici(np.pi * (t_star[:, None] - self.t[None, :]) / self.h)
        return (0.5 + si / np.pi) @ self.weight

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """P(X ≤ x) from the sinc interpolant of the sampled density.

        Examples
        --------
        >>> g = integrate_1d(lambda x: -0.5 * x**2, bounds=(-50.0, 50.0),
        ...                  summaries=lambda x, w: np.array([w @ x, w @ x**2]))
        >>> round(float(g.cdf(np.array([1.0]))[0]), 10)  # Φ(1)
        0.8413447461
        """
        t_star = self.to_t(np.atleast_1d(x))
        return np.clip(self._cdf_t(t_star), 0.0, 1.0)

    def quantile(self, p: np.ndarray) -> np.ndarray:
        """Solve ``cdf(x) = p`` elementwise (vectorised)."""
        p = np.atleast_1d(np.asarray(p, dtype=float))
        lo = np.full(p.shape, self.t[0] - 4 * self.h)
        hi = np.full(p.shape, self.t[-1] + 4 * self.h)
        return self.to_x(solve_increasing(self._cdf_t, p, lo, hi, xtol=1e-13))

    def sample(self, size: int, rng: np.random.Generator) -> np.ndarray:
        """Independent draws by inverting the CDF at uniform variates.

        The sinc CDF and density are tabulated at spacing h/32; between table
        points the CDF is the cubic Hermite interpolant of those exact values
        and slopes (error of order (h/32)^4 times its fourth derivative, far
        below the quadrature's), inverted by safeguarded Newton steps.
        """
        p = rng.random(size)
        step = self.h / 32
        tt = np.arange(self.t[0] - 4 * self.h, self.t[-1] + 4 * self.h + step / 2, step)
        arg = (tt[:, None] - self.t[None, :]) / self.h
        si, _ = sici(np.pi * arg)
        cdf = np.maximum.accumulate(np.clip((0.5 + si / np.pi) @ self.weight, 0.0, 1.0))
        dens = np.maximum((np.sinc(arg) @ self.weight) / self.h, 0.0)
        return self.to_x(invert_hermite(tt, cdf, dens, p, iterations=8))

    def compressed(self, mass: float) -> tuple[np.ndarray, np.ndarray]:
        """The nodes carrying all but ``mass`` of the weight, renormalised."""
        order = np.argsort(self.weight)
        keep = np.sort(order[np.cumsum(self.weight[order]) > mass])
        w = self.weight[keep]
        return self.x[keep], w / w.sum()


class _Cached:
    """The log density, memoised on the node index (halving reuses every node)."""

    def __init__(self, logpdf: LogDensity1D) -> None:
        self.logpdf = logpdf
        self.count = 0
        self.memo: dict[int, float] = {}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        self.count += x.size
        with np.errstate(all="ignore"):
            out = np.asarray(self.logpdf(x), dtype=float).reshape(x.shape)
        return np.where(np.isnan(out), -np.inf, out)

    def at_nodes(self, keys: np.ndarray, x: np.ndarray) -> np.ndarray:
        missing = np.array([k not in self.memo for k in keys.tolist()], dtype=bool)
        if missing.any():
            vals = self(x[missing])
            for k, val in zip(keys[missing].tolist(), vals.tolist(), strict=True):
                self.memo[k] = val
        return np.array([self.memo[k] for k in keys.tolist()])


def _find_mode(
    f: _Cached, bounds: tuple[float, float], start: float | None
) -> tuple[float, float]:
    """Global mode (by a scan, then Brent) and the scale from the curvature there.

    The scan covers ``start ± 40`` first and the whole range only if the
    maximum lies on that window's edge.
    """
    lo, hi = bounds
    windows = [(lo, hi)]
    if start is not None:
        windows.insert(0, (max(lo, start - 40.0), min(hi, start + 40.0)))
    for a, b in windows:
        xs = np.linspace(a, b, max(int((b - a) / _SCAN_STEP), 8) + 1)
        vals = f(xs)
        i = int(np.argmax(vals))
        if 0 < i < xs.size - 1:
            break
    i = int(np.argmax(vals))
    if not np.isfinite(vals[i]):
        raise ImproperPosteriorError("The log density is not finite anywhere in its range.")
    a, b = xs[max(i - 1, 0)], xs[min(i + 1, xs.size - 1)]
    res = optimize.minimize_scalar(
        lambda z: -float(f(np.array([z]))[0]), bounds=(a, b), method="bounded",
        options={"xatol": 1e-10 * max(1.0, abs(xs[i]))},
    )
    x0 = float(res.x) if -res.fun >= vals[i] else float(xs[i])
    sx = 1.0
    for d in (1e-3, 1e-2, 1e-1):
        fm, f0, fp = f(np.array([x0 - d, x0, x0 + d]))
        curv = (fp - 2 * f0 + fm) / d**2
        if np.isfinite(curv) and curv < 0:
            sx = float(np.clip(1.0 / math.sqrt(-curv), 1e-6, 1e3))
            break
    return x0, sx


def integrate_1d(
    logpdf: LogDensity1D,
    *,
    bounds: tuple[float, float],
    summaries: Callable[[np.ndarray, np.ndarray], np.ndarray],
    tol: float = 1e-10,
    what: str = "posterior",
    tail: Callable[[np.ndarray], np.ndarray] | None = None,
    start: float | None = None,
    centre: tuple[float, float] | None = None,
) -> Grid1D:
    """Integrate ``exp(logpdf(x))`` adaptively; return weighted nodes.

    Parameters
    ----------
    logpdf : callable
        Vectorised log density (up to a constant), ``logpdf(x) -> array``.
    bounds : (float, float)
        Hard limits beyond which the density is treated as zero; a tail
        still carrying mass there means an improper (or non-decaying)
        posterior and raises :class:`ImproperPosteriorError`.
    summaries : callable
        ``summaries(x, weight) -> 1-d array`` of quantities whose convergence
        is checked, already on a common scale.
    tol : float
        Target error of the summaries.
    what : str
        Name of the posterior, for messages.
    tail : callable, optional
        ``tail(x) >= 1``: a weight whose posterior mean must also converge
        (e.g. ``1 + tau²`` when E[tau²] is reported). The grid is extended
        until the end nodes carry negligible weighted mass too, so heavy
        moments are not cut short where the density alone looks negligible.
    start : float, optional
        Where the mode probably is: the scan for it looks within ±40 first.
    centre : (float, float), optional
        The mode and scale, where the caller has found them (no scan).

    Returns
    -------
    Grid1D

    Examples
    --------
    >>> g = integrate_1d(lambda x: x - np.exp(x), bounds=(-60.0, 60.0),  # log of Exp(1)
    ...                  summaries=lambda x, w: np.array([w @ x]))
    >>> round(float(g.weight @ g.x), 10)  # E[log E] = -Euler's gamma
    -0.5772156649
    """
    f = _Cached(logpdf)
    x0, sx = _find_mode(f, bounds, start) if centre is None else centre
    lo, hi = bounds
    limit = {
        "-": min(_MAX_EXTENT, _LAMBDA * math.asinh((x0 - lo) / (sx * _LAMBDA))),
        "+": min(_MAX_EXTENT, _LAMBDA * math.asinh((hi - x0) / (sx * _LAMBDA))),
    }
    ext = {k: min(_START_EXTENT, v) for k, v in limit.items()}
    edge_tol = tol * 1e-3

    def build(h: float) -> Grid1D:
        while True:
            k_lo, k_hi = -math.floor(ext["-"] / h + 1e-9), math.floor(ext["+"] / h + 1e-9)
            t = np.arange(k_lo, k_hi + 1) * h
            x = x0 + sx * _LAMBDA * np.sinh(t / _LAMBDA)
            keys = np.rint(t / _H_MIN).astype(np.int64)
            logw = f.at_nodes(keys, x) + np.log(sx * np.cosh(t / _LAMBDA)) + math.log(h)
            top = float(np.max(logw))
            if not np.isfinite(top):
                raise ImproperPosteriorError(
                    f"The {what} has no finite mass around its mode (x = {x0:.3g})."
                )
            w = np.exp(logw - top)
            total = float(w.sum())
            w /= total
            if tail is None:
                ends = (w[0], w[-1])
            else:
                tw = w * tail(x)
                ends = (tw[0] / tw.sum(), tw[-1] / tw.sum())
            grow = [k for k, m in zip("-+", ends, strict=True) if m > edge_tol]
            if not grow:
                return Grid1D(x, w, top + math.log(total), math.nan, h, t, x0, sx, f.count)
            stuck = [k for k in grow if ext[k] + 1e-9 >= limit[k]]
            if stuck:
                side = "low" if stuck[0] == "-" else "high"
                raise ImproperPosteriorError(
                    f"The {what} does not decay toward the {side} end of its range: its "
                    "mass does not fall off within the representable range, so it is "
                    "improper (or too flat to integrate). Use a proper prior."
                )
            for k in grow:
                ext[k] = min(ext[k] + _EXTEND_STEP, limit[k])

    h = _H_START
    grid = build(h)
    stats = summaries(grid.x, grid.weight)
    while True:
        finer = build(h / 2)
        new = summaries(finer.x, finer.weight)
        err = float(np.max(np.abs(new - stats))) if new.size else 0.0
        if err <= tol or h / 2 <= _H_MIN:
            if err > tol:
                warnings.warn(
                    f"The {what} grid did not converge: summaries still change by "
                    f"{err:.2g} (tolerance {tol:.2g}) at spacing {h / 2:.3g}; results carry "
                    "that error.",
                    AccuracyWarning,
                    stacklevel=3,
                )
            return Grid1D(finer.x, finer.weight, finer.log_norm, err, finer.h, finer.t,
                          x0, sx, f.count)
        grid, stats, h = finer, new, h / 2
