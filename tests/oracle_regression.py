"""Independent brute-force reference ("oracle") for hierarchical regression (issue 13).

Written from the model definitions alone (docs MODEL.md sections 2-5 and issue 13); it shares
no code with ``hierbayes`` and is slow and obvious on purpose.  Every function takes plain
numpy arrays and returns a dict of small pandas DataFrames with the columns
``mean, sd, q2.5, q50, q97.5`` (plus scalars), and states the numerical error it reached.

Models
------
Normal-Normal meta-regression / Fay-Herriot (``nn_regression``)::

    y_j ~ N(theta_j, s_j^2)  (s_j known),   theta_j ~ N(x_j' beta, tau^2),
    beta ~ flat  or  N(m, S),   tau ~ p(tau)

Beta-Binomial regression (``bb_regression``)::

    y_j ~ Binomial(n_j, theta_j),   theta_j ~ Beta(mu_j kappa, (1 - mu_j) kappa),
    logit mu_j = x_j' beta,   beta ~ N(m, S) (or a given log density),   kappa ~ p(kappa)

Gamma-Poisson regression with exposure (``gp_regression``)::

    y_j ~ Poisson(theta_j t_j),   theta_j ~ Gamma(shape alpha, rate alpha / mu_j),
    log mu_j = x_j' beta  (so E[theta_j] = mu_j),   beta ~ N(m, S),   alpha ~ p(alpha)

Methods
-------
* ``nn_regression``: one-dimensional adaptive quadrature (``scipy.integrate.quad_vec``,
  GK21, epsrel 1e-12) over tau of p(tau) p(y | tau), where p(y | tau) integrates beta out
  by a route that does not use the weighted-least-squares formula: Gaussian densities
  (``scipy.stats.multivariate_normal``) of the error contrasts K'y ~ N(0, K'VK) (K the
  orthogonal complement of col(X) from a QR factorisation) and, for a normal prior, of
  Q1'y given K'y; for a flat prior the Q1'y factor integrates to |X'X|^(-1/2) (Harville
  1974: the REML likelihood), checked against wide normal priors.  The direct
  N(y; X m, X S X' + V) is kept as a third route (``direct=True``) and the GLS algebra as
  a fourth (``nn_marginal_loglik_gls``).  Given tau, beta | tau, y and theta_j | tau, y are
  normal (``_nn_conditionals``); posterior moments integrate them (two passes: rough, then
  centred and scaled), quantiles solve the normal-mixture CDF (a ``quad_vec`` integral
  over tau) by safeguarded Newton steps; the tau CDF is a ``quad_vec`` integral.  Second,
  wholly different route: ``nn_regression_grid`` integrates the joint density of
  (beta, tau) with beta *not* integrated analytically; ``nn_cdf_check`` recomputes CDFs at
  reported quantiles by scalar ``quad`` with other algebra.  ``reml_fit`` maximises the
  restricted likelihood (the classical sanity check against metafor).
* ``bb_regression`` / ``gp_regression`` (p <= 2 coefficients): dense Gauss-Legendre
  quadrature over (beta, v), v = log kappa or log alpha.  The mode is found by BFGS; the v
  range is mode ± 8 sds, pushed out until the profile log density is 32 below the mode; at
  each of the n_v Gauss-Legendre nodes in v, beta gets its own tensor box (conditional
  mode ± 8 conditional sds, faces pushed out until the log density on the outermost node
  layer is 32 below the global mode) with n_b nodes per axis.  Any box per slice is a valid
  rule; following the conditional keeps it tight where the posterior is a funnel (small
  kappa / alpha leaves beta at its prior).  n_v = n_b grows by 1.25x until every mean and
  sd of (beta, v) changes by < ``tol`` x its sd.  Collapsed likelihoods: Beta-Binomial
  (``scipy.special.betaln``) and negative binomial (``gammaln``, with alpha log(b/(b+t))
  written as -alpha log1p(t/b)).  Group posteriors are the exact mixtures over the nodes
  of Beta(y + mu kappa, n - y + (1 - mu) kappa) or Gamma(alpha + y, rate alpha/mu + t);
  quantiles solve the mixture CDF (``betainc`` / ``gammainc``) on the logit / log scale by
  safeguarded Newton steps.  Hyperparameter quantiles: a first guess from Legendre series
  of the marginal densities on the grid, then Newton steps on CDFs computed by fresh
  Gauss-Legendre quadrature up to the point.

Accuracy reached (measured; see tests/test_oracle_regression_selftest.py)
------------------------------------------------------------------------
* NN (BCG on ablat, N(0, diag(100, 1)) on beta, half-Cauchy(0.5) on tau): epsrel 1e-9 vs
  1e-12 agree to ~3e-13 in every mean, sd and quantile and in log p(y); the 1-d quad route
  and the brute-force (beta, tau) grid agree to ~1e-12 (means, sds, log p(y)); group and tau
  quantiles re-checked by scalar ``quad`` CDFs with the GLS likelihood and joint-conditioning
  conditionals: |F(q) - p| < 1e-11.  The three marginal-likelihood routes agree to 1e-14
  (error contrasts vs GLS) and ~1e-11 (direct N(y; Xm, G), rounding noise of cond(G)).
* BB / GP: the last two refinements change means and sds by ~1e-11 x sd (seeds, pumps,
  lip cancer, p = 1 and 2); at fixed n the error falls super-exponentially (seeds, p = 1:
  3e-5 at n = 32, 5e-8 at 40, 3e-11 at 48, 6e-14 at 56, quantiles included).
* Against hierbayes' no-covariate fits (eight schools, seeds, pumps): < 1e-7 x sd in every
  mean, sd and quantile and < 1e-7 in log p(y) (the self-test's tolerance).
* Caveat: betaln(y + a, n - y + b) - betaln(a, b) and gammaln(y + alpha) - gammaln(alpha)
  lose relative accuracy ~1e-16 x kappa (resp. alpha) (MODEL.md section 7): harmless for
  proper priors that keep kappa, alpha below ~1e6, but not an oracle for kappa -> inf.
* Cost (2 shared cores): NN ~1.5 s; BB/GP p = 1 ~2-12 s; p = 2 ~30-45 s (J = 21-56).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy import integrate, optimize, special, stats

PROBS = (0.025, 0.5, 0.975)
COLUMNS = ["mean", "sd", "q2.5", "q50", "q97.5"]


# =============================================================================================
# shared helpers
# =============================================================================================
def _logpdf_of(prior) -> Callable:
    """A log-density callable from a frozen scipy distribution or a callable."""
    if hasattr(prior, "logpdf"):
        return prior.logpdf
    if callable(prior):
        return prior
    raise TypeError("a prior must be a frozen scipy.stats distribution or a callable; "
                    f"got {prior!r}")


def _log_scale_logpdf(prior=None, log_logpdf=None) -> Callable:
    """Log density of v = log(par) from a frozen prior on par (Jacobian e^v) or on v directly."""
    if (prior is None) == (log_logpdf is None):
        raise ValueError("give exactly one of the prior on the parameter or on its log")
    if log_logpdf is not None:
        return log_logpdf
    return lambda v: prior.logpdf(np.exp(v)) + v


def _coef_logpdf(coef_prior, p: int) -> Callable:
    """Log density of beta (rows of an (N, p) array) from (m, S) or a callable."""
    if callable(coef_prior):
        return coef_prior
    m, S = coef_prior
    mvn = stats.multivariate_normal(np.atleast_1d(m).astype(float), np.atleast_2d(S))
    return lambda b: np.atleast_1d(mvn.logpdf(b.reshape(-1, p)))


def _solve_quantiles(cdf_pdf: Callable, probs, u0, step, *, ftol=1e-14, maxit=200):
    """Solve F(u_i) = p_i for a vector of targets by Newton steps safeguarded by bisection.

    ``cdf_pdf(u)`` returns (F(u), dF/du) for a vector u (one entry per target).  A bracket
    is first found by doubling steps out from u0; Newton steps that leave it are replaced
    by its midpoint.
    """
    probs = np.asarray(probs, float)
    u0 = np.asarray(u0, float)
    step = np.asarray(step, float) * np.ones_like(u0)
    lo, hi = u0 - 2 * step, u0 + 2 * step
    for _ in range(200):
        flo, _ = cdf_pdf(lo)
        fhi, _ = cdf_pdf(hi)
        bad_lo, bad_hi = flo > probs, fhi < probs
        if not (bad_lo.any() or bad_hi.any()):
            break
        width = hi - lo
        lo = np.where(bad_lo, lo - width, lo)
        hi = np.where(bad_hi, hi + width, hi)
    else:  # pragma: no cover
        raise RuntimeError("no bracket for a quantile")
    u = np.clip(u0, lo, hi)
    for _ in range(maxit):
        F, f = cdf_pdf(u)
        r = F - probs
        lo = np.where(r < 0, u, lo)
        hi = np.where(r > 0, u, hi)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = u - r / f
        ok = np.isfinite(newton) & (newton > lo) & (newton < hi)
        tiny = ok & (np.abs(newton - u) <= 1e-13 * (1 + np.abs(u)))
        done = (np.abs(r) <= ftol) | tiny | (hi - lo <= 1e-14 * (1 + np.abs(u)))
        if np.all(done):
            return np.where(tiny, newton, u)
        u_new = np.where(ok, newton, 0.5 * (lo + hi))
        u = np.where(done, u, u_new)
    return u


def _table(names, mean, sd, q) -> pd.DataFrame:
    q = np.asarray(q).reshape(len(mean), len(PROBS))
    data = np.column_stack([mean, sd, q])
    return pd.DataFrame(data, index=pd.Index(list(names)), columns=COLUMNS)


# =============================================================================================
# Normal-Normal meta-regression / Fay-Herriot
# =============================================================================================
def nn_marginal_loglik(tau, y, s2, X, coef_prior=None, *, direct=False) -> float:
    """log p(y | tau) with beta integrated out, WITHOUT the weighted-least-squares formula.

    Routes (all Gaussian densities from ``scipy.stats.multivariate_normal``):

    * ``direct=True``, normal prior (m, S): log N(y; X m, G), G = X S X' + V,
      V = diag(s2 + tau^2).  Exact but ill-conditioned for wide priors (G mixes eigenvalues
      ~|X S X'| with ~s^2; the density then carries rounding noise ~eps cond(G)).
    * default (error contrasts): with [Q1 K] an orthogonal matrix, Q1 spanning col(X) and
      K its complement (QR of X), K'X = 0, so K'y ~ N(0, K'VK) whatever beta is, and
      y = Q1 Q1'y + K K'y gives
      log p(y) = log N(K'y; 0, K'VK) + log N(Q1'y; Q1'X m + R (K'VK)^-1 K'y,
                                              Q1'X S X'Q1 + Q1'VQ1 - R (K'VK)^-1 R'),
      R = Q1'VK (Gaussian conditioning of Q1'y on K'y; both covariances well conditioned).
    * flat prior: log ∫ N(y; X beta, V) d beta = log N(K'y; 0, K'VK) - 1/2 log|X'X| (the
      Q1'y factor integrates to |X'X|^(-1/2) over beta; Harville 1974), the REML likelihood
      up to a constant and the limit of the normal-prior value + (p/2) log(2 pi c^2) for
      S = c^2 I, c -> inf.
    """
    y, s2, X = np.asarray(y, float), np.asarray(s2, float), np.atleast_2d(X)
    J, p = X.shape
    v = s2 + tau**2
    if coef_prior is not None:
        m, S = np.atleast_1d(coef_prior[0]).astype(float), np.atleast_2d(coef_prior[1])
        if direct:
            G = X @ S @ X.T + np.diag(v)
            return float(stats.multivariate_normal(X @ m, G).logpdf(y))
    Q, _ = np.linalg.qr(X, mode="complete")
    Q1, K = Q[:, :p], Q[:, p:]
    KVK = (K.T * v) @ K
    ky = K.T @ y
    out = stats.multivariate_normal(np.zeros(J - p), KVK).logpdf(ky)
    if coef_prior is None:
        return float(out - 0.5 * np.linalg.slogdet(X.T @ X)[1])
    R = (Q1.T * v) @ K
    A = np.linalg.solve(KVK, np.column_stack([ky, R.T]))
    cmean = Q1.T @ X @ m + R @ A[:, 0]
    ccov = Q1.T @ X @ S @ X.T @ Q1 + (Q1.T * v) @ Q1 - R @ A[:, 1:]
    return float(out + stats.multivariate_normal(cmean, 0.5 * (ccov + ccov.T)).logpdf(Q1.T @ y))


def nn_marginal_loglik_gls(tau, y, s2, X, coef_prior=None) -> float:
    """The same quantity by the closed-form generalised-least-squares algebra (second route).

    With W = diag(1/(s2 + tau^2)), P = X'WX + S^-1, b = P^-1 (X'Wy + S^-1 m):
    log p(y | tau) = -1/2 [J log 2 pi + Σ log(s2 + tau^2) + log|P| + log|S|
                          + y'Wy + m'S^-1 m - b'P b]  (the S terms dropped for a flat prior,
    together with p/2 log 2 pi coming back from the beta integral).
    """
    y, s2, X = np.asarray(y, float), np.asarray(s2, float), np.atleast_2d(X)
    J, p = X.shape
    w = 1.0 / (s2 + tau**2)
    P = (X.T * w) @ X
    r = (X.T * w) @ y
    quad = y @ (w * y)
    const = -0.5 * (J * np.log(2 * np.pi) - np.sum(np.log(w)))
    if coef_prior is None:
        const += 0.5 * p * np.log(2 * np.pi)
    else:
        m, S = np.atleast_1d(coef_prior[0]).astype(float), np.atleast_2d(coef_prior[1])
        Si = np.linalg.inv(S)
        P = P + Si
        r = r + Si @ m
        quad += m @ Si @ m
        const -= 0.5 * np.linalg.slogdet(S)[1]
    b = np.linalg.solve(P, r)
    return float(const - 0.5 * np.linalg.slogdet(P)[1] - 0.5 * (quad - b @ P @ b))


def _nn_conditionals(tau, y, s2, X, coef_prior=None):
    """Moments of beta | tau, y and theta | tau, y.

    beta | tau, y ~ N(b, C): normal prior by Gaussian conditioning,
    b = m + S X' G^-1 (y - X m), C = S - S X' G^-1 X S, G = X S X' + diag(s2 + tau^2);
    flat prior: C = (X' W X)^-1, b = C X' W y, W = diag(1/(s2 + tau^2)).
    theta_j | beta, tau, y ~ N(B_j x_j'beta + (1 - B_j) y_j, s2_j tau^2/(s2_j + tau^2)),
    B_j = s2_j/(s2_j + tau^2); averaging over beta | tau, y adds B_j^2 x_j' C x_j to the
    variance.  (Checked against joint Gaussian conditioning of theta on y in the self-test.)
    """
    V = s2 + tau**2
    if coef_prior is None:
        Xw = X.T / V
        C = np.linalg.inv(Xw @ X)
        b = C @ (Xw @ y)
    else:
        m, S = coef_prior
        G = X @ S @ X.T + np.diag(V)
        SXt = S @ X.T
        A = np.linalg.solve(G, np.column_stack([y - X @ m, SXt.T]))
        b = m + SXt @ A[:, 0]
        C = S - SXt @ A[:, 1:]
    B = s2 / V
    tm = B * (X @ b) + (1 - B) * y
    tv = s2 * tau**2 / V + B**2 * np.einsum("jk,kl,jl->j", X, C, X)
    return b, C, tm, tv


def nn_theta_conditionals_joint(tau, y, s2, X, coef_prior):
    """theta | tau, y by a second route: joint Gaussian conditioning, normal beta prior only.

    theta ~ N(X m, Σ), Σ = X S X' + tau^2 I; y = theta + e, e ~ N(0, diag(s2)):
    E[theta | y] = X m + Σ (Σ + D)^-1 (y - X m), Cov = Σ - Σ (Σ + D)^-1 Σ.
    Returns (mean, variance) vectors.
    """
    m, S = np.atleast_1d(coef_prior[0]).astype(float), np.atleast_2d(coef_prior[1])
    J = len(y)
    Sig = X @ S @ X.T + tau**2 * np.eye(J)
    A = np.linalg.solve(Sig + np.diag(s2), Sig)  # (Σ + D)^-1 Σ  (symmetric matrices)
    mean = X @ m + A.T @ (y - X @ m)
    cov = Sig - Sig @ A
    return mean, np.diag(cov).copy()


def _nn_setup(y, std_error, sampling_variance, X):
    y = np.asarray(y, float)
    if (std_error is None) == (sampling_variance is None):
        raise ValueError("give exactly one of std_error and sampling_variance")
    s2 = (np.asarray(std_error, float) ** 2 if sampling_variance is None
          else np.asarray(sampling_variance, float))
    X = np.ones((len(y), 1)) if X is None else np.asarray(X, float).reshape(len(y), -1)
    return y, s2, X


def _tau_support(tau_prior):
    lo, hi = (0.0, np.inf)
    if hasattr(tau_prior, "support"):
        lo, hi = (float(v) for v in tau_prior.support())
    return max(lo, 0.0), hi


def nn_regression(y, X=None, *, std_error=None, sampling_variance=None, coef_prior=None,
                  tau_prior, coef_names=None, epsrel=1e-12) -> dict:
    """Posterior summaries of the Normal-Normal regression by 1-d quadrature over tau.

    Parameters
    ----------
    y : (J,) estimates;  X : (J, p) design (None: intercept only);
    std_error or sampling_variance : (J,) known s_j or s_j^2;
    coef_prior : None (flat on beta) or (m, S), beta ~ N(m, S);
    tau_prior : frozen scipy.stats distribution of tau (normalised; its support bounds the
        integral) or a callable log density of tau on (0, inf) (then no log evidence);
    epsrel : relative tolerance of every ``quad_vec`` call.

    Returns
    -------
    dict with ``hyper`` (tau, tau2), ``coef`` (one row per coefficient), ``groups``
    (theta_j), each with mean, sd, q2.5, q50, q97.5; ``log_evidence`` (log p(y), only for a
    normal coefficient prior and a frozen tau prior, else None); ``tau_mode``.
    """
    y, s2, X = _nn_setup(y, std_error, sampling_variance, X)
    J, p = X.shape
    if coef_prior is not None:
        coef_prior = (np.atleast_1d(coef_prior[0]).astype(float) * np.ones(p),
                      np.atleast_2d(coef_prior[1]).astype(float))
    names = coef_names or [f"b{k}" for k in range(p)]
    lp_tau = _logpdf_of(tau_prior)
    lo, hi = _tau_support(tau_prior)

    cache: dict = {}  # tau -> (log posterior, moments): quad_vec revisits the same nodes

    def at(t):
        t = float(t)
        if t not in cache:
            lpr = float(lp_tau(t))
            lp = lpr + nn_marginal_loglik(t, y, s2, X, coef_prior) if np.isfinite(lpr) else -np.inf
            bb, C, tm, tv = _nn_conditionals(t, y, s2, X, coef_prior)
            cache[t] = (lp, np.concatenate([[t], bb, tm]),
                        np.concatenate([[0.0], np.diag(C), tv]))
        return cache[t]

    def logpost(t):
        return at(t)[0]

    # locate the bulk: coarse log grid, then the mode and a cut-off where the log density
    # has dropped by 60 (mass beyond < e^-60 times the tail length scale)
    top = hi if np.isfinite(hi) else 1e3 * (np.sqrt(np.mean(s2)) + np.std(y) + 1.0)
    grid = np.concatenate([[lo], np.geomspace(max(lo, 1e-8 * top, 1e-300), top, 400)])
    grid = grid[(grid >= lo) & (grid <= hi)]
    lps = np.array([logpost(t) for t in grid])
    i = int(np.nanargmax(lps))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    if b > a:
        res = optimize.minimize_scalar(lambda t: -logpost(t), bounds=(a, b), method="bounded",
                                       options={"xatol": 1e-12 * (1 + b)})
        tmode, lmax = (res.x, -res.fun) if -res.fun > lps[i] else (grid[i], lps[i])
    else:
        tmode, lmax = grid[i], lps[i]
    above = grid[(grid > tmode) & (lps < lmax - 60)]
    upper = float(above[0]) if len(above) else hi
    if not np.isfinite(upper):
        raise RuntimeError("tau posterior does not decay on the search range")
    below = grid[(grid < tmode) & (lps < lmax - 60)]
    lower = float(below[-1]) if len(below) else lo
    pts = [t for t in (tmode, *np.geomspace(max(tmode, 1e-3 * upper), upper, 6)[1:-1])
           if lower < t < upper]

    def dens(t):
        return np.exp(logpost(t) - lmax)

    scale = [0.0]  # absolute tolerance: epsrel x 1e-3 x the normalising constant, once known

    def quadv(fun, a=lower, b=upper, eps=epsrel):
        # (an absolute floor matters: with a wide normal prior X S X' + V is ill-conditioned,
        # the density carries ~1e-10 relative rounding noise, and a pure relative tolerance
        # on a piece with tiny mass never stops subdividing)
        inner = [q for q in pts if a < q < b]
        val, _ = integrate.quad_vec(fun, a, b, epsrel=eps, epsabs=eps * 1e-3 * scale[0],
                                    norm="max", points=inner or None, limit=10_000)
        return val

    def moments(t):
        return at(t)[1:]

    # pass 1: rough centre and scale;  pass 2: centred and scaled, so all components are O(1)
    def f1(t):
        mu, var = moments(t)
        return dens(t) * np.concatenate([[1.0], mu, mu**2 + var])

    r1 = quadv(f1, eps=1e-6)
    scale[0] = r1[0]
    k = 1 + p + J
    c = r1[1:1 + k] / r1[0]
    sc = np.sqrt(np.maximum(r1[1 + k:] / r1[0] - c**2, 0)) + 1e-300

    def f2(t):
        mu, var = moments(t)
        z = (mu - c) / sc
        return dens(t) * np.concatenate([[1.0], z, z**2 + var / sc**2])

    r2 = quadv(f2)
    Z = r2[0]
    ez = r2[1:1 + k] / Z
    mean = c + sc * ez
    sd = sc * np.sqrt(r2[1 + k:] / Z - ez**2)
    Z_tau2 = quadv(lambda t: dens(t) * np.array([t**2, t**4]))
    tau2_mean, tau2_sd = Z_tau2[0] / Z, np.sqrt(Z_tau2[1] / Z - (Z_tau2[0] / Z) ** 2)

    # quantiles of tau: F(x) = ∫_lower^x dens / Z
    def tau_cdf_pdf(u):
        F = np.array([quadv(lambda t: np.array([dens(t)]), lower, min(max(x, lower), upper))[0]
                      if x > lower else 0.0 for x in u]) / Z
        return F, np.array([dens(x) if lower < x < upper else 0.0 for x in u]) / Z

    q_tau = _solve_quantiles(tau_cdf_pdf, PROBS, mean[0] + sd[0] * stats.norm.ppf(PROBS), sd[0])

    # quantiles of beta_k and theta_j: normal mixtures over tau, all targets at once
    tm_, tsd_ = mean[1:], sd[1:]
    zp = stats.norm.ppf(PROBS)
    u0 = (tm_[:, None] + tsd_[:, None] * zp[None, :]).ravel()
    pr = np.tile(PROBS, k - 1)

    def mix_cdf_pdf(u):
        def f(t):
            mu, var = moments(t)
            s = np.sqrt(var[1:])
            m = np.repeat(mu[1:], 3)
            s = np.repeat(s, 3)
            zz = (u - m) / s
            return dens(t) * np.concatenate([special.ndtr(zz), np.exp(-0.5 * zz**2) / (
                np.sqrt(2 * np.pi) * s)])
        r = quadv(f)
        return r[: len(u)] / Z, r[len(u):] / Z

    q_mix = _solve_quantiles(mix_cdf_pdf, pr, u0, np.repeat(tsd_, 3))

    hyper = pd.DataFrame(
        [[mean[0], sd[0], *q_tau], [tau2_mean, tau2_sd, *(q_tau**2)]],
        index=pd.Index(["tau", "tau2"]), columns=COLUMNS)
    coef = _table(names, mean[1:1 + p], sd[1:1 + p], q_mix[: 3 * p])
    groups = _table(range(J), mean[1 + p:], sd[1 + p:], q_mix[3 * p:])
    proper = coef_prior is not None and hasattr(tau_prior, "logpdf")
    return {"hyper": hyper, "coef": coef, "groups": groups,
            "log_evidence": float(np.log(Z) + lmax) if proper else None,
            "tau_mode": float(tmode), "tau_range": (lower, upper)}


@functools.lru_cache(maxsize=64)
def _leggauss(n):
    return np.polynomial.legendre.leggauss(n)


def _gl(a, b, n):
    x, w = _leggauss(n)
    return 0.5 * (b - a) * x + 0.5 * (a + b), 0.5 * (b - a) * w


def _gl_panels(edges, n):
    xs, ws = zip(*(_gl(a, b, n) for a, b in itertools.pairwise(edges)), strict=True)
    return np.concatenate(xs), np.concatenate(ws)


def nn_regression_grid(y, X=None, *, std_error=None, sampling_variance=None, coef_prior=None,
                       tau_prior, n_coef=64, n_tau=16, tau_panels=24, half_width=14.0) -> dict:
    """Second, independent route for the NN model: brute-force quadrature over (beta, tau).

    The joint density p(tau) p(beta) Π_j N(y_j; x_j'beta, s_j^2 + tau^2) is summed over
    nodes; no integral over beta is done analytically.  tau: ``tau_panels`` Gauss-Legendre
    panels of ``n_tau`` nodes, graded towards the lower end of the range ``nn_regression``
    found.  beta at each tau node: a tensor product of 4 Gauss-Legendre panels of
    n_coef/4 nodes per axis over ± ``half_width`` in z, beta = b(tau) + L(tau) z, with
    b(tau), L(tau) L(tau)' the conditional mean and covariance of beta (used only to place
    the nodes where the mass is; the integrand is the joint density itself, with the
    Jacobian |L(tau)|).  theta_j moments use theta_j | beta, tau, y ~ N(B_j x_j'beta +
    (1 - B_j) y_j, s_j^2 tau^2/(s_j^2 + tau^2)).  Returns means/sds of tau, beta and theta,
    and the log of ∫ joint (the log evidence when both priors are proper).
    """
    y, s2, X = _nn_setup(y, std_error, sampling_variance, X)
    p = X.shape[1]
    if coef_prior is not None:
        coef_prior = (np.atleast_1d(coef_prior[0]).astype(float) * np.ones(p),
                      np.atleast_2d(coef_prior[1]).astype(float))
    ref = nn_regression(y, X, sampling_variance=s2, coef_prior=coef_prior,
                        tau_prior=tau_prior, epsrel=1e-6)
    lower, upper = ref["tau_range"]
    zn, zw = _gl_panels(np.linspace(-half_width, half_width, 5), n_coef // 4)
    Z = np.stack(np.meshgrid(*([zn] * p), indexing="ij"), -1).reshape(-1, p)
    logWZ = np.log(np.prod(np.stack(np.meshgrid(*([zw] * p), indexing="ij"), -1)
                           .reshape(-1, p), 1))
    lpc = _coef_logpdf(coef_prior, p) if coef_prior is not None else (lambda b: 0.0)
    edges = lower + (upper - lower) * np.linspace(0, 1, tau_panels + 1) ** 3
    tn, tw = _gl_panels(edges, n_tau)
    lp_tau = _logpdf_of(tau_prior)
    logw, sums = [], []
    for t, w in zip(tn, tw, strict=True):
        v = s2 + t**2
        bc, C, _, _ = _nn_conditionals(t, y, s2, X, coef_prior)
        L = np.linalg.cholesky(C)
        B = bc + Z @ L.T
        eta = B @ X.T
        ll = -0.5 * np.sum(np.log(2 * np.pi * v) + (y - eta) ** 2 / v, axis=1)
        lw = ll + lpc(B) + logWZ + np.log(np.linalg.det(L)) + np.log(w) + lp_tau(t)
        Bj = s2 / v
        cm = Bj * eta + (1 - Bj) * y
        cv = s2 * t**2 / v
        logw.append(lw)
        sums.append((B, cm, cv))
    logw = np.array(logw)
    lmax = logw.max()
    W = np.exp(logw - lmax)
    Zs = W.sum()
    W /= Zs
    wt = W.sum(1)
    t_mean = wt @ tn
    t_sd = np.sqrt(wt @ (tn - t_mean) ** 2)
    b_mean = sum(W[i] @ sums[i][0] for i in range(len(tn)))
    b_sd = np.sqrt(sum(W[i] @ (sums[i][0] - b_mean) ** 2 for i in range(len(tn))))
    th_m = sum(W[i] @ sums[i][1] for i in range(len(tn)))
    th_v = sum(W[i] @ (sums[i][1] - th_m) ** 2 + wt[i] * sums[i][2] for i in range(len(tn)))
    return {"tau": (t_mean, t_sd), "coef_mean": b_mean, "coef_sd": b_sd,
            "theta_mean": th_m, "theta_sd": np.sqrt(th_v),
            "log_evidence": float(np.log(Zs) + lmax)}


def nn_cdf_check(q_theta, q_tau, y, X=None, *, std_error=None, sampling_variance=None,
                 coef_prior, tau_prior, lower, upper, points=(), rows=None) -> tuple:
    """CDFs at reported quantiles by a second route, to check them.

    P(theta_j <= q_theta[j, k] | y) and P(tau <= q_tau[k] | y) by scalar
    ``scipy.integrate.quad`` over tau in [lower, upper] (break points ``points``), with
    p(y | tau) from ``nn_marginal_loglik_gls`` and theta_j | tau, y from
    ``nn_theta_conditionals_joint`` (joint Gaussian conditioning; normal beta prior).
    ``rows``: the groups q_theta refers to (default all).
    Returns (theta CDFs (len(rows), k), tau CDFs (k,)).
    """
    y, s2, X = _nn_setup(y, std_error, sampling_variance, X)
    q_theta = np.asarray(q_theta, float)
    lp_tau = _logpdf_of(tau_prior)
    grid = np.linspace(lower, upper, 2001)[1:-1]
    lmax = max(lp_tau(t) + nn_marginal_loglik_gls(t, y, s2, X, coef_prior) for t in grid)

    def dens(t):
        return np.exp(lp_tau(t) + nn_marginal_loglik_gls(t, y, s2, X, coef_prior) - lmax)

    def quad(f, a=lower, b=upper):
        pts = [x for x in points if a < x < b] or None
        return integrate.quad(f, a, b, epsabs=0, epsrel=1e-12, limit=500, points=pts)[0]

    Z = quad(dens)
    F_tau = np.array([quad(dens, lower, x) / Z for x in np.atleast_1d(q_tau)])
    rows = range(len(y)) if rows is None else rows
    F = np.zeros_like(q_theta)
    for i, j in enumerate(rows):
        for k in range(q_theta.shape[1]):
            def f(t, i=i, j=j, k=k):
                m, v = nn_theta_conditionals_joint(t, y, s2, X, coef_prior)
                return dens(t) * special.ndtr((q_theta[i, k] - m[j]) / np.sqrt(v[j]))
            F[i, k] = quad(f) / Z
    return F, F_tau


def reml_fit(y, X=None, *, std_error=None, sampling_variance=None) -> dict:
    """Classical REML meta-regression by maximising the restricted likelihood over tau^2 >= 0.

    The restricted log likelihood is ``nn_marginal_loglik(tau, ..., coef_prior=None)`` (the
    flat-prior marginal, error-contrast form); beta-hat and its standard errors are the GLS
    estimate and sqrt(diag((X'WX)^-1)) at the maximising tau^2.
    """
    y, s2, X = _nn_setup(y, std_error, sampling_variance, X)

    def neg(t2):
        return -nn_marginal_loglik(np.sqrt(t2), y, s2, X, None)

    top = 10 * (np.var(y) + np.mean(s2))
    grid = np.linspace(0, top, 201)
    i = int(np.argmin([neg(t) for t in grid]))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, 200)]
    res = optimize.minimize_scalar(neg, bounds=(a, b), method="bounded",
                                   options={"xatol": 1e-12})
    t2 = res.x if res.fun < neg(0.0) else 0.0
    b_, C, _, _ = _nn_conditionals(np.sqrt(t2), y, s2, X, None)
    return {"tau2": float(t2), "coef": b_, "se": np.sqrt(np.diag(C))}


# =============================================================================================
# tensor-grid engine for the Beta-Binomial and Gamma-Poisson regressions
# =============================================================================================
def _fd_hessian(f, x, h=1e-4):
    d = len(x)
    H = np.zeros((d, d))
    E = np.eye(d) * h
    for i in range(d):
        for j in range(i, d):
            H[i, j] = H[j, i] = (f(x + E[i] + E[j]) - f(x + E[i] - E[j])
                                 - f(x - E[i] + E[j]) + f(x - E[i] - E[j])) / (4 * h * h)
    return H


def _chunked(logpost, pts, chunk=20_000):
    return np.concatenate([logpost(pts[i:i + chunk]) for i in range(0, len(pts), chunk)])


def _legendre_cdf(dens_at_nodes, n):
    """CDF on [-1, 1] of a density given at the n Gauss-Legendre nodes (Legendre series of
    degree n - 1, integrated exactly), as a callable of t."""
    t, wt = _leggauss(n)
    V = np.polynomial.legendre.legvander(t, n - 1)
    coefs = (V * (wt * dens_at_nodes)[:, None]).sum(0) * (2 * np.arange(n) + 1) / 2
    return np.polynomial.legendre.Legendre(coefs).integ(lbnd=-1)


class _SliceGrid:
    """Gauss-Legendre quadrature over (beta, v): n_v nodes in v on [v_lo, v_hi]; at each
    v node its own box in beta (conditional mode ± ``width`` conditional sds, faces pushed
    out until the log density there is ``drop`` below the global maximum), with n_b nodes
    per beta axis.  Any box per slice is a valid rule for the inner integral; following
    the conditional keeps the rule tight where the posterior is a funnel (small kappa or
    alpha leaves beta to its prior).
    """

    def __init__(self, logpost, p, v_lo, v_hi, n_v, n_b, lmax, cond, *, drop, width):
        self.p, self.n_v, self.n_b, self.v_lo, self.v_hi = p, n_v, n_b, v_lo, v_hi
        self.logpost, self.lmax, self.cond, self.drop, self.width = (
            logpost, lmax, cond, drop, width)
        vn, vw = _gl(v_lo, v_hi, n_v)
        pts, lws, boxes = [], [], []
        for v, wv in zip(vn, vw, strict=True):
            x, lw, lo, hi = self._slice(v)
            pts.append(x)
            lws.append(np.log(wv) + lw)
            boxes.append((lo, hi))
        self.pts = np.concatenate(pts)
        lw = np.concatenate(lws)
        self.top = lw.max()
        full = np.exp(lw - self.top)
        self.Z = full.sum()  # normalising constant / exp(top)
        self.logZ = float(np.log(self.Z) + self.top)
        self.w = full / self.Z
        self.boxes = boxes
        self.n = (n_v, n_b)

    def _slice(self, v, box=None, k=None, upper=None):
        """Nodes and log(density x weight) of the slice at v: the tensor rule on its box, or
        (k, upper given) on the box with axis k cut at ``upper``, or (upper=None, k given,
        box given) exactly on ``box``."""
        p, n_b = self.p, self.n_b
        if box is None:
            if hasattr(self, "boxes"):  # a new v after the grid: interpolate the boxes
                vn = _gl(self.v_lo, self.v_hi, self.n_v)[0]
                lo = np.array([np.interp(v, vn, [b[0][i] for b in self.boxes])
                               for i in range(p)])
                hi = np.array([np.interp(v, vn, [b[1][i] for b in self.boxes])
                               for i in range(p)])
                bsd = (hi - lo) / (2 * self.width)
            else:
                bm, bsd = self.cond(v)
                lo, hi = bm - self.width * bsd, bm + self.width * bsd
            for _ in range(100):
                rules = [_gl(a, b, n_b) for a, b in zip(lo, hi, strict=True)]
                bp = np.stack(np.meshgrid(*[r[0] for r in rules], indexing="ij"),
                              -1).reshape(-1, p)
                x = np.column_stack([bp, np.full(len(bp), v)])
                lp = _chunked(self.logpost, x).reshape([n_b] * p)
                edge = self.lmax - self.drop
                grow_lo = np.array([np.take(lp, 0, axis=i).max() > edge for i in range(p)])
                grow_hi = np.array([np.take(lp, n_b - 1, axis=i).max() > edge
                                    for i in range(p)])
                if not (grow_lo.any() or grow_hi.any()):
                    break
                lo = np.where(grow_lo, lo - 2 * bsd, lo)
                hi = np.where(grow_hi, hi + 2 * bsd, hi)
            else:  # pragma: no cover
                raise RuntimeError("posterior does not decay in beta: improper?")
        else:
            lo, hi = np.array(box[0], float), np.array(box[1], float)
            if k is not None:
                hi[k] = upper
            rules = [_gl(a, b, n_b) for a, b in zip(lo, hi, strict=True)]
            bp = np.stack(np.meshgrid(*[r[0] for r in rules], indexing="ij"), -1).reshape(-1, p)
            x = np.column_stack([bp, np.full(len(bp), v)])
            lp = _chunked(self.logpost, x).reshape([n_b] * p)
        lw = lp
        for i, (_, w) in enumerate(rules):
            shape = [1] * p
            shape[i] = n_b
            lw = lw + np.log(w).reshape(shape)
        return x, lw.ravel(), lo, hi

    def _mass(self, lw):
        return float(np.exp(lw - self.top).sum() / self.Z)

    def cdf_pdf(self, k, x):
        """P(coordinate k <= x | y) and its density, by fresh Gauss-Legendre quadrature."""
        p = self.p
        if k == p:
            if x <= self.v_lo:
                return 0.0, 0.0
            x = min(x, self.v_hi)
            vn, vw = _gl(self.v_lo, x, self.n_v)
            F = sum(self._mass(np.log(w) + self._slice(v)[1]) for v, w in zip(vn, vw,
                                                                               strict=True))
            return F, self._mass(self._slice(x)[1])
        vn, vw = _gl(self.v_lo, self.v_hi, self.n_v)
        F = f = 0.0
        for (v, w), (lo, hi) in zip(zip(vn, vw, strict=True), self.boxes, strict=True):
            if x >= hi[k]:
                F += self._mass(np.log(w) + self._slice(v, (lo, hi))[1])
            elif x > lo[k]:
                F += self._mass(np.log(w) + self._slice(v, (lo, hi), k, x)[1])
            if lo[k] < x < hi[k] and p > 1:  # density: integrate the other axis at beta_k = x
                other = next(i for i in range(p) if i != k)
                bn, bw = _gl(lo[other], hi[other], self.n_b)
                pts = np.zeros((self.n_b, p + 1))
                pts[:, k], pts[:, other], pts[:, p] = x, bn, v
                f += self._mass(np.log(w) + np.log(bw) + self.logpost(pts))
            elif lo[k] < x < hi[k]:
                f += self._mass(np.log(w) + self.logpost(np.array([[x, v]])))
        return F, f

    def moments(self):
        m = self.w @ self.pts
        return m, np.sqrt(self.w @ (self.pts - m) ** 2)

    def quantiles(self, k, probs=PROBS):
        """Quantiles of coordinate k (k = p: v): a first guess from Legendre series of the
        marginal densities on the grid, then Newton steps on ``cdf_pdf`` (fresh quadrature:
        the interpolating series is only accurate to ~half the quadrature's degree)."""
        p, n_v, n_b = self.p, self.n_v, self.n_b
        W = self.w.reshape([n_v] + [n_b] * p)
        _, wt_b = _leggauss(n_b)
        if k == p:
            _, wt_v = _leggauss(n_v)
            cdf = _legendre_cdf(W.reshape(n_v, -1).sum(1) / wt_v, n_v)
            a, b = self.v_lo, self.v_hi

            def F(x):
                return cdf(np.clip((2 * x - a - b) / (b - a), -1, 1))
        else:
            parts = []
            for s in range(n_v):
                marg = W[s].sum(axis=tuple(i + 1 for i in range(p - 1)) if k == 0
                                else tuple(i for i in range(p) if i != k))
                parts.append((_legendre_cdf(marg / wt_b, n_b), self.boxes[s][0][k],
                              self.boxes[s][1][k]))
            a = min(q[1] for q in parts)
            b = max(q[2] for q in parts)

            def F(x):
                return sum(c(np.clip((2 * x - lo - hi) / (hi - lo), -1, 1))
                           for c, lo, hi in parts)
        total = F(b)
        out = []
        for q in probs:
            x = optimize.brentq(lambda x, q=q: F(x) / total - q, a, b, xtol=1e-14)
            for _ in range(6):
                Fx, fx = self.cdf_pdf(k, x)
                dx = (Fx - q) / fx
                x -= dx
                if abs(dx) < 1e-13 * (1 + abs(x)):
                    break
            out.append(x)
        return np.array(out)


def _fit_grid(logpost, x0, p, *, tol, n0, n_max, n_fixed=None, drop=32.0, width=8.0):
    """Mode, v range, conditional boxes, refinement (n_v and n_b grow by 1.5x until every
    hyperparameter mean and sd changes by < tol x its sd).  Returns the grid and the change."""
    def f(x):
        return -float(logpost(np.asarray(x)[None, :])[0])

    mode = optimize.minimize(f, x0, method="BFGS", options={"gtol": 1e-8}).x
    lmax = -f(mode)
    sd = np.sqrt(np.diag(np.linalg.inv(-_fd_hessian(lambda x: -f(x), mode))))
    cache: dict = {}
    start = [mode[:p]]

    def cond(v):  # conditional mode and sds of beta given v (places the slice's box only)
        v = float(v)
        if v not in cache:
            def fb(b):
                return f(np.append(b, v))
            bm = optimize.minimize(fb, start[0], method="BFGS", options={"gtol": 1e-7}).x
            Hb = _fd_hessian(lambda b: -fb(b), bm)
            cache[v] = (bm, np.sqrt(np.diag(np.linalg.inv(-Hb))), -fb(bm))
            start[0] = bm
        return cache[v][:2]

    def profile(v):
        cond(v)
        return cache[float(v)][2]

    v_lo, v_hi = mode[p] - width * sd[p], mode[p] + width * sd[p]
    while profile(v_lo) > lmax - drop:
        start[0] = mode[:p]
        v_lo -= 2 * sd[p]
    while profile(v_hi) > lmax - drop:
        start[0] = mode[:p]
        v_hi += 2 * sd[p]
    n_v, n_b = (n_fixed, n_fixed) if n_fixed else (n0, n0)
    g = _SliceGrid(logpost, p, v_lo, v_hi, n_v, n_b, lmax, cond, drop=drop, width=width)
    change = np.nan
    if n_fixed is None:
        while True:
            m0, s0 = g.moments()
            n_v, n_b = int(np.ceil(1.25 * n_v)), int(np.ceil(1.25 * n_b))
            g = _SliceGrid(logpost, p, v_lo, v_hi, n_v, n_b, lmax, cond, drop=drop,
                           width=width)
            m1, s1 = g.moments()
            change = float(max(np.max(np.abs(m1 - m0) / s1), np.max(np.abs(s1 - s0) / s1)))
            if change < tol or max(n_v, n_b) >= n_max:
                break
    return g, change


def _mixture_summaries(w, comp_moments, comp_cdf_pdf, transform):
    """Mean, sd and PROBS quantiles of one group's mixture posterior.

    w: (N,) weights; comp_moments() -> (means, variances) per node; comp_cdf_pdf(x) ->
    (CDF (N, k), PDF (N, k)) at k points; transform: (to_u, from_u, dx_du) scale.
    """
    cm, cv = comp_moments()
    mean = w @ cm
    sd = np.sqrt(w @ cv + w @ (cm - mean) ** 2)
    to_u, from_u, dxdu = transform

    def cdf_pdf(u):
        x = from_u(u)
        F, f = comp_cdf_pdf(x)
        return w @ F, (w @ f) * dxdu(u)

    u0 = np.full(3, to_u(mean))
    step = sd / dxdu(u0[0])
    q = from_u(_solve_quantiles(cdf_pdf, PROBS, u0 + stats.norm.ppf(PROBS) * step, step))
    return mean, sd, q


def _prune(w, rel=1e-17):
    keep = w > rel * w.max()
    return keep


# =============================================================================================
# Beta-Binomial regression
# =============================================================================================
def bb_loglik(beta, v, y, n, X):
    """Collapsed log likelihood Σ_j log B(y_j + a_j, n_j - y_j + b_j) - log B(a_j, b_j)
    (binomial coefficients dropped), a_j = mu_j kappa, b_j = (1 - mu_j) kappa,
    mu_j = expit(x_j'beta), kappa = exp(v).  beta (N, p), v (N,) -> (N,)."""
    eta = np.atleast_2d(beta) @ X.T
    kappa = np.exp(np.atleast_1d(v))[:, None]
    a = special.expit(eta) * kappa
    b = special.expit(-eta) * kappa
    return np.sum(special.betaln(y + a, (n - y) + b) - special.betaln(a, b), axis=1)


def bb_regression(successes, trials, X=None, *, coef_prior, kappa_prior=None,
                  log_kappa_logpdf=None, coef_names=None, tol=1e-9, n0=32, n_max=120,
                  n=None) -> dict:
    """Posterior summaries of the Beta-Binomial regression by tensor Gauss-Legendre quadrature.

    Parameters
    ----------
    successes, trials : (J,) integer arrays;  X : (J, p) design, p <= 2 (None: intercept);
    coef_prior : (m, S) for beta ~ N(m, S), or a callable log density of beta taking an
        (N, p) array (e.g. the density of logit mu when mu ~ Beta(a, b));
    kappa_prior : frozen scipy distribution of kappa, or ``log_kappa_logpdf``: a callable
        log density of v = log kappa;
    tol : refinement stops when every mean and sd changes by < tol (relative to the sd);
    n : a fixed number of nodes per axis (no refinement), for convergence studies.

    Returns
    -------
    dict: ``hyper`` (coefficients and log_kappa), ``groups`` (theta_j), both with mean, sd,
    q2.5, q50, q97.5; ``log_evidence`` (log ∫ Π_j BetaBin(y_j | ...) p(beta) p(kappa),
    binomial coefficients included: log p(y) when both prior densities given are
    normalised); ``change`` (last refinement's relative change); ``n`` (nodes per axis).
    """
    y = np.asarray(successes, float)
    nn = np.asarray(trials, float)
    J = len(y)
    X = np.ones((J, 1)) if X is None else np.asarray(X, float).reshape(J, -1)
    p = X.shape[1]
    lpc = _coef_logpdf(coef_prior, p)
    lpv = _log_scale_logpdf(kappa_prior, log_kappa_logpdf)

    def logpost(pts):
        beta, v = pts[:, :p], pts[:, p]
        return bb_loglik(beta, v, y, nn, X) + lpc(beta) + lpv(v)

    pbar = (y.sum() + 0.5) / (nn.sum() + 1)
    x0 = np.concatenate([[special.logit(pbar)], np.zeros(p - 1), [np.log(10.0)]])
    if p > 2:
        raise ValueError(f"the tensor-grid oracle handles p <= 2 coefficients; got p = {p}")
    g, change = _fit_grid(logpost, x0, p, tol=tol, n0=n0, n_max=n_max, n_fixed=n)
    m, s = g.moments()
    hq = np.array([g.quantiles(k) for k in range(p + 1)])
    names = (coef_names or [f"b{k}" for k in range(p)]) + ["log_kappa"]
    hyper = _table(names, m, s, hq)

    keep = _prune(g.w)
    w = g.w[keep] / g.w[keep].sum()
    pts = g.pts[keep]
    eta = pts[:, :p] @ X.T
    kappa = np.exp(pts[:, p])
    rows = []
    logit = (special.logit, special.expit, lambda u: special.expit(u) * special.expit(-u))
    for j in range(J):
        A = y[j] + special.expit(eta[:, j]) * kappa
        B = (nn[j] - y[j]) + special.expit(-eta[:, j]) * kappa

        def comp_moments(A=A, B=B):
            mm = A / (A + B)
            return mm, mm * (B / (A + B)) / (A + B + 1)

        def comp_cdf_pdf(x, A=A, B=B):
            x = np.asarray(x)[None, :]
            return (special.betainc(A[:, None], B[:, None], x),
                    np.exp(stats.beta.logpdf(x, A[:, None], B[:, None])))

        rows.append(_mixture_summaries(w, comp_moments, comp_cdf_pdf, logit))
    groups = _table(range(J), [r[0] for r in rows], [r[1] for r in rows],
                    np.array([r[2] for r in rows]))
    logbin = float(np.sum(special.gammaln(nn + 1) - special.gammaln(y + 1)
                          - special.gammaln(nn - y + 1)))
    return {"hyper": hyper, "groups": groups, "change": change, "n": g.n,
            "log_evidence": g.logZ + logbin,
            "v_range": (g.v_lo, g.v_hi)}


# =============================================================================================
# Gamma-Poisson regression with exposure
# =============================================================================================
def gp_loglik(beta, v, y, t, X):
    """Collapsed (negative binomial) log likelihood, log y! dropped:
    Σ_j gammaln(y_j + a) - gammaln(a) - a log1p(r_j) + y_j (log r_j - log1p(r_j)),
    a = exp(v) the shape, mu_j = exp(x_j'beta) the mean, rate a/mu_j, r_j = t_j mu_j / a."""
    eta = np.atleast_2d(beta) @ X.T
    v = np.atleast_1d(v)[:, None]
    a = np.exp(v)
    logr = np.log(t) + eta - v
    l1p = np.log1p(np.exp(logr))
    return np.sum(special.gammaln(y + a) - special.gammaln(a) - a * l1p + y * (logr - l1p),
                  axis=1)


def gp_regression(counts, exposure, X=None, *, coef_prior, shape_prior=None,
                  log_shape_logpdf=None, coef_names=None, tol=1e-9, n0=32, n_max=120,
                  n=None) -> dict:
    """Posterior summaries of the Gamma-Poisson regression by tensor Gauss-Legendre quadrature.

    theta_j ~ Gamma(shape alpha, rate alpha/mu_j), mu_j = exp(x_j'beta); y_j ~ Poisson(theta_j
    t_j).  Arguments as in ``bb_regression``, with ``shape_prior`` a frozen distribution of
    alpha or ``log_shape_logpdf`` a log density of log alpha.  ``hyper`` has the
    coefficients and ``log_shape``; ``log_evidence`` includes the log y_j! terms.
    """
    y = np.asarray(counts, float)
    t = np.asarray(exposure, float)
    J = len(y)
    X = np.ones((J, 1)) if X is None else np.asarray(X, float).reshape(J, -1)
    p = X.shape[1]
    lpc = _coef_logpdf(coef_prior, p)
    lpv = _log_scale_logpdf(shape_prior, log_shape_logpdf)

    def logpost(pts):
        beta, v = pts[:, :p], pts[:, p]
        return gp_loglik(beta, v, y, t, X) + lpc(beta) + lpv(v)

    x0 = np.concatenate([[np.log((y.sum() + 0.5) / t.sum())], np.zeros(p - 1), [0.0]])
    if p > 2:
        raise ValueError(f"the tensor-grid oracle handles p <= 2 coefficients; got p = {p}")
    g, change = _fit_grid(logpost, x0, p, tol=tol, n0=n0, n_max=n_max, n_fixed=n)
    m, s = g.moments()
    hq = np.array([g.quantiles(k) for k in range(p + 1)])
    names = (coef_names or [f"b{k}" for k in range(p)]) + ["log_shape"]
    hyper = _table(names, m, s, hq)

    keep = _prune(g.w)
    w = g.w[keep] / g.w[keep].sum()
    pts = g.pts[keep]
    mu = np.exp(pts[:, :p] @ X.T)
    alpha = np.exp(pts[:, p])
    logt = (np.log, np.exp, np.exp)
    rows = []
    for j in range(J):
        shape = alpha + y[j]
        rate = alpha / mu[:, j] + t[j]

        def comp_moments(shape=shape, rate=rate):
            return shape / rate, shape / rate**2

        def comp_cdf_pdf(x, shape=shape, rate=rate):
            x = np.asarray(x)[None, :]
            return (special.gammainc(shape[:, None], rate[:, None] * x),
                    np.exp(stats.gamma.logpdf(x, shape[:, None], scale=1 / rate[:, None])))

        rows.append(_mixture_summaries(w, comp_moments, comp_cdf_pdf, logt))
    groups = _table(range(J), [r[0] for r in rows], [r[1] for r in rows],
                    np.array([r[2] for r in rows]))
    return {"hyper": hyper, "groups": groups, "change": change, "n": g.n,
            "log_evidence": g.logZ - float(np.sum(special.gammaln(y + 1))),
            "v_range": (g.v_lo, g.v_hi)}
