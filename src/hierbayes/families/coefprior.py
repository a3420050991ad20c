"""Priors of a regression's coefficients and of its scale parameter (issue 13).

Coefficients: flat, normal, or Student-t (Cauchy) per coefficient, given as
``prior['coef']`` (one frozen scipy distribution for all, or a dict by
coefficient name). The scale parameter (kappa, shape) of a regression prior dict
is one frozen distribution; the families' plain prior forms are elsewhere
(:mod:`hierbayes.families.priors`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from hierbayes.errors import PriorError
from hierbayes.families.priors import Prior

__all__ = ["CoefPrior", "coef_prior", "regression_prior"]


@dataclass(frozen=True)
class CoefPrior:
    """Independent priors on the coefficients: flat, normal or Student-t per coefficient.

    Attributes
    ----------
    kind : tuple of str
        Per coefficient: 'flat', 'norm' or 't'.
    loc, scale, df : numpy.ndarray
        Location, scale and degrees of freedom (t only) per coefficient.
    """

    kind: tuple[str, ...]
    loc: np.ndarray
    scale: np.ndarray
    df: np.ndarray

    @property
    def flat(self) -> bool:
        """Whether every coefficient has the flat prior."""
        return all(k == "flat" for k in self.kind)

    @property
    def proper(self) -> bool:
        """Whether every coefficient has a proper prior."""
        return all(k != "flat" for k in self.kind)

    def terms(self, beta: np.ndarray, derivatives: bool):
        """log density (N,), and its gradient (N, p) and Hessian diagonal (N, p)."""
        z = (beta - self.loc[None, :]) / self.scale[None, :]
        lp = np.zeros(beta.shape)
        g = np.zeros(beta.shape)
        h = np.zeros(beta.shape)
        for k, kind in enumerate(self.kind):
            s, zk = self.scale[k], z[:, k]
            if kind == "norm":
                lp[:, k] = -0.5 * zk * zk - math.log(s) - 0.5 * math.log(2 * math.pi)
                g[:, k] = -zk / s
                h[:, k] = -1.0 / s**2
            elif kind == "t":
                nu = self.df[k]
                c = (math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2)
                     - 0.5 * math.log(nu * math.pi) - math.log(s))
                q = 1.0 + zk * zk / nu
                lp[:, k] = c - 0.5 * (nu + 1) * np.log(q)
                g[:, k] = -(nu + 1) * zk / (nu * q) / s
                h[:, k] = -(nu + 1) * (nu - zk * zk) / (nu * nu * q * q) / s**2
        if not derivatives:
            return lp.sum(axis=1), None, None
        return lp.sum(axis=1), g, h

    def describe(self, names: Sequence[str]) -> str:
        """One line: the prior of each coefficient."""
        if self.flat:
            return "coefficients flat"
        parts = []
        for n, kind, m, s, nu in zip(names, self.kind, self.loc, self.scale, self.df,
                                     strict=True):
            parts.append(f"{n} flat" if kind == "flat" else
                         f"{n} ~ norm({m:g}, {s:g})" if kind == "norm" else
                         f"{n} ~ t({nu:g}, {m:g}, {s:g})")
        return "; ".join(parts)


def regression_prior(prior: Any, scale: str) -> Prior | None:
    """The scale parameter's prior when ``prior`` is a regression prior dict (keys
    ``'coef'`` and/or ``scale``), else None (the family's plain prior forms).

    Examples
    --------
    >>> from scipy import stats
    >>> regression_prior({"coef": stats.norm(0, 1)}, "kappa").kind
    'default'
    >>> regression_prior({"kappa": stats.lognorm(1)}, "kappa").names
    ('kappa',)
    """
    if not isinstance(prior, dict) or not prior or not set(prior) <= {"coef", scale}:
        return None
    if scale not in prior:
        return Prior("default")
    dist = prior[scale]
    if not (isinstance(dist, stats.distributions.rv_frozen)
            and isinstance(dist.dist, stats.rv_continuous)):
        raise TypeError(f"The prior on {scale!r} must be a frozen scipy.stats continuous "
                        f"distribution such as scipy.stats.lognorm(1, scale=10); got {dist!r}.")
    lo, _ = (float(x) for x in dist.support())
    if lo < 0:
        raise PriorError(f"The prior on {scale!r} has support starting at {lo:g} but "
                         f"{scale} > 0.")
    return Prior("independent", names=(scale,), dists=(dist,))


def coef_prior(prior: Any, names: Sequence[str]) -> CoefPrior:
    """The coefficients' prior from ``prior['coef']``: absent (flat), one frozen
    ``scipy.stats.norm``/``t``/``cauchy`` for all, or a dict by coefficient name.

    Examples
    --------
    >>> from scipy import stats
    >>> cp = coef_prior({"coef": {"x": stats.norm(0, 2)}}, ["intercept", "x"])
    >>> cp.kind, cp.scale.tolist()
    (('flat', 'norm'), [1.0, 2.0])
    """
    spec = prior.get("coef") if isinstance(prior, dict) else None
    p = len(names)
    kinds, loc, scale, df = ["flat"] * p, np.zeros(p), np.ones(p), np.full(p, np.inf)
    if spec is None:
        return CoefPrior(tuple(kinds), loc, scale, df)
    dists = spec if isinstance(spec, dict) else dict.fromkeys(names, spec)
    unknown = set(dists) - set(names)
    if unknown:
        raise PriorError(f"Coefficient prior(s) for {sorted(unknown)}: the coefficients are "
                         f"{list(names)}.")
    for k, name in enumerate(names):
        d = dists.get(name)
        if d is None:
            continue
        dname = getattr(getattr(d, "dist", None), "name", "")
        args = tuple(float(a) for a in getattr(d, "args", ()))
        kw = {key: float(val) for key, val in getattr(d, "kwds", {}).items()}
        if dname == "norm":
            kinds[k] = "norm"
            loc[k], scale[k] = float(d.mean()), float(d.std())
        elif dname in ("t", "cauchy"):
            kinds[k] = "t"
            nu = 1.0 if dname == "cauchy" else (args[0] if args else kw.get("df", np.nan))
            rest = args[1:] if dname == "t" else args
            loc[k] = rest[0] if rest else kw.get("loc", 0.0)
            scale[k] = rest[1] if len(rest) > 1 else kw.get("scale", 1.0)
            df[k] = nu
        else:
            raise PriorError(
                f"The prior of coefficient {name!r} must be a frozen scipy.stats norm, t or "
                f"cauchy; got {d!r}."
            )
        if not (scale[k] > 0 and np.isfinite(scale[k]) and np.isfinite(loc[k])
                and (kinds[k] != "t" or df[k] > 0)):
            raise PriorError(f"The prior of coefficient {name!r} has an invalid parameter "
                             f"(location {loc[k]:g}, scale {scale[k]:g}).")
    return CoefPrior(tuple(kinds), loc, scale, df)
