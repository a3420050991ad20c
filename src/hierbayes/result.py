"""The family-independent part of every fit: weighted hyper points and tidy tables.

A hyperparameter posterior is always a set of weighted points (STYLE.md §3):
the exact grid is many points, empirical Bayes one point, no or complete
pooling a fixed conjugate prior. Group posteriors are mixtures of conjugate
conditionals over those points, computed once per distinct data pattern
("pair") and mapped back to groups. :class:`Fit` turns a family's per-pair
numbers into the same tables for every family; a family subclass supplies the
hooks ``_data_columns``, ``_pair_index``, ``_pair_moments``,
``_pair_quantiles``, ``_draw`` and ``hyper``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from hierbayes.integrate.grid2d import GridPosterior
from hierbayes.mixtures.mixture import mixture_quantiles
from hierbayes.validate import check_memory, check_positive_int, check_prob, check_probs

__all__ = ["Fit", "HyperPoints", "HyperView", "quantile_label"]

# Mass of the smallest grid weights dropped before per-component work (quantiles):
# it bounds the CDF error, hence the quantile error by it over the density.
DROP_MASS = 1e-11


def quantile_label(p: float) -> str:
    """Column name of a quantile: 0.025 -> 'q2.5', 0.5 -> 'q50'.

    >>> quantile_label(0.975)
    'q97.5'
    """
    return "q" + f"{100 * p:.10g}"


@dataclass(frozen=True)
class HyperPoints:
    """Weighted points of a hyperparameter posterior.

    Attributes
    ----------
    params : dict of str to numpy.ndarray
        The family's natural hyperparameters at each point (e.g. alpha, beta).
    weight : numpy.ndarray
        Normalised weights.
    grid : GridPosterior or None
        The quadrature grid the points come from (None for a single point).
    logpost : callable or None
        The log posterior in the grid's coordinates (for draws).
    to_params : callable or None
        Maps grid coordinates (u, v) to ``params``.
    log_const : float
        Constant dropped from the likelihood (for the evidence).
    """

    params: dict[str, np.ndarray]
    weight: np.ndarray
    grid: GridPosterior | None = None
    logpost: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = field(
        default=None, compare=False
    )
    to_params: Callable[[np.ndarray, np.ndarray], dict[str, np.ndarray]] | None = field(
        default=None, compare=False
    )
    log_const: float = 0.0

    @classmethod
    def single(cls, **params: float) -> HyperPoints:
        """One point of weight 1 (empirical Bayes, or a fixed prior)."""
        return cls({k: np.array([float(v)]) for k, v in params.items()}, np.ones(1))

    @classmethod
    def from_grid(cls, grid: GridPosterior, logpost, to_params, log_const: float = 0.0):
        """All points of an exact quadrature grid."""
        params = to_params(grid.u.ravel(), grid.v.ravel())
        return cls(params, grid.weight.ravel(), grid, logpost, to_params, log_const)

    def compressed(self, mass: float = DROP_MASS) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """``(params, weight)`` without the lightest points carrying ``mass`` in all."""
        if self.grid is None or self.to_params is None:
            return self.params, self.weight
        u, v, w = self.grid.compressed(mass)
        return self.to_params(u, v), w

    def sample(self, size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Independent draws of the hyperparameters (exact inverse CDF on a grid)."""
        if self.grid is None or self.to_params is None or self.logpost is None:
            return {k: np.full(size, v[0]) for k, v in self.params.items()}
        from hierbayes.integrate.grid2d import sample_grid

        u, v = sample_grid(self.grid, self.logpost, size, rng)
        return self.to_params(u, v)


@dataclass(frozen=True)
class HyperView:
    """How the hyperparameter posterior is shown (plots, report), as a family sees it.

    Attributes
    ----------
    kind : {'joint', 'marginal', 'point'}
        Contours of a 2-D posterior, the density of one hyperparameter, or a
        point estimate.
    labels : tuple of str
        Axis labels: (x, y) for 'joint', (parameter,) otherwise.
    coords : tuple of numpy.ndarray
        'joint': the points' (x, y); 'point': the estimate(s).
    logpost : callable or None
        'joint': the log posterior in (x, y).
    cdf, quantile : callable or None
        'marginal': the parameter's posterior CDF and quantile function.
    caption : str
        One sentence for a figure caption.
    """

    kind: str
    labels: tuple[str, ...]
    coords: tuple[np.ndarray, ...] = ()
    logpost: Callable[..., np.ndarray] | None = field(default=None, compare=False)
    cdf: Callable[[np.ndarray], np.ndarray] | None = field(default=None, compare=False)
    quantile: Callable[[np.ndarray], np.ndarray] | None = field(default=None, compare=False)
    caption: str = ""


@dataclass(frozen=True)
class Fit:
    """Base of every fit: immutable; tables computed on first access.

    Attributes
    ----------
    model : object
        The frozen specification that was fitted.
    points : HyperPoints
        The hyperparameter posterior as weighted points.
    """

    model: Any
    points: HyperPoints

    # ---- hooks -------------------------------------------------------------------
    @property
    def group_labels(self) -> pd.Index:
        """Group labels, in order of first appearance in the data."""
        raise NotImplementedError

    def _data_columns(self) -> dict[str, np.ndarray]:
        """The data columns of the group table (e.g. successes, trials, raw)."""
        raise NotImplementedError

    # The defaults below serve the families whose points carry the population
    # distribution of theta itself, (alpha, beta) (Beta–Binomial, Gamma–Poisson):
    # theta_j at a point is ``_conj.update((alpha, beta), y_j, d_j)``. A family
    # whose points carry something else overrides them (Normal–Normal).

    def _group_data(self) -> tuple[np.ndarray, np.ndarray]:
        """The observed value and the design of each group (float arrays)."""
        raise NotImplementedError

    @staticmethod
    def _conditional_moments(
        y: np.ndarray, d: np.ndarray, a: np.ndarray, b: np.ndarray, w: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mixture mean, sd and shrinkage of theta per pattern over points (a, b, w)."""
        raise NotImplementedError

    @cached_property
    def _pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct (observed, design) patterns whose posteriors the tables need."""
        y, d, inverse = self._patterns()
        if self.model.pooling == "complete":  # every group has the common posterior
            return np.zeros(1), np.zeros(1), np.zeros(inverse.size, dtype=np.intp)
        return y, d, inverse

    def _pair_index(self) -> np.ndarray:
        """For each group, the index of its distinct data pattern."""
        return self._pairs[2]

    def _pair_moments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Posterior mean, sd and shrinkage of theta for each pattern."""
        y, d, _ = self._pairs
        p = self.points
        return self._conditional_moments(y, d, p.params["alpha"], p.params["beta"], p.weight)

    def _pair_quantiles(self, probs: Sequence[float]) -> np.ndarray:
        """Posterior quantiles of theta, shape (patterns, probs): one conjugate
        distribution inverted directly, or a mixture by the one mixture engine."""
        y, d, _ = self._pairs
        mean, sd, _ = self._moments
        params, w = self.points.compressed()
        a, b = params["alpha"], params["beta"]
        pr = np.asarray(probs, dtype=float)
        conj = self._conj
        if a.size == 1:
            return conj.ppf(conj.update((a[0], b[0]), y[:, None], d[:, None]), pr[None, :])

        def components(sl: slice) -> tuple[np.ndarray, np.ndarray]:
            return conj.update((a[:, None], b[:, None]), y[None, sl], d[None, sl])

        return mixture_quantiles(conj, components, w, pr, mean, sd)

    def _draw(self, size: int, rng: np.random.Generator) -> tuple[dict[str, np.ndarray],
                                                                  np.ndarray]:
        """Hyperparameter draws and theta draws of shape (size, groups)."""
        hyper = self.points.sample(size, rng)
        a, b = hyper["alpha"], hyper["beta"]
        y, d = self._group_data()
        if self.model.pooling == "complete":
            theta = np.repeat(self._conj.sample((a, b), rng)[:, None], y.size, axis=1)
        else:
            theta = self._conj.sample(self._conj.update((a[:, None], b[:, None]),
                                                        y[None, :], d[None, :]), rng)
        return {"alpha": a, "beta": b}, theta

    @property
    def hyper(self) -> pd.DataFrame:
        """Hyperparameter table (family-specific rows)."""
        raise NotImplementedError

    @property
    def observed_name(self) -> str:
        """Name of the observed quantity per group (``successes``, ``estimate``, ``counts``)."""
        return self.family_info.roles[0]

    @property
    def design_name(self) -> str:
        """Name of what each group's data were measured with (``trials``, ``std_error``, ...)."""
        return self.family_info.roles[1]

    def observed(self) -> np.ndarray:
        """The observed quantity per group (float array, group order)."""
        return self._group_data()[0]

    def replicate(self, theta: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Replicated data, one per theta: ``theta`` has shape (draws, groups).

        The sampling model of each group with its own design (trials,
        standard error or exposure); the result has the shape of ``theta``.
        """
        raise NotImplementedError

    def loglik(self, theta: np.ndarray) -> np.ndarray:
        """log p(y_j | theta_j) for ``theta`` of shape (draws, groups), normalising
        constants included (binomial coefficients, 1/y!, 1/sqrt(2 pi s^2))."""
        raise NotImplementedError

    def hyper_view(self) -> HyperView:
        """The hyperparameter posterior as plots and the report show it (partial pooling)."""
        raise NotImplementedError

    def group_size(self) -> np.ndarray:
        """How much each group's data weigh: the design (trials, exposure) by default."""
        return self._group_data()[1]

    def quadrature_shape(self) -> tuple[int, ...] | None:
        """Shape of the quadrature grid the points come from (None for a single point)."""
        grid = self.points.grid
        return None if grid is None else tuple(grid.weight.shape)

    def _new_theta_quantiles(self, probs: np.ndarray) -> np.ndarray | None:
        """Quantiles of a new group's theta (no data) where the plain point mixture
        is not accurate enough, or None (then the mixture over the points is used)."""
        return None

    def point_hyper(self) -> dict[str, np.ndarray]:
        """The natural hyperparameters of a one-point posterior (empirical Bayes)."""
        return {k: v[:1] for k, v in self.points.params.items()}

    # ---- shared ------------------------------------------------------------------
    @cached_property
    def _moments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self._pair_moments()

    @property
    def error(self) -> float:
        """Estimated numerical error of the posterior summaries (0 where closed form)."""
        grid = self.points.grid
        return 0.0 if grid is None else float(grid.error)

    @cached_property
    def groups(self) -> pd.DataFrame:
        """Per-group table: the data columns, ``mean``, ``sd``, quantiles, ``shrinkage``.

        Quantile columns follow ``model.probs`` (``q2.5``, ``q50``, ``q97.5``
        by default); ``shrinkage`` is the posterior mean of the weight the
        group's estimate puts on the population mean.
        """
        probs = self.model.probs
        return self._table(probs, [quantile_label(p) for p in probs])

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
        q = self._pair_quantiles(probs)[self._pair_index()]
        labels = [quantile_label(p) for p in probs]
        return pd.DataFrame(q, index=self.group_labels, columns=labels)

    def _table(self, probs: Sequence[float], names: list[str]) -> pd.DataFrame:
        inverse = self._pair_index()
        mean, sd, shrink = (x[inverse] for x in self._moments)
        q = self._pair_quantiles(probs)[inverse] if names else None
        table = {
            **self._data_columns(),
            "mean": mean,
            "sd": sd,
            **{name: q[:, i] for i, name in enumerate(names)},  # type: ignore[index]
            "shrinkage": shrink,
        }
        # the columns are fresh arrays (or the data's): no copy into 2-d blocks
        return pd.DataFrame(table, index=self.group_labels, copy=False)

    @cached_property
    def moments(self) -> pd.DataFrame:
        """Per-group table without quantiles: the data columns, ``mean``, ``sd``, ``shrinkage``.

        Cheap at any number of groups: exact mixture moments once per distinct
        data pattern, mapped back to the groups, and no root finding. Use
        :attr:`groups` or :meth:`summary` when intervals are needed.

        Examples
        --------
        >>> import hierbayes as hb
        >>> m = hb.BetaBinomial().fit(hb.datasets.load("rats")).moments
        >>> list(m.columns)
        ['successes', 'trials', 'raw', 'mean', 'sd', 'shrinkage']
        """
        return self._table((), [])

    def draws(self, size: int = 4000, *, seed: int | None = None) -> pd.DataFrame:
        """Independent joint posterior draws of the hyperparameters and every theta_j.

        Columns: the hyperparameters, then ``theta[<group>]`` for each group.
        Hyperparameters are drawn exactly from their posterior (inverse CDF on
        the quadrature's interpolant, no grid artefacts), then each theta_j
        from its conjugate conditional.

        Examples
        --------
        >>> import hierbayes as hb
        >>> d = hb.BetaBinomial().fit(hb.datasets.load("rats")).draws(100, seed=1)
        >>> d.shape
        (100, 73)
        """
        size = check_positive_int("size", size)
        cols = len(self.group_labels) + len(self.points.params) + 1
        # theta, the frame built from it and one working copy are held at once
        check_memory(f"{size} joint draws of {len(self.group_labels)} groups",
                     3 * 8.0 * size * cols,
                     "ask for fewer draws")
        hyper, theta = self._draw(size, np.random.default_rng(seed))
        frame = pd.DataFrame(theta, columns=[f"theta[{g}]" for g in self.group_labels])
        for i, (name, values) in enumerate(hyper.items()):
            frame.insert(i, name, values)
        return frame

    # ---- conjugate hooks used by checks and predictions (hierbayes.families.conjugate) ------
    _conj: ClassVar[Any] = None
    # whether the thetas are independent given one hyperparameter point (exact P(best))
    _independent_at_points: ClassVar[bool] = True
    family_info: ClassVar[Any] = None  # the family's FamilyInfo (hierbayes.families.registry)

    def _patterns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Distinct (observed, design) patterns and each group's pattern."""
        raise NotImplementedError

    def _loo_prior(self, y: np.ndarray, d: np.ndarray,
                   sl: slice = slice(None)) -> tuple[np.ndarray, np.ndarray]:
        """theta of each pattern's group at each point, without that group's data.

        ``y`` and ``d`` are the patterns ``sl`` of :meth:`_patterns` (a family whose
        population differs by pattern, a regression, reads its covariates there).
        This default serves the families whose points carry (alpha, beta), the
        population distribution itself; under complete pooling the one point is
        the common posterior, from which the group's data are removed.
        """
        p = self.points.params
        a, b = p["alpha"][:, None], p["beta"][:, None]
        if self.model.pooling == "complete":
            return self._conj.downdate((a, b), y[None, :], d[None, :])
        return a, b

    def _new_prior(self, covariates: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """theta of a new group at each point (default: the (alpha, beta) points);
        a regression reads the new group's ``covariates``."""
        return self.points.params["alpha"], self.points.params["beta"]

    def _pooled_prior(self) -> tuple[float, float] | None:
        """The proper prior of theta under complete / no pooling, or None if improper."""
        raise NotImplementedError

    def _new_group_reason(self, covariates: Any = None) -> str | None:
        """Why a new group has no predictive distribution, or None."""
        if covariates is not None:
            return "this fit has no covariates (fit with covariates=... to use them)."
        if self.model.pooling == "none" and self._pooled_prior() is None:
            return ("under no pooling a new group's theta has the improper pooled prior, "
                    "which predicts nothing; use partial pooling or a proper pooled_prior.")
        return None

    def _refit_model(self) -> Any:
        """The specification to refit a subset of the groups with, under the same prior."""
        return self.model

    def _new_moments_exist(self) -> tuple[bool | None, bool | None]:
        """Whether a new group's theta has a finite mean and variance (None: unknown)."""
        return True, True  # bounded theta (Beta–Binomial)

    def _evidence_reason(self) -> str | None:
        """Why log p(y) is not defined for this fit's hyperprior, or None."""
        kind = self.model._prior.kind
        if kind == "default":
            return ("the default hyperprior is improper, so p(y) is defined only up to an "
                    "arbitrary constant. Give proper priors as scipy.stats distributions.")
        if kind == "callable":
            return ("a callable prior's normalising constant is unknown. Give proper priors "
                    "as scipy.stats distributions.")
        return None

    def _log_norm(self) -> float:
        """log ∫ p(y | eta) p(eta) d eta from the quadrature (proper priors)."""
        grid = self.points.grid
        assert grid is not None
        return float(grid.log_norm + self.points.log_const)

    # ---- the model as mathematics (the report) ------------------------------------
    def model_lines(self) -> list[tuple[str, str]]:
        """The fitted model, a line each: (a MathML formula or '', the same in words).

        The sampling model, then (partial pooling) the population distribution
        and the hyperprior, or (complete / no pooling) the prior of the shared
        or of each group's theta.

        Examples
        --------
        >>> import hierbayes as hb
        >>> fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
        >>> [words.split(":")[0] for _, words in fit.model_lines()]
        ['Data', 'Population', 'Prior']
        """
        from hierbayes.mathml import block, op, row, sub

        lines = [self._model_sampling()]
        pooling = self.model.pooling
        if pooling == "partial":
            lines += [self._model_population(), self._model_hyperprior()]
            if self.model.method == "eb":
                lines.append(("", "Empirical Bayes: the hyperparameters are fixed at the "
                              "maximum of the marginal likelihood, so their uncertainty is "
                              "not carried into the group posteriors."))
        elif pooling == "complete":
            shared = ("θ", "Complete pooling: one value θ shared by every group, θ_j = θ.")
            lines += [(block(row(sub("θ", "j"), op("="), "θ")), shared[1]),
                      self._model_pooled(shared[0])]
        else:
            lines.append(self._model_pooled(sub("θ", "j")))
        return lines

    def _model_sampling(self) -> tuple[str, str]:
        raise NotImplementedError

    def _model_population(self) -> tuple[str, str]:
        raise NotImplementedError

    def _model_hyperprior(self) -> tuple[str, str]:
        raise NotImplementedError

    def _model_pooled(self, symbol: str) -> tuple[str, str]:
        raise NotImplementedError

    def __repr__(self) -> str:
        m = self.model
        acc = f", numerical error {self.error:.1g}" if self.points.grid is not None else ""
        return (
            f"<{type(self).__name__}: {len(self.group_labels)} groups, "
            f"pooling={m.pooling!r}, method={m.method!r}, prior={m._prior.describe()}{acc}>"
        )


def point_table(names: Sequence[str], estimates: Sequence[float], cols: list[str]) -> pd.DataFrame:
    """Hyperparameter table of a point estimate: ``mean`` holds it, the rest NaN."""
    data = [[e, *([math.nan] * (len(cols) - 1))] for e in estimates]
    return pd.DataFrame(data, index=pd.Index(list(names), name="parameter"), columns=cols)
