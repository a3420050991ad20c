"""The public models and fits: each family's specification bound to its fit class.

A family module (:mod:`hierbayes.families`) holds the specification (validated
settings and the fitting of that family) and the result class (its tables).
This module, at the top of the package, binds them: the public fit of a
family is its result class with :class:`hierbayes.methods.FitMethods` mixed
in, and the public model is its specification whose fits are of that class.
So the layers below never import the checks and outputs built on them.
"""

from __future__ import annotations

from typing import Any

from hierbayes.checks import pooling
from hierbayes.families.betabinomial.fit import BetaBinomialResult
from hierbayes.families.betabinomial.model import BetaBinomialSpec
from hierbayes.families.betabinomial.regression import BetaBinomialRegressionResult
from hierbayes.families.gammapoisson.fit import GammaPoissonResult
from hierbayes.families.gammapoisson.model import GammaPoissonSpec
from hierbayes.families.gammapoisson.regression import GammaPoissonRegressionResult
from hierbayes.families.normalnormal.fit import NormalNormalResult
from hierbayes.families.normalnormal.model import NormalNormalSpec
from hierbayes.families.normalnormal.regression import NormalRegressionResult
from hierbayes.methods import FitMethods

__all__ = [
    "BetaBinomial",
    "BetaBinomialFit",
    "BetaBinomialRegressionFit",
    "GammaPoisson",
    "GammaPoissonFit",
    "GammaPoissonRegressionFit",
    "NormalNormal",
    "NormalNormalFit",
    "NormalRegressionFit",
    "compare_methods",
    "compare_pooling",
]


class BetaBinomialFit(FitMethods, BetaBinomialResult):
    __doc__ = BetaBinomialResult.__doc__


class GammaPoissonFit(FitMethods, GammaPoissonResult):
    __doc__ = GammaPoissonResult.__doc__


class NormalNormalFit(FitMethods, NormalNormalResult):
    __doc__ = NormalNormalResult.__doc__


class NormalRegressionFit(FitMethods, NormalRegressionResult):
    __doc__ = NormalRegressionResult.__doc__


class BetaBinomialRegressionFit(FitMethods, BetaBinomialRegressionResult):
    __doc__ = BetaBinomialRegressionResult.__doc__


class GammaPoissonRegressionFit(FitMethods, GammaPoissonRegressionResult):
    __doc__ = GammaPoissonRegressionResult.__doc__


class BetaBinomial(BetaBinomialSpec):
    __doc__ = BetaBinomialSpec.__doc__
    _fit_class = BetaBinomialFit
    _regression_class = BetaBinomialRegressionFit


class GammaPoisson(GammaPoissonSpec):
    __doc__ = GammaPoissonSpec.__doc__
    _fit_class = GammaPoissonFit
    _regression_class = GammaPoissonRegressionFit


class NormalNormal(NormalNormalSpec):
    __doc__ = NormalNormalSpec.__doc__
    _fit_class = NormalNormalFit
    _regression_class = NormalRegressionFit


def compare_pooling(data: Any = None, *, prob: float = 0.95, model: Any = None,
                    covariates: Any = None, **columns: Any) -> pooling.PoolingComparison:
    return pooling.compare_pooling(
        data, prob=prob, model=model if model is not None else BetaBinomial(),
        covariates=covariates, **columns
    )


def compare_methods(data: Any = None, *, prob: float = 0.95, model: Any = None,
                    **columns: Any) -> pooling.MethodComparison:
    return pooling.compare_methods(
        data, prob=prob, model=model if model is not None else BetaBinomial(), **columns
    )


compare_pooling.__doc__ = pooling.compare_pooling.__doc__
compare_methods.__doc__ = pooling.compare_methods.__doc__
