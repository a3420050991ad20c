"""Reduce Normal–Normal input to validated per-group summaries (estimate, std_error).

Two forms of input (MODEL.md §4):

* **summaries**: one estimate and its standard error per row. Several rows of
  one group are independent measurements of the same theta and are combined
  exactly, by precision weighting: the combined estimate and standard error
  carry the same likelihood for theta as the rows do.
* **raw observations**: a ``value`` per row and a ``group``. Each group is
  reduced to its mean and the standard error of that mean, which the model
  then treats as known (the usual approximation, BDA3 §5.5):

  - ``variance="group"`` (default): the group's own sample variance
    (denominator n_j − 1), ``se_j = s_j / sqrt(n_j)``; a group with one
    observation has no variance and is refused;
  - ``variance="pooled"``: the pooled within-group variance
    ``s_p² = Σ_j Σ_i (y_ij − ȳ_j)² / Σ_j (n_j − 1)``, ``se_j = s_p / sqrt(n_j)``;
  - ``sigma=σ``: a known observation standard deviation, ``se_j = σ / sqrt(n_j)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.data.columns import (
    GroupData,
    RoleColumns,
    check_positive,
    group_codes,
    real_values,
    refuse,
    role_columns,
)
from hierbayes.errors import DataError
from hierbayes.validate import check_choice

__all__ = ["VARIANCES", "NormalSummaries", "normal_summaries"]

VARIANCES = ("group", "pooled")


@dataclass(frozen=True)
class NormalSummaries(GroupData):
    """Normal data per group, beside the labels ``group``: a finite ``estimate`` of
    theta_j and its known ``std_error`` (finite, > 0), rows of a group combined."""

    estimate: np.ndarray
    std_error: np.ndarray

    @property
    def scale(self) -> float:
        """A scale of the data, sqrt(mean(std_error²) + var(estimate)) > 0 (grid limits)."""
        return math.sqrt(float(np.mean(self.std_error**2) + np.var(self.estimate)))

    @cached_property
    def _reduction(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        pairs = np.stack([self.estimate, self.std_error], axis=1)
        uniq, inverse, count = np.unique(pairs, axis=0, return_inverse=True, return_counts=True)
        return uniq[:, 0].copy(), uniq[:, 1].copy(), count.astype(float), inverse.reshape(-1)

    def unique_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Distinct (estimate, std_error) pairs, their multiplicities and the map back.

        Returns
        -------
        estimate, std_error, count : numpy.ndarray
            The distinct pairs (sorted) and how many groups have each.
        inverse : numpy.ndarray
            ``estimate[inverse]`` equals ``self.estimate``.
        """
        return self._reduction


# Beyond these magnitudes squares and precisions (1/se²) overflow float64 in the fit.
_MAX_MAGNITUDE = 1e100
_MIN_STD_ERROR = 1e-100


def _check_range(labels: pd.Index, y: np.ndarray, se: np.ndarray, est_name: str,
                 se_name: str) -> None:
    """Refuse estimates or standard errors whose squares would overflow or underflow."""
    limits = "(|estimate| ≤ 1e100, 1e-100 ≤ std_error ≤ 1e100)"
    hint = "Rescale the data (change units)."
    for name, role, values, bad in (
        (est_name, "estimate", y, np.abs(y) > _MAX_MAGNITUDE),
        (se_name, "std_error", se, (se > _MAX_MAGNITUDE) | (se < _MIN_STD_ERROR)),
    ):
        refuse(name, role, values, labels, bad,
               f"has values outside the range the fit computes in {limits}", hint=hint)


def _summaries(labels: pd.Index, y: np.ndarray, se: np.ndarray, est_name: str,
               se_name: str) -> NormalSummaries:
    _check_range(labels, y, se, est_name, se_name)
    return NormalSummaries(labels.rename("group"), y, se)


def normal_summaries(
    data: Any = None,
    *,
    group: Any = "group",
    estimate: Any = "estimate",
    std_error: Any = "std_error",
    value: Any = None,
    variance: str = "group",
    sigma: float | None = None,
) -> NormalSummaries:
    """Validate Normal–Normal input and reduce it to one (estimate, std_error) per group.

    Parameters
    ----------
    data : pandas.DataFrame, mapping of arrays, or None
        Table holding the columns named by the other arguments; with ``None``
        the role arguments are the arrays themselves.
    group : str or array-like
        Group column (default ``'group'``; if absent, every row is a group).
    estimate, std_error : str or array-like
        Summary input: the estimate of each group and its standard error.
        Rows of one group are combined by precision weighting.
    value : str or array-like, optional
        Raw observations instead of summaries; each group becomes its mean
        and the standard error of that mean (see ``variance`` and ``sigma``).
    variance : {'group', 'pooled'}
        Raw input only: each group's own sample variance, or the pooled
        within-group variance.
    sigma : float, optional
        Raw input only: a known standard deviation of one observation.

    Returns
    -------
    NormalSummaries

    Examples
    --------
    >>> s = normal_summaries(group=["a", "a", "b", "b", "b"], value=[1.0, 3.0, 2.0, 4.0, 6.0])
    >>> s.estimate.tolist(), s.std_error.round(6).tolist()
    ([2.0, 4.0], [1.0, 1.154701])
    """
    check_choice("variance", variance, VARIANCES)
    if value is None:
        if sigma is not None or variance != "group":
            raise DataError(
                "`sigma` and `variance` apply to raw observations; pass `value` with them."
            )
        cols = role_columns(data, {"estimate": estimate, "std_error": std_error},
                            group=group, hints={"estimate": ("value", _RAW_HINT)})
        return _from_summaries(cols)
    return _from_raw(role_columns(data, {"value": value}, group=group), variance, sigma)


_RAW_HINT = "For raw observations per group, pass value='value'."


def _from_summaries(cols: RoleColumns) -> NormalSummaries:
    labels = cols.labels
    est_name, se_name = cols.names["estimate"], cols.names["std_error"]
    y = real_values(est_name, "estimate", cols.values["estimate"], labels)
    se = real_values(se_name, "std_error", cols.values["std_error"], labels)
    check_positive(se_name, "std_error", se, labels)
    _check_range(labels, y, se, est_name, se_name)  # every row, before rows are combined
    grouped = group_codes(labels) if cols.group is not None else None
    if grouped is not None:
        codes, uniques = grouped
        prec = np.bincount(codes, weights=se**-2.0, minlength=len(uniques))
        # centre on each group's first estimate: exact when a group's rows are equal
        first = y[np.unique(codes, return_index=True)[1]]
        dev = np.bincount(codes, weights=(y - first[codes]) * se**-2.0, minlength=len(uniques))
        y, se = first + dev / prec, prec**-0.5
        labels = uniques
    return _summaries(labels, y, se, est_name, se_name)


def _from_raw(cols: RoleColumns, variance: str, sigma: float | None) -> NormalSummaries:
    labels, val_name = cols.labels, cols.names["value"]
    x = real_values(val_name, "value", cols.values["value"], labels)
    refuse(val_name, "value", x, labels, np.abs(x) > _MAX_MAGNITUDE,
           "has values outside the range the fit computes in (|value| ≤ 1e100)",
           hint="Rescale the data (change units).")
    codes, uniques = pd.factorize(labels, sort=False)
    k = len(uniques)
    n = np.bincount(codes, minlength=k).astype(float)
    shift = x[np.unique(codes, return_index=True)[1]]  # each group's first value
    d = x - shift[codes]
    mean_d = np.bincount(codes, weights=d, minlength=k) / n
    ss = np.bincount(codes, weights=(d - mean_d[codes]) ** 2, minlength=k)
    means = shift + mean_d
    group_index = pd.Index(uniques).rename("group")
    if sigma is not None:
        if isinstance(sigma, bool) or not isinstance(sigma, (int, float)):
            raise TypeError(f"`sigma` must be a positive number; got {type(sigma).__name__}.")
        if not (np.isfinite(sigma) and sigma > 0):
            raise DataError(f"`sigma` must be a positive finite number; got {sigma!r}.")
        return _summaries(group_index, means, float(sigma) / np.sqrt(n), val_name, val_name)
    if variance == "pooled":
        dof = float(np.sum(n - 1))
        if dof <= 0:
            raise DataError(
                "Every group has a single observation, so there is no within-group variance "
                "to pool; give a known `sigma`."
            )
        pooled = float(np.sum(ss)) / dof
        if pooled <= 0:
            raise DataError(
                f"Column {val_name!r} (value) has no within-group variation (every group's "
                "observations are equal), so the pooled variance is 0; give a known `sigma`."
            )
        return _summaries(group_index, means, np.sqrt(pooled / n), val_name, val_name)
    hint = "Use variance='pooled' or give a known `sigma`."
    refuse(val_name, "value", means, group_index, n < 2,
           "has no sample variance (a single observation)", what="mean", hint=hint)
    var = ss / (n - 1)
    refuse(val_name, "value", means, group_index, var <= 0,
           "has zero sample variance (observations all equal)", what="mean", hint=hint)
    return _summaries(group_index, means, np.sqrt(var / n), val_name, val_name)
