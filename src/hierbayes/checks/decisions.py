"""Decisions from a fit: tail probabilities, flagging at a false discovery rate,
rankings and differences between groups.

Tail probabilities are exact mixtures of conjugate tail probabilities over the
hyperparameter points, each tail computed directly (``betaincc``,
``gammaincc``, the Normal survival function) so that small probabilities keep
their digits. Rankings and differences depend jointly on many groups and are
computed from exact joint posterior draws, with their Monte Carlo error.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from hierbayes.checks.predictive import blocks, group_posteriors
from hierbayes.errors import AccuracyWarning, DataError
from hierbayes.validate import check_choice, check_memory, check_positive_int, check_prob

if TYPE_CHECKING:
    from hierbayes.result import Fit

__all__ = ["difference", "flag", "prob_best", "rank_table", "tail_probability"]

def _threshold(c: Any) -> float:
    try:
        x = float(c)
    except (TypeError, ValueError):
        raise DataError(f"The threshold must be a number; got {c!r}.") from None
    if math.isnan(x):
        raise DataError("The threshold must be a number; got NaN.")
    return x


def tail_probability(fit: Fit, c: float, upper: bool) -> pd.Series:
    """P(theta_j > c | y) (``upper``) or P(theta_j ≤ c | y) for every group, exactly."""
    c = _threshold(c)
    y, d, inverse = fit._patterns()
    conj = fit._conj
    w = np.asarray(fit.points.weight, float)
    out = np.empty(y.size)
    for sl in blocks(w.size, y.size):
        post = group_posteriors(fit, y[sl], d[sl])
        with np.errstate(invalid="ignore", divide="ignore"):
            out[sl] = w @ conj.theta_tail(post, c, upper)
    name = f"P(theta > {c:g})" if upper else f"P(theta <= {c:g})"
    return pd.Series(np.clip(out[inverse], 0.0, 1.0), index=fit.group_labels, name=name)


def flag(fit: Fit, threshold: float, fdr: float = 0.05, direction: str = "greater"
         ) -> pd.DataFrame:
    """Flag groups whose theta is above (below) a threshold at a false discovery rate.

    The posterior error probability of calling group j "above c" is
    PEP_j = P(theta_j ≤ c | y). The q-value of group j is the mean PEP of
    all groups with PEP ≤ PEP_j — the expected proportion of false
    discoveries if exactly those groups are flagged (Efron's Bayesian FDR,
    as in the ebbr package's proportion test; tied PEPs share a q-value).
    Groups with q-value ≤ ``fdr`` are flagged.
    """
    check_choice("direction", direction, ("greater", "less"))
    fdr = check_prob("fdr", fdr)
    greater = direction == "greater"
    prob = tail_probability(fit, threshold, upper=greater)  # P(claim true)
    pep = tail_probability(fit, threshold, upper=not greater)  # P(claim false), directly
    values = pep.to_numpy()
    ranked = np.sort(values)
    running = np.cumsum(ranked) / np.arange(1, values.size + 1)
    # groups with equal PEP (the same data) are flagged together: the q-value of a PEP is
    # the mean of all PEPs up to and including it
    q = running[np.searchsorted(ranked, values, side="right") - 1]
    return pd.DataFrame(
        {"prob": prob.to_numpy(), "pep": pep.to_numpy(), "qvalue": q, "flagged": q <= fdr},
        index=fit.group_labels,
    )


def _theta_draws(fit: Fit, draws: int, seed: int | None) -> np.ndarray:
    draws = check_positive_int("draws", draws)
    # theta, its sort keys and ranks are held at once
    check_memory(f"{draws} joint draws of {len(fit.group_labels)} groups",
                 3 * 8.0 * draws * len(fit.group_labels), "ask for fewer draws")
    _, theta = fit._draw(draws, np.random.default_rng(seed))
    return theta


def rank_table(fit: Fit, draws: int = 4000, seed: int | None = 0, top: int = 3,
               prob: float = 0.95, descending: bool = True) -> pd.DataFrame:
    """Posterior distribution of each group's rank (1 = largest theta by default).

    Columns ``mean_rank``, ``rank_lower`` and ``rank_upper`` (an
    equal-tailed interval of mass ``prob``), ``p_best`` (probability of rank
    1), ``p_top<k>`` (rank ≤ ``top``) and ``mc_se_best``, the Monte Carlo
    standard error of ``p_best``. From ``draws`` exact joint posterior draws
    (ties, which have probability 0, are broken by order).
    """
    prob = check_prob("prob", prob)
    top = check_positive_int("top", top)
    theta = _theta_draws(fit, draws, seed)
    j = theta.shape[1]
    key = -theta if descending else theta
    ranks = np.empty_like(theta, dtype=np.int64)
    order = np.argsort(key, axis=1, kind="stable")
    np.put_along_axis(ranks, order, np.arange(1, j + 1)[None, :].repeat(theta.shape[0], 0),
                      axis=1)
    tail = (1.0 - prob) / 2.0
    lo = np.quantile(ranks, tail, axis=0, method="inverted_cdf")
    hi = np.quantile(ranks, 1.0 - tail, axis=0, method="inverted_cdf")
    p_best = (ranks == 1).mean(axis=0)
    return pd.DataFrame(
        {
            "mean_rank": ranks.mean(axis=0),
            "rank_lower": lo.astype(float),
            "rank_upper": hi.astype(float),
            "p_best": p_best,
            f"p_top{top}": (ranks <= top).mean(axis=0),
            "mc_se_best": np.sqrt(p_best * (1.0 - p_best) / theta.shape[0]),
        },
        index=fit.group_labels,
    )


def difference(fit: Fit, a: Any, b: Any, prob: float = 0.95, ratio: bool = False,
               draws: int = 100_000, seed: int | None = 0) -> pd.Series:
    """Posterior of theta_a − theta_b (or theta_a / theta_b) from exact joint draws.

    Returns ``mean``, ``sd``, ``lower``, ``upper`` (equal-tailed, mass
    ``prob``), ``p_greater`` = P(theta_a > theta_b | y) and ``mc_se``, the
    Monte Carlo standard error of ``p_greater``.
    """
    prob = check_prob("prob", prob)
    labels = fit.group_labels
    idx = []
    for g in (a, b):
        hits = np.flatnonzero(labels == g)
        if hits.size != 1:
            raise DataError(f"No group {g!r} in the fit (groups: {list(labels[:5])}...).")
        idx.append(int(hits[0]))
    if idx[0] == idx[1]:
        raise DataError(f"Compare two different groups; got {a!r} twice.")
    theta = _theta_draws(fit, draws, seed)[:, idx]
    x = theta[:, 0] / theta[:, 1] if ratio else theta[:, 0] - theta[:, 1]
    tail = (1.0 - prob) / 2.0
    p = float(np.mean(theta[:, 0] > theta[:, 1]))
    return pd.Series({
        "mean": float(np.mean(x)),
        "sd": float(np.std(x, ddof=1)),
        "lower": float(np.quantile(x, tail)),
        "upper": float(np.quantile(x, 1.0 - tail)),
        "p_greater": p,
        "mc_se": math.sqrt(p * (1.0 - p) / x.size),
    }, name=f"theta[{a}] {'/' if ratio else '-'} theta[{b}]")


def prob_best(fit: Fit, descending: bool = True) -> pd.Series | None:
    """P(theta_j is the largest (smallest) of all) exactly, where the thetas are
    conditionally independent given the hyperparameters (Beta–Binomial, Gamma–Poisson).

    On each hyperparameter point, P_j = ∫ f_j(x) ∏_{i≠j} F_i(x) dx (survival
    functions for the smallest) by the trapezoid rule on the conjugate
    distribution's order scale (``Conjugate.order_range``/``order_terms``: the
    log-odds of a Beta, the log of a Gamma), where each integrand is
    smooth and decays exponentially, over the range where every F_i exceeds 1e-15
    (below it the product is negligible), with a spacing of a 30th of the
    narrowest group's sd there; then mixed over the points (the lightest 1e-12 of
    the mass dropped). Groups with equal data share a probability. None for the
    Normal–Normal family (the thetas share mu) and complete pooling (all equal).
    """
    if not fit._independent_at_points or fit.model.pooling == "complete":
        return None
    conj = fit._conj
    y, d, inverse = fit._patterns()
    count = np.bincount(inverse, minlength=y.size).astype(float)
    params, w = fit.points.compressed(1e-12)
    upper = not descending  # the smallest theta: survival functions instead of CDFs
    out = np.zeros(y.size)
    for a, b, wk in zip(params["alpha"], params["beta"], w / w.sum(), strict=True):
        A, B = conj.update((np.float64(a), np.float64(b)), y, d)
        zlo, zhi, sd = conj.order_range(A, B)
        # where the integrand lives: above the largest lower end (below it some
        # F_i < 1e-15), or below the smallest upper end for the smallest theta
        start, stop = ((float(np.min(zlo)), float(np.min(zhi))) if upper
                       else (float(np.max(zlo)), float(np.max(zhi))))
        if not stop > start:
            continue
        h = max(min(float(np.min(sd)) / 3.0, (stop - start) / 40.0), (stop - start) / 5000)
        z = np.linspace(start, stop, math.ceil((stop - start) / h) + 1)
        h = z[1] - z[0]
        log_dens, tail = conj.order_terms(z[None, :], A[:, None], B[:, None], upper)
        with np.errstate(divide="ignore"):
            log_tail = np.maximum(np.log(tail), -1e5)  # ≈ 0 there: the product is 0 anyway
        total = count @ log_tail
        out += wk * h * np.exp(log_dens + total[None, :] - log_tail).sum(axis=1)
    # Its own check: probabilities in [0, 1] that sum to 1 over the groups. Where the
    # quadrature cannot resolve the components (e.g. Beta shapes of 1e21 in the
    # kappa → ∞ tail, whose log densities cancel to nothing), refuse it: the caller
    # then estimates P(best) from joint draws, with a warning, never a wrong number.
    with np.errstate(invalid="ignore"):
        total_p = float(count @ out)
        ok = bool(np.all(np.isfinite(out)) and np.all(out > -1e-9) and np.all(out < 1 + 1e-9))
    if not (ok and abs(total_p - 1.0) <= 1e-6):
        warnings.warn(
            "The exact P(best) quadrature failed its own check (the probabilities of the "
            f"groups sum to {total_p:.3g}, not 1): it cannot resolve some hyperparameter "
            "points. P(best) is estimated from 200 000 joint posterior draws instead "
            "(Monte Carlo: see fit.ranks() for its error).",
            AccuracyWarning,
            stacklevel=3,
        )
        return None
    return pd.Series(out[inverse], index=fit.group_labels, name="p_best")
