"""The Beta–Binomial hierarchical model: specification and fitting (MODEL.md §3).

    y_j ~ Binomial(n_j, theta_j),   theta_j ~ Beta(alpha, beta),   (alpha, beta) ~ prior
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from scipy import optimize
from scipy.special import expit, log_expit, logit

from hierbayes.data.binomial import PairCounts, binomial_counts
from hierbayes.data.design import group_design
from hierbayes.errors import (
    DataError,
    DegenerateDataWarning,
    ImproperPosteriorError,
    PriorError,
)
from hierbayes.families.betabinomial.fit import BetaBinomialResult
from hierbayes.families.betabinomial.math import CollapsedLikelihood, beta_of, conditional_means
from hierbayes.families.betabinomial.regression import BetaBinomialRegressionResult
from hierbayes.families.coefprior import regression_prior
from hierbayes.families.priors import Prior, resolve_prior
from hierbayes.families.spec import ModelSpec
from hierbayes.integrate.grid2d import integrate_2d
from hierbayes.result import HyperPoints

__all__ = ["BetaBinomialSpec"]

# Hard limits on (logit mu, log kappa): beyond them a posterior has no mass to speak of.
_U_BOUNDS = (-45.0, 45.0)
_V_BOUNDS = (-200.0, 250.0)

_IMPROPER = {
    "flat": "p(alpha, beta) ∝ 1 puts infinite mass at large alpha + beta, where the "
    "likelihood tends to the complete-pooling likelihood (> 0), so the posterior does not "
    "integrate (BDA3 §5.3). Use the default (alpha+beta)^(-5/2) or proper priors.",
    "uniform": "p(alpha, beta) ∝ 1 is improper for every data set; see 'flat'.",
    "flat-logit-log": "a flat prior on (log(alpha/beta), log(alpha+beta)) gives an improper "
    "posterior: the likelihood does not vanish as alpha+beta → ∞ (nor as → 0 when groups "
    "are all 0 or all n).",
}


@dataclass(frozen=True)
class BetaBinomialSpec(ModelSpec):
    """Hierarchical Beta–Binomial model for grouped success counts.

    Parameters
    ----------
    prior : None, 'default', dict or callable
        Hyperprior. The default is p(alpha, beta) ∝ (alpha + beta)^(−5/2)
        (BDA3 §5.3; uniform on mu and on kappa^(−1/2)). A dict of independent
        proper priors, frozen scipy.stats continuous distributions, keyed either
        ``{"mu", "kappa"}`` (mu = alpha/(alpha+beta) in (0, 1), kappa =
        alpha+beta > 0) or ``{"alpha", "beta"}``. A callable
        ``log_prior(alpha, beta)`` returns a (vectorised) log density in
        (alpha, beta). ``'flat'`` is refused: its posterior is improper.
    pooling : {'partial', 'complete', 'none'}
        Partial pooling is the hierarchical model. Complete pooling fits one
        theta with a ``Beta(*pooled_prior)`` prior; no pooling fits each group
        alone with the same prior.
    method : {'exact', 'eb'}
        'exact' integrates the hyperparameter posterior by adaptive quadrature;
        'eb' plugs in the type-II maximum-likelihood (alpha, beta).
    tol : float
        Target numerical error of the posterior summaries (relative to their
        scale); the fit reports what it reached.
    pooled_prior : (float, float)
        Beta prior of theta under complete and no pooling.
    probs : sequence of float
        Probabilities of the quantile columns in ``fit.groups`` and ``fit.hyper``.

    Examples
    --------
    >>> import hierbayes as hb
    >>> fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
    >>> round(float(fit.groups["mean"].iloc[-1]), 4)  # the current experiment, 4/14
    0.2109
    """

    prior: Any = None
    pooling: str = "partial"
    method: str = "exact"
    tol: float = 1e-10
    pooled_prior: tuple[float, float] = (1.0, 1.0)
    probs: tuple[float, ...] = (0.025, 0.5, 0.975)
    _prior: Prior = field(init=False, repr=False, compare=False)
    _fit_class: ClassVar[type] = BetaBinomialResult
    _regression_class: ClassVar[type] = BetaBinomialRegressionResult  # bound in hierbayes.models

    def _check_settings(self) -> None:
        object.__setattr__(self, "pooled_prior", _pair("pooled_prior", self.pooled_prior))

    def _resolve_prior(self) -> tuple[Prior, bool]:
        regression = regression_prior(self.prior, "kappa")
        if regression is not None:  # {'coef': ..., 'kappa': ...}: for covariates
            return regression, regression.kind == "default"
        resolved = resolve_prior(
            self.prior,
            family="BetaBinomial",
            parametrizations={
                ("mu", "kappa"): ((0.0, 1.0), (0.0, math.inf)),
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
        successes: Any = "successes",
        trials: Any = "trials",
        covariates: Any = None,
    ) -> BetaBinomialResult:
        """Fit the model to grouped counts; return an immutable fit.

        Parameters
        ----------
        data : pandas.DataFrame, dict of columns, dask.dataframe.DataFrame, or None
            The data. Rows with the same group label are summed. With
            ``None``, pass arrays as ``successes``, ``trials`` (and ``group``).
            A Dask DataFrame is reduced to its sufficient statistics on the
            cluster and gives a :class:`hierbayes.families.betabinomial.dask.DaskBetaBinomialFit`
            whose per-group tables are lazy Dask DataFrames (needs
            ``hierbayes[dask]``).
        group, successes, trials : str or array-like
            Column names (defaults are the canonical names) or arrays. Without
            a group column, each row is its own group.
        covariates : str or list of str, optional
            Group-level covariates: partial pooling toward a regression
            logit mu_j = x_j'beta, theta_j ~ Beta(mu_j kappa, (1 − mu_j) kappa).
            A formula (``'~ x1 * x2'``, categorical terms as ``C(x)``, via
            formulaic) or a list of numeric columns (an intercept is added);
            each row is one group. Priors: ``{'coef': scipy.stats.norm(0, 2.5)}``
            (one for all, or a dict by name; norm, t or cauchy; default flat) and
            ``'kappa'`` (default kappa^(−3/2)). See
            :mod:`hierbayes.families.betabinomial.regression`.

        Returns
        -------
        BetaBinomialResult
        """
        if hasattr(data, "__dask_graph__"):  # a Dask collection: reduce it where it lives
            from hierbayes.families.betabinomial.dask import fit_dask

            return fit_dask(self, data, group=group, successes=successes, trials=trials)
        counts = binomial_counts(data, group=group, successes=successes, trials=trials)
        if covariates is not None:
            from hierbayes.families.betabinomial.regression import fit_bb_regression

            design = group_design(data, counts.group, group, covariates)
            return fit_bb_regression(self, counts, design, _start(counts.pairs))
        if self._prior.names == ("kappa",) or (isinstance(self.prior, dict)
                                                and "coef" in self.prior):
            raise PriorError("A 'coef' or lone 'kappa' prior is for covariates; pass "
                             "covariates=... or give {'mu', 'kappa'} priors.")
        return self._fitted(counts, counts.pairs)

    # ---- the pipeline's hooks (hierbayes.families.spec) ---------------------------
    def _complete(self, pairs: PairCounts) -> HyperPoints:
        a0, b0 = self.pooled_prior
        return HyperPoints.single(alpha=a0 + pairs.total_successes,
                                  beta=b0 + pairs.total_failures)

    def _unpooled(self, pairs: PairCounts) -> HyperPoints:
        a0, b0 = self.pooled_prior
        return HyperPoints.single(alpha=a0, beta=b0)

    def _degenerate(self, pairs: PairCounts) -> str | None:
        if pairs.count[pairs.trials > 0].sum() < 2:
            return ("Fewer than two groups have trials: the population distribution is "
                    "learned from at most one group, so its spread comes from the prior alone.")
        return None

    def _empirical_bayes(self, pairs: PairCounts) -> HyperPoints:
        _check_eb_identified(pairs)
        lik = CollapsedLikelihood.from_pairs(pairs.successes, pairs.trials, pairs.count)
        return _empirical_bayes(*_centred(lik, pairs))

    def _check_propriety(self, pairs: PairCounts) -> None:
        _check_propriety(self._prior, pairs)

    def _exact(self, pairs: PairCounts) -> tuple[HyperPoints, dict[str, Any]]:
        lik = CollapsedLikelihood.from_pairs(pairs.successes, pairs.trials, pairs.count)
        lik, start = _centred(lik, pairs)
        return _exact(lik, self._prior, pairs, self.tol, start), {"lik": lik}


def _pair(name: str, value: Any) -> tuple[float, float]:
    try:
        a, b = (float(x) for x in value)
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a pair of positive numbers; got {value!r}.") from None
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        raise PriorError(f"`{name}` must be a pair of positive numbers; got {value!r}.")
    return a, b


def log_prior_uv(prior: Prior, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Log prior density in (u, v) = (logit mu, log kappa), Jacobians included.

    |∂(alpha, beta)/∂(u, v)| = alpha·beta and |∂(mu, kappa)/∂(u, v)| = mu(1 − mu)·kappa.
    """
    lmu, lnu = log_expit(u), log_expit(-u)
    if prior.kind == "default":
        # (alpha+beta)^(-5/2) · alpha·beta = kappa^(-1/2) · mu(1 − mu)
        return lmu + lnu - 0.5 * v
    if prior.kind == "independent" and prior.names == ("mu", "kappa"):
        return prior.logpdf(expit(u), np.exp(v)) + lmu + lnu + v
    a, b = beta_of(u, v)
    log_jac = lmu + lnu + 2.0 * v
    if prior.kind == "independent":
        return prior.logpdf(a, b) + log_jac
    return prior.call(a, b) + log_jac


def _check_propriety(prior: Prior, pairs: PairCounts) -> None:
    if prior.kind != "default":
        return  # proper priors give proper posteriors; callables are checked by the grid
    y, n = pairs.successes, pairs.trials
    if not np.any((y > 0) & (y < n)):
        raise ImproperPosteriorError(
            "The default prior (alpha+beta)^(-5/2) gives an improper posterior for these "
            "data: no group has 0 < successes < trials (every group is all failures, all "
            "successes, or empty), so the posterior mass piles up as alpha+beta → 0 "
            "(Tak & Morris). Use proper priors, e.g. prior={'mu': scipy.stats.beta(1, 1), "
            "'kappa': scipy.stats.lognorm(1, scale=10)}."
        )


def _start(pairs: PairCounts) -> tuple[float, float]:
    """Method-of-moments start for the mode search, in (logit mu, log kappa)."""
    ok = pairs.trials > 0
    y, n = pairs.successes[ok].astype(float), pairs.trials[ok].astype(float)
    c = pairs.count[ok].astype(float)
    p = np.clip((c @ y + 0.5) / (c @ n + 1.0), 1e-6, 1 - 1e-6)
    rates = (y + 0.5) / (n + 1.0)
    var = 0.0
    if c.sum() > 1:  # variance of the groups' rates, each pair counted per group
        var = float(c @ (rates - (c @ rates) / c.sum()) ** 2 / c.sum())
    kappa = p * (1 - p) / var - 1.0 if var > 0 else 100.0
    kappa = float(np.clip(kappa, 0.1, 1e6))
    return float(logit(p)), math.log(kappa)


def _centred(
    lik: CollapsedLikelihood, pairs: PairCounts
) -> tuple[CollapsedLikelihood, tuple[float, float]]:
    """The likelihood centred near its maximum, and a start for the mode search.

    Differences from a point near the mode keep full precision at any J: with
    10^7 groups the uncentred log likelihood is ~10^8 and its rounding alone
    would stop the quadrature short of its tolerance. Damped Newton steps from
    the moment start, each re-centred at the current point so that its finite
    differences are exact too; a reference within a tenth of an sd of the
    maximum is all that is needed. The start is that maximum if Newton got
    there, else the moment start (e.g. a likelihood rising all the way to
    kappa → ∞, where the reference matters little).
    """
    start = _start(pairs)
    x = np.array(start)
    best = lik.centred(*x)
    if best.s_y.size == 0:  # only pairs: centring just subtracts a constant
        return best, start
    i = np.array([-1, 0, 1, -1, 0, 1, -1, 0, 1])
    j = np.array([-1, -1, -1, 0, 0, 0, 1, 1, 1])
    d = np.array([1e-3, 1e-3])
    lo, hi = np.array([-40.0, -25.0]), np.array([40.0, 35.0])
    for _ in range(40):
        f = lik.centred(*x)
        val = f(x[0] + i * d[0], x[1] + j * d[1]).reshape(3, 3)  # val[j, i]
        g = np.array([val[1, 2] - val[1, 0], val[2, 1] - val[0, 1]]) / (2 * d)
        h = np.array([
            [(val[1, 2] - 2 * val[1, 1] + val[1, 0]) / d[0] ** 2,
             (val[2, 2] - val[2, 0] - val[0, 2] + val[0, 0]) / (4 * d[0] * d[1])],
            [0.0, (val[2, 1] - 2 * val[1, 1] + val[0, 1]) / d[1] ** 2],
        ])
        h[1, 0] = h[0, 1]
        if not (np.all(np.isfinite(g)) and np.all(np.isfinite(h))):
            break
        best = f
        concave = h[0, 0] < 0 and np.linalg.det(h) > 0
        if concave:
            sd = np.sqrt(np.diag(np.linalg.inv(-h)))
            step = -np.linalg.solve(h, g)
            if np.all(np.abs(step) <= 0.1 * sd):
                return best, (float(x[0]), float(x[1]))
            d = np.clip(1e-2 * sd, 1e-7, 1e-3)
        else:
            step = 0.1 * g / max(float(np.linalg.norm(g)), 1e-300)
        step *= min(1.0, 1.0 / max(float(np.linalg.norm(step)), 1e-300))
        for _ in range(30):  # backtrack until the likelihood increases
            cand = np.clip(x + step, lo, hi)
            if f(cand[:1], cand[1:])[0] > 0:
                break
            step *= 0.5
        else:
            break
        x = cand
    return best, start


def _exact(
    lik: CollapsedLikelihood, prior: Prior, pairs: PairCounts, tol: float,
    start: tuple[float, float],
) -> HyperPoints:
    def logpost(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return lik(u, v) + log_prior_uv(prior, u, v)

    uy, un = pairs.successes.astype(float), pairs.trials.astype(float)

    origin: list[float] = []  # (E[u], E[v]) of the first grid

    def summaries(u: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        # Hyperparameter means in units of their sd, from a fixed origin (E[v]/sd(v)
        # itself reaches 10^4 at large J, where a relative change of 1e-14 in sd(v)
        # would read as an error of 1e-10); group means relative.
        eu, ev = np.sum(w * u), np.sum(w * v)
        su = math.sqrt(max(np.sum(w * (u - eu) ** 2), 1e-300))
        sv = math.sqrt(max(np.sum(w * (v - ev) ** 2), 1e-300))
        if not origin:
            origin.extend([eu, ev])
        a, b = beta_of(u.ravel(), v.ravel())
        gm = conditional_means(uy, un, a, b, w.ravel())  # O(points · distinct n)
        scaled = [(eu - origin[0]) / su, (ev - origin[1]) / sv, math.log(su), math.log(sv)]
        return np.concatenate([scaled, np.log(np.maximum(gm, 1e-300))])

    grid = integrate_2d(
        logpost,
        start=_inside_prior(prior, start),
        bounds=(_U_BOUNDS, _V_BOUNDS),
        summaries=summaries,
        tol=tol,
        what="Beta–Binomial hyperparameter posterior",
        proper=prior.kind != "callable",  # decided from the model (_check_propriety)
    )
    log_const = lik.log_binom + lik.offset
    return HyperPoints.from_grid(grid, logpost, _to_params, log_const=log_const)


def _inside_prior(prior: Prior, start: tuple[float, float]) -> tuple[float, float]:
    """A start for the mode search where the prior has density.

    The data's start, unless a prior with bounded support excludes it (e.g.
    ``mu ~ U(0.9999, 1)`` with observed rates near 0.1): then the data's
    coordinate is kept where the prior allows it and the other moved to the
    prior's median.
    """
    def inside(p: tuple[float, float]) -> bool:
        return bool(np.isfinite(log_prior_uv(prior, np.array([p[0]]), np.array([p[1]])))[0])

    if prior.kind != "independent" or inside(start):
        return start
    m1, m2 = (float(d.median()) for d in prior.dists)
    mu, kappa = (m1, m2) if prior.names == ("mu", "kappa") else (m1 / (m1 + m2), m1 + m2)
    um, vm = float(logit(mu)), math.log(kappa)
    for cand in ((um, start[1]), (start[0], vm)):
        if inside(cand):
            return cand
    return um, vm


def _to_params(u: np.ndarray, v: np.ndarray) -> dict[str, np.ndarray]:
    a, b = beta_of(u, v)
    return {"alpha": a, "beta": b}


def _check_eb_identified(pairs: PairCounts) -> None:
    """Refuse empirical Bayes where the marginal likelihood has no maximum.

    If no group has 0 < successes < trials, the likelihood rises to the edge
    of the (alpha, beta) space (the same data make the default prior's
    posterior improper, Tak & Morris): all zeros toward mu = 0 and all
    successes toward mu = 1, at any kappa; groups all-or-none toward kappa = 0;
    and with one trial per group it does not depend on kappa at all. An
    optimiser would stop somewhere on that edge (alpha = 2.8e-22) and report
    it as an estimate.
    """
    on = pairs.trials > 0
    y, n = pairs.successes[on], pairs.trials[on]
    if n.size == 0 or np.any((y > 0) & (y < n)):
        return
    if np.all(y == 0):
        why = ("every group has 0 successes, so the marginal likelihood increases all the "
               "way to a population mean mu = alpha/(alpha+beta) of 0, at any kappa")
    elif np.all(y == n):
        why = ("every group has successes = trials, so the marginal likelihood increases "
               "all the way to a population mean mu = alpha/(alpha+beta) of 1, at any kappa")
    elif np.all(n == 1):
        why = ("every group has one trial, and the marginal likelihood of one trial per group "
               "depends on mu alone: the data say nothing about kappa = alpha+beta, the "
               "spread between groups")
    else:
        why = ("every group has 0 successes or successes = trials, so the marginal likelihood "
               "increases all the way to kappa = alpha+beta → 0 (each group's rate exactly 0 "
               "or 1)")
    raise DataError(
        f"Empirical Bayes has no estimate for these data: {why}. Use method='exact' with a "
        "proper prior, e.g. prior={'mu': scipy.stats.beta(1, 1), "
        "'kappa': scipy.stats.gamma(2, scale=10)}."
    )


def _empirical_bayes(lik: CollapsedLikelihood, start: tuple[float, float]) -> HyperPoints:
    """Type-II maximum likelihood of (alpha, beta), bounded and checked."""
    u0, v0 = start

    def neg(x: np.ndarray) -> float:
        return -float(lik(np.array([x[0]]), np.array([x[1]]))[0])

    lo_v, hi_v = -25.0, 35.0
    res = optimize.minimize(
        neg, np.array([u0, v0]), method="L-BFGS-B", bounds=[(-40.0, 40.0), (lo_v, hi_v)]
    )
    res = optimize.minimize(neg, res.x, method="Nelder-Mead", options={"xatol": 1e-10,
                                                                       "fatol": 1e-13})
    u, v = float(res.x[0]), float(res.x[1])
    if v > hi_v - 1.0:
        warnings.warn(
            "The marginal likelihood increases all the way to alpha+beta → ∞: the groups "
            "vary no more than binomial noise, so empirical Bayes collapses to complete "
            f"pooling (reported at alpha+beta = e^{v:.0f}).",
            DegenerateDataWarning,
            stacklevel=4,
        )
    a, b = beta_of(np.array([u]), np.array([v]))
    return HyperPoints.single(alpha=float(a[0]), beta=float(b[0]))
