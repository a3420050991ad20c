"""Hyperprior specifications, one form for every family.

A prior is given as

* ``None`` or ``"default"``: the family's documented default;
* a dict of independent proper priors, scipy.stats frozen continuous
  distributions keyed by hyperparameter name in one of the family's natural
  parametrizations (Beta–Binomial: ``mu`` and ``kappa``, or ``alpha`` and
  ``beta``), the Jacobians to the sampler's coordinates handled here;
* a callable ``log_density(p1, p2)`` in the family's natural parameters
  (Beta–Binomial: ``alpha, beta``), documented per family.

Names of known improper priors (``"flat"``) are refused with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from hierbayes.errors import ImproperPosteriorError, PriorError

__all__ = ["Prior", "resolve_prior"]


@dataclass(frozen=True)
class Prior:
    """A validated hyperprior.

    Attributes
    ----------
    kind : {'default', 'independent', 'callable'}
    names : tuple of str
        The parametrization the prior is stated in (empty for 'default').
    dists : tuple
        Frozen scipy distributions, in the order of ``names`` ('independent').
    log_density : callable or None
        User log density ('callable').
    """

    kind: str
    names: tuple[str, ...] = ()
    dists: tuple[Any, ...] = ()
    log_density: Callable[..., Any] | None = field(default=None, compare=False)

    def logpdf(self, *values: np.ndarray) -> np.ndarray:
        """Sum of the independent log densities at ``values`` (in ``names`` order)."""
        total = np.zeros(np.broadcast(*values).shape)
        for dist, val in zip(self.dists, values, strict=True):
            total = total + dist.logpdf(val)
        return total

    def call(self, *values: np.ndarray) -> np.ndarray:
        """The user's log density at ``values`` (in ``names`` order), checked.

        One finite value or -inf per point, or a :class:`~hierbayes.errors.PriorError`:
        a NaN is not a density, and treating it as zero would silently cut
        the posterior.

        Examples
        --------
        >>> p = Prior("callable", names=("alpha", "beta"), log_density=lambda a, b: -a - b)
        >>> p.call(np.array([1.0]), np.array([2.0])).tolist()
        [-3.0]
        >>> nan = Prior("callable", ("alpha", "beta"), log_density=lambda a, b: a * np.nan)
        >>> nan.call(np.array([1.0]), np.array([2.0]))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        hierbayes.errors.PriorError: The prior callable returned nan at (alpha, beta) = (1, 2); ...
        """
        assert self.log_density is not None
        shape = np.broadcast(*values).shape
        with np.errstate(all="ignore"):
            val = np.asarray(self.log_density(*values), dtype=float)
        point = ", ".join(self.names)
        if val.shape != shape:
            raise PriorError(
                f"The prior callable must return one log density per ({point}) point; "
                f"got shape {val.shape} for inputs of shape {shape}."
            )
        bad = np.isnan(val) | (val == np.inf)
        if bad.any():
            i = np.flatnonzero(bad.ravel())[0]
            at = ", ".join(f"{np.broadcast_to(x, shape).ravel()[i]:.6g}" for x in values)
            raise PriorError(
                f"The prior callable returned {val.ravel()[i]} at ({point}) = ({at}); it must "
                "return a log density (a number, or -inf where the density is 0)."
            )
        return val

    def has_finite_mean(self, name: str) -> bool:
        """Whether the prior named ``name`` has a finite mean ('independent' only)."""
        dist = self.dists[self.names.index(name)]
        return bool(np.isfinite(dist.mean()))

    def has_finite_var(self, name: str) -> bool:
        """Whether the prior named ``name`` has a finite variance ('independent' only)."""
        dist = self.dists[self.names.index(name)]
        return bool(np.isfinite(dist.var()))

    def describe(self) -> str:
        """One line saying what the prior is."""
        if self.kind == "default":
            return "default"
        if self.kind == "callable":
            name = getattr(self.log_density, "__name__", "user function")
            return f"user log density {name}({', '.join(self.names)})"
        parts = []
        for n, d in zip(self.names, self.dists, strict=True):
            args = ", ".join(f"{a:g}" for a in d.args)
            kw = ", ".join(f"{k}={v:g}" for k, v in d.kwds.items())
            parts.append(f"{n} ~ {d.dist.name}({', '.join(p for p in (args, kw) if p)})")
        return "; ".join(parts)


def _frozen_args(dist: Any) -> str:
    """The parameters of a frozen scipy.stats distribution as written, e.g. ``scale=0``."""
    parts = [repr(a) for a in dist.args] + [f"{k}={v!r}" for k, v in dist.kwds.items()]
    return ", ".join(parts) or "no parameters"


def _is_frozen_continuous(obj: Any) -> bool:
    return isinstance(obj, stats.distributions.rv_frozen) and isinstance(
        obj.dist, stats.rv_continuous
    )


def resolve_prior(
    prior: Any,
    *,
    family: str,
    parametrizations: Mapping[tuple[str, str], tuple[tuple[float, float], tuple[float, float]]],
    callable_names: tuple[str, str],
    improper: Mapping[str, str],
) -> Prior:
    """Validate a user prior for a family.

    Parameters
    ----------
    prior : None, str, dict or callable
        What the user passed.
    family : str
        Family name, for messages.
    parametrizations : mapping
        Allowed key pairs and the support each parameter must lie in.
    callable_names : (str, str)
        The arguments a callable prior receives.
    improper : mapping
        Names of known improper priors and the reason each is refused.

    Examples
    --------
    >>> p = resolve_prior({"mu": stats.beta(1, 1), "kappa": stats.expon()},
    ...                   family="BetaBinomial",
    ...                   parametrizations={("mu", "kappa"): ((0, 1), (0, np.inf))},
    ...                   callable_names=("alpha", "beta"), improper={})
    >>> p.kind, p.names
    ('independent', ('mu', 'kappa'))
    """
    if prior is None or (isinstance(prior, str) and prior == "default"):
        return Prior("default")
    if isinstance(prior, str):
        if prior in improper:
            raise ImproperPosteriorError(
                f"The prior {prior!r} gives an improper posterior for {family}: "
                f"{improper[prior]}"
            )
        raise PriorError(
            f"`prior` must be 'default', a dict of scipy.stats distributions or a callable; "
            f"got {prior!r}. Known improper choices ({', '.join(map(repr, improper))}) are "
            "refused."
        )
    if callable(prior) and not isinstance(prior, Mapping):
        return Prior("callable", names=callable_names, log_density=prior)
    if not isinstance(prior, Mapping):
        raise TypeError(
            f"`prior` must be None, 'default', a dict or a callable; got {type(prior).__name__}."
        )
    keys = set(prior)
    options = " or ".join(
        "{" + ", ".join(repr(k) for k in pair) + "}" for pair in parametrizations
    )
    for pair, supports in parametrizations.items():
        if keys == set(pair):
            dists = tuple(prior[k] for k in pair)
            for name, dist, (lo, hi) in zip(pair, dists, supports, strict=True):
                if not _is_frozen_continuous(dist):
                    raise TypeError(
                        f"The prior on {name!r} must be a frozen scipy.stats continuous "
                        f"distribution such as scipy.stats.gamma(2); got {dist!r}."
                    )
                slo, shi = (float(x) for x in dist.support())
                if math.isnan(slo) or math.isnan(shi):
                    raise PriorError(
                        f"The prior on {name!r} has parameters scipy.stats.{dist.dist.name} "
                        f"does not accept ({_frozen_args(dist)}): its support is undefined. "
                        "Scales must be positive and shapes inside their documented ranges."
                    )
                q25, q50, q75 = (float(x) for x in dist.ppf([0.25, 0.5, 0.75]))
                if not q75 - q25 > 1e-100 * max(1.0, abs(q50)):
                    raise PriorError(
                        f"The prior on {name!r} (scipy.stats.{dist.dist.name}, "
                        f"{_frozen_args(dist)}) has no spread the quadrature can resolve: its "
                        f"quartiles are {q25:.6g} and {q75:.6g}. To fix {name} at a value, give "
                        "a prior of small but resolvable width (relative 1e-100 or more)."
                    )
                if slo < lo or shi > hi:
                    raise PriorError(
                        f"The prior on {name!r} has support [{slo:g}, {shi:g}] but {name} "
                        f"lies in [{lo:g}, {hi:g}]: the prior puts mass where the "
                        "parameter cannot be."
                    )
            return Prior("independent", names=pair, dists=dists)
    raise PriorError(
        f"A prior dict for {family} must have exactly the keys {options}; got "
        f"{', '.join(map(repr, sorted(keys, key=str))) or 'none'}."
    )
