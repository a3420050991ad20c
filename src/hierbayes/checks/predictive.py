"""Predictive quantities of a fit: leave-one-group-out, evidence, new groups.

Everything here is exact on the fit's weighted hyperparameter points (the
posterior predictive checks, which need replicated data sets, are in
:mod:`hierbayes.checks.ppc`).

Leave one group out (LOGO)
    p(eta | y_-j) ∝ p(eta | y) / p(y_j | eta, y_-j), so on the points

        p(y_j | y_-j) = 1 / Σ_k w_k / p(y_j | eta_k, y_-j)

    where p(y_j | eta_k, y_-j) is the marginal probability of group j's
    data with theta_j distributed as at point k without group j (for the
    Beta–Binomial and Gamma–Poisson the point itself; for the Normal–Normal
    the collapsed mu posterior with y_j removed; for complete pooling the
    common posterior with y_j removed). No importance sampling: the grid
    weights are exact, and the grid extends until the posterior's mass has
    decayed, which also covers each leave-one-out posterior unless one group
    alone moves it far out (the tests check against refits without group j).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import logsumexp

from hierbayes.errors import (
    AccuracyWarning,
    DataError,
    HierBayesError,
    HierBayesWarning,
    PriorError,
)
from hierbayes.validate import check_prob

if TYPE_CHECKING:
    from hierbayes.result import Fit

__all__ = [
    "log_evidence",
    "log_predictive_groups",
    "log_predictive_new",
    "logo",
    "predict_new",
]

_CHUNK = 2_000_000  # components × patterns per block
_POOLING_NAMES = {"none": "No pooling", "complete": "Complete pooling",
                  "partial": "Partial pooling"}


def blocks(k: int, m: int):
    """Slices of ``m`` patterns such that k components × a block stay within _CHUNK."""
    step = max(1, _CHUNK // max(k, 1))
    for i in range(0, m, step):
        yield slice(i, i + step)


def group_posteriors(fit: Fit, y: np.ndarray, d: np.ndarray):
    """theta of groups with data (y, d) at every hyperparameter point: (points, groups)."""
    return fit._conj.update(fit._loo_prior(y, d), y[None, :], d[None, :])


def _check_exact_partial(fit: Fit, what: str) -> None:
    if fit.model.pooling == "partial" and fit.model.method == "eb":
        raise HierBayesError(
            f"{what} needs the posterior of the hyperparameters; an empirical-Bayes fit has "
            "only a point estimate that has already seen every group. Use method='exact'."
        )


def logo(fit: Fit) -> pd.Series:
    """Exact leave-one-group-out log predictive densities log p(y_j | y_-j).

    Log probability mass (binomial coefficients and 1/y! included) for
    counts, log density for Normal estimates, so that sums are comparable
    with other tools. A prior with no predictive density (no pooling with a
    flat prior) gives NaN with a :class:`HierBayesWarning`. Empirical Bayes
    refits without each group (p(y_j | eta_hat(y_-j))).

    Examples
    --------
    >>> import hierbayes as hb
    >>> lp = hb.BetaBinomial().fit(hb.datasets.load("rats")).logo()
    >>> round(float(lp.sum()), 2)
    -158.55
    """
    if fit.model.pooling == "partial" and fit.model.method == "eb":
        return _logo_refits(fit)
    y, d, inverse = fit._patterns()
    conj = fit._conj
    with np.errstate(divide="ignore"):
        lw = np.log(fit.points.weight)[:, None]
    out = np.empty(y.size)
    edge = np.zeros(y.size)
    shape = _grid_shape(fit)
    for sl in blocks(lw.size, y.size):
        p = fit._loo_prior(y[sl], d[sl], sl)
        ll = conj.log_marginal(p, y[sl][None, :], d[sl][None, :])
        out[sl] = -logsumexp(lw - ll, axis=0)
        if shape is not None:  # the leave-one-out posterior's mass on the grid's edges
            w_loo = np.exp(lw - ll + out[sl][None, :]).reshape(*shape, -1)
            edge[sl] = _edge_mass(w_loo)
    if np.any(np.isneginf(out)) and fit._pooled_prior() is None and fit.model.pooling != "partial":
        warnings.warn(
            f"{_POOLING_NAMES[fit.model.pooling]} with an improper prior has no predictive "
            "density for "
            "a left-out group: its log predictive density is reported as NaN.",
            HierBayesWarning,
            stacklevel=3,
        )
        out = np.where(np.isneginf(out), np.nan, out)
    out = out[inverse]
    poor = np.flatnonzero(edge[inverse] > 0.1 * fit.model.tol)
    if poor.size:
        _refit_poorly_covered(fit, out, poor, edge[inverse])
    return pd.Series(out, index=fit.group_labels, name="logo")


def _refit_poorly_covered(fit: Fit, out: np.ndarray, poor: np.ndarray, edge: np.ndarray) -> None:
    """Groups whose leave-one-out posterior reaches the grid's edges: refit without them.

    An outlying group pulls the posterior; without it the posterior can move
    beyond the region the full posterior's grid covers (the reweighted mass
    on the grid's edge shows it). Those groups get an exact refit with the
    same prior; groups with the same data share it.
    """
    labels = fit.group_labels
    cols = {k: v for k, v in fit._data_columns().items() if k != "raw"}
    done: dict[tuple[float, float], float] = {}
    design, observed = cols[fit.design_name], cols[fit.observed_name]
    patterns = {(float(design[j]), float(observed[j])) for j in poor}
    if len(patterns) > _MAX_REFITS // 10:
        warnings.warn(
            f"{poor.size} groups' leave-one-out posteriors reach the edge of the quadrature "
            f"grid (mass up to {edge.max():.1g}); their log predictive densities carry that "
            "relative error. Refit with a smaller tol for more accuracy.",
            AccuracyWarning, stacklevel=4)
        return
    model = fit._refit_model()
    for j in poor:
        key = (float(design[j]), float(observed[j]))
        if key not in done:
            keep = np.ones(labels.size, dtype=bool)
            keep[j] = False
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", HierBayesWarning)
                    rest = model.fit(None, group=np.asarray(labels)[keep],
                                     **{k: v[keep] for k, v in cols.items()})
                done[key] = rest.log_predictive_new(**{fit.design_name: key[0],
                                                       fit.observed_name: key[1]})
            except HierBayesError as exc:
                warnings.warn(
                    f"The leave-one-out posterior without group {labels[j]!r} reaches the "
                    f"grid's edge (mass {edge[j]:.1g}) and a refit failed ({exc}); its log "
                    "predictive density carries that relative error.",
                    AccuracyWarning, stacklevel=4)
                done[key] = out[j]
        out[j] = done[key]


_MAX_REFITS = 2000


def _grid_shape(fit: Fit) -> tuple[int, ...] | None:
    """Shape of the quadrature grid the points come from (None for a single point)."""
    return fit.quadrature_shape()


def _edge_mass(w: np.ndarray) -> np.ndarray:
    """Largest mass on one edge of a 1-D or 2-D grid of weights (last axis: problems)."""
    if w.ndim == 2:
        return np.maximum(w[0], w[-1])
    return np.max(np.stack([w[0].sum(0), w[-1].sum(0), w[:, 0].sum(0), w[:, -1].sum(0)]),
                  axis=0)


def _logo_refits(fit: Fit) -> pd.Series:
    """Empirical Bayes: refit without each group and plug in its estimate.

    An EB point estimate has seen every group, so the point itself cannot be
    reweighted; the honest leave-one-group-out density is
    p(y_j | eta_hat(y_-j)), one refit per group.
    """
    labels = fit.group_labels
    if labels.size > _MAX_REFITS:
        raise HierBayesError(
            f"Leave-one-group-out for empirical Bayes refits once per group; "
            f"{labels.size} groups is more than {_MAX_REFITS}. Use method='exact', whose "
            "leave-one-group-out densities are exact without refits."
        )
    cols = {k: v for k, v in fit._data_columns().items() if k != "raw"}
    design, observed = cols[fit.design_name], cols[fit.observed_name]
    out = np.empty(labels.size)
    keep = np.ones(labels.size, dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HierBayesWarning)
        for j in range(labels.size):
            keep[j] = False
            rest = fit.model.fit(None, group=np.asarray(labels)[keep],
                                 **{k: v[keep] for k, v in cols.items()})
            keep[j] = True
            out[j] = rest.log_predictive_new(**{fit.design_name: float(design[j]),
                                                fit.observed_name: float(observed[j])})
    return pd.Series(out, index=labels, name="logo")


def log_evidence(fit: Fit) -> float:
    """log p(y), the log marginal likelihood, for a proper prior; refused otherwise.

    Partial pooling: the quadrature's log normaliser plus the constants the
    likelihood dropped, for priors given as scipy distributions (whose
    densities are normalised). Complete and no pooling: closed forms under
    the pooled prior.
    """
    model = fit.model
    if model.pooling in ("none", "complete"):
        p0 = fit._pooled_prior()
        if p0 is None:
            raise PriorError(
                f"No evidence under {_POOLING_NAMES[model.pooling].lower()} with an improper "
                "prior on theta (its marginal likelihood is not a probability): set a proper "
                "pooled_prior."
            )
        y, d, inverse = fit._patterns()
        prior = (np.float64(p0[0]), np.float64(p0[1]))
        if model.pooling == "none":
            count = np.bincount(inverse, minlength=y.size).astype(float)
            return float(count @ fit._conj.log_marginal(prior, y, d))
        return _chain_evidence(fit._conj, prior, y[inverse], d[inverse])
    _check_exact_partial(fit, "The evidence")
    reason = fit._evidence_reason()
    if reason is not None:
        raise PriorError(f"The evidence p(y) is not defined: {reason}")
    return fit._log_norm()


def _chain_evidence(conj, prior, y: np.ndarray, d: np.ndarray) -> float:
    """log p(y) for one common theta: Σ_j log p(y_j | y_<j), vectorised.

    The Beta and Gamma updates are additive, so the posterior before group j is
    the prior updated by the sums over the groups before it.
    """
    y_before, d_before = np.cumsum(y) - y, np.cumsum(d) - d
    before = conj.update(prior, y_before, d_before)
    return float(np.sum(conj.log_marginal(before, y, d)))


def check_new_group(fit: Fit, design: Any, observed: Any) -> tuple[float | None, float | None]:
    """Validate a new group's design and data (one number each)."""
    out = []
    for name, value in ((fit.design_name, design), (fit.observed_name, observed)):
        if value is None:
            out.append(None)
            continue
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise DataError(
                f"`{name}` of the new group must be a number; got {value!r}.") from None
        if not math.isfinite(x):
            raise DataError(f"`{name}` of the new group must be finite; got {value!r}.")
        out.append(x)
    d, y = out
    info = fit.family_info
    lo, hi = info.design_range
    if d is not None and (d > hi or (d < lo and not (fit._conj.discrete and d == 0))):
        zero = " (or 0)" if fit._conj.discrete and lo > 0 else ""
        hint = ("Counts past 2^53 are not exact; the row theta (call without "
                f"{fit.design_name}=) is the rate such a group would show."
                if info.bounded else "Rescale the data (change units).")
        raise DataError(
            f"`{fit.design_name}` of the new group is {_num(d)}, outside the range the fit "
            f"computes in ({_num(lo)}{zero} to {_num(hi)}, as for the data). {hint}"
        )
    if y is not None and abs(y) > info.observed_max:
        raise DataError(
            f"`{fit.observed_name}` of the new group is {_num(y)}, beyond the largest value "
            f"the fit computes with exactly ({_num(info.observed_max)}, as for the data)."
        )
    if y is not None and d is None:
        raise DataError(f"Give the new group's {fit.design_name}= with its {fit.observed_name}=.")
    if fit._conj.discrete:
        for name, x in ((fit.design_name, d), (fit.observed_name, y)):
            if x is not None and x < 0:
                raise DataError(f"`{name}` of the new group must be ≥ 0; got {x:g}.")
        if y is not None and y != int(y):
            raise DataError(f"`{fit.observed_name}` of the new group must be a whole number; "
                            f"got {y:g}.")
        if fit.family_info.bounded and d is not None:  # trials: whole, and bound the count
            if d != int(d):
                raise DataError(f"`{fit.design_name}` of the new group must be a whole number; "
                                f"got {d:g}.")
            if y is not None and y > d:
                raise DataError(f"`{fit.observed_name}` ({y:g}) of the new group exceeds its "
                                f"{fit.design_name} ({d:g}).")
    elif d is not None and d <= 0:
        raise DataError(f"`{fit.design_name}` of the new group must be > 0; got {d:g}.")
    return d, y


def _num(x: float) -> str:
    """A number as written, whole numbers to the last digit (2^53 + 2 is not 9.0072e+15)."""
    return f"{x:.0f}" if math.isfinite(x) and x == int(x) and abs(x) < 1e17 else f"{x:g}"


def _mixture_new(fit: Fit, design: float, observed: float | None, covariates: Any = None):
    """Components and weights of theta for a new group, updated by its data if given."""
    reason = fit._new_group_reason(covariates)
    if reason is not None:
        raise PriorError(f"No prediction for a new group: {reason}")
    conj = fit._conj
    p = fit._new_prior(covariates)
    w = np.asarray(fit.points.weight, float)
    if observed is None:
        return p, w, math.nan
    ll = conj.log_marginal(p, observed, design)
    with np.errstate(divide="ignore"):
        lw = np.log(w) + ll
    log_pred = float(logsumexp(lw))
    w_new = np.exp(lw - log_pred)
    shape = _grid_shape(fit)
    if shape is not None:
        edge = float(_edge_mass(w_new.reshape(*shape, 1))[0])
        if edge > 0.1 * fit.model.tol:
            warnings.warn(
                f"The new group's data move the posterior to the edge of the quadrature grid "
                f"(mass {edge:.1g} there): results carry about that relative error. For "
                "full accuracy fit the data with the new group included.",
                AccuracyWarning, stacklevel=4)
    return conj.update(p, observed, design), w_new, log_pred


def _mixture_quantile(cdf: Callable[[float, bool], float], q: float, lo: float, hi: float,
                      discrete: bool, support: tuple[float, float] = (-math.inf, math.inf),
                      ) -> float:
    """Quantile of a mixture from its CDF, starting from the bracket [lo, hi].

    ``cdf(x, upper)`` is P(X ≤ x), or P(X > x) when ``upper`` (computed
    directly, so the upper tail keeps its digits). The bracket is widened
    (within ``support``) until it holds the quantile.
    """
    upper = q > 0.5

    def f(x: float) -> float:
        return (1.0 - q) - cdf(x, True) if upper else cdf(x, False) - q

    width = max(hi - lo, 1e-300)
    for _ in range(200):
        if f(lo) <= 0.0 or lo <= support[0]:
            break
        lo, width = max(lo - width, support[0]), 2.0 * width
    for _ in range(200):
        if f(hi) >= 0.0 or hi >= support[1]:
            break
        hi, width = min(hi + width, support[1]), 2.0 * width
    if discrete:  # smallest integer k with P(Y ≤ k) ≥ q
        lo_i, hi_i = math.floor(lo), math.ceil(hi)
        while lo_i < hi_i:
            mid = (lo_i + hi_i) // 2
            if f(float(mid)) >= 0.0:  # a Python int past 2^63 would reach scipy as an object
                hi_i = mid
            else:
                lo_i = mid + 1
        return float(lo_i)
    if hi <= lo:
        return lo
    return float(optimize.brentq(f, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps,
                                 maxiter=500))


def _bracket(mean: float, sd: float, support: tuple[float, float]) -> tuple[float, float]:
    return max(support[0], mean - 10.0 * sd), min(support[1], mean + 10.0 * sd)


_PMF_CELLS = 20_000_000  # components × support points summed directly
_DROP = 1e-12  # mass of the lightest components left out of count quantiles


def _count_quantiles(fit: Fit, p, w: np.ndarray, design: float, mean: float, sd: float,
                     tails: tuple[float, float]) -> list[float]:
    """Quantiles of a mixture of count distributions: smallest k with P(Y ≤ k) ≥ q.

    The mixture pmf is summed exactly over 0..k_max, with k_max grown until
    every quantile asked for lies inside (all of 0..trials at most); the
    mass beyond k_max is 1 − the sum, and the upper tail is summed from the
    top so that it keeps its digits. Wider supports use bisection on the
    components' exact CDFs. The lightest components, 1e-12 of the mass in
    all, are left out.
    """
    conj = fit._conj
    order = np.argsort(w)
    keep = np.sort(order[np.cumsum(w[order]) > _DROP])  # CDFs change by < _DROP
    pk = (p[0][keep][:, None], p[1][keep][:, None])
    wk = w[keep] / w[keep].sum()
    cap = design if fit.family_info.bounded else math.inf
    k_max = min(cap, math.ceil(mean + 20.0 * sd + 10.0))
    while True:
        if wk.size * (k_max + 1) > _PMF_CELLS:
            pk1 = (pk[0][:, 0], pk[1][:, 0])

            def y_cdf(x: float, upper: bool, pk1=pk1) -> float:
                c = float(wk @ conj.y_cdf(pk1, x, design))
                return 1.0 - c if upper else c

            lo, hi = _bracket(mean, sd, (0.0, cap))
            return [_mixture_quantile(y_cdf, q, lo, hi, True, (0.0, cap)) for q in tails]
        pmf = wk @ np.exp(conj.y_logpmf_range((pk[0][:, 0], pk[1][:, 0]), int(k_max), design))
        beyond = 1.0 - float(pmf.sum())
        if k_max >= cap or beyond < 0.5 * (1.0 - max(tails)):  # the quantiles are inside
            break
        k_max = min(cap, 2 * k_max + 10)
    cdf = np.cumsum(pmf)
    sf_from = np.cumsum(pmf[::-1])[::-1] + max(beyond, 0.0)  # P(Y ≥ k)
    out = []
    for q in tails:
        if q <= 0.5:
            out.append(float(np.searchsorted(cdf, q * (1 - 1e-15))))
        else:  # P(Y ≤ k) ≥ q  ⇔  P(Y ≥ k + 1) ≤ 1 − q
            ok = np.nonzero(sf_from[1:] <= (1.0 - q) * (1 + 1e-15))[0]
            out.append(float(ok[0]) if ok.size else float(k_max))
    return out


def predict_new(fit: Fit, design: float | None, observed: float | None,
                prob: float = 0.95, covariates: Any = None) -> pd.DataFrame:
    """Posterior predictive of theta and y for a new group (see :meth:`Fit.predict_new`).

    Without the new group's data, theta_new follows the population
    distribution averaged over the hyperposterior, whose mean or variance
    need not exist (Gamma–Poisson under the default prior: E[theta_new²] =
    ∞); such a moment is reported as inf (NaN where it is not established),
    never as a number that depends on where the grid was cut. Quantiles
    always exist.
    """
    prob = check_prob("prob", prob)
    conj = fit._conj
    p, w, _ = _mixture_new(fit, np.nan if design is None else design, observed, covariates)
    tails = ((1.0 - prob) / 2.0, (1.0 + prob) / 2.0)

    def row(mean_var, cdf, support) -> list[float]:
        mean, sd = _mixture_mean_sd(w, *mean_var)
        lo, hi = _bracket(mean, sd, support)
        return [mean, sd, *(_mixture_quantile(cdf, q, lo, hi, False, support) for q in tails)]

    rows = {"theta": row(
        conj.theta_moments(p),
        lambda x, upper: float(w @ conj.theta_tail(p, x, upper)),
        conj.support,
    )}
    if observed is None and covariates is None:  # a family may invert theta more exactly
        exact = fit._new_theta_quantiles(np.asarray(tails))
        if exact is not None:
            rows["theta"][2:] = [float(q) for q in exact]
    if design == 0.0 and conj.discrete:  # no trials (exposure): the new group shows 0
        rows["y"] = [0.0, 0.0, 0.0, 0.0]
    elif design is not None:
        if conj.discrete:
            mean, sd = _mixture_mean_sd(w, *conj.y_moments(p, design))
            rows["y"] = [mean, sd, *_count_quantiles(fit, p, w, design, mean, sd, tails)]
        else:
            def y_cdf(x: float, upper: bool) -> float:
                c = float(w @ conj.y_cdf(p, x, design))
                return 1.0 - c if upper else c

            rows["y"] = row(conj.y_moments(p, design), y_cdf, conj.support)
    if observed is None:  # moments of the population distribution may not exist
        mean_ok, var_ok = fit._new_moments_exist()
        for name, r in rows.items():
            if not (name == "y" and design == 0.0):
                r[0], r[1] = _honest(r[0], r[1], mean_ok, var_ok)
    return pd.DataFrame.from_dict(rows, orient="index", columns=["mean", "sd", "lower", "upper"])


def _mixture_mean_sd(w: np.ndarray, m: np.ndarray, v: np.ndarray) -> tuple[float, float]:
    """Mean and sd of a mixture with component means m and variances v (total variance)."""
    mean = float(w @ m)
    return mean, math.sqrt(float(w @ (v + (m - mean) ** 2)))


def _honest(mean: float, sd: float, mean_ok: bool | None, var_ok: bool | None
            ) -> tuple[float, float]:
    """A mean / sd that does not exist as inf, one not established as NaN (as fit.hyper)."""
    if mean_ok is None:
        return math.nan, math.nan
    if not mean_ok:
        return math.inf, math.nan
    if var_ok is None:
        return mean, math.nan
    return mean, (sd if var_ok else math.inf)


def log_predictive_new(fit: Fit, design: float, observed: float) -> float:
    """log p(y_new | y) for a new group's data (see :meth:`Fit.log_predictive_new`)."""
    return _mixture_new(fit, design, observed)[2]


def log_predictive_groups(fit: Fit, design: Any, observed: Any) -> pd.Series:
    """log p(ỹ_j | y) of further data from each existing group.

    p(ỹ_j | y) = Σ_k w_k p(ỹ_j | theta_j ~ its posterior at point k): the
    exact posterior predictive of new observations (e.g. the rest of a
    season) from the same groups.
    """
    y, d, inverse = fit._patterns()
    labels = fit.group_labels
    new_d = _aligned(design, labels, fit.design_name)
    new_y = _aligned(observed, labels, fit.observed_name)
    conj = fit._conj
    lw = np.log(fit.points.weight)[:, None]
    out = np.empty(labels.size)
    yj, dj = y[inverse], d[inverse]
    for sl in blocks(lw.size, labels.size):
        post = group_posteriors(fit, yj[sl], dj[sl])
        ll = conj.log_marginal(post, new_y[sl][None, :], new_d[sl][None, :])
        out[sl] = logsumexp(lw + ll, axis=0)
    return pd.Series(out, index=labels, name="log_predictive")


def _aligned(values: Any, labels: pd.Index, name: str) -> np.ndarray:
    if isinstance(values, pd.Series):
        missing = labels.difference(values.index)
        if len(missing):
            raise DataError(f"`{name}` has no value for group(s) {list(missing[:5])}.")
        values = values.reindex(labels)
    arr = np.asarray(values, dtype=float)
    if arr.shape != (labels.size,):
        raise DataError(
            f"`{name}` must have one value per group ({labels.size}); got shape {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        bad = labels[~np.isfinite(arr)]
        raise DataError(f"`{name}` is not finite for group(s) {list(bad[:5])}.")
    return arr


# ---- posterior predictive checks ------------------------------------------------------
