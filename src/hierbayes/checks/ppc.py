"""Posterior predictive checks: test statistics of replicated data sets (BDA3 §6.3).

Replicated data come from exact joint posterior draws (hyperparameters, then
each theta_j, then the data by each group's own sampling model); the p-values
P(T(y_rep) ≥ T(y)) and P(T(y_rep) ≤ T(y)) are Monte Carlo over those draws.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hierbayes.errors import HierBayesError
from hierbayes.validate import check_positive_int

if TYPE_CHECKING:
    from hierbayes.result import Fit

__all__ = ["PPCResult", "default_statistics", "posterior_predictive_check"]


Statistic = Callable[[np.ndarray], Any]


def default_statistics(fit: Fit) -> dict[str, Statistic]:
    """The default test statistics: for counts the number of groups with zero
    counts and the max, min and variance of the raw rates; for estimates their
    max, min and variance (each only where it is defined: a variance needs two
    groups, a rate a group with trials or exposure)."""
    if not fit._conj.discrete:
        out: dict[str, Statistic] = {"max": lambda y: y.max(axis=-1),
                                     "min": lambda y: y.min(axis=-1)}
        if len(fit.group_labels) >= 2:  # a variance needs two estimates
            out["var"] = lambda y: y.var(axis=-1, ddof=1)
        return out
    _, d, inverse = fit._patterns()
    design = d[inverse]
    ok = design > 0

    def rate(y: np.ndarray) -> np.ndarray:
        return y[..., ok] / design[ok]

    out = {"zeros": lambda y: (y == 0).sum(axis=-1).astype(float)}
    if ok.any():  # rates exist only for groups with trials (exposure)
        out["max_rate"] = lambda y: rate(y).max(axis=-1)
        out["min_rate"] = lambda y: rate(y).min(axis=-1)
    if ok.sum() >= 2:  # a variance needs two rates
        out["var_rate"] = lambda y: rate(y).var(axis=-1, ddof=1)
    return out


@dataclass(frozen=True)
class PPCResult:
    """Posterior predictive check: statistics of replicated data against the observed.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per statistic: ``observed``, ``replicated_mean``,
        ``replicated_sd``, ``p_value`` = P(T(y_rep) ≥ T(y) | y) (BDA3 §6.3)
        and ``p_value_le`` = P(T(y_rep) ≤ T(y) | y) (they differ by the
        probability of a tie for discrete statistics).
    replicated : dict of str to numpy.ndarray
        The statistic of each replicated data set.
    observed : dict of str to float
        The statistic of the data.
    """

    table: pd.DataFrame
    replicated: dict[str, np.ndarray]
    observed: dict[str, float]

    def _repr_html_(self) -> str:
        from hierbayes.html import results_html

        return results_html("Posterior predictive check (p = P(T(y_rep) ≥ T(y) | y))",
                            [("Statistics", self.table)])


def _evaluate(f: Statistic, y: np.ndarray, name: str, observed: bool = False) -> np.ndarray:
    """A statistic on a stack of data sets, vectorised if it can be, else row by row."""
    out = None
    try:
        out = np.asarray(f(y), dtype=float)
        if out.shape != y.shape[:-1]:
            out = None
    except Exception:  # a scalar-only statistic: apply it row by row
        pass
    if out is None:
        try:
            out = np.array([float(f(row)) for row in y.reshape(-1, y.shape[-1])]).reshape(
                y.shape[:-1])
        except Exception as exc:
            raise HierBayesError(f"The test statistic {name!r} failed: {exc}") from exc
    nan = np.isnan(out)
    if nan.any():  # NaN compares false both ways: it would count as "not extreme" (p = 0)
        what = ("the observed data" if observed else
                f"{int(nan.sum())} of {out.size} replicated data sets")
        raise HierBayesError(
            f"The test statistic {name!r} returned NaN on {what}; a p-value needs a number "
            "for every data set. Make the statistic defined on every data set (e.g. guard "
            "divisions by zero)."
        )
    return out


def posterior_predictive_check(
    fit: Fit,
    statistics: Mapping[str, Statistic] | None = None,
    draws: int = 4000,
    seed: int | None = 0,
) -> PPCResult:
    """Replicate the data from exact posterior draws and compare test statistics."""
    draws = check_positive_int("draws", draws)
    stats = dict(default_statistics(fit) if statistics is None else statistics)
    if not stats:
        raise HierBayesError("Give at least one test statistic.")
    rng = np.random.default_rng(seed)
    obs_y = fit.observed()
    observed = {k: float(_evaluate(f, obs_y[None, :], k, observed=True)[0])
                for k, f in stats.items()}
    rep: dict[str, list[np.ndarray]] = {k: [] for k in stats}
    block = max(1, min(draws, 10_000_000 // max(obs_y.size, 1)))
    done = 0
    while done < draws:
        size = min(block, draws - done)
        _, theta = fit._draw(size, rng)
        y_rep = fit.replicate(theta, rng)
        for k, f in stats.items():
            rep[k].append(_evaluate(f, y_rep, k))
        done += size
    replicated = {k: np.concatenate(v) for k, v in rep.items()}
    rows = []
    for k in stats:
        t, t0 = replicated[k], observed[k]
        rows.append([t0, float(np.mean(t)), float(np.std(t, ddof=1)) if t.size > 1 else 0.0,
                     float(np.mean(t >= t0)), float(np.mean(t <= t0))])
    table = pd.DataFrame(rows, index=pd.Index(list(stats), name="statistic"),
                         columns=["observed", "replicated_mean", "replicated_sd", "p_value",
                                  "p_value_le"])
    return PPCResult(table, replicated, observed)
