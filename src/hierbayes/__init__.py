"""hierbayes: exact hierarchical Bayesian models for grouped data.

Partial pooling by exact quadrature over the hyperparameters, with every
group posterior an exact mixture of conjugate posteriors (see MODEL.md).
"""

from __future__ import annotations

from hierbayes import datasets
from hierbayes.checks.pooling import compare_methods, compare_pooling
from hierbayes.errors import (
    AccuracyWarning,
    DataError,
    DegenerateDataWarning,
    HierBayesError,
    HierBayesWarning,
    ImproperPosteriorError,
    PriorError,
)
from hierbayes.families.betabinomial.fit import BetaBinomialFit
from hierbayes.families.betabinomial.model import BetaBinomial
from hierbayes.families.gammapoisson.fit import GammaPoissonFit
from hierbayes.families.gammapoisson.model import GammaPoisson
from hierbayes.families.normalnormal.fit import NormalNormalFit
from hierbayes.families.normalnormal.model import NormalNormal
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

__version__ = "0.1.0"
