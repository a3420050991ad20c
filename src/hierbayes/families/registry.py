"""What each family is called and how it is shown: one vocabulary for every output.

Each family package declares a :class:`FamilyInfo` named ``INFO`` in its
``__init__.py``; :func:`families` finds them (every sub-package of
:mod:`hierbayes.families` that has one), so the command line, the data sets,
the plots, the report and the ArviZ export read names and labels from here
and need no edit when a family package is added. A fit's own family is
``type(fit).family_info``.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from dataclasses import dataclass
from functools import cache
from typing import Any

__all__ = ["FamilyInfo", "families", "family_of_dataset", "info_of"]


@dataclass(frozen=True)
class FamilyInfo:
    """Names and labels of one family.

    Attributes
    ----------
    name : str
        The command line's ``--family`` value (``'binomial'``).
    title : str
        The family's name for people (``'Beta–Binomial'``).
    dataset_family : str
        The family as :mod:`hierbayes.datasets` names it (``'beta-binomial'``).
    model : str
        The public model class in :mod:`hierbayes.models` (``'BetaBinomial'``).
    roles : tuple of str
        The column roles besides ``group``: observed, then design (``('successes',
        'trials')``).
    raw, theta, size : str
        Axis words: the raw estimate, theta, and what measures a group's size.
    totals : bool
        Whether the observed and design columns add up to a pooled rate.
    bounded : bool
        Whether the design is a whole number of trials that bounds the
        observed count (Binomial data).
    dask : bool
        Whether the family fits Dask DataFrames (reduced on the cluster).
    design_range : (float, float)
        The designs (trials, exposures, standard errors) the family computes
        with, as in its data checks; a new group's design outside is refused
        (0 is also allowed for counts: the new group then shows 0).
    observed_max : float
        The largest observed value (count, or |estimate|) it computes with.
    """

    name: str
    title: str
    dataset_family: str
    model: str
    roles: tuple[str, str]
    raw: str
    theta: str
    size: str
    totals: bool = False
    bounded: bool = False
    dask: bool = False
    design_range: tuple[float, float] = (0.0, math.inf)
    observed_max: float = math.inf


@cache
def families() -> dict[str, FamilyInfo]:
    """Every family, by its command-line name, in the order of their packages.

    >>> sorted(families())
    ['binomial', 'normal', 'poisson']
    """
    import hierbayes.families as package

    found: dict[str, FamilyInfo] = {}
    for module in pkgutil.iter_modules(package.__path__):
        if module.ispkg:
            info = getattr(importlib.import_module(f"{package.__name__}.{module.name}"),
                           "INFO", None)
            if isinstance(info, FamilyInfo):
                found[info.name] = info
    return found


def family_of_dataset(dataset_family: str) -> FamilyInfo:
    """The family of a bundled data set, from its ``family`` field.

    >>> family_of_dataset("gamma-poisson").name
    'poisson'
    """
    for info in families().values():
        if info.dataset_family == dataset_family:
            return info
    raise KeyError(f"no family for data sets of kind {dataset_family!r}")


def info_of(obj: Any) -> FamilyInfo:
    """The family of a fit or a model (its class attribute ``family_info``)."""
    info = getattr(type(obj), "family_info", None)
    if not isinstance(info, FamilyInfo):
        raise TypeError(f"{type(obj).__name__} belongs to no registered family.")
    return info
