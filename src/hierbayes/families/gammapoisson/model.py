"""The Gamma–Poisson hierarchical model: specification and fitting (MODEL.md §5).

    y_j ~ Poisson(theta_j · t_j),   theta_j ~ Gamma(alpha, rate beta),   (alpha, beta) ~ prior

The hyperposterior is integrated in u = log(alpha/beta) (log population
mean rate) and v = log(alpha) (log shape; alpha → ∞ is complete pooling),
where |∂(alpha, beta)/∂(u, v)| = alpha·beta.

Default prior
-------------
Flat on log(alpha/beta), and the shrinkage of a group of typical exposure
uniform on (0, 1)::

    p(log m) ∝ 1,   B0 = beta / (beta + t0) ~ Uniform(0, 1),   independently,

with m = alpha/beta the population mean rate and t0 the reference exposure:
the geometric mean of the groups' exposures, each group weighted by whether
it carries information (weight 1 for a positive count; for a count of 0,
1 − exp(−t_j·Σy/Σt), the chance of an event at the pooled rate; see
:func:`~hierbayes.families.gammapoisson.hyperprior.reference_exposure`).
Equivalently log(beta/t0) is standard logistic. Why:

* it is invariant to the units of exposure (rescaling every exposure by c
  rescales every rate posterior by 1/c, exactly) and centred on the data's
  own scale;
* a group without information (count 0 at an exposure where no event could
  be expected, e.g. 1e-90) cannot move t0, so it cannot change the other
  groups' answers (with the plain geometric mean it moved their shrinkage
  from ~0.6 to 1e-18); where every count is positive t0 is the plain
  geometric mean;
* a group's posterior mean is B_j·m + (1 − B_j)·y_j/t_j with B_j =
  beta/(beta + t_j) (MODEL.md §5), so a uniform prior on the shrinkage of a
  typical group says nothing about how much to pool (the "uniform
  shrinkage" idea of Strawderman 1971 and Christiansen & Morris 1997);
* its tail in the shape is p(alpha) ∝ alpha^(−2): complete pooling
  (alpha → ∞, where the likelihood tends to the Poisson likelihood of one
  common rate) keeps a heavy-tailed share of prior mass.

Propriety (derived here): the prior is proper in beta and improper only
along log m.
As m → ∞ the likelihood decays (like e^(−m·Σt) at fixed beta); as m → 0
it decays like m^K, K = #{j : y_j > 0}; as beta → 0 the likelihood
integrated over m decays like 1/(J·log(1/beta))^K. So the posterior is proper
iff at least one count is positive; all-zero data are refused. Moments:
E[alpha] = E[beta] = ∞ (the logistic tails), E[m] is finite but sd(m) = ∞
(the shape can be small, and then m large); log m, log alpha, log beta have
all moments. The fit reports ``inf``/NaN for the moments that do not exist.
E[m] itself converges slowly when the data allow small shapes (m·p(m)
decays in log m only at rate J·alpha): it gets its own grid, and is NaN with
a warning when that grid cannot reach the tolerance.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy import optimize

from hierbayes.data.design import group_design
from hierbayes.errors import DataError, DegenerateDataWarning, ImproperPosteriorError, PriorError
from hierbayes.families.coefprior import regression_prior
from hierbayes.families.gammapoisson.data import PoissonCounts, poisson_counts
from hierbayes.families.gammapoisson.fit import GammaPoissonResult
from hierbayes.families.gammapoisson.hyperprior import log_prior_uv, reference_exposure
from hierbayes.families.gammapoisson.math import NegBinLikelihood, params_of
from hierbayes.families.gammapoisson.regression import GammaPoissonRegressionResult
from hierbayes.families.priors import Prior, resolve_prior
from hierbayes.families.spec import ModelSpec
from hierbayes.integrate.grid2d import integrate_2d
from hierbayes.integrate.rowmaps import RowStandardised
from hierbayes.result import HyperPoints

__all__ = ["GammaPoissonSpec"]

# Hard limits on (u - log pooled rate, v): beyond them a posterior has no mass to speak of.
_U_HALF_WIDTH = 50.0
_V_BOUNDS = (-40.0, 200.0)
_S_BOUNDS = (-200.0, 200.0)  # standardised inner coordinate (see rowmaps)

_IMPROPER = {
    "flat": "p(alpha, beta) ∝ 1 puts infinite mass at large alpha (with beta/alpha "
    "fixed), where the likelihood tends to the complete-pooling likelihood (> 0), so "
    "the posterior does not integrate. Use the default or proper priors.",
    "uniform": "p(alpha, beta) ∝ 1 is improper for every data set; see 'flat'.",
    "flat-log": "a flat prior on (log(alpha/beta), log alpha) gives an improper posterior: "
    "the likelihood does not vanish as alpha → ∞.",
    "jeffreys": "p(alpha, beta) ∝ 1/(alpha·beta), flat on (log alpha, log beta), gives an "
    "improper posterior: the likelihood does not vanish as alpha → ∞.",
}


@dataclass(frozen=True)
class GammaPoissonSpec(ModelSpec):
    """Hierarchical Gamma–Poisson model for grouped event counts with exposures.

    Parameters
    ----------
    prior : None, 'default', dict or callable
        Hyperprior. The default is flat on the log population mean
        log(alpha/beta) with beta/(beta + t0) ~ Uniform(0, 1), t0 the
        geometric mean exposure of the groups that carry information (a
        count-0 group weighted by its chance of an event at the pooled rate;
        see the module docstring for why, and for
        when it gives a proper posterior: at least one positive count). A
        dict of independent proper priors, frozen scipy.stats continuous
        distributions, keyed either ``{"mean", "shape"}`` (mean = alpha/beta,
        shape = alpha) or ``{"alpha", "beta"}`` (beta is the *rate*: a
        ``scipy.stats.gamma(a, scale=s)`` prior on it has rate 1/s). A
        callable ``log_prior(alpha, beta)`` returns a (vectorised) log
        density in (alpha, beta). Known improper choices (``'flat'``, ...)
        are refused.
    pooling : {'partial', 'complete', 'none'}
        Partial pooling is the hierarchical model. Complete pooling fits one
        rate with a ``Gamma(*pooled_prior)`` prior (shape, rate); no pooling fits
        each group alone with the same prior.
    method : {'exact', 'eb'}
        'exact' integrates the hyperparameter posterior by adaptive quadrature;
        'eb' plugs in the type-II maximum-likelihood (alpha, beta).
    tol : float
        Target numerical error of the posterior summaries.
    pooled_prior : (float, float)
        (shape, rate) of the Gamma prior of a rate under complete and no
        pooling. The default (0.5, 0) is Jeffreys' prior theta^(−1/2):
        improper, but its posterior Gamma(0.5 + y, t) is proper for every
        positive exposure, and it does not depend on the units of exposure.
    probs : sequence of float
        Probabilities of the quantile columns in ``fit.groups`` and ``fit.hyper``.

    Examples
    --------
    >>> import hierbayes as hb
    >>> fit = hb.GammaPoisson().fit(hb.datasets.load("pumps"))
    >>> fit.groups.loc[10, ["counts", "exposure"]].tolist()  # 22 failures in 10.5 kh
    [22.0, 10.5]
    >>> round(float(fit.groups.loc[10, "mean"]), 2)
    1.89
    """

    prior: Any = None
    pooling: str = "partial"
    method: str = "exact"
    tol: float = 1e-10
    pooled_prior: tuple[float, float] = (0.5, 0.0)
    probs: tuple[float, ...] = (0.025, 0.5, 0.975)
    _prior: Prior = field(init=False, repr=False, compare=False)
    _fit_class: ClassVar[type] = GammaPoissonResult
    _regression_class: ClassVar[type] = GammaPoissonRegressionResult  # bound in hierbayes.models

    def _check_settings(self) -> None:
        object.__setattr__(self, "pooled_prior", _shape_rate(self.pooled_prior))

    def _resolve_prior(self) -> tuple[Prior, bool]:
        regression = regression_prior(self.prior, "shape")
        if regression is not None:  # {'coef': ..., 'shape': ...}: for covariates
            return regression, regression.kind == "default"
        resolved = resolve_prior(
            self.prior,
            family="GammaPoisson",
            parametrizations={
                ("mean", "shape"): ((0.0, math.inf), (0.0, math.inf)),
                ("alpha", "beta"): ((0.0, math.inf), (0.0, math.inf)),
            },
            callable_names=("alpha", "beta"),
            improper=_IMPROPER,
        )
        return resolved, self.prior is None or self.prior == "default"

    def fit(
        self,
        data: Any = None,
        *,
        group: Any = "group",
        counts: Any = "counts",
        exposure: Any = "exposure",
        covariates: Any = None,
    ) -> GammaPoissonResult:
        """Fit the model to grouped counts; return an immutable fit.

        Parameters
        ----------
        data : pandas.DataFrame, dict of columns, or None
            The data. Rows with the same group label are summed (counts and
            exposures). With ``None``, pass arrays as ``counts`` (and
            ``exposure``, ``group``).
        group, counts, exposure : str, array-like or None
            Column names (defaults are the canonical names) or arrays. Without
            a group column each row is its own group; without an exposure
            column every row has exposure 1.
        covariates : str or list of str, optional
            Group-level covariates: partial pooling toward a regression
            log mu_j = x_j'beta, theta_j ~ Gamma(shape, rate shape/mu_j). A formula
            (``'~ aff_pct'``, via formulaic) or a list of numeric columns (an
            intercept is added); each row is one group. Priors:
            ``{'coef': scipy.stats.norm(0, 2.5)}`` (default flat) and ``'shape'``
            (default uniform shrinkage). See
            :mod:`hierbayes.families.gammapoisson.regression`.

        Returns
        -------
        GammaPoissonResult
        """
        data_ = poisson_counts(data, group=group, counts=counts, exposure=exposure)
        if covariates is not None:
            from hierbayes.families.gammapoisson.regression import fit_gp_regression

            design = group_design(data, data_.group, group, covariates)
            return fit_gp_regression(self, data_, design, _start(data_)[1])
        if self._prior.names == ("shape",) or (isinstance(self.prior, dict)
                                                and "coef" in self.prior):
            raise PriorError("A 'coef' or lone 'shape' prior is for covariates; pass "
                             "covariates=... or give {'mean', 'shape'} priors.")
        return self._fitted(data_, data_)

    # ---- the pipeline's hooks (hierbayes.families.spec) ---------------------------
    def _complete(self, data: PoissonCounts) -> HyperPoints:
        a0, b0 = self.pooled_prior
        return HyperPoints.single(alpha=a0 + float(data.counts.sum(dtype=float)),
                                  beta=b0 + float(data.exposure.sum()))

    def _unpooled(self, data: PoissonCounts) -> HyperPoints:
        a0, b0 = self.pooled_prior
        return HyperPoints.single(alpha=a0, beta=b0)

    def _degenerate(self, data: PoissonCounts) -> str | None:
        if len(data) < 2:
            return ("Only one group: the population distribution is learned from one group, "
                    "so its spread comes from the prior alone.")
        return None

    def _empirical_bayes(self, data: PoissonCounts) -> HyperPoints:
        return _empirical_bayes(NegBinLikelihood.from_counts(data.counts, data.exposure), data)

    def _check_propriety(self, data: PoissonCounts) -> None:
        _check_propriety(self._prior, data)

    def _exact(self, data: PoissonCounts) -> tuple[HyperPoints, dict[str, Any]]:
        lik = NegBinLikelihood.from_counts(data.counts, data.exposure)
        points, rows = _exact(lik, self._prior, data, self.tol)
        return points, {"lik": lik, "rows": rows}


def _shape_rate(value: Any) -> tuple[float, float]:
    msg = (
        "`pooled_prior` must be a pair (shape > 0, rate ≥ 0) of a Gamma prior; got "
        f"{value!r}."
    )
    try:
        a, b = (float(x) for x in value)
    except (TypeError, ValueError):
        raise TypeError(msg) from None
    if not (a > 0 and b >= 0 and math.isfinite(a) and math.isfinite(b)):
        raise PriorError(msg)
    return a, b


def _check_propriety(prior: Prior, data: PoissonCounts) -> None:
    if prior.kind != "default":
        return  # proper priors give proper posteriors; callables: _probe_tails, the grid
    if not np.any(data.counts > 0):
        raise ImproperPosteriorError(
            "The default prior (flat on log(alpha/beta)) gives an improper posterior for "
            "these data: every count is 0, so the likelihood does not vanish as the mean "
            "rate → 0 and the posterior mass piles up there. Use a proper prior on the "
            "mean, e.g. prior={'mean': scipy.stats.lognorm(2, scale=0.01), "
            "'shape': scipy.stats.lognorm(2)}."
        )


def _start(data: PoissonCounts) -> tuple[float, float]:
    """Method-of-moments start for the mode search, in (log mean, log shape)."""
    y, t = data.counts.astype(float), data.exposure
    rate = (y.sum() + 0.5) / t.sum()
    raw = (y + 0.5) / t
    between = float(np.var(raw)) - rate * float(np.mean(1.0 / t)) if raw.size > 1 else 0.0
    shape = rate**2 / between if between > 0 else 100.0
    return math.log(rate), math.log(float(np.clip(shape, 1e-2, 1e6)))


def _bounds(data: PoissonCounts) -> tuple[tuple[float, float], tuple[float, float]]:
    centre = _start(data)[0]
    return (centre - _U_HALF_WIDTH, centre + _U_HALF_WIDTH), _V_BOUNDS


def ridge_guess(rate: float, log_t0: float) -> Callable[[np.ndarray], np.ndarray]:
    """The asymptotes of the posterior ridge u ≈ c(v), a start for the row searches.

    As alpha → ∞ the conditional mode of u tends to the log pooled rate; as
    alpha → 0 the Gamma population piles up near 0 and the mode follows
    m ≈ alpha/t0, u ≈ v − log t0. ``rate − softplus(rate + log t0 − v)`` joins the two.

    Examples
    --------
    >>> c = ridge_guess(0.0, 0.0)
    >>> round(float(c(np.array(40.0))), 6), round(float(c(np.array(-40.0))), 6)
    (-0.0, -40.0)
    """

    def c(v: np.ndarray) -> np.ndarray:
        return rate - np.logaddexp(0.0, rate + log_t0 - v)

    return c


def _exact(
    lik: NegBinLikelihood, prior: Prior, data: PoissonCounts, tol: float
) -> tuple[HyperPoints, RowStandardised]:
    """Exact hyperposterior: a grid in (s, v), u = c(v) + σ(v)·s row by row (see rowmaps)."""
    t0 = reference_exposure(data)
    (ulo, uhi), vbounds = _bounds(data)
    u0, v0 = _start(data)
    lik = lik.centred(u0, v0)

    def logpost_uv(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        inside = (u > ulo) & (u < uhi)
        u = np.where(inside, u, u0)
        return np.where(inside, lik(u, v) + log_prior_uv(prior, u, v, t0), -np.inf)

    rows = RowStandardised(logpost_uv, (ulo, uhi), ridge_guess(u0, math.log(t0)))
    if prior.kind == "callable":
        _probe_tails(logpost_uv, rows, vbounds)

    def to_params(s: np.ndarray, v: np.ndarray) -> dict[str, np.ndarray]:
        # Grid points outside the bounds have weight 0; clipping keeps their numbers finite.
        v = np.clip(v, *vbounds)
        a, b = params_of(np.clip(rows.to_u(s, v), ulo, uhi), v)
        return {"alpha": a, "beta": b}

    uy, ut, _ = data.unique_pairs()

    def summaries(s: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        # Hyperparameter moments on the scale of their sd; group means relative.
        w = w.ravel()
        p = to_params(s.ravel(), v.ravel())
        a, b = p["alpha"], p["beta"]
        u, v = np.log(a / b), np.log(a)
        eu, ev = w @ u, w @ v
        su = math.sqrt(max(w @ (u - eu) ** 2, 1e-300))
        sv = math.sqrt(max(w @ (v - ev) ** 2, 1e-300))
        gm = w @ ((uy[None, :] + a[:, None]) / (ut[None, :] + b[:, None]))
        scaled = [eu / su, ev / sv, math.log(su), math.log(sv)]
        return np.concatenate([scaled, np.log(np.maximum(gm, 1e-300))])

    grid = integrate_2d(
        rows,
        start=(0.0, v0),
        bounds=(_S_BOUNDS, vbounds),
        summaries=summaries,
        tol=tol,
        what="Gamma–Poisson hyperparameter posterior",
        proper=prior.kind != "callable",  # decided from the model (_check_propriety)
    )
    points = HyperPoints.from_grid(grid, rows, to_params, log_const=lik.log_const)
    return points, rows


def _probe_tails(
    logpost: Callable[[np.ndarray, np.ndarray], np.ndarray],
    rows: RowStandardised,
    vbounds: tuple[float, float],
) -> None:
    """Refuse a user log density whose profile rises toward alpha → 0 or alpha → ∞.

    The grid only sees the neighbourhood of the mode: a far tail that grows
    again (a flat prior with strongly overdispersed data: the likelihood falls
    by e^-30 toward complete pooling, the prior's Jacobian then wins) would be
    cut off silently. The profile max_u log p(u, v) is compared 10 apart near
    both ends of the v range.
    """
    lo, hi = vbounds
    v = np.array([lo + 10.0, lo + 20.0, hi - 20.0, hi - 10.0])
    c, _ = rows.maps(v)
    with np.errstate(all="ignore"):
        prof = np.asarray(logpost(c, v), dtype=float)
    for end, outer, inner in (("alpha → 0", prof[0], prof[1]), ("alpha → ∞", prof[3], prof[2])):
        if np.isfinite(outer) and not outer < inner:
            raise ImproperPosteriorError(
                f"The Gamma–Poisson hyperparameter posterior does not decay toward {end}: "
                "with this prior callable the posterior is improper (or too flat to "
                "integrate). Use a proper prior."
            )


def _empirical_bayes(lik: NegBinLikelihood, data: PoissonCounts) -> HyperPoints:
    """Type-II maximum likelihood of (alpha, beta), bounded and checked."""
    if not np.any(data.counts > 0):
        raise DataError(
            "Empirical Bayes has no estimate when every count is 0: the marginal "
            "likelihood increases all the way to a mean rate of 0. Use method='exact' "
            "with a proper prior on the mean."
        )
    u0, v0 = _start(data)
    lik = lik.centred(u0, v0)  # values O(1) near the optimum, not O(J)
    (ulo, uhi), _ = _bounds(data)
    lo_v, hi_v = -25.0, 35.0

    def neg(x: np.ndarray) -> float:
        return -float(lik(np.array([x[0]]), np.array([x[1]]))[0])

    res = optimize.minimize(
        neg, np.array([u0, v0]), method="L-BFGS-B", bounds=[(ulo, uhi), (lo_v, hi_v)]
    )
    res = optimize.minimize(
        neg, res.x, method="Nelder-Mead", bounds=[(ulo, uhi), (lo_v, hi_v)],
        options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 4000},
    )
    u, v = float(res.x[0]), float(res.x[1])
    # The limit alpha → ∞ is the Poisson likelihood of one rate, maximised at the pooled
    # rate: if the optimiser found nothing better, the data are no more variable than
    # Poisson noise and the estimate is complete pooling.
    total = float(data.counts.sum())
    pooled = math.log(total / float(data.exposure.sum()))
    limit = float(np.longdouble(total) * np.longdouble(pooled) - np.longdouble(total)
                  - lik.offset)
    best = -float(res.fun)
    if v > hi_v - 1.0 or limit >= best - 1e-9 * max(1.0, abs(best)):
        u, v = pooled, hi_v
        warnings.warn(
            "The marginal likelihood increases all the way to shape alpha → ∞: the groups "
            "vary no more than Poisson noise, so empirical Bayes collapses to complete "
            f"pooling (reported at alpha = e^{v:.0f}).",
            DegenerateDataWarning,
            stacklevel=3,
        )
    a, b = params_of(np.array([u]), np.array([v]))
    return HyperPoints.single(alpha=float(a[0]), beta=float(b[0]))
