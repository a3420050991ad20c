"""Reduce user input to validated per-group counts: the only place that sees raw rows.

Everything downstream works on :class:`BinomialCounts` and on its sufficient
statistics, the distinct ``(successes, trials)`` pairs with their
multiplicities (:class:`PairCounts`). Every step here is one vectorised O(J)
pass (bincounts on an integer key when the counts are bounded, a hash
factorisation otherwise), so 10^8 rows reduce in seconds. Dask input is
reduced partition by partition by :mod:`hierbayes.families.betabinomial.dask`, with the same
functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.errors import DataError

__all__ = ["BinomialCounts", "PairCounts", "binomial_counts", "reduce_pairs"]

_MAX_LISTED = 5
# Counts above 2^53 are not exact in float64, where the likelihood is evaluated.
_MAX_EXACT = 2**53
# A dense key space (bincount) is used up to this size, or twice the number of rows.
_DENSE_MIN = 1 << 22


@dataclass(frozen=True)
class PairCounts:
    """Sufficient statistics of binomial data: distinct (successes, trials) pairs.

    Groups with equal pairs contribute equally to the likelihood and have
    identical posteriors, so the pairs and how many groups have each are all
    that the hyperparameter posterior and the per-group summaries need.

    Attributes
    ----------
    successes, trials : numpy.ndarray of int64
        The distinct pairs, sorted by successes, then trials.
    count : numpy.ndarray of int64
        Number of groups with each pair (all positive).

    Examples
    --------
    >>> p = PairCounts.merge([reduce_pairs([1, 0, 1], [3, 2, 3])[0],
    ...                       reduce_pairs([0], [2])[0]])
    >>> p.successes.tolist(), p.trials.tolist(), p.count.tolist()
    ([0, 1], [2, 3], [2, 2])
    """

    successes: np.ndarray
    trials: np.ndarray
    count: np.ndarray

    @property
    def failures(self) -> np.ndarray:
        """``trials - successes`` of each pair, in integers."""
        return self.trials - self.successes

    def __len__(self) -> int:
        return int(self.successes.size)

    @property
    def n_groups(self) -> int:
        """Number of groups the pairs summarise."""
        return int(self.count.sum())

    @property
    def total_successes(self) -> int:
        """Sum of successes over all groups (exact integer)."""
        return int(np.dot(self.count, self.successes))

    @property
    def total_failures(self) -> int:
        """Sum of failures over all groups (exact integer)."""
        return int(np.dot(self.count, self.failures))

    @classmethod
    def empty(cls) -> PairCounts:
        """No groups at all (the reduction of an empty partition)."""
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, z)

    @classmethod
    def merge(cls, parts: Iterable[PairCounts]) -> PairCounts:
        """Combine the statistics of disjoint sets of groups (a reduction step).

        The result does not depend on how the groups were split: the pairs are
        sorted and the counts are exact integer sums.
        """
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        y = np.concatenate([p.successes for p in parts])
        n = np.concatenate([p.trials for p in parts])
        c = np.concatenate([p.count for p in parts])
        pairs, inverse = reduce_pairs(y, n)
        # float64 sums of integers below 2**53 are exact
        total = np.bincount(inverse, weights=c, minlength=len(pairs))
        return cls(pairs.successes, pairs.trials, total.astype(np.int64))


def reduce_pairs(successes: Any, trials: Any) -> tuple[PairCounts, np.ndarray]:
    """Distinct (successes, trials) pairs, their counts, and the map back to groups.

    One O(J) pass: the pairs are encoded as one integer key
    ``successes * (max trials + 1) + trials`` (ordered like the pairs), then
    counted with ``np.bincount`` when the key space is small (counts bounded,
    the usual case) or factorised with a hash table otherwise; only the
    distinct keys are sorted.

    Parameters
    ----------
    successes, trials : array-like of non-negative int
        Per-group counts (already validated).

    Returns
    -------
    pairs : PairCounts
    inverse : numpy.ndarray of int32 or int64
        For each group, the index of its pair: ``pairs.successes[inverse]``
        equals ``successes``.

    Examples
    --------
    >>> pairs, inverse = reduce_pairs([2, 0, 2, 1], [5, 5, 5, 3])
    >>> pairs.successes.tolist(), pairs.trials.tolist(), pairs.count.tolist()
    ([0, 1, 2], [5, 3, 5], [1, 1, 2])
    >>> inverse.tolist()
    [2, 0, 2, 1]
    """
    y = np.asarray(successes, dtype=np.int64)
    n = np.asarray(trials, dtype=np.int64)
    if y.size == 0:
        return PairCounts.empty(), np.zeros(0, dtype=np.int32)
    ymax, nmax = int(y.max()), int(n.max())
    width = nmax + 1
    space = (ymax + 1) * width
    if space >= 2**62:  # counts too large for one int64 key: sort the rows
        uniq, inverse, count = np.unique(
            np.stack([y, n], axis=1), axis=0, return_inverse=True, return_counts=True
        )
        pairs = PairCounts(uniq[:, 0].copy(), uniq[:, 1].copy(), count.astype(np.int64))
        return pairs, inverse.reshape(-1)
    key = np.multiply(y, width)
    key += n
    if space <= max(_DENSE_MIN, 2 * y.size):
        counts = np.bincount(key, minlength=space)
        keys = np.flatnonzero(counts)
        index_type = np.int32 if keys.size < 2**31 else np.int64
        rank = np.zeros(space, dtype=index_type)
        rank[keys] = np.arange(keys.size, dtype=index_type)
        inverse = rank[key]
        count = counts[keys]
    else:
        codes, uniques = pd.factorize(key, sort=False)
        order = np.argsort(uniques)
        index_type = np.int32 if order.size < 2**31 else np.int64
        rank = np.empty(order.size, dtype=index_type)
        rank[order] = np.arange(order.size, dtype=index_type)
        inverse = rank[codes]
        keys = uniques[order]
        count = np.bincount(inverse, minlength=order.size)
    uy, un = np.divmod(keys, width)
    return PairCounts(uy, un, count.astype(np.int64)), inverse


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

    @cached_property
    def _reduction(self) -> tuple[PairCounts, np.ndarray]:
        return reduce_pairs(self.successes, self.trials)

    @property
    def pairs(self) -> PairCounts:
        """The sufficient statistics: distinct pairs and their multiplicities (cached)."""
        return self._reduction[0]

    def unique_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct ``(successes, trials)`` pairs and the map back to groups.

        Groups with equal pairs have identical posteriors, so every per-group
        computation runs once per pair. Computed once (O(J)) and cached.

        Returns
        -------
        y, n : numpy.ndarray
            The distinct pairs, sorted by y, then n.
        inverse : numpy.ndarray
            ``y[inverse]`` equals ``self.successes``.
        """
        pairs, inverse = self._reduction
        return pairs.successes, pairs.trials, inverse


def _show(value: Any) -> str:
    """A value as the user wrote it: ``nan``, ``2.5``, ``'x'`` (not ``np.float64(nan)``)."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _listing(labels: pd.Index, values: np.ndarray, bad: np.ndarray) -> str:
    idx = np.flatnonzero(bad)
    shown = ", ".join(f"{_show(labels[i])}: {_show(values[i])}" for i in idx[:_MAX_LISTED])
    more = f" and {idx.size - _MAX_LISTED} more" if idx.size > _MAX_LISTED else ""
    return f"{shown}{more}"


def _count_column(name: str, role: str, raw: Any, labels: pd.Index) -> np.ndarray:
    """Turn one column of counts into int64, or raise a DataError naming what is wrong.

    Integer columns take a fast path (one pass for the sign); other columns are
    coerced to numbers and checked for non-numbers, missing values and
    fractions. ``labels`` name the rows in messages (up to five are listed).
    """
    series = pd.Series(raw, copy=False)
    check_not_boolean(name, role, series, labels, "counts must be integers")
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":
        values = series.to_numpy()
        if values.size and values.max() > _MAX_EXACT:
            raise DataError(
                f"Column {name!r} ({role}) has counts too large to be exact (above 2^53) in "
                f"groups (group: value): {_listing(labels, values, values > _MAX_EXACT)}."
            )
    else:
        values = pd.to_numeric(series, errors="coerce")
        check_real(name, role, values, labels)
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
        if np.abs(values).max(initial=0.0) > _MAX_EXACT:
            big = np.abs(values) > _MAX_EXACT
            raise DataError(
                f"Column {name!r} ({role}) has counts too large to be exact (above 2^53) in "
                f"groups (group: value): {_listing(labels, values, big)}."
            )
    if values.dtype.kind != "u" and values.size and values.min() < 0:
        bad = values < 0
        raise DataError(
            f"Column {name!r} ({role}) must not be negative; negative values in groups "
            f"(group: value): {_listing(labels, values, bad)}."
        )
    return values.astype(np.int64, copy=False)


def check_not_boolean(name: str, role: str, series: pd.Series, labels: pd.Index,
                      need: str) -> None:
    """Raise a DataError if a column holds booleans (a bool dtype, or bools among objects).

    ``True`` would otherwise be read as the number 1 without a word.
    """
    if pd.api.types.is_bool_dtype(series.dtype):
        raise DataError(f"Column {name!r} ({role}) holds booleans; {need}.")
    if series.dtype == object:
        flags = np.fromiter((isinstance(v, bool | np.bool_) for v in series), bool, len(series))
        if flags.any():
            raise DataError(
                f"Column {name!r} ({role}) holds booleans; {need}. Booleans in groups "
                f"(group: value): {_listing(labels, series.to_numpy(), flags)}."
            )


def check_real(name: str, role: str, values: pd.Series, labels: pd.Index) -> None:
    """Raise a DataError for complex numbers (their imaginary part would be dropped)."""
    if values.dtype.kind == "c":
        arr = values.to_numpy()
        bad = arr.imag != 0
        shown = f" (group: value): {_listing(labels, arr, bad)}" if bad.any() else ""
        raise DataError(f"Column {name!r} ({role}) holds complex numbers{shown}; it must hold "
                        "real numbers.")


def _as_column(values: Any) -> np.ndarray:
    """Array input as a NumPy column, numeric without a copy, anything else as objects."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "iufb":
        arr = np.asarray(values, dtype=object)
    return arr.reshape(-1) if arr.ndim == 0 else arr


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
        y_raw, n_raw = _as_column(successes), _as_column(trials)
        if y_raw.shape != n_raw.shape or y_raw.ndim != 1:
            raise DataError(
                f"`successes` and `trials` must be 1-d and of the same length; got "
                f"{y_raw.size} and {n_raw.size}."
            )
        labels: pd.Index | None = None
        if group is not None and not isinstance(group, str):
            labels = pd.Index(np.asarray(group, dtype=object))
            if labels.shape != y_raw.shape:
                raise DataError(
                    f"`group` must have one label per row; got {labels.size} labels "
                    f"for {y_raw.size} rows."
                )
        return counts_from_columns(
            y_raw, n_raw, labels, group_name="group", successes="successes", trials="trials"
        )
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
    labels = None if group_col is None else pd.Index(data[group_col])
    return counts_from_columns(
        data[successes].to_numpy(),
        data[trials].to_numpy(),
        labels,
        group_name=group_col,
        successes=successes,
        trials=trials,
        row_labels=data.index,
    )


def counts_from_columns(
    y_raw: Any,
    n_raw: Any,
    labels: pd.Index | None,
    *,
    group_name: str | None,
    successes: str,
    trials: str,
    row_labels: pd.Index | None = None,
    allow_empty: bool = False,
) -> BinomialCounts:
    """Validate raw count columns and sum them per group label.

    ``labels`` are the group labels of the rows (None: every row is its own
    group, labelled by ``row_labels`` or its position). Messages name the
    columns ``successes`` and ``trials``. Used for whole tables and, by the
    Dask engine, for single partitions (``allow_empty=True``).
    """
    size = len(y_raw)
    if size == 0 and not allow_empty:
        raise DataError("The data are empty: at least one group with trials is needed.")
    if labels is None:
        labels = pd.RangeIndex(size) if row_labels is None else pd.Index(row_labels)
        group_name = None
    elif labels.hasnans:
        bad = np.asarray(labels.isna())
        raise DataError(
            f"Column {group_name!r} (`group`) has missing labels in rows "
            f"{', '.join(map(str, np.flatnonzero(bad)[:_MAX_LISTED]))}."
        )
    y = _count_column(successes, "successes", y_raw, labels)
    n = _count_column(trials, "trials", n_raw, labels)
    if group_name is not None and not labels.is_unique:
        codes, uniques = pd.factorize(labels, sort=False)
        # float64 sums of integers below 2**53 are exact
        y = np.bincount(codes, weights=y, minlength=len(uniques)).astype(np.int64)
        n = np.bincount(codes, weights=n, minlength=len(uniques)).astype(np.int64)
        labels = pd.Index(uniques, name=group_name)
    check_order(y, n, labels, successes, trials)
    return BinomialCounts(group=labels.rename("group"), successes=y, trials=n)


def check_order(
    y: np.ndarray, n: np.ndarray, labels: pd.Index, successes: str, trials: str
) -> None:
    """Raise a DataError listing the groups whose successes exceed their trials."""
    bad = y > n
    if bad.any():
        idx = np.flatnonzero(bad)
        shown = ", ".join(f"{labels[i]!r}: {y[i]} > {n[i]}" for i in idx[:_MAX_LISTED])
        if idx.size > _MAX_LISTED:
            shown += f" and {idx.size - _MAX_LISTED} more"
        raise DataError(
            f"Column {successes!r} (successes) exceeds {trials!r} (trials) in groups "
            f"(group: successes > trials): {shown}."
        )
