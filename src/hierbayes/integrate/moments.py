"""Moments from a 2-D quadrature grid when the prior cannot say whether they exist.

A callable prior is a log density and nothing more: whether E[x] is finite
under it (x bounded, or a tail that decays fast enough) is not known in
advance. The grid can tell whether it has *seen* the moment converge: the
grid was extended until the posterior mass on its outermost rows and columns
was negligible (``integrate_2d``: below tol·1e-3); if x·p (or (x − m)²·p)
also carries a negligible share of its total there, the moment is complete on
the grid — a parameter bounded by the prior's support always is — and
it is reported. Otherwise it is NaN with a warning saying why, never a
number that depends on where the grid was cut, and never inf (a bounded
parameter's mean is finite).
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from hierbayes.errors import AccuracyWarning

__all__ = ["edge_share", "grid_mean_sd"]


def edge_share(mass: np.ndarray) -> float:
    """Share of a weighted total on the grid's outermost rows and columns.

    >>> m = np.ones((4, 4)); m[1:3, 1:3] = 100.0
    >>> round(edge_share(m), 4)
    0.0097
    """
    total = float(mass.sum())
    edges = (mass[0].sum(), mass[-1].sum(), mass[:, 0].sum(), mass[:, -1].sum())
    return float(max(edges)) / total if total > 0 else math.inf


def grid_mean_sd(values: np.ndarray, weight: np.ndarray, tol: float, name: str,
                 stacklevel: int = 4) -> tuple[float, float]:
    """Mean and sd of ``values`` under the grid weights (both of the grid's 2-D shape),
    each reported only if the grid's edge holds at most ``tol`` of it (see the module
    docstring); NaN with an :class:`~hierbayes.errors.AccuracyWarning` otherwise.

    >>> w = np.full((5, 5), 1e-20); w[1:4, 1:4] = 1.0 / 9
    >>> x = np.tile(np.arange(5.0), (5, 1))
    >>> [round(v, 6) for v in grid_mean_sd(x, w, 1e-10, "x")]
    [2.0, 0.816497]
    """
    x = np.asarray(values, dtype=float).reshape(weight.shape)
    w = weight / weight.sum()
    with np.errstate(invalid="ignore", over="ignore"):
        mean = float(np.sum(w * x))
        share = edge_share(w * np.abs(x))
        if not (share <= tol and math.isfinite(mean)):
            _warn(name, "mean", share, stacklevel)
            return math.nan, math.nan
        dev = w * (x - mean) ** 2
        var_share = edge_share(dev)
    if not var_share <= tol:
        _warn(name, "sd", var_share, stacklevel)
        return mean, math.nan
    return mean, math.sqrt(float(dev.sum()))


def _warn(name: str, what: str, share: float, stacklevel: int) -> None:
    warnings.warn(
        f"The {what} of {name} is reported as NaN: the prior is a callable, so whether it "
        f"exists is not known, and the quadrature grid's edge still holds {share:.2g} of "
        f"it (it has not decayed where the grid ends). Its quantiles are reported; give "
        "proper priors as scipy.stats distributions for moments decided from the prior.",
        AccuracyWarning,
        stacklevel=stacklevel + 1,
    )
