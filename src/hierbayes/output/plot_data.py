"""The numbers the plots and the report draw, taken from a fit's own tables.

No drawing here (no matplotlib): group sizes, the population mean, interval
and pooling tables, and the words each family's axes carry.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "POOLINGS",
    "as_pooling_table",
    "canonical_frame",
    "compare_fit_pooling",
    "group_size",
    "interval_table",
    "pooling_table",
    "population_mean",
]

POOLINGS = ("complete", "none", "partial")

def group_size(fit: Any) -> np.ndarray:
    """The size of each group's data: trials, exposure, or 1/std_error² (Normal–Normal).

    Examples
    --------
    >>> import hierbayes as hb
    >>> fit = hb.GammaPoisson().fit(hb.datasets.load("pumps"))
    >>> group_size(fit)[:2].tolist()
    [94.3, 15.7]
    """
    return np.asarray(fit.group_size(), dtype=float)


def population_mean(fit: Any) -> float | None:
    """Posterior mean of the population mean of theta (None without pooling).

    The ``mu`` row of ``fit.hyper`` (Beta–Binomial, Normal–Normal), ``mean``
    (Gamma–Poisson) or ``theta`` (complete pooling); the posterior median
    where the mean is not finite or not established.

    Examples
    --------
    >>> import hierbayes as hb
    >>> round(population_mean(hb.BetaBinomial().fit(hb.datasets.load("rats"))), 4)
    0.1443
    """
    hyper = fit.hyper
    for row in ("theta", "mu", "mean"):
        if row in hyper.index:
            value = float(hyper.loc[row, "mean"])
            if not math.isfinite(value) and "q50" in hyper.columns:
                value = float(hyper.loc[row, "q50"])
            return value if math.isfinite(value) else None
    return None


def interval_table(fit: Any, prob: float = 0.95) -> pd.DataFrame:
    """Per-group ``mean``, ``lower`` and ``upper`` (equal-tailed, mass ``prob``).

    Taken from ``fit.groups`` (computed once per fit) when the model's
    ``probs`` include both tails, else from ``fit.summary(prob)``; the
    numbers agree to rounding (the quantiles are solved to ~1e-14).

    Examples
    --------
    >>> import numpy as np
    >>> import hierbayes as hb
    >>> fit = hb.NormalNormal().fit(hb.datasets.load("eight_schools"))
    >>> t = interval_table(fit)
    >>> bool(np.allclose(t["lower"], fit.summary()["lower"], rtol=1e-12))
    True
    """
    from hierbayes.result import quantile_label
    from hierbayes.validate import check_prob

    prob = check_prob("prob", prob)
    tail = (1.0 - prob) / 2.0
    lo, hi = quantile_label(tail), quantile_label(1.0 - tail)
    probs = [quantile_label(q) for q in fit.model.probs]
    if lo in probs and hi in probs:
        g = fit.groups
        return pd.DataFrame({"mean": g["mean"], "lower": g[lo], "upper": g[hi]})
    return fit.summary(prob)[["mean", "lower", "upper"]]


def canonical_frame(fit: Any) -> pd.DataFrame:
    """The fit's data, one row per group, under the canonical column names."""
    g = fit.moments
    cols = [c for c in g.columns[: g.columns.get_loc("mean")] if c != "raw"]
    return g[cols].rename_axis("group").reset_index()


def compare_fit_pooling(fit: Any, prob: float = 0.95) -> Any:
    """:func:`hierbayes.compare_pooling` on a fit's data, with the fit's model.

    Complete, no and partial pooling refitted to the fit's data (one row per
    group) with its prior. The leave-one-group-out comparison needs the full
    posterior, so an empirical-Bayes model is compared with ``method='exact'``.

    Examples
    --------
    >>> import hierbayes as hb
    >>> c = compare_fit_pooling(hb.GammaPoisson().fit(hb.datasets.load("pumps")))
    >>> c.groups.shape, list(c.elpd.index)
    ((10, 12), ['complete', 'none', 'partial'])
    """
    from dataclasses import replace

    from hierbayes.checks.pooling import compare_pooling

    model = fit.model if fit.model.method == "exact" else replace(fit.model, method="exact")
    return compare_pooling(canonical_frame(fit), prob=prob, model=model)


def pooling_table(fit: Any, prob: float = 0.95) -> pd.DataFrame:
    """The ``groups`` table of :func:`compare_fit_pooling`: the three pooling levels per group.

    Returns
    -------
    pandas.DataFrame
        Indexed by group, with the data columns and ``<pooling>_mean``,
        ``<pooling>_lower``, ``<pooling>_upper`` for each pooling level.

    Examples
    --------
    >>> import hierbayes as hb
    >>> t = pooling_table(hb.BetaBinomial().fit(hb.datasets.load("rats")), prob=0.9)
    >>> [c for c in t.columns if c.startswith("partial")]
    ['partial_mean', 'partial_lower', 'partial_upper']
    """
    return as_pooling_table(compare_fit_pooling(fit, prob))


def as_pooling_table(source: Any) -> pd.DataFrame:
    table = source if isinstance(source, pd.DataFrame) else getattr(source, "groups", None)
    need = [f"{p}_{c}" for p in POOLINGS for c in ("mean", "lower", "upper")]
    if not isinstance(table, pd.DataFrame) or not set(need) <= set(table.columns):
        raise TypeError(
            "`source` must be a fit, the result of compare_pooling or its DataFrame with "
            f"columns {', '.join(need)}; got {type(source).__name__}"
        )
    return table
