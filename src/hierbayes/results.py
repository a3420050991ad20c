"""Fit objects: immutable results with tidy pandas tables (MODEL.md §2).

A hyperparameter posterior is always a set of weighted points (STYLE.md §3):
the exact grid is many points, empirical Bayes one point, no/complete
pooling a fixed Beta. Group posteriors are the same mixture of conjugate
conditionals in every case, so one code path serves every summary.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy.special import betainccinv, betaincinv, expit, logit

from ._solve import solve_increasing
from .betabinom_math import CollapsedLikelihood, beta_of, conditional_moments, mixture_quantiles
from .data import BinomialCounts
from .quadrature import GridPosterior, integrate_2d, sample_grid
from .validate import check_positive_int, check_prob, check_probs

if TYPE_CHECKING:
    from .betabinomial import BetaBinomial

__all__ = ["BetaBinomialFit", "HyperPoints", "quantile_label"]

HYPER_NAMES = ("alpha", "beta", "mu", "kappa", "logit_mu", "log_kappa")
# Mass of the smallest grid weights dropped before per-component work (quantiles):
# it bounds the CDF error, hence the quantile error by it over the density.
_DROP_MASS = 1e-11


def quantile_label(p: float) -> str:
    """Column name of a quantile: 0.025 -> 'q2.5', 0.5 -> 'q50'.

    >>> quantile_label(0.975)
    'q97.5'
    """
    return "q" + f"{100 * p:.10g}"


@dataclass(frozen=True)
class HyperPoints:
    """Weighted points (alpha_g, beta_g, w_g) of a hyperparameter posterior."""

    alpha: np.ndarray
    beta: np.ndarray
    weight: np.ndarray
    u: np.ndarray
    v: np.ndarray
    grid: GridPosterior | None = None
    logpost: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = field(
        default=None, compare=False
    )
    log_const: float = 0.0

    @classmethod
    def single(cls, a: float, b: float, *, u: float = math.nan, v: float = math.nan):
        """One point of weight 1 (empirical Bayes, or a fixed Beta prior)."""
        one = np.ones(1)
        return cls(one * a, one * b, one, one * u, one * v)

    @classmethod
    def from_grid(cls, grid: GridPosterior, logpost, log_const: float = 0.0):
        """All points of an exact quadrature grid."""
        u, v = grid.u.ravel(), grid.v.ravel()
        a, b = beta_of(u, v)
        return cls(a, b, grid.weight.ravel(), u, v, grid, logpost, log_const)

    def compressed(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(alpha, beta, weight) without the negligible points (mass ≤ 1e-13)."""
        if self.grid is None:
            return self.alpha, self.beta, self.weight
        u, v, w = self.grid.compressed(_DROP_MASS)
        a, b = beta_of(u, v)
        return a, b, w


@dataclass(frozen=True)
class BetaBinomialFit:
    """Result of :meth:`hierbayes.BetaBinomial.fit`; immutable, tables computed on access.

    Attributes
    ----------
    model : BetaBinomial
        The specification that was fitted.
    counts : BinomialCounts
        The data, reduced to one row per group.
    points : HyperPoints
        The hyperparameter posterior as weighted points.
    """

    model: BetaBinomial
    counts: BinomialCounts
    points: HyperPoints
    offsets: bool = True
    lik: CollapsedLikelihood | None = None

    # ---- per unique (y, n) pair -------------------------------------------------
    @cached_property
    def _pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y, n, inverse = self.counts.unique_pairs()
        if not self.offsets:  # complete pooling: every group has the common posterior
            return np.zeros(1), np.zeros(1), np.zeros(len(self.counts), dtype=np.intp)
        return y, n, inverse

    @cached_property
    def _moments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y, n, _ = self._pairs
        p = self.points
        mean, sd, shrink = conditional_moments(y, n, p.alpha, p.beta, p.weight)
        if not self.offsets:
            shrink = np.ones_like(shrink)
        return mean, sd, shrink

    def _pair_quantiles(self, probs: Sequence[float]) -> np.ndarray:
        y, n, _ = self._pairs
        mean, sd, _ = self._moments
        a, b, w = self.points.compressed()
        if a.size == 1:  # one Beta: invert it directly
            A, B = (y + a[0])[:, None], (n - y + b[0])[:, None]
            pr = np.asarray(probs)[None, :]
            return np.where(pr <= 0.5, betaincinv(A, B, pr), betainccinv(A, B, 1.0 - pr))
        return mixture_quantiles(y, n, a, b, w, np.asarray(probs), mean, sd)

    # ---- public tables ----------------------------------------------------------
    @property
    def error(self) -> float:
        """Estimated numerical error of the posterior summaries (0 where closed form)."""
        grid = self.points.grid
        return 0.0 if grid is None else float(grid.error)

    @cached_property
    def groups(self) -> pd.DataFrame:
        """Per-group table: successes, trials, raw, mean, sd, quantiles, shrinkage.

        ``raw`` is successes/trials (NaN for a group with no trials); ``mean``,
        ``sd`` and the quantile columns (named by ``model.probs``, e.g. ``q2.5``)
        describe the posterior of theta_j; ``shrinkage`` is the posterior mean
        of (alpha+beta)/(n_j+alpha+beta), the weight on the population mean.
        """
        return self._table(self.model.probs, [quantile_label(p) for p in self.model.probs])

    def summary(self, prob: float = 0.95) -> pd.DataFrame:
        """Per-group table with an equal-tailed interval of mass ``prob`` (lower, upper).

        Examples
        --------
        >>> import hierbayes as hb
        >>> s = hb.BetaBinomial().fit(hb.datasets.load("rats")).summary(prob=0.9)
        >>> list(s.columns)
        ['successes', 'trials', 'raw', 'mean', 'sd', 'lower', 'upper', 'shrinkage']
        """
        prob = check_prob("prob", prob)
        tail = (1.0 - prob) / 2.0
        return self._table((tail, 1.0 - tail), ["lower", "upper"])

    def quantiles(self, probs: Sequence[float]) -> pd.DataFrame:
        """Posterior quantiles of every theta_j, one column per probability."""
        probs = check_probs("probs", probs)
        _, _, inverse = self._pairs
        q = self._pair_quantiles(probs)[inverse]
        return pd.DataFrame(q, index=self.counts.group, columns=[quantile_label(p) for p in probs])

    def _table(self, probs: Sequence[float], names: list[str]) -> pd.DataFrame:
        c = self.counts
        _, _, inverse = self._pairs
        mean, sd, shrink = (x[inverse] for x in self._moments)
        q = self._pair_quantiles(probs)[inverse]
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = np.where(c.trials > 0, c.successes / np.maximum(c.trials, 1), np.nan)
        table = {
            "successes": c.successes,
            "trials": c.trials,
            "raw": raw,
            "mean": mean,
            "sd": sd,
            **{name: q[:, i] for i, name in enumerate(names)},
            "shrinkage": shrink,
        }
        return pd.DataFrame(table, index=c.group)

    @cached_property
    def hyper(self) -> pd.DataFrame:
        """Hyperparameter table: rows alpha, beta, mu, kappa, logit_mu, log_kappa.

        Columns mean, sd and the quantiles of ``model.probs``. A mean or sd
        that does not exist (E[alpha], E[beta], E[kappa] under the default
        prior) is reported as inf / NaN, never as a number that depends on
        where a grid was cut. Under complete pooling the one row is ``theta``;
        empirical Bayes reports its point estimate in ``mean``.
        """
        probs = self.model.probs
        cols = ["mean", "sd", *[quantile_label(p) for p in probs]]
        if self.model.pooling == "none":
            return pd.DataFrame(columns=cols, dtype=float).rename_axis("parameter")
        if self.model.pooling == "complete":
            a, b = float(self.points.alpha[0]), float(self.points.beta[0])
            mean = a / (a + b)
            sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
            pr = np.asarray(probs)
            q = np.where(pr <= 0.5, betaincinv(a, b, pr), betainccinv(a, b, 1 - pr))
            return pd.DataFrame([[mean, sd, *q]], index=pd.Index(["theta"], name="parameter"),
                                columns=cols)
        if self.points.grid is None:  # empirical Bayes: a point estimate
            a, b = float(self.points.alpha[0]), float(self.points.beta[0])
            est = [a, b, a / (a + b), a + b, float(logit(a / (a + b))), math.log(a + b)]
            data = [[e, math.nan, *([math.nan] * len(probs))] for e in est]
            return pd.DataFrame(data, index=pd.Index(HYPER_NAMES, name="parameter"), columns=cols)
        return _grid_hyper_table(self.points, self.model, probs, cols)

    def draws(self, size: int = 4000, *, seed: int | None = None) -> pd.DataFrame:
        """Independent joint posterior draws of alpha, beta and every theta_j.

        Columns ``alpha``, ``beta`` and ``theta[<group>]`` for each group.
        Hyperparameters are drawn exactly from their posterior (inverse CDF on
        the quadrature's interpolant, no grid artefacts), then each theta_j
        from Beta(y_j + alpha, n_j − y_j + beta).

        Examples
        --------
        >>> import hierbayes as hb
        >>> d = hb.BetaBinomial().fit(hb.datasets.load("rats")).draws(100, seed=1)
        >>> d.shape
        (100, 73)
        """
        size = check_positive_int("size", size)
        rng = np.random.default_rng(seed)
        p = self.points
        if p.grid is not None:
            u, v = sample_grid(p.grid, p.logpost, size, rng)
            a, b = beta_of(u, v)
        else:
            a = np.full(size, p.alpha[0])
            b = np.full(size, p.beta[0])
        y, n, inverse = self._pairs
        c = self.counts
        if self.offsets:
            A = c.successes[None, :] + a[:, None]
            B = c.failures[None, :] + b[:, None]
        else:
            theta = rng.beta(a[:, None], b[:, None], size=(size, 1))
            A = B = None
        theta = rng.beta(A, B) if A is not None else np.repeat(theta, len(c), axis=1)
        del y, n, inverse
        cols = {"alpha": a, "beta": b}
        names = [f"theta[{g}]" for g in c.group]
        frame = pd.DataFrame(theta, columns=names)
        frame.insert(0, "beta", cols["beta"])
        frame.insert(0, "alpha", cols["alpha"])
        return frame

    def __repr__(self) -> str:
        m = self.model
        acc = f", numerical error {self.error:.1g}" if self.points.grid is not None else ""
        return (
            f"<BetaBinomialFit: {len(self.counts)} groups, pooling={m.pooling!r}, "
            f"method={m.method!r}, prior={m._prior.describe()}{acc}>"
        )


def _grid_hyper_table(
    points: HyperPoints, model: Any, probs: Sequence[float], cols: list[str]
) -> pd.DataFrame:
    grid = points.grid
    assert grid is not None
    w = points.weight
    u, v = points.u, points.v
    a, b = points.alpha, points.beta

    def mean_sd(x: np.ndarray) -> tuple[float, float]:
        m = float(w @ x)
        return m, math.sqrt(max(float(w @ (x - m) ** 2), 0.0))

    prior = model._prior
    rows: dict[str, list[float]] = {}
    for name, values in (("alpha", a), ("beta", b), ("kappa", a + b)):
        finite_mean = finite_var = False
        if prior.kind == "independent":
            key = "kappa" if prior.names == ("mu", "kappa") else None
            if key is None:
                if name == "kappa":
                    finite_mean = prior.has_finite_mean("alpha") and prior.has_finite_mean("beta")
                    finite_var = prior.has_finite_var("alpha") and prior.has_finite_var("beta")
                else:
                    finite_mean, finite_var = prior.has_finite_mean(name), prior.has_finite_var(
                        name
                    )
            else:
                finite_mean, finite_var = prior.has_finite_mean(key), prior.has_finite_var(key)
        if finite_mean:
            m, s = mean_sd(values)
            rows[name] = [m, s if finite_var else math.inf]
        else:
            rows[name] = [math.inf, math.nan]
    rows["mu"] = list(mean_sd(expit(u)))
    rows["logit_mu"] = list(mean_sd(u))
    rows["log_kappa"] = list(mean_sd(v))

    pr = np.asarray(probs, dtype=float)
    vq = _outer_quantiles(grid, pr)
    # The other marginals come from grids whose outer coordinate is that quantity:
    # their CDF is then an exact (sinc) interpolant, whereas a region like
    # {beta <= b} cuts the (u, v) rows too sharply for the row trapezoid.
    logpost = points.logpost
    mode_u = float(u[np.argmax(w)])
    mode_v = float(v[np.argmax(w)])
    tol = max(model.tol, 1e-10)
    uq = _outer_quantiles(
        _marginal_grid(lambda q, p: logpost(p, q), (mode_v, mode_u), _BOUNDS_VU, tol), pr
    )
    la0 = mode_v + float(np.log(expit(mode_u)))
    lb0 = mode_v + float(np.log(expit(-mode_u)))

    def lp_ab(inner: np.ndarray, outer: np.ndarray, alpha_outer: bool) -> np.ndarray:
        la, lb = (outer, inner) if alpha_outer else (inner, outer)
        return logpost(la - lb, np.logaddexp(la, lb))  # |∂(u, v)/∂(log a, log b)| = 1

    aq = _outer_quantiles(
        _marginal_grid(lambda i, o: lp_ab(i, o, True), (lb0, la0), _BOUNDS_AB, tol), pr
    )
    bq = _outer_quantiles(
        _marginal_grid(lambda i, o: lp_ab(i, o, False), (la0, lb0), _BOUNDS_AB, tol), pr
    )
    quant = {
        "alpha": np.exp(aq),
        "beta": np.exp(bq),
        "mu": expit(uq),
        "kappa": np.exp(vq),
        "logit_mu": uq,
        "log_kappa": vq,
    }
    data = [[*rows[name], *quant[name]] for name in HYPER_NAMES]
    return pd.DataFrame(data, index=pd.Index(HYPER_NAMES, name="parameter"), columns=cols)


_BOUNDS_VU = ((-40.0, 250.0), (-45.0, 45.0))
_BOUNDS_AB = ((-90.0, 250.0), (-90.0, 250.0))


def _marginal_grid(logpost, start, bounds, tol: float) -> GridPosterior:
    def summaries(inner: np.ndarray, outer: np.ndarray, w: np.ndarray) -> np.ndarray:
        m = float(np.sum(w * outer))
        sd = math.sqrt(max(float(np.sum(w * (outer - m) ** 2)), 1e-300))
        return np.array([m / sd, math.log(sd)])

    return integrate_2d(
        logpost, start=start, bounds=bounds, summaries=summaries, tol=tol,
        what="hyperparameter marginal", inner_lambda=4.0,
    )


def _outer_quantiles(grid: GridPosterior, probs: np.ndarray) -> np.ndarray:
    """Quantiles of the outer coordinate's marginal, from its sinc-interpolated CDF."""
    lo = np.full(probs.size, float(grid.v.min()))
    hi = np.full(probs.size, float(grid.v.max()))
    return solve_increasing(grid.outer_cdf, probs, lo, hi)
