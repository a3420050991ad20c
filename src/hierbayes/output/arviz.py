"""Export a fit to ArviZ (1.x): an ``xarray.DataTree`` built by ``arviz_base.from_dict``.

The only module that touches xarray (STYLE.md §4). Draws are exact and
independent (hyperparameters by inverse CDF, then each theta_j from its
conjugate conditional), so every chain is a sample of the same posterior and
ArviZ's ESS is close to the number of draws.

Groups of the tree:

``posterior``
    The hyperparameters under the names of ``fit.hyper`` (natural and derived,
    e.g. alpha, beta, mu, kappa, logit_mu, log_kappa for Beta–Binomial) and
    ``theta`` with dimension ``group``. Only exact partial pooling has
    hyperparameter draws; complete and no pooling have ``theta`` alone.
``posterior_predictive``
    Replicated data, one per draw of theta, named after the observed quantity
    (``successes``, ``estimate`` or ``counts``).
``log_likelihood``
    log p(y_j | theta_j) per group and draw, same name (PSIS-LOO over groups).
``observed_data``
    The observed quantity per group.
``constant_data``
    The design per group (``trials``, ``std_error`` or ``exposure``) and, for
    empirical Bayes, the hyperparameter point estimates.

Group labels become strings in the ``group`` coordinate.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from hierbayes.validate import check_memory, check_positive_int

if TYPE_CHECKING:
    from hierbayes.result import Fit

__all__ = ["hyper_draws", "to_arviz"]







def hyper_draws(fit: Fit, natural: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The hyperparameters named as in ``fit.hyper``, from draws of the natural ones.

    Parameters
    ----------
    fit : Fit
        A fit of any family.
    natural : dict of str to numpy.ndarray
        Draws of the family's natural hyperparameters, as ``fit._draw`` returns.

    Returns
    -------
    dict of str to numpy.ndarray
        Natural and derived hyperparameters in the order of the family's
        hyper table; empty unless the fit is exact partial pooling.

    Examples
    --------
    >>> import numpy as np
    >>> import hierbayes as hb
    >>> fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
    >>> d = hyper_draws(fit, {"alpha": np.array([2.0]), "beta": np.array([6.0])})
    >>> list(d), float(d["mu"][0]), float(d["kappa"][0])
    (['alpha', 'beta', 'mu', 'kappa', 'logit_mu', 'log_kappa'], 0.25, 8.0)
    """
    if fit.model.pooling != "partial" or fit.model.method != "exact" or not natural:
        return {}
    return type(fit).derived_hyper(natural)


def _point_estimates(fit: Fit) -> dict[str, np.ndarray]:
    """Empirical Bayes: the hyperparameter point estimate (0-d arrays), else nothing."""
    if fit.model.pooling != "partial" or fit.model.method != "eb":
        return {}
    return {k: np.asarray(v[0], dtype=float) for k, v in type(fit).derived_hyper(
        fit.point_hyper()).items()}


def to_arviz(fit: Fit, draws: int = 4000, *, seed: int | None = 0, chains: int = 1) -> Any:
    """Posterior, replicated data and pointwise log likelihood as an ArviZ ``DataTree``.

    Parameters
    ----------
    fit : Fit
        A fit of any family (not the Dask engine's).
    draws : int, default 4000
        Draws per chain.
    seed : int or None, default 0
        Seed of ``numpy.random.default_rng``; the same seed gives the same tree.
    chains : int, default 1
        Number of chains. The draws are independent, so chains only split
        them (useful for ArviZ's R-hat, which needs more than one).

    Returns
    -------
    xarray.DataTree
        Groups ``posterior``, ``posterior_predictive``, ``log_likelihood``,
        ``observed_data`` and ``constant_data`` (see the module docstring);
        sample dimensions ``chain`` and ``draw``, group dimension ``group``
        labelled by the group names as strings.

    Raises
    ------
    ImportError
        When ``arviz-base`` is not installed (``pip install 'hierbayes[arviz]'``).

    Examples
    --------
    >>> import hierbayes as hb
    >>> tree = hb.BetaBinomial().fit(hb.datasets.load("rats")).to_arviz(draws=200, seed=1)
    >>> sorted(tree.children)
    ['constant_data', 'log_likelihood', 'observed_data', 'posterior', 'posterior_predictive']
    >>> dict(tree.posterior.theta.sizes)
    {'chain': 1, 'draw': 200, 'group': 71}
    >>> list(tree.posterior.data_vars)[:3]
    ['alpha', 'beta', 'mu']
    """
    try:
        from arviz_base import from_dict
    except ImportError:
        raise ImportError(
            "the ArviZ export needs arviz-base: pip install 'hierbayes[arviz]'"
        ) from None
    draws = check_positive_int("draws", draws)
    chains = check_positive_int("chains", chains)
    # theta, replicated data and log likelihood, with one copy each in the data tree
    check_memory(f"{draws * chains} draws of {len(fit.group_labels)} groups",
                 6 * 8.0 * draws * chains * len(fit.group_labels), "ask for fewer draws")
    rng = np.random.default_rng(seed)
    natural, theta = fit._draw(draws * chains, rng)
    y_rep = fit.replicate(theta, rng)
    loglik = fit.loglik(theta)
    name = fit.observed_name

    def shaped(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return x.reshape(chains, draws, *x.shape[1:])

    posterior = {k: shaped(v) for k, v in hyper_draws(fit, natural).items()}
    posterior["theta"] = shaped(theta)
    design = {k: np.asarray(v, dtype=float) for k, v in fit._data_columns().items()
              if k not in (name, "raw")}
    labels = [str(g) for g in fit.group_labels]
    if len(set(labels)) != len(labels):  # e.g. 1 and "1": keep them apart
        labels = [f"{i}: {g}" for i, g in enumerate(labels)]
    group_vars = ["theta", name, *design]
    m = fit.model
    attrs = {
        "created_by": "hierbayes",
        "hierbayes_version": _version(),
        "model": repr(fit),
        "pooling": m.pooling,
        "method": m.method,
        "seed": "none" if seed is None else int(seed),
        "numerical_error": float(fit.error) if math.isfinite(fit.error) else str(fit.error),
    }
    return from_dict(
        {
            "posterior": posterior,
            "posterior_predictive": {name: shaped(y_rep)},
            "log_likelihood": {name: shaped(loglik)},
            "observed_data": {name: fit.observed()},
            "constant_data": {**design, **_point_estimates(fit)},
        },
        coords={"group": labels},
        dims={v: ["group"] for v in group_vars},
        attrs={"/": attrs},
    )


def _version() -> str:
    from hierbayes._version import __version__

    return __version__
