"""The one column parser: column roles, group labels and value checks, in one wording.

Every family's data module (and :mod:`hierbayes.meta`) reads its input through
these functions, so every family refuses the same things in the same words::

    Column 'y' (successes) must hold whole numbers; non-integer values in groups
    (group: value): 'a': 2.5, 'c': 0.5.

naming the column, its role, up to five offending groups (or rows) and their
values. The pieces, in the order a family uses them:

1. :func:`role_columns` finds the column of each role (a DataFrame, a dict of
   columns, or arrays), refuses a column used for two roles and pandas Series
   whose indexes differ (rows are paired by position only when they cannot be
   paired any other way), and reads the group labels (:func:`group_labels`).
2. :func:`count_values` and :func:`real_values` check one column row by row;
   :func:`refuse` (with :func:`check_positive`, :func:`check_within`) applies
   a family's own rule, such as the exposure range of Gamma–Poisson.
3. :func:`group_codes` and :func:`exact_sums` sum the rows of each group
   (only after every row is valid on its own); integer sums stay exact.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.errors import DataError

__all__ = [
    "MAX_EXACT",
    "MAX_LISTED",
    "GroupData",
    "RoleColumns",
    "check_distinct",
    "check_positive",
    "check_within",
    "count_values",
    "distinct_pairs",
    "exact_sums",
    "group_codes",
    "group_labels",
    "listing",
    "listing_text",
    "real_values",
    "refuse",
    "role_columns",
    "show",
]

MAX_LISTED = 5
# Counts above 2^53 are not exact in float64, where the likelihoods are evaluated.
MAX_EXACT = 2**53


# --- the one wording ----------------------------------------------------------------------


def show(value: Any) -> str:
    """A value as the user wrote it: ``nan``, ``2.5``, ``'x'`` (not ``np.float64(nan)``)."""
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


def _joined(items: list[str], total: int) -> str:
    more = f" and {total - MAX_LISTED} more" if total > MAX_LISTED else ""
    return ", ".join(items) + more


def listing(labels: pd.Index, values: Sequence[Any] | np.ndarray, bad: np.ndarray) -> str:
    """``"label: value"`` for up to five rows where ``bad`` holds, and how many more.

    >>> listing(pd.Index(["a", "b", "c"]), [1, 2.5, 3], np.array([False, True, True]))
    "'b': 2.5, 'c': 3"
    """
    idx = np.flatnonzero(bad)
    return _joined([f"{show(labels[i])}: {show(values[i])}" for i in idx[:MAX_LISTED]], idx.size)


def listing_text(
    labels: pd.Index, texts: Sequence[str] | Mapping[int, str], bad: np.ndarray
) -> str:
    """Like :func:`listing`, for values already written as text (shown without quotes).

    ``texts`` is indexed by row position; it needs entries only for the rows listed.
    """
    idx = np.flatnonzero(bad)
    return _joined([f"{show(labels[i])}: {texts[i]}" for i in idx[:MAX_LISTED]], idx.size)


def refuse(
    name: str,
    role: str,
    values: Sequence[Any] | Mapping[int, str] | np.ndarray,
    labels: pd.Index,
    bad: np.ndarray,
    problem: str,
    *,
    where: str = "group",
    what: str = "value",
    hint: str = "",
    as_text: bool = False,
) -> None:
    """Raise the DataError ``Column 'name' (role) <problem> in groups (group: value): ...``.

    Nothing happens when no entry of ``bad`` holds. ``where`` is ``'group'``
    (family data) or ``'row'`` (a table whose rows are listed by index);
    ``what`` names the values shown; ``hint`` follows as one more sentence.
    With ``as_text``, ``values`` are texts (by row position) shown without quotes.
    """
    if not np.any(bad):
        return
    after = f" {hint}" if hint else ""
    shown = listing_text(labels, values, bad) if as_text else listing(labels, values, bad)
    raise DataError(
        f"Column {name!r} ({role}) {problem} in {where}s ({where}: {what}): {shown}.{after}"
    )


def check_positive(name: str, role: str, values: np.ndarray, labels: pd.Index, *,
                   where: str = "group", shown: Any = None) -> None:
    """Refuse zero or negative values (``shown``: the values to quote, default ``values``)."""
    refuse(name, role, values if shown is None else shown, labels, values <= 0,
           "must be positive; zero or negative values", where=where)


def check_within(name: str, role: str, values: np.ndarray, labels: pd.Index, low: float,
                 high: float, *, limits: str, hint: str, where: str = "group") -> None:
    """Refuse values outside ``[low, high]``, the range a family computes in (``limits``)."""
    refuse(name, role, values, labels, (values < low) | (values > high),
           f"has values outside the range the fit computes in ({limits})", where=where,
           hint=hint)


# --- one column, row by row ------------------------------------------------------------------


def _as_series(raw: Any) -> pd.Series:
    return raw if isinstance(raw, pd.Series) else pd.Series(raw, copy=False)


def _is_time(value: Any) -> bool:
    return isinstance(value, (_dt.date, _dt.timedelta, np.datetime64, np.timedelta64))


def _screen(name: str, role: str, series: pd.Series, labels: pd.Index, where: str) -> None:
    """Refuse what a number parser would misread: booleans (as 1/0), dates and durations
    (as nanoseconds)."""
    dtype = series.dtype
    everything = np.ones(len(series), dtype=bool)
    values = series.to_numpy()
    if pd.api.types.is_bool_dtype(dtype):
        refuse(name, role, values, labels, everything, "must hold numbers; booleans", where=where)
    time_dtype = (pd.api.types.is_datetime64_any_dtype(dtype)
                  or pd.api.types.is_timedelta64_dtype(dtype)
                  or isinstance(dtype, pd.PeriodDtype))
    is_time = everything if time_dtype else None
    if pd.api.types.is_object_dtype(dtype):
        refuse(name, role, values, labels,
               np.fromiter((isinstance(v, bool | np.bool_) for v in values), bool, len(values)),
               "must hold numbers; booleans", where=where)
        is_time = np.fromiter((_is_time(v) for v in values), bool, len(values))
    if is_time is not None:
        refuse(name, role, series.to_numpy(dtype=object), labels, is_time,
               "holds dates or durations, which would be read as nanoseconds,", where=where,
               hint="Convert them to numbers in the unit you mean, e.g. days: "
                    "column / pd.Timedelta(days=1).")


def _numeric(name: str, role: str, series: pd.Series, labels: pd.Index,
             where: str) -> pd.Series:
    """The column as numbers (NaN where not a number), refusing complex numbers."""
    _screen(name, role, series, labels, where)
    numeric = pd.to_numeric(series, errors="coerce")
    if numeric.dtype.kind == "c":
        arr = numeric.to_numpy()
        refuse(name, role, arr, labels, arr.imag != 0,
               "must hold real numbers; complex values", where=where)
        raise DataError(f"Column {name!r} ({role}) must hold real numbers; it holds complex "
                        "numbers.")
    return numeric


def _finite(name: str, role: str, values: np.ndarray, series: pd.Series, labels: pd.Index,
            where: str) -> None:
    """Refuse non-numbers (quoting what was written), then missing and infinite values."""
    not_number = np.isnan(values) & ~pd.isna(series).to_numpy()
    refuse(name, role, series.to_numpy(), labels, not_number,
           "must hold numbers; non-numeric values", where=where)
    refuse(name, role, values, labels, ~np.isfinite(values), "has missing or infinite values",
           where=where)


def real_values(name: str, role: str, raw: Any, labels: pd.Index, *,
                where: str = "group") -> np.ndarray:
    """One column as finite float64, or a DataError naming the column, groups and values.

    >>> real_values("se", "std_error", ["1.5", 2], pd.Index(["a", "b"])).tolist()
    [1.5, 2.0]
    """
    series = _as_series(raw)
    values = np.asarray(_numeric(name, role, series, labels, where), dtype=float)
    _finite(name, role, values, series, labels, where)
    return values


def count_values(name: str, role: str, raw: Any, labels: pd.Index, *, minimum: int = 0,
                 where: str = "group") -> np.ndarray:
    """One column of whole numbers in ``[minimum, 2^53]`` as int64, or a DataError.

    Integer columns take a fast path (no float conversion, which would round
    counts above 2^53 into range); other columns are read as numbers and
    checked for non-numbers, missing values and fractions.

    >>> count_values("y", "successes", [1, 2.0, "3"], pd.RangeIndex(3)).tolist()
    [1, 2, 3]
    """
    series = _as_series(raw)
    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iu":
        values = series.to_numpy()
    else:
        numeric = _numeric(name, role, series, labels, where)
        if numeric.dtype == np.int64:
            values = numeric.to_numpy()
        else:
            values = np.asarray(numeric, dtype=float)
            _finite(name, role, values, series, labels, where)
            refuse(name, role, values, labels, values != np.round(values),
                   "must hold whole numbers; non-integer values", where=where)
    refuse(name, role, values, labels, values > MAX_EXACT,
           "has counts too large to be exact (above 2^53)", where=where)
    if values.dtype.kind != "u":
        refuse(name, role, values, labels, values < 0, "must not be negative; negative values",
               where=where)
    refuse(name, role, values, labels, values < minimum,
           f"must be at least {minimum}; smaller values", where=where)
    return values.astype(np.int64, copy=False)


# --- group labels and sums -------------------------------------------------------------------


def group_labels(raw: Any, name: str) -> pd.Index:
    """The group label of each row, or a DataError for labels that cannot name a group.

    Missing labels are refused (listed by row position); so are labels that
    differ only in type and would print the same (``1`` and ``'1'``: two
    groups with one name in every table).
    """
    labels = raw if isinstance(raw, pd.Index) else pd.Index(raw)
    if labels.hasnans:
        rows = np.flatnonzero(np.asarray(labels.isna()))
        raise DataError(
            f"Column {name!r} (group) has missing labels in rows "
            f"{_joined([str(r) for r in rows[:MAX_LISTED]], rows.size)}."
        )
    mixed = pd.api.types.is_object_dtype(labels.dtype)
    if mixed and pd.api.types.infer_dtype(labels, skipna=False) != "string":
        distinct = labels.unique()
        printed = pd.Index([str(v) for v in distinct])
        if not printed.is_unique:
            clash = printed.duplicated(keep=False)
            shown = ", ".join(f"{show(v)} ({type(v).__name__})" for v in distinct[clash][:4])
            raise DataError(
                f"Column {name!r} (group) has labels that differ only in type, so two "
                f"groups would print with one name: {shown}. Make the labels one type, e.g. "
                "df[column].astype(str) to treat them all as text."
            )
    return labels


def _row_labels(index: pd.Index) -> pd.Index:
    """The index as group labels when every row is a group: repeated labels are refused."""
    if not index.is_unique:
        dup = index[index.duplicated()].unique()
        raise DataError(
            f"Every row is a group (no group column), but the index that labels them repeats "
            f"{_joined([show(v) for v in dup[:MAX_LISTED]], dup.size)}: name the group column "
            "(group=...) or give each row its own label (e.g. df.reset_index(drop=True))."
        )
    return index


def group_codes(labels: pd.Index) -> tuple[np.ndarray, pd.Index] | None:
    """Each row's group number and the groups in order of first appearance.

    None when every label is distinct (nothing to sum).
    """
    if labels.is_unique:
        return None
    codes, uniques = pd.factorize(labels, sort=False)
    return codes, pd.Index(uniques)


def exact_sums(name: str, role: str, values: np.ndarray, codes: np.ndarray,
               groups: pd.Index) -> np.ndarray:
    """Per-group sums of valid counts (0 <= value <= 2^53), exact, as int64.

    A float64 sum of non-negative integers is exact while it stays below
    2^53, and rounds to at least 2^53 otherwise; only groups that reach 2^53
    are summed again in Python integers, and a sum above 2^53 is refused.
    """
    total = np.bincount(codes, weights=values, minlength=len(groups))
    near = np.flatnonzero(total >= MAX_EXACT)
    out = np.minimum(total, float(MAX_EXACT)).astype(np.int64)  # exact below 2^53
    if near.size:
        exact = [sum(int(v) for v in values[codes == g]) for g in near]
        shown = np.zeros(len(groups), dtype=object)
        shown[near] = exact
        bad = np.zeros(len(groups), dtype=bool)
        bad[near] = [s > MAX_EXACT for s in exact]
        refuse(name, role, shown, groups, bad,
               "sums, over the rows of a group, to counts too large to be exact (above 2^53)",
               what="sum")
        out[near] = exact
    return out


def distinct_pairs(
    a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct ``(a, b)`` pairs of non-negative integers, sorted by ``a`` then ``b``.

    One int64 key ``a * (max b + 1) + b`` while it cannot overflow, a sort of
    the rows otherwise (counts near 2^53 beside many distinct ``b``).

    Returns
    -------
    a, b : numpy.ndarray of int64
        The distinct pairs.
    inverse : numpy.ndarray
        For each row, the index of its pair.
    count : numpy.ndarray of int64
        How many rows have each pair.

    Examples
    --------
    >>> [x.tolist() for x in distinct_pairs(np.array([3, 0, 3]), np.array([1, 2, 1]))]
    [[0, 3], [2, 1], [1, 0, 1], [1, 2]]
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    width = int(b.max(initial=0)) + 1
    if (int(a.max(initial=0)) + 1) * width < 2**62:
        keys, inverse, count = np.unique(a * width + b, return_inverse=True,
                                         return_counts=True)
        ua, ub = np.divmod(keys, width)
        return ua, ub, inverse.reshape(-1), count.astype(np.int64)
    rows, inverse, count = np.unique(np.stack([a, b], axis=1), axis=0, return_inverse=True,
                                     return_counts=True)
    return rows[:, 0].copy(), rows[:, 1].copy(), inverse.reshape(-1), count.astype(np.int64)


# --- the columns of each role ------------------------------------------------------------------


@dataclass(frozen=True)
class GroupData:
    """The base of every family's validated data: one entry per group.

    Attributes
    ----------
    group : pandas.Index
        Group labels, in order of first appearance; a family's class adds
        its per-group arrays (summed over each group's rows) as fields.
    """

    group: pd.Index

    def __len__(self) -> int:
        return len(self.group)



@dataclass(frozen=True)
class RoleColumns:
    """The raw column of each role (not yet checked) and each row's group label.

    Attributes
    ----------
    values : dict of str to array-like
        Role -> the column's values, one per row (absent optional roles left out).
    names : dict of str to str
        Role -> the column's name, for messages (the role itself for arrays).
    group : str or None
        The group column's name; None when every row is its own group.
    labels : pandas.Index
        The group label of each row (checked by :func:`group_labels`), or the
        row labels when every row is a group.
    """

    values: dict[str, Any]
    names: dict[str, str]
    group: str | None
    labels: pd.Index

    def __len__(self) -> int:
        return len(self.labels)


def _as_array(values: Any, role: str) -> Any:
    """A 1-d column: a pandas Series as it is, numbers without a copy, the rest as objects."""
    if isinstance(values, pd.Series):
        return values
    arr = np.asarray(values)
    if arr.dtype.kind not in "iufbmM":
        arr = np.asarray(values, dtype=object)
    if arr.ndim == 0:
        arr = arr.reshape(-1)
    if arr.ndim != 1:
        raise DataError(f"`{role}` must be 1-d (one value per row); got shape {arr.shape}.")
    return arr


def _arrays(roles: Mapping[str, Any], group: Any, optional: Collection[str]) -> RoleColumns:
    given = {r: v for r, v in roles.items()
             if not (r in optional and (v is None or isinstance(v, str)))}
    if any(isinstance(v, str) for v in given.values()):
        names = " and ".join(f"`{r}`" for r in given)
        raise DataError(f"No data given: pass a DataFrame, or pass {names} as arrays.")
    has_group = group is not None and not isinstance(group, str)
    if has_group:
        given["group"] = group
    series = {r: v for r, v in given.items() if isinstance(v, pd.Series)}
    first = next(iter(series.values()), None)
    if first is not None and not all(s.index.equals(first.index) for s in series.values()):
        names = " and ".join(f"`{r}`" for r in series)
        raise DataError(
            f"{names} are pandas Series with different indexes; rows are paired by position, "
            "so they would be mismatched. Align them (e.g. pd.DataFrame({...}) or "
            ".reindex) or pass plain arrays (.to_numpy())."
        )
    values = {r: _as_array(v, r) for r, v in given.items()}
    sizes = {r: len(v) for r, v in values.items() if r != "group"}
    if len(set(sizes.values())) > 1:
        raise DataError(
            f"{' and '.join(f'`{r}`' for r in sizes)} must have the same length; got "
            f"{' and '.join(map(str, sizes.values()))}."
        )
    size = next(iter(sizes.values()))
    if has_group:
        labels = values.pop("group")
        if len(labels) != size:
            raise DataError(
                f"`group` must have one label per row; got {len(labels)} labels for "
                f"{size} rows."
            )
        labels = group_labels(np.asarray(labels, dtype=object), "group")
    else:
        labels = pd.RangeIndex(size)
    values = {r: v.to_numpy() if isinstance(v, pd.Series) else v for r, v in values.items()}
    return RoleColumns(values, {r: r for r in values}, "group" if has_group else None, labels)


def role_columns(
    data: Any,
    roles: Mapping[str, Any],
    *,
    group: Any = "group",
    optional: Collection[str] = (),
    hints: Mapping[str, tuple[str, str]] | None = None,
    allow_empty: bool = False,
) -> RoleColumns:
    """Find the column of each role and the group label of each row.

    Parameters
    ----------
    data : pandas.DataFrame, dict of columns, or None
        With ``None``, the role arguments are the arrays themselves. pandas
        Series given as separate arrays must share one index (rows are paired
        by position; Series with different indexes are refused, never
        silently mismatched).
    roles : mapping of role to column name (or array)
        E.g. ``{"successes": "y", "trials": "n"}``.
    group : str, array-like or None
        The group column; None, or the default ``'group'`` when the data have
        no such column: every row is its own group, labelled by the index.
    optional : collection of str
        Roles that may be absent: ``None``, or their default name (the role)
        missing from the data.
    hints : mapping of role to (column, text)
        A sentence added when the role's column is missing but ``column`` exists.
    allow_empty : bool
        Accept data without rows (otherwise a DataError).

    Examples
    --------
    >>> cols = role_columns({"lab": ["a", "b"], "y": [1, 2]}, {"counts": "y"}, group="lab")
    >>> cols.names, cols.group, list(cols.labels)
    ({'counts': 'y'}, 'lab', ['a', 'b'])
    """
    if data is None:
        cols = _arrays(roles, group, optional)
    else:
        cols = _frame_columns(data, roles, group, optional, hints or {})
    if len(cols) == 0 and not allow_empty:
        raise DataError("The data are empty: at least one group is needed.")
    return cols


def _frame_columns(data: Any, roles: Mapping[str, Any], group: Any,
                   optional: Collection[str], hints: Mapping[str, tuple[str, str]]) -> RoleColumns:
    if isinstance(data, dict):
        data = pd.DataFrame(data)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"`data` must be a pandas DataFrame, a dict of columns, or None; got "
            f"{type(data).__name__}."
        )
    columns = ", ".join(map(repr, data.columns))
    names: dict[str, str] = {}
    for role, col in roles.items():
        if role in optional and (col is None or (col == role and col not in data.columns)):
            continue  # an optional role without a column
        if not isinstance(col, str):
            kind = "a column name or None" if role in optional else "a column name"
            raise TypeError(f"With a DataFrame, `{role}` must be {kind}; got {col!r}.")
        if col not in data.columns:
            present, text = hints.get(role, ("", ""))
            hint = f" {text}" if present and present in data.columns else ""
            raise DataError(
                f"Column {col!r} (`{role}`) is not in the data; columns are {columns}.{hint}"
            )
        names[role] = col
    group_col = group
    if group is None or (group == "group" and "group" not in data.columns):
        group_col = None  # the default name absent: every row is its own group
    elif not isinstance(group, str):
        raise TypeError(f"With a DataFrame, `group` must be a column name; got {group!r}.")
    elif group not in data.columns:
        raise DataError(f"Column {group!r} (`group`) is not in the data; columns are {columns}.")
    used = {**names, "group": group_col} if group_col is not None else names
    check_distinct(data.columns, used)
    labels = (_row_labels(data.index) if group_col is None
              else group_labels(data[group_col], group_col))
    values = {role: data[col].to_numpy() for role, col in names.items()}
    return RoleColumns(values, names, group_col, labels)


def check_distinct(columns: pd.Index, used: Mapping[str, str]) -> None:
    """Refuse one column in two roles (``group='successes'``) and repeated column names.

    ``used`` maps each role to its column; ``columns`` are the data's columns.
    """
    seen: dict[str, str] = {}
    for role, col in used.items():
        if col in seen:
            raise DataError(
                f"Column {col!r} is given as both `{seen[col]}` and `{role}`; each role needs "
                "its own column (a data column cannot also be the group)."
            )
        seen[col] = role
        copies = int((columns == col).sum())
        if copies > 1:
            raise DataError(
                f"Column {col!r} (`{role}`) appears {copies} times in the data; rename the "
                "copies so that the column is unambiguous."
            )
