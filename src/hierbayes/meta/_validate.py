"""Argument and column checks for the meta-analysis sub-package, in one wording.

Data errors name the column, its role, up to five offending rows (by the
input's index labels) and their values. Wrong types raise :class:`TypeError`;
wrong argument values raise :class:`hierbayes.validate.ArgumentError`
(the package's own checks: :func:`hierbayes.validate.check_choice`, ...).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.errors import DataError
from hierbayes.validate import ArgumentError

__all__ = [
    "MAX_LISTED",
    "as_frame",
    "check_nonnegative",
    "count_column",
    "listing",
    "listing_text",
    "real_column",
]

MAX_LISTED = 5





def check_nonnegative(name: str, value: Any) -> float:
    """Return ``value`` as a finite float ``>= 0``.

    >>> check_nonnegative("correction", 0.5)
    0.5
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"`{name}` must be a number; got {type(value).__name__}.")
    value = float(value)
    if not (math.isfinite(value) and value >= 0.0):
        raise ArgumentError(f"`{name}` must be a finite number >= 0; got {value!r}.")
    return value



def as_frame(data: Any) -> pd.DataFrame:
    """Return ``data`` as a DataFrame (a DataFrame or a mapping of columns), or raise."""
    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, Mapping):
        frame = pd.DataFrame(dict(data))
    else:
        raise TypeError(
            "`data` must be a pandas DataFrame or a mapping of columns; "
            f"got {type(data).__name__}."
        )
    if len(frame) == 0:
        raise DataError("The data are empty: at least one row is needed.")
    return frame


def _show(value: Any) -> str:
    """A value as the user wrote it: ``nan``, ``2.5``, ``'x'`` (not ``np.float64(nan)``)."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def listing(labels: pd.Index, values: Sequence[Any] | np.ndarray, bad: np.ndarray) -> str:
    """``"label: value"`` for up to five rows where ``bad`` holds, and how many more."""
    idx = np.flatnonzero(bad)
    shown = ", ".join(f"{_show(labels[i])}: {_show(values[i])}" for i in idx[:MAX_LISTED])
    more = f" and {idx.size - MAX_LISTED} more" if idx.size > MAX_LISTED else ""
    return f"{shown}{more}"


def listing_text(
    labels: pd.Index, texts: Sequence[str] | Mapping[int, str], bad: np.ndarray
) -> str:
    """Like :func:`listing`, for values already written as text (shown without quotes).

    ``texts`` is indexed by row position; it needs entries only for the rows listed.
    """
    idx = np.flatnonzero(bad)
    shown = ", ".join(f"{_show(labels[i])}: {texts[i]}" for i in idx[:MAX_LISTED])
    more = f" and {idx.size - MAX_LISTED} more" if idx.size > MAX_LISTED else ""
    return f"{shown}{more}"


def real_column(frame: pd.DataFrame, name: Any, role: str) -> np.ndarray:
    """One column as finite float64, or a DataError naming the column, rows and values."""
    if name not in frame.columns:
        listed = ", ".join(repr(c) for c in frame.columns)
        raise DataError(f"Column {name!r} (`{role}`) is not in the data; columns are {listed}.")
    series = frame[name]
    labels = frame.index
    if pd.api.types.is_bool_dtype(series.dtype):
        raise DataError(f"Column {name!r} (`{role}`) must hold numbers; it holds booleans.")
    raw = series.to_numpy(dtype=object)
    is_bool = np.array([isinstance(v, (bool, np.bool_)) for v in raw], dtype=bool)
    if is_bool.any():
        raise DataError(
            f"Column {name!r} (`{role}`) must hold numbers; booleans in rows "
            f"(row: value): {listing(labels, raw, is_bool)}."
        )
    numbers = pd.to_numeric(series, errors="coerce")
    if numbers.dtype.kind == "c":
        raise DataError(f"Column {name!r} (`{role}`) must hold real numbers; it holds complex.")
    values = np.asarray(numbers, dtype=float)
    missing = pd.isna(series).to_numpy()
    not_number = np.isnan(values) & ~missing
    if not_number.any():
        raise DataError(
            f"Column {name!r} (`{role}`) must hold numbers; non-numeric values in rows "
            f"(row: value): {listing(labels, raw, not_number)}."
        )
    bad = ~np.isfinite(values)
    if bad.any():
        raise DataError(
            f"Column {name!r} (`{role}`) has missing or infinite values in rows "
            f"(row: value): {listing(labels, raw, bad)}."
        )
    return values


def count_column(frame: pd.DataFrame, name: Any, role: str, *, minimum: int = 0) -> np.ndarray:
    """A column of whole numbers ``>= minimum``, as float64, or a DataError."""
    values = real_column(frame, name, role)
    labels = frame.index
    raw = frame[name].to_numpy(dtype=object)
    bad = values != np.round(values)
    if bad.any():
        raise DataError(
            f"Column {name!r} (`{role}`) must hold whole numbers; non-integer values in rows "
            f"(row: value): {listing(labels, raw, bad)}."
        )
    bad = values < 0
    if bad.any():
        raise DataError(
            f"Column {name!r} (`{role}`) must not be negative; negative values in rows "
            f"(row: value): {listing(labels, raw, bad)}."
        )
    bad = values < minimum
    if bad.any():
        raise DataError(
            f"Column {name!r} (`{role}`) must be at least {minimum}; smaller values in rows "
            f"(row: value): {listing(labels, raw, bad)}."
        )
    if np.abs(values).max(initial=0.0) > 2.0**53:
        big = np.abs(values) > 2.0**53
        raise DataError(
            f"Column {name!r} (`{role}`) has counts too large to be exact (above 2^53) in rows "
            f"(row: value): {listing(labels, raw, big)}."
        )
    return values
