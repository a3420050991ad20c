"""Beta–Binomial fits: the family hooks of :class:`hierbayes.result.Fit` (MODEL.md §3)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import betainccinv, betaincinv, expit, logit
from scipy.stats import binom

from hierbayes.data.binomial import BinomialCounts
from hierbayes.families.betabinomial import INFO
from hierbayes.families.betabinomial.math import (
    CollapsedLikelihood,
    conditional_moments,
)
from hierbayes.families.conjugate import BETA
from hierbayes.families.registry import FamilyInfo
from hierbayes.integrate.grid2d import GridPosterior, integrate_2d
from hierbayes.integrate.moments import grid_mean_sd
from hierbayes.mathml import block, dist, fn, num, op, paren, row, sub, sup
from hierbayes.mixtures.solve import solve_increasing
from hierbayes.result import Fit, HyperPoints, HyperView, point_table, quantile_label

if TYPE_CHECKING:
    from hierbayes.families.betabinomial.model import BetaBinomialSpec

__all__ = ["BetaBinomialResult"]

HYPER_NAMES = ("alpha", "beta", "mu", "kappa", "logit_mu", "log_kappa")


@dataclass(frozen=True, repr=False)
class BetaBinomialResult(Fit):
    """Result of :meth:`hierbayes.BetaBinomial.fit`; immutable, tables computed on access.

    Attributes
    ----------
    model : BetaBinomial
        The specification that was fitted.
    points : HyperPoints
        The hyperparameter posterior as weighted (alpha, beta) points.
    counts : BinomialCounts
        The data, reduced to one row per group.
    """

    family_info: ClassVar[FamilyInfo] = INFO

    model: BetaBinomialSpec
    points: HyperPoints
    counts: BinomialCounts
    lik: CollapsedLikelihood | None = None

    # ---- the model as mathematics -------------------------------------------------

    def _model_sampling(self) -> tuple[str, str]:
        return (block(row(sub("y", "j"), op("∣"), sub("θ", "j"), op("∼"),
                          dist("Binomial", sub("n", "j"), sub("θ", "j")))),
                "Data: each group's successes y_j out of n_j trials are binomial with the "
                "group's own probability θ_j.")

    def _model_population(self) -> tuple[str, str]:
        return (block(row(sub("θ", "j"), op("∼"), dist("Beta", "α", "β"))),
                "Population: the groups' probabilities share a Beta distribution with mean "
                "μ = α/(α+β) and concentration κ = α+β, learned from all groups together "
                "(partial pooling).")

    def _model_hyperprior(self) -> tuple[str, str]:
        if self.model._prior.kind != "default":
            return "", f"Prior: {self.model._prior.describe()}."
        return (block(row(fn("p", "α", "β"), op("∝"),
                          sup(paren(row("α", op("+"), "β")),
                              row(op("−"), num(5), op("/"), num(2))))),
                "Prior: the default p(α, β) ∝ (α+β)^(−5/2) of BDA3 §5.3, flat on the "
                "population mean α/(α+β) and on (α+β)^(−1/2), roughly the population's "
                "spread; improper, with a proper posterior when some group has "
                "0 < successes < trials (Tak & Morris).")

    def _model_pooled(self, symbol: str) -> tuple[str, str]:
        a0, b0 = self.model.pooled_prior
        return (block(row(symbol, op("∼"), dist("Beta", num(a0), num(b0)))),
                f"Prior: Beta({a0:g}, {b0:g}) on "
                + ("the shared θ." if self.model.pooling == "complete" else
                   "each θ_j, every group fitted alone (no pooling)."))

    # ---- hooks -------------------------------------------------------------------

    @staticmethod
    def derived_hyper(h: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The rows of :attr:`hyper` from draws of the natural hyperparameters."""
        a, b = h["alpha"], h["beta"]
        return {"alpha": a, "beta": b, "mu": a / (a + b), "kappa": a + b,
                "logit_mu": np.log(a) - np.log(b), "log_kappa": np.log(a + b)}

    @property
    def group_labels(self) -> pd.Index:
        return self.counts.group

    def _data_columns(self) -> dict[str, np.ndarray]:
        c = self.counts
        y, n, inverse = c.unique_pairs()  # raw per pair, then one gather
        with np.errstate(invalid="ignore", divide="ignore"):
            raw = np.where(n > 0, y / np.maximum(n, 1), np.nan)[inverse]
        return {"successes": c.successes, "trials": c.trials, "raw": raw}

    def _group_data(self) -> tuple[np.ndarray, np.ndarray]:
        c = self.counts
        return c.successes.astype(float), c.trials.astype(float)

    _conditional_moments = staticmethod(conditional_moments)

    def hyper_view(self) -> HyperView:
        """The grid's own coordinates, (logit mu, log kappa), as in BDA3 Figure 5.3."""
        a, b = self.points.params["alpha"], self.points.params["beta"]
        labels = ("logit mu = log(alpha / beta)", "log kappa = log(alpha + beta)")
        coords = (np.log(a / b), np.log(a + b))
        if self.points.grid is None:
            return HyperView("point", labels, coords)
        return HyperView("joint", labels, coords, self.points.logpost,
                         caption="Joint posterior of the hyperparameters (contours at 0.05, "
                                 "0.15, …, 0.95 of the maximum, as in BDA3 Figure 5.3).")

    _conj = BETA

    def _patterns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y, n, inverse = self.counts.unique_pairs()
        return y.astype(float), n.astype(float), inverse

    def _pooled_prior(self) -> tuple[float, float] | None:
        return self.model.pooled_prior

    def replicate(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        n = np.broadcast_to(self.counts.trials, theta.shape)
        return rng.binomial(n, np.clip(theta, 0.0, 1.0)).astype(float)

    def loglik(self, theta: np.ndarray) -> np.ndarray:
        c = self.counts
        return binom.logpmf(c.successes[None, :], c.trials[None, :], theta)

    @cached_property
    def hyper(self) -> pd.DataFrame:
        """Hyperparameter table: rows alpha, beta, mu, kappa, logit_mu, log_kappa.

        Columns mean, sd and the quantiles of ``model.probs``. A mean or sd
        that does not exist (E[alpha], E[beta], E[kappa] under the default
        prior) is reported as inf / NaN, never as a number that depends on
        where a grid was cut; under a callable prior a mean is computed from
        the grid where the grid holds all of it (e.g. alpha bounded by the
        prior's support) and is NaN with a warning otherwise. Under complete
        pooling the one row is ``theta``; empirical Bayes reports its point
        estimate in ``mean``.
        """
        probs = self.model.probs
        cols = ["mean", "sd", *[quantile_label(p) for p in probs]]
        if self.model.pooling == "none":
            return pd.DataFrame(columns=cols, dtype=float).rename_axis("parameter")
        a, b = float(self.points.params["alpha"][0]), float(self.points.params["beta"][0])
        if self.model.pooling == "complete":
            mean = a / (a + b)
            sd = math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))
            pr = np.asarray(probs)
            q = np.where(pr <= 0.5, betaincinv(a, b, pr), betainccinv(a, b, 1 - pr))
            return pd.DataFrame([[mean, sd, *q]], index=pd.Index(["theta"], name="parameter"),
                                columns=cols)
        if self.points.grid is None:  # empirical Bayes: a point estimate
            est = [a, b, a / (a + b), a + b, float(logit(a / (a + b))), math.log(a + b)]
            return point_table(HYPER_NAMES, est, cols)
        return _grid_hyper_table(self.points, self.model, probs, cols)


def _grid_hyper_table(
    points: HyperPoints, model: Any, probs: Sequence[float], cols: list[str]
) -> pd.DataFrame:
    grid = points.grid
    assert grid is not None
    w = points.weight
    u, v = grid.u.ravel(), grid.v.ravel()
    a, b = points.params["alpha"], points.params["beta"]

    def mean_sd(x: np.ndarray) -> tuple[float, float]:
        m = float(w @ x)
        return m, math.sqrt(max(float(w @ (x - m) ** 2), 0.0))

    prior = model._prior
    rows: dict[str, list[float]] = {}
    for name, values in (("alpha", a), ("beta", b), ("kappa", a + b)):
        if prior.kind == "callable":  # existence unknown: decided on the grid
            rows[name] = list(grid_mean_sd(values, w.reshape(grid.weight.shape), model.tol,
                                           name, 5))
            continue
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
    qgrid = grid.fine or grid  # CDFs converge more slowly than moments: use the finer grid
    vq = _outer_quantiles(qgrid, pr)
    nrows = qgrid.v.shape[0]

    def inner(x: np.ndarray) -> np.ndarray:
        return qgrid.inner_cdf(np.repeat(x[:, None], nrows, axis=1))

    # P(u <= x | v) varies smoothly with v, so the main grid's rows serve logit mu.
    uq = solve_increasing(inner, pr, np.full(pr.size, u.min()), np.full(pr.size, u.max()))
    # alpha and beta come from grids whose outer coordinate is log alpha (log beta):
    # a region like {beta <= b} cuts the (u, v) rows too sharply for the row trapezoid,
    # while on such a grid the marginal CDF is an exact (sinc) interpolant.
    logpost = points.logpost
    mode_u = float(u[np.argmax(w)])
    mode_v = float(v[np.argmax(w)])
    tol = max(model.tol, 1e-10)
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


_BOUNDS_AB = ((-250.0, 250.0), (-250.0, 250.0))


def _marginal_grid(logpost, start, bounds, tol: float) -> GridPosterior:
    first: list[float] = []  # the mean on the first grid

    def summaries(inner: np.ndarray, outer: np.ndarray, w: np.ndarray) -> np.ndarray:
        m = float(np.sum(w * outer))
        sd = math.sqrt(max(float(np.sum(w * (outer - m) ** 2)), 1e-300))
        if not first:
            first.append(m)
        # the mean in sd units from a fixed origin: m/sd itself reaches 10^4 with many
        # groups, where rounding in sd alone would exceed the tolerance
        return np.array([(m - first[0]) / sd, math.log(sd)])

    return integrate_2d(
        logpost, start=start, bounds=bounds, summaries=summaries, tol=tol,
        what="hyperparameter marginal", inner_lambda=4.0,
    )


def _outer_quantiles(grid: GridPosterior, probs: np.ndarray) -> np.ndarray:
    """Quantiles of the outer coordinate's marginal, from its sinc-interpolated CDF."""
    grid = grid.fine or grid
    lo = np.full(probs.size, float(grid.v.min()))
    hi = np.full(probs.size, float(grid.v.max()))
    return solve_increasing(grid.outer_cdf, probs, lo, hi)
