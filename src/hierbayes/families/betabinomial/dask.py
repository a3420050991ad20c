"""Fits on Dask DataFrames: reduce where the data live, solve the small problem here.

The only module that imports Dask (``pip install hierbayes[dask]``);
:meth:`hierbayes.BetaBinomial.fit` comes here when given a
``dask.dataframe.DataFrame``. The data never travel to the client:

1. every partition is validated and reduced to its distinct
   ``(successes, trials)`` pairs with their counts
   (:class:`hierbayes.data.binomial.PairCounts`, the sufficient statistics), by the same
   functions as in-memory data; with a group column, rows are first summed per
   group by a Dask ``groupby`` (a shuffle, on the cluster);
2. those small tables are merged by a tree reduction (``split_every`` at a
   time) and only the result, ~10^5 pairs for counts up to 1000 whatever the
   number of rows, comes back;
3. the hyperparameter posterior is computed locally from it by exactly the
   code of the in-memory fit, so equal data give identical numbers;
4. per-group results are lazy Dask DataFrames, partition-aligned with the
   (grouped) input: each partition looks its pairs up in the per-pair table,
   which is computed once, locally, and shipped as one task. Write them with
   ``to_parquet``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hierbayes.data.binomial import BinomialCounts, PairCounts, binomial_rows, reduce_pairs
from hierbayes.data.columns import check_distinct, group_labels
from hierbayes.errors import DataError
from hierbayes.families.betabinomial.fit import BetaBinomialResult
from hierbayes.result import HyperPoints
from hierbayes.validate import check_positive_int

try:
    import dask
    import dask.dataframe as dd
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "Fitting Dask DataFrames needs Dask: pip install 'hierbayes[dask]'."
    ) from exc

if TYPE_CHECKING:
    from hierbayes.families.betabinomial.model import BetaBinomialSpec as BetaBinomial

__all__ = ["DaskBetaBinomialFit", "fit_dask", "reduce_dask"]

_SUCC, _TRIALS = "successes", "trials"  # column names after grouping


def fit_dask(
    model: BetaBinomial,
    data: Any,
    *,
    group: Any = "group",
    successes: Any = "successes",
    trials: Any = "trials",
    split_every: int = 8,
) -> DaskBetaBinomialFit:
    """Fit ``model`` to a Dask DataFrame; what ``model.fit(ddf, ...)`` calls.

    Parameters
    ----------
    model : BetaBinomial
        The specification.
    data : dask.dataframe.DataFrame
        The data, e.g. from ``dd.read_parquet('data/*.parquet')``.
    group, successes, trials : str
        Column names, as for :meth:`hierbayes.BetaBinomial.fit`. Without a
        group column each row is its own group (no shuffle is needed then).
    split_every : int
        Fan-in of the tree reduction.

    Returns
    -------
    DaskBetaBinomialFit

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import hierbayes as hb
    >>> ddf = dd.from_pandas(hb.datasets.load("rats"), npartitions=3)
    >>> fit = hb.BetaBinomial().fit(ddf)
    >>> fit.hyper.equals(hb.BetaBinomial().fit(hb.datasets.load("rats")).hyper)
    True
    >>> fit.moments.compute().shape
    (71, 6)
    """
    frame, pairs, names, rows = reduce_dask(
        data, group=group, successes=successes, trials=trials, split_every=split_every
    )
    points, extra = model._posterior(pairs)
    return DaskBetaBinomialFit(model, points, pairs, frame, names, lik=extra.get("lik"),
                               row_offsets=rows)


def reduce_dask(
    data: Any,
    *,
    group: Any = "group",
    successes: Any = "successes",
    trials: Any = "trials",
    split_every: int = 8,
) -> tuple[Any, PairCounts, tuple[str, str], tuple[int, ...] | None]:
    """Validate a Dask DataFrame and reduce it to its sufficient statistics.

    Returns the lazy per-group frame (one row per group: the input itself
    when rows are groups, else the ``groupby`` sums indexed by group), the
    :class:`~hierbayes.data.binomial.PairCounts` (computed: the one thing that comes
    back to the client), the names of its successes and trials columns, and
    the first row number of each partition when rows are groups but the
    index numbers each partition from 0 (as ``read_parquet`` gives): groups
    are then labelled by their row number in the whole data, as in memory.
    Errors name the column and up to five offending groups, as in memory.
    """
    if not isinstance(data, dd.DataFrame):
        raise TypeError(
            f"`data` must be a dask.dataframe.DataFrame here; got {type(data).__name__} "
            "(a Dask Series or Array is not supported)."
        )
    split_every = check_positive_int("split_every", split_every)
    columns = list(data.columns)
    listed = ", ".join(map(repr, columns))
    for role, col in (("successes", successes), ("trials", trials), ("group", group)):
        if role == "group" and col is None:
            continue
        if not isinstance(col, str):
            raise TypeError(
                f"With a Dask DataFrame, `{role}` must be a column name; got {col!r}."
            )
        if col not in columns and not (role == "group" and col == "group"):
            raise DataError(f"Column {col!r} (`{role}`) is not in the data; columns are {listed}.")
    rows_are_groups = group is None or group not in columns
    used = {"successes": successes, "trials": trials}
    check_distinct(pd.Index(columns), used if rows_are_groups else {**used, "group": group})
    if rows_are_groups:
        frame = data[[successes, trials]]
        names = (successes, trials)
    else:
        meta = pd.DataFrame(
            {
                "group": data[group]._meta,
                _SUCC: np.zeros(0, dtype=np.int64),
                _TRIALS: np.zeros(0, dtype=np.int64),
            }
        )
        validated = data[[group, successes, trials]].map_partitions(
            _validated_rows, group, successes, trials, meta=meta
        )
        frame = validated.groupby("group", sort=False).sum(split_out=max(1, data.npartitions))
        # which partition holds a group is decided by a hash of its label; the order inside
        # a partition by when its rows arrived: sorted, the output is the same on every run
        frame = frame.map_partitions(lambda part: part.sort_index(kind="stable"),
                                     meta=frame._meta)
        names = (_SUCC, _TRIALS)
    msg_names = (successes, trials)
    leaves = [
        dask.delayed(_partition_pairs)(part, names, msg_names)
        for part in frame.to_delayed()
    ]
    renumber = rows_are_groups and not data.known_divisions and data.index.name is None
    sizes = [dask.delayed(_n_groups)(leaf) for leaf in leaves] if renumber else []
    parts = leaves
    while len(parts) > 1:
        parts = [
            dask.delayed(_merge)(*parts[i : i + split_every])
            for i in range(0, len(parts), split_every)
        ]
    pairs, sizes = dask.compute(parts[0], sizes)
    if pairs.n_groups == 0:
        raise DataError("The data are empty: at least one group with trials is needed.")
    rows = tuple(int(x) for x in np.cumsum([0, *sizes[:-1]])) if renumber else None
    return frame, pairs, names, rows


def _validated_rows(
    part: pd.DataFrame, group: str, successes: str, trials: str
) -> pd.DataFrame:
    """One partition's rows as (group, successes, trials) int64, each row checked on its own
    (counts, successes <= trials) before the rows of a group are summed."""
    labels = group_labels(part[group], group)
    y, n = binomial_rows(part[successes], part[trials], labels, (successes, trials))
    return pd.DataFrame({"group": part[group].reset_index(drop=True), _SUCC: y, _TRIALS: n})


def _partition_pairs(
    part: pd.DataFrame, names: tuple[str, str], msg_names: tuple[str, str]
) -> PairCounts:
    """Validate one partition of per-group rows and reduce it to its pairs."""
    y, n = binomial_rows(part[names[0]], part[names[1]], part.index, msg_names)
    return reduce_pairs(y, n)[0]


def _merge(*parts: PairCounts) -> PairCounts:
    return PairCounts.merge(parts)


def _n_groups(pairs: PairCounts) -> int:
    return pairs.n_groups


@dataclass(frozen=True, repr=False)
class DaskBetaBinomialFit:
    """Result of fitting a Dask DataFrame: hyperparameters here, groups lazy.

    Attributes
    ----------
    model : BetaBinomial
        The specification that was fitted.
    points : HyperPoints
        The hyperparameter posterior, computed locally from ``pairs``.
    pairs : PairCounts
        The sufficient statistics that came back from the cluster.
    frame : dask.dataframe.DataFrame
        The lazy per-group data (the input's rows, or its group sums).
    columns : (str, str)
        Names of the successes and trials columns of ``frame``.
    lik : CollapsedLikelihood or None
        The collapsed likelihood of an exact fit.
    row_offsets : tuple of int or None
        First row number of each partition, when groups are labelled by row
        number in the whole data (rows as groups, index restarting per partition).
    """

    model: BetaBinomial
    points: HyperPoints
    pairs: PairCounts
    frame: Any
    columns: tuple[str, str]
    lik: Any = None
    row_offsets: tuple[int, ...] | None = None

    @cached_property
    def pair_fit(self) -> BetaBinomialResult:
        """The in-memory fit whose groups are the distinct pairs (labelled 0, 1, ...).

        Its tables hold every number the per-group tables contain, once per
        pair; they are computed by the same code as an in-memory fit.
        """
        p = self.pairs
        counts = BinomialCounts(
            group=pd.RangeIndex(len(p), name="group"), successes=p.successes, trials=p.trials
        )
        return self.model._fit_class(self.model, self.points, counts, lik=self.lik)

    @property
    def n_groups(self) -> int:
        """Number of groups in the data."""
        return self.pairs.n_groups

    @property
    def error(self) -> float:
        """Estimated numerical error of the posterior summaries (as in memory)."""
        return self.pair_fit.error

    @property
    def hyper(self) -> pd.DataFrame:
        """Hyperparameter table (a pandas DataFrame; see BetaBinomialFit.hyper)."""
        return self.pair_fit.hyper

    @property
    def moments(self) -> Any:
        """Lazy per-group table: successes, trials, raw, mean, sd, shrinkage (no quantiles)."""
        return self._lookup(self.pair_fit.moments)

    @property
    def groups(self) -> Any:
        """Lazy per-group table with the quantiles of ``model.probs`` (see BetaBinomialFit)."""
        return self._lookup(self.pair_fit.groups)

    def summary(self, prob: float = 0.95) -> Any:
        """Lazy per-group table with an equal-tailed interval of mass ``prob``."""
        return self._lookup(self.pair_fit.summary(prob))

    def quantiles(self, probs: Sequence[float]) -> Any:
        """Lazy per-group table of posterior quantiles, one column per probability."""
        return self._lookup(self.pair_fit.quantiles(probs))

    def _lookup(self, table: pd.DataFrame) -> Any:
        """Partition-aligned lookup of a per-pair table (rows in pair order)."""
        p = self.pairs
        width = int(p.trials.max()) + 1
        use_key = (int(p.successes.max()) + 1) * width < 2**62
        keys = p.successes * width + p.trials if use_key else None
        values = {c: table[c].to_numpy() for c in table.columns}
        lookup = dask.delayed((keys, p.successes, p.trials, values), pure=True)
        meta = table.iloc[:0].set_axis(self.frame._meta.index[:0].rename("group"), axis=0)
        if self.row_offsets is not None:
            meta = meta.set_axis(pd.RangeIndex(0, name="group"), axis=0)
        return self.frame.map_partitions(
            _attach, lookup, self.columns, width, self.row_offsets, meta=meta,
            enforce_metadata=False,
        )

    def __repr__(self) -> str:
        m = self.model
        acc = f", numerical error {self.error:.1g}" if self.points.grid is not None else ""
        return (
            f"<DaskBetaBinomialFit: {self.n_groups} groups ({len(self.pairs)} distinct "
            f"pairs) in {self.frame.npartitions} partitions, pooling={m.pooling!r}, "
            f"method={m.method!r}, prior={m._prior.describe()}{acc}>"
        )


def _attach(
    part: pd.DataFrame,
    lookup: tuple[Any, ...],
    columns: tuple[str, str],
    width: int,
    row_offsets: tuple[int, ...] | None,
    partition_info: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Per-group rows of one partition, from the per-pair table."""
    keys, py, pn, values = lookup
    y = np.asarray(part[columns[0]], dtype=np.int64)
    n = np.asarray(part[columns[1]], dtype=np.int64)
    if keys is not None:
        key = y * width + n
        idx = np.minimum(np.searchsorted(keys, key), max(keys.size - 1, 0))
        found = keys[idx] == key if keys.size else np.zeros(key.size, dtype=bool)
    else:
        idx = pd.MultiIndex.from_arrays([py, pn]).get_indexer(pd.MultiIndex.from_arrays([y, n]))
        found = idx >= 0
    if not found.all():
        raise DataError(
            f"{int((~found).sum())} groups have (successes, trials) pairs that were not in the "
            "data when the model was fitted: the input changed after the fit."
        )
    index = part.index
    if row_offsets is not None and partition_info is not None:
        start = row_offsets[partition_info["number"]]
        index = pd.RangeIndex(start, start + len(part))
    out = pd.DataFrame({c: v[idx] for c, v in values.items()}, index=index)
    out.index.name = "group"
    return out
