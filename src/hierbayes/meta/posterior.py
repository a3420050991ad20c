r"""Posterior quantities of a random-effects meta-analysis: pure NumPy/SciPy.

The hyperposterior is the tau grid of the Normal–Normal fit: nodes
:math:`\tau_k` with weights :math:`w_k` (summing to 1) and, at each node, the
conditional posterior :math:`\mu \mid \tau_k, y \sim N(m_k, V_k)` with mu
integrated out in closed form (MODEL.md §4). Then

* :math:`p(\mu \mid y) = \sum_k w_k\, N(\mu;\, m_k, V_k)`;
* a new study's effect :math:`\theta_{new} \mid \mu, \tau \sim N(\mu, \tau^2)`, so
  :math:`p(\theta_{new} \mid y) = \sum_k w_k\, N(\theta;\, m_k, V_k + \tau_k^2)`;
* :math:`I^2 = \tau^2/(\tau^2 + s^2)` and :math:`H^2 = (\tau^2 + s^2)/s^2`, with
  Higgins & Thompson's (2002) typical within-study variance :math:`s^2`, are
  increasing functions of tau: their quantiles are those of tau, transformed.

Every marginal is held as a :class:`Tabulated` distribution: its exact
(unnormalised) log density on a fine table, integrated by a cubic spline,
inverted by Newton steps on the cubic Hermite interpolant of the CDF with the
exact density as its slope. Shortest intervals: the interval of mass ``prob``
with the least width, found by minimising ``ppf(a + prob) - ppf(a)`` over the
lower tail mass ``a``; for a unimodal density it is the highest-density
interval (bayesmeta's default interval type; Röver 2020, J Stat Softw 93(6)).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.special import ndtr

from hierbayes.mixtures.solve import invert_hermite

__all__ = [
    "Tabulated",
    "mixture_pdf",
    "mixture_sf",
    "posterior_weights",
    "shortest_interval",
]

_ROUNDS = 3  # zoom rounds of the width minimisation: (1 - prob) / 256**3 ≈ 3e-9 in mass
_POINTS = 257


class Tabulated:
    """A continuous distribution from its exact log density on an increasing table.

    The density is normalised by its cubic-spline integral over the table. The
    density must be smooth on the table and negligible at both of its ends (a
    density that starts non-smoothly at an edge, like x^1.5, costs digits in
    the first cells); the meta-analysis tables are in coordinates where this
    holds (mu, theta_new, and log tau). The CDF at the table points is
    that spline's antiderivative, and between them the cubic Hermite
    interpolant with the exact density as slope (error of order step⁴ times
    the third derivative of the density).

    >>> from scipy import stats
    >>> x = np.linspace(-12.0, 12.0, 2001)
    >>> t = Tabulated(x, stats.norm.logpdf(x))
    >>> abs(float(t.ppf(np.array([0.975]))[0]) - 1.959963985) < 1e-9
    True
    """

    def __init__(self, x: np.ndarray, logpdf: np.ndarray) -> None:
        x = np.asarray(x, dtype=float)
        f = np.exp(logpdf - np.max(logpdf))
        cdf = CubicSpline(x, f).antiderivative()(x)
        total = float(cdf[-1])
        self.x, self.pdf, self.cdf = x, f / total, np.maximum.accumulate(cdf / total)

    def ppf(self, p: np.ndarray) -> np.ndarray:
        """Quantiles (vectorised); ``p`` beyond the table's mass gives its end points."""
        p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
        return invert_hermite(self.x, self.cdf, self.pdf, p, iterations=4)


def mixture_pdf(x: np.ndarray, means: np.ndarray, sds: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Density of Σ_k w_k Normal(means_k, sds_k²) at the points x.

    >>> float(mixture_pdf(np.array([0.0]), np.array([0.0]), np.array([1.0]), np.array([1.0]))[0])
    0.3989422804014327
    """
    x = np.atleast_1d(np.asarray(x, dtype=float))
    z = (x[:, None] - means[None, :]) / sds[None, :]
    return (np.exp(-0.5 * z * z) / (sds[None, :] * math.sqrt(2.0 * math.pi))) @ w


def mixture_sf(c: np.ndarray, means: np.ndarray, sds: np.ndarray, w: np.ndarray) -> np.ndarray:
    """P(X > c) under the mixture Σ_k w_k Normal(means_k, sds_k²), accurate in both tails.

    >>> float(mixture_sf(np.array([0.0]), np.array([0.0]), np.array([1.0]), np.array([1.0]))[0])
    0.5
    """
    c = np.atleast_1d(np.asarray(c, dtype=float))
    return ndtr((means[None, :] - c[:, None]) / sds[None, :]) @ w


def shortest_interval(
    ppf: Callable[[np.ndarray], np.ndarray], prob: float, *, bounded_below: bool
) -> tuple[float, float]:
    """The shortest interval of mass ``prob`` from a vectorised quantile function.

    Minimises the width ``ppf(a + prob) − ppf(a)`` over ``a ∈ [0, 1 − prob]``
    by zooming: evaluate on 257 points, keep the two cells around the best,
    repeat. With ``bounded_below`` the point ``a = 0`` (``ppf(0)``, the lower
    end of the support) is a candidate, as for a density decreasing from 0
    (tau, I² with little heterogeneity); otherwise ``a`` stays inside.

    >>> from scipy import stats
    >>> lo, hi = shortest_interval(stats.norm.ppf, 0.95, bounded_below=False)
    >>> round(lo, 6), round(hi, 6)
    (-1.959964, 1.959964)
    >>> lo, hi = shortest_interval(stats.expon.ppf, 0.9, bounded_below=True)
    >>> round(lo, 9), round(hi, 6)
    (0.0, 2.302585)
    """
    top = 1.0 - prob
    edge = 0.0 if bounded_below else min(1e-12, top / 4)
    lo, hi = edge, top - edge
    best = 0.5 * (lo + hi)
    for _ in range(_ROUNDS):
        a = np.linspace(lo, hi, _POINTS)
        q = ppf(np.concatenate([a, a + prob]))
        width = q[_POINTS:] - q[:_POINTS]
        width = np.where(np.isfinite(width), width, np.inf)
        i = int(np.argmin(width))
        best = float(a[i])
        step = (hi - lo) / (_POINTS - 1)
        lo, hi = max(edge, best - step), min(top - edge, best + step)
    ends = ppf(np.array([best, best + prob]))
    return float(ends[0]), float(ends[1])


def posterior_weights(
    w: np.ndarray, tau2: np.ndarray, mu_var: np.ndarray, s2: np.ndarray,
    prior_var: float | None,
) -> tuple[np.ndarray, float]:
    r"""bayesmeta's posterior mean weights of the studies (and of the prior mean of mu).

    Given tau, :math:`E[\mu \mid \tau, y] = \sum_j w_j(\tau) y_j + w_0(\tau) m_0` with
    inverse-variance weights :math:`w_j(\tau) = V(\tau)/(s_j^2 + \tau^2)` and
    :math:`w_0(\tau) = V(\tau)/v_0` (0 under a flat prior), :math:`V(\tau)` the
    conditional posterior variance of mu. The posterior mean weights are their
    expectations over :math:`p(\tau \mid y)`, so that
    :math:`E[\mu \mid y] = \sum_j \bar w_j y_j + \bar w_0 m_0` exactly and
    :math:`\sum_j \bar w_j + \bar w_0 = 1` (bayesmeta's ``$weights``; Röver 2020,
    J Stat Softw 93(6); the R help page ``bayesmeta``, "Study weights").
    They are not the derivatives :math:`\partial E[\mu \mid y]/\partial y_j`,
    which also carry the change of :math:`p(\tau \mid y)` with :math:`y_j`.

    Returns
    -------
    study_weights, prior_weight
    """
    wj = mu_var[:, None] / (s2[None, :] + tau2[:, None])
    prior_w = 0.0 if prior_var is None else float(w @ (mu_var / prior_var))
    return w @ wj, prior_w
