"""Gamma–Poisson mathematics: collapsed likelihood, conditionals, mixtures (MODEL.md §5).

Pure NumPy/SciPy on arrays; no pandas. Coordinates: ``u = log(alpha/beta)``
(the log population mean rate), ``v = log(alpha)`` (log shape);
``alpha = e^v``, ``beta = e^(v − u)``, ``t/beta = t·e^(u − v)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from scipy.special import gammaln

from hierbayes.data.columns import distinct_pairs
from hierbayes.special import log_scaled_rising

__all__ = [
    "NegBinLikelihood",
    "conditional_moments",
    "params_of",
]

_CHUNK = 1 << 20  # elements per temporary block
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
