"""Gamma–Poisson fits: the family hooks of :class:`hierbayes.result.Fit` (MODEL.md §5)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from scipy.stats import poisson

from hierbayes.errors import AccuracyWarning, ImproperPosteriorError
from hierbayes.families.conjugate import GAMMA, gamma_quantiles
from hierbayes.families.gammapoisson import INFO
from hierbayes.families.gammapoisson.data import PoissonCounts
from hierbayes.families.gammapoisson.hyperprior import log_prior_uv, reference_exposure
from hierbayes.families.gammapoisson.math import (
    NegBinLikelihood,
    conditional_moments,
)
from hierbayes.families.priors import Prior
from hierbayes.families.registry import FamilyInfo
from hierbayes.integrate.grid2d import integrate_2d
from hierbayes.integrate.moments import edge_share, grid_mean_sd
from hierbayes.integrate.rowmaps import RowStandardised
from hierbayes.mathml import block, dist, fn, gap, num, op, paren, row, sub, sup
from hierbayes.mixtures.solve import solve_increasing
from hierbayes.result import Fit, HyperPoints, HyperView, point_table, quantile_label

if TYPE_CHECKING:
    from hierbayes.families.gammapoisson.model import GammaPoissonSpec

__all__ = ["GammaPoissonResult", "marginal_quantiles", "moment_exists"]

HYPER_NAMES = ("alpha", "beta", "mean", "log_mean", "log_alpha", "log_beta")


@dataclass(frozen=True, repr=False)
class GammaPoissonResult(Fit):
    """Result of :meth:`hierbayes.families.gammapoisson.model.GammaPoisson.fit`; immutable.

    Attributes
    ----------
    model : GammaPoisson
        The specification that was fitted.
    points : HyperPoints
        The hyperparameter posterior as weighted (alpha, beta) points.
    data : PoissonCounts
        The data, reduced to one row per group.
    lik : NegBinLikelihood or None
        The collapsed likelihood (exact partial pooling only).
    rows : RowStandardised or None
        The grid's coordinates (s, v), u = c(v) + σ(v)·s (exact partial pooling only).

    Examples
    --------
    >>> import hierbayes as hb
    >>> fit = hb.GammaPoisson().fit(hb.datasets.load("pumps"))
    >>> list(fit.groups.columns)
    ['counts', 'exposure', 'raw', 'mean', 'sd', 'q2.5', 'q50', 'q97.5', 'shrinkage']
    >>> list(fit.hyper.index)
    ['alpha', 'beta', 'mean', 'log_mean', 'log_alpha', 'log_beta']
    """

    family_info: ClassVar[FamilyInfo] = INFO

    model: GammaPoissonSpec
    points: HyperPoints
    data: PoissonCounts
    lik: NegBinLikelihood | None = None
    rows: RowStandardised | None = None

    # ---- the model as mathematics -------------------------------------------------

    def _model_sampling(self) -> tuple[str, str]:
        return (block(row(sub("y", "j"), op("∣"), sub("θ", "j"), op("∼"),
                          dist("Poisson", row(sub("θ", "j"), sub("t", "j"))))),
                "Data: each group's count y_j over exposure t_j is Poisson with the group's "
                "own rate θ_j per unit of exposure.")

    def _model_population(self) -> tuple[str, str]:
        return (block(row(sub("θ", "j"), op("∼"), dist("Gamma", "α", "β"))),
                "Population: the groups' rates share a Gamma distribution with shape α and "
                "rate β (mean m = α/β), learned from all groups together (partial pooling).")

    def _model_hyperprior(self) -> tuple[str, str]:
        if self.model._prior.kind != "default":
            return "", f"Prior: {self.model._prior.describe()}."
        t0 = reference_exposure(self.data)
        return (block(row(fn("p", fn("log", "m")), op("∝"), num(1), gap(),
                          row("β", op("/"), paren(row("β", op("+"), sub("t", "0")))), op("∼"),
                          dist("Uniform", num(0), num(1)))),
                "Prior: the default, flat on the log population mean m and uniform on the "
                "shrinkage β/(β+t0) of a group of reference exposure t0 = "
                f"{t0:.4g} (the geometric mean of the exposures of the groups that carry "
                "information); improper in m, with a proper posterior when a count is "
                "positive.")

    def _model_pooled(self, symbol: str) -> tuple[str, str]:
        a0, b0 = self.model.pooled_prior
        where = ("the shared θ." if self.model.pooling == "complete" else
                 "each θ_j, every group fitted alone (no pooling).")
        if b0 == 0:
            return (block(row(fn("p", symbol), op("∝"),
                              sup(symbol, num(f"{a0 - 1:g}")))),
                    f"Prior: p(θ) ∝ θ^({a0 - 1:g}) (a Gamma({a0:g}, 0) limit, improper) on "
                    + where)
        return (block(row(symbol, op("∼"), dist("Gamma", num(a0), num(b0)))),
                f"Prior: Gamma(shape {a0:g}, rate {b0:g}) on " + where)

    # ---- hooks -------------------------------------------------------------------

    @staticmethod
    def derived_hyper(h: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The rows of :attr:`hyper` from draws of the natural hyperparameters."""
        a, b = h["alpha"], h["beta"]
        return {"alpha": a, "beta": b, "mean": a / b, "log_mean": np.log(a) - np.log(b),
                "log_alpha": np.log(a), "log_beta": np.log(b)}

    @property
    def group_labels(self) -> pd.Index:
        return self.data.group

    def _data_columns(self) -> dict[str, np.ndarray]:
        d = self.data
        return {"counts": d.counts, "exposure": d.exposure, "raw": d.counts / d.exposure}

    def _group_data(self) -> tuple[np.ndarray, np.ndarray]:
        d = self.data
        return d.counts.astype(float), d.exposure.astype(float)

    _conditional_moments = staticmethod(conditional_moments)

    def hyper_view(self) -> HyperView:
        """(log population mean, log shape), the coordinates of the grid's rows."""
        a, b = self.points.params["alpha"], self.points.params["beta"]
        labels = ("log population mean = log(alpha / beta)", "log alpha (shape)")
        coords = (np.log(a / b), np.log(a))
        if self.points.grid is None or self.rows is None:
            return HyperView("point", labels, coords)
        return HyperView("joint", labels, coords, self.rows.logpost,
                         caption="Joint posterior of the hyperparameters (contours at 0.05, "
                                 "0.15, …, 0.95 of the maximum).")

    _conj = GAMMA

    def _patterns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        y, t, inverse = self.data.unique_pairs()
        return y.astype(float), t.astype(float), inverse

    def _refit_model(self) -> Any:
        """The default prior is scaled by the data's reference exposure t0: a refit
        of a subset keeps this fit's t0 (as a callable prior), so the prior is the same."""
        if self.model._prior.kind != "default":
            return self.model
        from dataclasses import replace


        t0 = reference_exposure(self.data)
        default = self.model._prior

        def log_prior(alpha: np.ndarray, beta: np.ndarray) -> np.ndarray:
            u, v = np.log(alpha / beta), np.log(alpha)  # |∂(u, v)/∂(alpha, beta)| = 1/(alpha beta)
            return log_prior_uv(default, u, v, t0) - np.log(alpha) - np.log(beta)

        return replace(self.model, prior=log_prior)

    def _new_moments_exist(self) -> tuple[bool | None, bool | None]:
        """theta_new ~ Gamma(alpha, beta): E[theta] = E[alpha/beta],
        E[theta²] = E[alpha(alpha + 1)/beta²]."""
        if self.model.pooling != "partial" or self.points.grid is None:
            return True, True  # one Gamma
        prior = self.model._prior
        if prior.kind == "callable":
            return None, None
        mean_ok, mean_var_ok = moment_exists(prior, "mean")
        if not mean_ok or not mean_var_ok:
            return mean_ok, False
        # E[alpha/beta²] as well: E[alpha]·E[beta^-2], or E[mean²]·E[1/shape]
        if prior.names == ("alpha", "beta"):
            extra = prior.has_finite_mean("alpha") and _inverse_moment_finite(
                prior.dists[1], 2)
        else:
            extra = _inverse_moment_finite(prior.dists[1], 1)
        return True, bool(extra)

    def _pooled_prior(self) -> tuple[float, float] | None:
        a0, b0 = self.model.pooled_prior
        return (a0, b0) if b0 > 0 else None  # rate 0: Jeffreys' improper prior

    def replicate(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return rng.poisson(theta * self.data.exposure[None, :]).astype(float)

    def loglik(self, theta: np.ndarray) -> np.ndarray:
        d = self.data
        return poisson.logpmf(d.counts[None, :], theta * d.exposure[None, :])

    @cached_property
    def hyper(self) -> pd.DataFrame:
        """Hyperparameter table: rows alpha, beta, mean, log_mean, log_alpha, log_beta.

        ``mean`` is the population mean rate alpha/beta; ``alpha`` the shape
        (the population's coefficient of variation is alpha^(−1/2)); ``beta``
        the rate. Columns mean, sd and the quantiles of ``model.probs``. A
        mean or sd that does not exist (E[alpha], E[beta] and sd(mean) under
        the default prior) is reported as inf / NaN, never as a number that
        depends on where a grid was cut; see :func:`moment_exists`. A mean
        that exists but whose own grid cannot reach the tolerance (E[mean]
        under the default prior when small shapes are plausible) is NaN, with
        an :class:`~hierbayes.errors.AccuracyWarning`. Under
        complete pooling the one row is ``theta``; empirical Bayes reports its
        point estimate in ``mean``; no pooling has no hyperparameters.
        """
        probs = self.model.probs
        cols = ["mean", "sd", *[quantile_label(p) for p in probs]]
        if self.model.pooling == "none":
            return pd.DataFrame(columns=cols, dtype=float).rename_axis("parameter")
        a, b = float(self.points.params["alpha"][0]), float(self.points.params["beta"][0])
        if self.model.pooling == "complete":
            q = gamma_quantiles(np.array(a), np.array(b), np.asarray(probs, dtype=float))
            return pd.DataFrame([[a / b, math.sqrt(a) / b, *q]],
                                index=pd.Index(["theta"], name="parameter"), columns=cols)
        if self.points.grid is None:  # empirical Bayes: a point estimate
            est = [a, b, a / b, math.log(a / b), math.log(a), math.log(b)]
            return point_table(HYPER_NAMES, est, cols)
        assert self.rows is not None
        return _grid_hyper_table(self.points, self.model, probs, cols, self.rows)


def _inverse_moment_finite(dist: Any, r: int) -> bool:
    """Whether E[X^(−r)] < ∞ for a frozen scipy distribution on (0, ∞).

    Finite if the support starts above 0; otherwise the density behaves like
    x^k at 0 and the moment is finite iff k > r − 1. k is read off the log
    density between 1e-280 and 1e-250 (a power law there is a power law at 0;
    a density vanishing faster than any power shows as a huge k).
    """
    lo = float(dist.support()[0])
    if lo > 0:
        return True
    x = np.array([1e-280, 1e-250])
    with np.errstate(all="ignore"):
        lp = np.asarray(dist.logpdf(x), dtype=float)
    if np.all(lp == -np.inf):
        return True
    if not np.all(np.isfinite(lp)):
        return False
    k = (lp[1] - lp[0]) / (math.log(x[1]) - math.log(x[0]))
    return bool(k > r - 1 + 1e-6)


def moment_exists(prior: Prior, name: str) -> tuple[bool, bool]:
    """Whether the posterior mean and sd of ``name`` (alpha, beta or mean) are finite.

    The likelihood is bounded, so a moment that is finite under a proper
    prior is finite under the posterior; one that is infinite under the prior
    is reported as infinite (conservative: never a number where none exists).
    For the default prior the answer is derived in :mod:`hierbayes.families.gammapoisson.model`:
    E[alpha] = E[beta] = ∞; E[mean] < ∞ but sd(mean) = ∞. For a callable
    prior nothing is known here: the hyper table decides on its grid
    (:func:`hierbayes.integrate.moments.grid_mean_sd`).

    Examples
    --------
    >>> from scipy import stats
    >>> from hierbayes.families.priors import Prior
    >>> bugs = Prior("independent", ("alpha", "beta"), (stats.expon(), stats.gamma(0.1)))
    >>> moment_exists(bugs, "alpha"), moment_exists(bugs, "mean")
    ((True, True), (False, False))
    """
    if prior.kind == "default":
        return (name == "mean", False)
    if prior.kind != "independent":
        return (False, False)
    direct = {"alpha": "alpha", "beta": "beta"} if prior.names == ("alpha", "beta") else {
        "mean": "mean", "alpha": "shape"}
    if name in direct:
        key = direct[name]
        return prior.has_finite_mean(key), prior.has_finite_var(key)
    # a ratio: mean = alpha/beta, or beta = shape/mean; independent factors
    num, den = ("alpha", "beta") if name == "mean" else ("shape", "mean")
    dden = prior.dists[prior.names.index(den)]
    return (
        prior.has_finite_mean(num) and _inverse_moment_finite(dden, 1),
        prior.has_finite_var(num) and _inverse_moment_finite(dden, 2),
    )


def _grid_hyper_table(
    points: HyperPoints, model: Any, probs: Sequence[float], cols: list[str],
    rows: RowStandardised,
) -> pd.DataFrame:
    grid = points.grid
    assert grid is not None and points.logpost is not None
    w = points.weight
    a, b = points.params["alpha"], points.params["beta"]  # finite at every point
    u, v = np.log(a / b), np.log(a)

    def mean_sd(x: np.ndarray) -> tuple[float, float]:
        m = float(w @ x)
        return m, math.sqrt(max(float(w @ (x - m) ** 2), 0.0))

    table: dict[str, list[float]] = {}
    values = {"alpha": a, "beta": b, "mean": a / b}
    shape = grid.weight.shape
    log_x = {"alpha": lambda u, v: v, "beta": lambda u, v: v - u, "mean": lambda u, v: u}
    for name, x in values.items():
        if model._prior.kind == "callable":  # existence unknown: decided on the grid
            table[name] = list(grid_mean_sd(x, w.reshape(shape), model.tol, name, 5))
            continue
        finite_mean, finite_var = moment_exists(model._prior, name)
        if not finite_mean:
            table[name] = [math.inf, math.nan]
            continue
        mean = _tilted_mean(points, rows, log_x[name], model.tol, name)
        sd = math.inf
        if finite_var:
            sd = mean_sd(x)[1]
            if edge_share(w.reshape(shape) * (x - mean).reshape(shape) ** 2) > model.tol:
                # x²·p(x) has not decayed by the grid's edge: E[x²] from a grid of its own
                sd = _tilted_sd(points, rows, log_x[name], model.tol, name, mean)
        table[name] = [mean, sd]
    table["log_mean"] = list(mean_sd(u))
    table["log_alpha"] = list(mean_sd(v))
    table["log_beta"] = list(mean_sd(v - u))

    uq, vq, wq = marginal_quantiles(points, np.asarray(probs, dtype=float), model.tol, rows)
    quant = {
        "alpha": np.exp(vq),
        "beta": np.exp(wq),
        "mean": np.exp(uq),
        "log_mean": uq,
        "log_alpha": vq,
        "log_beta": wq,
    }
    data = [[*table[name], *quant[name]] for name in HYPER_NAMES]
    return pd.DataFrame(data, index=pd.Index(HYPER_NAMES, name="parameter"), columns=cols)


def _tilted_sd(points: HyperPoints, rows: RowStandardised, log_x: Callable, tol: float,
               name: str, mean: float) -> float:
    """sd(x) = sqrt(E[x²] − E[x]²) with E[x²] from the grid of x²·p (:func:`_tilted_mean`).

    NaN (with a warning) where E[x²] is not reached or the difference would lose
    more than half the digits the tolerance leaves (sd below 1e-3 of E[x]... only
    then does the subtraction cancel).
    """
    second = _tilted_mean(points, rows, lambda u, v: 2.0 * log_x(u, v), tol, f"{name}²")
    var = second - mean * mean
    if not (math.isfinite(var) and var > 0 and second / var * max(tol, 1e-16) < 1e-6):
        if math.isfinite(second):
            warnings.warn(
                f"The posterior sd of {name} exists but E[{name}²] − E[{name}]² cancels to "
                "fewer digits than the tolerance: reported as NaN.",
                AccuracyWarning, stacklevel=5,
            )
        return math.nan
    return math.sqrt(var)


def _tilted_mean(
    points: HyperPoints, rows: RowStandardised, log_x: Callable, tol: float, name: str
) -> float:
    """E[x] = ∫ x·p / ∫ p for a positive x, from a grid built for x·p itself.

    The tilted density x·p has heavier tails than p (for the mean rate, m·p
    decays in log m only at rate J·alpha when the shape is small), so it gets
    its own adaptive grid (rows standardised for x·p), extended until *its*
    edge mass is negligible; E[x] is the ratio of the normalising constants
    of the two grids. If x·p does not
    decay within reach, or its grid does not reach the tolerance, the mean is
    reported as NaN with a warning.
    """
    grid = points.grid
    assert grid is not None

    def tilted_uv(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return rows.logpost(u, v) + log_x(u, v)

    tilted = RowStandardised(tilted_uv, (rows.lo, rows.hi), lambda v: rows.maps(v)[0])

    def inverse_mean(s: np.ndarray, v: np.ndarray, w: np.ndarray) -> float:
        # Under the tilted weights E[1/x] = ∫p / ∫x·p = 1/E[x]: the grid's convergence
        # is judged on it (the value itself comes from the normalising constants, which
        # do not depend on how far the tilted grid reaches into p's own tails).
        keep = w > 0  # points of zero weight may lie far outside the support
        lx = log_x(tilted.to_u(s[keep], v[keep]), v[keep])
        return float(np.sum(w[keep] * np.exp(np.minimum(-lx, 700.0))))

    def summaries(s: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        return np.array([math.log(inverse_mean(s, v, w))])

    start = (0.0, grid.v0 + grid.sv)  # off the mode, as in marginal_quantiles
    reason = ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AccuracyWarning)
            g = integrate_2d(tilted, start=start, bounds=((-200.0, 200.0), (-40.0, 200.0)),
                             summaries=summaries, tol=tol, what=f"{name}·posterior")
        if not g.error <= tol:
            reason = f"its grid reached a numerical error of {g.error:.2g} only"
    except ImproperPosteriorError:
        reason = f"{name}·p({name}) decays too slowly to integrate within reach"
    if reason:
        warnings.warn(
            f"The posterior mean of {name} exists but could not be computed to tolerance "
            f"({reason}; heavy tail at small shapes): reported as NaN. Its quantiles and "
            f"the moments of log {name} are reported.",
            AccuracyWarning,
            stacklevel=5,
        )
        return math.nan
    return math.exp(g.log_norm - grid.log_norm)




def marginal_quantiles(
    points: HyperPoints, probs: np.ndarray, tol: float, rows: RowStandardised
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Quantiles of u = log mean, v = log alpha and w = v − u = log beta.

    The grid's coordinates are (s, v), u = c(v) + σ(v)·s (``rows``).
    Quantiles come from sinc interpolants of the grid's CDFs
    (:meth:`GridPosterior.outer_cdf` for v; :meth:`GridPosterior.inner_cdf`
    row by row for u, through {u ≤ q} = {s ≤ (q − c(v))/σ(v)}, and for w,
    through {w ≤ q} = {s ≥ (v − q − c(v))/σ(v)}). Their accuracy needs a finer
    spacing than the summaries do (measured on the pumps: CDF errors up to
    ~1e-7 at spacing 1/2, ~1e-13 at 1/4), so they come from a second grid over
    the same posterior with a tolerance 1000 times smaller.
    """
    grid = points.grid
    assert grid is not None

    def summaries(s: np.ndarray, v: np.ndarray, w: np.ndarray) -> np.ndarray:
        u = rows.to_u(s, v)
        out = []
        for x in (u, v, v - u):
            m = float(np.sum(w * x))
            sd = math.sqrt(max(float(np.sum(w * (x - m) ** 2)), 1e-300))
            out += [m / sd, math.log(sd)]
        return np.array(out)

    # Start one sd off the known mode: a start at the mode itself leaves the mode search
    # no step that beats rounding noise, and it would fall back to a slow simplex search.
    start = (0.0, grid.v0 + grid.sv)
    with warnings.catch_warnings():
        # Only the spacing matters here; the error that counts is judged against ``tol``.
        warnings.simplefilter("ignore", AccuracyWarning)
        fine = integrate_2d(
            rows,
            start=start,
            bounds=((-200.0, 200.0), (-40.0, 200.0)),
            summaries=summaries,
            tol=min(tol, 1e-10) * 1e-3,
            what="Gamma–Poisson hyperparameter posterior (fine grid for quantiles)",
        )
    if not fine.error <= tol:
        warnings.warn(
            f"The hyperparameter quantiles carry a numerical error of about {fine.error:.2g} "
            f"(tolerance {tol:.2g}): the posterior is very irregular.",
            AccuracyWarning,
            stacklevel=4,
        )
    vrow = fine.v[:, 0]
    c, sigma = rows.maps(vrow)
    fu = c[:, None] + sigma[:, None] * fine.u
    fw = fine.v - fu
    n = probs.size

    def full(x: float) -> np.ndarray:
        return np.full(n, float(x))

    vq = solve_increasing(fine.outer_cdf, probs, full(vrow.min()), full(vrow.max()))
    uq = solve_increasing(lambda q: fine.inner_cdf((q[:, None] - c) / sigma),
                          probs, full(fu.min()), full(fu.max()))
    wq = solve_increasing(lambda q: fine.inner_cdf((vrow - q[:, None] - c) / sigma, upper=True),
                          probs, full(fw.min()), full(fw.max()))
    return uq, vq, wq


# Half-width of the fine grid's hard limits on u around the mode.
_WIDTH = 60.0
