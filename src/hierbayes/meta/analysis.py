r"""The meta-analysis front door: ``hb.meta_analysis(data, estimate=..., ...)``.

A Bayesian random-effects meta-analysis is the Normal–Normal model

    y_j ~ Normal(theta_j, v_j) (v_j known),   theta_j ~ Normal(mu, tau²),   (mu, tau) ~ prior

fitted exactly by :class:`hierbayes.NormalNormal` (mu integrated out in closed
form, tau by adaptive quadrature). :class:`MetaAnalysis` wraps that fit with
what a meta-analyst reads, in the manner of R's bayesmeta (Röver 2020, J Stat
Softw 93(6)): a summary of mu, tau, I², H² and a new study's effect
theta_new with central and shortest intervals, the studies' shrinkage
estimates and posterior weights, tail probabilities, Bayes factors for
tau = 0 and mu = 0, the log evidence, and the classical companions (Q, I²,
DL and REML tau², the equal-effects estimate) of
:func:`hierbayes.meta.classical_meta`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats
from scipy.special import logsumexp, ndtr

from hierbayes.errors import DataError, ImproperPosteriorError, PriorError
from hierbayes.families.normalnormal.math import collapsed_loglik, normal_mixture_quantiles
from hierbayes.meta._validate import as_frame, check_positive, real_column
from hierbayes.meta.classical import ClassicalMeta, classical_meta, typical_variance
from hierbayes.meta.posterior import (
    Tabulated,
    mixture_pdf,
    mixture_sf,
    posterior_weights,
    shortest_interval,
)
from hierbayes.meta.tau_priors import (
    parse_tau_prior,
    rhodes2015,
    turner2015,
    uniform_i2_prior,
    uniform_shrinkage_prior,
)
from hierbayes.models import NormalNormal, NormalNormalFit
from hierbayes.validate import ArgumentError, check_prob

__all__ = ["MetaAnalysis", "meta_analysis", "parse_mu_prior"]

SUMMARY_ROWS = ("mu", "tau", "I2", "H2", "theta_new")
SUMMARY_COLUMNS = ("mean", "sd", "median", "lower", "upper", "hpd_lower", "hpd_upper")
_TABLE = 1025  # points of each marginal's table
_SPAN = 12.0  # a Normal component's table reaches this many sds from its mean
_TAIL = 1e-13  # mass a mixture's table may leave out at each end
_DROP = 1e-13  # the lightest grid nodes, together this much mass, are left out of tables


def parse_mu_prior(spec: str) -> Any:
    """A Normal prior for mu from the text form ``'norm:mean,sd'``.

    >>> p = parse_mu_prior("norm:0,4")
    >>> float(p.mean()), float(p.std())
    (0.0, 4.0)
    """
    name, sep, rest = spec.partition(":")
    parts = [p.strip() for p in rest.split(",")]
    if name.strip().lower() != "norm" or not sep or len(parts) != 2:
        raise PriorError(f"A mu prior must be 'norm:mean,sd' (e.g. 'norm:0,4'); got {spec!r}.")
    try:
        mean, sd = float(parts[0]), float(parts[1])
    except ValueError:
        raise PriorError(
            f"A mu prior must be 'norm:mean,sd' with numbers; got {spec!r}.") from None
    if not (math.isfinite(mean) and math.isfinite(sd) and sd > 0):
        raise PriorError(f"A mu prior needs a finite mean and a positive finite sd; got {spec!r}.")
    return stats.norm(mean, sd)


_NAMED_TAU = ("uniform-shrinkage", "uniform-i2", "turner", "rhodes")


def _named_tau_prior(spec: str, std_errors: np.ndarray) -> Any:
    """The tau priors named by their source, or None if ``spec`` is not one of them.

    ``'uniform-shrinkage'`` and ``'uniform-i2'`` (built from these studies'
    standard errors), ``'turner[:outcome[,comparison]]'`` (log odds ratios,
    Turner et al. 2015) and ``'rhodes[:outcome[,comparison[,area]]]'``
    (standardised mean differences, Rhodes et al. 2015).
    """
    name, _, rest = spec.partition(":")
    name = name.strip().lower().replace("_", "-")
    args = [a.strip() for a in rest.split(",")] if rest.strip() else []
    if name not in _NAMED_TAU:
        return None
    if name in ("uniform-shrinkage", "uniform-i2"):
        if args:
            raise PriorError(f"The {name} prior takes no parameters (it is built from the "
                             f"studies' standard errors); got {spec!r}.")
        make = uniform_shrinkage_prior if name == "uniform-shrinkage" else uniform_i2_prior
        return make(std_errors)
    limit = 2 if name == "turner" else 3
    if len(args) > limit:
        raise PriorError(f"The {name} prior takes at most {limit} settings "
                         f"(outcome, comparison{', area' if limit == 3 else ''}); got {spec!r}.")
    return (turner2015 if name == "turner" else rhodes2015)(*args)


def _resolve_prior(prior: Any, std_errors: np.ndarray | None = None) -> dict[str, Any] | None:
    """``{'mu': ..., 'tau': ...}`` with text forms parsed; None for p(mu, tau) ∝ 1."""
    if prior is None:
        return None
    if not isinstance(prior, Mapping):
        raise TypeError("`prior` must be None or a dict with keys 'mu' and/or 'tau'; "
                        f"got {type(prior).__name__}.")
    unknown = sorted(set(map(str, prior)) - {"mu", "tau"})
    if unknown:
        raise ArgumentError(f"`prior` keys must be among 'mu', 'tau'; got {unknown}.")
    out = {}
    for key, value in prior.items():
        if value is None:
            continue  # flat on mu / uniform on tau
        if isinstance(value, str) and key == "tau":
            named = None if std_errors is None else _named_tau_prior(value, std_errors)
            value = parse_tau_prior(value) if named is None else named
        elif isinstance(value, str):
            value = parse_mu_prior(value)
        if getattr(value, "proper", True) is False:  # e.g. meta.JeffreysTauPrior
            raise PriorError(
                f"The front door takes proper priors on tau (or None, uniform); got the "
                f"improper {type(value).__name__}, which it does not integrate yet. Use a "
                "proper prior such as 'halfnorm:0.5' or meta.uniform_shrinkage_prior(se)."
            )
        out[key] = value
    mu = out.get("mu")
    if mu is not None and getattr(getattr(mu, "dist", None), "name", None) != "norm":
        raise PriorError(
            "The meta-analysis front door integrates mu out in closed form, which needs a "
            "flat or Normal prior on mu: give prior={'mu': scipy.stats.norm(m, s)} or "
            "'norm:m,s', or use hb.NormalNormal for other priors on mu."
        )
    return out or None


def meta_analysis(
    data: Any,
    *,
    estimate: Any = "yi",
    sampling_variance: Any = None,
    std_error: Any = None,
    study: Any = None,
    prior: Any = None,
    prob: float = 0.95,
) -> MetaAnalysis:
    r"""Bayesian random-effects meta-analysis, exact: mu, tau, I², theta_new and more.

    Parameters
    ----------
    data : pandas.DataFrame or mapping of columns
        One row per study, e.g. the output of :func:`hierbayes.meta.effect_sizes`.
    estimate : column label, default 'yi'
        The studies' effect estimates :math:`y_j`.
    sampling_variance, std_error : column label
        Their known sampling variances :math:`v_j > 0` (``'vi'``) or standard
        errors :math:`\sqrt{v_j}` (``'sei'``); give one. Without either, a
        column ``'vi'`` is used if there is one.
    study : column label, optional
        Study labels (unique); default: the data's index.
    prior : dict, optional
        ``{'mu': ..., 'tau': ...}``: scipy frozen distributions or text forms,
        ``'norm:0,4'`` for mu and ``'halfnorm:0.5'`` (any form of
        :func:`hierbayes.meta.parse_tau_prior`) for tau, or a prior named by
        its source: ``'uniform-shrinkage'`` and ``'uniform-i2'`` (built from
        these studies' standard errors), ``'turner:outcome,comparison'`` and
        ``'rhodes:outcome,comparison,area'`` (settings as in
        :func:`hierbayes.meta.turner2015` / :func:`~hierbayes.meta.rhodes2015`;
        ``'turner'`` alone is the general setting); a missing key or
        None is flat on mu / uniform on tau. The default p(mu, tau) ∝ 1
        needs at least 3 studies (a Normal prior on mu: 2).
    prob : float, default 0.95
        Mass of every interval.

    Returns
    -------
    MetaAnalysis

    Raises
    ------
    DataError
        A missing column, a non-finite value, a variance or standard error
        that is not positive (naming the rows), fewer than two studies, or
        repeated study labels.
    ImproperPosteriorError
        A uniform prior on tau with too few studies for a proper posterior.

    Examples
    --------
    >>> import pandas as pd, hierbayes as hb
    >>> df = pd.DataFrame({"yi": [-2.31, -0.46, -2.30, -1.76, -1.26, -2.42],
    ...                    "vi": [0.359, 0.310, 0.775, 0.208, 0.412, 2.337]})
    >>> ma = hb.meta_analysis(df, prior={"mu": "norm:0,4", "tau": "halfnorm:0.5"})
    >>> ma.summary.loc["mu", ["mean", "lower", "upper"]].round(2).tolist()
    [-1.58, -2.24, -0.93]
    >>> round(float(ma.prob_mu_greater(0.0)), 4)  # P(mu > 0 | y)
    0.0001
    """
    frame = as_frame(data)
    prob = check_prob("prob", prob)
    if sampling_variance is not None and std_error is not None:
        raise ArgumentError("Give `sampling_variance` or `std_error`, not both.")
    if sampling_variance is None and std_error is None:
        if "vi" not in frame.columns:
            raise ArgumentError("Give the studies' sampling variances (`sampling_variance`, "
                                "e.g. 'vi') or standard errors (`std_error`, e.g. 'sei').")
        sampling_variance = "vi"
    y = real_column(frame, estimate, "estimate")
    if sampling_variance is not None:
        v = real_column(frame, sampling_variance, "sampling_variance")
        check_positive(sampling_variance, "sampling_variance", frame, v)
    else:
        se = real_column(frame, std_error, "std_error")
        check_positive(std_error, "std_error", frame, se)
        v = se**2
    if y.size < 2:
        raise DataError(f"A meta-analysis needs at least 2 studies; got {y.size}.")
    labels = (frame.index if study is None else frame[study]).astype(str)
    if labels.duplicated().any():
        dup = list(dict.fromkeys(labels[labels.duplicated()]))[:5]
        raise DataError(f"Study labels must be unique; repeated: {dup}.")
    resolved = _resolve_prior(prior, np.sqrt(v))
    if (resolved is None or "tau" not in resolved) and y.size < (
            3 if resolved is None else 2):
        raise ImproperPosteriorError(
            f"With a uniform prior on tau and {'a flat' if resolved is None else 'this'} prior "
            f"on mu the posterior is improper for {y.size} studies (it needs "
            f"{3 if resolved is None else 2}). Give a proper prior on tau, e.g. "
            "prior={'tau': 'halfnorm:0.5'} on the scale of the estimates."
        )
    tail = 0.5 * (1.0 - prob)
    model = NormalNormal(prior=resolved, probs=(tail, 0.5, 1.0 - tail))
    fit = model.fit({"group": list(labels), "estimate": y, "std_error": np.sqrt(v)})
    return MetaAnalysis(fit=fit, prob=prob, estimates=y, variances=v,
                        labels=pd.Index(list(labels), name="study"))


@dataclass(frozen=True, eq=False, repr=False)
class MetaAnalysis:
    r"""A Bayesian random-effects meta-analysis (from :func:`meta_analysis`); immutable.

    Attributes
    ----------
    fit : NormalNormalFit
        The exact Normal–Normal fit (its ``groups``, ``hyper``, ``draws``, ...).
    prob : float
        Mass of the intervals.
    estimates, variances : numpy.ndarray
        The studies' :math:`y_j` and :math:`v_j`, in the order of ``labels``.
    labels : pandas.Index
        The study labels.
    """

    fit: NormalNormalFit
    prob: float
    estimates: np.ndarray
    variances: np.ndarray
    labels: pd.Index

    # ---- the hyperposterior as a weighted tau grid --------------------------------
    @cached_property
    def _nodes(self) -> dict[str, np.ndarray]:
        grid = self.fit.tau_grid
        if grid is None:  # pragma: no cover - the front door admits collapsible priors only
            raise PriorError("The meta-analysis summaries need mu integrated out.")
        p = self.fit.points.params
        return {"w": grid.weight, "z": grid.x, "tau": p["tau"], "m": p["mu_mean"],
                "V": p["mu_var"]}

    @cached_property
    def typical_variance(self) -> float:
        """Higgins & Thompson's (2002, eq. 9) typical within-study variance s²."""
        return typical_variance(self.variances)

    @property
    def _prior(self) -> Any:
        return self.fit.model._prior

    def _mixture_table(self, sds: np.ndarray) -> Tabulated:
        n = self._nodes
        keep = _heavy(n["w"])
        m, s, w = n["m"][keep], sds[keep], n["w"][keep]
        # the table's ends: the innermost component ends beyond which the mass is < _TAIL
        ends_hi, ends_lo = m + _SPAN * s, m - _SPAN * s
        above = ndtr((m[None, :] - ends_hi[:, None]) / s[None, :]) @ w
        below = ndtr((ends_lo[:, None] - m[None, :]) / s[None, :]) @ w
        hi = float(np.min(ends_hi[above < _TAIL], initial=np.max(ends_hi)))
        lo = float(np.max(ends_lo[below < _TAIL], initial=np.min(ends_lo)))
        x = _table(lo, hi, float(w @ m), float(s[np.argmax(w)]))
        with np.errstate(divide="ignore"):
            logf = np.log(mixture_pdf(x, m, s, w))
        return Tabulated(x, logf)

    def _tau_logpdf_z(self, z: np.ndarray) -> np.ndarray:
        """log p(y | tau) p(tau) |dtau/dz| at the quadrature coordinate z (unnormalised)."""
        prior = self._prior
        tau = prior.tau_map.value(z)
        ll, _, _ = collapsed_loglik(tau**2, self.estimates, self.variances,
                                    np.ones_like(self.variances), prior.mu_normal)
        return ll + prior.log_prior_tau(z)

    @cached_property
    def _tables(self) -> dict[str, Tabulated]:
        n = self._nodes
        big = _heavy(n["w"])
        keep, w = n["z"][big], n["w"][big] / n["w"][big].sum()
        centre = float(w @ keep)
        z = _table(float(keep.min()), float(keep.max()), centre,
                   math.sqrt(float(w @ (keep - centre) ** 2)))
        return {
            "mu": self._mixture_table(np.sqrt(n["V"])),
            "theta_new": self._mixture_table(np.sqrt(n["V"] + n["tau"] ** 2)),
            "z": Tabulated(z, self._tau_logpdf_z(z)),
        }

    def _tau_ppf(self, transform):
        tmap, table = self._prior.tau_map, self._tables["z"]

        def ppf(p: np.ndarray) -> np.ndarray:
            tau = np.where(p <= 0.0, tmap.a, tmap.value(table.ppf(p)))
            return transform(tau)

        return ppf

    def _transforms(self) -> dict[str, Any]:
        s2 = self.typical_variance
        return {"tau": lambda t: np.asarray(t, dtype=float),
                "I2": lambda t: t**2 / (t**2 + s2),
                "H2": lambda t: 1.0 + t**2 / s2}

    def _moments_exist(self) -> dict[str, tuple[bool | None, bool | None]]:
        prior, k = self._prior, len(self.labels)
        tau1, tau2 = prior.tau_moment(1, k), prior.tau_moment(2, k)
        return {
            "mu": (prior.mu_moment(1, k), prior.mu_moment(2, k)),
            "tau": (tau1, tau2),
            "I2": (True, True),
            "H2": (tau2, _tau_moment4(prior, k) if tau2 else tau2),
            "theta_new": self.fit._new_moments_exist(),
        }

    # ---- the tables ----------------------------------------------------------------
    @cached_property
    def summary(self) -> pd.DataFrame:
        """Rows mu, tau, I2, H2, theta_new; columns mean, sd, median, lower, upper
        (central interval of mass ``prob``), hpd_lower, hpd_upper (shortest interval).

        ``I2`` is :math:`\\tau^2/(\\tau^2 + s^2)` and ``H2`` is
        :math:`(\\tau^2 + s^2)/s^2` with the typical within-study variance
        :math:`s^2` (Higgins & Thompson 2002); ``theta_new`` is a new study's
        effect, :math:`N(\\mu, \\tau^2)` averaged over the posterior (its
        central interval is the Bayesian prediction interval). A mean that does
        not exist is inf (sd NaN), a variance that does not exist gives sd inf.
        """
        n, tail = self._nodes, 0.5 * (1.0 - self.prob)
        w, tau, m, V = n["w"], n["tau"], n["m"], n["V"]
        exist = self._moments_exist()
        # central quantiles: the library's exact mixture / sinc-CDF solvers (as fit.hyper)
        hyper = self.fit.hyper
        cols = [c for c in hyper.columns if c.startswith("q")]  # tail, median, 1 - tail
        central = {name: hyper.loc[name, [cols[1], cols[0], cols[2]]].to_numpy(float)
                   for name in ("mu", "tau")}
        keep = _heavy(w)
        central["theta_new"] = normal_mixture_quantiles(
            m[keep, None], np.sqrt(V + tau**2)[keep, None], w[keep] / w[keep].sum(),
            np.array([0.5, tail, 1.0 - tail]))[0]
        rows = {}
        mean_mu = float(w @ m)
        for name, extra in (("mu", V), ("theta_new", V + tau**2)):
            table = self._tables[name]
            sd = math.sqrt(float(w @ (extra + (m - mean_mu) ** 2)))
            rows[name] = (_honest(mean_mu, sd, *exist[name]) + list(central[name])
                          + list(shortest_interval(table.ppf, self.prob, bounded_below=False)))
        for name, transform in self._transforms().items():
            values = transform(tau)
            mean = float(w @ values)
            sd = math.sqrt(float(w @ (values - mean) ** 2))
            ppf = self._tau_ppf(transform)
            rows[name] = (_honest(mean, sd, *exist[name]) + list(transform(central["tau"]))
                          + list(shortest_interval(ppf, self.prob, bounded_below=True)))
        out = pd.DataFrame([rows[r] for r in SUMMARY_ROWS],
                           index=pd.Index(SUMMARY_ROWS, name="parameter"),
                           columns=list(SUMMARY_COLUMNS))
        return out

    @cached_property
    def _weights(self) -> tuple[np.ndarray, float]:
        n, mu0 = self._nodes, self._prior.mu_normal
        return posterior_weights(n["w"], n["tau"] ** 2, n["V"], self.variances,
                                 None if mu0 is None else mu0[1])

    @cached_property
    def studies(self) -> pd.DataFrame:
        """One row per study: estimate, std_error, its shrinkage estimate (posterior
        mean, sd and central interval of theta_j), the mean shrinkage factor
        E[v_j/(v_j + tau²)] and the posterior weight (bayesmeta's posterior mean
        inverse-variance weight of the study in E[mu | y]; see
        :func:`hierbayes.meta.posterior.posterior_weights` and ``prior_weight``).
        """
        g = self.fit.groups.loc[self.labels]
        q = [c for c in g.columns if c.startswith("q")]
        out = pd.DataFrame({
            "estimate": self.estimates,
            "std_error": np.sqrt(self.variances),
            "mean": g["mean"].to_numpy(),
            "sd": g["sd"].to_numpy(),
            "lower": g[q[0]].to_numpy(),
            "upper": g[q[-1]].to_numpy(),
            "shrinkage": g["shrinkage"].to_numpy(),
            "weight": self._weights[0],
        }, index=self.labels)
        return out

    @property
    def prior_weight(self) -> float:
        """The posterior mean weight of the prior mean of mu (0 under a flat prior)."""
        return self._weights[1]

    def prob_mu_greater(self, c: ArrayLike) -> float | np.ndarray:
        """P(mu > c | y), exactly (a mixture of Normal tails); vectorised in ``c``.

        ``1 - prob_mu_greater(c)`` is P(mu ≤ c | y).
        """
        n = self._nodes
        out = mixture_sf(np.asarray(c, dtype=float), n["m"], np.sqrt(n["V"]), n["w"])
        return float(out[0]) if np.ndim(c) == 0 else out

    def log_evidence(self) -> float:
        """log p(y), the marginal likelihood; a :class:`PriorError` if a prior is improper."""
        return self.fit.log_evidence()

    def bayes_factors(self) -> pd.DataFrame:
        r"""Bayes factors for tau = 0 and for mu = 0, exact on the quadrature grid.

        ``BF01`` is p(y | H0) / p(y | H1), H1 the full model: for tau = 0
        :math:`p(y \mid \tau = 0) / p(y)` (mu integrated out in closed form
        under both); for mu = 0 the Savage–Dickey ratio
        :math:`p(\mu = 0 \mid y) / p(\mu = 0)` (valid as tau's prior does not
        depend on mu). As in bayesmeta, both priors must be proper; otherwise
        a :class:`PriorError`. Columns ``log_bf01``, ``bf01``, ``bf10``.
        """
        prior = self._prior
        if prior.mu is None or prior.tau is None:
            raise PriorError(
                "Bayes factors need proper priors on both mu and tau (otherwise p(y) is "
                "defined only up to an arbitrary constant); give e.g. "
                "prior={'mu': 'norm:0,4', 'tau': 'halfnorm:0.5'}."
            )
        n = self._nodes
        ll0, _, _ = collapsed_loglik(np.zeros(1), self.estimates, self.variances,
                                     np.ones_like(self.variances), prior.mu_normal)
        log_tau0 = float(ll0[0]) - self.log_evidence()
        log_post0 = float(logsumexp(stats.norm.logpdf(0.0, n["m"], np.sqrt(n["V"])),
                                    b=n["w"]))
        log_mu0 = log_post0 - float(prior.mu.logpdf(0.0))
        logs = np.array([log_tau0, log_mu0])
        return pd.DataFrame({"log_bf01": logs, "bf01": np.exp(logs), "bf10": np.exp(-logs)},
                            index=pd.Index(["tau = 0", "mu = 0"], name="hypothesis"))

    @cached_property
    def classical(self) -> ClassicalMeta:
        """The classical companions: :func:`hierbayes.meta.classical_meta` of the same data."""
        return classical_meta({"yi": self.estimates, "vi": self.variances}, prob=self.prob)

    @cached_property
    def classical_table(self) -> pd.DataFrame:
        """Classical statistics, one ``value`` per row: Cochran's Q, its df and p-value,
        I² and H² (from Q), tau² by DerSimonian–Laird and REML with their pooled
        estimates, and the equal-effects (fixed-effect) estimate and its standard error."""
        c, t = self.classical, self.classical.table
        rows = {
            "Q": c.q, "Q_df": float(c.df), "Q_p_value": c.p_value, "I2": c.i2, "H2": c.h2,
            "tau2_DL": t.loc["DL", "tau2"], "tau2_REML": t.loc["REML", "tau2"],
            "mu_DL": t.loc["DL", "estimate"], "mu_REML": t.loc["REML", "estimate"],
            "mu_equal_effects": t.loc["equal-effects", "estimate"],
            "se_equal_effects": t.loc["equal-effects", "std_error"],
        }
        return pd.DataFrame({"value": [float(v) for v in rows.values()]},
                            index=pd.Index(list(rows), name="statistic"))

    # ---- densities for the plots -----------------------------------------------------
    def tau_pdf(self, tau: ArrayLike) -> np.ndarray:
        """The normalised posterior density of tau (exact: p(y | tau) p(tau) / p(y))."""
        tmap = self._prior.tau_map
        tau = np.atleast_1d(np.asarray(tau, dtype=float))
        z = tmap.inverse(tau)
        out = np.zeros(tau.shape)
        ok = np.isfinite(z)
        logf = self._tau_logpdf_z(z[ok]) - self.fit.tau_grid.log_norm - tmap.log_jac(z[ok])
        out[ok] = np.exp(logf)
        return out

    def __repr__(self) -> str:
        return (f"<MetaAnalysis: {len(self.labels)} studies, prior "
                f"{self._prior.describe()}, prob={self.prob:g}, numerical error "
                f"{self.fit.error:.1g}>")


def _heavy(w: np.ndarray) -> np.ndarray:
    """Mask of the grid nodes kept: all but the lightest ones that hold < _DROP together."""
    order = np.argsort(w)
    keep = np.ones(w.size, dtype=bool)
    keep[order[np.cumsum(w[order]) < _DROP]] = False
    return keep


def _table(lo: float, hi: float, centre: float, scale: float) -> np.ndarray:
    """Table points on [lo, hi]: fine (about scale/300 apart) near ``centre``, growing
    geometrically into the tails, x = centre + scale·sinh(u) with u evenly spaced."""
    u = np.linspace(np.arcsinh((lo - centre) / scale), np.arcsinh((hi - centre) / scale),
                    _TABLE)
    return centre + scale * np.sinh(u)


def _honest(mean: float, sd: float, mean_ok: bool | None, var_ok: bool | None) -> list[float]:
    """[mean, sd], inf / NaN where a moment does not exist or is not established."""
    if mean_ok is None:
        return [math.nan, math.nan]
    if not mean_ok:
        return [math.inf, math.nan]
    if var_ok is None:
        return [mean, math.nan]
    return [mean, sd if var_ok else math.inf]


def _tau_moment4(prior: Any, k_groups: int) -> bool | None:
    """Whether E[tau⁴] exists (for sd(H²)), by the rule of the Normal–Normal priors module."""
    if prior.is_callable:
        return None
    k = k_groups - 1 if prior.mu is None else k_groups
    if prior.tau is None:
        return 4 < k - 1
    if 4 <= k:
        return True
    with np.errstate(all="ignore"):
        return bool(np.isfinite(prior.tau.moment(4 - k)))
