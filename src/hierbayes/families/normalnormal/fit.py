"""Normal–Normal fits: the family hooks of :class:`hierbayes.result.Fit` (MODEL.md §4).

Every point of the hyperposterior carries tau and the conditional posterior of
mu at that point, Normal(``mu_mean``, ``mu_var``): mu integrated out in closed
form (the exact 1-D grid in tau, and complete pooling), or a point (the 2-D
grid in (mu, tau), empirical Bayes). Each theta_j is then a mixture of
Normals over the points (:func:`hierbayes.families.normalnormal.math.component_moments`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from scipy.stats import norm

from hierbayes.families.conjugate import NORMAL
from hierbayes.families.normalnormal import INFO
from hierbayes.families.normalnormal.data import NormalSummaries
from hierbayes.families.normalnormal.grid2d import mu_quantiles_2d, theta_quantiles_2d, z_marginal
from hierbayes.families.normalnormal.math import (
    collapsed_loglik,
    component_moments,
    mixture_moments,
    normal_mixture_quantiles,
    normal_quantiles,
)
from hierbayes.families.registry import FamilyInfo
from hierbayes.integrate.grid1d import Grid1D
from hierbayes.integrate.moments import grid_mean_sd
from hierbayes.mathml import block, dist, fn, num, op, row, sub, sup
from hierbayes.result import (
    DROP_MASS,
    Fit,
    HyperPoints,
    HyperView,
    point_table,
    quantile_label,
)

if TYPE_CHECKING:
    from hierbayes.families.normalnormal.model import NormalNormalSpec

__all__ = ["NormalNormalResult"]

HYPER_NAMES = ("mu", "tau", "log_tau")
META_NAMES = ("theta_new", "I2")  # exact partial pooling only


@dataclass(frozen=True, repr=False)
class NormalNormalResult(Fit):
    """Result of ``NormalNormal.fit``; immutable, tables computed on access.

    Attributes
    ----------
    model : NormalNormal
        The specification that was fitted.
    points : HyperPoints
        The hyperposterior as weighted points with params ``tau``, ``mu_mean``
        and ``mu_var`` (the Normal conditional posterior of mu at each point).
    data : NormalSummaries
        The data, one (estimate, std_error) per group.
    tau_grid : Grid1D or None
        The quadrature grid in the coordinate of tau when mu was integrated out.

    Examples
    --------
    >>> import hierbayes as hb
    >>> fit = hb.NormalNormal().fit(hb.datasets.load("eight_schools"))
    >>> list(fit.groups.columns)
    ['estimate', 'std_error', 'raw', 'mean', 'sd', 'q2.5', 'q50', 'q97.5', 'shrinkage']
    >>> list(fit.draws(10, seed=1).columns[:3])
    ['mu', 'tau', 'theta[A]']
    """

    family_info: ClassVar[FamilyInfo] = INFO

    model: NormalNormalSpec
    points: HyperPoints
    data: NormalSummaries
    tau_grid: Grid1D | None = None

    # ---- the model as mathematics -------------------------------------------------

    def _model_sampling(self) -> tuple[str, str]:
        return (block(row(sub("y", "j"), op("∣"), sub("θ", "j"), op("∼"),
                          dist("N", sub("θ", "j"), sup(sub("s", "j"), num(2))))),
                "Data: each group's estimate y_j is normal around the group's true value θ_j "
                "with a known standard error s_j.")

    def _model_population(self) -> tuple[str, str]:
        return (block(row(sub("θ", "j"), op("∼"), dist("N", "μ", sup("τ", num(2))))),
                "Population: the true values share a normal distribution with mean μ and "
                "spread τ (the between-group standard deviation), learned from all groups "
                "together (partial pooling).")

    def _model_hyperprior(self) -> tuple[str, str]:
        if self.model._prior.base.kind != "default":
            return "", f"Prior: {self.model._prior.describe()}."
        return (block(row(fn("p", "μ", "τ"), op("∝"), num(1))),
                "Prior: the default, flat on μ and on τ ≥ 0 (BDA3 §5.4); improper, with a "
                "proper posterior for three or more groups.")

    def _model_pooled(self, symbol: str) -> tuple[str, str]:
        return (block(row(fn("p", symbol), op("∝"), num(1))),
                "Prior: flat on " + ("the common effect θ." if self.model.pooling == "complete"
                                     else "each θ_j, every group estimated alone (no pooling)."))

    # ---- hooks -------------------------------------------------------------------

    @staticmethod
    def derived_hyper(h: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The rows of :attr:`hyper` from draws of the natural hyperparameters."""
        with np.errstate(divide="ignore"):
            return {"mu": h["mu"], "tau": h["tau"], "log_tau": np.log(h["tau"])}

    @property
    def group_labels(self) -> pd.Index:
        return self.data.group

    def _data_columns(self) -> dict[str, np.ndarray]:
        d = self.data
        return {"estimate": d.estimate, "std_error": d.std_error, "raw": d.estimate}

    def _pair_index(self) -> np.ndarray:
        return self.data.unique_pairs()[3]

    def _components(self, compress: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                   np.ndarray]:
        """(tau², mu_mean, mu_var, weight) of the points, lightest dropped if asked."""
        p = self.points.params
        keep, ww = self._kept(compress)
        return p["tau"][keep] ** 2, p["mu_mean"][keep], p["mu_var"][keep], ww

    def _kept(self, compress: bool) -> tuple[np.ndarray, np.ndarray]:
        """Indices of the points kept (all, or without the lightest DROP_MASS of the
        mass) and their renormalised weights."""
        w = self.points.weight
        keep = np.arange(w.size)
        if compress and w.size > 1:
            order = np.argsort(w)
            keep = np.sort(order[np.cumsum(w[order]) > DROP_MASS])
        return keep, w[keep] / w[keep].sum()

    def _pair_moments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y, se, _, _ = self.data.unique_pairs()
        tau2, m, v, w = self._components(compress=False)
        return mixture_moments(w, tau2, m, v, y, se**2)

    def _pair_quantiles(self, probs: Sequence[float]) -> np.ndarray:
        y, se, _, _ = self.data.unique_pairs()
        grid, logpost = self.points.grid, self.points.logpost
        if grid is not None and logpost is not None:  # 2-D grid: rows of small tau split
            prior = self.model._prior
            return theta_quantiles_2d(grid, logpost, prior.mu_map, prior.tau_map, y, se**2,
                                      np.asarray(probs))
        tau2, m, v, w = self._components(compress=True)
        mean, var, _ = component_moments(tau2, m, v, y, se**2)
        if w.size == 1:
            return normal_quantiles(mean[0], np.sqrt(var[0]), np.asarray(probs))
        return normal_mixture_quantiles(mean, np.sqrt(var), w, np.asarray(probs))

    def _draw(self, size: int, rng: np.random.Generator):
        d = self.data
        y, s2 = d.estimate[None, :], d.std_error[None, :] ** 2
        if self.model.pooling == "none":
            return {}, y + np.sqrt(s2) * rng.standard_normal((size, len(d)))
        prior = self.model._prior
        if self.tau_grid is not None:  # tau exactly, then mu | tau in closed form
            z = self.tau_grid.sample(size, rng)
            tau = prior.tau_map.value(z)
            y0, se0, c0, _ = d.unique_pairs()
            _, m, v = collapsed_loglik(tau**2, y0, se0**2, c0, prior.mu_normal)
        else:
            hyper = self.points.sample(size, rng)
            tau, m, v = hyper["tau"], hyper["mu_mean"], hyper["mu_var"]
        mu = m + np.sqrt(v) * rng.standard_normal(size)
        t2 = (tau**2)[:, None]
        with np.errstate(invalid="ignore"):
            shrink = s2 / (s2 + t2)
            keep = t2 / (s2 + t2)
        theta = y + shrink * (mu[:, None] - y) + np.sqrt(s2 * keep) * rng.standard_normal(
            (size, len(d)))
        return {"mu": mu, "tau": tau}, theta

    _conj = NORMAL
    _independent_at_points = False  # the points carry tau; the thetas share mu

    def _group_data(self) -> tuple[np.ndarray, np.ndarray]:
        d = self.data
        return d.estimate.astype(float), d.std_error.astype(float)

    def _patterns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y, se, _, inverse = self.data.unique_pairs()
        return y.astype(float), se.astype(float), inverse

    def _loo_prior(self, y: np.ndarray, d: np.ndarray, sl: slice = slice(None)):
        p = self.points.params
        if self.model.pooling == "none":  # flat prior on each theta
            return np.zeros((1, y.size)), np.full((1, y.size), np.inf)
        tau2 = (p["tau"] ** 2)[:, None]
        # mu | tau, y without group j, then theta_j | tau, y_-j ~ Normal(m, v + tau²)
        m, v = NORMAL.downdate((p["mu_mean"][:, None], p["mu_var"][:, None]), y[None, :],
                               np.sqrt(d[None, :] ** 2 + tau2))
        return m, v + tau2

    def _new_prior(self, covariates: Any = None):
        p = self.points.params
        return p["mu_mean"], p["mu_var"] + p["tau"] ** 2

    def _pooled_prior(self) -> tuple[float, float] | None:
        return None  # flat

    def _new_moments_exist(self) -> tuple[bool | None, bool | None]:
        """theta_new ~ Normal(mu, tau²): needs E[|mu|] for the mean, E[mu², tau²] for the sd."""
        if self.model.pooling != "partial" or (self.tau_grid is None
                                               and self.points.grid is None):
            return True, True
        prior, n = self.model._prior, len(self.data)
        mean_ok = prior.mu_moment(1, n)
        m2, t2 = prior.mu_moment(2, n), prior.tau_moment(2, n)
        var_ok = None if m2 is None or t2 is None else (m2 and t2)
        return mean_ok, var_ok

    def _evidence_reason(self) -> str | None:
        prior = self.model._prior
        if prior.base.kind == "callable":
            return ("a callable prior's normalising constant is unknown. Give proper priors "
                    "as scipy.stats distributions.")
        flat = [name for name, dist in (("mu", prior.mu), ("tau", prior.tau)) if dist is None]
        if flat:
            return (f"the prior is improper (flat on {' and '.join(flat)}), so p(y) is defined "
                    "only up to an arbitrary constant. Give proper priors for mu and tau, "
                    "e.g. {'mu': stats.norm(0, 10), 'tau': stats.halfcauchy(scale=5)}.")
        return None

    def _log_norm(self) -> float:
        if self.tau_grid is not None:
            return float(self.tau_grid.log_norm)
        return super()._log_norm()

    def replicate(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return theta + self.data.std_error[None, :] * rng.standard_normal(theta.shape)

    def loglik(self, theta: np.ndarray) -> np.ndarray:
        d = self.data
        return norm.logpdf(d.estimate[None, :], theta, d.std_error[None, :])

    @property
    def error(self) -> float:
        """Estimated numerical error of the posterior summaries (0 where closed form)."""
        if self.tau_grid is not None:
            return float(self.tau_grid.error)
        return super().error

    def _new_theta_quantiles(self, probs: np.ndarray) -> np.ndarray | None:
        """On the 2-D grid the points of small tau are sharp in mu: the group-quantile
        solver that splits those rows, for a group with no information (s² = 1e200)."""
        grid, logpost = self.points.grid, self.points.logpost
        if grid is None or logpost is None or self.model.pooling != "partial":
            return None
        prior = self.model._prior
        return theta_quantiles_2d(grid, logpost, prior.mu_map, prior.tau_map, np.zeros(1),
                                  np.array([1e200]), np.asarray(probs, dtype=float))[0]

    def quadrature_shape(self) -> tuple[int, ...] | None:
        if self.tau_grid is not None:  # mu integrated out: one dimension, tau
            return (self.tau_grid.weight.size,)
        return super().quadrature_shape()

    def group_size(self) -> np.ndarray:
        """The precision 1/std_error² of each group's estimate."""
        return 1.0 / self.data.std_error.astype(float) ** 2

    def point_hyper(self) -> dict[str, np.ndarray]:
        p = self.points.params  # mu is kept as a mean and variance
        return {"mu": p["mu_mean"][:1], "tau": p["tau"][:1]}

    def hyper_view(self) -> HyperView:
        """The marginal posterior of tau (mu integrated out, or its 2-D grid's marginal)."""
        label = ("tau (population standard deviation)",)
        zgrid = self._tau_marginal()
        if zgrid is None:  # empirical Bayes
            return HyperView("point", label, (self.points.params["tau"][:1],))
        tmap = self.model._prior.tau_map
        return HyperView(
            "marginal", label,
            cdf=lambda tau: zgrid.cdf(tmap.inverse(tau)),
            quantile=lambda p: tmap.value(zgrid.quantile(p)),
            caption="Marginal posterior of tau.",
        )

    def _tau_marginal(self) -> Any:
        """The Grid1D of the coordinate of tau, or None for empirical Bayes."""
        if self.tau_grid is not None:
            return self.tau_grid
        grid, logpost = self.points.grid, self.points.logpost
        if grid is None or logpost is None:
            return None
        prior = self.model._prior
        return z_marginal(grid, logpost, prior.mu_map, prior.tau_map, scale=self.data.scale,
                          tol=max(self.model.tol, 1e-12), tau_order=0, mu_order=0)[0]

    def __repr__(self) -> str:
        m = self.model
        acc = (f", numerical error {self.error:.1g}" if self.quadrature_shape() is not None
               else "")
        return (
            f"<{type(self).__name__}: {len(self.group_labels)} groups, "
            f"pooling={m.pooling!r}, method={m.method!r}, prior={m._prior.describe()}{acc}>"
        )

    @cached_property
    def hyper(self) -> pd.DataFrame:
        """Hyperparameter table: rows mu, tau, log_tau, and for exact partial pooling
        theta_new (a new group's theta: its interval is the prediction interval) and
        I2 (tau²/(tau² + s²), Higgins & Thompson's typical within-group variance s²).

        Columns mean, sd and the quantiles of ``model.probs``. A mean that does
        not exist is reported as inf (with sd NaN), a variance that does not
        exist as sd = inf, and a moment whose existence is not established
        (some user priors) as NaN — never as a number that depends on where a
        grid was cut. Under a callable prior a moment is computed from the
        2-D grid where the grid holds all of it, else NaN with a warning
        (:func:`hierbayes.integrate.moments.grid_mean_sd`). Which moments exist is worked out in
        :mod:`hierbayes.families.normalnormal.priors` (e.g. p(mu, tau) ∝ 1 with J = 3 groups:
        E[tau] and E[mu] do not exist). Under complete pooling the one row is
        ``theta``, the common effect; empirical Bayes reports its point
        estimate in ``mean``; no pooling has no hyperparameters.
        """
        probs = np.asarray(self.model.probs)
        cols = ["mean", "sd", *[quantile_label(p) for p in probs]]
        p = self.points.params
        if self.model.pooling == "none":
            return pd.DataFrame(columns=cols, dtype=float).rename_axis("parameter")
        if self.model.pooling == "complete":
            m, sd = float(p["mu_mean"][0]), math.sqrt(float(p["mu_var"][0]))
            q = normal_quantiles(np.array([m]), np.array([sd]), probs)[0]
            return pd.DataFrame([[m, sd, *q]], index=pd.Index(["theta"], name="parameter"),
                                columns=cols)
        if self.tau_grid is None and self.points.grid is None:  # empirical Bayes
            tau, mu = float(p["tau"][0]), float(p["mu_mean"][0])
            i2 = tau**2 / (tau**2 + typical_variance(self.data.std_error))
            # theta_new: the plug-in predictive's mean (mu), as every row: the point estimate
            est = [mu, tau, math.log(tau) if tau > 0 else -math.inf, mu, i2]
            return point_table([*HYPER_NAMES, *META_NAMES], est, cols)
        return _exact_hyper_table(self, probs, cols)


def _moment_row(values: np.ndarray, w: np.ndarray, mean_ok: bool | None, var_ok: bool | None,
                extra_var: np.ndarray | None = None) -> list[float]:
    """[mean, sd] of a mixture, honest about moments that do not exist."""
    if mean_ok is None:
        return [math.nan, math.nan]
    if not mean_ok:
        return [math.inf, math.nan]
    mean = float(w @ values)
    if var_ok is None:
        return [mean, math.nan]
    if not var_ok:
        return [mean, math.inf]
    dev = (values - mean) ** 2 + (0.0 if extra_var is None else extra_var)
    return [mean, math.sqrt(float(w @ dev))]


def _exact_hyper_table(
    fit: NormalNormalResult, probs: np.ndarray, cols: list[str]
) -> pd.DataFrame:
    prior, n = fit.model._prior, len(fit.data)
    tmap = prior.tau_map
    mu_mean, mu_var = prior.mu_moment(1, n), prior.mu_moment(2, n)
    tau_mean, tau_var = prior.tau_moment(1, n), prior.tau_moment(2, n)
    if fit.tau_grid is not None:  # mu integrated out: the points are the tau grid
        zgrid = fit.tau_grid
        m, v = fit.points.params["mu_mean"], fit.points.params["mu_var"]
        _, mc, vc, wc = fit._components(compress=True)
        mu_q = normal_mixture_quantiles(mc[:, None], np.sqrt(vc)[:, None], wc, probs)[0]
    else:  # 2-D grid: tau's marginal in 1-D (tails reached), mu's quantiles from the rows
        grid, logpost = fit.points.grid, fit.points.logpost
        assert grid is not None and logpost is not None
        zgrid, m, v = z_marginal(
            grid, logpost, prior.mu_map, tmap, scale=fit.data.scale,
            tol=max(fit.model.tol, 1e-12),
            tau_order=2 if tau_var else (1 if tau_mean else 0),
            mu_order=2 if mu_var else (1 if mu_mean else 0),
        )
        mu_q = mu_quantiles_2d(grid, prior.mu_map, probs)
    w, z, zq = zgrid.weight, zgrid.x, zgrid.quantile(probs)
    mu_row = _moment_row(m, w, mu_mean, mu_var, extra_var=v)
    tau_row = _moment_row(tmap.value(z), w, tau_mean, tau_var)
    if prior.is_callable and fit.points.grid is not None:  # existence unknown: on the grid
        grid, tol = fit.points.grid, fit.model.tol
        gw = np.asarray(fit.points.weight, dtype=float).reshape(grid.weight.shape)
        mu_row = list(grid_mean_sd(prior.mu_map.value(grid.u), gw, tol, "mu", 5))
        tau_row = list(grid_mean_sd(tmap.value(grid.v), gw, tol, "tau", 5))
    rows = {
        "mu": mu_row + list(mu_q),
        "tau": tau_row + list(tmap.value(zq)),
        "log_tau": _moment_row(tmap.log_value(z), w, True, True) + list(tmap.log_value(zq)),
        **_meta_rows(fit, probs, tmap.value(z), w, tmap.value(zq), m, v),
    }
    names = [*HYPER_NAMES, *META_NAMES]
    data = [rows[name] for name in names]
    return pd.DataFrame(data, index=pd.Index(names, name="parameter"), columns=cols)


def typical_variance(std_error: np.ndarray) -> float:
    """Higgins & Thompson's (2002) typical within-group variance
    s² = (k − 1) Σw / ((Σw)² − Σw²), w = 1/s_j² (the s_j² of equal groups).

    >>> typical_variance(np.array([2.0, 2.0, 2.0]))
    4.0
    """
    w = 1.0 / np.asarray(std_error, dtype=float) ** 2
    k = w.size
    if k < 2:
        return float(1.0 / w[0])
    return float((k - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum()))


def _meta_rows(fit: NormalNormalResult, probs: np.ndarray, tau: np.ndarray, w: np.ndarray,
               tau_q: np.ndarray, m: np.ndarray, v: np.ndarray) -> dict[str, list[float]]:
    """The rows a meta-analyst reads beside mu and tau (issue 14).

    ``theta_new``: a new group's theta, the mixture over the hyperparameter
    points of Normal(mu, tau²) with mu's conditional variance (its interval is
    the prediction interval); moments as :meth:`predict_new` establishes them,
    from mu | tau, y ~ Normal(m, v) on the tau points (``w``).
    ``I2``: tau²/(tau² + s²) with Higgins & Thompson's typical within-group
    variance s² (:func:`typical_variance`); monotone in tau, so its quantiles
    are tau's transformed.
    """
    if fit.tau_grid is not None:
        tau2c, mc, vc, wc = fit._components(compress=True)
        new_q = normal_mixture_quantiles(mc[:, None], np.sqrt(vc + tau2c)[:, None], wc,
                                         probs)[0]
    else:  # the 2-D grid: rows of small tau split (see _new_theta_quantiles)
        new_q = fit._new_theta_quantiles(probs)
    mean_ok, var_ok = fit._new_moments_exist()
    new_row = _moment_row(m, w, mean_ok, var_ok, extra_var=v + np.asarray(tau) ** 2)
    s2 = typical_variance(fit.data.std_error)

    def i2(t: np.ndarray) -> np.ndarray:
        t2 = np.asarray(t, dtype=float) ** 2
        return t2 / (t2 + s2)

    return {"theta_new": new_row + list(new_q),
            "I2": _moment_row(i2(tau), w, True, True) + list(i2(tau_q))}
