"""The conjugate group level of each family behind one small interface (MODEL.md §3–5).

Model checking and prediction (:mod:`hierbayes.checks.predictive`,
:mod:`hierbayes.checks.decisions`) need the same few operations in every family: the
distribution of one group's theta at a hyperparameter point ("its prior"),
the update of that distribution by the group's data, the marginal (prior
predictive) probability of the data, and tail probabilities and moments of
theta and of new data. Each family supplies them here, for arrays of
components that broadcast against arrays of groups; the algorithms are then
written once.

Parameters are tuples of arrays: ``(a, b)`` for Beta(a, b) and Gamma(a, rate
b), ``(m, v)`` for Normal(m, v). The *design* of a group is its number of
trials, its exposure, or its standard error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import (
    betainc,
    betaincc,
    betainccinv,
    betaincinv,
    betaln,
    gammainc,
    gammaincc,
    gammaln,
    ndtr,
)

from hierbayes.special import log_scaled_rising

__all__ = ["BETA", "GAMMA", "NORMAL", "Conjugate"]

Params = tuple[np.ndarray, np.ndarray]


def _log_rising(x: np.ndarray, k: np.ndarray) -> np.ndarray:
    """log Γ(x + k) − log Γ(x) without cancellation for large x, broadcast."""
    x, k = np.broadcast_arrays(np.asarray(x, float), np.asarray(k, float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return log_scaled_rising(x, k) + np.where(k > 0, k * np.log(x), 0.0)


@dataclass(frozen=True)
class Conjugate:
    """Operations of one family's conjugate pair (see the module docstring)."""

    name: str
    discrete: bool
    support: tuple[float, float] = (-math.inf, math.inf)  # of theta

    def update(self, p: Params, y: np.ndarray, d: np.ndarray) -> Params:
        """The distribution of theta after observing ``y`` with design ``d``."""
        raise NotImplementedError

    def downdate(self, p: Params, y: np.ndarray, d: np.ndarray) -> Params:
        """Inverse of :meth:`update`: remove one observation from a posterior."""
        raise NotImplementedError

    def log_marginal(self, p: Params, y: np.ndarray, d: np.ndarray) -> np.ndarray:
        """log p(y | theta ~ p): a log pmf (counts) or log density (estimates)."""
        raise NotImplementedError

    def theta_tail(self, p: Params, x: np.ndarray, upper: bool) -> np.ndarray:
        """P(theta > x) if ``upper`` else P(theta ≤ x), each computed directly."""
        raise NotImplementedError

    def theta_moments(self, p: Params) -> Params:
        """Mean and variance of theta."""
        raise NotImplementedError

    def y_moments(self, p: Params, d: np.ndarray) -> Params:
        """Mean and variance of new data with design ``d``."""
        raise NotImplementedError

    def y_cdf(self, p: Params, k: np.ndarray, d: np.ndarray) -> np.ndarray:
        """P(y_new ≤ k) for new data with design ``d``."""
        raise NotImplementedError

    def y_logpmf_range(self, p: Params, k_max: int, d: float) -> np.ndarray:
        """log P(y_new = k) for k = 0..k_max, shape (components, k_max + 1).

        From the exact value at 0 by the ratio recursion of the pmf, so a
        whole support costs one logarithm per point.
        """
        a, b = (np.asarray(x, float)[:, None] for x in p)
        k = np.arange(k_max, dtype=float)[None, :]
        first = self.log_marginal((a, b), np.zeros((1, 1)), np.full((1, 1), d))
        with np.errstate(divide="ignore"):
            steps = self._log_ratio(a, b, k, d)
        return np.concatenate([first, first + np.cumsum(steps, axis=1)], axis=1)


class _Beta(Conjugate):
    def update(self, p, y, d):
        return p[0] + y, p[1] + (d - y)

    def downdate(self, p, y, d):
        return p[0] - y, p[1] - (d - y)

    def log_marginal(self, p, y, d):
        a0, b0 = (np.asarray(x, float) for x in p)
        y, d = np.asarray(y, float), np.asarray(d, float)
        m = d - y
        # a or b that underflowed to 0 (far grid points): Beta(0, b) is a point mass at 0
        a, b = np.where(a0 > 0, a0, 1.0), np.where(b0 > 0, b0, 1.0)
        log_choose = gammaln(d + 1.0) - gammaln(y + 1.0) - gammaln(m + 1.0)
        # log B(a + y, b + m) − log B(a, b) = D(a, y) + D(b, m) − D(a + b, d)
        #   + y log(a/(a+b)) + m log(b/(a+b)): no cancellation for huge a + b
        with np.errstate(divide="ignore", invalid="ignore"):
            kappa = a + b
            lmu = np.where(y > 0, y * (np.log(a) - np.log(kappa)), 0.0)
            lnu = np.where(m > 0, m * (np.log(b) - np.log(kappa)), 0.0)
        out = (log_choose + log_scaled_rising(*np.broadcast_arrays(a, y))
               + log_scaled_rising(*np.broadcast_arrays(b, m))
               - log_scaled_rising(*np.broadcast_arrays(kappa, d)) + lmu + lnu)
        at_zero = np.where(y == 0, 0.0, -np.inf)
        at_one = np.where(m == 0, 0.0, -np.inf)
        out = np.where(a0 > 0, out, np.where(b0 > 0, at_zero, np.maximum(at_zero, at_one)))
        return np.where((b0 > 0) | (a0 == 0), out, at_one)

    def theta_tail(self, p, x, upper):
        return betaincc(p[0], p[1], x) if upper else betainc(p[0], p[1], x)

    def theta_moments(self, p):
        a, b = p
        k = a + b
        mean = a / k
        return mean, mean * (b / k) / (k + 1.0)

    def y_moments(self, p, d):
        a, b = p
        k = a + b
        mean = d * a / k
        return mean, d * (a / k) * (b / k) * (k + d) / (k + 1.0)

    def y_cdf(self, p, k, d):
        """P(Y ≤ k) = P(theta < V) with V ~ Beta(k + 1, d − k) independent of theta
        (the binomial–beta order-statistic identity), integrated over the narrower
        of theta and V in normal scores, where the integrand is smooth: the
        trapezoid rule converges geometrically and costs the same at any d."""
        a, b = (np.asarray(x, float) for x in p)
        k = np.floor(np.asarray(k, float))
        if k < 0:
            return np.zeros_like(a)
        if k >= d:
            return np.ones_like(a)
        ka, kb = k + 1.0, d - k
        var_t = a * b / ((a + b) ** 2 * (a + b + 1.0))
        var_v = ka * kb / ((ka + kb) ** 2 * (ka + kb + 1.0))
        z = np.arange(-8.5, 8.5 + 1e-9, 0.125)
        wz = 0.125 * stats.norm.pdf(z)
        u, uc = stats.norm.cdf(z), stats.norm.sf(z)
        v_narrow = var_v <= var_t  # then integrate over V: E_V[F_theta(V)]
        out = np.empty(a.shape)
        if np.any(v_narrow):
            qv = np.where(u <= 0.5, betaincinv(ka, kb, u), betainccinv(ka, kb, uc))
            out[v_narrow] = betainc(a[v_narrow, None], b[v_narrow, None], qv[None, :]) @ wz
        narrow = ~v_narrow & (np.minimum(a, b) < 20.0)
        if np.any(narrow):  # 1 − E_theta[F_V(theta)], theta in normal scores
            aw, bw = a[narrow, None], b[narrow, None]
            qt = np.where(u[None, :] <= 0.5, betaincinv(aw, bw, u[None, :]),
                          betainccinv(aw, bw, uc[None, :]))
            out[narrow] = betaincc(ka, kb, qt) @ wz
        near_normal = ~v_narrow & ~narrow
        if np.any(near_normal):  # a, b ≥ 20: theta within 12 sd of its mean, pdf exact
            aw, bw = a[near_normal, None], b[near_normal, None]
            mean, sd = aw / (aw + bw), np.sqrt(var_t[near_normal])[:, None]
            x = np.clip(mean + sd * np.arange(-12.0, 12.0 + 1e-9, 0.125)[None, :], 0.0, 1.0)
            with np.errstate(divide="ignore"):
                logpdf = ((aw - 1.0) * np.log(x) + (bw - 1.0) * np.log1p(-x)
                          - (betaln(aw, bw)))
            wx = np.exp(logpdf - logpdf.max(axis=1, keepdims=True))
            wx /= wx.sum(axis=1, keepdims=True)
            out[near_normal] = np.sum(wx * betaincc(ka, kb, x), axis=1)
        return np.clip(out, 0.0, 1.0)

    @staticmethod
    def _log_ratio(a, b, k, d):  # log P(k+1)/P(k), k < d
        return np.log((d - k) / (k + 1.0)) + np.log((a + k) / (b + d - k - 1.0))


class _Gamma(Conjugate):
    def update(self, p, y, d):
        return p[0] + y, p[1] + d

    def downdate(self, p, y, d):
        return p[0] - y, p[1] - d

    def log_marginal(self, p, y, d):
        a0, b = (np.asarray(x, float) for x in p)
        y, d = np.asarray(y, float), np.asarray(d, float)
        a = np.where(a0 > 0, a0, 1.0)  # a shape that underflowed: a point mass at 0
        with np.errstate(divide="ignore", invalid="ignore"):
            # Γ(y+a)/(Γ(a) y!) (b/(b+t))^a (t/(b+t))^y; b = 0 (an improper prior) gives 0
            log_q = np.where(y > 0, y * (np.log(d) - np.log(b + d)), 0.0)
            out = _log_rising(a, y) - gammaln(y + 1.0) - a * np.log1p(d / b) + log_q
        out = np.where(a0 > 0, out, np.where(y == 0, 0.0, -np.inf))
        return np.where(b > 0, out, -np.inf)

    def theta_tail(self, p, x, upper):
        return gammaincc(p[0], p[1] * x) if upper else gammainc(p[0], p[1] * x)

    def theta_moments(self, p):
        a, b = p
        return a / b, a / b**2

    def y_moments(self, p, d):
        a, b = p
        mean = a * d / b
        return mean, mean * (b + d) / b

    def y_cdf(self, p, k, d):
        a, b = p
        return stats.nbinom.cdf(k, a, b / (b + d))

    @staticmethod
    def _log_ratio(a, b, k, d):  # log P(k+1)/P(k)
        return np.log((a + k) / (k + 1.0)) + (np.log(d) - np.log(b + d))


class _Normal(Conjugate):
    def update(self, p, y, d):
        m, v = p
        s2 = np.asarray(d, float) ** 2
        with np.errstate(invalid="ignore"):
            shrink = np.where(np.isinf(v), 0.0, s2 / (s2 + v))  # weight on the prior mean
            keep = np.where(np.isinf(v), 1.0, v / (s2 + v))
        return y + shrink * (np.where(np.isinf(v), 0.0, m) - y), s2 * keep

    def downdate(self, p, y, d):
        m, v = p
        r = np.asarray(d, float) ** 2
        with np.errstate(divide="ignore", invalid="ignore"):
            prec = 1.0 / v - 1.0 / r
            v_new = np.where(v == 0, 0.0, np.where(prec > 0, 1.0 / prec, np.inf))
            m_new = np.where(v == 0, m, np.where(prec > 0, (m / v - y / r) * v_new, 0.0))
        return m_new, v_new

    def log_marginal(self, p, y, d):
        m, v = p
        var = v + np.asarray(d, float) ** 2
        with np.errstate(invalid="ignore"):
            out = -0.5 * (np.log(2.0 * math.pi * var) + (y - m) ** 2 / var)
        return np.where(np.isinf(var), -np.inf, out)

    def theta_tail(self, p, x, upper):
        m, v = p
        z = (x - m) / np.sqrt(v)
        return ndtr(-z) if upper else ndtr(z)

    def theta_moments(self, p):
        return p

    def y_moments(self, p, d):
        return p[0], p[1] + np.asarray(d, float) ** 2

    def y_cdf(self, p, k, d):
        m, v = self.y_moments(p, d)
        return ndtr((k - m) / np.sqrt(v))


BETA = _Beta("Beta–Binomial", discrete=True, support=(0.0, 1.0))
GAMMA = _Gamma("Gamma–Poisson", discrete=True, support=(0.0, math.inf))
NORMAL = _Normal("Normal–Normal", discrete=False)
