r"""Two scipy distribution families that scipy lacks: half-Student-t and log-Student-t.

Both are :class:`scipy.stats.rv_continuous` instances, so a call returns an
ordinary frozen distribution with ``pdf``, ``logpdf``, ``cdf``, ``sf``,
``ppf``, ``isf`` and ``rvs``, like ``scipy.stats.halfnorm``.

* ``half_t(df, scale=s)``: :math:`|T|` scaled by ``s``, :math:`T \sim t_{df}`.
  The CDF is the regularised incomplete beta function
  :math:`P(|T| \le x) = I_{x^2/(df + x^2)}(1/2, df/2)`, accurate in both tails.
* ``log_t(df, sigma, scale=exp(m))``: :math:`\exp(m + \sigma T)`,
  :math:`T \sim t_{df}`; the log of the variable is Student-t with location
  ``m`` and scale ``sigma``. All its moments are infinite.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

__all__ = ["half_t", "log_t"]


class _HalfTGen(stats.rv_continuous):
    r"""Half-Student-t distribution with ``df`` degrees of freedom.

    Density :math:`2\,t_{df}(x)` for :math:`x \ge 0`. ``df = 1`` is the
    half-Cauchy distribution; ``df`` to infinity gives the half-normal.
    """

    def _pdf(self, x: np.ndarray, df: np.ndarray) -> np.ndarray:
        return 2.0 * stats.t.pdf(x, df)

    def _logpdf(self, x: np.ndarray, df: np.ndarray) -> np.ndarray:
        return np.log(2.0) + stats.t.logpdf(x, df)

    # P(|T| <= x) = I_z(1/2, df/2) with z = x²/(df + x²), and 1 - z = df/(df + x²): each tail
    # is computed from whichever of z and 1 - z is small, so no digits are lost to rounding.
    def _cdf(self, x: np.ndarray, df: np.ndarray) -> np.ndarray:
        near = x * x < df
        return np.where(
            near,
            special.betainc(0.5, 0.5 * df, x * x / (df + x * x)),
            special.betaincc(0.5 * df, 0.5, df / (df + x * x)),
        )

    def _sf(self, x: np.ndarray, df: np.ndarray) -> np.ndarray:
        near = x * x < df
        return np.where(
            near,
            special.betaincc(0.5, 0.5 * df, x * x / (df + x * x)),
            special.betainc(0.5 * df, 0.5, df / (df + x * x)),
        )

    # Quantiles: below the median invert the CDF's beta form, above it the survival
    # function's; x²/(df + x²) (or its complement) near 1 would lose the digits that matter.
    @staticmethod
    def _from_cdf(p: np.ndarray, df: np.ndarray) -> np.ndarray:
        z = special.betaincinv(0.5, 0.5 * df, p)
        return np.sqrt(df * z / (1.0 - z))

    @staticmethod
    def _from_sf(q: np.ndarray, df: np.ndarray) -> np.ndarray:
        u = special.betaincinv(0.5 * df, 0.5, q)
        return np.sqrt(df * (1.0 - u) / u)

    def _ppf(self, q: np.ndarray, df: np.ndarray) -> np.ndarray:
        low = q < 0.5
        return np.where(
            low,
            self._from_cdf(np.where(low, q, 0.25), df),
            self._from_sf(np.where(low, 0.25, 1.0 - q), df),
        )

    def _isf(self, q: np.ndarray, df: np.ndarray) -> np.ndarray:
        low = q < 0.5
        return np.where(
            low,
            self._from_sf(np.where(low, q, 0.25), df),
            self._from_cdf(np.where(low, 0.25, 1.0 - q), df),
        )

    def _stats(self, df: np.ndarray) -> tuple:
        df = np.asarray(df, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = special.poch(0.5 * df, 0.5)  # Γ((df + 1)/2) / Γ(df/2)
            mean = np.where(df > 1.0, 2.0 * np.sqrt(df / np.pi) * ratio / (df - 1.0), np.inf)
            var = np.where(df > 2.0, df / (df - 2.0) - mean**2, np.inf)
        return mean, var, None, None


class _LogTGen(stats.rv_continuous):
    r"""Log-Student-t: :math:`\exp(\sigma T)`, :math:`T \sim t_{df}`; ``scale`` is :math:`e^m`.

    Density :math:`t_{df}(\log(x)/\sigma) / (\sigma x)` for :math:`x > 0`.
    """

    def _logpdf(self, x: np.ndarray, df: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        lx = np.log(x)
        return stats.t.logpdf(lx / sigma, df) - np.log(sigma) - lx

    def _pdf(self, x: np.ndarray, df: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        return np.exp(self._logpdf(x, df, sigma))

    def _cdf(self, x: np.ndarray, df: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        return stats.t.cdf(np.log(x) / sigma, df)

    def _sf(self, x: np.ndarray, df: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        return stats.t.sf(np.log(x) / sigma, df)

    def _ppf(self, q: np.ndarray, df: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        return np.exp(sigma * stats.t.ppf(q, df))

    def _isf(self, q: np.ndarray, df: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        return np.exp(sigma * stats.t.isf(q, df))

    def _stats(self, df: np.ndarray, sigma: np.ndarray) -> tuple:
        inf = np.full(np.shape(df), np.inf)
        return inf, inf, np.nan, np.nan


half_t = _HalfTGen(a=0.0, name="halft")
log_t = _LogTGen(a=0.0, name="logt")
