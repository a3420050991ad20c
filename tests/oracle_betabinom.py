"""Independent high-precision reference ("oracle") for the hierarchical Beta-Binomial model.

This module deliberately shares NO code with ``hierbayes``. It is slow and obvious on purpose.

Model (docs MODEL.md sections 2, 3, 7)::

    y_j ~ Binomial(n_j, theta_j),   theta_j ~ Beta(alpha, beta),   (alpha, beta) ~ p(alpha, beta)

    p(alpha, beta | y)  ∝  p(alpha, beta) · Π_j B(y_j + alpha, n_j - y_j + beta) / B(alpha, beta)
    p(theta_j | y)      =  ∫ Beta(theta_j; y_j + alpha, n_j - y_j + beta) p(alpha, beta | y)

What is computed, and how
-------------------------
* Coordinates: mu = alpha/(alpha+beta) in (0, 1) and t = kappa^(-1/2) in (0, inf), where
  kappa = alpha + beta.  Jacobians (checked by hand):
  |d(alpha,beta)/d(mu,kappa)| = |det [[kappa, mu], [-kappa, 1-mu]]| = kappa, and
  |d kappa/d t| = 2 t^-3.  Hence
      default prior p(alpha,beta) ∝ kappa^(-5/2)   ->  p(mu, t) = kappa^(-5/2)·kappa·2t^-3 = 2
  (flat in (mu, t)), a prior with independent densities p_mu, p_kappa on (mu, kappa) ->
      p(alpha,beta) = p_mu(mu) p_kappa(kappa) / kappa,   p(mu, t) = p_mu(mu) p_kappa(t^-2) 2 t^-3,
  and a general log-density log p(alpha,beta) -> log p(mu,t) = log p(alpha,beta) - 5 log t + log 2.
  In these coordinates the infinitely long tail kappa -> inf (where the posterior of log kappa
  decays only like exp(-v/2)) is the finite end t -> 0 of the interval, and the integrand is
  smooth there (a function of t^2), so no range truncation is needed on that side.
* Likelihood: with s = t^2 = 1/kappa every rising-factorial ratio is divided by kappa exactly,
      log p(y | mu, t) = Σ_j [ Σ_{k<y_j} log(mu + k s) + Σ_{k<n_j-y_j} log(1 - mu + k s)
                               - Σ_{k<n_j} log1p(k s) ],
  a plain per-group finite sum (no lgamma / betaln, so no cancellation at huge kappa; at
  s = 0 it is exactly the complete-pooling likelihood).  Checked against mpmath
  (80 digits, log-gamma form) in ``_check_loglik_mpmath``: max abs error 3e-13 for kappa from
  1e-3 to 1e30 (relative ~1e-15 of |log lik| ≈ 800).
* Integration: nested adaptive Gauss-Kronrod (GK21), vector valued (every quantity at once).
  Outer over t in (0, T]: ``scipy.integrate.quad_vec``.  Inner over mu in (0, 1):
  ``scipy.integrate.cubature`` (1-d, vectorised over mu), one call per piece between break
  points placed around the conditional mode of mu given t (Brent's method on logit mu) and at
  any discontinuity of an indicator (hyperparameter CDFs).  [One call per piece because
  scipy 1.17's cubature does not heapify its initial regions when given ``points``, and then
  may never refine the worst region.]  ``inner="quad_vec"`` swaps in ``quad_vec`` for the
  inner integral as an independent check of the inner integrator.  The density is normalised
  by subtracting the log-density at the global mode before exponentiating; T is where the
  profile log-density has dropped by > 150.  For features with a log singularity at t = 0
  (log kappa) the outer break points are graded geometrically towards 0.
* Two passes: a coarse pass gives the normalising constant and rough means/sds; the fine pass
  (epsrel 1e-10) integrates centred and scaled features, (g - c)/s and ((g - c)/s)^2, so every
  vector component is O(1) and variances suffer no cancellation.  Posterior group variances
  use the law of total variance, Var = E[Var(theta|alpha,beta)] + Var(E[theta|alpha,beta]).
* Quantiles are not computed here: instead the CDF (mixture of ``betainc``) and density are
  provided so a reported quantile q can be checked via |F(q) - p| / f(q).  For kappa > 1e12
  (posterior mass ~1e-12 on the rats data) ``betainc`` is unreliable (NaN above ~1e20), so the
  conditional Beta is replaced by its normal approximation there (CDF effect < 1e-16).  The
  density is integrated separately to ~1e-7 (it only converts CDF errors into quantile
  errors); for kappa > 1e6 its inner integral is replaced by its limit w(x, t).
* Hyperparameter CDFs integrate indicators of events on (mu, t): mu <= x, t >= kappa^-1/2,
  mu <= alpha t^2, mu >= 1 - beta t^2, with break points on the discontinuities.  Densities
  are 1-d integrals: p_mu(x) = ∫ p(x,t) dt, p_kappa(x) = p_t(x^-1/2) x^-3/2 / 2,
  p_alpha(x) = ∫ p(x t^2, t) t^2 dt, p_beta(x) = ∫ p(1 - x t^2, t) t^2 dt.

Accuracy verified (``_self_check()``; rats data, the default prior and mu ~ Beta(2, 5),
kappa ~ lognorm(1, scale=10)):
* an independent second computation, ``_summaries_uv``, in different coordinates (u = logit mu,
  v = log kappa up to 80, Jacobian alpha·beta), with different likelihood algebra (ratios
  (a+k)/(a+b+k)) and a different integrator (2-d adaptive ``scipy.integrate.cubature``, product
  GK21, over boxes) agrees on all group means, sds, mean shrinkage and mu/logit_mu/log_kappa
  means and sds to max relative difference 6.3e-14 (default prior) / 6e-14 (user prior;
  alpha, beta, kappa means and sds 7e-15);
* the summaries with the quad_vec inner integrator agree to 2e-15; group CDFs at 5x71
  quantile-like points to 6e-16 absolute (PDF 1e-13 relative); hyper CDFs to 6e-16;
* E[theta_j] = ∫_0^1 (1 - F_j(x)) dx and E[theta_j^2] = ∫ 2x (1 - F_j(x)) dx recomputed from
  ``group_cdf`` (graded Gauss-Legendre in x) agree with the directly integrated means to 2e-16
  absolute and sds to 2e-14 relative; the group PDF integrates to 1 within 7e-9;
* hyper PDFs agree with finite differences of the hyper CDFs to 6e-9, group PDFs to 1.6e-7
  (both finite-difference truncation error: it scales as h^2);
* P(log kappa > 20 | y) = 6.228e-11 both as a direct 1-d tail integral and as 1 - CDF
  (MODEL.md section 7 states ≈ 6e-11);
* log-likelihood vs 80-digit mpmath log-gamma: max abs error 9e-13 (|log lik| up to ~1.3e3)
  for mu in {0.01, 0.14, 0.5, 0.93}, kappa from 1e-3 to 1e30.
Runtime (rats, one core of a loaded 2-core machine): summaries 2-4 s per prior, one batched
group CDF+PDF call (5x71 points) ~3.5 s, hyper CDF+PDF at 18 points ~3.5 s; the whole of
test_accuracy_rats.py (both priors) ~25-30 s.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping

import numpy as np
from scipy import integrate, optimize, special

# ---------------------------------------------------------------------------------------------
# Data: the 71 rat tumour experiments (Tarone 1982; BDA3 section 5.3), embedded so that the
# oracle does not depend on the library's dataset loader.  Experiment j has RATS_TUMORS[j-1]
# tumours among RATS_RATS[j-1] rats; experiment 71 is the "current" one (4/14).
# ---------------------------------------------------------------------------------------------
RATS_TUMORS = (
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 1, 5, 2, 5, 3, 2, 7, 7, 3, 3, 2, 9, 10, 4, 4, 4, 4, 4, 4, 4, 10, 4, 4, 4,
    5, 11, 12, 5, 5, 6, 5, 6, 6, 6, 6, 16, 15, 15, 9, 4,
)  # fmt: skip
RATS_RATS = (
    20, 20, 20, 20, 20, 20, 20, 19, 19, 19, 19, 18, 18, 17, 20, 20, 20, 20, 19, 19, 18,
    18, 25, 24, 23, 20, 20, 20, 20, 20, 20, 10, 49, 19, 46, 27, 17, 49, 47, 20, 20, 13,
    48, 50, 20, 20, 20, 20, 20, 20, 20, 48, 19, 19, 19, 22, 46, 49, 20, 20, 23, 19, 22,
    20, 20, 20, 52, 46, 47, 24, 14,
)  # fmt: skip

HYPER_NAMES = ("alpha", "beta", "mu", "kappa", "logit_mu", "log_kappa")

try:  # one GK21 rule object for all calls (cubature rebuilds it from "gk21" on every call)
    from scipy.integrate._rules import GaussKronrodQuadrature as _GKQ

    _GK21 = _GKQ(21)
except Exception:  # pragma: no cover - private location moved: use the public name
    _GK21 = "gk21"

_KAPPA_NORMAL = 1e12  # above this kappa the conditional Beta is replaced by a normal
_LOG2 = math.log(2.0)


def _expit(u: float) -> float:
    return float(special.expit(u))


# ---------------------------------------------------------------------------------------------
# priors, as log densities in the (mu, t) coordinates (up to an additive constant)
# ---------------------------------------------------------------------------------------------
def _prior_key(prior):
    """A hashable description of ``prior`` (for caching)."""
    if prior is None:
        return ("default",)
    if isinstance(prior, Mapping):
        items = []
        for name in ("mu", "kappa"):
            d = prior[name]
            items.append((name, d.dist.name, tuple(d.args), tuple(sorted(d.kwds.items()))))
        return ("mu_kappa", *items)
    if callable(prior):
        return ("callable", prior)
    raise TypeError(f"unsupported prior {prior!r}")


def _fast_logpdf(frozen) -> Callable[[np.ndarray], np.ndarray]:
    """log-density of a frozen scipy.stats continuous distribution, vectorised.

    The public ``frozen.logpdf`` costs ~100 µs a call in argument handling, which dominates
    here; this calls the distribution's own ``_logpdf`` on the standardised argument inside
    the support.  It is checked against the public method at construction (falls back to it).
    """
    try:
        shapes, loc, scale = frozen.dist._parse_args(*frozen.args, **frozen.kwds)
        lo, hi = frozen.support()
        dist = frozen.dist
        log_scale = math.log(scale)

        def lp(x):
            x = np.asarray(x, dtype=float)
            out = np.full(x.shape, -np.inf)
            ok = (x > lo) & (x < hi)
            out[ok] = dist._logpdf((x[ok] - loc) / scale, *shapes) - log_scale
            return out

        probe = np.asarray(frozen.ppf([1e-6, 0.01, 0.3, 0.5, 0.7, 0.99, 1.0 - 1e-6]))
        if np.allclose(lp(probe), frozen.logpdf(probe), rtol=1e-13, atol=1e-13):
            return lp
    except Exception:  # any private-API change: use the public method
        pass
    return frozen.logpdf


def _make_log_prior_mu_t(prior) -> Callable[[np.ndarray, float], np.ndarray]:
    """log p(mu, t) up to a constant (vectorised in mu), for the supported kinds of prior.

    * ``None``: p(alpha, beta) ∝ (alpha+beta)^(-5/2)  ->  flat in (mu, t).
    * ``{"mu": frozen, "kappa": frozen}``: independent proper priors on mu and kappa;
      p(mu, t) = p_mu(mu) p_kappa(t^-2) · 2 t^-3.
    * a vectorised callable ``log_prior(alpha, beta)`` (log density in (alpha, beta), up to a
      constant);  p(mu, t) = p(alpha, beta) · kappa · 2 t^-3 = p(alpha, beta) · 2 t^-5.
    """
    if prior is None:
        return lambda mu, t: np.zeros_like(mu)
    if isinstance(prior, Mapping):
        lp_mu, pkappa = _fast_logpdf(prior["mu"]), prior["kappa"]
        last = [None, 0.0]  # the inner integral runs at fixed t: cache the kappa term

        def lp(mu, t):
            if t != last[0]:
                kappa = 1.0 / (t * t)
                last[0], last[1] = t, float(pkappa.logpdf(kappa)) + _LOG2 - 3.0 * math.log(t)
            return lp_mu(mu) + last[1]

        return lp
    if callable(prior):

        def lp(mu, t):
            kappa = 1.0 / (t * t)
            val = np.asarray(prior(mu * kappa, (1.0 - mu) * kappa), dtype=float)
            return val + _LOG2 - 5.0 * math.log(t)

        return lp
    raise TypeError(f"unsupported prior {prior!r}")


# ---------------------------------------------------------------------------------------------
# the posterior in (mu, t) and the nested quadrature engine
# ---------------------------------------------------------------------------------------------
class BetaBinomialOracle:
    """Posterior of the hierarchical Beta-Binomial model, by nested adaptive quadrature.

    ``inner="cubature"`` (default) integrates over mu with ``scipy.integrate.cubature`` (1-d,
    GK21, vectorised over mu); ``inner="quad_vec"`` uses ``scipy.integrate.quad_vec`` one point
    at a time (about 5x slower; kept as an independent check of the inner integrator).
    """

    # initial break points, in conditional sds of logit(mu) (inner) and sds of log t (outer)
    INNER_KS = (-12, -4, 0, 4, 12)
    OUTER_KS = (-12, -4, -1.5, 0, 1.5, 4, 12)

    def __init__(self, y, n, prior=None, epsrel: float = 1e-10, epsabs: float = 1e-12,
                 inner: str = "cubature"):
        y = np.asarray(y, dtype=np.int64)
        n = np.asarray(n, dtype=np.int64)
        if y.shape != n.shape or y.ndim != 1 or np.any(y < 0) or np.any(y > n):
            raise ValueError("need 1-d integer arrays with 0 <= y <= n")
        if inner not in ("cubature", "quad_vec"):
            raise ValueError(inner)
        self.y, self.n = y, n
        m = n - y
        # exact finite-sum likelihood: Σ_j Σ_{k<y_j} f(k) = Σ_k #{j: y_j > k} f(k), etc.
        k = np.arange(int(n.max()), dtype=float)
        self._k = k
        self._cy = (y[:, None] > k[None, :]).sum(axis=0).astype(float)
        self._cm = (m[:, None] > k[None, :]).sum(axis=0).astype(float)
        self._cn = (n[:, None] > k[None, :]).sum(axis=0).astype(float)
        # groups with equal (y, n) have identical posteriors: work on the unique pairs
        pairs, inverse = np.unique(np.stack([y, n], axis=1), axis=0, return_inverse=True)
        self._yu = pairs[:, 0].astype(float)
        self._nu = pairs[:, 1].astype(float)
        self._inv = inverse.ravel()
        self._log_prior = _make_log_prior_mu_t(prior)
        self._prior_is_default = prior is None
        self.epsrel, self.epsabs, self.inner = epsrel, epsabs, inner
        self._lognorm = 0.0
        self._find_mode()
        self._summaries = None

    # -- density ---------------------------------------------------------------------------
    def loglik(self, mu, t: float) -> np.ndarray:
        """log p(y | mu, kappa = t^-2) up to a data-only constant (exact finite sums)."""
        mu = np.asarray(mu, dtype=float)[..., None]
        ks = self._k * (t * t)
        return (np.log(mu + ks) @ self._cy + np.log((1.0 - mu) + ks) @ self._cm
                - self._cn @ np.log1p(ks))

    def logpost(self, mu, t: float) -> np.ndarray:
        """Unnormalised log posterior density in (mu, t), vectorised over mu."""
        mu = np.asarray(mu, dtype=float)
        out = np.full(mu.shape, -np.inf)
        ok = (mu > 0.0) & (mu < 1.0)
        if t > 0.0 and ok.any():
            m = mu[ok]
            with np.errstate(divide="ignore", invalid="ignore"):
                val = self.loglik(m, t) + self._log_prior(m, t)
            out[ok] = np.where(np.isnan(val), -np.inf, val)
        return out

    def _logpost1(self, mu: float, t: float) -> float:
        return float(self.logpost(np.array([mu]), t)[0])

    def _density(self, mu, t):
        """Normalised posterior density in (mu, t) (after ``summaries``), vectorised in mu."""
        return np.exp(self.logpost(mu, t) - self._lognorm)

    # -- mode, conditional modes, ranges ---------------------------------------------------
    def _cond_mode(self, t: float):
        """Mode of u = logit(mu) given t, and a curvature-based scale of u there."""

        def f(u):
            return -self._logpost1(_expit(u), t)

        u0 = self._u_start
        res = optimize.minimize_scalar(f, bracket=(u0 - 0.2, u0 + 0.2), tol=1e-8)
        u = float(res.x)
        h = 1e-3
        f0, fp, fm = f(u), f(u + h), f(u - h)
        curv = (fp - 2.0 * f0 + fm) / (h * h)
        su = 1.0 / math.sqrt(curv) if (np.isfinite(curv) and curv > 1e-12) else 1.0
        return u, min(su, 5.0), -f0

    def _find_mode(self):
        ybar = (self.y.sum() + 0.5) / (self.n.sum() + 1.0)
        self._u_start = math.log(ybar / (1.0 - ybar))
        # coarse scan of the profile over log t, then a 2-d polish
        best = None
        for lt in np.linspace(-12.0, 6.0, 73):
            u, _, val = self._cond_mode(math.exp(lt))
            if best is None or val > best[0]:
                best = (val, u, lt)
        res = optimize.minimize(
            lambda p: -self._logpost1(_expit(p[0]), math.exp(p[1])),
            x0=[best[1], best[2]],
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000},
        )
        self.u_mode, self.logt_mode = float(res.x[0]), float(res.x[1])
        self._u_start = self.u_mode
        self.logmax = -float(res.fun)
        self._lognorm = self.logmax

        def prof(lt):  # profile log density of log t
            return self._cond_mode(math.exp(lt))[2]

        h = 1e-3
        c = (prof(self.logt_mode + h) - 2 * prof(self.logt_mode) + prof(self.logt_mode - h)) / h**2
        self.sd_logt = 1.0 / math.sqrt(-c) if c < 0 else 1.0
        # upper end T: profile has dropped by 150 (the density decays fast as kappa -> 0)
        lt = self.logt_mode
        while prof(lt) > self.logmax - 150.0:
            lt += 0.5 * self.sd_logt + 0.05
            if lt > 40:
                raise RuntimeError("posterior does not decay as kappa -> 0 (improper?)")
        self.t_max = math.exp(lt)
        ks = self.OUTER_KS
        pts = [math.exp(self.logt_mode + k * self.sd_logt) for k in ks]
        self._outer_pts = sorted(p for p in pts if 0.0 < p < self.t_max)
        # geometric grading towards t = 0 (kappa -> inf), for features such as log kappa
        # = -2 log t that have an integrable log singularity there (only where the posterior
        # has mass: not under a prior that kills large kappa)
        for k in range(2, 11):
            lt = self.logt_mode - k * math.log(10.0)
            if prof(lt) < self.logmax - 100.0:
                break
            pts.append(math.exp(lt))
        self._outer_pts_graded = sorted(p for p in pts if 0.0 < p < self.t_max)

    def _inner_pts(self, t):
        """Break points in mu around the conditional mode, the range that matters, and a
        Laplace estimate of the inner integral ∫ w(mu, t) dmu (sets the inner tolerance)."""
        u, su, lmax = self._cond_mode(t)
        ks = self.INNER_KS
        pts = [_expit(u + k * su) for k in ks]
        lo, hi = _expit(u - 60 * su), _expit(u + 60 * su)
        m = _expit(u)
        scale = math.exp(min(lmax - self._lognorm, 700.0)) * su * m * (1.0 - m) * 2.5
        return [p for p in pts if 0.0 < p < 1.0], (lo, hi), scale

    # -- the engine ------------------------------------------------------------------------
    def _inner(self, t, features, dim, inner_points, epsrel, epsabs):
        """∫_0^1 w(mu,t) [1, features(mu,t)] dmu, adaptive, break points around the mode.

        ``features(mu, t)`` maps an array of P values of mu to an array of shape (P, dim).
        """
        pts, (lo, hi), scale = self._inner_pts(t)
        if inner_points is not None:
            pts = pts + [p for p in inner_points(t) if lo < p < hi and 0.0 < p < 1.0]
        pts = sorted(set(pts))

        def f(mu):  # mu: shape (P,)  ->  (P, dim + 1)
            w = np.exp(self.logpost(mu, t) - self._lognorm)
            out = np.zeros((mu.shape[0], dim + 1))
            # (the total mass is ~1: points with w < 1e-30 cannot matter; skip their features)
            live = w > 1e-30
            if live.any():
                out[live, 0] = w[live]
                if dim:
                    out[live, 1:] = w[live, None] * features(mu[live], t)
            return out

        memo = {}

        def f_memo(mu):
            # cubature evaluates each region twice (the 21 Kronrod nodes for the estimate, then
            # the same 21 plus the 10 Gauss nodes for the error): reuse exact repeats
            new = np.array([m not in memo for m in mu.tolist()], dtype=bool)
            if new.any():
                vals = f(mu[new])
                for m, row in zip(mu[new].tolist(), vals, strict=True):
                    memo[m] = row
            out = np.array([memo[m] for m in mu.tolist()])
            if len(memo) > 4096:
                memo.clear()
            return out

        if self.inner == "cubature":
            # cubature's test is per component (err_i <= atol + rtol |I_i|); like quad_vec's
            # max-norm test, make the absolute part relative to the size of the inner integral
            # The pieces between break points are integrated by separate calls: scipy 1.17's
            # cubature does not heapify its initial regions when given ``points``, so with
            # break points it may never refine the region with the largest error.
            edges = [0.0, *pts, 1.0]
            atol = max(epsabs, epsrel * scale) / (len(edges) - 1)
            tot = 0.0
            for a, b in itertools.pairwise(edges):
                r = integrate.cubature(lambda x: f_memo(x[:, 0]), [a], [b], rule=_GK21,
                                       rtol=epsrel, atol=atol, max_subdivisions=20000)
                tot = tot + r.estimate
            return tot
        r, _ = integrate.quad_vec(lambda m: f(np.array([m]))[0], 0.0, 1.0, epsabs=epsabs,
                                  epsrel=epsrel, norm="max", points=pts, limit=20000)
        return r

    def integrate(self, features, dim, inner_points=None, outer_points=(), epsrel=None,
                  epsabs=None, tail=None, graded=False):
        """∫∫ w(mu,t) [1, features(mu,t)] dmu dt with w = exp(logpost - lognorm).

        ``features(mu, t)`` maps P values of mu to shape (P, dim); ``inner_points(t)`` extra
        break points in mu (discontinuities); ``outer_points`` extra break points in t.
        ``tail = (t_cut, g)``: for t < t_cut use g(t) (length ``dim``) instead of the inner
        integral of the features (used for densities, whose kappa -> inf limit is known).
        ``graded``: add outer break points t_mode·10^-k (for features singular at t = 0).
        Outer integral: ``scipy.integrate.quad_vec`` over t in (0, T].
        Returns (integral vector of length dim+1, error estimate).
        """
        epsrel = self.epsrel if epsrel is None else epsrel
        epsabs = self.epsabs if epsabs is None else epsabs

        def outer(t):
            if tail is not None and t < tail[0]:
                mass = self._inner(t, None, 0, None, epsrel, epsabs)
                return np.concatenate([mass, tail[1](t)])
            return self._inner(t, features, dim, inner_points, epsrel, epsabs)

        base = self._outer_pts_graded if graded else self._outer_pts
        opts = sorted({p for p in [*base, *outer_points] if 0.0 < p < self.t_max})
        res, err = integrate.quad_vec(outer, 0.0, self.t_max, epsabs=epsabs, epsrel=epsrel,
                                      norm="max", points=opts, limit=20000)
        return res, err

    # -- summaries ---------------------------------------------------------------------------
    def _features_moments(self, cg, sg, ch, sh):
        yu, nu = self._yu, self._nu

        def feats(mu, t):
            s = t * t
            d = nu * s + 1.0  # (U,)
            g = (yu * s + mu[:, None]) / d  # E[theta_j | alpha, beta]           (P, U)
            v = g * (1.0 - g) * s / (d + s)  # Var[theta_j | alpha, beta]
            r = np.broadcast_to(1.0 / d, g.shape)  # shrinkage kappa / (n_j + kappa)
            h = np.stack([mu, np.log(mu) - np.log1p(-mu),
                          np.full(mu.shape, -2.0 * math.log(t))], axis=1)  # (P, 3)
            zg = (g - cg) / sg
            zh = (h - ch) / sh
            return np.concatenate([zg, zg * zg + v / sg**2, r, zh, zh * zh], axis=1)

        return feats

    def _moments(self, cg, sg, ch, sh, epsrel, epsabs):
        J, H = len(self._yu), 3
        res, err = self.integrate(self._features_moments(cg, sg, ch, sh), 3 * J + 2 * H,
                                  epsrel=epsrel, epsabs=epsabs, graded=True)
        Z = res[0]
        q = res[1:] / Z
        mg, m2g, rr = q[:J], q[J:2 * J], q[2 * J:3 * J]
        mh, m2h = q[3 * J:3 * J + H], q[3 * J + H:]
        mean_g = cg + sg * mg
        sd_g = sg * np.sqrt(m2g - mg**2)
        mean_h = ch + sh * mh
        sd_h = sh * np.sqrt(m2h - mh**2)
        return Z, mean_g, sd_g, rr, mean_h, sd_h, err

    def summaries(self) -> dict:
        if self._summaries is not None:
            return self._summaries
        J = len(self._yu)
        # pass 1: coarse, uncentred
        Z1, mg1, sg1, _, mh1, sh1, _ = self._moments(
            np.zeros(J), np.ones(J), np.zeros(3), np.ones(3), epsrel=1e-6, epsabs=1e-14)
        self._lognorm = self.logmax + math.log(Z1)  # now the total mass is ≈ 1
        # pass 2: fine, centred and scaled
        Z, mg, sg, rr, mh, sh, err = self._moments(mg1, sg1, mh1, sh1, self.epsrel, self.epsabs)
        self._lognorm += math.log(Z)  # total mass exactly 1 from here on
        inv = self._inv
        out = {
            "group_mean": mg[inv],
            "group_sd": sg[inv],
            "shrinkage_mean": rr[inv],
            "quad_error_estimate": float(err),
            "log_normaliser": self._lognorm,
        }
        for i, name in enumerate(("mu", "logit_mu", "log_kappa")):
            out[f"{name}_mean"] = float(mh[i])
            out[f"{name}_sd"] = float(sh[i])
        self._summaries = out
        return out

    def _ensure_normalised(self):
        self.summaries()

    def positive_moments(self) -> dict:
        """Posterior means and sds of alpha, beta, kappa (only for priors where they exist).

        Under the default prior these are infinite (tail ∝ kappa^(-3/2)); this refuses.
        """
        if self._prior_is_default:
            raise ValueError("E[alpha], E[beta], E[kappa] are infinite under the default prior")
        self._ensure_normalised()

        def run(c, sc, epsrel, epsabs):
            def feats(mu, t):
                kappa = 1.0 / (t * t)
                z = (np.stack([mu * kappa, (1.0 - mu) * kappa,
                               np.full(mu.shape, kappa)], axis=1) - c) / sc
                return np.concatenate([z, z * z], axis=1)

            res, _ = self.integrate(feats, 6, epsrel=epsrel, epsabs=epsabs)
            q = res[1:] / res[0]
            return c + sc * q[:3], sc * np.sqrt(q[3:] - q[:3] ** 2)

        m1, s1 = run(np.zeros(3), np.ones(3), 1e-6, 1e-10)
        m, sd = run(m1, s1, self.epsrel, self.epsabs)
        out = {}
        for i, name in enumerate(("alpha", "beta", "kappa")):
            out[f"{name}_mean"], out[f"{name}_sd"] = float(m[i]), float(sd[i])
        return out

    # -- group CDF / PDF ----------------------------------------------------------------------
    def group_cdf_pdf(self, x):
        """Posterior CDF and density of theta_j at x[..., j].

        ``x`` has shape (J,) or (K, J) (K points per group, e.g. several quantile levels).
        Conditionally on (alpha, beta) the CDF is ``betainc(y+a, n-y+b, x)`` and the density
        the Beta density; both are integrated against p(alpha, beta | y).
        """
        self._ensure_normalised()
        x = np.asarray(x, dtype=float)
        shape = x.shape
        x2 = np.atleast_2d(x)
        if x2.shape[-1] != len(self.y) or x.ndim > 2:
            raise ValueError("x must have shape (J,) or (K, J)")
        if np.any((x2 <= 0.0) | (x2 >= 1.0)):
            raise ValueError("points must lie in (0, 1)")
        K = x2.shape[0]
        cols = np.stack([np.tile(self.y, K), np.tile(self.n, K), x2.ravel()], axis=1)
        trip, inv = np.unique(cols, axis=0, return_inverse=True)
        yy, nn, xx = trip[:, 0], trip[:, 1], trip[:, 2]
        mm = nn - yy
        U = len(xx)
        lx, l1x = np.log(xx), np.log1p(-xx)

        def cdf_feats(mu, t):
            s = t * t
            mu = mu[:, None]
            if s * _KAPPA_NORMAL > 1.0:
                return special.betainc(yy + mu / s, mm + (1.0 - mu) / s, xx)
            # kappa > 1e12: normal approximation of Beta(y + a, n - y + b)
            d = nn * s + 1.0
            g = (yy * s + mu) / d
            sd = np.sqrt(g * (1.0 - g) * s / (d + s))
            return special.ndtr((xx - g) / sd)

        def pdf_feats(mu, t):  # only used for kappa <= 1e6 (see tail_density)
            s = t * t
            A = yy + mu[:, None] / s
            B = mm + (1.0 - mu[:, None]) / s
            # relative error of this form <= 4e-9 for A + B <= 1e6 (vs scipy.stats.beta.pdf)
            return np.exp((A - 1.0) * lx + (B - 1.0) * l1x - special.betaln(A, B))

        # the CDF to full accuracy
        res, _ = self.integrate(cdf_feats, U)
        cdf = res[1:] / res[0]

        # The density is only used to turn a CDF error into a quantile error: ~1e-7 relative.
        # For kappa > 1e6 the conditional Beta density in x is a spike of width < 1e-3 that the
        # inner quadrature could miss; there ∫ w(mu,t) Beta(x; ..) dmu = w(x, t) (1 + O(1/kappa)),
        # which is used instead (the whole kappa > 1e6 part is ~1e-9 of the density).
        def tail_density(t):
            return self._density(xx, t)

        res, _ = self.integrate(pdf_feats, U, epsrel=1e-7, epsabs=1e-8,
                                tail=(1e-3, tail_density))
        pdf = res[1:] / res[0]
        inv = inv.ravel()
        return cdf[inv].reshape(shape), pdf[inv].reshape(shape)

    def group_cdf(self, x) -> np.ndarray:
        return self.group_cdf_pdf(x)[0]

    def group_pdf(self, x) -> np.ndarray:
        return self.group_cdf_pdf(x)[1]

    # -- hyperparameter CDF / PDF ---------------------------------------------------------------
    def hyper_cdf(self, points: Mapping[str, np.ndarray]) -> dict:
        """P(h <= x | y) for each named hyperparameter h and each of its points x."""
        self._ensure_normalised()
        names, xs = [], []
        for name, x in points.items():
            if name not in HYPER_NAMES:
                raise KeyError(name)
            for v in np.atleast_1d(np.asarray(x, dtype=float)):
                names.append(name)
                xs.append(float(v))
        kind = np.array([
            {"mu": 0, "logit_mu": 0, "kappa": 1, "log_kappa": 1, "alpha": 2, "beta": 3}[nm]
            for nm in names
        ])
        # translate every event into an event on (mu, t):
        #   mu <= x;  logit_mu <= x <=> mu <= expit(x);  kappa <= x <=> t >= x^-1/2;
        #   log_kappa <= x <=> t >= e^(-x/2);  alpha <= x <=> mu <= x t^2;
        #   beta <= x <=> mu >= 1 - x t^2
        thr = np.array([
            _expit(x) if nm == "logit_mu"
            else (x ** -0.5 if x > 0 else math.inf) if nm == "kappa"
            else math.exp(-0.5 * x) if nm == "log_kappa"
            else x
            for nm, x in zip(names, xs, strict=True)
        ])
        dim = len(xs)

        def feats(mu, t):
            s = t * t
            m = mu[:, None]
            return np.where(
                kind == 0, m <= thr,
                np.where(kind == 1, t >= thr,
                         np.where(kind == 2, m <= thr * s, m >= 1.0 - thr * s)),
            ).astype(float)

        def inner_points(t):
            s = t * t
            return [*thr[kind == 0], *(thr[kind == 2] * s), *(1.0 - thr[kind == 3] * s)]

        outer = [p for p in thr[kind == 1] if np.isfinite(p)]
        res, _ = self.integrate(feats, dim, inner_points=inner_points, outer_points=outer)
        vals = res[1:] / res[0]
        out: dict = {}
        for name, v in zip(names, vals, strict=True):
            out.setdefault(name, []).append(float(v))
        return {k: np.array(v) for k, v in out.items()}

    def upper_tail_log_kappa(self, v: float) -> float:
        """P(log kappa > v | y) = P(t < e^(-v/2)), as a 1-d integral over that range only.

        (A separate, cancellation-free path to the far tail; hyper_cdf gives 1 - this.)
        """
        self._ensure_normalised()
        t_thr = math.exp(-0.5 * v)

        def mass(t):
            return self._inner(t, None, 0, None, self.epsrel, 1e-300)

        pts = [p for p in self._outer_pts_graded if p < t_thr]
        num, _ = integrate.quad_vec(mass, 0.0, t_thr, epsabs=1e-300, epsrel=1e-10, points=pts)
        return float(num[0])  # the total mass is 1 (normalised in summaries())

    def hyper_pdf(self, points: Mapping[str, np.ndarray]) -> dict:
        """Posterior density of each named hyperparameter (in its own scale) at its points."""
        self._ensure_normalised()
        out = {}
        for name, x in points.items():
            x = np.atleast_1d(np.asarray(x, dtype=float))
            if name in ("mu", "logit_mu"):
                # p_mu(x) = ∫ p(x, t) dt
                mus = x if name == "mu" else special.expit(x)
                r, _ = integrate.quad_vec(lambda t, mus=mus: self._density(mus, t), 0.0,
                                          self.t_max, epsabs=1e-14, epsrel=1e-10,
                                          points=self._outer_pts, norm="max")
                out[name] = r if name == "mu" else r * mus * (1.0 - mus)
            elif name in ("kappa", "log_kappa"):
                # p_kappa(x) = p_t(x^-1/2) |dt/dkappa|,  p_t(t) = ∫ p(mu, t) dmu
                kap = x if name == "kappa" else np.exp(x)
                vals = []
                for k in kap:
                    t = k**-0.5
                    r = self._inner(t, None, 0, None, 1e-12, 1e-300)[0]
                    pk = r * 0.5 * k**-1.5  # |dt/dkappa| = kappa^-3/2 / 2
                    vals.append(pk if name == "kappa" else pk * k)
                out[name] = np.array(vals)
            elif name in ("alpha", "beta"):
                # (mu, t) -> (alpha, t): mu = alpha t^2, p_alpha(x) = ∫ p(x t^2, t) t^2 dt;
                # similarly mu = 1 - beta t^2 for beta
                vals = []
                for a in x:
                    tm = min(self.t_max, a**-0.5)

                    def f(t, a=a, name=name):
                        m = a * t * t if name == "alpha" else 1.0 - a * t * t
                        return float(self._density(np.array([m]), t)[0]) * t * t

                    pts = [p for p in self._outer_pts if p < tm]
                    r, _ = integrate.quad(f, 0.0, tm, points=pts, epsabs=1e-14, epsrel=1e-10,
                                          limit=500)
                    vals.append(r)
                out[name] = np.array(vals)
            else:
                raise KeyError(name)
        return out


# ---------------------------------------------------------------------------------------------
# module-level API with caching (one oracle object per (data, prior))
# ---------------------------------------------------------------------------------------------
_CACHE: dict = {}


def get_oracle(y, n, prior=None, inner: str = "cubature") -> BetaBinomialOracle:
    key = (tuple(int(v) for v in y), tuple(int(v) for v in n), _prior_key(prior), inner)
    if key not in _CACHE:
        _CACHE[key] = BetaBinomialOracle(y, n, prior, inner=inner)
    return _CACHE[key]


def posterior_summaries(y, n, prior=None) -> dict:
    """Exact posterior summaries.

    Returns a dict with arrays (one entry per group, in input order) ``group_mean``,
    ``group_sd``, ``shrinkage_mean`` (posterior mean of (alpha+beta)/(n_j+alpha+beta)) and
    scalars ``mu_mean``, ``mu_sd``, ``logit_mu_mean``, ``logit_mu_sd``, ``log_kappa_mean``,
    ``log_kappa_sd``.  ``prior``: None (p(alpha,beta) ∝ (alpha+beta)^-5/2), a dict
    {"mu": frozen scipy dist on (0,1), "kappa": frozen scipy dist on (0,inf)}, or a callable
    log p(alpha, beta).
    """
    return dict(get_oracle(y, n, prior).summaries())


def group_cdf_pdf(y, n, x, prior=None) -> tuple[np.ndarray, np.ndarray]:
    """(P(theta_j <= x[..., j] | y), posterior density of theta_j at x[..., j]).

    ``x`` has shape (J,) or (K, J); both results have the shape of ``x``.  One integration.
    """
    return get_oracle(y, n, prior).group_cdf_pdf(x)


def group_cdf(y, n, x, prior=None) -> np.ndarray:
    """P(theta_j <= x[..., j] | y) for every group j (x of shape (J,) or (K, J))."""
    return get_oracle(y, n, prior).group_cdf(x)


def group_pdf(y, n, x, prior=None) -> np.ndarray:
    """Posterior density of theta_j at x[..., j] for every group j."""
    return get_oracle(y, n, prior).group_pdf(x)


def hyper_cdf(y, n, points: Mapping[str, np.ndarray], prior=None) -> dict:
    """P(h <= x | y) for h in alpha, beta, mu, kappa, logit_mu, log_kappa: {name: points}."""
    return get_oracle(y, n, prior).hyper_cdf(points)


def hyper_pdf(y, n, points: Mapping[str, np.ndarray], prior=None) -> dict:
    """Posterior density of each named hyperparameter (on its own scale) at the points."""
    return get_oracle(y, n, prior).hyper_pdf(points)


# ---------------------------------------------------------------------------------------------
# verification helpers (not needed by the tests; run ``python oracle_betabinom.py``)
# ---------------------------------------------------------------------------------------------
def _loglik_mpmath(y, n, a, b, dps=80):
    """Collapsed log-likelihood Σ_j log B(y_j+a, n_j-y_j+b) - log B(a, b) in mpmath."""
    import mpmath as mp

    with mp.workdps(dps):
        a, b = mp.mpf(a), mp.mpf(b)
        lb0 = mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)
        tot = mp.mpf(0)
        for yj, nj in zip(y, n, strict=True):
            tot += (mp.loggamma(yj + a) + mp.loggamma(nj - yj + b) - mp.loggamma(nj + a + b)
                    - lb0)
        return tot


def _check_loglik_mpmath(y=RATS_TUMORS, n=RATS_RATS):
    import mpmath as mp

    o = BetaBinomialOracle(y, n)
    worst = 0.0
    for mu in (0.01, 0.14, 0.5, 0.93):
        for kappa in (1e-3, 0.5, 16.0, 1e3, 1e8, 1e16, 1e30):
            t = kappa**-0.5
            # the powers of kappa cancel exactly (y_j + (n_j - y_j) - n_j = 0): no constant
            ref = float(_loglik_mpmath(y, n, mp.mpf(mu) * kappa, (1 - mp.mpf(mu)) * kappa))
            mine = float(o.loglik(mu, t))
            worst = max(worst, abs(mine - ref))
    return worst


def _summaries_uv(y, n, prior=None, rtol=1e-13, positive=False):
    """Second, independent computation of the summaries (for verification only).

    Coordinates u = logit(mu) = log(alpha/beta), v = log(alpha+beta) with Jacobian
    alpha·beta; likelihood from ratios log((a+k)/(a+b+k)) and log((b+k)/(a+b+y+k)); 2-d
    adaptive cubature (``scipy.integrate.cubature``, product GK21) over a grid of boxes
    covering u in u_mode ± 12, v in [-12, 80] (mass beyond v = 80 is ~e^-40).
    """
    y = np.asarray(y, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    m = n - y
    ka = np.concatenate([np.arange(v) for v in y]).astype(float)
    kden_a = ka.copy()  # denominators kappa + k, k < y_j
    kb = np.concatenate([np.arange(v) for v in m]).astype(float)
    kden_b = np.concatenate([np.arange(yj, nj) for yj, nj in zip(y, n, strict=True)])
    kden_b = kden_b.astype(float)
    yf, nf = y.astype(float), n.astype(float)

    if prior is None:
        def logprior(u, v, mu, kappa):
            return -0.5 * v + special.log_expit(u) + special.log_expit(-u)
    elif isinstance(prior, Mapping):
        def logprior(u, v, mu, kappa):
            return (prior["mu"].logpdf(mu) + prior["kappa"].logpdf(kappa) + v
                    + special.log_expit(u) + special.log_expit(-u))
    else:
        def logprior(u, v, mu, kappa):
            a, b = kappa * mu, kappa * special.expit(-u)
            return prior(a, b) + 2 * v + special.log_expit(u) + special.log_expit(-u)

    def logpost(u, v):
        kappa = np.exp(v)
        mu = special.expit(u)
        a = kappa * mu
        b = kappa * special.expit(-u)
        ll = (np.sum(np.log((a[:, None] + ka) / (kappa[:, None] + kden_a)), axis=1)
              + np.sum(np.log((b[:, None] + kb) / (kappa[:, None] + kden_b)), axis=1))
        return ll + logprior(u, v, mu, kappa)

    # mode (crude) for the box grid
    res = optimize.minimize(lambda p: -logpost(np.array([p[0]]), np.array([p[1]]))[0],
                            x0=[-1.8, 2.5], method="Nelder-Mead",
                            options={"xatol": 1e-9, "fatol": 1e-13})
    u0, v0 = res.x
    lmax = -res.fun

    def f(x):
        u, v = x[:, 0], x[:, 1]
        lw = logpost(u, v) - lmax
        w = np.exp(lw)
        mu = special.expit(u)
        s = np.exp(-v)
        d = nf[None, :] * s[:, None] + 1.0
        g = (yf[None, :] * s[:, None] + mu[:, None]) / d
        var = g * (1 - g) * s[:, None] / (d + s[:, None])
        r = 1.0 / d
        h = np.stack([mu, u, v], axis=1)
        cols = [w[:, None], w[:, None] * g, w[:, None] * (g * g + var), w[:, None] * r,
                w[:, None] * h, w[:, None] * h * h]
        if positive:  # alpha, beta, kappa (their moments exist only under proper priors)
            kappa = np.exp(v)
            pk = np.stack([kappa * mu, kappa * special.expit(-u), kappa], axis=1)
            cols += [w[:, None] * pk, w[:, None] * pk * pk]
        return np.concatenate(cols, axis=1)

    ub = u0 + np.array([-12, -6, -3, -1.5, -0.75, -0.25, 0, 0.25, 0.75, 1.5, 3, 6, 12])
    vb = np.array([-12, -4, -1, 0, 1, 1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 8, 10, 14, 20, 30, 45, 60,
                   80.0])
    vb = np.sort(np.append(vb, v0))
    tot = None
    for i in range(len(ub) - 1):
        for k in range(len(vb) - 1):
            r = integrate.cubature(f, [ub[i], vb[k]], [ub[i + 1], vb[k + 1]], rtol=rtol,
                                   atol=1e-300, max_subdivisions=100000)
            tot = r.estimate if tot is None else tot + r.estimate
    J = len(y)
    q = tot[1:] / tot[0]
    mg, m2g, rr = q[:J], q[J:2 * J], q[2 * J:3 * J]
    mh, m2h = q[3 * J:3 * J + 3], q[3 * J + 3:3 * J + 6]
    out = {"group_mean": mg, "group_sd": np.sqrt(m2g - mg**2), "shrinkage_mean": rr}
    for i, name in enumerate(("mu", "logit_mu", "log_kappa")):
        out[f"{name}_mean"] = mh[i]
        out[f"{name}_sd"] = math.sqrt(m2h[i] - mh[i] ** 2)
    if positive:
        mp_, m2p = q[3 * J + 6:3 * J + 9], q[3 * J + 9:]
        for i, name in enumerate(("alpha", "beta", "kappa")):
            out[f"{name}_mean"] = mp_[i]
            out[f"{name}_sd"] = math.sqrt(m2p[i] - mp_[i] ** 2)
    return out


def _max_rel(a: dict, b: dict, keys=None) -> float:
    keys = [k for k in (keys or a) if k in b and k not in ("quad_error_estimate",
                                                             "log_normaliser")]
    return max(float(np.max(np.abs(np.asarray(a[k]) / np.asarray(b[k]) - 1.0))) for k in keys)


def _self_check(verbose: bool = True) -> dict:  # pragma: no cover - manual verification
    """Run every cross-check quoted in the module docstring (takes ~15 minutes)."""
    import time

    import scipy.stats as st

    def say(*a):
        if verbose:
            print(*a, flush=True)

    y, n = np.array(RATS_TUMORS), np.array(RATS_RATS)
    out = {"loglik_vs_mpmath_abs": _check_loglik_mpmath()}
    say("loglik vs mpmath (80 digits), max abs diff:", out["loglik_vs_mpmath_abs"])
    priors = {"default": None, "user": {"mu": st.beta(2, 5), "kappa": st.lognorm(1, scale=10)}}
    for name, prior in priors.items():
        t0 = time.time()
        o = BetaBinomialOracle(y, n, prior)
        a = o.summaries()
        say(f"[{name}] summaries: {time.time() - t0:.1f} s")
        t0 = time.time()
        b = _summaries_uv(y, n, prior, rtol=1e-11, positive=prior is not None)
        out[f"{name}_vs_uv"] = _max_rel(a, b)
        say(f"[{name}] (u, v) + 2-d cubature: max rel diff {out[f'{name}_vs_uv']:.2e} "
            f"({time.time() - t0:.0f} s)")
        if prior is not None:
            out[f"{name}_positive_vs_uv"] = _max_rel(o.positive_moments(), b,
                                                     ["alpha_mean", "alpha_sd", "beta_mean",
                                                      "beta_sd", "kappa_mean", "kappa_sd"])
            say(f"[{name}] alpha/beta/kappa moments vs (u, v): "
                f"{out[f'{name}_positive_vs_uv']:.2e}")
        q = BetaBinomialOracle(y, n, prior, inner="quad_vec")
        out[f"{name}_vs_quad_vec_inner"] = _max_rel(a, q.summaries())
        say(f"[{name}] quad_vec inner: max rel diff {out[f'{name}_vs_quad_vec_inner']:.2e}")
        # group CDF / PDF at quantile-like points, both inner integrators
        z = np.array([-1.96, -1.64, 0.0, 1.64, 1.96])[:, None]
        x = np.clip(a["group_mean"] + z * a["group_sd"], 1e-3, 0.9)
        t0 = time.time()
        F, f = o.group_cdf_pdf(x)
        say(f"[{name}] group CDF+PDF at 5x71 points: {time.time() - t0:.1f} s")
        Fq, fq = q.group_cdf_pdf(x)
        out[f"{name}_cdf_vs_quad_vec_inner"] = float(np.max(np.abs(F - Fq)))
        out[f"{name}_pdf_vs_quad_vec_inner"] = float(np.max(np.abs(f / fq - 1)))
        say(f"[{name}] group CDF vs quad_vec inner: max abs {np.max(np.abs(F - Fq)):.2e}, "
            f"PDF max rel {np.max(np.abs(f / fq - 1)):.2e}")
        hx = 1e-4 * x
        Fu, _ = o.group_cdf_pdf(x + hx)
        Fd, _ = o.group_cdf_pdf(x - hx)
        out[f"{name}_pdf_vs_fd"] = float(np.max(np.abs((Fu - Fd) / (2 * hx) / f - 1)))
        say(f"[{name}] group PDF vs finite differences of the CDF: "
            f"{out[f'{name}_pdf_vs_fd']:.1e}")
        h = 1e-5
        # hyper CDF / PDF
        pts = {"mu": [0.12, 0.145, 0.17], "logit_mu": [-1.9, -1.7], "kappa": [8.0, 30.0],
               "log_kappa": [2.0, 3.5], "alpha": [1.2, 2.4, 5.0], "beta": [6.0, 14.0, 30.0]}
        pts = {k: np.array(v) for k, v in pts.items()}
        t0 = time.time()
        H = o.hyper_cdf(pts)
        say(f"[{name}] hyper CDF at 15 points: {time.time() - t0:.1f} s")
        Hq = q.hyper_cdf(pts)
        out[f"{name}_hyper_cdf_vs_quad_vec_inner"] = max(
            float(np.max(np.abs(H[k] - Hq[k]))) for k in pts)
        say(f"[{name}] hyper CDF vs quad_vec inner: "
            f"{out[f'{name}_hyper_cdf_vs_quad_vec_inner']:.2e}")
        logscale = ("logit_mu", "log_kappa")
        up = {k: v + h if k in logscale else v * (1 + h) for k, v in pts.items()}
        dn = {k: v - h if k in logscale else v * (1 - h) for k, v in pts.items()}
        Hu, Hd, P = o.hyper_cdf(up), o.hyper_cdf(dn), o.hyper_pdf(pts)
        worst = 0.0
        for k, v in pts.items():
            step = 2 * h if k in logscale else 2 * h * v
            worst = max(worst, float(np.max(np.abs((Hu[k] - Hd[k]) / step / P[k] - 1))))
        out[f"{name}_hyper_pdf_vs_fd"] = worst
        say(f"[{name}] hyper PDF vs finite differences of the CDF: {worst:.1e}")
    # E[theta] = ∫ (1 - F) dx and E[theta^2] = ∫ 2x (1 - F) dx from the CDF (default prior)
    o = get_oracle(y, n)
    s = o.summaries()
    edges = [0, 1e-5, 1e-4, 1e-3, 0.005, 0.02, 0.06, 0.1, 0.15, 0.2, 0.27, 0.35, 0.45, 0.6, 1.0]
    g, w = np.polynomial.legendre.leggauss(12)
    X = np.concatenate([(a + b) / 2 + (b - a) / 2 * g for a, b in itertools.pairwise(edges)])
    W = np.concatenate([(b - a) / 2 * w for a, b in itertools.pairwise(edges)])
    F, f = o.group_cdf_pdf(np.repeat(X[:, None], len(y), axis=1))
    m1 = (W[:, None] * (1 - F)).sum(0)
    m2 = (W[:, None] * 2 * X[:, None] * (1 - F)).sum(0)
    out["mean_from_cdf_abs"] = float(np.max(np.abs(m1 - s["group_mean"])))
    out["sd_from_cdf_rel"] = float(np.max(np.abs(np.sqrt(m2 - m1**2) / s["group_sd"] - 1)))
    out["pdf_integral_minus_1"] = float(np.max(np.abs((W[:, None] * f).sum(0) - 1)))
    say("∫(1-F) vs mean: max abs", out["mean_from_cdf_abs"], "; sd rel", out["sd_from_cdf_rel"],
        "; ∫pdf - 1:", out["pdf_integral_minus_1"])
    out["tail_log_kappa_20"] = o.upper_tail_log_kappa(20.0)
    out["tail_log_kappa_20_via_cdf"] = 1.0 - float(o.hyper_cdf({"log_kappa": [20.0]})[
        "log_kappa"][0])
    say("P(log kappa > 20):", out["tail_log_kappa_20"], "(1 - CDF:",
        out["tail_log_kappa_20_via_cdf"], ")")
    return out


if __name__ == "__main__":  # pragma: no cover - manual verification
    _self_check()
