"""hierbayes: exact hierarchical Bayesian models for grouped data.

Partial pooling by exact quadrature over the hyperparameters, with every
group posterior an exact mixture of conjugate posteriors (see MODEL.md).
"""

from __future__ import annotations

from . import datasets, plots
from .betabinomial import BetaBinomial
from .errors import (
    AccuracyWarning,
    DataError,
    DegenerateDataWarning,
    HierBayesError,
    HierBayesWarning,
    ImproperPosteriorError,
    PriorError,
)
from .fit import Fit, HyperPoints
from .gammapoisson import GammaPoisson
from .gammapoisson_fit import GammaPoissonFit
from .normal_results import NormalNormalFit
from .normalnormal import NormalNormal
from .pooling import compare_methods, compare_pooling
from .results import BetaBinomialFit

__all__ = [
    "AccuracyWarning",
    "BetaBinomial",
    "BetaBinomialFit",
    "DataError",
    "DegenerateDataWarning",
    "Fit",
    "GammaPoisson",
    "GammaPoissonFit",
    "HierBayesError",
    "HierBayesWarning",
    "HyperPoints",
    "ImproperPosteriorError",
    "NormalNormal",
    "NormalNormalFit",
    "PriorError",
    "compare_methods",
    "compare_pooling",
    "datasets",
    "plots",
]

__version__ = "0.1.0"
