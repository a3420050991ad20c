"""What every family's model shares: its settings, validated once, and the one pipeline.

Every family fits in the same steps (MODEL.md §2): reduce the data to their
sufficient statistics, then

* complete pooling: one conjugate posterior from the pooled prior and all data;
* no pooling: each group alone under the pooled prior;
* partial pooling: warn when the data cannot inform the population
  distribution, then either plug in the type-II maximum-likelihood point
  (empirical Bayes) or refuse an improper posterior and integrate the
  hyperparameter posterior exactly.

:class:`ModelSpec` holds those steps once. A family's specification (a frozen
dataclass with the fields ``prior``, ``pooling``, ``method``, ``tol`` and
``probs``) inherits it and supplies the hooks: ``_resolve_prior``,
``_complete``, ``_unpooled``, ``_degenerate``, ``_empirical_bayes``,
``_check_propriety`` and ``_exact``.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

from hierbayes.errors import DegenerateDataWarning, PriorError
from hierbayes.result import HyperPoints
from hierbayes.validate import check_choice, check_probs, check_tol

__all__ = ["METHODS", "POOLINGS", "ModelSpec"]

POOLINGS = ("partial", "complete", "none")
METHODS = ("exact", "eb")


class ModelSpec:
    """Shared validation and fitting pipeline of the family specifications.

    Examples
    --------
    >>> import hierbayes as hb
    >>> hb.BetaBinomial(pooling="some")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    hierbayes.validate.ArgumentError: `pooling` must be one of ...; got 'some'.
    """

    pooling: str
    method: str
    tol: float
    probs: tuple[float, ...]
    prior: Any
    # the class of its fits: the public model (hierbayes.models) binds its public fit
    _fit_class: ClassVar[type]

    def __post_init__(self) -> None:
        check_choice("pooling", self.pooling, POOLINGS)
        check_choice("method", self.method, METHODS)
        check_tol("tol", self.tol)
        object.__setattr__(self, "probs", check_probs("probs", self.probs))
        self._check_settings()
        resolved, is_default = self._resolve_prior()
        if self.method == "eb" and not is_default:
            raise PriorError(
                "`method='eb'` maximises the marginal likelihood and uses no hyperprior; "
                "leave `prior` unset or use method='exact'."
            )
        object.__setattr__(self, "_prior", resolved)

    # ---- the pipeline -----------------------------------------------------------
    def _posterior(self, stats: Any) -> tuple[HyperPoints, dict[str, Any]]:
        """The hyperparameter posterior from the sufficient statistics alone.

        Returns the points and the extra fields of the fit (e.g. the collapsed
        likelihood of an exact fit). Equal statistics give equal numbers,
        whichever route (in memory, Dask) reduced them.
        """
        if self.pooling == "complete":
            return self._complete(stats), {}
        if self.pooling == "none":
            return self._unpooled(stats), {}
        reason = self._degenerate(stats)
        if reason is not None:
            warnings.warn(reason, DegenerateDataWarning, stacklevel=4)
        if self.method == "eb":
            return self._empirical_bayes(stats), {}
        self._check_propriety(stats)
        return self._exact(stats)

    def _fitted(self, data: Any, stats: Any) -> Any:
        """The fit of ``data`` (the fit's data field) reduced to ``stats``."""
        points, extra = self._posterior(stats)
        return self._fit_class(self, points, data, **extra)

    # ---- hooks ------------------------------------------------------------------
    def _check_settings(self) -> None:
        """Validate the family's own settings (e.g. ``pooled_prior``)."""

    def _resolve_prior(self) -> tuple[Any, bool]:
        """The validated prior, and whether it is the family's default."""
        raise NotImplementedError

    def _complete(self, stats: Any) -> HyperPoints:
        """The one common posterior (complete pooling)."""
        raise NotImplementedError

    def _unpooled(self, stats: Any) -> HyperPoints:
        """The pooled prior every group is updated from alone (no pooling)."""
        raise NotImplementedError

    def _degenerate(self, stats: Any) -> str | None:
        """Why the data cannot inform the population distribution, or None."""
        return None

    def _empirical_bayes(self, stats: Any) -> HyperPoints:
        """The type-II maximum-likelihood point."""
        raise NotImplementedError

    def _check_propriety(self, stats: Any) -> None:
        """Raise :class:`~hierbayes.errors.ImproperPosteriorError` for an improper posterior."""

    def _exact(self, stats: Any) -> tuple[HyperPoints, dict[str, Any]]:
        """The exact hyperparameter posterior and the fit's extra fields."""
        raise NotImplementedError
