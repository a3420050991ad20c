"""Independent reference ("oracle") for the hierarchical Gamma–Poisson model.

Shares NO code with ``hierbayes``: its own data copy, likelihood algebra,
coordinates, prior conversions and integrator.

Model (MODEL.md §5)::

    y_j ~ Poisson(theta_j t_j),  theta_j ~ Gamma(a, rate b),  (a, b) ~ prior(a, b)

* Likelihood, per group, as plain sums of logs (no lgamma differences):
      log NB(y | a, b, t) = Σ_{k<y} log(a + k) − Σ_{k<y} log(k + 1) − a·log1p(t/b) − y·log1p(b/t).
  The y·log a parts of the first and last terms cancel at huge a, but only to an absolute
  error of ~1e-13 in log L for a up to e^40, which is what matters for the integrand.
* Coordinates: p and q with (log a, log b) an affine map of unit Jacobian, so a density
  π(a, b) becomes π(a, b)·a·b:
      "a" chart: p = log a, q = log b − log a = −log(mean);
      "b" chart: p = log b, q = log b − log a.
  The posterior ridge is then axis-aligned (q ≈ −log pooled rate for large a).
* Integration: ``scipy.integrate.cubature`` (adaptive product Gauss–Kronrod 21 over boxes),
  vector-valued (every feature at once), on a box cut at every discontinuity of an
  indicator, so that CDFs are integrals of smooth functions over boxes; the log density
  is shifted by its value at the mode before exponentiating.
* Marginal densities of a hyperparameter (for implied quantile errors) by
  ``scipy.integrate.quad`` over the other coordinate.

Priors (densities in (a, b) = (shape, rate)):
* "default": hierbayes' documented default, flat on log(a/b) and log(b/t0) standard
  logistic, t0 = geometric mean exposure, a count-0 group weighted 1 − exp(−t·Σy/Σt)
  (``ref_log_t0``). In the "a" chart (p, q) = (log a, log b − log a),
  log(a/b) = −q and log b = p + q, a unit-Jacobian change, so the density in (p, q) is
  logistic(p + q − log t0).
* "bugs": a ~ Exp(1), b ~ Gamma(0.1, rate 1) (BUGS "Pumps").
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from scipy import integrate, optimize, special

# Pumps (Gaver & O'Muircheartaigh 1987; BUGS Vol. 1), exposures in 1000s of hours as in BUGS.
PUMP_FAILURES = (5, 1, 5, 14, 3, 19, 1, 1, 4, 22)
PUMP_KILOHOURS = (94.3, 15.7, 62.9, 126.0, 5.24, 31.4, 1.05, 1.05, 2.1, 10.5)

# Box in the "a" chart, per prior: p = log a, q = −log mean.
BOXES = {"default": ((-25.0, 40.0), (-60.0, 30.0)), "bugs": ((-25.0, 6.0), (-90.0, 30.0))}
RTOL = 1e-13


def log_lik(a: np.ndarray, b: np.ndarray, y: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Σ_j log NB(y_j | a, b, t_j) for arrays a, b of one shape (S,); y, t of shape (J,)."""
    a = a[:, None]
    b = b[:, None]
    total = -a * np.log1p(t / b) - y * np.log1p(b / t)
    for k in range(int(y.max()) + 1):
        on = k < y
        total = total + np.where(on, np.log(a + k) - math.log(k + 1), 0.0)
    return total.sum(axis=1)


def ref_log_t0(y: np.ndarray, t: np.ndarray) -> float:
    """log t0 of the default prior, written out with exact sums: groups with a positive
    count weigh 1, count-0 groups the chance 1 − exp(−t·r) of an event at r = Σy/Σt."""
    r = math.fsum(y) / math.fsum(t)
    w = [1.0 if yi > 0 else -math.expm1(-ti * r) for yi, ti in zip(y, t, strict=True)]
    return math.fsum(wi * math.log(ti) for wi, ti in zip(w, t, strict=True)) / math.fsum(w)


def log_prior_ab(name: str, a: np.ndarray, b: np.ndarray, t: np.ndarray,
                 y: np.ndarray) -> np.ndarray:
    """log π(a, b) + log a + log b: the prior density in any unit-Jacobian log chart."""
    if name == "default":
        z = np.log(b) - ref_log_t0(y, t)
        return -z - 2.0 * np.log1p(np.exp(-z))
    if name == "bugs":
        la = -a + np.log(a)
        lb = -0.9 * np.log(b) - b - special.gammaln(0.1) + np.log(b)
        return la + lb
    raise ValueError(name)


class Oracle:
    """Posterior of the pumps model under one prior; integrals of features over boxes."""

    def __init__(self, prior: str, y=PUMP_FAILURES, t=PUMP_KILOHOURS) -> None:
        self.prior = prior
        self.y = np.asarray(y, dtype=float)
        self.t = np.asarray(t, dtype=float)
        self.box = BOXES[prior]
        res = optimize.minimize(lambda x: -self._logpost_a(x[None, 0], x[None, 1])[0],
                                np.array([0.0, 0.5]), method="Nelder-Mead",
                                options={"xatol": 1e-10, "fatol": 1e-12})
        self.shift = -res.fun
        self.norm = self.integrate(lambda a, b: np.ones((a.size, 1)))[0]

    # -- charts ---------------------------------------------------------------------
    def _logpost_a(self, p: np.ndarray, q: np.ndarray) -> np.ndarray:
        a, b = np.exp(p), np.exp(p + q)
        return log_lik(a, b, self.y, self.t) + log_prior_ab(self.prior, a, b, self.t, self.y)

    def integrate(self, feature, chart: str = "a", p_range=None, q_range=None) -> np.ndarray:
        """∫∫ feature(a, b)·posterior over a box of a chart (unnormalised, shifted)."""
        (p0, p1), (q0, q1) = self.box
        if chart == "b":  # p = log b = log a + q: the same region, sheared; widen
            p0, p1 = p0 + q0, p1 + q1
        if p_range is not None:
            p0, p1 = max(p0, p_range[0]), min(p1, p_range[1])
        if q_range is not None:
            q0, q1 = max(q0, q_range[0]), min(q1, q_range[1])

        def f(x: np.ndarray) -> np.ndarray:
            p, q = x[:, 0], x[:, 1]
            la = p if chart == "a" else p - q
            a, b = np.exp(la), np.exp(la + q)
            with np.errstate(over="ignore", under="ignore"):
                w = np.exp(log_lik(a, b, self.y, self.t)
                           + log_prior_ab(self.prior, a, b, self.t, self.y) - self.shift)
            return feature(a, b) * w[:, None]

        res = integrate.cubature(f, np.array([p0, q0]), np.array([p1, q1]), rtol=RTOL,
                                 atol=1e-300, max_subdivisions=200_000)
        return res.estimate

    def expect(self, feature, **kw) -> np.ndarray:
        return self.integrate(feature, **kw) / self.norm

    # -- summaries ------------------------------------------------------------------
    def group_moments(self) -> dict[str, np.ndarray]:
        """Posterior mean, sd (law of total variance, centred) and shrinkage of every theta_j."""
        y, t = self.y, self.t

        def first(a, b):
            A, B = a[:, None] + y, b[:, None] + t
            return np.concatenate([A / B, b[:, None] / B], axis=1)

        e = self.expect(first)
        mean, shrink = e[: y.size], e[y.size:]

        def second(a, b):
            A, B = a[:, None] + y, b[:, None] + t
            return np.concatenate([A / B**2, (A / B - mean) ** 2], axis=1)

        e2 = self.expect(second)
        var = e2[: y.size] + e2[y.size:]
        return {"mean": mean, "sd": np.sqrt(var), "shrinkage": shrink}

    def hyper_moments(self, names, sd_names=None) -> dict[str, tuple[float, float]]:
        """Mean and sd of functions of (a, b), by name (centred second pass).

        The sd is computed only for ``sd_names`` (default: all); NaN for the others.
        """
        fns = {
            "log_alpha": lambda a, b: np.log(a),
            "log_beta": lambda a, b: np.log(b),
            "log_mean": lambda a, b: np.log(a) - np.log(b),
            "alpha": lambda a, b: a,
            "beta": lambda a, b: b,
            "mean": lambda a, b: a / b,
        }
        sel = [fns[n] for n in names]
        m = self.expect(lambda a, b: np.stack([g(a, b) for g in sel], axis=1))
        sd_names = list(names) if sd_names is None else list(sd_names)
        idx = [names.index(n) for n in sd_names]
        v = self.expect(lambda a, b: np.stack([(sel[i](a, b) - m[i]) ** 2 for i in idx],
                                              axis=1)) if idx else []
        sd = dict(zip(sd_names, np.sqrt(v), strict=True))
        return {n: (float(mi), float(sd.get(n, math.nan))) for n, mi in zip(names, m, strict=True)}

    def group_cdf(self, q: np.ndarray) -> np.ndarray:
        """P(theta_j ≤ q[k, j]) for quantile points of shape (K, J)."""
        y, t = self.y, self.t
        q = np.asarray(q, dtype=float)

        def f(a, b):
            A, B = a[:, None, None] + y, b[:, None, None] + t
            return special.gammainc(A, B * q[None]).reshape(a.size, -1)

        return self.expect(f).reshape(q.shape)

    def group_pdf(self, q: np.ndarray) -> np.ndarray:
        y, t = self.y, self.t
        q = np.asarray(q, dtype=float)

        def f(a, b):
            A, B = a[:, None, None] + y, b[:, None, None] + t
            x = B * q[None]
            lp = A * np.log(x) - x - special.gammaln(A) - np.log(q[None])
            return np.exp(lp).reshape(a.size, -1)

        return self.expect(f).reshape(q.shape)

    def hyper_cdf(self, name: str, value: float) -> float:
        """P(name ≤ value) for name in log_alpha, log_mean, log_beta: a box cut at value."""
        one = lambda a, b: np.ones((a.size, 1))  # noqa: E731
        if name == "log_alpha":
            return float(self.integrate(one, "a", p_range=(-np.inf, value))[0] / self.norm)
        if name == "log_mean":  # log mean = −q
            return float(self.integrate(one, "a", q_range=(-value, np.inf))[0] / self.norm)
        if name == "log_beta":
            return float(self.integrate(one, "b", p_range=(-np.inf, value))[0] / self.norm)
        raise ValueError(name)

    def hyper_pdf(self, name: str, value: float) -> float:
        """Marginal density of name at value (quad over the other chart coordinate)."""
        (p0, p1), (q0, q1) = self.box

        def dens(q: float, p: float, chart: str) -> float:
            la = p if chart == "a" else p - q
            a, b = np.exp([la]), np.exp([la + q])
            return float(np.exp(log_lik(a, b, self.y, self.t)[0]
                                + log_prior_ab(self.prior, a, b, self.t, self.y)[0] - self.shift))

        if name == "log_alpha":
            val = integrate.quad(lambda q: dens(q, value, "a"), q0, q1, epsrel=1e-10,
                                 limit=500)[0]
        elif name == "log_mean":
            val = integrate.quad(lambda p: dens(-value, p, "a"), p0, p1, epsrel=1e-10,
                                 limit=500)[0]
        else:
            val = integrate.quad(lambda q: dens(q, value, "b"), q0, q1, epsrel=1e-10,
                                 limit=500)[0]
        return val / self.norm


@cache
def get(prior: str) -> Oracle:
    return Oracle(prior)
