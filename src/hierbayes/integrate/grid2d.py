"""Adaptive tensor-grid quadrature of a two-dimensional log posterior.

The hyperparameter posterior of every family lives on two unconstrained
coordinates ``(u, v)`` (for Beta–Binomial: logit mu and log kappa). It is
integrated by the trapezoid rule on a grid in transformed coordinates
``(t, s)`` (MODEL.md §6):

* the outer coordinate is ``v = v0 + sv·λ·sinh(s/λ)`` (λ = 4): linear near the mode,
  exponentially stretched in the tails, so heavy tails (the ``exp(−v/2)``
  decay of log kappa under the default prior) are reached in a few nodes;
* for each outer node, the inner coordinate is centred and scaled on that
  row's conditional mode and curvature, ``u = c(v) + σ(v)·λ'·sinh(t/λ')`` (λ' = 3);
* the grid starts at spacing ``h = 1`` (one standard deviation near the mode),
  is extended until the mass on every edge line is negligible, then halved;
  the difference between two successive levels estimates the error of the
  coarser one (trapezoid errors fall exponentially here), and the coarsest
  level within tolerance is kept.

The result is a set of weighted points: the one representation of a
hyperparameter posterior that every summary, interval and draw works from.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from scipy import optimize
from scipy.special import sici

from hierbayes.errors import AccuracyWarning, ImproperPosteriorError
from hierbayes.mixtures.mixture import solve_mixture

__all__ = ["GridPosterior", "integrate_2d"]

LogDensity = Callable[[np.ndarray, np.ndarray], np.ndarray]
Checks = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]

_LAMBDA = 4.0  # outer sinh map: linear for |s| ≲ λ, exponential beyond
_LAMBDA_IN = 50.0  # inner sinh map: practically linear; the inner tails are light
_H_START = 1.0
_H_MIN = 1.0 / 16.0
_START_EXTENT = 5.0
_MAX_EXTENT = 40.0
_EXTEND_STEP = 2.0


@dataclass(frozen=True)
class GridPosterior:
    """A hyperparameter posterior as weighted grid points.

    Attributes
    ----------
    u, v : numpy.ndarray, shape (rows, cols)
        Point coordinates (inner and outer unconstrained coordinate).
    weight : numpy.ndarray, shape (rows, cols)
        Normalised quadrature weights (sum to 1).
    log_norm : float
        log ∫∫ exp(logpost(u, v)) du dv, the log normalising constant.
    error : float
        Estimated error of the summaries (difference to the grid of half
        spacing), relative to their scale.
    h : float
        Spacing in the transformed coordinates.
    t, s : numpy.ndarray
        Transformed inner nodes (per column) and outer nodes (per row).
    centre, scale : numpy.ndarray, shape (rows,)
        Per-row inner map ``u = centre + scale·λ'·sinh(t/λ')``.
    v0, sv : float
        Outer map ``v = v0 + sv·λ·sinh(s/λ)``.
    n_evaluations : int
        Log-density evaluations spent, the mode search included.
    lam_in : float
        λ' of the inner map.
    fine : GridPosterior or None
        The grid of half the spacing that confirmed this one. Per-component
        work (group quantiles) uses this grid; marginal CDFs and quantiles,
        which converge more slowly than moments, use ``fine``.
    """

    u: np.ndarray
    v: np.ndarray
    weight: np.ndarray
    log_norm: float
    error: float
    h: float
    t: np.ndarray
    s: np.ndarray
    centre: np.ndarray
    scale: np.ndarray
    v0: float
    sv: float
    n_evaluations: int
    lam_in: float = 50.0
    fine: GridPosterior | None = None

    @property
    def size(self) -> int:
        """Number of grid points."""
        return int(self.weight.size)

    def mean(self, values: np.ndarray) -> np.ndarray:
        """Posterior mean of ``values`` given at the grid points (shape (rows, cols, ...))."""
        w = self.weight.reshape(self.weight.shape + (1,) * (values.ndim - 2))
        return np.sum(w * values, axis=(0, 1))

    def compressed(self, mass: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The points carrying all but ``mass`` of the weight, renormalised.

        Returns flat ``u``, ``v`` and ``weight`` arrays; used where the cost is
        per component (quantiles), with the dropped mass bounding the error.
        """
        w = self.weight.ravel()
        order = np.argsort(w)
        cum = np.cumsum(w[order])
        keep = order[cum > mass]
        kw = w[keep]
        return self.u.ravel()[keep], self.v.ravel()[keep], kw / kw.sum()

    def outer_cdf(self, v: np.ndarray) -> np.ndarray:
        """P(V ≤ v) for the outer coordinate, by sinc interpolation of the row masses.

        The trapezoid rule is exact for band-limited integrands; the matching
        interpolant of the sampled density is a sum of sinc functions, whose
        integral is the sine integral. Accuracy follows the quadrature's.
        """
        v = np.atleast_1d(np.asarray(v, dtype=float))
        s_star = _LAMBDA * np.arcsinh((v - self.v0) / (self.sv * _LAMBDA))
        rows = self.weight.sum(axis=1)
        si, _ = sici(np.pi * (s_star[:, None] - self.s[None, :]) / self.h)
        return np.clip(rows @ (0.5 + si / np.pi).T, 0.0, 1.0)

    def inner_cdf(self, threshold: np.ndarray, upper: bool = False) -> np.ndarray:
        """P(U ≤ threshold(V)) (or ≥ with ``upper``), thresholds given per row.

        ``threshold`` has shape (k, rows): for each of k questions, a bound on
        the inner coordinate in every row (±inf allowed). Within a row the
        conditional CDF comes from sinc interpolation along the inner nodes.
        """
        thr = np.atleast_2d(np.asarray(threshold, dtype=float))
        z = (thr - self.centre[None, :]) / (self.scale[None, :] * self.lam_in)
        with np.errstate(invalid="ignore"):
            t_star = self.lam_in * np.arcsinh(z)
        arg = np.pi * (t_star[:, :, None] - self.t[None, None, :]) / self.h
        si, _ = sici(np.where(np.isfinite(arg), arg, 0.0))
        frac = np.where(np.isfinite(arg), 0.5 + si / np.pi, (arg > 0).astype(float))
        prob = np.einsum("rc,krc->k", self.weight, frac)
        if upper:
            prob = 1.0 - prob
        return np.clip(prob, 0.0, 1.0)


class _Counted:
    """A log density that counts its evaluations and maps NaN to −inf."""

    def __init__(self, logpost: LogDensity) -> None:
        self.logpost = logpost
        self.count = 0

    def __call__(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        u, v = np.broadcast_arrays(np.asarray(u, float), np.asarray(v, float))
        self.count += u.size
        with np.errstate(all="ignore"):
            out = np.asarray(self.logpost(u, v), dtype=float)
        return np.where(np.isnan(out), -np.inf, out)


def _stencil(f: _Counted, x: np.ndarray, d: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Value, gradient and Hessian by central differences on a 3 x 3 stencil (one call)."""
    i = np.array([-1, 0, 1, -1, 0, 1, -1, 0, 1])
    j = np.array([-1, -1, -1, 0, 0, 0, 1, 1, 1])
    val = f(x[0] + i * d[0], x[1] + j * d[1]).reshape(3, 3)  # [j, i]
    f0 = val[1, 1]
    g = np.array([(val[1, 2] - val[1, 0]) / (2 * d[0]), (val[2, 1] - val[0, 1]) / (2 * d[1])])
    huu = (val[1, 2] - 2 * f0 + val[1, 0]) / d[0] ** 2
    hvv = (val[2, 1] - 2 * f0 + val[0, 1]) / d[1] ** 2
    huv = (val[2, 2] - val[2, 0] - val[0, 2] + val[0, 0]) / (4 * d[0] * d[1])
    return float(f0), g, np.array([[huu, huv], [huv, hvv]])


def _find_mode(
    f: _Counted, start: tuple[float, float], bounds: tuple[tuple[float, float], ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Mode and covariance (inverse negative Hessian) of the log posterior.

    Damped Newton steps with finite-difference derivatives (one vectorised
    call per step), backtracking on the log density, inside ``bounds``; a
    Nelder–Mead search takes over if Newton makes no progress.
    """
    lo = np.array([b[0] for b in bounds])
    hi = np.array([b[1] for b in bounds])
    x = np.clip(np.asarray(start, dtype=float), lo + 1, hi - 1)
    d = np.array([1e-3, 1e-3])
    converged = False
    for _ in range(100):
        f0, g, hess = _stencil(f, x, d)
        if not np.isfinite(f0) or not np.all(np.isfinite(g)):
            break
        eig = np.linalg.eigvalsh(hess) if np.all(np.isfinite(hess)) else np.array([1.0])
        if np.all(eig < 0):
            step = -np.linalg.solve(hess, g)
            sd = np.sqrt(np.maximum(np.diag(np.linalg.inv(-hess)), 1e-30))
            d = np.clip(1e-2 * sd, 1e-7, 1e-3)
        else:
            step = g / max(np.linalg.norm(g), 1e-300)  # uphill, unit length
        step *= min(1.0, 3.0 / max(np.linalg.norm(step), 1e-300))
        for _ in range(40):
            cand = np.clip(x + step, lo, hi)
            if f(cand[:1], cand[1:])[0] >= f0:
                break
            step *= 0.5
        else:
            break
        x = cand
        if np.all(np.abs(step) <= 1e-9 * np.maximum(1.0, np.abs(x))):
            converged = True
            break
    if not converged:
        res = optimize.minimize(
            lambda z: -f(z[:1], z[1:])[0], x, method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 4000},
        )
        x = np.clip(res.x, lo, hi)
    _, _, hess = _stencil(f, x, d)
    try:
        cov = np.linalg.inv(-hess)
        if not (np.all(np.isfinite(cov)) and np.all(np.linalg.eigvalsh(cov) > 0)):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        cov = np.eye(2)
    return x, cov


def _row_maps(
    logpost: LogDensity, v: np.ndarray, guess: np.ndarray, su_start: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Conditional mode and scale of the inner coordinate for each outer node.

    Vectorised Newton steps from ``guess`` (the linear prediction from the
    mode's covariance); rows that fail to converge restart from their
    nearest converged neighbour, so ridges that bend are followed.
    """
    c, sig, ok = _newton_rows(logpost, v, np.array(guess, dtype=float), su_start)
    for _ in range(4):
        if ok.all() or not ok.any():
            break
        idx = np.flatnonzero(ok)
        near = idx[np.abs(np.arange(v.size)[:, None] - idx[None, :]).argmin(axis=1)]
        bad = ~ok
        c2, s2, ok2 = _newton_rows(logpost, v[bad], c[near[bad]], sig[near[bad]])
        c[bad], sig[bad], ok[bad] = c2, s2, ok2
    return c, sig


def _newton_rows(
    logpost: LogDensity, v: np.ndarray, c: np.ndarray, sig0: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    sig = np.broadcast_to(np.asarray(sig0, dtype=float), v.shape).copy()
    conv = np.zeros(v.shape, dtype=bool)
    off = np.array([-1.0, 0.0, 1.0])
    for _ in range(30):
        d = np.clip(1e-2 * sig, 1e-7, 1e-3)
        vals = logpost(c[:, None] + off[None, :] * d[:, None], np.repeat(v[:, None], 3, axis=1))
        fm, f0, fp = vals[:, 0], vals[:, 1], vals[:, 2]
        with np.errstate(all="ignore"):
            g = (fp - fm) / (2 * d)
            h = (fp - 2 * f0 + fm) / d**2
        ok = np.isfinite(g) & np.isfinite(h) & (h < 0)
        with np.errstate(all="ignore"):
            step = np.where(ok, -g / np.where(ok, h, -1.0), np.sign(g) * sig)
        step = np.clip(step, -4 * sig, 4 * sig)
        step = np.where(np.isfinite(step), step, 0.0)
        c = c + step
        sig = np.where(ok, 1.0 / np.sqrt(-np.where(ok, h, -1.0)), sig)
        conv = ok & (np.abs(step) < 1e-6 * sig)
        if conv.all():
            break
    return c, sig, conv


def integrate_2d(
    logpost: LogDensity,
    *,
    start: tuple[float, float],
    bounds: tuple[tuple[float, float], tuple[float, float]],
    summaries: Checks,
    tol: float = 1e-10,
    what: str = "posterior",
    inner_lambda: float = _LAMBDA_IN,
    proper: bool = False,
) -> GridPosterior:
    """Integrate ``exp(logpost(u, v))`` adaptively; return weighted points.

    Parameters
    ----------
    logpost : callable
        Vectorised log density (up to a constant) in the unconstrained
        coordinates, ``logpost(u, v) -> array``.
    start : (float, float)
        Starting point for the mode search.
    bounds : ((float, float), (float, float))
        Hard limits on (u, v) beyond which the density is treated as zero
        mass; an edge that does not decay before reaching them is an improper
        or non-decaying posterior.
    summaries : callable
        ``summaries(u, v, weight) -> 1-d array`` of quantities whose
        convergence is checked (already on a common scale: each entry's
        change is compared with ``tol``).
    tol : float
        Target error of the summaries.
    what : str
        Name of the posterior, for messages.
    inner_lambda : float
        λ' of the inner sinh map: large (practically linear) for light inner
        tails, small (3–4) where the inner coordinate has a heavy tail.
    proper : bool
        Whether the posterior is known to be proper (decided from the model).
        Then an edge whose mass has not fallen below the tolerance at the
        limit of the range is cut there with an :class:`AccuracyWarning`, and
        the mass left at that edge is added to the reported error; otherwise
        such an edge is taken as a sign of impropriety and raises
        :class:`ImproperPosteriorError`.

    Returns
    -------
    GridPosterior

    Examples
    --------
    >>> def lp(u, v):
    ...     return -0.5 * (u**2 + v**2)
    >>> g = integrate_2d(lp, start=(0.5, 0.5), bounds=((-30, 30), (-30, 30)),
    ...                  summaries=lambda u, v, w: np.array([np.sum(w * u * u)]))
    >>> round(float(g.log_norm - np.log(2 * np.pi)), 10)
    0.0
    """
    f = _Counted(logpost)
    mode, cov = _find_mode(f, start, bounds)
    builder = _Builder(f, mode, cov, bounds, tol, what, inner_lambda, proper)
    h = _H_START
    previous: tuple[GridPosterior, np.ndarray] | None = None
    while True:
        grid = builder.build(h)
        stats = summaries(grid.u, grid.v, grid.weight)
        if previous is not None:
            err = float(np.max(np.abs(stats - previous[1])))
            if err <= tol:
                cut = builder.cut_mass
                if cut > 0.0:
                    edges = ", ".join(sorted(_EDGE_NAMES[k] for k in builder.cut))
                    warnings.warn(
                        f"The {what} still carries mass {cut:.2g} at the limit of its range "
                        f"({edges}); the grid is cut there and the results carry that error "
                        f"(tolerance {tol:.2g}).",
                        AccuracyWarning,
                        stacklevel=3,
                    )
                    err = max(err, cut)
                return replace(previous[0], error=err, n_evaluations=f.count, fine=grid)
            if h / 2 < _H_MIN:
                warnings.warn(
                    f"The {what} grid did not converge: summaries still change by "
                    f"{err:.2g} (tolerance {tol:.2g}) at spacing {h:.3g}; results carry "
                    "that error. The posterior may be very irregular.",
                    AccuracyWarning,
                    stacklevel=3,
                )
                return replace(grid, error=err, n_evaluations=f.count)
        previous = (grid, stats)
        h /= 2


def _nodes(h: float, lo: float, hi: float) -> np.ndarray:
    return np.arange(-math.ceil(lo / h - 1e-9), math.ceil(hi / h - 1e-9) + 1) * h


_EDGE_NAMES = {
    "s-": "low end of the outer coordinate",
    "s+": "high end of the outer coordinate",
    "t-": "low end of the inner coordinate",
    "t+": "high end of the inner coordinate",
}


class _Builder:
    """Builds grids at any spacing; remembers row maps and extents across spacings."""

    def __init__(self, f, mode, cov, bounds, tol, what, lam_in, proper=False) -> None:
        (self.ulo, self.uhi), (vlo, vhi) = bounds
        self.proper = proper
        self.cut: set[str] = set()  # edges cut at the range limit (proper posteriors only)
        self.cut_mass = 0.0
        self.f, self.mode, self.tol, self.what, self.lam_in = f, mode, tol, what, lam_in
        self.v0 = float(mode[1])
        self.sv = math.sqrt(cov[1, 1])
        self.su = math.sqrt(max(cov[0, 0] - cov[0, 1] ** 2 / cov[1, 1], 1e-12))
        self.slope = cov[0, 1] / cov[1, 1]
        lim = [abs(_LAMBDA * math.asinh((e - self.v0) / (self.sv * _LAMBDA))) for e in (vlo, vhi)]
        self.limit = {"s-": min(lim[0], _MAX_EXTENT), "s+": min(lim[1], _MAX_EXTENT),
                      "t-": _MAX_EXTENT, "t+": _MAX_EXTENT}
        self.ext = {k: min(_START_EXTENT, self.limit[k]) for k in self.limit}
        self.rows: dict[int, tuple[float, float]] = {}

    def _row_maps(self, s: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keys = np.rint(s / _H_MIN * 4).astype(np.int64)
        missing = np.array([k not in self.rows for k in keys.tolist()])
        if missing.any():
            vm = v[missing]
            guess = self.mode[0] + self.slope * (vm - self.v0)
            scale0: float | np.ndarray = self.su
            if self.rows:
                # Seed new rows from the nearest row already centred: a straight line
                # from the mode can start far off where the ridge bends.
                known = np.array(sorted(self.rows))
                near = known[np.abs(keys[missing][:, None] - known[None, :]).argmin(axis=1)]
                cn = np.array([self.rows[k][0] for k in near.tolist()])
                sn = np.array([self.rows[k][1] for k in near.tolist()])
                vn = self.v0 + self.sv * _LAMBDA * np.sinh(near * _H_MIN / 4 / _LAMBDA)
                guess = cn + self.slope * (vm - vn)
                scale0 = sn
            c, sc = _row_maps(self.f, vm, guess, scale0)
            for k, ci, si in zip(keys[missing].tolist(), c, sc, strict=True):
                self.rows[k] = (float(ci), float(si))
        cs = np.array([self.rows[k] for k in keys.tolist()])
        return cs[:, 0], cs[:, 1]

    def build(self, h: float) -> GridPosterior:
        """Grid at spacing h, extended until every edge line carries negligible mass."""
        edge_tol = self.tol * 1e-3
        lam = self.lam_in
        while True:
            s = _nodes(h, self.ext["s-"], self.ext["s+"])
            t = _nodes(h, self.ext["t-"], self.ext["t+"])
            v = self.v0 + self.sv * _LAMBDA * np.sinh(s / _LAMBDA)
            dv = self.sv * np.cosh(s / _LAMBDA)
            centre, scale = self._row_maps(s, v)
            u = centre[:, None] + scale[:, None] * lam * np.sinh(t[None, :] / lam)
            vv = np.broadcast_to(v[:, None], u.shape)
            inside = (u > self.ulo) & (u < self.uhi)
            lp = np.where(inside, self.f(np.where(inside, u, self.mode[0]), vv), -np.inf)
            logw = (
                lp
                + np.log(dv)[:, None]
                + np.log(scale)[:, None]
                + np.log(np.cosh(t / lam))[None, :]
                + 2 * math.log(h)
            )
            top = float(np.max(logw))
            if not np.isfinite(top):
                raise ImproperPosteriorError(
                    f"The {self.what} has no finite mass on the grid around its mode "
                    f"(u={self.mode[0]:.3g}, v={self.mode[1]:.3g}); the log density is not "
                    "finite there."
                )
            w = np.exp(logw - top)
            total = float(w.sum())
            w /= total
            edges = {"s-": w[0].sum(), "s+": w[-1].sum(), "t-": w[:, 0].sum(),
                     "t+": w[:, -1].sum()}
            grow = [k for k, m in edges.items() if m > edge_tol]
            stuck = [k for k in grow if self.ext[k] + 1e-9 >= self.limit[k]]
            if stuck and self.proper:
                self.cut.update(stuck)
                self.cut_mass = max(self.cut_mass, *(float(edges[k]) for k in stuck))
                grow = [k for k in grow if k not in stuck]
                stuck = []
            if not grow:
                break
            if stuck:
                where = "; ".join(f"{_EDGE_NAMES[k]} (edge mass {edges[k]:.2g})" for k in stuck)
                raise ImproperPosteriorError(
                    f"The {self.what} does not decay toward the {where}: its mass does not "
                    "fall off within the representable range, so it is improper (or too "
                    "flat to integrate). Use a proper prior."
                )
            for k in grow:
                self.ext[k] = min(self.ext[k] + _EXTEND_STEP, self.limit[k])
        return GridPosterior(
            u=u, v=np.array(vv), weight=w, log_norm=top + math.log(total), error=math.nan,
            h=h, t=t, s=s, centre=centre, scale=scale, v0=self.v0, sv=self.sv,
            n_evaluations=self.f.count, lam_in=lam,
        )


def sample_grid(
    grid: GridPosterior, logpost: LogDensity, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Independent draws (u, v) from the posterior the grid integrates.

    Exact inverse-CDF sampling to the quadrature's accuracy, with no grid
    artefacts: the outer coordinate is drawn from its marginal (the sinc
    interpolant of the row masses, as in :meth:`GridPosterior.outer_cdf`);
    then, at the drawn outer value, the inner conditional is evaluated afresh
    on the inner nodes and drawn the same way.
    """
    h = grid.h
    rows = grid.weight.sum(axis=1)

    def outer(s_star: np.ndarray, k: np.ndarray) -> np.ndarray:
        si, _ = sici(np.pi * (s_star[:, None] - grid.s[None, :]) / h)
        return (0.5 + si / np.pi) @ rows

    def outer_density(s_star: np.ndarray, k: np.ndarray) -> np.ndarray:
        return np.sinc((s_star[..., None] - grid.s) / h) @ rows / h

    # Start from the piecewise-linear CDF through the nodes, then Newton on the exact one.
    cum = np.concatenate([[0.0], np.cumsum(rows)])
    edges = np.concatenate([grid.s - h / 2, [grid.s[-1] + h / 2]])
    p = rng.random(size)
    # The interpolant's CDF costs what its density costs: a step scale of 0 makes
    # every Newton step evaluate it exactly (no integrated updates).
    s_draw = solve_mixture(
        outer, lambda s_star, k: 1.0 - outer(s_star, k), outer_density, p,
        np.interp(p, cum, edges), np.zeros(size), lo=grid.s[0] - 4 * h,
        hi=grid.s[-1] + 4 * h, atol=1e-10,
    )
    v = grid.v0 + grid.sv * _LAMBDA * np.sinh(s_draw / _LAMBDA)
    centre = np.interp(s_draw, grid.s, grid.centre)
    scale = np.interp(s_draw, grid.s, grid.scale)
    t = grid.t
    lam = grid.lam_in
    u_nodes = centre[:, None] + scale[:, None] * lam * np.sinh(t[None, :] / lam)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        lp = logpost(u_nodes, np.broadcast_to(v[:, None], u_nodes.shape))
    lp = np.where(np.isfinite(lp), lp, -np.inf) + np.log(np.cosh(t / lam))[None, :]
    w = np.exp(lp - lp.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)

    def inner(t_star: np.ndarray, k: np.ndarray) -> np.ndarray:
        si, _ = sici(np.pi * (t_star[:, None] - t[None, :]) / h)
        return np.sum(w[k] * (0.5 + si / np.pi), axis=1)

    def inner_density(t_star: np.ndarray, k: np.ndarray) -> np.ndarray:
        return np.sum(w[k] * np.sinc((t_star[..., None] - t) / h), axis=-1) / h

    q = rng.random(size)
    tcum = np.concatenate([np.zeros((size, 1)), np.cumsum(w, axis=1)], axis=1)
    tedges = np.concatenate([t - h / 2, [t[-1] + h / 2]])
    start = np.array([np.interp(qi, ci, tedges) for qi, ci in zip(q, tcum, strict=True)])
    t_draw = solve_mixture(
        inner, lambda t_star, k: 1.0 - inner(t_star, k), inner_density, q, start,
        np.zeros(size), lo=t[0] - 4 * h, hi=t[-1] + 4 * h, atol=1e-10,
    )
    u = centre + scale * lam * np.sinh(t_draw / lam)
    return u, v
