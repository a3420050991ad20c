"""Normal–Normal hyperpriors: what the user may pass, propriety, and which moments exist.

Accepted forms (the one prior form of :mod:`hierbayes.families.priors`, plus shorthands):

* ``None``, ``'default'``, ``'uniform'``: p(mu, tau) ∝ 1 (BDA3 §5.4), flat on mu
  and uniform on tau; the posterior is proper iff J ≥ 3;
* ``'halfcauchy(A)'``: ``{'tau': scipy.stats.halfcauchy(scale=A)}`` (Gelman 2006);
* a dict of frozen scipy.stats distributions keyed ``{'mu', 'tau'}``, ``{'tau'}``
  (mu flat) or ``{'mu'}`` (tau uniform);
* a callable ``log_density(mu, tau)`` (vectorised), integrated on a 2-D grid.

Refused: p(tau) ∝ 1/tau (``'log-uniform'``, ``'jeffreys'``): the likelihood
tends to a positive constant as tau → 0, so ∫ dtau/tau diverges at 0 for
every data set.

Which posterior moments exist (MODEL.md §7). For large tau the likelihood
with mu integrated out behaves like tau^(−k), k = J − 1 under a flat prior on
mu and k = J under a proper one, so the posterior tail of tau is the prior's
times tau^(−k):

* uniform prior on tau: proper iff k ≥ 2; E[tau^r] exists iff r < k − 1
  (eight schools, J = 8: all exist; J = 3 or 4: E[tau²] does not, and for
  J = 3 not even E[tau]);
* proper prior on tau: E[tau^r] exists iff r ≤ k or the prior has a finite
  moment of order r − k (half-Cauchy, flat mu: E[tau] needs J ≥ 2, sd(tau)
  needs J ≥ 3);
* flat prior on mu: Var(mu | tau) = V ≈ tau²/J, so E[mu] exists iff E[tau]
  does and sd(mu) iff E[tau²] does; a Normal prior on mu bounds V, so all
  moments of mu exist;
* another proper prior on mu: p(y | mu) ≤ C |mu|^(1−J), so E|mu|^r exists if
  the prior's does or r ≤ J − 1 (or r = J with a finite prior mean); otherwise
  it is not established and reported as NaN.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats
from scipy.special import expit, log_expit, logit

from hierbayes.errors import ImproperPosteriorError, PriorError
from hierbayes.families.priors import Prior, resolve_prior

__all__ = ["IntervalMap", "NormalPrior", "normal_prior"]

_IMPROPER = {
    "log-uniform": "p(tau) ∝ 1/tau (flat on log tau) is improper for every data set: the "
    "likelihood tends to a positive constant as tau → 0, so ∫ dtau/tau diverges there "
    "(BDA3 §5.4). Use the default uniform prior on tau (J ≥ 3) or a proper prior.",
    "jeffreys": "p(tau) ∝ 1/tau is improper for every data set; see 'log-uniform'.",
    "flat": "'flat' is ambiguous here: the default is already flat on mu and uniform on tau "
    "(proper iff J ≥ 3); p(tau) ∝ 1/tau ('log-uniform') is always improper. Pass None.",
}
_HALFCAUCHY = re.compile(r"^\s*half-?cauchy\s*\(\s*(?:scale\s*=\s*)?([^)\s]+)\s*\)\s*$", re.I)


@dataclass(frozen=True)
class IntervalMap:
    """An unconstrained coordinate z for a parameter on its prior support (a, b).

    The identity on (−∞, ∞); ``a + e^z`` on (a, ∞) (``z = log tau`` for tau on
    (0, ∞)); ``b − e^(−z)`` on (−∞, b); ``a + (b − a)·expit(z)`` on (a, b).
    A density that is smooth and positive up to a finite end of the support
    decays exponentially in z there, so the trapezoid rule stays exponentially
    accurate (a hard edge inside the grid would not).
    """

    a: float = -math.inf
    b: float = math.inf

    def value(self, z: np.ndarray) -> np.ndarray:
        """The parameter at z."""
        lo, hi = math.isinf(self.a), math.isinf(self.b)
        if lo and hi:
            return np.asarray(z, dtype=float)
        if hi:
            return self.a + np.exp(z)
        if lo:
            return self.b - np.exp(-np.asarray(z, dtype=float))
        return self.a + (self.b - self.a) * expit(z)

    def log_value(self, z: np.ndarray) -> np.ndarray:
        """log of the (positive) parameter at z; exact on (0, ∞), where it is z."""
        if self.a == 0.0 and math.isinf(self.b):
            return np.asarray(z, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(self.value(z))

    def log_jac(self, z: np.ndarray) -> np.ndarray:
        """log |d value / dz|."""
        z = np.asarray(z, dtype=float)
        lo, hi = math.isinf(self.a), math.isinf(self.b)
        if lo and hi:
            return np.zeros(z.shape)
        if hi:
            return z
        if lo:
            return -z
        return math.log(self.b - self.a) + log_expit(z) + log_expit(-z)

    def inverse(self, x: np.ndarray) -> np.ndarray:
        """z at x (vectorised); −inf / +inf at or beyond the ends of the support."""
        x = np.asarray(x, dtype=float)
        lo, hi = math.isinf(self.a), math.isinf(self.b)
        with np.errstate(divide="ignore", invalid="ignore"):
            if lo and hi:
                z = x
            elif hi:
                z = np.log(np.maximum(x - self.a, 0.0))
            elif lo:
                z = -np.log(np.maximum(self.b - x, 0.0))
            else:
                z = logit(np.clip((x - self.a) / (self.b - self.a), 0.0, 1.0))
        return z

    def bounds(self, centre: float, scale: float) -> tuple[float, float]:
        """Hard limits on z for a parameter of the given location and scale."""
        lo, hi = math.isinf(self.a), math.isinf(self.b)
        if lo and hi:
            return centre - 1e8 * scale, centre + 1e8 * scale
        if hi:
            return math.log(scale) - 300.0, math.log(scale) + 100.0
        if lo:
            return -math.log(scale) - 100.0, -math.log(scale) + 300.0
        return min(math.log(scale / (self.b - self.a)), 0.0) - 300.0, 100.0


@dataclass(frozen=True)
class NormalPrior:
    """A resolved Normal–Normal hyperprior.

    Attributes
    ----------
    base : Prior
        The generic form (kind 'default', 'independent' or 'callable').
    mu : scipy frozen distribution or None
        Prior on mu (None: flat).
    tau : scipy frozen distribution or None
        Prior on tau (None: uniform on [0, ∞)).
    """

    base: Prior
    mu: Any = None
    tau: Any = None

    @property
    def is_callable(self) -> bool:
        """Whether the prior is a user log density in (mu, tau)."""
        return self.base.kind == "callable"

    @property
    def mu_normal(self) -> tuple[float, float] | None:
        """(mean, variance) of a Normal prior on mu, else None."""
        if self.mu is not None and self.mu.dist.name == "norm":
            return float(self.mu.mean()), float(self.mu.var())
        return None

    @property
    def collapsible(self) -> bool:
        """Whether mu integrates out in closed form (flat or Normal prior on mu)."""
        return not self.is_callable and (self.mu is None or self.mu_normal is not None)

    @property
    def tau_map(self) -> IntervalMap:
        """The coordinate of tau used for quadrature (log tau under an unbounded prior)."""
        if self.tau is None or self.is_callable:
            return IntervalMap(0.0, math.inf)
        lo, hi = (float(v) for v in self.tau.support())
        return IntervalMap(max(lo, 0.0), hi)

    @property
    def mu_map(self) -> IntervalMap:
        """The coordinate of mu used for quadrature (mu itself unless its prior is bounded)."""
        if self.mu is None or self.is_callable:
            return IntervalMap()
        lo, hi = (float(v) for v in self.mu.support())
        return IntervalMap(lo, hi)

    def log_prior_tau(self, z: np.ndarray) -> np.ndarray:
        """log p(tau) + log |dtau/dz| at z (the uniform prior's density is 1)."""
        m = self.tau_map
        if self.tau is None:
            return m.log_jac(z)
        return self.tau.logpdf(m.value(z)) + m.log_jac(z)

    def log_prior_mu(self, u: np.ndarray) -> np.ndarray:
        """log p(mu) + log |dmu/du| at the coordinate u of mu (0 under the flat prior)."""
        if self.mu is None:
            return np.zeros(np.shape(u))
        m = self.mu_map
        return self.mu.logpdf(m.value(u)) + m.log_jac(u)

    def check_proper(self, n_groups: int) -> None:
        """Refuse an improper posterior (the uniform prior on tau with too few groups)."""
        if self.is_callable or self.tau is not None:
            return
        k = n_groups - 1 if self.mu is None else n_groups
        if k >= 2:
            return
        need = 3 if self.mu is None else 2
        mu_txt = "p(mu, tau) ∝ 1" if self.mu is None else "a uniform prior on tau"
        raise ImproperPosteriorError(
            f"With {mu_txt} the posterior is improper for J = {n_groups} group"
            f"{'s' if n_groups != 1 else ''}: for large tau it decays only like "
            f"tau^(-{k}), which does not integrate (proper iff J ≥ {need}, BDA3 §5.4). "
            "Use a proper prior on tau, e.g. prior={'tau': scipy.stats.halfcauchy(scale=25)} "
            "with the scale in the units of the estimates."
        )

    def tau_moment(self, r: int, n_groups: int) -> bool | None:
        """Whether E[tau^r] (r = 1, 2) exists; None where it is not established."""
        if self.is_callable:
            return None
        k = n_groups - 1 if self.mu is None else n_groups
        if self.tau is None:
            return r < k - 1
        if r <= k:
            return True
        return _prior_moment(self.tau, r - k)

    def mu_moment(self, r: int, n_groups: int) -> bool | None:
        """Whether E[|mu|^r] (r = 1, 2) exists; None where it is not established."""
        if self.is_callable:
            return None
        if self.mu is None:
            return self.tau_moment(r, n_groups)
        if self.mu_normal is not None or _prior_moment(self.mu, r):
            return True
        if r <= n_groups - 1 or (r == n_groups and _prior_moment(self.mu, 1)):
            return True
        return None

    def describe(self) -> str:
        """One line saying what the prior is."""
        if self.base.kind == "default":
            return "p(mu, tau) ∝ 1"
        text = self.base.describe()
        if self.base.kind == "independent":
            if self.mu is None:
                text += "; mu flat"
            if self.tau is None:
                text += "; tau uniform"
        return text


def _prior_moment(dist: Any, r: int) -> bool:
    with np.errstate(all="ignore"):
        value = dist.mean() if r == 1 else dist.var()
    return bool(np.isfinite(value))


def normal_prior(prior: Any) -> NormalPrior:
    """Validate a Normal–Normal prior specification.

    Examples
    --------
    >>> p = normal_prior({"tau": stats.halfcauchy(scale=5)})
    >>> p.collapsible, p.mu is None
    (True, True)
    >>> normal_prior("halfcauchy(25)").tau.kwds
    {'scale': 25.0}
    """
    if isinstance(prior, str):
        key = prior.strip().lower()
        if key in ("uniform", "default"):
            prior = None
        elif (match := _HALFCAUCHY.match(prior)) is not None:
            try:
                scale = float(match.group(1))
            except ValueError:
                scale = math.nan
            if not (scale > 0 and math.isfinite(scale)):
                raise PriorError(
                    f"The half-Cauchy scale must be a positive number; got {match.group(1)!r}."
                )
            prior = {"tau": stats.halfcauchy(scale=scale)}
        elif key in ("halfcauchy", "half-cauchy"):
            raise PriorError(
                "A half-Cauchy prior on tau needs a scale in the units of the estimates: "
                "prior='halfcauchy(25)' or prior={'tau': scipy.stats.halfcauchy(scale=25)}."
            )
    base = resolve_prior(
        prior,
        family="NormalNormal",
        parametrizations={  # type: ignore[dict-item]
            ("mu", "tau"): ((-math.inf, math.inf), (0.0, math.inf)),
            ("tau",): ((0.0, math.inf),),
            ("mu",): ((-math.inf, math.inf),),
        },
        callable_names=("mu", "tau"),
        improper=_IMPROPER,
    )
    if base.kind != "independent":
        return NormalPrior(base)
    dists = dict(zip(base.names, base.dists, strict=True))
    return NormalPrior(base, mu=dists.get("mu"), tau=dists.get("tau"))

