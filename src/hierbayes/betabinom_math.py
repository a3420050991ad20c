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

    Solves Σ_g w_g I_x(A_g, B_g) = p by safeguarded Newton steps (the mixture
    density is the derivative) on all pairs and probabilities at once, inside
    a bracket that every CDF evaluation shrinks, from the quantile of the
    moment-matched Beta. Upper tails use ``betaincc`` so that 1 − p keeps its
    digits.
    """
    y = np.asarray(y, float)
    m = np.asarray(n, float) - y
    probs = np.asarray(probs, float)
    out = np.empty((y.size, probs.size))
    up = probs > 0.5
    step = max(1, _CHUNK // max(alpha.size * probs.size, 1))
    for i in range(0, y.size, step):
        sl = slice(i, i + step)
        A = (y[sl][None, :] + alpha[:, None])[:, :, None]  # (components, pairs, 1)
        B = (m[sl][None, :] + beta[:, None])[:, :, None]
        lognorm = betaln(A, B)
        npair = A.shape[1]
        target = np.broadcast_to(np.where(up, probs - 1.0, probs)[None, :], (npair, probs.size))

        def tail(x: np.ndarray, A=A, B=B) -> np.ndarray:
            # Increasing in x: I_x below the median, −(1 − I_x) above it.
            res = np.empty(x.shape)
            if (~up).any():
                res[:, ~up] = np.tensordot(weight, betainc(A, B, x[None][:, :, ~up]), axes=1)
            if up.any():
                res[:, up] = -np.tensordot(weight, betaincc(A, B, x[None][:, :, up]), axes=1)
            return res

        def density(x: np.ndarray, A=A, B=B, lognorm=lognorm) -> np.ndarray:
            with np.errstate(divide="ignore", invalid="ignore"):
                logpdf = (A - 1) * np.log(x[None]) + (B - 1) * np.log1p(-x[None]) - lognorm
            return np.tensordot(weight, np.exp(logpdf), axes=1)

        mu = mean[sl][:, None]
        var = sd[sl][:, None] ** 2
        common = np.maximum(mu * (1 - mu) / np.maximum(var, 1e-300) - 1.0, 1e-12)
        guess = betaincinv(mu * common, (1 - mu) * common, np.broadcast_to(probs, target.shape))
        out[sl] = _newton_bracketed(tail, density, target, guess, xtol)
    return out


def _newton_bracketed(func, deriv, target, x, xtol, max_iter: int = 100) -> np.ndarray:
    """Newton on an increasing func over [0, 1], bisecting whenever a step leaves the bracket.

    Elements stop moving once a step is below ``xtol`` relative to x; every
    evaluation narrows [lo, hi], so a bad start costs bisections, not failure.
    """
    lo = np.zeros(target.shape)
    hi = np.ones(target.shape)
    x = np.clip(np.where(np.isfinite(x), x, 0.5), 0.0, 1.0)
    active = np.ones(target.shape, dtype=bool)
    for _ in range(max_iter):
        fx = func(x) - target
        lo = np.where(active & (fx <= 0), x, lo)
        hi = np.where(active & (fx >= 0), x, hi)
        d = deriv(x)
        with np.errstate(divide="ignore", invalid="ignore"):
            nxt = x - fx / d
        bad = ~np.isfinite(nxt) | (nxt < lo) | (nxt > hi)
        nxt = np.where(bad, 0.5 * (lo + hi), nxt)
        small = np.abs(nxt - x) <= xtol * np.maximum(x, 1e-300)
        x = np.where(active, nxt, x)
        active &= ~small & (hi - lo > xtol * np.maximum(x, 1e-300))
        if not active.any():
            break
    return x


def beta_of(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, beta) from (logit mu, log kappa) without overflow in 1 − mu."""
    kappa = np.exp(v)
    return expit(u) * kappa, expit(-u) * kappa
