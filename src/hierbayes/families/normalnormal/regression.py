"""Normal–Normal meta-regression (Fay–Herriot): partial pooling toward x_j'beta (issue 13).

    y_j ~ Normal(theta_j, s_j²),   theta_j ~ Normal(x_j'beta, tau²),
    beta ~ flat or Normal(m0, diag(v0)),   tau ~ the family's tau prior.

Given tau, beta | tau, y is normal (a weighted least-squares solve) and
p(y | tau) is closed form, so the integral stays one-dimensional in tau and
exact (MODEL.md §4 with mu replaced by x_j'beta). Every theta_j is an exact
mixture over the tau points of the normals
``y_j + B_j (x_j'beta_hat − y_j)``, variance ``s_j²(1 − B_j) + B_j² x_j'C x_j``,
with B_j = s_j²/(s_j² + tau²) and beta | tau, y ~ Normal(beta_hat, C).

With a flat prior on beta, log p(y | tau) is the restricted likelihood
−½ log|V| − ½ r'V⁻¹r − ½ log|X'V⁻¹X| up to a constant (V = diag(s² + tau²)).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.data.design import Design
from hierbayes.errors import HierBayesError, ImproperPosteriorError, PriorError
from hierbayes.families.normalnormal.data import NormalSummaries
from hierbayes.families.normalnormal.fit import NormalNormalResult
from hierbayes.families.normalnormal.math import normal_mixture_quantiles
from hierbayes.families.normalnormal.taugrid import integrate_tau
from hierbayes.mathml import block, dist, num, op, row, sub, sup
from hierbayes.result import HyperPoints, quantile_label

__all__ = ["NormalRegressionResult", "fit_regression", "regression_loglik"]

_LOG_2PI = math.log(2.0 * math.pi)
_CHUNK = 1 << 20


def regression_loglik(
    tau2: np.ndarray, y: np.ndarray, s2: np.ndarray, X: np.ndarray,
    coef_prior: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log p(y | tau) with beta integrated out, and beta | tau, y ~ Normal(b, C).

    Parameters
    ----------
    tau2 : numpy.ndarray
        Values of tau² (1-d).
    y, s2 : numpy.ndarray
        Estimates and their variances, one per group.
    X : numpy.ndarray
        Design, (groups, p).
    coef_prior : (m0, v0) or None
        Independent normal priors on the coefficients (means, variances); None
        is flat (then log p(y | tau) is up to the flat prior's constant).

    Returns
    -------
    loglik : (points,), b : (points, p), C : (points, p, p)

    Examples
    --------
    With one intercept column it is the family's collapsed likelihood:

    >>> y, s2 = np.array([1.0, 3.0]), np.array([1.0, 1.0])
    >>> ll, b, C = regression_loglik(np.array([0.0]), y, s2, np.ones((2, 1)))
    >>> float(b[0, 0]), float(C[0, 0, 0])
    (2.0, 0.5)
    """
    t2 = np.asarray(tau2, dtype=float).reshape(-1)
    n, p = X.shape
    # centre y on the tau = 0 weighted least-squares fit: residuals are then small
    w0 = 1.0 / s2
    ref = np.linalg.lstsq(X * np.sqrt(w0)[:, None], y * np.sqrt(w0), rcond=None)[0]
    yc = y - X @ ref
    ll = np.empty(t2.size)
    b = np.empty((t2.size, p))
    C = np.empty((t2.size, p, p))
    step = max(1, _CHUNK // max(n * p, 1))
    for i in range(0, t2.size, step):
        var = s2[None, :] + t2[i : i + step, None]
        w = 1.0 / var
        P = np.einsum("kn,ni,nj->kij", w, X, X)
        r = np.einsum("kn,ni,n->ki", w, X, yc)
        if coef_prior is not None:
            m0, v0 = coef_prior
            P = P + np.diag(1.0 / v0)[None, :, :]
            r = r + ((m0 - ref) / v0)[None, :]
        L = np.linalg.cholesky(P)
        bk = np.linalg.solve(P, r[..., None])[..., 0]
        res = yc[None, :] - bk @ X.T
        val = (-0.5 * np.log(var).sum(axis=1) - 0.5 * (w * res * res).sum(axis=1)
               - np.log(np.diagonal(L, axis1=1, axis2=2)).sum(axis=1))
        if coef_prior is None:
            val = val - 0.5 * _LOG_2PI * (n - p)
        else:
            dev = bk - (m0 - ref)[None, :]
            val = (val - 0.5 * (dev * dev / v0).sum(axis=1) - 0.5 * np.log(v0).sum()
                   - 0.5 * _LOG_2PI * n)
        ll[i : i + step] = val
        b[i : i + step] = bk + ref
        C[i : i + step] = np.linalg.inv(P)
    return ll, b, C


def _coef_prior(prior: Any, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """Normal priors on the coefficients from ``prior['coef']`` (one frozen normal for
    all, or a dict name -> frozen normal); None for flat."""
    spec = prior.get("coef") if isinstance(prior, dict) else None
    if spec is None:
        return None
    dists = spec if isinstance(spec, dict) else dict.fromkeys(names, spec)
    unknown = set(dists) - set(names)
    if unknown:
        raise PriorError(f"Coefficient prior(s) for {sorted(unknown)}: the coefficients are "
                         f"{list(names)}.")
    m0, v0 = np.empty(len(names)), np.empty(len(names))
    for k, name in enumerate(names):
        d = dists.get(name)
        if d is None or getattr(getattr(d, "dist", None), "name", "") != "norm":
            raise PriorError(
                f"The prior of coefficient {name!r} must be a scipy.stats.norm (the "
                "coefficients integrate out in closed form under normal priors); give one "
                "for every coefficient, or none (flat)."
            )
        m0[k], v0[k] = float(d.mean()), float(d.var())
    return m0, v0


def fit_regression(spec: Any, data: NormalSummaries, design: Design, fit_class: type) -> Any:
    """The exact meta-regression fit (partial pooling, exact method only for now)."""
    if spec.pooling != "partial" or spec.method != "exact":
        raise HierBayesError("Covariates are supported with pooling='partial' and "
                             "method='exact' (issue 13: the others come later).")
    X, names = design.X, design.names
    n, p = X.shape
    raw = spec.prior if isinstance(spec.prior, dict) else {}
    if "mu" in raw:
        raise PriorError("With covariates the population mean is x'beta: give priors as "
                         "{'coef': scipy.stats.norm(...), 'tau': ...}, not 'mu'.")
    coef_prior = _coef_prior(spec.prior, names)
    prior = spec._prior  # its tau part; its mu part is the flat default
    if prior.is_callable:
        raise PriorError("Callable priors are not supported with covariates yet.")
    # the residual degrees of freedom play the role of the groups (J − p + 1 for flat beta)
    n_eff = n - p + 1 if coef_prior is None else n + 1
    if coef_prior is None and n <= p:
        raise ImproperPosteriorError(
            f"{n} groups for {p} coefficients with a flat prior: the posterior is improper. "
            "Give normal priors on the coefficients, or fewer covariates."
        )
    prior.check_proper(n_eff)
    y = data.estimate.astype(float)
    s2 = data.std_error.astype(float) ** 2
    tmap, scale = prior.tau_map, data.scale
    order = 2 if prior.tau_moment(2, n_eff) else (1 if prior.tau_moment(1, n_eff) else 0)

    def conditional(z: np.ndarray):
        tau2 = np.asarray(tmap.value(z), dtype=float) ** 2
        return (tau2, *regression_loglik(tau2, y, s2, X, coef_prior))

    def summaries(z: np.ndarray, w: np.ndarray) -> list[float]:
        tau2, _, b, C = conditional(z)
        gm, gsd = _group_moments(w, tau2, b, C, X, y, s2)
        eb = w @ b
        sb = np.sqrt(np.maximum(w @ (np.diagonal(C, axis1=1, axis2=2) + (b - eb) ** 2),
                                1e-300))
        return [*((gm - y) / gsd), *np.log(gsd), *(eb / sb), *np.log(sb)]

    grid = integrate_tau(prior, scale, lambda z: conditional(z)[1], summaries, order,
                         spec.tol, "Normal–Normal regression posterior of tau")
    tau2, _, b, C = conditional(grid.x)
    points = HyperPoints({"tau": np.sqrt(tau2)}, grid.weight)
    return fit_class(spec, points, data, tau_grid=grid, X=X, names=names, design=design,
                     coef_mean=b,
                     coef_cov=C, coef_prior=coef_prior, n_eff=n_eff)


def _components(tau2: np.ndarray, b: np.ndarray, C: np.ndarray, X: np.ndarray,
                y: np.ndarray, s2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of every theta_j at every tau point, shape (points, groups)."""
    t2 = tau2[:, None]
    shrink = s2[None, :] / (s2[None, :] + t2)
    keep = t2 / (s2[None, :] + t2)
    fitted = b @ X.T
    lev = np.einsum("ni,kij,nj->kn", X, C, X)  # x_j'C x_j
    return y[None, :] + shrink * (fitted - y[None, :]), s2[None, :] * keep + shrink**2 * lev


def _group_moments(w, tau2, b, C, X, y, s2) -> tuple[np.ndarray, np.ndarray]:
    m, v = _components(tau2, b, C, X, y, s2)
    mean = w @ m
    return mean, np.sqrt(w @ (v + (m - mean[None, :]) ** 2))


@dataclass(frozen=True, repr=False)
class NormalRegressionResult(NormalNormalResult):
    """Result of a Normal–Normal fit with covariates (meta-regression, Fay–Herriot).

    Attributes beyond :class:`NormalNormalResult`: ``X`` and ``names`` (the design),
    ``coef_mean`` (points, p) and ``coef_cov`` (points, p, p), beta | tau, y at each
    tau point.

    Examples
    --------
    >>> import hierbayes as hb
    >>> df = hb.datasets.load("eight_schools").assign(x=[1, 0, 0, 1, 0, 0, 1, 1.0])
    >>> fit = hb.NormalNormal().fit(df, covariates=["x"])
    >>> list(fit.coefficients.index), list(fit.hyper.index)
    (['intercept', 'x'], ['tau', 'log_tau'])
    """

    X: np.ndarray | None = None
    names: tuple[str, ...] = ()
    design: Design | None = None
    coef_mean: np.ndarray | None = None
    coef_cov: np.ndarray | None = None
    coef_prior: tuple[np.ndarray, np.ndarray] | None = None
    n_eff: int = 0

    def _pair_index(self) -> np.ndarray:
        return np.arange(len(self.data))  # every group its own pattern (its own x_j)

    def _prior_text(self) -> str:
        """The coefficients' and tau's priors in one line."""
        m = self.model
        if self.coef_prior is None:
            coef = "coefficients flat"
        else:
            coef = "; ".join(f"{n} ~ norm({mean:g}, {np.sqrt(var):g})" for n, mean, var in
                             zip(self.names, *self.coef_prior, strict=True))
        tau = m._prior.describe().split("; mu")[0]
        if m._prior.tau is None:
            tau = "p(tau) ∝ 1"
        return f"{coef}; {tau}"

    def __repr__(self) -> str:
        return (f"<{type(self).__name__}: {len(self.group_labels)} groups, regression on "
                f"{', '.join(self.names)}, prior={self._prior_text()}, numerical error "
                f"{self.error:.1g}>")

    def _patterns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        d = self.data
        return d.estimate.astype(float), d.std_error.astype(float), np.arange(len(d))

    def _model_population(self) -> tuple[str, str]:
        return (block(row(sub("θ", "j"), op("∼"),
                          dist("N", row(sup(sub("x", "j"), "T"), "β"), sup("τ", num(2))))),
                "Population: each group's true value is normal around its own regression "
                "value x_j'β (the group's covariates) with a shared spread τ (partial pooling "
                "toward the regression: meta-regression, Fay–Herriot).")

    def _model_hyperprior(self) -> tuple[str, str]:
        return "", f"Prior: {self._prior_text()}. Regression on {', '.join(self.names)}."

    def _theta_components(self, compress: bool):
        keep, w = self._kept(compress)
        d = self.data
        tau2 = self.points.params["tau"][keep] ** 2
        m, v = _components(tau2, self.coef_mean[keep], self.coef_cov[keep], self.X,
                           d.estimate.astype(float), d.std_error.astype(float) ** 2)
        return m, v, w, tau2

    def _pair_moments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        m, v, w, tau2 = self._theta_components(compress=False)
        s2 = self.data.std_error.astype(float) ** 2
        mean = w @ m
        sd = np.sqrt(w @ (v + (m - mean[None, :]) ** 2))
        return mean, sd, w @ (s2[None, :] / (s2[None, :] + tau2[:, None]))

    def _table(self, probs: Sequence[float], names: list[str]) -> pd.DataFrame:
        table = super()._table(probs, names)
        pmean = self.X @ (self.points.weight @ self.coef_mean)  # E[x_j'beta]
        table.insert(table.columns.get_loc("shrinkage"), "population_mean", pmean)
        return table

    def _pair_quantiles(self, probs: Sequence[float]) -> np.ndarray:
        m, v, w, _ = self._theta_components(compress=True)
        return normal_mixture_quantiles(m, np.sqrt(v), w, np.asarray(probs, dtype=float))

    def _loo_prior(self, y: np.ndarray, d: np.ndarray, sl: slice = slice(None)):
        """theta_j | tau, y_-j ~ Normal(x_j'b_-j, x_j'C_-j x_j + tau²) by the
        leave-one-out identities of weighted least squares (h_j = w_j x_j'C x_j)."""
        tau2 = self.points.params["tau"][:, None] ** 2
        w = 1.0 / (d[None, :] ** 2 + tau2)
        X = self.X[sl]  # the patterns (groups) ``y`` and ``d`` belong to
        fitted = self.coef_mean @ X.T
        lev = np.einsum("ni,kij,nj->kn", X, self.coef_cov, X)
        h = w * lev
        m = (fitted - h * y[None, :]) / (1.0 - h)
        return m, lev / (1.0 - h) + tau2

    def _new_group_reason(self, covariates: Any = None) -> str | None:
        if covariates is None:
            return ("a new group of a regression needs its covariates: "
                    "predict_new(..., covariates={column: value, ...}).")
        return None

    def _new_prior(self, covariates: Any = None):
        """theta_new | tau, y ~ Normal(x'b(tau), x'C(tau)x + tau²) at each tau point."""
        x = self.design.row(covariates)
        tau2 = self.points.params["tau"] ** 2
        mean = self.coef_mean @ x
        return mean, np.einsum("i,kij,j->k", x, self.coef_cov, x) + tau2

    def _evidence_reason(self) -> str | None:
        if self.coef_prior is None or self.model._prior.tau is None:
            return ("p(y) needs proper priors on every coefficient and on tau.")
        return None

    def _log_norm(self) -> float:
        return float(self.tau_grid.log_norm)

    def _new_moments_exist(self) -> tuple[bool | None, bool | None]:
        """theta_new ~ Normal(x'b, x'Cx + tau²) at each tau: the mean is finite (b(tau)
        is bounded); C grows like tau² as tau → ∞, so the variance needs E[tau²]."""
        return True, self.model._prior.tau_moment(2, self.n_eff)

    def _draw(self, size: int, rng: np.random.Generator):
        d = self.data
        y, s2 = d.estimate.astype(float), d.std_error.astype(float) ** 2
        z = self.tau_grid.sample(size, rng)
        tau = np.asarray(self.model._prior.tau_map.value(z), dtype=float)
        _, b, C = regression_loglik(tau**2, y, s2, self.X, self.coef_prior)
        beta = b + np.einsum("kij,kj->ki", np.linalg.cholesky(C),
                             rng.standard_normal(b.shape))
        t2 = tau[:, None] ** 2
        shrink = s2[None, :] / (s2[None, :] + t2)
        mean = y[None, :] + shrink * (beta @ self.X.T - y[None, :])
        theta = mean + np.sqrt(s2[None, :] * t2 / (s2[None, :] + t2)) * rng.standard_normal(
            mean.shape)
        hyper = {name: beta[:, k] for k, name in enumerate(self.names)}
        return {**hyper, "tau": tau}, theta

    @staticmethod
    def derived_hyper(h: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {**h, "log_tau": np.log(h["tau"])} if "tau" in h else dict(h)

    @cached_property
    def coefficients(self) -> pd.DataFrame:
        """The coefficients' posterior: exact mixtures over tau of their normal
        conditionals (mean, sd, quantiles of ``model.probs``), indexed by the design's
        names."""
        probs = np.asarray(self.model.probs, dtype=float)
        cols = ["mean", "sd", *[quantile_label(p) for p in probs]]
        keep, w = self._kept(compress=True)
        b, C = self.coef_mean[keep], self.coef_cov[keep]
        var = np.diagonal(C, axis1=1, axis2=2)
        mean_all = self.points.weight @ self.coef_mean
        sd_all = np.sqrt(self.points.weight @ (np.diagonal(self.coef_cov, axis1=1, axis2=2)
                                               + (self.coef_mean - mean_all) ** 2))
        q = normal_mixture_quantiles(b, np.sqrt(var), w, probs)
        rows = [[mean_all[k], sd_all[k], *q[k]] for k in range(len(self.names))]
        return pd.DataFrame(rows, index=pd.Index(self.names, name="coefficient"), columns=cols)

    @cached_property
    def hyper(self) -> pd.DataFrame:  # type: ignore[override]
        """tau and log_tau: the exact marginal of tau (the coefficients are in
        :attr:`coefficients`); a moment that does not exist under the prior is inf."""
        probs = np.asarray(self.model.probs, dtype=float)
        cols = ["mean", "sd", *[quantile_label(p) for p in probs]]
        rows = []
        prior = self.model._prior
        tmap, zgrid = prior.tau_map, self.tau_grid
        tau = np.asarray(tmap.value(zgrid.x), dtype=float)
        wz = zgrid.weight
        t_mean_ok = prior.tau_moment(1, self.n_eff)
        t_var_ok = prior.tau_moment(2, self.n_eff)
        tq = np.asarray(tmap.value(zgrid.quantile(probs)), dtype=float)
        tm = float(wz @ tau)
        tsd = math.sqrt(max(float(wz @ (tau - tm) ** 2), 0.0))
        rows.append([tm if t_mean_ok else math.inf,
                     (tsd if t_var_ok else math.inf) if t_mean_ok else math.nan, *tq])
        with np.errstate(divide="ignore"):
            lt = np.log(tau)
        ok = np.isfinite(lt)
        lm = float(wz[ok] @ lt[ok] / wz[ok].sum())
        lsd = math.sqrt(max(float(wz[ok] @ (lt[ok] - lm) ** 2 / wz[ok].sum()), 0.0))
        rows.append([lm, lsd, *np.log(tq)])
        index = pd.Index(["tau", "log_tau"], name="parameter")
        return pd.DataFrame(rows, index=index, columns=cols)
