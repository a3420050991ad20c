"""hierbayes: exact hierarchical Bayesian models for grouped data.

Partial pooling by exact quadrature over the hyperparameters, with every
group posterior an exact mixture of conjugate posteriors (see MODEL.md).
"""

from __future__ import annotations

from hierbayes import datasets
from hierbayes._version import __version__ as __version__
from hierbayes.errors import (
    AccuracyWarning,
    DataError,
    DegenerateDataWarning,
    HierBayesError,
    HierBayesWarning,
    ImproperPosteriorError,
    PriorError,
)
from hierbayes.models import (
    BetaBinomial,
    BetaBinomialFit,
    GammaPoisson,
    GammaPoissonFit,
    NormalNormal,
    NormalNormalFit,
    compare_methods,
    compare_pooling,
)
from hierbayes.output import plots
from hierbayes.result import Fit, HyperPoints

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

