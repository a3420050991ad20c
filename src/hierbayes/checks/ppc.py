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
from hierbayes.validate import check_memory, check_positive_int

if TYPE_CHECKING:
    from hierbayes.result import Fit

__all__ = ["STATISTIC_NOTES", "PPCResult", "default_statistics", "posterior_predictive_check"]

#: What each default statistic asks of the model, in words.
STATISTIC_NOTES = {
    "zeros": "the number of groups with a zero count: does the model expect as many "
             "empty groups as were seen?",
    "max_rate": "the largest raw rate: is the most extreme group more extreme than the "
                "model allows?",
    "min_rate": "the smallest raw rate: the same question at the low end.",
    "var_rate": "the variance of the raw rates: does the model reproduce the spread "
                "between groups?",
    "max": "the largest estimate: is the most extreme group more extreme than the model "
           "allows?",
    "min": "the smallest estimate: the same question at the low end.",
    "var": "the variance of the estimates: does the model reproduce the spread between "
           "groups?",
}


Statistic = Callable[[np.ndarray], Any]


def default_statistics(fit: Fit) -> dict[str, Statistic]:
    """The default test statistics, chosen so that each can disagree with the data.

    For counts: ``zeros`` (the number of groups with a zero count: does the
    model expect as many empty groups as were seen?), ``max_rate`` and
    ``min_rate`` (the largest and smallest raw rate: are the extreme groups
    more extreme than the model allows?) and ``var_rate`` (the variance of
    the raw rates: is the spread between groups captured?). For estimates:
    ``max``, ``min`` and ``var`` of the estimates. Each only where it is
    defined (a variance needs two groups, a rate a group with trials or
    exposure), and a statistic whose observed value is 0, the least it can
    take (no zero counts, a zero rate, rates all equal), is left out: then
    p = P(T(y_rep) ≥ T(y)) = 1 whatever the model, a check that cannot fail.
    Pass ``statistics`` to check it anyway.
    """
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
    y = fit.observed()[None, :]
    at_least = {k: float(np.asarray(f(y))[0]) for k, f in out.items()}
    if "var_rate" in out:  # rounding can make the variance of equal rates 1e-33
        at_least["var_rate"] = float(np.ptp(rate(y)))
    return {k: f for k, f in out.items() if at_least[k] > 0.0}


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
    n_groups = len(fit.group_labels)
    block = max(1, min(draws, 10_000_000 // max(n_groups, 1)))  # data sets replicated at once
    # one value per statistic and draw, twice while the blocks are joined, plus one block
    check_memory(f"{draws} replicated data sets for {len(stats)} statistics",
                 2 * 8.0 * draws * len(stats) + 4 * 8.0 * block * n_groups,
                 "ask for fewer draws")
    rng = np.random.default_rng(seed)
    obs_y = fit.observed()
    observed = {k: float(_evaluate(f, obs_y[None, :], k, observed=True)[0])
                for k, f in stats.items()}
    rep: dict[str, list[np.ndarray]] = {k: [] for k in stats}
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
