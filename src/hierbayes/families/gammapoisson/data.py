"""Reduce Poisson input (counts and exposures) to validated per-group data.

The Gamma–Poisson counterpart of :mod:`hierbayes.data.columns`: rows with the same
group are summed (counts and exposures), every check happens here once, and
everything downstream works on :class:`PoissonCounts` and its distinct
``(count, exposure)`` pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.data.columns import (
    _MAX_LISTED,
    _count_column,
    _listing,
    check_not_boolean,
    check_real,
)
from hierbayes.errors import DataError

__all__ = ["PoissonCounts", "poisson_counts"]


@dataclass(frozen=True)
class PoissonCounts:
    """Validated per-group Poisson data, one entry per group (rows summed).

    Attributes
    ----------
    group : pandas.Index
        Group labels, in order of first appearance.
    counts : numpy.ndarray of int64
        Summed event counts per group (non-negative).
    exposure : numpy.ndarray of float64
        Summed exposure per group (positive, finite).

    Examples
    --------
    >>> c = poisson_counts(counts=[1, 2, 0], exposure=[2.0, 1.0, 2.0])
    >>> y, t, inverse = c.unique_pairs()
    >>> y.tolist(), t.tolist(), inverse.tolist()
    ([0, 1, 2], [2.0, 2.0, 1.0], [1, 2, 0])
    """

    group: pd.Index
    counts: np.ndarray
    exposure: np.ndarray

    def __len__(self) -> int:
        return len(self.group)

    @cached_property
    def _pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t_uniq, t_code = np.unique(self.exposure, return_inverse=True)
        key = self.counts * np.int64(t_uniq.size) + t_code.reshape(-1)
        keys, inverse = np.unique(key, return_inverse=True)
        y, code = np.divmod(keys, t_uniq.size)
        return y, t_uniq[code], inverse.reshape(-1)

    def unique_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct ``(count, exposure)`` pairs and the map back to groups.

        Groups with equal pairs have identical posteriors, so every per-group
        computation runs once per pair. Computed once and cached.

        Returns
        -------
        y : numpy.ndarray of int64
            Counts of the distinct pairs, sorted by count, then exposure.
        t : numpy.ndarray of float64
            Exposures of the distinct pairs.
        inverse : numpy.ndarray
            ``y[inverse]`` equals ``self.counts``.
        """
        return self._pairs


def _exposure_column(name: str, raw: Any, labels: pd.Index) -> np.ndarray:
    """Turn a column of exposures into float64, or raise a DataError naming what is wrong."""
    series = pd.Series(raw, copy=False)
    check_not_boolean(name, "exposure", series, labels, "exposures must be numbers")
    numeric = pd.to_numeric(series, errors="coerce")
    check_real(name, "exposure", numeric, labels)
    values = np.asarray(numeric, dtype=float)
    not_number = np.isnan(values) & ~pd.isna(series).to_numpy()
    if not_number.any():
        shown = _listing(labels, series.to_numpy(), not_number)
        raise DataError(
            f"Column {name!r} (exposure) must hold numbers; rows with non-numeric values "
            f"(group: value): {shown}."
        )
    bad = ~np.isfinite(values)
    if bad.any():
        raise DataError(
            f"Column {name!r} (exposure) has missing or infinite values in groups "
            f"(group: value): {_listing(labels, values, bad)}."
        )
    bad = values <= 0
    if bad.any():
        raise DataError(
            f"Column {name!r} (exposure) must be positive; zero or negative values in groups "
            f"(group: value): {_listing(labels, values, bad)}."
        )
    bad = (values < _MIN_EXPOSURE) | (values > _MAX_EXPOSURE)
    if bad.any():
        raise DataError(
            f"Column {name!r} (exposure) has values outside the range the fit computes in "
            f"(1e-100 to 1e100) in groups (group: value): {_listing(labels, values, bad)}. "
            "Rescale the exposures (change units)."
        )
    return values


# Beyond these the negative-binomial terms overflow float64 (measured: 1e±300 fail).
_MIN_EXPOSURE = 1e-100
_MAX_EXPOSURE = 1e100


def poisson_counts(
    data: Any = None,
    *,
    group: Any = "group",
    counts: Any = "counts",
    exposure: Any = "exposure",
) -> PoissonCounts:
    """Validate Poisson input and sum it per group.

    Parameters
    ----------
    data : pandas.DataFrame, mapping of arrays, or None
        Table holding the columns named by the other arguments. With ``None``,
        ``counts`` (and optionally ``exposure`` and ``group``) are the arrays.
    group, counts, exposure : str, array-like or None
        Column names (default: the canonical names) or, with ``data=None``,
        the values. Without a group column every row is its own group. Without
        an exposure column (the default name absent, or ``None``) every row
        has exposure 1.

    Returns
    -------
    PoissonCounts

    Examples
    --------
    >>> c = poisson_counts(counts=[1, 2, 3], exposure=[0.5, 1.5, 2.0], group=["a", "a", "b"])
    >>> c.counts.tolist(), c.exposure.tolist()
    ([3, 3], [2.0, 2.0])
    """
    if data is None:
        if isinstance(counts, str):
            raise DataError("No data given: pass a DataFrame, or pass `counts` as an array.")
        frame = pd.DataFrame({"counts": np.asarray(counts, dtype=object).reshape(-1)})
        exp_col: str | None = None
        if exposure is not None and not isinstance(exposure, str):
            values = np.asarray(exposure, dtype=object).reshape(-1)
            if values.size != len(frame):
                raise DataError(
                    f"`counts` and `exposure` must have the same length; got {len(frame)} "
                    f"and {values.size}."
                )
            frame["exposure"] = values
            exp_col = "exposure"
        group_col: str | None = None
        if group is not None and not isinstance(group, str):
            labels = np.asarray(group, dtype=object).reshape(-1)
            if labels.size != len(frame):
                raise DataError(
                    f"`group` must have one label per row; got {labels.size} labels "
                    f"for {len(frame)} rows."
                )
            frame["group"] = labels
            group_col = "group"
        return _from_frame(frame, group_col, "counts", exp_col)
    if isinstance(data, dict):
        data = pd.DataFrame(data)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"`data` must be a pandas DataFrame, a dict of columns, or None; got "
            f"{type(data).__name__}."
        )
    columns = ", ".join(map(repr, data.columns))
    if not isinstance(counts, str):
        raise TypeError(f"With a DataFrame, `counts` must be a column name; got {counts!r}.")
    if counts not in data.columns:
        raise DataError(f"Column {counts!r} (`counts`) is not in the data; columns are {columns}.")
    if exposure is not None and not isinstance(exposure, str):
        raise TypeError(
            f"With a DataFrame, `exposure` must be a column name or None; got {exposure!r}."
        )
    exp_col = exposure
    if exposure is None or (exposure == "exposure" and "exposure" not in data.columns):
        exp_col = None  # default name absent: exposure 1 per row
    elif exposure not in data.columns:
        raise DataError(
            f"Column {exposure!r} (`exposure`) is not in the data; columns are {columns}."
        )
    group_col = group
    if group is None or (group == "group" and "group" not in data.columns):
        group_col = None
    elif group not in data.columns:
        raise DataError(f"Column {group!r} (`group`) is not in the data; columns are {columns}.")
    return _from_frame(data, group_col, counts, exp_col)


def _from_frame(
    frame: pd.DataFrame, group_col: str | None, count_col: str, exp_col: str | None
) -> PoissonCounts:
    if len(frame) == 0:
        raise DataError("The data are empty: at least one group is needed.")
    if group_col is None:
        labels = pd.Index(frame.index)
    else:
        labels = pd.Index(frame[group_col])
        if labels.hasnans:
            bad = np.asarray(labels.isna())
            raise DataError(
                f"Column {group_col!r} (`group`) has missing labels in rows "
                f"{', '.join(map(str, np.flatnonzero(bad)[:_MAX_LISTED]))}."
            )
    y = _count_column(count_col, "counts", frame[count_col].to_numpy(), labels)
    if exp_col is None:
        t = np.ones(len(frame))
    else:
        t = _exposure_column(exp_col, frame[exp_col].to_numpy(), labels)
    if group_col is not None and not labels.is_unique:
        codes, uniques = pd.factorize(labels, sort=False)
        total = np.zeros(len(uniques), dtype=np.int64)
        np.add.at(total, codes, y)  # exact integer sums
        y = total
        t = np.bincount(codes, weights=t, minlength=len(uniques))
        labels = pd.Index(uniques)
    return PoissonCounts(group=labels.rename("group"), counts=y, exposure=t)
