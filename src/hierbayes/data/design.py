"""Group-level designs: covariates as a matrix with named columns (issue 13).

One row per group. A formula (``'~ ablat + year'``; categorical terms as
``C(x)``, interactions ``x1 * x2``) is built by formulaic; a list of numeric
columns gets an intercept. Every problem is a :class:`~hierbayes.errors.DataError`
naming the column: missing or non-finite values, a constant covariate beside the
intercept, collinear columns, a categorical level seen in one group only (its
coefficient is then that group's own effect: a warning says so).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.errors import DataError, HierBayesWarning

__all__ = ["Design", "design_matrix", "group_design"]


@dataclass(frozen=True)
class Design:
    """The group-level design: one row per group, named columns.

    Attributes
    ----------
    X : numpy.ndarray
        (groups, p) float matrix.
    names : tuple of str
        Column names as the design names them (``'intercept'``, ``'ablat'``, ``'x1:x2'``).
    formula : str
        What the user asked for, for messages and metadata.
    """

    X: np.ndarray
    names: tuple[str, ...]
    formula: str = ""
    spec: Any = field(default=None, compare=False, repr=False)  # formulaic's ModelSpec
    columns: tuple[str, ...] = ()  # the covariate columns of a column-list design

    @property
    def p(self) -> int:
        """Number of coefficients."""
        return int(self.X.shape[1])

    def row(self, covariates: Mapping[str, Any]) -> np.ndarray:
        """The design row of a new group from its covariate values (a dict by column).

        Examples
        --------
        >>> df = pd.DataFrame({"x": [1.0, 2.0, 4.0, 3.0], "c": ["a", "b", "a", "b"]})
        >>> design_matrix(df, "~ x + C(c)", 4).row({"x": 3.0, "c": "b"}).tolist()
        [1.0, 3.0, 1.0]
        """
        if not isinstance(covariates, Mapping):
            raise TypeError("`covariates` of a new group must be a dict: column -> value.")
        if self.spec is None:
            missing = [c for c in self.columns if c not in covariates]
            if missing:
                raise DataError(f"The new group's covariates lack {missing}; the design uses "
                                f"{list(self.columns)}.")
            values = [float(covariates[c]) for c in self.columns]
            if not np.all(np.isfinite(values)):
                raise DataError(f"The new group's covariates must be finite; got {values}.")
            return np.array([1.0, *values])
        frame = pd.DataFrame({k: [v] for k, v in covariates.items()}, index=[0])
        try:
            mm = self.spec.get_model_matrix(frame, na_action="raise")
        except Exception as exc:
            raise DataError(f"Cannot build the new group's design row from {covariates!r} "
                            f"for {self.formula!r}: {exc}") from None
        return np.asarray(mm, dtype=float)[0]


def design_matrix(frame: pd.DataFrame, covariates: Any, n_groups: int) -> Design:
    """The design matrix from a formula (via formulaic) or a list of numeric columns.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per group, holding the covariate columns.
    covariates : str or list of str
        ``'~ ablat + year'`` (a formula; ``'ablat'`` alone is read as ``'~ ablat'``)
        or ``['ablat', 'year']`` (numeric columns; an intercept is added).
    n_groups : int
        The number of groups the design must have rows for.

    Returns
    -------
    Design

    Examples
    --------
    >>> df = pd.DataFrame({"ablat": [44.0, 55.0, 42.0]})
    >>> d = design_matrix(df, ["ablat"], 3)
    >>> d.names, d.X[:, 1].tolist()
    (('intercept', 'ablat'), [44.0, 55.0, 42.0])
    >>> design_matrix(df.assign(z=1.0), "~ ablat + z", 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hierbayes.errors.DataError: Covariate 'z' is constant (1 in every group): ...
    """
    if isinstance(covariates, str) and ("~" in covariates or not _is_column(frame, covariates)):
        formula = covariates if "~" in covariates else "~ " + covariates
        X, names, spec = _from_formula(frame, formula)
        cols: tuple[str, ...] = ()
    else:
        cols = [covariates] if isinstance(covariates, str) else list(covariates)
        formula = " + ".join(map(str, cols)) or "1"  # [] : the intercept alone
        X, names = _from_columns(frame, cols)
        spec, cols = None, tuple(map(str, cols))
    if X.shape[0] != n_groups:
        raise DataError(f"The design has {X.shape[0]} rows for {n_groups} groups.")
    _check_columns(X, names)
    return Design(X, names, formula, spec, cols)


def _is_column(frame: pd.DataFrame, name: str) -> bool:
    return name in frame.columns


def _from_formula(frame: pd.DataFrame, formula: str) -> tuple[np.ndarray, tuple[str, ...], Any]:
    try:
        from formulaic import model_matrix
    except ImportError as exc:  # a dependency: should not happen
        raise DataError("formulas need the 'formulaic' package") from exc
    if "~" in formula and formula.split("~")[0].strip():
        raise DataError(f"The formula {formula!r} has a left-hand side; the response comes "
                        "from the data columns. Write it as '~ x1 + x2'.")
    missing = _missing_values(frame)
    try:
        mm = model_matrix(formula, frame, na_action="raise")
    except Exception as exc:
        for col, (i, value) in missing.items():
            if col in formula:
                raise DataError(f"Covariate column {col!r} has a missing value in row {i} "
                                f"({value!r}).") from None
        raise DataError(f"Cannot build the design from the formula {formula!r}: {exc}") \
            from None
    names = tuple("intercept" if c == "Intercept" else str(c) for c in mm.columns)
    X = np.asarray(mm, dtype=float)
    return X, names, mm.model_spec


def _missing_values(frame: pd.DataFrame) -> dict[str, tuple[int, Any]]:
    out = {}
    for col in frame.columns:
        isna = frame[col].isna().to_numpy()
        if isna.any():
            i = int(np.flatnonzero(isna)[0])
            out[str(col)] = (i, frame[col].iloc[i])
    return out


def _from_columns(frame: pd.DataFrame, cols: list[Any]) -> tuple[np.ndarray, tuple[str, ...]]:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise DataError(f"Covariate column(s) {missing} not in the data; columns are "
                        f"{list(frame.columns)}.")
    values = []
    for c in cols:
        col = frame[c]
        if col.dtype == bool:
            x = col.to_numpy(dtype=float)
        else:
            x = pd.to_numeric(col, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(x)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"Covariate column {c!r} must hold finite numbers; row {i} "
                            f"has {col.iloc[i]!r}. Use a formula with C({c}) for categories.")
        values.append(x)
    X = np.column_stack([np.ones(len(frame)), *values])
    return X, ("intercept", *map(str, cols))


def _check_columns(X: np.ndarray, names: tuple[str, ...]) -> None:
    has_intercept = "intercept" in names
    for k, name in enumerate(names):
        if name == "intercept":
            continue
        col = X[:, k]
        if has_intercept and col.size and np.all(col == col[0]):
            raise DataError(f"Covariate {name!r} is constant ({col[0]:g} in every group): "
                            "beside the intercept its coefficient is not identified. Drop it.")
        nonzero = np.flatnonzero(col != 0)
        if has_intercept and nonzero.size == 1 and set(np.unique(col)) <= {0.0, 1.0}:
            warnings.warn(
                f"The indicator {name!r} is 1 in one group only (row {nonzero[0]}): its "
                "coefficient is that group's own effect, learned from it alone, and the "
                "group is not pooled toward the others.",
                HierBayesWarning,
                stacklevel=4,
            )
    rank = np.linalg.matrix_rank(X)
    if rank < X.shape[1]:
        raise DataError(
            f"The covariates are collinear (design rank {rank} < {X.shape[1]} columns "
            f"{list(names)}): some coefficient is not identified. Drop a column."
        )


def group_design(data: Any, labels: pd.Index, group: Any, covariates: Any) -> Design:
    """The design of a fit with covariates: the data must have one row per group.

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["a", "b", "c"], "x": [1.0, 2.0, 4.0]})
    >>> group_design(df, pd.Index(["a", "b", "c"]), "g", ["x"]).names
    ('intercept', 'x')
    """
    if data is None:
        raise DataError("Covariates need the data as a DataFrame (or a dict of columns) "
                        "holding the covariate columns.")
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    if len(frame) != len(labels):
        raise DataError(
            f"With covariates each row is one group: {len(frame)} rows make "
            f"{len(labels)} groups (repeated labels in {group!r}). Combine the rows "
            "of a group first, or drop the group column."
        )
    return design_matrix(frame.reset_index(drop=True), covariates, len(labels))
