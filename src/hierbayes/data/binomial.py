"""Binomial input: validated per-group counts and their distinct (successes, trials) pairs.

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

from hierbayes.data.columns import (
    MAX_LISTED,
    GroupData,
    RoleColumns,
    count_values,
    exact_sums,
    group_codes,
    refuse,
    role_columns,
)

__all__ = [
    "BinomialCounts",
    "PairCounts",
    "binomial_counts",
    "binomial_rows",
    "counts_from_columns",
    "reduce_pairs",
]
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
        """Sum of successes over all groups (exact integer, also past 2^63)."""
        return _exact_dot(self.count, self.successes)

    @property
    def total_failures(self) -> int:
        """Sum of failures over all groups (exact integer, also past 2^63)."""
        return _exact_dot(self.count, self.failures)

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


def _exact_dot(count: np.ndarray, values: np.ndarray) -> int:
    """``count @ values`` of non-negative integers: in int64 while it cannot overflow,
    else in Python integers."""
    if float(np.dot(count, values.astype(float))) < 2.0**62:
        return int(np.dot(count, values))
    return int(np.dot(count.astype(object), values.astype(object)))


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
class BinomialCounts(GroupData):
    """Binomial data per group: ``successes`` and ``trials`` (int64, summed over the
    group's rows, ``0 <= successes <= trials``) beside the labels ``group``."""

    successes: np.ndarray
    trials: np.ndarray

    @property
    def failures(self) -> np.ndarray:
        """``trials - successes``, computed in integers."""
        return self.trials - self.successes

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


def binomial_counts(
    data: Any = None,
    *,
    group: Any = "group",
    successes: Any = "successes",
    trials: Any = "trials",
) -> BinomialCounts:
    """Validate binomial input row by row, then sum it per group.

    ``data`` and ``group`` are read as :func:`hierbayes.data.columns.role_columns`
    describes (a DataFrame, a dict of columns, or arrays when ``data`` is None;
    without a group column every row is a group); ``successes`` and ``trials``
    name their columns, or are the arrays.

    Returns
    -------
    BinomialCounts

    Examples
    --------
    >>> c = binomial_counts(successes=[1, 2, 3], trials=[5, 5, 5], group=["a", "a", "b"])
    >>> c.successes.tolist(), c.trials.tolist()
    ([3, 3], [10, 5])
    """
    cols = role_columns(data, {"successes": successes, "trials": trials}, group=group)
    return counts_from_columns(cols)


def counts_from_columns(cols: RoleColumns) -> BinomialCounts:
    """Check every row on its own (:func:`binomial_rows`), then sum the rows of each group.

    Sums are exact integers; a group whose sum passes 2^53 is refused.
    """
    names = (cols.names["successes"], cols.names["trials"])
    y, n = binomial_rows(cols.values["successes"], cols.values["trials"], cols.labels, names)
    labels = cols.labels
    grouped = group_codes(labels) if cols.group is not None else None
    if grouped is not None:
        codes, labels = grouped
        y = exact_sums(names[0], "successes", y, codes, labels)
        n = exact_sums(names[1], "trials", n, codes, labels)
    return BinomialCounts(group=labels.rename("group"), successes=y, trials=n)


def binomial_rows(
    y_raw: Any, n_raw: Any, labels: pd.Index, names: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    """One table's rows as int64 successes and trials, each row valid on its own.

    ``labels`` name the rows in messages (their groups); ``names`` are the
    columns' names. Used for whole tables and, by the Dask engine, for
    single partitions (before and after their rows are summed per group).
    """
    y = count_values(names[0], "successes", y_raw, labels)
    n = count_values(names[1], "trials", n_raw, labels)
    check_order(y, n, labels, *names)
    return y, n


def check_order(
    y: np.ndarray, n: np.ndarray, labels: pd.Index, successes: str, trials: str
) -> None:
    """Raise a DataError listing the rows whose successes exceed their trials."""
    bad = y > n
    if bad.any():
        texts = {i: f"{y[i]} > {n[i]}" for i in np.flatnonzero(bad)[:MAX_LISTED]}
        refuse(successes, "successes", texts, labels, bad, f"exceeds {trials!r} (trials)",
               what="successes > trials", as_text=True)
