r"""Prior distributions for the heterogeneity (between-study SD) tau.

Every prior here is a distribution for :math:`\tau` itself (not
:math:`\tau^2`). The proper ones are scipy frozen distributions (``logpdf``,
``pdf``, ``cdf``, ``ppf``, ``rvs``, ...):

* generic weakly informative families, also from a short text form for a
  command line (:func:`parse_tau_prior`): half-normal, half-Cauchy,
  half-Student-t, exponential, log-normal;
* priors that depend on the studies' standard errors :math:`s_j`:
  :func:`uniform_shrinkage_prior` and :func:`uniform_i2_prior`;
* published empirical priors: :func:`turner2015` (log odds ratios) and
  :func:`rhodes2015` (standardised mean differences).

The improper Jeffreys (Tibshirani / Berger–Bernardo reference) prior is a
small object with an unnormalised ``logpdf`` and ``proper = False``
(:class:`JeffreysTauPrior`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from hierbayes.errors import DataError, PriorError

from ._families import half_t, log_t
from ._prior_tables import (
    RHODES2015,
    RHODES2015_COMPARISONS,
    RHODES2015_EXCLUDED,
    RHODES2015_GENERAL,
    RHODES2015_OUTCOMES,
    TURNER2015,
    TURNER2015_COMPARISONS,
    TURNER2015_GENERAL,
    TURNER2015_OUTCOMES,
)
from .classical import typical_variance

if TYPE_CHECKING:  # scipy does not export the class of its frozen distributions
    from scipy.stats._distn_infrastructure import rv_continuous_frozen

__all__ = [
    "TAU_PRIOR_FORMS",
    "JeffreysTauPrior",
    "half_t",
    "log_t",
    "parse_tau_prior",
    "rhodes2015",
    "turner2015",
    "uniform_i2_prior",
    "uniform_shrinkage_prior",
]

TAU_PRIOR_FORMS = {
    "halfnorm": ("scale",),
    "halfcauchy": ("scale",),
    "halft": ("df", "scale"),
    "exp": ("scale",),
    "lnorm": ("meanlog", "sdlog"),
}
"""Text forms understood by :func:`parse_tau_prior`: name and its parameters, in order."""


def parse_tau_prior(spec: str) -> rv_continuous_frozen:
    r"""A prior for tau from a short text form such as ``'halfnorm:0.5'``.

    Parameters
    ----------
    spec : str
        ``name:p1[,p2]``, with spaces allowed around the parts:

        * ``halfnorm:scale`` — half-normal, ``scipy.stats.halfnorm(scale=scale)``;
        * ``halfcauchy:scale`` — half-Cauchy, ``scipy.stats.halfcauchy(scale=scale)``;
        * ``halft:df,scale`` — half-Student-t (:func:`half_t`);
        * ``exp:scale`` — exponential with this SCALE (the mean, 1/rate),
          ``scipy.stats.expon(scale=scale)``; ``exp:2`` has rate 0.5;
        * ``lnorm:meanlog,sdlog`` — log-normal: :math:`\log\tau \sim
          N(\text{meanlog}, \text{sdlog}^2)`,
          ``scipy.stats.lognorm(s=sdlog, scale=exp(meanlog))``.

        Scales, ``df`` and ``sdlog`` must be positive and finite.

    Returns
    -------
    scipy.stats frozen distribution
        The prior of tau.

    Raises
    ------
    PriorError
        An unknown name, a wrong number of parameters, or an invalid value.

    Examples
    --------
    >>> prior = parse_tau_prior("halfnorm:0.5")
    >>> prior.dist.name, float(prior.kwds["scale"])
    ('halfnorm', 0.5)
    >>> round(float(parse_tau_prior("halft:3,1").ppf(0.5)), 4)
    0.7649
    """
    if not isinstance(spec, str):
        raise TypeError(
            f"`spec` must be a string such as 'halfnorm:0.5'; got {type(spec).__name__}."
        )
    forms = ", ".join(f"'{n}:{','.join(p)}'" for n, p in TAU_PRIOR_FORMS.items())
    name, sep, rest = spec.partition(":")
    name = name.strip().lower()
    if not sep or name not in TAU_PRIOR_FORMS:
        raise PriorError(f"A tau prior must be one of {forms}; got {spec!r}.")
    params = TAU_PRIOR_FORMS[name]
    parts = [p.strip() for p in rest.split(",")]
    if len(parts) != len(params):
        raise PriorError(
            f"Tau prior {name!r} takes {len(params)} parameter(s) ({', '.join(params)}), "
            f"as in '{name}:{','.join(params)}'; got {spec!r}."
        )
    values = {}
    for param, text in zip(params, parts, strict=True):
        try:
            value = float(text)
        except ValueError:
            raise PriorError(
                f"Parameter `{param}` of tau prior {name!r} must be a number; got {text!r}."
            ) from None
        if not math.isfinite(value) or (param != "meanlog" and value <= 0.0):
            need = "finite" if param == "meanlog" else "positive and finite"
            raise PriorError(
                f"Parameter `{param}` of tau prior {name!r} must be {need}; got {text!r}."
            )
        values[param] = value
    if name == "halfnorm":
        return stats.halfnorm(scale=values["scale"])
    if name == "halfcauchy":
        return stats.halfcauchy(scale=values["scale"])
    if name == "halft":
        return half_t(values["df"], scale=values["scale"])
    if name == "exp":
        return stats.expon(scale=values["scale"])
    return stats.lognorm(s=values["sdlog"], scale=math.exp(values["meanlog"]))


def _std_errors(std_errors: Any, minimum: int) -> np.ndarray:
    s = np.asarray(std_errors, dtype=float).ravel()
    if s.size < minimum:
        raise DataError(f"This prior needs at least {minimum} standard error(s); got {s.size}.")
    bad = ~(np.isfinite(s) & (s > 0))
    if bad.any():
        idx = np.flatnonzero(bad)[:5]
        shown = ", ".join(f"{i}: {float(s[i])!r}" for i in idx)
        raise DataError(
            f"Standard errors must be positive and finite; bad values at positions "
            f"(position: value): {shown}."
        )
    return s


def uniform_shrinkage_prior(std_errors: ArrayLike) -> rv_continuous_frozen:
    r"""The uniform shrinkage prior for tau: :math:`s_0^2/(s_0^2 + \tau^2) \sim U(0, 1)`.

    Parameters
    ----------
    std_errors : array_like
        The studies' standard errors :math:`s_j > 0` (at least one).

    Returns
    -------
    scipy.stats frozen distribution
        ``scipy.stats.fisk(2, scale=s0)``, the log-logistic distribution with
        shape 2 and scale :math:`s_0`.

    Notes
    -----
    The reference variance is the harmonic mean of the squared standard
    errors, :math:`s_0^2 = k / \sum_j s_j^{-2}` (Daniels 1999; Röver et al.
    2021, Sec. 3; bayesmeta's ``tau.prior="shrinkage"``).

    Derivation. Let :math:`S = s_0^2/(s_0^2 + \tau^2)` be uniform on (0, 1).
    :math:`S` decreases in :math:`\tau`, so

    .. math::

        F(t) = P(\tau \le t) = P\Bigl(S \ge \frac{s_0^2}{s_0^2 + t^2}\Bigr)
             = 1 - \frac{s_0^2}{s_0^2 + t^2} = \frac{t^2}{s_0^2 + t^2},

    :math:`p(\tau) = F'(\tau) = 2 s_0^2 \tau / (s_0^2 + \tau^2)^2` and
    :math:`F^{-1}(u) = s_0\sqrt{u/(1-u)}`. This is the log-logistic (Fisk)
    CDF :math:`1/(1 + (t/s_0)^{-2})`: proper, median :math:`s_0`, mean
    :math:`\pi s_0/2`, infinite variance.

    References
    ----------
    Daniels MJ (1999). A prior for the variance in hierarchical models.
    Can J Stat 27:567–578.
    Röver C, Bender R, Dias S, Schmid CH, Schmidli H, Sturtz S, Weber S,
    Friede T (2021). On weakly informative prior distributions for the
    heterogeneity parameter in Bayesian random-effects meta-analysis. Res
    Synth Methods 12(4):448–474.

    Examples
    --------
    >>> prior = uniform_shrinkage_prior([1.0, 1.0, 1.0])
    >>> float(prior.median()), float(prior.cdf(1.0))
    (1.0, 0.5)
    """
    s = _std_errors(std_errors, minimum=1)
    s0 = math.sqrt(s.size / np.sum(s**-2.0))
    return stats.fisk(2.0, scale=s0)


def uniform_i2_prior(std_errors: ArrayLike) -> rv_continuous_frozen:
    r"""The prior for tau under which :math:`I^2 = \tau^2/(\tau^2 + s^2)` is uniform on (0, 1).

    Parameters
    ----------
    std_errors : array_like
        The studies' standard errors :math:`s_j > 0` (at least two).

    Returns
    -------
    scipy.stats frozen distribution
        ``scipy.stats.fisk(2, scale=s)``, log-logistic with shape 2 and scale
        :math:`s`.

    Notes
    -----
    :math:`s^2` is Higgins & Thompson's "typical" within-study variance
    :math:`s^2 = (k-1)\sum w / ((\sum w)^2 - \sum w^2)`, :math:`w_j = s_j^{-2}`
    (Higgins & Thompson 2002, eq. 9; bayesmeta's ``tau.prior="I2"``).

    Derivation. :math:`I^2` increases in :math:`\tau`, so for
    :math:`I^2 \sim U(0,1)`

    .. math::

        F(t) = P(\tau \le t) = P\Bigl(I^2 \le \frac{t^2}{t^2 + s^2}\Bigr)
             = \frac{t^2}{s^2 + t^2},

    :math:`p(\tau) = 2 s^2 \tau / (s^2 + \tau^2)^2`,
    :math:`F^{-1}(u) = s\sqrt{u/(1-u)}`: the uniform-shrinkage form with
    :math:`s` in place of :math:`s_0` (the shrinkage
    :math:`s^2/(s^2+\tau^2) = 1 - I^2` is uniform too).

    References
    ----------
    Higgins JPT, Thompson SG (2002). Quantifying heterogeneity in a
    meta-analysis. Stat Med 21:1539–1558.
    Röver C et al. (2021), Res Synth Methods 12:448–474.

    Examples
    --------
    >>> prior = uniform_i2_prior([0.5, 0.5])
    >>> float(prior.median()), round(float(prior.pdf(0.5)), 4)
    (0.5, 1.0)
    """
    s = _std_errors(std_errors, minimum=2)
    return stats.fisk(2.0, scale=math.sqrt(typical_variance(s**2)))


@dataclass(frozen=True, eq=False)
class JeffreysTauPrior:
    r"""The (improper) Jeffreys reference prior for tau.

    .. math::

        p(\tau) \propto \sqrt{\sum_{j=1}^k \Bigl(\frac{\tau}{s_j^2 + \tau^2}\Bigr)^2}

    This is Jeffreys' rule applied to the Fisher information of :math:`\tau`
    alone, with the location :math:`\mu` treated separately (the
    :math:`\tau\tau` element of the information of :math:`y_j \sim N(\mu,
    s_j^2 + \tau^2)` is :math:`2\sum_j \tau^2/(s_j^2+\tau^2)^2`; it does not
    involve :math:`\mu`, and the information matrix is diagonal). Tibshirani
    (1989) proposed it; Bodnar et al. (2017) showed it is the
    Berger–Bernardo reference prior for this model (with the flat prior on
    :math:`\mu`); it is bayesmeta's ``tau.prior="Jeffreys"``. It is not the
    "overall" Jeffreys prior, which has an extra factor
    :math:`(\sum_j 1/(s_j^2+\tau^2))^{1/2}`, nor the Berger–Deely prior
    :math:`\prod_j(\tau/(s_j^2+\tau^2))^{1/k}` (the three coincide up to a
    constant only when all :math:`s_j` are equal, the first two not even then).

    Near 0 the density is linear in :math:`\tau`; for large :math:`\tau` it
    decays like :math:`\sqrt{k}/\tau`, so it is improper (``proper = False``)
    and ``logpdf`` is unnormalised. With a flat prior on :math:`\mu` the
    restricted likelihood decays like :math:`\tau^{-(k-1)}`, so the
    posterior is proper for :math:`k \ge 2` studies.

    Parameters
    ----------
    std_errors : array_like
        The studies' standard errors :math:`s_j > 0`.

    References
    ----------
    Tibshirani R (1989). Noninformative priors for one parameter of many.
    Biometrika 76:604–608.
    Bodnar O, Link A, Arendacká B, Possolo A, Elster C (2017). Bayesian
    estimation in random effects meta-analysis using a non-informative prior.
    Stat Med 36:378–399.

    Examples
    --------
    >>> prior = JeffreysTauPrior([1.0])
    >>> prior.proper, round(float(prior.pdf(1.0)), 6)
    (False, 0.5)
    """

    std_errors: np.ndarray = field(repr=False)
    proper: ClassVar[bool] = False

    def __post_init__(self) -> None:
        s = _std_errors(self.std_errors, minimum=1)
        s.setflags(write=False)
        object.__setattr__(self, "std_errors", s)

    def logpdf(self, tau: ArrayLike) -> np.ndarray | float:
        """Unnormalised log density; ``-inf`` for ``tau <= 0``."""
        t = np.asarray(tau, dtype=float)
        s2 = self.std_errors**2
        with np.errstate(divide="ignore", invalid="ignore"):
            inner = np.sum((1.0 / (s2 + t[..., None] ** 2)) ** 2, axis=-1)
            out = np.where(t > 0, np.log(t) + 0.5 * np.log(inner), -np.inf)
        out = np.where(np.isnan(t), np.nan, out)
        return out if out.ndim else float(out)

    def pdf(self, tau: ArrayLike) -> np.ndarray | float:
        """Unnormalised density (``exp(logpdf)``)."""
        out = np.exp(self.logpdf(tau))
        return out if np.ndim(out) else float(out)


def _lookup(name: str, value: Any, options: dict[str, str]) -> str:
    if not isinstance(value, str) or value not in options:
        opts = ", ".join(repr(o) for o in options)
        raise PriorError(f"`{name}` must be one of {opts}; got {value!r}.")
    return value


def turner2015(outcome: str | None = None, comparison: str | None = None) -> rv_continuous_frozen:
    r"""Turner et al. (2015) empirical prior for tau of a log odds ratio.

    Turner et al. give log-normal predictive distributions for the
    between-study variance :math:`\tau^2` of log odds ratios,
    :math:`\log\tau^2 \sim N(\mu, \sigma^2)`, by outcome type and type of
    intervention comparison (Table IV; 16 × 5 settings), and
    :math:`N(-2.56, 1.74^2)` for a general setting. Since
    :math:`\log\tau = \tfrac12\log\tau^2`, tau is log-normal with
    meanlog :math:`\mu/2` and sdlog :math:`\sigma/2`.

    Parameters
    ----------
    outcome : str, optional
        One of ``'all-cause-mortality'``, ``'obstetric'``,
        ``'cause-specific-mortality'`` (cause-specific mortality / major
        morbidity event / composite), ``'resource-use'`` (resource use /
        hospital stay / process), ``'surgical-device'`` (surgical / device
        related success / failure), ``'withdrawals'`` (withdrawals /
        drop-outs), ``'internal-structure'``, ``'general-physical-health'``,
        ``'adverse-events'``, ``'infection'`` (infection / onset of new
        disease), ``'signs-symptoms'`` (signs / symptoms reflecting
        continuation / end of condition), ``'pain'``, ``'quality-of-life'``
        (dichotomised), ``'mental-health'``, ``'biological-markers'``
        (dichotomised), ``'subjective'`` (various). Omit both arguments for the
        general setting.
    comparison : str, optional
        ``'pharma-vs-placebo'`` (pharmacological vs placebo / control),
        ``'pharma-vs-pharma'``, ``'nonpharma-vs-placebo'``,
        ``'nonpharma-vs-pharma'``, ``'nonpharma-vs-nonpharma'``.

    Returns
    -------
    scipy.stats frozen distribution
        ``scipy.stats.lognorm(s=sigma/2, scale=exp(mu/2))``, the prior of tau.

    Notes
    -----
    Numbers: Turner et al. (2015), Table IV, as transcribed identically by
    the R packages bayesmeta 3.4 (``TurnerEtAlParameters``) and rnmamod
    (``table_tau2_prior``); see :mod:`hierbayes.meta._prior_tables`.

    References
    ----------
    Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT (2015). Predictive
    distributions for between-study heterogeneity and simple methods for
    their application in Bayesian meta-analysis. Stat Med 34(6):984–998.

    Examples
    --------
    Log tau² ~ N(−3.95, 1.34²) for all-cause mortality, drug vs placebo:

    >>> prior = turner2015("all-cause-mortality", "pharma-vs-placebo")
    >>> round(float(prior.median()), 4), round(float(prior.median() ** 2), 4)
    (0.1388, 0.0193)
    """
    if outcome is None and comparison is None:
        mu, sigma = TURNER2015_GENERAL
    else:
        outcome = _lookup("outcome", outcome, TURNER2015_OUTCOMES)
        comparison = _lookup("comparison", comparison, TURNER2015_COMPARISONS)
        mu, sigma = TURNER2015[outcome, comparison]
    return stats.lognorm(s=0.5 * sigma, scale=math.exp(0.5 * mu))


_RHODES_ALIASES = {
    "adverse-events": "general-physical-health",
    "pain": "general-physical-health",
    "quality-of-life": "general-physical-health",
    "infection": "signs-symptoms",
}
_AREAS = {"other": "other", "respiratory": "respiratory", "cancer": "cancer"}


def rhodes2015(
    outcome: str | None = None, comparison: str | None = None, area: str = "other"
) -> rv_continuous_frozen:
    r"""Rhodes et al. (2015) empirical prior for tau of a standardised mean difference.

    Rhodes et al. give log-Student-t predictive distributions (5 degrees of
    freedom) for the between-study variance :math:`\tau^2` of standardised
    mean differences, :math:`\log\tau^2 \sim t_5(m, \sigma)`, by outcome
    group, comparison type and medical area (Tables 3, A.3.1, A.3.2), and
    :math:`t_5(-3.44, 2.59)` for a general setting. Since
    :math:`\log\tau = \tfrac12\log\tau^2`, :math:`\log\tau \sim t_5(m/2,
    \sigma/2)`.

    Parameters
    ----------
    outcome : str, optional
        One of ``'obstetric'``, ``'resource-use'``, ``'internal-structure'``
        (internal and external structure-related), ``'general-physical-health'``
        (also for ``'adverse-events'``, ``'pain'``, ``'quality-of-life'``:
        Rhodes et al. group them), ``'signs-symptoms'`` (also for
        ``'infection'``), ``'mental-health'``, ``'biological-markers'``,
        ``'subjective'``. Omit ``outcome`` and ``comparison`` for the general
        setting.
    comparison : str, optional
        ``'pharma-vs-placebo'``, ``'pharma-vs-pharma'``, or ``'nonpharma'``
        (a non-pharmacological intervention against any comparator).
    area : {'other', 'respiratory', 'cancer'}, default 'other'
        Medical area.

    Returns
    -------
    scipy.stats frozen distribution
        ``log_t(5, sigma/2, scale=exp(m/2))`` (:func:`log_t`), the prior of tau.

    Raises
    ------
    PriorError
        An unknown setting, or one of three entries left out because the
        available transcriptions are doubtful (the message gives the reason):
        mental health × non-pharmacological (area other); resource use and
        internal/external structure × pharmacological vs placebo (cancer).

    Notes
    -----
    Numbers: Rhodes et al. (2015) as transcribed by the R packages bayesmeta
    3.4 (``RhodesEtAlParameters``) and rnmamod (``table_tau2_prior``), which
    agree except where noted; see :mod:`hierbayes.meta._prior_tables`.

    References
    ----------
    Rhodes KM, Turner RM, Higgins JPT (2015). Predictive distributions were
    developed for the extent of heterogeneity in meta-analyses of continuous
    outcome data. J Clin Epidemiol 68(1):52–60.

    Examples
    --------
    >>> prior = rhodes2015()  # general setting: log tau² ~ t_5(-3.44, 2.59)
    >>> round(float(prior.median()), 4)
    0.1791
    """
    if outcome is None and comparison is None:
        m, sigma = RHODES2015_GENERAL
    else:
        if isinstance(outcome, str):
            outcome = _RHODES_ALIASES.get(outcome, outcome)
        outcome = _lookup("outcome", outcome, RHODES2015_OUTCOMES)
        comparison = _lookup("comparison", comparison, RHODES2015_COMPARISONS)
        area = _lookup("area", area, _AREAS)
        key = (outcome, comparison, area)
        if key in RHODES2015_EXCLUDED:
            raise PriorError(
                f"The Rhodes et al. (2015) prior for {key} is not provided: "
                f"{RHODES2015_EXCLUDED[key]}."
            )
        m, sigma = RHODES2015[key]
    return log_t(5.0, 0.5 * sigma, scale=math.exp(0.5 * m))
