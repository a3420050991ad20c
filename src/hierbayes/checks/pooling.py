"""Complete, no and partial pooling side by side, and empirical vs full Bayes (MODEL.md §1, §8)."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.errors import HierBayesWarning
from hierbayes.result import Fit
from hierbayes.validate import check_prob

__all__ = ["MethodComparison", "PoolingComparison", "compare_methods", "compare_pooling",
           "elpd_table"]

POOLINGS = ("complete", "none", "partial")


@dataclass(frozen=True)
class PoolingComparison:
    """The three pooling levels fitted to the same data.

    Attributes
    ----------
    groups : pandas.DataFrame
        Indexed by group: the data columns and, for each of ``complete``,
        ``none``, ``partial``, ``<pooling>_mean``, ``<pooling>_lower``,
        ``<pooling>_upper``.
    elpd : pandas.DataFrame
        Rows ``complete``, ``none``, ``partial``; columns ``elpd_logo`` (the
        sum of the exact leave-one-group-out log predictive densities),
        ``se`` (its standard error, sqrt(J) times the sd of the terms),
        ``elpd_diff`` (difference from the best row, ≤ 0) and ``se_diff``
        (standard error of the paired difference). NaN where a level has
        no predictive density (an improper pooled prior).
    pointwise : pandas.DataFrame
        The leave-one-group-out log predictive density of every group, one
        column per level.
    fits : dict of str to Fit
        The three fits.
    """

    groups: pd.DataFrame
    elpd: pd.DataFrame
    pointwise: pd.DataFrame
    fits: dict[str, Fit]

    def _repr_html_(self) -> str:
        from hierbayes.html import results_html

        return results_html(f"Pooling comparison: {', '.join(self.elpd.index)}",
                            [("Leave-one-group-out predictive comparison", self.elpd),
                             ("Groups", self.groups)])


def elpd_table(pointwise: pd.DataFrame) -> pd.DataFrame:
    """elpd, se, elpd_diff and se_diff from per-group log predictive densities (columns).

    Examples
    --------
    >>> t = elpd_table(pd.DataFrame({"a": [-1.0, -2.0], "b": [-1.5, -1.5]}))
    >>> t.loc["b", ["elpd_logo", "elpd_diff"]].tolist()
    [-3.0, 0.0]
    """
    n = len(pointwise)
    values = {c: pointwise[c].to_numpy(dtype=float) for c in pointwise.columns}
    elpd = {c: float(np.sum(v)) for c, v in values.items()}  # NaN stays NaN

    def se(x: np.ndarray) -> float:
        return math.sqrt(n * float(np.var(x, ddof=1))) if n > 1 else math.nan

    finite = [c for c in values if math.isfinite(elpd[c])]
    best = max(finite, key=lambda c: elpd[c]) if finite else None
    rows = []
    for c, v in values.items():
        if best is None or not math.isfinite(elpd[c]):
            diff = sdiff = math.nan
        else:
            diff = elpd[c] - elpd[best]
            sdiff = 0.0 if c == best else se(v - values[best])
        rows.append([elpd[c], se(v), diff, sdiff])
    return pd.DataFrame(rows, index=pd.Index(list(values), name="pooling"),
                        columns=["elpd_logo", "se", "elpd_diff", "se_diff"])


def compare_pooling(
    data: Any = None,
    *,
    prob: float = 0.95,
    model: Any,
    covariates: Any = None,
    **columns: Any,
) -> PoolingComparison:
    """Fit complete, no and partial pooling; estimates side by side and which predicts best.

    With ``covariates`` a fourth level, ``regression`` (partial pooling toward
    x_j'beta), joins them: the comparison then says whether the covariates
    predict the left-out groups better than one common mean.

    Parameters
    ----------
    data : pandas.DataFrame, dict, or None
        As for :meth:`BetaBinomial.fit`.
    prob : float
        Mass of the equal-tailed intervals.
    model : model specification
        Any family's specification (:func:`hierbayes.compare_pooling`
        defaults to ``BetaBinomial()``); its
        ``pooling`` is replaced for each level. Partial pooling must use
        ``method='exact'`` for the leave-one-group-out comparison.
    covariates : str or list of str, optional
        Group-level covariates (as for ``fit``): adds the ``regression`` level. A
        regression prior (``{'coef': ...}``) serves that level; the others then use
        the family's default prior.
    **columns
        Column roles, passed to ``fit`` (e.g. ``group=``, ``successes=``, ``trials=``).

    Returns
    -------
    PoolingComparison
        ``.groups`` (estimates and intervals), ``.elpd`` (exact
        leave-one-group-out predictive comparison), ``.pointwise``, ``.fits``.

    Examples
    --------
    >>> import hierbayes as hb
    >>> c = hb.compare_pooling(hb.datasets.load("rats"))
    >>> [col for col in c.groups.columns if col.endswith("_mean")]
    ['complete_mean', 'none_mean', 'partial_mean']
    >>> c.elpd["elpd_logo"].round(1).to_dict()
    {'complete': -173.6, 'none': -225.0, 'partial': -158.5}
    """
    prob = check_prob("prob", prob)
    base = model
    fits: dict[str, Fit] = {}
    out: pd.DataFrame | None = None
    logo: dict[str, pd.Series] = {}
    plain = base
    if isinstance(base.prior, dict) and "coef" in base.prior:
        plain = replace(base, prior=None)
    levels = [*POOLINGS, "regression"] if covariates is not None else list(POOLINGS)
    for pooling in levels:
        if pooling == "regression":
            fit = replace(base, pooling="partial").fit(data, covariates=covariates, **columns)
        else:
            fit = replace(plain, pooling=pooling).fit(data, **columns)
        fits[pooling] = fit
        s = fit.summary(prob=prob)
        if out is None:
            data_cols = list(s.columns[: s.columns.get_loc("mean")])
            out = s[data_cols].copy()
        for col in ("mean", "lower", "upper"):
            out[f"{pooling}_{col}"] = s[col]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HierBayesWarning)  # NaN is explained in the docs
            logo[pooling] = fit.logo()
    assert out is not None
    pointwise = pd.DataFrame(logo)
    return PoolingComparison(out, elpd_table(pointwise), pointwise, fits)


@dataclass(frozen=True)
class MethodComparison:
    """Empirical Bayes and full Bayes fitted to the same data.

    Attributes
    ----------
    hyper : pandas.DataFrame
        Per hyperparameter: the EB point estimate ``eb``, the full-Bayes
        posterior ``fb_mean``, ``fb_lower``, ``fb_upper``.
    groups : pandas.DataFrame
        Per group: ``eb_mean``, ``eb_lower``, ``eb_upper``, ``fb_mean``,
        ``fb_lower``, ``fb_upper``, and ``width_ratio`` = EB interval width /
        FB interval width (below 1: the uncertainty EB leaves out).
    fits : dict of str to Fit
        ``{"eb": ..., "exact": ...}``.
    """

    hyper: pd.DataFrame
    groups: pd.DataFrame
    fits: dict[str, Fit]

    def _repr_html_(self) -> str:
        from hierbayes.html import results_html

        return results_html("Empirical Bayes against full Bayes",
                            [("Hyperparameters", self.hyper), ("Groups", self.groups)])


def compare_methods(data: Any = None, *, prob: float = 0.95, model: Any,
                    **columns: Any) -> MethodComparison:
    """Empirical Bayes (type-II maximum likelihood) against full Bayes, side by side.

    Examples
    --------
    >>> import hierbayes as hb
    >>> c = hb.compare_methods(hb.datasets.load("rats"))
    >>> bool((c.groups["width_ratio"] < 1).all())
    True
    """
    prob = check_prob("prob", prob)
    base = model
    tail = (1.0 - prob) / 2.0
    probs = (tail, 0.5, 1.0 - tail)
    fb = replace(base, pooling="partial", method="exact", probs=probs).fit(data, **columns)
    eb = replace(base, pooling="partial", method="eb", prior=None).fit(data, **columns)
    fbh = fb.hyper
    hyper = pd.DataFrame({
        "eb": eb.hyper["mean"],
        "fb_mean": fbh["mean"],
        "fb_median": fbh.iloc[:, 3],
        "fb_lower": fbh.iloc[:, 2],
        "fb_upper": fbh.iloc[:, 4],
    })
    se, sf = eb.summary(prob), fb.summary(prob)
    data_cols = list(sf.columns[: sf.columns.get_loc("mean")])
    groups = sf[data_cols].copy()
    for name, s in (("eb", se), ("fb", sf)):
        for col in ("mean", "lower", "upper"):
            groups[f"{name}_{col}"] = s[col]
    groups["width_ratio"] = (se["upper"] - se["lower"]) / (sf["upper"] - sf["lower"])
    return MethodComparison(hyper, groups, {"eb": eb, "exact": fb})
