"""Reduce Poisson input (counts and exposures) to validated per-group data.

Read with the shared column parser (:mod:`hierbayes.data.columns`): every row
is checked on its own, then the rows of a group are summed (counts exactly,
exposures in float64); the family's own rule is the exposure range. Everything
downstream works on :class:`PoissonCounts` and its distinct ``(count,
exposure)`` pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.data.columns import (
    GroupData,
    RoleColumns,
    check_positive,
    check_within,
    count_values,
    distinct_pairs,
    exact_sums,
    group_codes,
    real_values,
    role_columns,
)

__all__ = ["PoissonCounts", "poisson_counts"]


@dataclass(frozen=True)
class PoissonCounts(GroupData):
    """Poisson data per group, beside the labels ``group``: event ``counts`` (int64,
    non-negative) and ``exposure`` (float64, positive), each summed over the group's rows.

    Examples
    --------
    >>> c = poisson_counts(counts=[1, 2, 0], exposure=[2.0, 1.0, 2.0])
    >>> y, t, inverse = c.unique_pairs()
    >>> y.tolist(), t.tolist(), inverse.tolist()
    ([0, 1, 2], [2.0, 2.0, 1.0], [1, 2, 0])
    """

    counts: np.ndarray
    exposure: np.ndarray

    @cached_property
    def _pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t_uniq, t_code = np.unique(self.exposure, return_inverse=True)
        y, code, inverse, _ = distinct_pairs(self.counts, t_code.reshape(-1))
        return y, t_uniq[code], inverse

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


# Beyond these the negative-binomial terms overflow float64 (measured: 1e±300 fail).
_MIN_EXPOSURE = 1e-100
_MAX_EXPOSURE = 1e100


def _check_exposure(name: str, values: np.ndarray, labels: pd.Index) -> None:
    check_positive(name, "exposure", values, labels)
    check_within(name, "exposure", values, labels, _MIN_EXPOSURE, _MAX_EXPOSURE,
                 limits="1e-100 to 1e100", hint="Rescale the exposures (change units).")


def poisson_counts(
    data: Any = None,
    *,
    group: Any = "group",
    counts: Any = "counts",
    exposure: Any = "exposure",
) -> PoissonCounts:
    """Validate Poisson input row by row, then sum it per group.

    The columns are found by :func:`hierbayes.data.columns.role_columns`:
    ``data`` is a DataFrame or a dict of columns, and ``group``, ``counts``,
    ``exposure`` name columns (defaults: the canonical names); or ``data`` is
    None and they are arrays. No group column: each row is a group. No
    exposure column (``None``, or the default name absent): exposure 1.

    Returns
    -------
    PoissonCounts

    Examples
    --------
    >>> c = poisson_counts(counts=[1, 2, 3], exposure=[0.5, 1.5, 2.0], group=["a", "a", "b"])
    >>> c.counts.tolist(), c.exposure.tolist()
    ([3, 3], [2.0, 2.0])
    """
    cols = role_columns(data, {"counts": counts, "exposure": exposure}, group=group,
                        optional=("exposure",))
    return _from_columns(cols)


def _from_columns(cols: RoleColumns) -> PoissonCounts:
    labels = cols.labels
    count_name = cols.names["counts"]
    y = count_values(count_name, "counts", cols.values["counts"], labels)
    exp_name = cols.names.get("exposure")
    if exp_name is None:
        t = np.ones(len(cols))
    else:
        t = real_values(exp_name, "exposure", cols.values["exposure"], labels)
        _check_exposure(exp_name, t, labels)
    grouped = group_codes(labels) if cols.group is not None else None
    if grouped is not None:
        codes, labels = grouped
        y = exact_sums(count_name, "counts", y, codes, labels)
        t = np.bincount(codes, weights=t, minlength=len(labels))
        if exp_name is not None:
            _check_exposure(exp_name, t, labels)  # a sum may pass the upper limit
    return PoissonCounts(group=labels.rename("group"), counts=y, exposure=t)
