"""The Normal–Normal hierarchical model: specification and fitting (MODEL.md §4).

    y_j ~ Normal(theta_j, s_j²) (s_j known),   theta_j ~ Normal(mu, tau²),   (mu, tau) ~ prior

Under a flat or Normal prior on mu, mu is integrated out in closed form and
the posterior of tau is integrated by exact adaptive quadrature in
z = log tau (:mod:`hierbayes.integrate.grid1d`); under any other prior on mu the
posterior of (mu, z) is integrated on an adaptive 2-D grid
(:func:`hierbayes.integrate.grid2d.integrate_2d`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy import optimize

from hierbayes.data.design import group_design
from hierbayes.errors import DegenerateDataWarning, PriorError
from hierbayes.families.normalnormal.data import NormalSummaries, normal_summaries
from hierbayes.families.normalnormal.fit import NormalNormalResult
from hierbayes.families.normalnormal.math import (
    collapsed_loglik,
    marginal_loglik,
    mixture_moments,
    profile_loglik,
)
from hierbayes.families.normalnormal.priors import NormalPrior, normal_prior
from hierbayes.families.normalnormal.taugrid import integrate_tau
from hierbayes.families.spec import ModelSpec
from hierbayes.integrate.grid2d import integrate_2d
from hierbayes.result import HyperPoints

__all__ = ["NormalNormalSpec"]



@dataclass(frozen=True)
class NormalNormalSpec(ModelSpec):
    """Hierarchical Normal–Normal model for estimates with known standard errors.

    Parameters
    ----------
    prior : None, str, dict or callable
        Hyperprior on (mu, tau). The default is p(mu, tau) ∝ 1: flat on mu,
        uniform on tau (BDA3 §5.4), proper iff there are at least 3 groups.
        ``'halfcauchy(A)'`` is a half-Cauchy prior of scale A on tau (Gelman
        2006) with mu flat. A dict of frozen scipy.stats distributions keyed
        ``{'mu', 'tau'}``, ``{'tau'}`` (mu flat) or ``{'mu'}`` (tau uniform),
        e.g. ``{'mu': stats.norm(0, 5), 'tau': stats.halfcauchy(scale=5)}``.
        A callable ``log_density(mu, tau)`` (vectorised). p(tau) ∝ 1/tau
        (``'log-uniform'``) is refused: its posterior is always improper.
    pooling : {'partial', 'complete', 'none'}
        Partial pooling is the hierarchical model. Complete pooling fits one
        common effect (tau = 0) with a flat prior: Normal(Σ w_j y_j / Σ w_j,
        1 / Σ w_j), w_j = 1/s_j². No pooling takes each estimate alone with a
        flat prior: Normal(y_j, s_j²).
    method : {'exact', 'eb'}
        'exact' integrates the hyperparameter posterior by adaptive
        quadrature; 'eb' plugs in the type-II maximum-likelihood (mu, tau),
        with tau = 0 allowed (and found exactly when the likelihood is highest
        there).
    tol : float
        Target numerical error of the posterior summaries (relative to their
        scale); the fit reports what it reached.
    probs : sequence of float
        Probabilities of the quantile columns in ``fit.groups`` and ``fit.hyper``.

    Examples
    --------
    >>> import hierbayes as hb
    >>> from scipy import stats
    >>> fit = hb.NormalNormal().fit(hb.datasets.load("eight_schools"))
    >>> fit.groups["mean"].round(2).tolist()
    [11.4, 7.89, 6.13, 7.64, 5.13, 6.14, 10.67, 8.46]
    >>> round(float(fit.hyper.loc["tau", "q50"]), 2)  # BDA3 Table 5.3: 5.1 (200 draws)
    5.24
    >>> post = hb.NormalNormal(prior={"mu": stats.norm(0, 5), "tau": stats.halfcauchy(scale=5)})
    >>> round(float(post.fit(hb.datasets.load("eight_schools")).hyper.loc["mu", "mean"]), 3)
    4.397
    """

    prior: Any = None
    pooling: str = "partial"
    method: str = "exact"
    tol: float = 1e-10
    probs: tuple[float, ...] = (0.025, 0.5, 0.975)
    _prior: NormalPrior = field(init=False, repr=False, compare=False)
    _fit_class: ClassVar[type] = NormalNormalResult
    _regression_class: ClassVar[type] = NormalNormalResult  # bound in hierbayes.models

    def _resolve_prior(self) -> tuple[NormalPrior, bool]:
        prior = self.prior
        if isinstance(prior, dict) and "coef" in prior:  # covariates' coefficients
            prior = {k: v for k, v in prior.items() if k != "coef"} or None
        resolved = normal_prior(prior)
        return resolved, resolved.base.kind == "default" and prior is self.prior

    def fit(
        self,
        data: Any = None,
        *,
        group: Any = "group",
        estimate: Any = "estimate",
        std_error: Any = "std_error",
        value: Any = None,
        variance: str = "group",
        sigma: float | None = None,
        covariates: Any = None,
    ) -> NormalNormalResult:
        """Fit the model; return an immutable fit.

        Parameters
        ----------
        data : pandas.DataFrame, dict of columns, or None
            The data; with ``None`` pass arrays as the role arguments.
        group, estimate, std_error : str or array-like
            Column names (defaults are the canonical names) or arrays. Rows
            of one group are independent estimates of the same theta and are
            combined by precision weighting. Without a group column each row
            is its own group.
        value : str or array-like, optional
            Raw observations per group instead of summaries: each group is
            reduced to its mean and the standard error of the mean, which is
            then treated as known (see :mod:`hierbayes.families.normalnormal.data`).
        variance : {'group', 'pooled'}
            Raw input: each group's own sample variance (groups need at least
            two observations) or the pooled within-group variance.
        sigma : float, optional
            Raw input: a known standard deviation of a single observation.
        covariates : str or list of str, optional
            Group-level covariates: partial pooling toward a regression
            x_j'beta instead of one mean (meta-regression, Fay–Herriot). A
            formula (``'~ ablat + year'``, categorical terms as ``C(x)``, via
            formulaic) or a list of numeric columns (an intercept is added).
            Each row is one group. Priors: ``{'coef': scipy.stats.norm(0, 10)}``
            (all coefficients, or a dict by name; default flat) and ``'tau'``
            as without covariates. See
            :mod:`hierbayes.families.normalnormal.regression`.

        Returns
        -------
        NormalNormalResult
        """
        data_ = normal_summaries(data, group=group, estimate=estimate, std_error=std_error,
                                 value=value, variance=variance, sigma=sigma)
        if covariates is not None:
            return self._fit_covariates(data, data_, group, covariates)
        if isinstance(self.prior, dict) and "coef" in self.prior:
            raise PriorError("A 'coef' prior is for the coefficients of covariates; pass "
                             "covariates=... or give 'mu' instead.")
        return self._fitted(data_, data_)

    def _fit_covariates(self, data: Any, data_: NormalSummaries, group: Any,
                        covariates: Any) -> NormalNormalResult:
        from hierbayes.families.normalnormal.regression import fit_regression

        design = group_design(data, data_.group, group, covariates)
        return fit_regression(self, data_, design, self._regression_class)

    # ---- the pipeline's hooks (hierbayes.families.spec) ---------------------------
    def _complete(self, data: NormalSummaries) -> HyperPoints:
        return _complete(data)

    def _unpooled(self, data: NormalSummaries) -> HyperPoints:
        return HyperPoints.single(tau=math.inf, mu_mean=0.0, mu_var=0.0)

    def _degenerate(self, data: NormalSummaries) -> str | None:
        if len(data) < 2:
            return "Only one group: the population spread tau is learned from the prior alone."
        return None

    def _empirical_bayes(self, data: NormalSummaries) -> HyperPoints:
        return _empirical_bayes(data)

    def _check_propriety(self, data: NormalSummaries) -> None:
        self._prior.check_proper(len(data))

    def _exact(self, data: NormalSummaries) -> tuple[HyperPoints, dict[str, Any]]:
        if self._prior.collapsible:
            points, grid = _exact_1d(self._prior, data, self.tol)
            return points, {"tau_grid": grid}
        return _exact_2d(self._prior, data, self.tol), {}


def _pairs(data: NormalSummaries) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y, se, count, _ = data.unique_pairs()
    return y, se**2, count


def _complete(data: NormalSummaries) -> HyperPoints:
    """One common effect with a flat prior: Normal(Σ w y / Σ w, 1 / Σ w), w = 1/s²."""
    y, s2, count = _pairs(data)
    _, m, v = collapsed_loglik(np.zeros(1), y, s2, count)
    return HyperPoints.single(tau=0.0, mu_mean=float(m[0]), mu_var=float(v[0]))


def _exact_1d(prior: NormalPrior, data: NormalSummaries, tol: float):
    """mu integrated out in closed form; tau by adaptive quadrature in its coordinate z."""
    y, s2, count = _pairs(data)
    tmap, mu0, n = prior.tau_map, prior.mu_normal, len(data)
    scale, centre = data.scale, float(np.sum(count * y / s2) / np.sum(count / s2))
    mu_mean_ok = prior.mu_moment(1, n) is True
    mu_sd_ok = prior.mu_moment(2, n) is True
    # the heaviest reported moment of tau, E[tau²] (or E[tau]), must be reached by the grid
    order = 2 if prior.tau_moment(2, n) else (1 if prior.tau_moment(1, n) else 0)

    def conditional(z: np.ndarray):
        tau2 = tmap.value(z) ** 2
        ll, m, v = collapsed_loglik(tau2, y, s2, count, mu0)
        return tau2, ll, m, v

    def summaries(z: np.ndarray, w: np.ndarray) -> list[float]:
        tau2, _, m, v = conditional(z)
        gm, gsd, _ = mixture_moments(w, tau2, m, v, y, s2)
        out = [*((gm - y) / gsd), *np.log(gsd)]  # shift-free
        if mu_mean_ok:
            em = float(w @ m)
            out.append((em - centre) / scale)
            if mu_sd_ok:
                out.append(0.5 * math.log(float(w @ (v + (m - em) ** 2))))
        return out

    grid = integrate_tau(prior, scale, lambda z: conditional(z)[1], summaries, order, tol,
                         "Normal–Normal posterior of tau")
    _, _, m, v = conditional(grid.x)
    params = {"tau": tmap.value(grid.x), "mu_mean": m, "mu_var": v}
    return HyperPoints(params, grid.weight), grid


def _exact_2d(prior: NormalPrior, data: NormalSummaries, tol: float) -> HyperPoints:
    """A proper non-Normal prior on mu (or a callable prior): 2-D grid in (mu, z)."""
    y, s2, count = _pairs(data)
    tmap, mmap, n = prior.tau_map, prior.mu_map, len(data)
    scale = data.scale
    centre = float(np.sum(count * y / s2) / np.sum(count / s2))
    mu_mean_ok = prior.mu_moment(1, n) is True

    def logpost(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        mu, tau = mmap.value(u), tmap.value(v)
        ll = marginal_loglik(mu, tau**2, y, s2, count)
        if prior.is_callable:
            return ll + prior.base.call(mu, tau) + tmap.log_jac(v)
        return ll + prior.log_prior_mu(u) + prior.log_prior_tau(v)

    def summaries(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        u, v, w = u.ravel(), v.ravel(), w.ravel()
        mu, tau2 = mmap.value(u), tmap.value(v) ** 2
        ev = w @ v
        sv = math.sqrt(max(float(w @ (v - ev) ** 2), 1e-300))
        gm, gsd, _ = mixture_moments(w, tau2, mu, np.zeros_like(mu), y, s2)
        out = [ev / sv, math.log(sv), *((gm - y) / gsd), *np.log(gsd)]
        if mu_mean_ok:
            out.append((float(w @ mu) - centre) / scale)
        return np.array(out)

    inside = mmap.a < centre < mmap.b or prior.mu is None
    start_mu = float(mmap.inverse(centre if inside else float(prior.mu.median())))
    start_tau = float(tmap.inverse(min(tmap.a + scale / 2, (tmap.a + tmap.b) / 2)))
    grid = integrate_2d(
        logpost,
        start=(start_mu, start_tau),
        bounds=(mmap.bounds(centre, scale), tmap.bounds(0.0, scale)),
        summaries=summaries,
        tol=tol,
        what="Normal–Normal posterior of (mu, tau)",
        inner_lambda=4.0,
    )

    def to_params(u: np.ndarray, v: np.ndarray) -> dict[str, np.ndarray]:
        mu = mmap.value(u)
        return {"tau": tmap.value(v), "mu_mean": mu, "mu_var": np.zeros_like(mu)}

    return HyperPoints.from_grid(grid, logpost, to_params)


def _empirical_bayes(data: NormalSummaries) -> HyperPoints:
    """Type-II maximum likelihood of (mu, tau), tau ≥ 0.

    mu is profiled out (its maximiser is the precision-weighted mean), then
    the profile likelihood in psi = tau² is maximised over [0, ∞): psi = 0 is
    a candidate when the derivative there is ≤ 0, and every interior
    maximum is a root of the derivative, bracketed on a geometric scan and
    found by Brent's method. The best candidate wins.
    """
    y, s2, count = _pairs(data)
    big = float(np.max(s2) + np.var(data.estimate))
    psi = np.concatenate([[0.0], np.geomspace(1e-12 * big, 1e8 * big, 500)])
    _, _, score = profile_loglik(psi, y, s2, count)
    candidates = [0.0] if score[0] <= 0 else []
    down = np.flatnonzero((score[:-1] > 0) & (score[1:] <= 0))

    def score_at(p: float) -> float:
        return float(profile_loglik(np.array([p]), y, s2, count)[2][0])

    for i in down:
        if score[i + 1] == 0:
            candidates.append(float(psi[i + 1]))
            continue
        candidates.append(optimize.brentq(score_at, psi[i], psi[i + 1], xtol=1e-300,
                                          rtol=4 * np.finfo(float).eps, maxiter=500))
    if not candidates:  # still rising at 1e8 × the data scale: report the end, warn
        candidates = [float(psi[-1])]
        warnings.warn(
            "The marginal likelihood increases all the way to tau → ∞: empirical Bayes "
            "collapses to no pooling.",
            DegenerateDataWarning,
            stacklevel=3,
        )
    best_ll, best_m, _ = profile_loglik(np.array(candidates), y, s2, count)
    k = int(np.argmax(best_ll))
    if candidates[k] == 0.0 and len(data) > 1:
        warnings.warn(
            "The marginal likelihood is highest at tau = 0: empirical Bayes collapses to "
            "complete pooling, every theta_j equal to the estimated mu with no posterior "
            "spread. The exact fit (method='exact') keeps the uncertainty in tau.",
            DegenerateDataWarning,
            stacklevel=3,
        )
    return HyperPoints.single(tau=math.sqrt(candidates[k]), mu_mean=float(best_m[k]),
                              mu_var=0.0)
