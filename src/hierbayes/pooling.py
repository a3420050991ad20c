"""Complete, no and partial pooling side by side (MODEL.md §1)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pandas as pd

from .betabinomial import BetaBinomial
from .validate import check_prob

__all__ = ["compare_pooling"]


def compare_pooling(
    data: Any = None,
    *,
    prob: float = 0.95,
    model: Any = None,
    **columns: Any,
) -> pd.DataFrame:
    """Fit complete, no and partial pooling; one row per group, the three side by side.

    Parameters
    ----------
    data : pandas.DataFrame, dict, or None
        As for :meth:`BetaBinomial.fit`.
    prob : float
        Mass of the equal-tailed intervals.
    model : model specification, optional
        Any family's specification (default ``BetaBinomial()``); its
        ``pooling`` is replaced for each of the three columns.
    **columns
        Column roles, passed to ``fit`` (e.g. ``group=``, ``successes=``, ``trials=``).

    Returns
    -------
    pandas.DataFrame
        Indexed by group, with the family's data columns and, for each
        of ``complete``, ``none``, ``partial``: ``<pooling>_mean``,
        ``<pooling>_lower``, ``<pooling>_upper``.

    Examples
    --------
    >>> import hierbayes as hb
    >>> t = hb.compare_pooling(hb.datasets.load("rats"))
    >>> [c for c in t.columns if c.endswith("_mean")]
    ['complete_mean', 'none_mean', 'partial_mean']
    """
    prob = check_prob("prob", prob)
    base = model if model is not None else BetaBinomial()
    out: pd.DataFrame | None = None
    for pooling in ("complete", "none", "partial"):
        s = replace(base, pooling=pooling).fit(data, **columns).summary(prob=prob)
        if out is None:
            data_cols = list(s.columns[: s.columns.get_loc("mean")])
            out = s[data_cols].copy()
        for col in ("mean", "lower", "upper"):
            out[f"{pooling}_{col}"] = s[col]
    assert out is not None
    return out
