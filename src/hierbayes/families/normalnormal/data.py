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

from hierbayes.data.columns import _MAX_LISTED, _listing, check_not_boolean, check_real
from hierbayes.errors import DataError
from hierbayes.validate import check_choice

__all__ = ["VARIANCES", "NormalSummaries", "normal_summaries"]

VARIANCES = ("group", "pooled")


@dataclass(frozen=True)
class NormalSummaries:
    """Validated per-group estimates and standard errors, one entry per group.

    Attributes
    ----------
    group : pandas.Index
        Group labels, in order of first appearance.
    estimate : numpy.ndarray
        Finite estimate of theta_j.
    std_error : numpy.ndarray
        Its known standard error, finite and > 0.
    """

    group: pd.Index
    estimate: np.ndarray
    std_error: np.ndarray

    def __len__(self) -> int:
        return len(self.group)

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


def _float_column(name: str, role: str, raw: Any, labels: pd.Index) -> np.ndarray:
    """One column as finite float64, or a DataError naming the groups and values."""
    series = pd.Series(raw, copy=False)
    check_not_boolean(name, role, series, labels, "it must hold numbers")
    numeric = pd.to_numeric(series, errors="coerce")
    check_real(name, role, numeric, labels)
    values = np.asarray(numeric, dtype=float)
    not_number = np.isnan(values) & ~pd.isna(series).to_numpy()
    if not_number.any():
        raise DataError(
            f"Column {name!r} ({role}) must hold numbers; rows with non-numeric values "
            f"(group: value): {_listing(labels, series.to_numpy(), not_number)}."
        )
    bad = ~np.isfinite(values)
    if bad.any():
        raise DataError(
            f"Column {name!r} ({role}) has missing or infinite values in groups "
            f"(group: value): {_listing(labels, values, bad)}."
        )
    return values


# Beyond these magnitudes squares and precisions (1/se²) overflow float64 in the fit.
_MAX_MAGNITUDE = 1e100
_MIN_STD_ERROR = 1e-100


def _check_range(summaries: NormalSummaries, est_name: str, se_name: str) -> NormalSummaries:
    """Refuse estimates or standard errors whose squares would overflow or underflow."""
    labels, y, se = summaries.group, summaries.estimate, summaries.std_error
    for name, role, values, bad in (
        (est_name, "estimate", y, np.abs(y) > _MAX_MAGNITUDE),
        (se_name, "std_error", se, (se > _MAX_MAGNITUDE) | (se < _MIN_STD_ERROR)),
    ):
        if bad.any():
            raise DataError(
                f"Column {name!r} ({role}) has values outside the range the fit computes in "
                f"(|estimate| ≤ 1e100, 1e-100 ≤ std_error ≤ 1e100) in groups (group: value): "
                f"{_listing(labels, values, bad)}. Rescale the data (change units)."
            )
    return summaries


def _labels(frame: pd.DataFrame, group_col: str | None) -> pd.Index:
    if group_col is None:
        return pd.Index(frame.index)
    labels = pd.Index(frame[group_col])
    if labels.hasnans:
        rows = np.flatnonzero(np.asarray(labels.isna()))[:_MAX_LISTED]
        raise DataError(
            f"Column {group_col!r} (`group`) has missing labels in rows "
            f"{', '.join(map(str, rows))}."
        )
    return labels


def _frame(data: Any, roles: dict[str, Any], group: Any) -> tuple[pd.DataFrame, str | None]:
    """The role columns (under their role names) and ``'group'`` if there is one."""
    if data is None:
        if any(isinstance(v, str) for v in roles.values()):
            names = " and ".join(f"`{r}`" for r in roles)
            raise DataError(f"No data given: pass a DataFrame, or pass {names} as arrays.")
        arrays = {r: np.asarray(v, dtype=object).reshape(-1) for r, v in roles.items()}
        if len({a.size for a in arrays.values()}) != 1:
            sizes = " and ".join(str(a.size) for a in arrays.values())
            raise DataError(
                f"{' and '.join(f'`{r}`' for r in roles)} must have the same length; got "
                f"{sizes}."
            )
        frame = pd.DataFrame(arrays)
        if group is None or isinstance(group, str):
            return frame, None
        labels = np.asarray(group, dtype=object).reshape(-1)
        if labels.shape != (len(frame),):
            raise DataError(
                f"`group` must have one label per row; got {labels.size} labels for "
                f"{len(frame)} rows."
            )
        frame["group"] = labels
        return frame, "group"
    if isinstance(data, dict):
        data = pd.DataFrame(data)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"`data` must be a pandas DataFrame, a dict of columns, or None; got "
            f"{type(data).__name__}."
        )
    columns = ", ".join(map(repr, data.columns))
    for role, col in roles.items():
        if not isinstance(col, str):
            raise TypeError(f"With a DataFrame, `{role}` must be a column name; got {col!r}.")
        if col not in data.columns:
            hint = ""
            if role == "estimate" and "value" in data.columns:
                hint = " For raw observations per group, pass value='value'."
            raise DataError(
                f"Column {col!r} (`{role}`) is not in the data; columns are {columns}.{hint}"
            )
    frame = pd.DataFrame({r: data[c].to_numpy() for r, c in roles.items()}, index=data.index)
    if group is None or (group == "group" and "group" not in data.columns):
        return frame, None  # default name absent: every row is its own group
    if not isinstance(group, str):
        raise TypeError(f"With a DataFrame, `group` must be a column name; got {group!r}.")
    if group not in data.columns:
        raise DataError(f"Column {group!r} (`group`) is not in the data; columns are {columns}.")
    frame["group"] = data[group].to_numpy()
    return frame, "group"


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
        frame, gcol = _frame(data, {"estimate": estimate, "std_error": std_error}, group)
        return _from_summaries(frame, gcol, _name(estimate, "estimate"),
                               _name(std_error, "std_error"))
    frame, gcol = _frame(data, {"value": value}, group)
    return _from_raw(frame, gcol, _name(value, "value"), variance, sigma)


def _name(arg: Any, role: str) -> str:
    return arg if isinstance(arg, str) else role


def _from_summaries(frame: pd.DataFrame, gcol: str | None, est_name: str,
                    se_name: str) -> NormalSummaries:
    if len(frame) == 0:
        raise DataError("The data are empty: at least one group is needed.")
    labels = _labels(frame, gcol)
    y = _float_column(est_name, "estimate", frame["estimate"].to_numpy(), labels)
    se = _float_column(se_name, "std_error", frame["std_error"].to_numpy(), labels)
    bad = se <= 0
    if bad.any():
        raise DataError(
            f"Column {se_name!r} (std_error) must be > 0; zero or negative values in groups "
            f"(group: value): {_listing(labels, se, bad)}."
        )
    if gcol is not None and not labels.is_unique:
        codes, uniques = pd.factorize(labels, sort=False)
        prec = np.bincount(codes, weights=se**-2.0, minlength=len(uniques))
        # centre on each group's first estimate: exact when a group's rows are equal
        first = y[np.unique(codes, return_index=True)[1]]
        dev = np.bincount(codes, weights=(y - first[codes]) * se**-2.0, minlength=len(uniques))
        y, se = first + dev / prec, prec**-0.5
        labels = pd.Index(uniques)
    return _check_range(NormalSummaries(labels.rename("group"), y, se), est_name, se_name)


def _from_raw(frame: pd.DataFrame, gcol: str | None, val_name: str, variance: str,
              sigma: float | None) -> NormalSummaries:
    if len(frame) == 0:
        raise DataError("The data are empty: at least one group is needed.")
    labels = _labels(frame, gcol)
    x = _float_column(val_name, "value", frame["value"].to_numpy(), labels)
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
        summaries = NormalSummaries(group_index, means, float(sigma) / np.sqrt(n))
        return _check_range(summaries, val_name, val_name)
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
        summaries = NormalSummaries(group_index, means, np.sqrt(pooled / n))
        return _check_range(summaries, val_name, val_name)
    single = n < 2
    if single.any():
        raise DataError(
            f"Column {val_name!r} (value): groups with a single observation have no sample "
            f"variance (group: value): {_listing(group_index, means, single)}. Use "
            "variance='pooled' or give a known `sigma`."
        )
    var = ss / (n - 1)
    zero = var <= 0
    if zero.any():
        raise DataError(
            f"Column {val_name!r} (value): groups whose observations are all equal have zero "
            f"sample variance (group: value): {_listing(group_index, means, zero)}. Use "
            "variance='pooled' or give a known `sigma`."
        )
    return _check_range(NormalSummaries(group_index, means, np.sqrt(var / n)), val_name, val_name)
