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
import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import (
    betainc,
    betaincc,
    betainccinv,
    betaincinv,
    betaln,
    digamma,
    gammainc,
    gammaincc,
    gammainccinv,
    gammaincinv,
    gammaln,
    ndtr,
    ndtri,
    polygamma,
)

from hierbayes.errors import AccuracyWarning
from hierbayes.special import log1pmx, log_scaled_rising, stirlerr

__all__ = ["BETA", "GAMMA", "NORMAL", "Conjugate", "gamma_quantiles"]

Params = tuple[np.ndarray, np.ndarray]
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_LOG_TINY = math.log(np.finfo(float).tiny)


def _z(p: np.ndarray) -> np.ndarray:
    """Standard normal quantiles, the upper half by symmetry (1 − p keeps its digits)."""
    p = np.asarray(p, dtype=float)
    return np.where(p <= 0.5, ndtri(p), -ndtri(1.0 - p))


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
    cheap_cdf: bool = False  # one CDF pass costs less than 15 density passes

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

    def ppf(self, p: Params, probs: np.ndarray) -> np.ndarray:
        """Quantiles of theta, broadcast over ``p`` and ``probs`` (upper tail directly)."""
        raise NotImplementedError

    def sample(self, p: Params, rng: np.random.Generator) -> np.ndarray:
        """One draw of theta per element of the broadcast parameters."""
        raise NotImplementedError

    # ---- the quantile scale (hierbayes.mixtures.mixture.QuantileScale) --------------
    # Mixture quantiles are solved on a scale z where the components are smooth
    # and their CDF keeps its digits: theta itself (Beta, Normal) or log theta (Gamma).

    def prepare(self, A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per-component arrays the CDF and the density reuse."""
        raise NotImplementedError

    def cdf(self, z: np.ndarray, aux: tuple[np.ndarray, ...], upper: bool) -> np.ndarray:
        """P(Z ≤ z), or P(Z > z) computed directly with ``upper``, per component."""
        raise NotImplementedError

    def density(self, z: np.ndarray, aux: tuple[np.ndarray, ...]) -> np.ndarray:
        """dP/dz per component."""
        raise NotImplementedError

    def start(self, mean: np.ndarray, sd: np.ndarray, prob: np.ndarray, A: np.ndarray,
              B: np.ndarray, xtol: float) -> tuple[np.ndarray, ...]:
        """``(z0, scale, lo, hi, atol, rtol)`` for each problem: the moment-matched
        distribution's quantile, a typical step, a bracket and the stopping rule."""
        raise NotImplementedError

    def to_x(self, z: np.ndarray) -> np.ndarray:
        """Solutions on the z scale back to theta."""
        return z

    # ---- the order scale (exact P(best), hierbayes.checks.decisions) ------------------
    def order_range(self, A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, ...]:
        """Per component: the 1e-15 and 1 − 1e-15 quantiles on a scale z where the
        density is smooth on the whole line, and the sd there."""
        raise NotImplementedError

    def order_terms(self, z: np.ndarray, A: np.ndarray, B: np.ndarray,
                    upper: bool) -> tuple[np.ndarray, np.ndarray]:
        """log dP/dz at ``z``, and P(theta ≤ x(z)) (P(theta > x(z)) with ``upper``)."""
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
        # theta lies in [0, 1]: beyond it the tails are exactly 0 and 1 (betainc is NaN there)
        x = np.clip(x, 0.0, 1.0)
        return betaincc(p[0], p[1], x) if upper else betainc(p[0], p[1], x)

    def ppf(self, p, probs):
        a, b = p
        return np.where(probs <= 0.5, betaincinv(a, b, probs), betainccinv(a, b, 1.0 - probs))

    def sample(self, p, rng):
        return rng.beta(*p)

    def prepare(self, A, B):
        return A, B, betaln(A, B)

    def order_range(self, A, B):  # z = log-odds of theta
        m = A / (A + B)
        sd = np.sqrt(m * (1 - m) / (A + B + 1.0)) / (m * (1 - m))
        # From shapes of 1e6 the log-odds are normal up to a skewness below 1e-3
        # (sd² = ψ'(A) + ψ'(B)): 12 sd hold the 1e-15 tails; betaincinv would take
        # ~0.4 ms a call there and fails (NaN) from ~1e17.
        large = np.minimum(A, B) >= 1e6
        zlo, zhi = np.empty(np.shape(A)), np.empty(np.shape(A))
        if large.any():
            a, b = A[large], B[large]
            centre = digamma(a) - digamma(b)
            spread = 12.0 * np.sqrt(polygamma(1, a) + polygamma(1, b))
            zlo[large], zhi[large] = centre - spread, centre + spread
        small = ~large
        if small.any():
            a, b = A[small], B[small]
            lo = np.clip(betaincinv(a, b, 1e-15), 1e-300, 1.0 - 1e-16)
            hi = np.clip(betaincinv(a, b, 1.0 - 1e-15), 1e-300, 1.0 - 1e-16)
            zlo[small], zhi[small] = np.log(lo) - np.log1p(-lo), np.log(hi) - np.log1p(-hi)
        return zlo, zhi, sd

    def order_terms(self, z, A, B, upper):
        """log of x^A (1 − x)^B / B(A, B) (the density in z = logit x), for huge A and
        B without cancellation: with m = A/(A + B) it is A·log1pmx((x − m)/m)
        + B·log1pmx((m − x)/(1 − m)) + ½ log(AB/(A + B)) − ½ log 2π
        − (stirlerr(A) + stirlerr(B) − stirlerr(A + B)), every term O(1) (the
        direct form loses |A log x| × 1e-16, which is e^±10^4 at A = 1e20)."""
        A, B, z = np.broadcast_arrays(A, B, z)
        x = 1.0 / (1.0 + np.exp(-z))
        with np.errstate(divide="ignore", invalid="ignore"):
            log_dens = A * np.log(x) + B * np.log1p(-x) - betaln(A, B)  # dx/dz = x(1 − x)
            big = np.minimum(A, B) >= 15.0
            if big.any():
                a, b, xb = A[big], B[big], x[big]
                k = a + b
                m, m1 = a / k, b / k
                log_dens[big] = (a * log1pmx((xb - m) / m) + b * log1pmx((m - xb) / m1)
                                 + 0.5 * (np.log(a) + np.log(m1)) - _HALF_LOG_2PI
                                 - (stirlerr(a) + stirlerr(b) - stirlerr(k)))
        tail = betaincc(A, B, x) if upper else betainc(A, B, x)
        # Shapes past 1e13 (the kappa → ∞ tail of a fit; betainc returns NaN near 1e16):
        # the log-odds are normal, mean ψ(A) − ψ(B), variance ψ'(A) + ψ'(B), up to a
        # skewness below 1e-6.
        # The density too: there theta itself cannot resolve the sd (rounding in
        # x = expit(z) is ~1e-7 of it), while z can.
        huge = np.minimum(A, B) >= 1e13
        if huge.any():
            a, b, zh = A[huge], B[huge], z[huge]
            s = np.sqrt(polygamma(1, a) + polygamma(1, b))
            t = (zh - (digamma(a) - digamma(b))) / s
            tail[huge] = ndtr(-t) if upper else ndtr(t)
            log_dens[huge] = -0.5 * t * t - np.log(s) - _HALF_LOG_2PI
        return log_dens, tail

    def cdf(self, z, aux, upper):
        A, B, _ = aux
        return betaincc(A, B, z) if upper else betainc(A, B, z)

    def density(self, z, aux):
        A, B, lognorm = aux
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.exp((A - 1) * np.log(z) + (B - 1) * np.log1p(-z) - lognorm)

    def start(self, mean, sd, prob, A, B, xtol):
        common = np.maximum(mean * (1 - mean) / np.maximum(sd**2, 1e-300) - 1.0, 1e-12)
        guess = betaincinv(mean * common, (1 - mean) * common, prob)
        z0 = np.clip(np.where(np.isfinite(guess), guess, 0.5), 1e-300, 1.0 - 1e-16)
        return z0, sd, 0.0, 1.0, 0.0, xtol  # relative accuracy in theta

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
        x = np.maximum(x, 0.0)  # theta > 0: below 0 the tails are exactly 1 and 0
        return gammaincc(p[0], p[1] * x) if upper else gammainc(p[0], p[1] * x)

    def ppf(self, p, probs):
        return gamma_quantiles(p[0], p[1], probs)

    def sample(self, p, rng):
        return rng.gamma(p[0], 1.0 / p[1])

    def prepare(self, A, B):
        return A, np.log(A), np.log(B)

    def order_range(self, A, B):  # z = log theta
        lo = np.maximum(gammaincinv(A, 1e-15) / B, 1e-300)
        hi = np.maximum(gammaincinv(A, 1.0 - 1e-15) / B, 1e-300)
        return np.log(lo), np.log(hi), 1.0 / np.sqrt(A)

    def order_terms(self, z, A, B, upper):
        bx = B * np.exp(z)
        log_dens = A * np.log(bx) - bx - gammaln(A)  # dx/dz = x
        return log_dens, gammaincc(A, bx) if upper else gammainc(A, bx)

    def cdf(self, z, aux, upper):
        """P(Gamma(A, rate B) ≤ e^z) (or >), also where B·e^z underflows."""
        A, _, logB = aux
        logr = z + logB
        with np.errstate(over="ignore", under="ignore"):
            r = np.exp(np.minimum(logr, 709.0))
            # Below e^-700, P(A, r) = r^A/Γ(A+1)·(1 + O(r)): the series' first term is exact.
            low = np.exp(np.minimum(A * logr - gammaln(A + 1.0), 0.0))
        tiny = logr < -700.0
        if upper:
            return np.where(tiny, 1.0 - low, gammaincc(A, r))
        return np.where(tiny, low, gammainc(A, r))

    def density(self, z, aux):
        """r·f(r; A) at r = B·e^z for the Gamma(A, 1) density f, without cancellation.

        For A ≥ 15, A log r − r − log Γ(A) = A·log1pmx(r/A − 1) + ½ log A − ½ log 2π
        − stirlerr(A) with r/A − 1 = expm1(z + log B − log A) (Stirling-difference
        form, as in Loader 2000); below, the direct form, which does not cancel
        there and stays finite when r underflows.
        """
        A, logA, logB, z = np.broadcast_arrays(*aux, z)
        logr = z + logB
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            direct = A * logr - np.exp(np.minimum(logr, 709.0)) - gammaln(A)
            s = np.minimum(np.expm1(np.minimum(z + logB - logA, 690.0)), 1e300)
            big = A >= 15.0
            stable = np.full(A.shape, -np.inf)
            stable[big] = (A[big] * log1pmx(s[big]) + 0.5 * logA[big] - _HALF_LOG_2PI
                           - stirlerr(A[big]))
            return np.exp(np.where(big, stable, direct))

    def start(self, mean, sd, prob, A, B, xtol):
        shape = mean**2 / np.maximum(sd**2, 1e-300)
        with np.errstate(under="ignore"):
            r = np.where(prob <= 0.5, gammaincinv(shape, prob), gammainccinv(shape, 1 - prob))
            z0 = np.where(r > 0, np.log(np.where(r > 0, r, 1.0)),
                          (np.log(prob) + gammaln(shape + 1.0)) / shape) + np.log(mean / shape)
        scale = np.sqrt(polygamma(1, shape))  # sd of log theta under the matched Gamma
        return z0, scale, -np.inf, np.inf, xtol, 0.0  # log scale: xtol is relative in theta

    def to_x(self, z):
        return _log_to_x(z)

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

    def ppf(self, p, probs):
        return p[0] + np.sqrt(p[1]) * _z(probs)

    def sample(self, p, rng):
        m, v = np.broadcast_arrays(*p)
        return m + np.sqrt(v) * rng.standard_normal(m.shape)

    def prepare(self, A, B):
        return A, np.maximum(np.sqrt(B), 1e-300)

    def cdf(self, z, aux, upper):
        m, s = aux
        return ndtr((m - z) / s) if upper else ndtr((z - m) / s)

    def density(self, z, aux):
        m, s = aux
        u = (z - m) / s
        return np.exp(-0.5 * u * u) / (s * math.sqrt(2.0 * math.pi))

    def start(self, mean, sd, prob, A, B, xtol):
        # the smallest and largest component quantiles bracket the mixture's
        comp = A + np.maximum(np.sqrt(B), 1e-300) * _z(prob)[None, :]
        lo, hi = comp.min(axis=0), comp.max(axis=0)
        z0 = np.clip(mean + sd * _z(prob), lo, hi)
        return z0, sd, lo, hi, 1e-14 * sd, 1e-14

    def y_moments(self, p, d):
        return p[0], p[1] + np.asarray(d, float) ** 2

    def y_cdf(self, p, k, d):
        m, v = self.y_moments(p, d)
        return ndtr((k - m) / np.sqrt(v))


BETA = _Beta("Beta–Binomial", discrete=True, support=(0.0, 1.0))
GAMMA = _Gamma("Gamma–Poisson", discrete=True, support=(0.0, math.inf))
NORMAL = _Normal("Normal–Normal", discrete=False, cheap_cdf=True)  # the CDF is one ndtr


def gamma_quantiles(A: np.ndarray, B: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Quantiles of Gamma(A, rate B), shape ``broadcast(A, B, probs)``.

    Upper probabilities use ``gammainccinv`` so 1 − p keeps its digits. A
    quantile below the smallest double (tiny shapes) is reported as that
    bound with an :class:`~hierbayes.errors.AccuracyWarning`, never as 0.

    >>> float(gamma_quantiles(np.array(1.0), np.array(1.0), np.array(0.5)).round(12))
    0.69314718056
    """
    A, B, p = np.broadcast_arrays(np.asarray(A, float), np.asarray(B, float), probs)
    with np.errstate(under="ignore"):
        r = np.where(p <= 0.5, gammaincinv(A, p), gammainccinv(A, 1.0 - p))
        logq = np.where(r > 0, np.log(np.where(r > 0, r, 1.0)),
                        (np.log(p) + gammaln(A + 1.0)) / A) - np.log(B)
    return _log_to_x(logq)


def _log_to_x(logq: np.ndarray) -> np.ndarray:
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
