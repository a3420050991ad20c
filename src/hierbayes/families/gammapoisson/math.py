"""Gamma–Poisson mathematics: collapsed likelihood, conditionals, mixtures (MODEL.md §5).

Pure NumPy/SciPy on arrays; no pandas. Coordinates: ``u = log(alpha/beta)``
(the log population mean rate), ``v = log(alpha)`` (log shape);
``alpha = e^v``, ``beta = e^(v − u)``, ``t/beta = t·e^(u − v)``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.special import gammainc, gammaincc, gammainccinv, gammaincinv, gammaln, polygamma

from hierbayes.data.columns import distinct_pairs
from hierbayes.errors import AccuracyWarning
from hierbayes.mixtures.mixture import solve_mixture
from hierbayes.special import log1pmx, log_scaled_rising, stirlerr

__all__ = [
    "NegBinLikelihood",
    "conditional_moments",
    "gamma_quantiles",
    "mixture_quantiles",
    "params_of",
]

_CHUNK = 1 << 20  # elements per temporary block
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_TINY = math.log(np.finfo(float).tiny)
PATHS = ("auto", "counts", "unique", "pairs")


def params_of(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, beta) from (log mean, log shape)."""
    return np.exp(v), np.exp(v - u)


@dataclass(frozen=True)
class NegBinLikelihood:
    """log p(y | alpha, beta) with theta integrated out (negative binomial), up to a constant.

    Per group, with D(x, k) = log Γ(x + k) − log Γ(x) − k log x = Σ_{i<k} log(1 + i/x),

        log p(y_j | alpha, beta) = D(alpha, y_j) + y_j·u − (y_j + alpha)·log1p(t_j/beta)
                                   + [y_j log t_j − log y_j!],

    which is the log-gamma form of MODEL.md §5 rewritten so that nothing
    cancels as alpha → ∞ (it tends to the Poisson log likelihood of the
    common rate e^u). The bracket is the constant ``log_const``. Three
    evaluation paths, all exact:

    * ``counts`` (J-independent): Σ_j D(alpha, y_j) = Σ_k S[k]·log1p(k/alpha) with
      S[k] = #{j : y_j > k}, plus the exposure terms over the distinct
      exposures τ_e, Σ_e (Y_e + c_e·alpha)·log1p(τ_e/beta) (Y_e: summed counts,
      c_e: number of groups); cost O(max y + #exposures) per point;
    * ``unique``: D by :func:`~hierbayes.special.log_scaled_rising` on the
      distinct counts (with multiplicities), exposure terms as above;
      cost O(#counts + #exposures), for large counts;
    * ``pairs``: everything on the distinct (count, exposure) pairs.

    ``auto`` picks ``counts`` or ``unique``, whichever is cheaper.
    """

    path: str
    s_y: np.ndarray
    uy: np.ndarray
    my: np.ndarray
    ut: np.ndarray
    ct: np.ndarray
    yt: np.ndarray
    py: np.ndarray
    pt: np.ndarray
    pm: np.ndarray
    total_y: float
    log_const: float
    offset: Any = 0.0

    @classmethod
    def from_counts(
        cls, counts: np.ndarray, exposure: np.ndarray, path: str = "auto"
    ) -> NegBinLikelihood:
        """Reduce per-group counts and exposures to the statistics of every path.

        Examples
        --------
        >>> lik = NegBinLikelihood.from_counts(np.array([0, 3, 3]), np.array([1.0, 2.0, 2.0]))
        >>> lik.path, lik.s_y.tolist(), lik.ut.tolist(), lik.yt.tolist()
        ('counts', [2.0, 2.0, 2.0], [1.0, 2.0], [0.0, 6.0])
        """
        if path not in PATHS:
            raise ValueError(f"`path` must be one of {', '.join(map(repr, PATHS))}; got {path!r}.")
        y = np.asarray(counts, dtype=np.int64)
        t = np.asarray(exposure, dtype=float)
        uy, my = np.unique(y, return_counts=True)
        ut, t_code, ct = np.unique(t, return_inverse=True, return_counts=True)
        t_code = t_code.reshape(-1)
        yt = np.bincount(t_code, weights=y.astype(float), minlength=ut.size)
        py, pcode, _, pm = distinct_pairs(y, t_code)
        kmax = int(y.max(initial=0))
        if path == "auto":
            # log_scaled_rising costs about six log1p's per distinct count
            path = "counts" if kmax <= min(6 * uy.size, 50_000) else "unique"
        s_y = np.zeros(0)
        if path == "counts":
            c = np.bincount(y, minlength=kmax + 1)
            s_y = (c.sum() - np.cumsum(c))[:kmax].astype(float)
        log_const = float(np.sum(pm * (py * np.log(ut[pcode]) - gammaln(py + 1.0))))
        return cls(
            path=path,
            s_y=s_y,
            uy=uy.astype(float),
            my=my.astype(float),
            ut=ut,
            ct=ct.astype(float),
            yt=yt,
            py=py.astype(float),
            pt=ut[pcode],
            pm=pm.astype(float),
            total_y=float(y.sum(dtype=float)),
            log_const=log_const,
        )

    def centred(self, u: float, v: float) -> NegBinLikelihood:
        """The same likelihood minus its value at (u, v), with ``log_const`` adjusted.

        Summed over a million groups log p is ~1e6, whose last bit is ~1e-10: a
        noise floor for the posterior weights. The ``counts`` path and the
        exposure terms are accumulated in extended precision (where the platform
        has it) and the reference value subtracted before rounding, so that the
        log density near the mode is known to ~1e-16 of its own size.
        """
        ref = self._eval(np.array([float(u)]), np.array([float(v)]))[0]
        return replace(self, offset=ref, log_const=self.log_const + float(ref))

    def __call__(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Evaluate at points (u, v) of any matching shape."""
        u, v = np.broadcast_arrays(np.asarray(u, float), np.asarray(v, float))
        shape = u.shape
        u, v = u.ravel(), v.ravel()
        out = np.empty(u.size)
        width = max(self.s_y.size + self.ut.size, self.uy.size + self.ut.size, self.py.size, 1)
        step = max(1, _CHUNK // width)
        for i in range(0, u.size, step):
            sl = slice(i, i + step)
            out[sl] = (self._eval(u[sl], v[sl]) - self.offset).astype(float)
        return out.reshape(shape)

    def _eval(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Unshifted log likelihood, in extended precision (numpy.longdouble)."""
        ld = np.longdouble
        u_, v_ = u.astype(ld), v.astype(ld)
        alpha = np.exp(v_)
        x = np.exp(u_ - v_)[:, None]  # 1/beta
        if self.path == "pairs":
            e = np.log1p(self.pt.astype(ld)[None, :] * x)
            d = log_scaled_rising(alpha.astype(float)[:, None], self.py[None, :]).astype(ld)
            py = self.py.astype(ld)[None, :]
            terms = d + py * u_[:, None] - (py + alpha[:, None]) * e
            return terms @ self.pm.astype(ld)
        if self.path == "counts":
            k = np.arange(self.s_y.size, dtype=ld)
            d = np.log1p(k[None, :] * np.exp(-v_)[:, None]) @ self.s_y.astype(ld)
        else:
            d = (log_scaled_rising(alpha.astype(float)[:, None], self.uy[None, :]) @ self.my
                 ).astype(ld)
        e = np.log1p(self.ut.astype(ld)[None, :] * x)
        return (d + ld(self.total_y) * u_ - e @ self.yt.astype(ld)
                - alpha * (e @ self.ct.astype(ld)))


def conditional_moments(
    y: np.ndarray, t: np.ndarray, alpha: np.ndarray, beta: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact mixture mean, sd and mean shrinkage of theta for each (y, t).

    theta | y, t, alpha, beta ~ Gamma(alpha + y, rate beta + t). ``alpha``,
    ``beta``, ``weight`` are the hyperposterior points (1-d). The variance
    uses the law of total variance (no ``E[θ²] − E[θ]²`` cancellation).

    Returns
    -------
    mean, sd, shrinkage : numpy.ndarray
        Shrinkage is E[beta/(beta + t)], the weight on the population mean.

    Examples
    --------
    >>> m, s, b = conditional_moments(np.array([3]), np.array([2.0]), np.array([1.0]),
    ...                               np.array([2.0]), np.ones(1))
    >>> float(m[0]), float(s[0]), float(b[0])  # Gamma(4, rate 4)
    (1.0, 0.5, 0.5)
    """
    y = np.asarray(y, float)
    t = np.asarray(t, float)
    mean = np.empty(y.size)
    sd = np.empty(y.size)
    shrink = np.empty(y.size)
    step = max(1, _CHUNK // max(alpha.size, 1))
    for i in range(0, y.size, step):
        sl = slice(i, i + step)
        A = y[sl][None, :] + alpha[:, None]
        B = t[sl][None, :] + beta[:, None]
        cm = A / B
        cv = cm / B
        mu_ = weight @ cm
        var = weight @ cv + weight @ (cm - mu_) ** 2
        mean[sl] = mu_
        sd[sl] = np.sqrt(var)
        shrink[sl] = weight @ (beta[:, None] / B)
    return mean, sd, shrink


def _log_rdensity(A: np.ndarray, logA: np.ndarray, logB: np.ndarray, z: np.ndarray) -> np.ndarray:
    """log of r·f(r; A) at r = B·e^z for the Gamma(A, 1) density f, without cancellation.

    For A ≥ 15, A log r − r − log Γ(A) = A·log1pmx(r/A − 1) + ½ log A − ½ log 2π − stirlerr(A)
    with r/A − 1 = expm1(z + log B − log A) (Stirling-difference form, as in Loader 2000);
    below, the direct form, which does not cancel there and stays finite when r underflows.
    """
    A, logA, logB, z = np.broadcast_arrays(A, logA, logB, z)
    logr = z + logB
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        direct = A * logr - np.exp(np.minimum(logr, 709.0)) - gammaln(A)
        s = np.minimum(np.expm1(np.minimum(z + logB - logA, 690.0)), 1e300)
        big = A >= 15.0
        stable = np.full(A.shape, -np.inf)
        stable[big] = (
            A[big] * log1pmx(s[big]) + 0.5 * logA[big] - _HALF_LOG_2PI - stirlerr(A[big])
        )
    return np.where(big, stable, direct)


def _gamma_cdf(A: np.ndarray, logB: np.ndarray, z: np.ndarray, upper: bool) -> np.ndarray:
    """P(Gamma(A, rate B) ≤ e^z) (or > with ``upper``), also where B·e^z underflows."""
    logr = z + logB
    with np.errstate(over="ignore", under="ignore"):
        r = np.exp(np.minimum(logr, 709.0))
    tiny = logr < -700.0
    # Below e^-700, P(A, r) = r^A/Γ(A+1)·(1 + O(r)): the series' first term is exact.
    with np.errstate(under="ignore", over="ignore"):
        low = np.exp(np.minimum(A * logr - gammaln(A + 1.0), 0.0))
    if upper:
        return np.where(tiny, 1.0 - low, gammaincc(A, r))
    return np.where(tiny, low, gammainc(A, r))


def gamma_quantiles(A: np.ndarray, B: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Quantiles of Gamma(A, rate B), shape ``broadcast(A, B, probs)``.

    Upper probabilities use ``gammainccinv`` so 1 − p keeps its digits. A
    quantile below the smallest double (tiny shapes) is reported as that
    bound with an :class:`~hierbayes.errors.AccuracyWarning`, never as 0.
    """
    A, B, p = np.broadcast_arrays(np.asarray(A, float), np.asarray(B, float), probs)
    with np.errstate(under="ignore"):
        r = np.where(p <= 0.5, gammaincinv(A, p), gammainccinv(A, 1.0 - p))
        logq = np.where(r > 0, np.log(np.where(r > 0, r, 1.0)),
                        (np.log(p) + gammaln(A + 1.0)) / A) - np.log(B)
    return _to_x(logq)


def _to_x(logq: np.ndarray) -> np.ndarray:
    low = logq < _LOG_TINY
    if np.any(low):
        warnings.warn(
            f"{int(np.sum(low))} posterior quantile(s) lie below the smallest positive double "
            f"(log quantile down to {float(np.min(logq)):.4g}); they are reported as "
            f"{np.finfo(float).tiny:.3g}, an upper bound. Use fit.quantiles on a coarser "
            "probability or a prior with less mass at tiny shapes.",
            AccuracyWarning,
            stacklevel=4,
        )
    return np.where(low, np.finfo(float).tiny, np.exp(np.maximum(logq, _LOG_TINY)))


def mixture_quantiles(
    y: np.ndarray,
    t: np.ndarray,
    alpha: np.ndarray,
    beta: np.ndarray,
    weight: np.ndarray,
    probs: np.ndarray,
    mean: np.ndarray,
    sd: np.ndarray,
    *,
    xtol: float = 1e-12,
) -> np.ndarray:
    """Quantiles of the mixtures Σ_g w_g Gamma(y + alpha_g, rate t + beta_g), shape (pairs, probs).

    Solved on the log scale z = log θ by :func:`hierbayes.mixtures.mixture.solve_mixture`
    (CDF by ``gammainc``/``gammaincc``, density in the Stirling-difference form
    so that huge shapes lose nothing), starting from the quantile of the
    moment-matched Gamma; ``xtol`` is the relative accuracy in θ. On the log
    scale quantiles far below the smallest double can be found; they are
    reported as that bound, with a warning.
    """
    y = np.asarray(y, float)
    t = np.asarray(t, float)
    probs = np.asarray(probs, float)
    out = np.empty((y.size, probs.size))
    step = max(1, _CHUNK // max(alpha.size * probs.size * 8, 1))
    for i in range(0, y.size, step):
        sl = slice(i, i + step)
        npair = y[sl].size
        pair = np.repeat(np.arange(npair), probs.size)
        prob = np.tile(probs, npair)
        A = y[sl][pair][None, :] + alpha[:, None]  # (components, problems)
        B = t[sl][pair][None, :] + beta[:, None]
        logA, logB = np.log(A), np.log(B)
        mu = mean[sl][pair]
        shape = mu**2 / np.maximum(sd[sl][pair] ** 2, 1e-300)
        with np.errstate(under="ignore"):
            r = np.where(prob <= 0.5, gammaincinv(shape, prob), gammainccinv(shape, 1 - prob))
            z0 = np.where(r > 0, np.log(np.where(r > 0, r, 1.0)),
                          (np.log(prob) + gammaln(shape + 1.0)) / shape) + np.log(mu / shape)
        scale = np.sqrt(polygamma(1, shape))  # sd of log θ under the matched Gamma

        def cdf(z, k, A=A, logB=logB):
            return weight @ _gamma_cdf(A[:, k], logB[:, k], z[None, :], upper=False)

        def sf(z, k, A=A, logB=logB):
            return weight @ _gamma_cdf(A[:, k], logB[:, k], z[None, :], upper=True)

        def density(z, k, A=A, logA=logA, logB=logB):
            lp = _log_rdensity(A[:, k], logA[:, k], logB[:, k], z[..., None, :])
            with np.errstate(under="ignore"):
                return np.einsum("g,...gk->...k", weight, np.exp(lp))

        z = solve_mixture(cdf, sf, density, prob, z0, scale, atol=xtol)
        out[sl] = z.reshape(npair, probs.size)
    return _to_x(out)
