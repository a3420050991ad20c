"""Nested adaptive quadrature of a (p + 1)-dimensional posterior (issue 13).

Regression hyperparameters are coefficients beta (p of them) and one scale
parameter v (log kappa, log shape). The posterior is integrated as

    ∫ p(beta, v) d beta d v = ∫ [ ∫ p(beta, v) d beta ] d v:

* **inner, beta given v**: adaptive Gauss–Hermite — the tensor rule of m
  nodes per axis (probabilists' Hermite, weight exp(−z²/2)) in the coordinates
  beta = b*(v) + L(v) z, where b*(v) is the conditional mode (Newton steps on
  the family's analytic gradient and Hessian) and L(v) L(v)' the inverse of
  the negative Hessian there. Following the conditional mode and curvature
  slice by slice keeps the rule tight where the posterior is a funnel (small
  kappa leaves beta at its prior); with m = 1 the rule is Laplace's method;
* **outer, v**: the exact 1-D adaptive rule of :mod:`hierbayes.integrate.grid1d`
  on the inner integrals (trapezoid in a sinh-stretched coordinate, error
  from halving).

m grows until the summaries of two rules differ by less than ``tol`` or the
points exceed a budget; the reached error is the larger of the outer
rule's and the last inner change, and :attr:`NestedGrid.method` says which
rule was used ("adaptive Gauss–Hermite, m nodes per coefficient" or "Laplace
over the coefficients"). Every point carries a weight: group posteriors are
mixtures over them, exactly as over a 2-D grid.

Marginal CDFs of a coefficient: with beta_k first in the Cholesky order,
beta_k depends on z_1 alone; z_1 is then integrated by the trapezoid rule
(spacing 0.3 over ±10, exponentially accurate for these smooth, decaying
densities) and the other coordinates by the same Gauss–Hermite rule, and the
CDF is the exact integral of the sinc interpolant of the z_1 density (as in
:mod:`hierbayes.integrate.grid1d`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import sici

from hierbayes.errors import AccuracyWarning, ImproperPosteriorError
from hierbayes.integrate.grid1d import Grid1D, _Cached, _find_mode, integrate_1d
from hierbayes.mixtures.solve import solve_increasing

__all__ = ["NestedGrid", "integrate_nested"]

# joint(beta (N, p), v (N,), derivatives) -> log density (N,)
#     [, gradient (N, p), Hessian (N, p, p)]
Joint = Callable[..., tuple[np.ndarray, ...]]

_NEWTON_STEPS = 60
_BUDGET = 600_000  # inner points over all slices of one rule
_LOG_2PI = math.log(2.0 * math.pi)
_PRUNE = 37.0  # tensor nodes below 1e-16 of the largest weight are dropped
_Z1_STEP = 0.3
_Z1_HALF = 10.0
_TRACE = False


@cache
def _rule(m: int, p: int) -> tuple[np.ndarray, np.ndarray]:
    """Tensor Gauss–Hermite nodes (m**p, p) and log weights (weights sum to 1)."""
    z, w = hermegauss(m)
    w = w / w.sum()
    grids = np.meshgrid(*([z] * p), indexing="ij")
    nodes = np.stack([g.ravel() for g in grids], axis=1)
    lw = sum(np.meshgrid(*([np.log(w)] * p), indexing="ij")).ravel()
    keep = lw > lw.max() - _PRUNE  # nodes of negligible weight (1e-20 of the largest)
    return nodes[keep], lw[keep]


def _start_m(p: int) -> int:
    return {1: 12, 2: 8, 3: 6, 4: 4}.get(p, 2)


@dataclass
class _Slices:
    """Conditional modes and Cholesky factors of beta | v, memoised by v."""

    joint: Joint
    p: int
    beta0: np.ndarray
    memo: dict[float, tuple[np.ndarray, np.ndarray, float]] = field(default_factory=dict)

    def modes(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """b*(v) (K, p), L(v) (K, p, p) and log p(b*(v), v) (K,)."""
        v = np.asarray(v, dtype=float)
        new = np.array([x not in self.memo for x in v.tolist()], dtype=bool)
        if new.any():
            vn = v[new]
            b, L, top = self._newton(vn, self._warm(vn))
            for i, x in enumerate(vn.tolist()):
                self.memo[x] = (b[i], L[i], float(top[i]))
        rows = [self.memo[x] for x in v.tolist()]
        return (np.array([r[0] for r in rows]).reshape(-1, self.p),
                np.array([r[1] for r in rows]).reshape(-1, self.p, self.p),
                np.array([r[2] for r in rows]))

    def _warm(self, v: np.ndarray) -> np.ndarray:
        if not self.memo:
            return np.tile(self.beta0, (v.size, 1))
        known = np.array(list(self.memo))
        nearest = known[np.abs(known[None, :] - v[:, None]).argmin(axis=1)]
        return np.array([self.memo[x][0] for x in nearest.tolist()]).reshape(-1, self.p)

    def _newton(self, v: np.ndarray, b: np.ndarray):
        p = self.p
        eye = np.eye(p)
        lp, g, H = self.joint(b, v, True)
        for _ in range(_NEWTON_STEPS):
            negH = -H
            ok = np.all(np.isfinite(negH), axis=(1, 2)) & np.all(np.isfinite(g), axis=1)
            negH = np.where(ok[:, None, None], negH, eye)
            try:  # a damped step where the Hessian is not negative definite
                np.linalg.cholesky(negH)
                step = np.linalg.solve(negH, g[..., None])[..., 0]
            except np.linalg.LinAlgError:
                lam = np.maximum(0.0, -np.linalg.eigvalsh(negH)[:, 0]) + 1e-6
                step = np.linalg.solve(negH + lam[:, None, None] * eye, g[..., None])[..., 0]
            step = np.where(np.isfinite(step), step, 0.0)
            scale = np.sqrt(np.abs(np.einsum("ki,kij,kj->k", step, negH, step)))
            if float(np.max(scale, initial=0.0)) < 1e-9:
                break
            t = np.ones(v.size)
            for _ in range(40):  # backtrack each slice until its density does not fall
                cand = b + t[:, None] * step
                lc = self.joint(cand, v, False)[0]
                bad = ~(lc >= lp - 1e-12 * np.abs(lp))
                if not bad.any():
                    break
                t = np.where(bad, t / 2, t)
            b = np.where((lc >= lp - 1e-12 * np.abs(lp))[:, None], cand, b)
            lp, g, H = self.joint(b, v, True)
        negH = -H
        try:
            cov = np.linalg.inv(negH)
            L = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise ImproperPosteriorError(
                "The coefficients' conditional posterior has no mode at some value of the "
                "scale parameter: a covariate may separate the data, or the coefficients "
                "are not identified. Give normal priors on the coefficients."
            ) from None
        return b, L, lp


@dataclass(frozen=True)
class NestedGrid:
    """A (p + 1)-dimensional posterior as weighted points (coefficients, v).

    Attributes
    ----------
    outer : Grid1D
        The marginal posterior of v (its nodes, weights and sinc CDF).
    beta : numpy.ndarray
        Inner nodes, (slices, m**p, p).
    inner_weight : numpy.ndarray
        Normalised weights of the inner nodes within each slice, (slices, m**p).
    mode, chol : numpy.ndarray
        Conditional mode (slices, p) and Cholesky factor (slices, p, p) per slice.
    m : int
        Gauss–Hermite nodes per coefficient (1: Laplace).
    error : float
        Reached numerical error of the summaries.
    log_norm : float
        log ∫ exp(joint) d beta d v.
    method : str
        The rule, in words.
    """

    outer: Grid1D
    beta: np.ndarray
    inner_weight: np.ndarray
    mode: np.ndarray
    chol: np.ndarray
    m: int
    error: float
    log_norm: float
    method: str
    joint: Joint = field(compare=False, repr=False)
    tol: float = 1e-10
    slices: _Slices | None = field(default=None, compare=False, repr=False)
    _series_memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def v(self) -> np.ndarray:
        """v at every point, (slices * m**p,)."""
        return np.repeat(self.outer.x, self.beta.shape[1])

    @property
    def coef(self) -> np.ndarray:
        """The coefficients at every point, (points, p)."""
        return self.beta.reshape(-1, self.beta.shape[2])

    @property
    def weight(self) -> np.ndarray:
        """Normalised weight of every point."""
        return (self.outer.weight[:, None] * self.inner_weight).ravel()

    def sample(self, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Independent draws (coefficients (size, p), v (size,)).

        v by inverting its exact marginal CDF; beta | v by rejection from a
        multivariate t (5 degrees of freedom) at the conditional mode with
        1.5 times its Laplace scale (those of the nearest slice of the grid).
        The bound of the acceptance ratio starts at 1 (right for a normal
        conditional at its mode); where a proposal shows a larger ratio, the
        bound is raised and the whole sample drawn again, so the draws are
        exact once no proposal exceeds the bound.
        """
        p = self.beta.shape[2]
        nu, s = 5.0, 1.5
        xs = self.outer.x
        log_bound = 0.0
        for _ in range(12):
            v = self.outer.sample(size, rng)
            # the proposal sits at the nearest slice's mode and scale: any centre is valid
            near = np.clip(np.searchsorted(xs, v), 0, xs.size - 1)
            lower = np.clip(near - 1, 0, xs.size - 1)
            near = np.where(np.abs(xs[lower] - v) < np.abs(xs[near] - v), lower, near)
            b, L = self.mode[near], self.chol[near]
            top = self.joint(b, v, False)[0]
            out = np.empty((size, p))
            todo = np.arange(size)
            worst = -np.inf
            for _ in range(400):
                if todo.size == 0:
                    break
                g = rng.standard_normal((todo.size, p))
                chi = rng.chisquare(nu, todo.size) / nu
                z = g / np.sqrt(chi)[:, None]
                beta = b[todo] + s * np.einsum("kij,kj->ki", L[todo], z)
                lp = self.joint(beta, v[todo], False)[0]
                log_r = lp - top[todo] + 0.5 * (nu + p) * np.log1p((z * z).sum(axis=1) / nu)
                worst = max(worst, float(np.max(log_r, initial=-np.inf)))
                accept = np.log(rng.random(todo.size)) + log_bound < log_r
                out[todo[accept]] = beta[accept]
                todo = todo[~accept]
            if worst <= log_bound and todo.size == 0:
                return out, v
            log_bound = max(log_bound + 0.7, worst + 0.4)
        raise ImproperPosteriorError("Could not draw the coefficients: the conditional "
                                     "posterior is far from its Laplace approximation.")

    def coef_cdf(self, k: int, x: np.ndarray) -> np.ndarray:
        """P(beta_k ≤ x) for each x, by the Hermite series of each slice (module docstring)."""
        return self._coef_series(k)(np.atleast_1d(np.asarray(x, dtype=float)))

    def coef_quantiles(self, k: int, probs: np.ndarray) -> np.ndarray:
        """Quantiles of coefficient k (solving :meth:`coef_cdf`)."""
        probs = np.asarray(probs, dtype=float)
        cdf = self._coef_series(k)
        b = self.coef[:, k]
        w = self.weight
        mean = float(w @ b)
        sd = math.sqrt(max(float(w @ (b - mean) ** 2), 1e-300))
        lo = np.full(probs.size, mean - 40 * sd)
        hi = np.full(probs.size, mean + 40 * sd)
        return solve_increasing(cdf, probs, lo, hi, xtol=1e-12 * max(sd, abs(mean)))

    def _coef_series(self, k: int) -> Callable[[np.ndarray], np.ndarray]:
        if k not in self._series_memo:
            self._series_memo[k] = self._build_series(k)
        return self._series_memo[k]

    def _build_series(self, k: int) -> Callable[[np.ndarray], np.ndarray]:
        p, m = self.beta.shape[2], self.m
        order = [k, *[i for i in range(p) if i != k]]
        cov = np.einsum("sij,skj->sik", self.chol, self.chol)[:, order][:, :, order]
        Lk = np.linalg.cholesky(cov)
        keep = _heavy(self.outer.weight, 1e-3 * self.tol)
        Lk, mode, vs = Lk[keep], self.mode[keep][:, order], self.outer.x[keep]
        wout = self.outer.weight[keep] / self.outer.weight[keep].sum()
        # z_1 on a trapezoid grid (the sinc rule: exponentially accurate, and its CDF is
        # the exact integral of the sinc interpolant), the rest by Gauss–Hermite
        h = _Z1_STEP
        t1 = np.arange(-_Z1_HALF, _Z1_HALF + h / 2, h)
        zr, lwr = _rule(m, p - 1) if p > 1 else (np.zeros((1, 0)), np.zeros(1))
        z = np.column_stack([np.repeat(t1, zr.shape[0]), np.tile(zr, (t1.size, 1))])
        lw = np.tile(lwr + 0.5 * (zr * zr).sum(axis=1), t1.size)
        S = mode.shape[0]
        beta = mode[:, None, :] + np.einsum("sij,nj->sni", Lk, z)
        inv = np.argsort(order)
        v = np.repeat(vs, z.shape[0])
        lp = self.joint(beta[:, :, inv].reshape(-1, p), v, False)[0].reshape(S, -1)
        lq = lw[None, :] + np.where(np.isnan(lp), -np.inf, lp)
        lq = lq - lq.max(axis=1, keepdims=True)
        mass = np.exp(lq).reshape(S, t1.size, -1).sum(axis=2)
        mass /= mass.sum(axis=1, keepdims=True)
        scale, centre = Lk[:, 0, 0], mode[:, 0]

        def cdf(x: np.ndarray) -> np.ndarray:
            t = (x[None, :] - centre[:, None]) / scale[:, None]  # (S, X)
            si, _ = sici(np.pi * (t[:, :, None] - t1[None, None, :]) / h)
            val = np.einsum("sxn,sn->sx", 0.5 + si / np.pi, mass)
            return np.clip(wout @ val, 0.0, 1.0)

        return cdf


def _heavy(w: np.ndarray, mass: float = 1e-13) -> np.ndarray:
    """Indices of the points carrying all but ``mass`` of the weight."""
    order = np.argsort(w)
    return np.sort(order[np.cumsum(w[order]) > mass])


def integrate_nested(
    joint: Joint,
    *,
    p: int,
    beta0: np.ndarray,
    v_bounds: tuple[float, float],
    v_start: float,
    summaries: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray],
    tol: float,
    what: str = "posterior",
    budget: int = _BUDGET,
) -> NestedGrid:
    """Integrate ``exp(joint(beta, v))`` over (beta, v); return weighted points.

    Parameters
    ----------
    joint : callable
        ``joint(beta, v, derivatives)``: the log density at ``beta`` (N, p)
        and ``v`` (N,); with ``derivatives`` also its gradient (N, p) and
        Hessian (N, p, p) in beta.
    p : int
        Number of coefficients.
    beta0 : numpy.ndarray
        A start for the conditional modes.
    v_bounds : (float, float)
        Hard limits of v (mass left there means an improper posterior).
    v_start : float
        Where the mode in v probably is.
    summaries : callable
        ``summaries(beta (K, M, p), v (K,), weight (K, M)) -> 1-d array`` of
        quantities on a common scale whose convergence is checked.
    tol : float
        Target error of the summaries.
    what : str
        Name of the posterior, for messages.
    budget : int
        Most inner points (over all slices) a rule may use.

    Returns
    -------
    NestedGrid

    Examples
    --------
    A bivariate normal with correlation 0.5 (p = 1, v the second coordinate):

    >>> def joint(b, v, derivatives):
    ...     x = b[:, 0]
    ...     q = (x * x - x * v + v * v) / 1.5
    ...     lp = -q
    ...     if not derivatives:
    ...         return (lp,)
    ...     return lp, (-(2 * x - v) / 1.5)[:, None], np.full((x.size, 1, 1), -2 / 1.5)
    >>> g = integrate_nested(joint, p=1, beta0=np.zeros(1), v_bounds=(-50.0, 50.0),
    ...                      v_start=0.0, tol=1e-10,
    ...                      summaries=lambda b, v, w: np.array([np.sum(w * b[..., 0] ** 2)]))
    >>> round(float(g.weight @ g.coef[:, 0] ** 2), 10)  # Var(beta) = 1
    1.0
    """
    slices = _Slices(joint, p, np.asarray(beta0, dtype=float))

    def rule(m: int):
        z, lw = _rule(m, p)
        half_z2 = 0.5 * (z * z).sum(axis=1)

        def inner(v: np.ndarray):
            b, L, _ = slices.modes(v)
            beta = b[:, None, :] + np.einsum("kij,nj->kni", L, z)
            K, M = beta.shape[:2]
            lp = joint(beta.reshape(-1, p), np.repeat(v, M), False)[0].reshape(K, M)
            lq = lw[None, :] + half_z2[None, :] + np.where(np.isnan(lp), -np.inf, lp)
            peak = lq.max(axis=1, keepdims=True)
            peak = np.where(np.isfinite(peak), peak, 0.0)
            q = np.exp(lq - peak)
            tot = q.sum(axis=1)
            logdet = np.log(np.abs(np.diagonal(L, axis1=1, axis2=2))).sum(axis=1)
            with np.errstate(divide="ignore"):
                logmarg = peak[:, 0] + np.log(tot) + logdet + 0.5 * p * _LOG_2PI
            return beta, q / np.maximum(tot, 1e-300)[:, None], logmarg

        def logmarg(v: np.ndarray) -> np.ndarray:
            v = np.asarray(v, dtype=float).ravel()
            step = max(1, 200_000 // max(z.shape[0], 1))
            return np.concatenate([inner(v[i : i + step])[2] for i in range(0, v.size, step)])

        def stats(x: np.ndarray, w: np.ndarray) -> np.ndarray:
            beta, q, _ = inner(x)
            return summaries(beta, x, w[:, None] * q)

        return inner, logmarg, stats

    # the centre and scale of v from Laplace's rule (cheap), shared by every grid
    laplace = _Cached(rule(1)[1])
    centre = _find_mode(laplace, v_bounds, v_start)

    def outer_grid(m: int, tol_: float) -> Grid1D:
        _, logmarg, stats = rule(m)
        return integrate_1d(logmarg, bounds=v_bounds, summaries=stats, tol=tol_,
                            what=what, centre=centre)

    # 1. a coarse outer grid; 2. the inner rule refined on its nodes until the summaries
    # change by less than tol from the previous rule (that change, an estimate of the
    # previous rule's error, bounds the finer rule's: it is the inner error reported);
    # 3. the outer grid to tol with that rule.
    step = 2 if p <= 3 else 1
    m = _start_m(p)
    coarse = outer_grid(m, max(tol, 1e-4))
    x, w = coarse.x, coarse.weight
    prev = rule(m)[2](x, w)
    change = math.inf
    while (m + step) ** p * coarse.size <= budget and m < 64:
        cur = rule(m + step)[2](x, w)
        change = float(np.max(np.abs(cur - prev)))
        m, prev = m + step, cur
        if _TRACE:
            print(f"nested: m={m} change={change:.3g} slices={coarse.size}")
        if change <= tol:
            break
    outer = outer_grid(m, tol)
    beta, q, _ = rule(m)[0](outer.x)
    if change > tol:
        warnings.warn(
            f"The {what}: the rule over the coefficients did not converge within its budget "
            f"({m} nodes per coefficient); summaries still change by {change:.2g} "
            f"(tolerance {tol:.2g}), and the results carry that error.",
            AccuracyWarning,
            stacklevel=4,
        )
    b, L, _ = slices.modes(outer.x)
    error = max(float(outer.error), change)
    method = ("Laplace over the coefficients given v" if m == 1 else
              f"adaptive Gauss–Hermite over the coefficients ({m} nodes each) given v") + \
        ", exact adaptive quadrature over v"
    return NestedGrid(outer, beta, q, b, L, m, error, float(outer.log_norm), method, joint,
                      tol, slices)


def gauss_collapse(x: np.ndarray, w: np.ndarray, r: int) -> tuple[np.ndarray, np.ndarray]:
    """The r-node Gauss rule of each discrete measure (rows of ``x`` with weights ``w``).

    It integrates every polynomial of degree < 2r exactly as the full rule does
    (Lanczos on the standardised nodes with full re-orthogonalisation, then the
    eigen-decomposition of the Jacobi matrix, Golub & Welsch 1969).

    Parameters
    ----------
    x, w : numpy.ndarray
        (batch, N) nodes and non-negative weights (each row summing to 1).
    r : int
        Nodes of the collapsed rules.

    Returns
    -------
    nodes, weights : numpy.ndarray
        (batch, r) each.

    Examples
    --------
    >>> x = np.linspace(-3, 3, 61)[None, :]
    >>> w = np.exp(-x**2 / 2); w /= w.sum()
    >>> nodes, weights = gauss_collapse(x, w, 4)
    >>> bool(np.allclose(weights @ nodes[0]**6, w @ x[0]**6))
    True
    """
    x = np.asarray(x, float)
    w = np.asarray(w, float)
    mean = np.sum(w * x, axis=1, keepdims=True)
    sd = np.sqrt(np.maximum(np.sum(w * (x - mean) ** 2, axis=1, keepdims=True), 1e-300))
    z = (x - mean) / sd
    B, N = x.shape
    Q = np.zeros((r + 1, B, N))
    Q[0] = 1.0
    a = np.zeros((B, r))
    b = np.zeros((B, r))
    for k in range(r):
        a[:, k] = np.sum(w * z * Q[k] ** 2, axis=1)
        nxt = (z - a[:, k : k + 1]) * Q[k]
        if k > 0:
            nxt = nxt - b[:, k - 1 : k] * Q[k - 1]
        for i in range(k + 1):  # re-orthogonalise
            nxt = nxt - np.sum(w * nxt * Q[i], axis=1, keepdims=True) * Q[i]
        norm = np.sqrt(np.maximum(np.sum(w * nxt * nxt, axis=1), 0.0))
        b[:, k] = norm
        Q[k + 1] = nxt / np.where(norm > 1e-300, norm, 1.0)[:, None]
    J = np.zeros((B, r, r))
    idx = np.arange(r)
    J[:, idx, idx] = a
    J[:, idx[:-1], idx[1:]] = b[:, :-1]
    J[:, idx[1:], idx[:-1]] = b[:, :-1]
    vals, vecs = np.linalg.eigh(J)
    weights = vecs[:, 0, :] ** 2
    return mean + sd * vals, weights
