"""Argument and column checks for the meta-analysis sub-package, in one wording.

Data errors name the column, its role, up to five offending rows (by the
input's index labels) and their values: the checks and the wording are those of
:mod:`hierbayes.data.columns`, with rows in place of groups. Wrong types raise
:class:`TypeError`; wrong argument values raise :class:`hierbayes.validate.ArgumentError`
(the package's own checks: :func:`hierbayes.validate.check_choice`, ...).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.data.columns import MAX_LISTED, count_values, listing, listing_text, real_values
from hierbayes.data.columns import check_positive as positive
from hierbayes.errors import DataError
from hierbayes.validate import ArgumentError

__all__ = [
    "MAX_LISTED",
    "as_frame",
    "check_nonnegative",
    "check_positive",
    "count_column",
    "listing",
    "listing_text",
    "real_column",
]


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


def _present(frame: pd.DataFrame, name: Any, role: str) -> None:
    if name not in frame.columns:
        listed = ", ".join(repr(c) for c in frame.columns)
        raise DataError(f"Column {name!r} (`{role}`) is not in the data; columns are {listed}.")


def real_column(frame: pd.DataFrame, name: Any, role: str) -> np.ndarray:
    """One column as finite float64, or a DataError naming the column, rows and values."""
    _present(frame, name, role)
    return real_values(name, f"`{role}`", frame[name], frame.index, where="row")


def count_column(frame: pd.DataFrame, name: Any, role: str, *, minimum: int = 0) -> np.ndarray:
    """A column of whole numbers ``>= minimum`` (at most 2^53), as float64, or a DataError."""
    _present(frame, name, role)
    values = count_values(name, f"`{role}`", frame[name], frame.index, minimum=minimum,
                          where="row")
    return values.astype(float)


def check_positive(name: Any, role: str, frame: pd.DataFrame, values: np.ndarray) -> None:
    """Refuse values <= 0 in a checked column, quoting them as the data hold them."""
    positive(name, f"`{role}`", values, frame.index, where="row",
             shown=frame[name].to_numpy(object))
