"""Beta–Binomial mathematics: collapsed likelihood, conditionals, mixtures (MODEL.md §3).

Pure NumPy/SciPy on arrays; no pandas. Coordinates: ``u = logit(mu)``,
``v = log(kappa)``, ``alpha = mu·kappa``, ``beta = (1 − mu)·kappa``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import betainc, betaincc, betaincinv, betaln, expit, gammaln, log_expit

from ._special import log_scaled_rising

__all__ = [
    "CollapsedLikelihood",
    "conditional_moments",
    "mixture_quantiles",
]

_CHUNK = 1 << 20  # elements per temporary block


@dataclass(frozen=True)
class CollapsedLikelihood:
    """log p(y | alpha, beta) with theta integrated out, without binomial coefficients.

    Per group, with m = n − y and D(x, k) = Σ_{i<k} log(1 + i/x),

        log B(y + a, m + b) − log B(a, b)
            = y log mu + m log(1 − mu) + D(a, y) + D(b, m) − D(kappa, n),

    where the ``log kappa`` parts cancel exactly. Two evaluation paths:

    * ``counts`` (J-independent, MODEL.md §3): with S_y[k] = #{j: y_j > k} etc.,
      Σ_k S_y[k] log(mu + k/kappa) + S_m[k] log(1 − mu + k/kappa) − S_n[k] log1p(k/kappa);
      cost O(max n) per point whatever the number of groups;
    * ``pairs``: the D terms on the distinct (y, n) pairs, weighted by multiplicity;
      cost O(#pairs) per point whatever the counts' size.

    The cheaper one is chosen per data set.
    """

    path: str
    s_y: np.ndarray
    s_m: np.ndarray
    s_n: np.ndarray
    y: np.ndarray
    m: np.ndarray
    mult: np.ndarray
    total_y: float
    total_m: float
    log_binom: float

    @classmethod
    def from_counts(
        cls, successes: np.ndarray, trials: np.ndarray, path: str = "auto"
    ) -> CollapsedLikelihood:
        """Reduce per-group counts to the sufficient statistics of both paths."""
        y = np.asarray(successes, dtype=np.int64)
        n = np.asarray(trials, dtype=np.int64)
        n - y
        key = np.stack([y, n], axis=1)
        uniq, mult = np.unique(key, axis=0, return_counts=True)
        uy, un = uniq[:, 0], uniq[:, 1]
        um = un - uy
        kmax = int(n.max(initial=0))
        if path == "auto":
            path = "counts" if 3 * kmax <= 40 * len(uy) and kmax <= 50_000 else "pairs"
        if path == "counts":
            s_y = _exceed_counts(uy, mult, kmax)
            s_m = _exceed_counts(um, mult, kmax)
            s_n = _exceed_counts(un, mult, kmax)
        else:
            s_y = s_m = s_n = np.zeros(0)
        log_binom = float(
            np.sum(mult * (gammaln(un + 1.0) - gammaln(uy + 1.0) - gammaln(um + 1.0)))
        )
        return cls(
            path=path,
            s_y=s_y,
            s_m=s_m,
            s_n=s_n,
            y=uy.astype(float),
            m=um.astype(float),
            mult=mult.astype(float),
            total_y=float(np.sum(mult * uy)),
            total_m=float(np.sum(mult * um)),
            log_binom=log_binom,
        )

    def __call__(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Evaluate at points (u, v) of any matching shape."""
        u, v = np.broadcast_arrays(np.asarray(u, float), np.asarray(v, float))
        shape = u.shape
        u, v = u.ravel(), v.ravel()
        out = np.empty(u.size)
        width = max(self.s_y.size, self.y.size, 1)
        step = max(1, _CHUNK // width)
        for i in range(0, u.size, step):
            sl = slice(i, i + step)
            out[sl] = self._eval(u[sl], v[sl])
        return out.reshape(shape)

    def _eval(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        if self.path == "counts":
            mu = expit(u)[:, None]
            nu = expit(-u)[:, None]
            k = np.arange(self.s_y.size, dtype=float)
            x = k[None, :] * np.exp(-v)[:, None]
            return np.log(mu + x) @ self.s_y + np.log(nu + x) @ self.s_m - np.log1p(x) @ self.s_n
        kappa = np.exp(v)[:, None]
        a = expit(u)[:, None] * kappa
        b = expit(-u)[:, None] * kappa
        n = self.y + self.m
        d = (
            log_scaled_rising(a, self.y)
            + log_scaled_rising(b, self.m)
            - log_scaled_rising(kappa, n)
        )
        return self.total_y * log_expit(u) + self.total_m * log_expit(-u) + d @ self.mult


def _exceed_counts(values: np.ndarray, mult: np.ndarray, kmax: int) -> np.ndarray:
    """S[k] = Σ mult·[values > k] for k = 0 .. kmax − 1 (a bincount, then a reverse cumsum)."""
    c = np.bincount(values, weights=mult, minlength=kmax + 1)
    return (c.sum() - np.cumsum(c))[:kmax].astype(float)


def conditional_moments(
    y: np.ndarray, n: np.ndarray, alpha: np.ndarray, beta: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact mixture mean, sd and mean shrinkage of theta for each (y, n).

    ``alpha``, ``beta``, ``weight`` are the hyperposterior points (1-d). The
    variance uses the law of total variance (no ``E[θ²] − E[θ]²`` cancellation).

    Returns
    -------
    mean, sd, shrinkage : numpy.ndarray
        Shrinkage is E[(alpha+beta)/(n+alpha+beta)], the weight on the population mean.
    """
    y = np.asarray(y, float)
    n = np.asarray(n, float)
    m = n - y
    mean = np.empty(y.size)
    sd = np.empty(y.size)
    shrink = np.empty(y.size)
    kappa = alpha + beta
    step = max(1, _CHUNK // max(alpha.size, 1))
    for i in range(0, y.size, step):
        sl = slice(i, i + step)
        A = y[sl][None, :] + alpha[:, None]
        B = m[sl][None, :] + beta[:, None]
        T = A + B
        cm = A / T
        cv = cm * (B / T) / (T + 1.0)
        mu_ = weight @ cm
        var = weight @ cv + weight @ (cm - mu_) ** 2
        mean[sl] = mu_
        sd[sl] = np.sqrt(var)
        shrink[sl] = weight @ (kappa[:, None] / (n[sl][None, :] + kappa[:, None]))
    return mean, sd, shrink


def mixture_quantiles(
    y: np.ndarray,
    n: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    weight: np.ndarray,
    probs: np.ndarray,
    mean: np.ndarray,
    sd: np.ndarray,
    *,
    xtol: float = 1e-12,
) -> np.ndarray:
    """Quantiles of the mixtures Σ_g w_g Beta(y + alpha_g, n − y + beta_g), shape (pairs, probs).

    Solves Σ_g w_g I_x(A_g, B_g) = p for all pairs and probabilities at once by
    safeguarded Newton steps from the quantile of the moment-matched Beta.
    The mixture CDF is evaluated exactly (``betainc``; ``betaincc`` in the
    upper tail so that 1 − p keeps its digits) at the start; each Newton step
    then updates it by integrating the mixture density over the step with
    8-point Gauss–Legendre, which is exact to rounding for the short steps
    Newton takes, and far cheaper than another ``betainc`` pass. A step longer
    than a tenth of the group's sd, or one that leaves the bracket, gets an
    exact evaluation instead.
    """
    y = np.asarray(y, float)
    m = np.asarray(n, float) - y
    probs = np.asarray(probs, float)
    out = np.empty((y.size, probs.size))
    step = max(1, _CHUNK // max(alpha.size * probs.size * 8, 1))
    for i in range(0, y.size, step):
        sl = slice(i, i + step)
        npair = y[sl].size
        pair = np.repeat(np.arange(npair), probs.size)
        prob = np.tile(probs, npair)
        A = y[sl][pair][None, :] + alpha[:, None]  # (components, problems)
        B = m[sl][pair][None, :] + beta[:, None]
        mu = mean[sl][pair]
        sdp = sd[sl][pair]
        common = np.maximum(mu * (1 - mu) / np.maximum(sdp**2, 1e-300) - 1.0, 1e-12)
        guess = betaincinv(mu * common, (1 - mu) * common, prob)
        out[sl] = _solve_mixture(A, B, weight, prob, guess, sdp, xtol).reshape(npair, probs.size)
    return out


_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)


def _solve_mixture(A, B, weight, prob, x, sd, xtol, max_iter: int = 100) -> np.ndarray:
    """Bracketed Newton for Σ_g w_g I_x(A_g, B_g) = p, one problem per column of A, B."""
    up = prob > 0.5
    target = np.where(up, prob - 1.0, prob)  # solve on an increasing scale
    lognorm = betaln(A, B)

    def exact(x: np.ndarray, k: np.ndarray) -> np.ndarray:
        res = np.empty(k.size)
        u = up[k]
        if (~u).any():
            res[~u] = weight @ betainc(A[:, k[~u]], B[:, k[~u]], x[None, ~u])
        if u.any():
            res[u] = -(weight @ betaincc(A[:, k[u]], B[:, k[u]], x[None, u]))
        return res

    def density(x: np.ndarray, k: np.ndarray) -> np.ndarray:
        """Mixture density at x[..., j] for problem k[j]; x has shape (..., len(k))."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            lp = (
                (A[:, k] - 1) * np.log(x[..., None, :])
                + (B[:, k] - 1) * np.log1p(-x[..., None, :])
                - lognorm[:, k]
            )
            return np.einsum("g,...gk->...k", weight, np.exp(lp))

    x = np.clip(np.where(np.isfinite(x), x, 0.5), 1e-300, 1.0 - 1e-16)
    all_k = np.arange(prob.size)
    fx = exact(x, all_k) - target
    lo = np.where(fx <= 0, x, 0.0)
    hi = np.where(fx >= 0, x, 1.0)
    active = np.ones(prob.size, dtype=bool)
    for _ in range(max_iter):
        k = np.flatnonzero(active)
        if k.size == 0:
            break
        xk, fk = x[k], fx[k]
        with np.errstate(divide="ignore", invalid="ignore"):
            nxt = xk - fk / density(xk, k)
        # A Newton step below tolerance ends the search (before any bracket test:
        # at the root, rounding may put the step a hair outside the bracket).
        done = np.isfinite(nxt) & (np.abs(nxt - xk) <= xtol * np.maximum(xk, 1e-300))
        bad = ~np.isfinite(nxt) | (nxt < lo[k]) | (nxt > hi[k])
        nxt = np.where(bad, 0.5 * (lo[k] + hi[k]), nxt)
        nxt = np.where(done, xk, nxt)
        far = bad | (np.abs(nxt - xk) > 0.1 * sd[k])
        # CDF at the new point: integrate the density over the short step, else exact.
        half = 0.5 * (nxt - xk)
        nodes = (xk + half)[None, :] + half[None, :] * _GL_X[:, None]
        inc = half * (_GL_W @ density(nodes, k))
        fnew = fk + inc
        if far.any():
            fnew[far] = exact(nxt[far], k[far]) - target[k[far]]
        x[k], fx[k] = nxt, fnew
        lo[k] = np.where(fnew <= 0, nxt, lo[k])
        hi[k] = np.where(fnew >= 0, nxt, hi[k])
        active[k] = ~done & (hi[k] - lo[k] > xtol * np.maximum(nxt, 1e-300))
    return x


def beta_of(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, beta) from (logit mu, log kappa) without overflow in 1 − mu."""
    kappa = np.exp(v)
    return expit(u) * kappa, expit(-u) * kappa
