"""Quantiles of theta_j on the 2-D (mu, tau) grid, exact where tau is small.

On the grid of a non-Normal prior on mu, theta_j given a point (mu, tau) is
Normal(a_j + B_j·mu, S_j²) with a_j = (1 − B_j) y_j and S_j² = s_j²(1 − B_j),
so along a row of the grid (tau fixed)

    P(theta_j ≤ q | row) = ∫ Φ((mu* − mu)/w) p_row(mu) dmu,   mu* = (q − a_j)/B_j,  w = S_j/B_j.

Means are smooth in mu and the trapezoid over the row's nodes is exact to
the grid's accuracy. The CDF is not when w ≪ the node spacing (w ≈ tau as
tau → 0, where the posterior of tau keeps mass): the integrand is then a
step. Those rows are split exactly,

    ∫ Φ((mu* − mu)/w) p_row dmu
        = P(mu ≤ mu* | row) + ∫ p_row(mu)·[Φ((mu* − mu)/w) − 1{mu < mu*}] dmu,

the first term from the row's sinc interpolant (what the trapezoid rule
integrates exactly, as in ``GridPosterior.outer_cdf``), the second a smooth
density against a kernel confined to a few w around mu*, by Gauss–Legendre
on each side of mu* with the log posterior evaluated afresh.

The hyperparameter rows come from the same ideas: quantiles of mu from the
rows' sinc CDFs at a common cut, and tau (with the moments of mu) from the
marginal of tau's coordinate, integrated in 1-D with mu integrated per node.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.special import ndtr, sici

from hierbayes.families.normalnormal.math import normal_mixture_quantiles
from hierbayes.families.normalnormal.priors import IntervalMap
from hierbayes.integrate.grid1d import Grid1D, integrate_1d
from hierbayes.integrate.grid2d import GridPosterior
from hierbayes.mixtures.solve import solve_increasing

__all__ = ["mu_quantiles_2d", "theta_quantiles_2d", "z_marginal"]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(64)
_GL_X, _GL_W = 0.5 * (_GL_X + 1.0), 0.5 * _GL_W  # on [0, 1]
_REACH = 8.5  # kernel support in units of w: Φ(−8.5) < 1e-16


def theta_quantiles_2d(
    grid: GridPosterior,
    logpost: Callable[[np.ndarray, np.ndarray], np.ndarray],
    mu_map: IntervalMap,
    tau_map: IntervalMap,
    y: np.ndarray,
    s2: np.ndarray,
    probs: np.ndarray,
) -> np.ndarray:
    """Quantiles of every theta_j (pairs y, s2) under the 2-D grid posterior, (pairs, probs)."""
    probs = np.asarray(probs, dtype=float)
    rows = grid.v[:, 0]
    tau2 = tau_map.value(rows) ** 2
    mu = mu_map.value(grid.u)  # (R, C)
    shrink = s2[None, :] / (s2[None, :] + tau2[:, None])  # (R, P)
    keep = tau2[:, None] / (s2[None, :] + tau2[:, None])
    a = keep * y[None, :]
    sd = np.sqrt(s2[None, :] * keep)
    row_sd = grid.scale * np.exp(mu_map.log_jac(grid.centre))  # sd of mu along each row
    # log of the factor turning exp(logpost(u, v_r)) into the row's density in u
    c_star = np.argmax(grid.weight, axis=1)
    u_star = grid.u[np.arange(rows.size), c_star]
    t_star = grid.t[c_star]
    with np.errstate(divide="ignore"):
        log_k = (np.log(grid.weight[np.arange(rows.size), c_star]) - logpost(u_star, rows)
                 - np.log(grid.scale * np.cosh(t_star / grid.lam_in)) - math.log(grid.h))

    pair = np.repeat(np.arange(y.size), probs.size)
    target = np.tile(probs, y.size)
    B, A, S = shrink[:, pair], a[:, pair], sd[:, pair]  # (R, n)
    W = S / B
    weight = grid.weight
    # rows carrying no mass to speak of keep the plain mixture (error ≤ their mass)
    heavy = weight.sum(axis=1) > 1e-16
    split = (W < row_sd[:, None]) & heavy[:, None]

    def cdf(q: np.ndarray) -> np.ndarray:
        comp = ndtr((q[None, None, :] - A[:, None, :] - B[:, None, :] * mu[:, :, None])
                    / S[:, None, :])
        total = np.einsum("rc,rcn->rn", weight, comp)
        if split.any():
            r_idx, n_idx = np.nonzero(split)
            m_star = (q[n_idx] - A[r_idx, n_idx]) / B[r_idx, n_idx]
            total[r_idx, n_idx] = _split_rows(
                grid, logpost, mu_map, rows, log_k, r_idx, m_star, W[r_idx, n_idx]
            )
        return total.sum(axis=0)

    # Bracket: the plain mixture's quantile (good to ~1e-3 of the spread) ± a margin,
    # widened to the extreme component quantiles wherever that fails to bracket.
    means = (a[:, None, :] + shrink[:, None, :] * mu[:, :, None]).reshape(-1, y.size)
    sds = np.broadcast_to(sd[:, None, :], (rows.size, mu.shape[1], y.size)).reshape(-1, y.size)
    rough = normal_mixture_quantiles(means, sds, weight.reshape(-1), probs).reshape(-1)
    comp_q = means[:, pair] + sds[:, pair] * _z(target)[None, :]
    wide_lo, wide_hi = comp_q.min(axis=0), comp_q.max(axis=0)
    margin = 0.02 * (wide_hi - wide_lo)
    lo, hi = np.maximum(rough - margin, wide_lo), np.minimum(rough + margin, wide_hi)
    f_lo, f_hi = cdf(lo), cdf(hi)
    lo = np.where(f_lo <= target, lo, wide_lo - margin)
    hi = np.where(f_hi >= target, hi, wide_hi + margin)
    q = solve_increasing(cdf, target, lo, hi, xtol=1e-14)
    return q.reshape(y.size, probs.size)


def _z(p: np.ndarray) -> np.ndarray:
    from scipy.special import ndtri

    return np.where(p <= 0.5, ndtri(p), -ndtri(1.0 - p))


def _split_rows(
    grid: GridPosterior,
    logpost: Callable[[np.ndarray, np.ndarray], np.ndarray],
    mu_map: IntervalMap,
    rows: np.ndarray,
    log_k: np.ndarray,
    r_idx: np.ndarray,
    m_star: np.ndarray,
    w: np.ndarray,
) -> np.ndarray:
    """Row mass below mu* (sinc) plus the smooth kernel correction (Gauss–Legendre)."""
    lam, h = grid.lam_in, grid.h
    u_star = mu_map.inverse(m_star)
    z = (u_star - grid.centre[r_idx]) / (grid.scale[r_idx] * lam)
    with np.errstate(invalid="ignore"):
        t_s = lam * np.arcsinh(z)
    arg = np.pi * (t_s[:, None] - grid.t[None, :]) / h
    si, _ = sici(np.where(np.isfinite(arg), arg, 0.0))
    frac = np.where(np.isfinite(arg), 0.5 + si / np.pi, (arg > 0).astype(float))
    below = np.sum(grid.weight[r_idx] * frac, axis=1)

    reach = _REACH * w
    lo1, hi1 = np.maximum(m_star - reach, mu_map.a), np.minimum(m_star, mu_map.b)
    lo2, hi2 = np.maximum(m_star, mu_map.a), np.minimum(m_star + reach, mu_map.b)
    len1, len2 = np.maximum(hi1 - lo1, 0.0), np.maximum(hi2 - lo2, 0.0)
    ms = m_star[:, None]
    x1 = np.where(len1[:, None] > 0, lo1[:, None] + len1[:, None] * _GL_X[None, :], ms)
    x2 = np.where(len2[:, None] > 0, lo2[:, None] + len2[:, None] * _GL_X[None, :], ms)
    k1 = -ndtr((x1 - m_star[:, None]) / w[:, None])  # Φ((mu* − mu)/w) − 1 below mu*
    k2 = ndtr((m_star[:, None] - x2) / w[:, None])
    dens = _row_density(logpost, mu_map, rows, log_k, r_idx, np.concatenate([x1, x2], axis=1))
    d1, d2 = dens[:, : _GL_X.size], dens[:, _GL_X.size :]
    corr = len1 * ((d1 * k1) @ _GL_W) + len2 * ((d2 * k2) @ _GL_W)
    return below + corr


def _row_density(logpost, mu_map: IntervalMap, rows: np.ndarray, log_k: np.ndarray,
                 r_idx: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The row's share of posterior mass per unit mu, at points x (rows of r_idx)."""
    u = mu_map.inverse(x)
    v = np.broadcast_to(rows[r_idx][:, None], x.shape)
    ok = np.isfinite(u)
    with np.errstate(all="ignore"):
        lp = logpost(np.where(ok, u, 0.0), v) + log_k[r_idx][:, None] - mu_map.log_jac(
            np.where(ok, u, 0.0))
        out = np.exp(lp)
    return np.where(ok & np.isfinite(out), out, 0.0)


_IN_LAMBDA = 2.0  # inner map of the marginal pass: reaches 2·sinh(20) ≈ 5e8 row scales
_IN_T = np.arange(-40.0, 40.0 + 1e-9, 0.125)


def z_marginal(
    grid: GridPosterior,
    logpost: Callable[[np.ndarray, np.ndarray], np.ndarray],
    mu_map: IntervalMap,
    tau_map: IntervalMap,
    *,
    scale: float,
    tol: float,
    tau_order: int,
    mu_order: int,
) -> tuple[Grid1D, np.ndarray, np.ndarray]:
    """The marginal posterior of z (the coordinate of tau) by 1-D quadrature, mu integrated.

    For each z the inner integral over mu is a trapezoid on a wide sinh map
    around the 2-D grid's conditional centre and scale (interpolated between
    its rows, held beyond them). The outer integral is
    :func:`~hierbayes.integrate.grid1d.integrate_1d` with a tail weight, so
    moments of tau and mu that are heavy in the tail of tau (E[tau²] with few
    groups) are integrated as far as they need, not just as far as the
    density.

    Returns
    -------
    grid : Grid1D
        Nodes and weights in z.
    mu_mean, mu_var : numpy.ndarray
        Conditional mean and variance of mu at each node.
    """
    rows = grid.v[:, 0]
    centre = float(np.sum(grid.weight * mu_map.value(grid.u)))

    def inner(z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        z = np.atleast_1d(np.asarray(z, dtype=float))
        c = np.interp(z, rows, grid.centre)
        s = np.interp(z, rows, grid.scale)
        u = c[:, None] + s[:, None] * _IN_LAMBDA * np.sinh(_IN_T[None, :] / _IN_LAMBDA)
        with np.errstate(all="ignore"):
            lp = logpost(u, np.broadcast_to(z[:, None], u.shape))
        lp = np.where(np.isfinite(lp), lp, -np.inf)
        lp = lp + np.log(s[:, None] * np.cosh(_IN_T[None, :] / _IN_LAMBDA))
        top = lp.max(axis=1)
        safe = np.where(np.isfinite(top), top, 0.0)
        w = np.exp(lp - safe[:, None])
        total = w.sum(axis=1)
        log_marg = np.where(total > 0, safe + np.log(np.where(total > 0, total, 1.0)), -np.inf)
        w = w / np.where(total > 0, total, 1.0)[:, None]
        mu = mu_map.value(u)
        m = np.sum(w * mu, axis=1)
        v = np.sum(w * (mu - m[:, None]) ** 2, axis=1)
        return log_marg + math.log(0.125), m, v

    def tail(z: np.ndarray) -> np.ndarray:
        out = 1.0 + (tau_map.value(z) / scale) ** tau_order
        if mu_order:
            _, m, v = inner(z)
            out = out + ((m / scale) ** 2 + v / scale**2) ** (mu_order / 2)
        return out

    def summaries(z: np.ndarray, w: np.ndarray) -> np.ndarray:
        ez = w @ z
        sz = math.sqrt(max(float(w @ (z - ez) ** 2), 1e-300))
        out = [ez / sz, math.log(sz)]
        if tau_order:
            out.append(math.log(float(w @ (tau_map.value(z) / scale) ** tau_order)))
        if mu_order:
            _, m, v = inner(z)
            em = float(w @ m)
            out.append((em - centre) / scale)
            if mu_order > 1:
                out.append(0.5 * math.log(float(w @ (v + (m - em) ** 2))))
        return np.array(out)

    zgrid = integrate_1d(lambda z: inner(z)[0], bounds=tau_map.bounds(0.0, scale),
                         summaries=summaries, tol=tol, what="marginal posterior of tau",
                         tail=tail if (tau_order or mu_order) else None)
    _, m, v = inner(zgrid.x)
    return zgrid, m, v


def mu_quantiles_2d(grid: GridPosterior, mu_map: IntervalMap, probs: np.ndarray) -> np.ndarray:
    """Quantiles of mu from the rows' sinc-interpolated CDFs (the same cut in every row)."""
    rows = grid.s.size

    def cdf(u: np.ndarray) -> np.ndarray:
        return grid.inner_cdf(np.repeat(u[:, None], rows, axis=1))

    lo = np.full(probs.size, float(grid.u.min()))
    hi = np.full(probs.size, float(grid.u.max()))
    return mu_map.value(solve_increasing(cdf, np.asarray(probs, float), lo, hi, xtol=1e-14))
