r"""Classical (frequentist) companions of a random-effects meta-analysis.

Cochran's Q, I² and H², the equal-effects (fixed-effect) estimate, and
random-effects estimates for three estimators of the heterogeneity variance
:math:`\tau^2`: DerSimonian–Laird, Paule–Mandel and REML. Q, the
equal-effects estimate with its standard error and the DL :math:`\tau^2` come
from statsmodels' :func:`~statsmodels.stats.meta_analysis.combine_effects`;
statsmodels has no REML estimator for meta-analysis, so REML maximises the
restricted likelihood here; PM is a root search here (see
:func:`classical_meta`); one helper pools the random-effects estimates for
every :math:`\tau^2` estimate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, stats
from statsmodels.stats.meta_analysis import combine_effects

from hierbayes.errors import DataError
from hierbayes.meta._validate import as_frame, check_positive, real_column
from hierbayes.validate import check_prob

__all__ = ["ClassicalMeta", "classical_meta", "typical_variance"]

METHODS = ("equal-effects", "DL", "PM", "REML")
_COLUMNS = ("tau2", "tau", "estimate", "std_error", "lower", "upper", "i2", "h2")


@dataclass(frozen=True, eq=False)
class ClassicalMeta:
    r"""Heterogeneity statistics and pooled estimates of a classical meta-analysis.

    Attributes
    ----------
    k : int
        Number of studies.
    q, df, p_value : float, int, float
        Cochran's :math:`Q = \sum_j w_j (y_j - \hat\mu_{EE})^2`,
        :math:`w_j = 1/v_j`, its degrees of freedom :math:`k - 1` and the
        :math:`\chi^2_{k-1}` upper-tail p-value.
    i2, h2 : float
        Higgins & Thompson's :math:`I^2 = \max(0, (Q - df)/Q)` and
        :math:`H^2 = Q/df` (from Q, not from a :math:`\tau^2` estimate).
    typical_variance : float
        The "typical" within-study variance
        :math:`s^2 = (k-1)\sum w / ((\sum w)^2 - \sum w^2)` (Higgins &
        Thompson 2002, eq. 9).
    prob : float
        Mass of the Wald intervals ``lower``/``upper`` in ``table``.
    table : pandas.DataFrame
        One row per method (``'equal-effects'``, ``'DL'``, ``'PM'``,
        ``'REML'``), columns ``tau2``, ``tau``, ``estimate``, ``std_error``,
        ``lower``, ``upper``, ``i2``, ``h2``. For the random-effects rows
        ``i2`` and ``h2`` are :math:`\hat\tau^2/(\hat\tau^2 + s^2)` and
        :math:`(\hat\tau^2 + s^2)/s^2` (as metafor's ``rma`` prints them); the
        equal-effects row assumes :math:`\tau = 0`, so there they are 0 and 1.
    """

    k: int
    q: float
    df: int
    p_value: float
    i2: float
    h2: float
    typical_variance: float
    prob: float
    table: pd.DataFrame


def classical_meta(
    data: pd.DataFrame,
    *,
    effect: Any = "yi",
    variance: Any = "vi",
    prob: float = 0.95,
) -> ClassicalMeta:
    r"""Q, I², H², and equal-effects and random-effects estimates (DL, PM, REML).

    Parameters
    ----------
    data : pandas.DataFrame or mapping of columns
        One row per study, e.g. the output of
        :func:`~hierbayes.meta.effect_sizes.effect_sizes`.
    effect, variance : column label, default 'yi', 'vi'
        The estimates :math:`y_j` and their (known) sampling variances
        :math:`v_j > 0`.
    prob : float, default 0.95
        Mass of the normal (Wald) intervals in the table.

    Returns
    -------
    ClassicalMeta
        Heterogeneity statistics and a table with one row per method.

    Raises
    ------
    DataError
        Fewer than two studies, missing or non-finite values, or a variance
        that is not positive (the message names the column and rows).

    Notes
    -----
    For a given :math:`\tau^2` the random-effects estimate is
    :math:`\hat\mu = \sum w_j y_j / \sum w_j` with :math:`w_j = 1/(v_j +
    \tau^2)` and standard error :math:`(\sum w_j)^{-1/2}`; equal effects is
    :math:`\tau^2 = 0`.

    * DL (DerSimonian & Laird 1986): :math:`\max(0, (Q - (k-1))/(\sum w -
      \sum w^2/\sum w))`, from statsmodels (``method_re="dl"``), truncated
      at 0 here (statsmodels leaves it negative).
    * PM (Paule & Mandel 1982): the root of the generalised Q equation
      :math:`\sum w_j(\tau^2)(y_j - \hat\mu(\tau^2))^2 = k - 1`, or 0 if
      there is none, by Brent's method. (statsmodels' ``method_re="iterated"``
      solves the same equation by Newton steps, but returns 0 when rounding
      makes the equation's value slightly negative near convergence, which
      happens with a tight ``atol``; so it is not used.)
    * REML: maximises the restricted log-likelihood
      :math:`-\tfrac12[\sum\log(v_j+\tau^2) + \log\sum w_j +
      \sum w_j (y_j-\hat\mu)^2]` over :math:`\tau^2 \ge 0` (a grid, then
      Brent's root search on the score).

    Examples
    --------
    >>> res = classical_meta({"yi": [-0.9, -1.6, -1.3, 0.0], "vi": [0.3, 0.2, 0.4, 0.01]})
    >>> res.table.loc["REML", ["tau2", "estimate"]].round(4).tolist()
    [0.4912, -0.8427]
    >>> round(res.q, 3), res.df
    (17.893, 3)
    """
    frame = as_frame(data)
    prob = check_prob("prob", prob)
    y = real_column(frame, effect, "effect")
    v = real_column(frame, variance, "variance")
    check_positive(variance, "variance", frame, v)
    k = y.size
    if k < 2:
        raise DataError(f"A meta-analysis needs at least 2 studies; got {k}.")

    with np.errstate(invalid="ignore"):  # statsmodels takes sqrt of a negative DL variance
        dl = combine_effects(y, v, method_re="dl")
    tau2 = {
        "equal-effects": 0.0,
        "DL": max(0.0, float(dl.tau2)),
        "PM": _pm_tau2(y, v),
        "REML": _reml_tau2(y, v),
    }
    q, df = float(dl.q), k - 1
    s2 = typical_variance(v)
    z = stats.norm.isf(0.5 * (1.0 - prob))
    rows = {}
    for method, t2 in tau2.items():
        if method == "equal-effects":
            est, se = float(dl.mean_effect_fe), float(dl.sd_eff_w_fe)
        else:
            est, se = _pooled(y, v, t2)
        rows[method] = (t2, np.sqrt(t2), est, se, est - z * se, est + z * se,
                        t2 / (t2 + s2), (t2 + s2) / s2)  # fmt: skip
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(_COLUMNS))
    table.index.name = "method"
    return ClassicalMeta(
        k=k,
        q=q,
        df=df,
        p_value=float(stats.chi2.sf(q, df)),
        i2=max(0.0, (q - df) / q) if q > 0 else 0.0,
        h2=q / df,
        typical_variance=s2,
        prob=prob,
        table=table,
    )


def typical_variance(variances: ArrayLike) -> float:
    r"""Higgins & Thompson's typical within-study variance :math:`s^2`.

    :math:`s^2 = (k-1)\sum w / ((\sum w)^2 - \sum w^2)`, :math:`w = 1/v`
    (Higgins & Thompson 2002, Stat Med 21:1539–1558, eq. 9); it equals
    :math:`v` when all variances are :math:`v`.

    >>> typical_variance([0.5, 0.5, 0.5])
    0.5
    """
    w = 1.0 / np.asarray(variances, dtype=float)
    if w.size < 2:
        raise DataError(f"The typical variance needs at least 2 studies; got {w.size}.")
    sw = w.sum()
    return float((w.size - 1) * sw / (sw**2 - np.sum(w**2)))


def _pooled(y: np.ndarray, v: np.ndarray, tau2: float) -> tuple[float, float]:
    """Inverse-variance estimate and standard error for a given ``tau2``."""
    w = 1.0 / (v + tau2)
    sw = w.sum()
    return float(np.dot(w, y) / sw), float(1.0 / np.sqrt(sw))


def _restricted_loglik(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    w = 1.0 / (v + tau2)
    sw = w.sum()
    mu = np.dot(w, y) / sw
    return -0.5 * (np.sum(np.log(v + tau2)) + np.log(sw) + np.dot(w, (y - mu) ** 2))


def _restricted_loglik_grid(tau2: np.ndarray, y: np.ndarray, v: np.ndarray) -> np.ndarray:
    """:func:`_restricted_loglik` at every value of ``tau2`` at once (one row per value)."""
    var = v[None, :] + tau2[:, None]
    w = 1.0 / var
    sw = w.sum(axis=1)
    mu = (w @ y) / sw
    return -0.5 * (np.log(var).sum(axis=1) + np.log(sw)
                   + (w * (y[None, :] - mu[:, None]) ** 2).sum(axis=1))


def _reml_score(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    """Derivative of the restricted log-likelihood in ``tau2``."""
    w = 1.0 / (v + tau2)
    sw = w.sum()
    mu = np.dot(w, y) / sw
    return 0.5 * (np.dot(w**2, (y - mu) ** 2) - sw + np.sum(w**2) / sw)


def _reml_tau2(y: np.ndarray, v: np.ndarray) -> float:
    """REML estimate of tau² (global maximum on a grid in tau, refined by Brent)."""
    upper = 10.0 * (np.var(y, ddof=1) + v.max())
    for _ in range(60):
        taus = np.linspace(0.0, np.sqrt(upper), 257)
        ll = _restricted_loglik_grid(taus * taus, y, v)
        i = int(np.argmax(ll))
        if i < taus.size - 1:
            break
        upper *= 4.0
    else:  # pragma: no cover - the restricted likelihood decays like tau^-(k-1)
        raise DataError("The REML estimate of tau² did not converge (it grows without bound).")
    if i == 0 and _reml_score(0.0, y, v) <= 0.0:
        return 0.0
    lo, hi = taus[max(i - 1, 0)] ** 2, taus[i + 1] ** 2
    if _reml_score(lo, y, v) > 0.0 > _reml_score(hi, y, v):
        return float(optimize.brentq(_reml_score, lo, hi, args=(y, v), xtol=1e-14, rtol=1e-13))
    res = optimize.minimize_scalar(  # pragma: no cover - score without a sign change
        lambda t2: -_restricted_loglik(t2, y, v),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-13},
    )
    return float(res.x)  # pragma: no cover


def _generalised_q(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    w = 1.0 / (v + tau2)
    mu = np.dot(w, y) / w.sum()
    return float(np.dot(w, (y - mu) ** 2))


def _pm_tau2(y: np.ndarray, v: np.ndarray) -> float:
    """Paule–Mandel tau²: the root of the (decreasing) generalised Q minus ``k - 1``, or 0."""
    target = y.size - 1.0
    if _generalised_q(0.0, y, v) <= target:
        return 0.0
    hi = np.var(y, ddof=1) + v.max()
    while _generalised_q(hi, y, v) > target:
        hi *= 4.0
    return float(
        optimize.brentq(
            lambda t2: _generalised_q(t2, y, v) - target, 0.0, hi, xtol=1e-14, rtol=1e-13
        )
    )
