"""Reduce user input to validated per-group counts: the only place that sees raw rows.

Everything downstream works on :class:`BinomialCounts`; a new input type (pandas,
plain arrays, later Dask) needs only a new branch here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError

__all__ = ["BinomialCounts", "binomial_counts"]

_MAX_LISTED = 5


@dataclass(frozen=True)
class BinomialCounts:
    """Validated per-group binomial data, one entry per group (rows summed).

    Attributes
    ----------
    group : pandas.Index
        Group labels, in order of first appearance.
    successes, trials : numpy.ndarray of int64
        Summed counts per group, ``0 <= successes <= trials``.
    """

    group: pd.Index
    successes: np.ndarray
    trials: np.ndarray

    @property
    def failures(self) -> np.ndarray:
        """``trials - successes``, computed in integers."""
        return self.trials - self.successes

    def __len__(self) -> int:
        return len(self.group)

    def unique_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct ``(successes, trials)`` pairs and the map back to groups.

        Groups with equal pairs have identical posteriors, so every per-group
        computation runs once per pair.

        Returns
        -------
        y, n : numpy.ndarray
            The distinct pairs.
        inverse : numpy.ndarray
            ``y[inverse]`` equals ``self.successes``.
        """
        key = np.stack([self.successes, self.trials], axis=1)
        uniq, inverse = np.unique(key, axis=0, return_inverse=True)
        return uniq[:, 0].copy(), uniq[:, 1].copy(), inverse.reshape(-1)


def _listing(labels: pd.Index, values: np.ndarray, bad: np.ndarray) -> str:
    idx = np.flatnonzero(bad)
    shown = ", ".join(f"{labels[i]!r}: {values[i]!r}" for i in idx[:_MAX_LISTED])
    more = f" and {idx.size - _MAX_LISTED} more" if idx.size > _MAX_LISTED else ""
    return f"{shown}{more}"


def _count_column(name: str, role: str, raw: Any, labels: pd.Index) -> np.ndarray:
    """Turn one column of counts into int64, or raise a DataError naming what is wrong."""
    series = pd.Series(raw, copy=False)
    if series.dtype == bool or pd.api.types.is_bool_dtype(series.dtype):
        raise DataError(f"Column {name!r} ({role}) holds booleans; counts must be integers.")
    values = pd.to_numeric(series, errors="coerce")
    values = np.asarray(values, dtype=float) if values.dtype != np.int64 else values.to_numpy()
    if values.dtype.kind == "f":
        not_number = np.isnan(values) & ~pd.isna(series).to_numpy()
        if not_number.any():
            shown = _listing(labels, series.to_numpy(), not_number)
            raise DataError(
                f"Column {name!r} ({role}) must hold numbers; rows with non-numeric "
                f"values (group: value): {shown}."
            )
        bad = ~np.isfinite(values)
        if bad.any():
            raise DataError(
                f"Column {name!r} ({role}) has missing or infinite values in groups "
                f"(group: value): {_listing(labels, values, bad)}."
            )
        bad = values != np.round(values)
        if bad.any():
            raise DataError(
                f"Column {name!r} ({role}) must hold whole numbers; non-integer values "
                f"in groups (group: value): {_listing(labels, values, bad)}."
            )
        if np.abs(values).max(initial=0.0) > 2.0**53:
            raise DataError(f"Column {name!r} ({role}) has counts too large to be exact.")
    bad = values < 0
    if bad.any():
        raise DataError(
            f"Column {name!r} ({role}) must not be negative; negative values in groups "
            f"(group: value): {_listing(labels, values, bad)}."
        )
    return values.astype(np.int64)


def binomial_counts(
    data: Any = None,
    *,
    group: Any = "group",
    successes: Any = "successes",
    trials: Any = "trials",
) -> BinomialCounts:
    """Validate binomial input and sum it per group.

    Parameters
    ----------
    data : pandas.DataFrame, mapping of arrays, or None
        Table holding the columns named by the other arguments. With ``None``,
        ``successes``, ``trials`` (and optionally ``group``) are the arrays.
    group, successes, trials : str or array-like
        Column names (default: the canonical names) or, with ``data=None``,
        the values. Without a group column every row is its own group.

    Returns
    -------
    BinomialCounts

    Examples
    --------
    >>> c = binomial_counts(successes=[1, 2, 3], trials=[5, 5, 5], group=["a", "a", "b"])
    >>> c.successes.tolist(), c.trials.tolist()
    ([3, 3], [10, 5])
    """
    if data is None:
        if isinstance(successes, str) or isinstance(trials, str):
            raise DataError(
                "No data given: pass a DataFrame, or pass `successes` and `trials` as arrays."
            )
        frame = pd.DataFrame({"successes": np.asarray(successes, dtype=object)})
        try:
            frame["trials"] = np.asarray(trials, dtype=object)
        except ValueError as exc:
            raise DataError(
                f"`successes` and `trials` must have the same length; got "
                f"{len(frame)} and {np.size(trials)}."
            ) from exc
        group_given = not isinstance(group, str)
        if group_given:
            labels = np.asarray(group, dtype=object)
            if labels.shape != (len(frame),):
                raise DataError(
                    f"`group` must have one label per row; got {labels.size} labels "
                    f"for {len(frame)} rows."
                )
            frame["group"] = labels
        return _from_frame(frame, "group" if group_given else None, "successes", "trials")
    if isinstance(data, dict):
        data = pd.DataFrame(data)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"`data` must be a pandas DataFrame, a dict of columns, or None; got "
            f"{type(data).__name__}."
        )
    for role, col in (("successes", successes), ("trials", trials)):
        if not isinstance(col, str):
            raise TypeError(f"With a DataFrame, `{role}` must be a column name; got {col!r}.")
        if col not in data.columns:
            raise DataError(
                f"Column {col!r} (`{role}`) is not in the data; columns are "
                f"{', '.join(map(repr, data.columns))}."
            )
    group_col: str | None = group
    if group is None or (group == "group" and "group" not in data.columns):
        group_col = None  # default name absent: every row is its own group
    elif group not in data.columns:
        raise DataError(
            f"Column {group!r} (`group`) is not in the data; columns are "
            f"{', '.join(map(repr, data.columns))}."
        )
    return _from_frame(data, group_col, successes, trials)


def _from_frame(
    frame: pd.DataFrame, group_col: str | None, succ_col: str, trial_col: str
) -> BinomialCounts:
    if len(frame) == 0:
        raise DataError("The data are empty: at least one group with trials is needed.")
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
    y = _count_column(succ_col, "successes", frame[succ_col].to_numpy(), labels)
    n = _count_column(trial_col, "trials", frame[trial_col].to_numpy(), labels)
    if group_col is not None and not labels.is_unique:
        codes, uniques = pd.factorize(labels, sort=False)
        y = np.bincount(codes, weights=y, minlength=len(uniques)).astype(np.int64)
        n = np.bincount(codes, weights=n, minlength=len(uniques)).astype(np.int64)
        labels = pd.Index(uniques, name=group_col)
    else:
        labels = labels.rename(group_col or "group")
    bad = y > n
    if bad.any():
        idx = np.flatnonzero(bad)
        shown = ", ".join(f"{labels[i]!r}: {y[i]} > {n[i]}" for i in idx[:_MAX_LISTED])
        if idx.size > _MAX_LISTED:
            shown += f" and {idx.size - _MAX_LISTED} more"
        raise DataError(
            f"Column {succ_col!r} (successes) exceeds {trial_col!r} (trials) in groups "
            f"(group: successes > trials): {shown}."
        )
    return BinomialCounts(group=labels.rename("group"), successes=y, trials=n)
