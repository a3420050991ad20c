"""Hierarchical regression for the (alpha, beta) conjugate families (issue 13).

A family whose theta_j has a conjugate population distribution with two
parameters (Beta–Binomial: Beta(mu_j kappa, (1 − mu_j) kappa); Gamma–Poisson:
Gamma(alpha, rate alpha/mu_j)) becomes a regression when its population mean
follows the covariates, link(mu_j) = x_j'beta, with one shared scale
parameter (kappa, the shape alpha), v = its logarithm. The group parameters
still integrate out in closed form; the posterior of (beta, v) lives in p + 1
dimensions and is integrated by :func:`hierbayes.integrate.nested.integrate_nested`.
Every theta_j is then an exact mixture over the points of its conjugate
posteriors, as without covariates.

A family supplies a :class:`RegressionFamily` (its conjugate pair, the
population parameters at (eta, v), the derivatives of the collapsed
log-likelihood in eta, and its scale prior); this module knows no family.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from hierbayes.data.design import Design
from hierbayes.errors import HierBayesError, ImproperPosteriorError
from hierbayes.families.coefprior import CoefPrior
from hierbayes.integrate.nested import gauss_collapse, integrate_nested
from hierbayes.mixtures.mixture import mixture_quantiles
from hierbayes.result import DROP_MASS, HyperPoints, HyperView, quantile_label

__all__ = ["Patterns", "RegressionFamily", "RegressionFitMixin", "fit_conjugate_regression",
           "regression_tol"]

_CHUNK = 1 << 21  # elements of (points, patterns) temporaries


@dataclass(frozen=True)
class RegressionFamily:
    """What a conjugate family gives the regression engine.

    Attributes
    ----------
    conj : Conjugate
        The conjugate pair (:mod:`hierbayes.families.conjugate`).
    population : callable
        ``population(eta, v) -> (A, B)``: theta's population parameters at
        linear predictor ``eta`` and scale ``v`` (broadcast).
    eta_derivatives : callable
        ``(eta, v, y, d) -> (first, second)``: derivatives of the collapsed
        log-likelihood ``conj.log_marginal(population(eta, v), y, d)`` in eta.
    shrinkage : callable
        ``(A, B, d) -> weight`` the group's posterior mean puts on the population mean.
    mean : callable
        ``mean(eta)``: the population mean (the inverse link).
    scale : str
        Name of the scale parameter (``'kappa'``, ``'shape'``); v is its log.
    loglik : callable
        ``(A, B, y, d)``: the collapsed log-likelihood without the terms that
        depend on the data alone (a fast form where it keeps its digits).
    constant : callable
        ``(y, d)``: those data-only terms (binomial coefficients, log y!).
    """

    conj: Any
    population: Callable[..., tuple[np.ndarray, np.ndarray]]
    eta_derivatives: Callable[..., tuple[np.ndarray, np.ndarray]]
    shrinkage: Callable[..., np.ndarray]
    mean: Callable[[np.ndarray], np.ndarray]
    scale: str
    loglik: Callable[..., np.ndarray]
    constant: Callable[..., np.ndarray]


@dataclass(frozen=True)
class Patterns:
    """Distinct (observed, design, covariate row) patterns and their counts."""

    y: np.ndarray
    d: np.ndarray
    X: np.ndarray
    count: np.ndarray
    inverse: np.ndarray

    @classmethod
    def of(cls, y: np.ndarray, d: np.ndarray, X: np.ndarray) -> Patterns:
        table = np.column_stack([y, d, X])
        uniq, inverse, count = np.unique(table, axis=0, return_inverse=True,
                                         return_counts=True)
        return cls(uniq[:, 0], uniq[:, 1], uniq[:, 2:], count.astype(float),
                   inverse.reshape(-1))


def _joint(fam: RegressionFamily, pat: Patterns, cp: CoefPrior,
           log_v_prior: Callable[[np.ndarray], np.ndarray], offset: float):
    """The log posterior of (beta, v) with its beta-derivatives, in blocks."""
    X, y, d, c = pat.X, pat.y, pat.d, pat.count

    def joint(beta: np.ndarray, v: np.ndarray, derivatives: bool):
        n, p = beta.shape
        lp = np.empty(n)
        g = np.empty((n, p)) if derivatives else None
        H = np.empty((n, p, p)) if derivatives else None
        step = max(1, _CHUNK // max(y.size, 1))
        for i in range(0, n, step):
            b, vv = beta[i : i + step], v[i : i + step, None]
            eta = b @ X.T
            with np.errstate(all="ignore"):
                ll = fam.loglik(*fam.population(eta, vv), y[None, :], d[None, :])
                lp[i : i + step] = ll @ c + log_v_prior(vv[:, 0]) - offset
            pl, pg, ph = cp.terms(b, derivatives)
            lp[i : i + step] += pl
            if derivatives:
                with np.errstate(all="ignore"):
                    d1, d2 = fam.eta_derivatives(eta, vv, y[None, :], d[None, :])
                g[i : i + step] = (d1 * c[None, :]) @ X + pg
                H[i : i + step] = np.einsum("kn,ni,nj->kij", d2 * c[None, :], X, X)
                H[i : i + step] += np.einsum("ki,ij->kij", ph, np.eye(p))
        lp = np.where(np.isnan(lp), -np.inf, lp)
        return (lp, g, H) if derivatives else (lp,)

    return joint


def check_separation(pat: Patterns, bounded: bool) -> None:
    """Refuse flat coefficients when a direction of beta sends the likelihood to its
    supremum (the data are separated): some d ≠ 0 with x_j'd ≥ 0 wherever the
    group is at its upper end (all successes) or has no upper end, x_j'd ≤ 0
    wherever it is at 0, x_j'd = 0 elsewhere (a linear program)."""
    informative = pat.d > 0
    X, y, d = pat.X[informative], pat.y[informative], pat.d[informative]
    if X.shape[0] == 0 or np.linalg.matrix_rank(X) < X.shape[1]:
        raise ImproperPosteriorError(
            "The groups with data do not identify every coefficient (design rank "
            f"{np.linalg.matrix_rank(X) if X.size else 0} < {pat.X.shape[1]}): with flat "
            "coefficients the posterior is improper. Give normal priors on the coefficients "
            "({'coef': scipy.stats.norm(0, 2.5)}) or fewer covariates."
        )
    low = y == 0
    high = (y == d) if bounded else np.zeros_like(low)
    # maximise Σ_high x'd − Σ_low x'd subject to the sign constraints and |d_k| ≤ 1
    mid = ~(low | high)
    A_ub = np.vstack([X[low], -X[high]]) if (low.any() or high.any()) else None
    b_ub = np.zeros(A_ub.shape[0]) if A_ub is not None else None
    A_eq = X[mid] if mid.any() else None
    b_eq = np.zeros(A_eq.shape[0]) if A_eq is not None else None
    cvec = X[low].sum(axis=0) - X[high].sum(axis=0)
    if not np.any(cvec) and A_ub is None:
        return
    res = optimize.linprog(cvec, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=b_eq,
                           bounds=[(-1, 1)] * X.shape[1], method="highs")
    if res.status == 0 and -res.fun > 1e-9:
        raise ImproperPosteriorError(
            "The covariates separate the data: along some direction of the coefficients "
            "every group at 0" + (" or at its number of trials" if bounded else "") +
            " is fitted ever better, so with flat coefficients the posterior is improper. "
            "Give proper priors on the coefficients, e.g. {'coef': scipy.stats.norm(0, 2.5)}."
        )


def fit_conjugate_regression(
    spec: Any, fam: RegressionFamily, y: np.ndarray, d: np.ndarray, design: Design,
    log_v_prior: Callable[[np.ndarray], np.ndarray], v_start: float,
    v_bounds: tuple[float, float], cp: CoefPrior, bounded: bool,
) -> dict[str, Any]:
    """The exact regression posterior: patterns, the nested grid and its points."""
    if spec.pooling != "partial" or spec.method != "exact":
        raise HierBayesError("Covariates are supported with pooling='partial' and "
                             "method='exact'.")
    pat = Patterns.of(y, d, design.X)
    if not cp.proper:
        check_separation(pat, bounded)
    p = design.p
    beta0 = _glm_start(fam, pat, v_start, cp)
    joint0 = _joint(fam, pat, cp, log_v_prior, 0.0)
    offset = float(joint0(beta0[None, :], np.array([v_start]), False)[0][0])
    if not np.isfinite(offset):
        offset = 0.0
    joint = _joint(fam, pat, cp, log_v_prior, offset)
    origin: list[np.ndarray] = []

    def summaries(beta: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        W = w.ravel()
        B = beta.reshape(-1, p)
        V = np.repeat(v, beta.shape[1])
        pts = np.column_stack([B, V])
        mean = W @ pts
        sd = np.sqrt(np.maximum(W @ (pts - mean) ** 2, 1e-300))
        if not origin:
            origin.append(mean)
        eta = B @ pat.X.T
        keep = W > 1e-16 * W.max()
        A, Bp = fam.population(eta[keep], V[keep, None])
        m, _ = fam.conj.theta_moments(fam.conj.update((A, Bp), pat.y[None, :],
                                                      pat.d[None, :]))
        gm = W[keep] @ m / W[keep].sum()
        return np.concatenate([(mean - origin[0]) / sd, np.log(sd),
                               np.log(np.maximum(gm, 1e-300))])

    grid = integrate_nested(joint, p=p, beta0=beta0, v_bounds=v_bounds, v_start=v_start,
                            summaries=summaries, tol=regression_tol(spec),
                            what=f"regression posterior of (coefficients, log {fam.scale})")
    const = float(pat.count @ fam.constant(pat.y, pat.d))
    points = HyperPoints({"v": grid.v, **{n: grid.coef[:, k] for k, n in
                                          enumerate(design.names)}}, grid.weight,
                         log_const=offset + const)
    return {"patterns": pat, "nested": grid, "points": points}


REGRESSION_TOL = 1e-7


def regression_tol(spec: Any) -> float:
    """The tolerance of a regression fit: the model's ``tol`` where the user set it,
    else 1e-7 (each digit costs the (p + 1)-dimensional rule more than the 2-D one)."""
    default = next(f.default for f in dataclasses.fields(spec) if f.name == "tol")
    return REGRESSION_TOL if spec.tol == default else float(spec.tol)


def _glm_start(fam: RegressionFamily, pat: Patterns, v: float, cp: CoefPrior) -> np.ndarray:
    """The conditional mode of beta at v = v_start from zero (damped Newton)."""
    joint = _joint(fam, pat, cp, lambda x: np.zeros_like(x), 0.0)
    b = np.zeros(pat.X.shape[1])
    with np.errstate(all="ignore"):
        rate = np.clip((pat.count @ pat.y + 0.5) / (pat.count @ pat.d + 1.0), 1e-12, None)
    link0 = fam.mean  # only to find an intercept: solve mean(b0) = pooled rate
    names = np.all(pat.X == pat.X[0:1], axis=0)
    k0 = int(np.argmax(names)) if names.any() else None
    if k0 is not None:
        lo, hi = -50.0, 50.0
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if link0(np.array(mid)) < min(rate, 1 - 1e-12) else (lo, mid)
        b[k0] = 0.5 * (lo + hi) / pat.X[0, k0]
    for _ in range(50):
        lp, g, H = joint(b[None, :], np.array([v]), True)
        try:
            step = np.linalg.solve(-H[0], g[0])
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(step)):
            break
        step *= min(1.0, 5.0 / max(float(np.max(np.abs(step))), 1e-300))
        for _ in range(30):
            if joint((b + step)[None, :], np.array([v]), False)[0][0] >= lp[0]:
                break
            step /= 2
        b = b + step
        if float(np.max(np.abs(step))) < 1e-10:
            break
    return b


def _heavy_slices(w: np.ndarray, mass: float) -> np.ndarray:
    """Indices of the slices carrying all but ``mass`` of the weight."""
    order = np.argsort(w)
    return np.sort(order[np.cumsum(w[order]) > mass])


class RegressionFitMixin:
    """Fit hooks of a conjugate regression (mixed into a family's result class).

    The class it is mixed into has fields ``design`` (Design), ``nested``
    (NestedGrid), ``patterns`` (Patterns), ``coef_prior_`` (CoefPrior) and a
    class attribute ``regression`` (RegressionFamily).
    """

    regression: Any = None

    # ---- components ----------------------------------------------------------
    def _kept(self) -> tuple[np.ndarray, np.ndarray]:
        w = self.points.weight
        order = np.argsort(w)
        keep = np.sort(order[np.cumsum(w[order]) > DROP_MASS])
        wk = w[keep]
        return keep, wk / wk.sum()

    def _population_at(self, keep: np.ndarray | None, X: np.ndarray):
        grid = self.nested
        coef, v = grid.coef, grid.v
        if keep is not None:
            coef, v = coef[keep], v[keep]
        return self.regression.population(coef @ X.T, v[:, None])

    def _patterns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pat = self.patterns
        return pat.y, pat.d, pat.inverse

    @cached_property
    def _pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._patterns()

    def _blocks(self, points: int):
        step = max(1, _CHUNK // max(points, 1))
        n = self.patterns.y.size
        for i in range(0, n, step):
            yield slice(i, min(i + step, n))

    def _pair_moments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pat, fam, w = self.patterns, self.regression, self.points.weight
        mean, sd, shrink, pmean = (np.empty(pat.y.size) for _ in range(4))
        for sl in self._blocks(w.size):
            A, B = self._population_at(None, pat.X[sl])
            post = fam.conj.update((A, B), pat.y[None, sl], pat.d[None, sl])
            m, v = fam.conj.theta_moments(post)
            mean[sl] = w @ m
            sd[sl] = np.sqrt(w @ (v + (m - mean[sl][None, :]) ** 2))
            shrink[sl] = w @ fam.shrinkage(A, B, pat.d[None, sl])
            pmean[sl] = w @ fam.conj.theta_moments((A, B))[0]
        self.__dict__["_population_means"] = pmean
        return mean, sd, shrink

    def _pair_quantiles(self, probs: Sequence[float]) -> np.ndarray:
        """Group quantiles: for each pattern, the points of each v slice collapse to a
        Gauss rule in the pattern's own eta = x_j'beta (exact for polynomials in eta of
        degree < 2r, :func:`~hierbayes.integrate.nested.gauss_collapse`), so a
        mixture has (slices × r) components instead of every point. Solved with r = 10
        and r = 14; a pattern whose two answers differ by more than a tenth of the
        tolerance (in sds) is solved on the full mixture instead."""
        pat, conj = self.patterns, self.regression.conj
        mean, sd, _ = self._moments
        pr = np.asarray(probs, float)
        grid = self.nested
        keep = _heavy_slices(grid.outer.weight, 1e-13)
        wout = grid.outer.weight[keep] / grid.outer.weight[keep].sum()
        beta, inner = grid.beta[keep], grid.inner_weight[keep]
        v = grid.outer.x[keep]
        S, M, _ = beta.shape
        out = np.empty((pat.y.size, pr.size))
        tol = 0.1 * self.model_tol() * sd
        chunk = max(1, 4_000_000 // (S * M * 15))
        for c0 in range(0, pat.y.size, chunk):
            cs = slice(c0, min(c0 + chunk, pat.y.size))
            eta = np.einsum("smp,jp->jsm", beta, pat.X[cs]).reshape(-1, M)
            ww = np.broadcast_to(inner[None], (cs.stop - cs.start, S, M)).reshape(-1, M)
            rules = [gauss_collapse(eta, ww, r) for r in (10, 14)]
            for i, j in enumerate(range(cs.start, cs.stop)):
                qs = []
                for nodes, wr in rules:
                    r = nodes.shape[1]
                    en = nodes.reshape(-1, S, r)[i]
                    A, B = self.regression.population(en, v[:, None])
                    comp = conj.update((A.ravel(), B.ravel()), pat.y[j], pat.d[j])
                    weights = (wout[:, None] * wr.reshape(-1, S, r)[i]).ravel()
                    qs.append(self._mixture(comp, weights, pr, mean[j], sd[j]))
                if np.all(np.abs(qs[1] - qs[0]) <= tol[j]):
                    out[j] = qs[1]
                else:  # the full mixture over every point
                    A, B = self._population_at(None, pat.X[j : j + 1])
                    comp = conj.update((A[:, 0], B[:, 0]), pat.y[j], pat.d[j])
                    out[j] = self._mixture(comp, self.points.weight, pr, mean[j], sd[j])
        return out

    def _mixture(self, comp, weights, probs, mean, sd) -> np.ndarray:
        A, B = (np.asarray(x, float)[:, None] for x in comp)
        return mixture_quantiles(self.regression.conj, lambda sl: (A, B), weights, probs,
                                 np.array([mean]), np.array([sd]))[0]

    def model_tol(self) -> float:
        """The tolerance the fit was computed to."""
        return regression_tol(self.model)

    def _table(self, probs: Sequence[float], names: list[str]) -> pd.DataFrame:
        table = super()._table(probs, names)  # type: ignore[misc]
        pmean = self.__dict__["_population_means"][self.patterns.inverse]
        table.insert(table.columns.get_loc("shrinkage"), "population_mean", pmean)
        return table

    def _loo_prior(self, y: np.ndarray, d: np.ndarray, sl: slice = slice(None)):
        return self._population_at(None, self.patterns.X[sl])

    def _draw(self, size: int, rng: np.random.Generator):
        coef, v = self.nested.sample(size, rng)
        pat = self.patterns
        X = pat.X[pat.inverse]
        A, B = self.regression.population(coef @ X.T, v[:, None])
        y, d = self._group_data()
        theta = self.regression.conj.sample(
            self.regression.conj.update((A, B), y[None, :], d[None, :]), rng)
        hyper = {name: coef[:, k] for k, name in enumerate(self.design.names)}
        return {**hyper, self.regression.scale: np.exp(v)}, theta

    @staticmethod
    def derived_hyper(h: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(h)

    # ---- tables --------------------------------------------------------------
    @cached_property
    def coefficients(self) -> pd.DataFrame:
        """The coefficients' posterior: mean, sd and quantiles of ``model.probs``,
        indexed by the design's names (exact marginals of the quadrature)."""
        probs = np.asarray(self.model.probs, dtype=float)
        grid = self.nested
        w, coef = grid.weight, grid.coef
        mean = w @ coef
        sd = np.sqrt(np.maximum(w @ (coef - mean) ** 2, 0.0))
        rows = [[mean[k], sd[k], *grid.coef_quantiles(k, probs)]
                for k in range(coef.shape[1])]
        cols = ["mean", "sd", *[quantile_label(p) for p in probs]]
        return pd.DataFrame(rows, index=pd.Index(self.design.names, name="coefficient"),
                            columns=cols)

    @cached_property
    def hyper(self) -> pd.DataFrame:
        """The scale parameter (kappa or shape) and its log: mean, sd, quantiles.

        A mean or sd the prior does not give (heavy prior tails) is inf / NaN.
        """
        probs = np.asarray(self.model.probs, dtype=float)
        outer = self.nested.outer
        v, w = outer.x, outer.weight
        qv = outer.quantile(probs)
        lm = float(w @ v)
        lsd = math.sqrt(max(float(w @ (v - lm) ** 2), 0.0))
        mean_ok, var_ok = self._scale_moments_exist()
        s = np.exp(v)
        sm = float(w @ s) if mean_ok else math.inf
        ssd = (math.sqrt(max(float(w @ (s - sm) ** 2), 0.0)) if var_ok else math.inf) \
            if mean_ok else math.nan
        name = self.regression.scale
        cols = ["mean", "sd", *[quantile_label(p) for p in probs]]
        return pd.DataFrame([[sm, ssd, *np.exp(qv)], [lm, lsd, *qv]],
                            index=pd.Index([name, f"log_{name}"], name="parameter"),
                            columns=cols)

    def _scale_moments_exist(self) -> tuple[bool, bool]:
        raise NotImplementedError

    # ---- what the generic outputs ask ------------------------------------------
    @property
    def error(self) -> float:
        return float(self.nested.error)

    def quadrature_shape(self) -> tuple[int, ...] | None:
        return None

    def hyper_view(self) -> HyperView:
        outer = self.nested.outer
        return HyperView("marginal", (f"log {self.regression.scale}",),
                         cdf=outer.cdf, quantile=outer.quantile,
                         caption=f"Posterior of log {self.regression.scale}, the "
                                 "population's concentration, with covariates.")

    def _new_group_reason(self, covariates: Any = None) -> str | None:
        if covariates is None:
            return ("a new group of a regression needs its covariates: "
                    "predict_new(..., covariates={column: value, ...}).")
        return None

    def _new_prior(self, covariates: Any = None) -> tuple[np.ndarray, np.ndarray]:
        x = self.design.row(covariates)
        return self.regression.population(self.nested.coef @ x, self.nested.v)

    def _evidence_reason(self) -> str | None:
        if not self.coef_prior_.proper or not self._scale_prior_proper():
            return "p(y) needs proper priors on every coefficient and on the scale."
        return None

    def _scale_prior_proper(self) -> bool:
        return True

    def _log_norm(self) -> float:
        return float(self.nested.log_norm + self.points.log_const)

    def __repr__(self) -> str:
        names = self.design.names
        return (f"<{type(self).__name__}: {len(self.group_labels)} groups, regression on "
                f"{', '.join(names)}, prior={self.coef_prior_.describe(names)}"
                f"; {self._scale_prior_text()}, {self.nested.method}, numerical error "
                f"{self.error:.1g}>")

    def _scale_prior_text(self) -> str:
        raise NotImplementedError

    def _model_hyperprior(self) -> tuple[str, str]:
        names = self.design.names
        return "", (f"Prior: {self.coef_prior_.describe(names)}; {self._scale_prior_text()}. "
                    f"Regression on {', '.join(names)}, integrated by {self.nested.method}.")
