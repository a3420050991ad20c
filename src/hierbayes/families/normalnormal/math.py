"""Normal–Normal mathematics: pure, vectorised NumPy (MODEL.md §4).

    y_j ~ Normal(theta_j, s_j²) (s_j known),   theta_j ~ Normal(mu, tau²)

Marginally y_j | mu, tau ~ Normal(mu, s_j² + tau²). With a flat prior on mu,
or a Normal(m0, v0) prior (which acts as one more "observation" m0 with
variance v0 that tau does not inflate), mu integrates out in closed form:

    P(tau) = [1/v0] + Σ_j 1/(s_j² + tau²),   mû = ([m0/v0] + Σ_j y_j/(s_j² + tau²)) / P,
    V = 1/P,   mu | tau, y ~ Normal(mû, V),
    log p(y | tau) = ½ log(2π V) − ½ Σ_j log(2π(s_j² + tau²)) − ½ Σ_j (y_j − mû)²/(s_j² + tau²)
                     [− ½ log(2π v0) − ½ (m0 − mû)²/v0].

Given tau (and mu ~ Normal(m, V) at a point of the hyperposterior), with the
shrinkage factor B_j = s_j²/(s_j² + tau²),

    theta_j | tau, y ~ Normal(y_j + B_j (m − y_j),  s_j² (1 − B_j) + B_j² V),

the conditional posterior (1 − B_j) y_j + B_j mu with variance s_j²(1 − B_j),
averaged over mu. A point with tau = inf is no pooling (B_j = 0); tau = 0 is
complete pooling (B_j = 1: theta_j = mu). Every group posterior is a mixture
of these Normals over the weighted points.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

from hierbayes.families.conjugate import NORMAL
from hierbayes.mixtures.mixture import mixture_quantiles

__all__ = [
    "collapsed_loglik",
    "component_moments",
    "marginal_loglik",
    "mixture_moments",
    "normal_mixture_quantiles",
    "normal_quantiles",
    "profile_loglik",
]

_CHUNK = 1 << 20  # elements of a (points x groups) block
_LOG_2PI = math.log(2.0 * math.pi)


def _rows(p: int) -> int:
    """Rows of a (rows x p) block that fit in one chunk."""
    return max(1, _CHUNK // max(p, 1))


def collapsed_loglik(
    tau2: np.ndarray,
    y: np.ndarray,
    s2: np.ndarray,
    count: np.ndarray,
    prior: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log p(y | tau) with mu integrated out, and mu | tau, y ~ Normal(mû, V).

    Parameters
    ----------
    tau2 : numpy.ndarray
        Values of tau² (≥ 0, finite).
    y, s2, count : numpy.ndarray
        Distinct (estimate, std_error²) pairs and how many groups have each.
    prior : (m0, v0) or None
        Normal prior on mu; ``None`` is the flat prior p(mu) ∝ 1 (then the
        log likelihood is up to the prior's arbitrary constant).

    Returns
    -------
    loglik, mu_mean, mu_var : numpy.ndarray
        Each with the shape of ``tau2``.

    Examples
    --------
    >>> ll, m, v = collapsed_loglik(np.array([0.0]), np.array([1.0, 3.0]),
    ...                             np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    >>> float(m[0]), float(v[0])
    (2.0, 0.5)
    """
    t2 = np.asarray(tau2, dtype=float)
    flat = t2.reshape(-1)
    # centre on the tau = 0 weighted mean: residuals are then small numbers
    ref = float(np.sum(count * y / s2) / np.sum(count / s2))
    yc = y - ref
    out = np.empty((3, flat.size))
    step = _rows(y.size)
    for i in range(0, flat.size, step):
        var = s2[None, :] + flat[i : i + step, None]
        w = count[None, :] / var
        prec = w.sum(axis=1)
        num = w @ yc
        ll = -0.5 * (count[None, :] * np.log(var)).sum(axis=1)
        if prior is not None:
            m0, v0 = prior[0] - ref, prior[1]
            prec = prec + 1.0 / v0
            num = num + m0 / v0
        m = num / prec
        ll = ll - 0.5 * (w * (yc[None, :] - m[:, None]) ** 2).sum(axis=1)
        ll = ll - 0.5 * np.log(prec) - 0.5 * _LOG_2PI * (count.sum() - 1.0)
        if prior is not None:
            ll = ll - 0.5 * (m0 - m) ** 2 / v0 - 0.5 * math.log(2.0 * math.pi * v0)
        out[:, i : i + step] = ll, m + ref, 1.0 / prec
    return tuple(a.reshape(t2.shape) for a in out)  # type: ignore[return-value]


def marginal_loglik(
    mu: np.ndarray, tau2: np.ndarray, y: np.ndarray, s2: np.ndarray, count: np.ndarray
) -> np.ndarray:
    """log p(y | mu, tau) = Σ_j log Normal(y_j; mu, s_j² + tau²), for arrays of (mu, tau²).

    Grid points share tau across a row, so the sum is formed once per distinct
    tau² as a quadratic in mu without cancellation,
    −½ Σ log(2π(s_j² + tau²)) − ½ Q − ½ P (mu − mû)², where P, mû are the
    precision and weighted mean and Q = Σ (y_j − mû)²/(s_j² + tau²).

    >>> float(marginal_loglik(np.array([0.0]), np.array([0.0]), np.array([0.0]),
    ...                       np.array([1.0]), np.array([1.0]))[0]) == -0.5 * _LOG_2PI
    True
    """
    mu_b, t2_b = np.broadcast_arrays(np.asarray(mu, float), np.asarray(tau2, float))
    t2_u, inverse = np.unique(t2_b.reshape(-1), return_inverse=True)
    ref = float(np.sum(count * y / s2) / np.sum(count / s2))
    yc = y - ref
    const, centre, prec = np.empty(t2_u.size), np.empty(t2_u.size), np.empty(t2_u.size)
    step = _rows(y.size)
    for i in range(0, t2_u.size, step):
        var = s2[None, :] + t2_u[i : i + step, None]
        w = count[None, :] / var
        p = w.sum(axis=1)
        m = (w @ yc) / p
        q = (w * (yc[None, :] - m[:, None]) ** 2).sum(axis=1)
        const[i : i + step] = -0.5 * ((count[None, :] * np.log(var)).sum(axis=1) + q)
        centre[i : i + step], prec[i : i + step] = m + ref, p
    inverse = inverse.reshape(-1)
    dev = mu_b.reshape(-1) - centre[inverse]
    out = const[inverse] - 0.5 * prec[inverse] * dev * dev
    return out.reshape(mu_b.shape) - 0.5 * _LOG_2PI * float(count.sum())


def profile_loglik(
    tau2: np.ndarray, y: np.ndarray, s2: np.ndarray, count: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Profile log likelihood max_mu log p(y | mu, tau), the maximising mu, and d/d(tau²).

    The maximising mu is the precision-weighted mean mû(tau); by the envelope
    theorem the derivative with respect to psi = tau² is
    ½ Σ_j [(y_j − mû)²/(s_j² + psi)² − 1/(s_j² + psi)]. Used for type-II
    maximum likelihood (empirical Bayes), where psi = 0 is allowed.
    """
    psi = np.asarray(tau2, dtype=float).reshape(-1)
    ref = float(np.sum(count * y / s2) / np.sum(count / s2))
    yc = y - ref
    out = np.empty((3, psi.size))
    step = _rows(y.size)
    for i in range(0, psi.size, step):
        var = s2[None, :] + psi[i : i + step, None]
        w = count[None, :] / var
        m = (w @ yc) / w.sum(axis=1)
        r2 = (yc[None, :] - m[:, None]) ** 2
        ll = -0.5 * (count[None, :] * np.log(var) + w * r2).sum(axis=1)
        score = 0.5 * (w * (r2 / var - 1.0)).sum(axis=1)
        out[:, i : i + step] = ll, m + ref, score
    return out[0], out[1], out[2]


def component_moments(
    tau2: np.ndarray, mu_mean: np.ndarray, mu_var: np.ndarray, y: np.ndarray, s2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, variance and shrinkage B of theta_j at each point, shape (points, pairs).

    ``tau2 = inf`` gives B = 0 (no pooling) and ``tau2 = 0`` gives B = 1.
    """
    t2 = np.asarray(tau2, dtype=float)[:, None]
    inf = np.isinf(t2)
    denom = s2[None, :] + t2
    with np.errstate(invalid="ignore"):
        shrink = np.where(inf, 0.0, s2[None, :] / denom)
        keep = np.where(inf, 1.0, t2 / denom)  # 1 − B, accurately for small tau
    mean = y[None, :] + shrink * (np.asarray(mu_mean, float)[:, None] - y[None, :])
    var = s2[None, :] * keep + shrink**2 * np.asarray(mu_var, float)[:, None]
    return mean, var, shrink


def mixture_moments(
    weight: np.ndarray,
    tau2: np.ndarray,
    mu_mean: np.ndarray,
    mu_var: np.ndarray,
    y: np.ndarray,
    s2: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Posterior mean, sd and mean shrinkage E[B_j] of theta_j for each pair.

    The variance is the law of total variance, Σ_k w_k (v_k + (m_k − mean)²),
    summed without cancellation.
    """
    out = np.empty((3, y.size))
    step = max(1, _CHUNK // max(weight.size, 1))
    for i in range(0, y.size, step):
        sl = slice(i, i + step)
        m, v, b = component_moments(tau2, mu_mean, mu_var, y[sl], s2[sl])
        mean = weight @ m
        var = weight @ (v + (m - mean[None, :]) ** 2)
        out[:, sl] = mean, np.sqrt(var), weight @ b
    return out[0], out[1], out[2]


def normal_quantiles(mean: np.ndarray, sd: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Quantiles of Normal(mean, sd²), shape (len(mean), len(probs)); upper tail by symmetry.

    >>> normal_quantiles(np.array([0.0]), np.array([1.0]), np.array([0.5, 0.975])).round(6)
    array([[0.      , 1.959964]])
    """
    p = np.asarray(probs, dtype=float)[None, :]
    z = np.where(p <= 0.5, ndtri(p), -ndtri(1.0 - p))
    return np.asarray(mean, float)[:, None] + np.asarray(sd, float)[:, None] * z


def normal_mixture_quantiles(
    means: np.ndarray, sds: np.ndarray, weight: np.ndarray, probs: np.ndarray
) -> np.ndarray:
    """Quantiles of the mixtures Σ_k w_k Normal(means[k, j], sds[k, j]²), one per column j.

    By the package's one mixture engine
    (:func:`hierbayes.mixtures.mixture.mixture_quantiles`), started at the
    moment-matched Normal's quantile inside the bracket of the smallest and
    largest component quantiles. Returns shape (columns, len(probs)).

    Examples
    --------
    >>> q = normal_mixture_quantiles(np.array([[-1.0], [1.0]]), np.ones((2, 1)),
    ...                              np.array([0.5, 0.5]), np.array([0.5]))
    >>> abs(float(q[0, 0])) < 1e-12
    True
    """
    var = np.asarray(sds, dtype=float) ** 2
    means = np.asarray(means, dtype=float)
    centre = weight @ means
    spread = np.sqrt(weight @ (var + (means - centre) ** 2))
    return mixture_quantiles(NORMAL, lambda sl: (means[:, sl], var[:, sl]), weight,
                             np.asarray(probs, dtype=float), centre, spread)
