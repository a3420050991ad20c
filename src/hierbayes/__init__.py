"""hierbayes: exact hierarchical Bayesian models for grouped data.

Partial pooling by exact quadrature over the hyperparameters, with every
group posterior an exact mixture of conjugate posteriors (see MODEL.md).

The models, the data sets and the plots are imported on first use
(``hb.BetaBinomial``, ``from hierbayes import plots``), so that the command
line starts without SciPy and pandas when a command needs neither
(``hierbayes --version``, ``hierbayes datasets``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:  # the names below, for type checkers and editors
    from hierbayes import datasets, meta
    from hierbayes.meta.analysis import MetaAnalysis, meta_analysis
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
    "MetaAnalysis",
    "NormalNormal",
    "NormalNormalFit",
    "PriorError",
    "compare_methods",
    "compare_pooling",
    "datasets",
    "meta",
    "meta_analysis",
    "plots",
]

# public name -> the module that defines it (a module itself when the names agree)
_LAZY = {
    **dict.fromkeys(
        ("BetaBinomial", "BetaBinomialFit", "GammaPoisson", "GammaPoissonFit", "NormalNormal",
         "NormalNormalFit", "compare_methods", "compare_pooling"),
        "hierbayes.models",
    ),
    "Fit": "hierbayes.result",
    "HyperPoints": "hierbayes.result",
    "datasets": "hierbayes.datasets",
    "meta": "hierbayes.meta",
    "MetaAnalysis": "hierbayes.meta.analysis",
    "meta_analysis": "hierbayes.meta.analysis",
    "plots": "hierbayes.output.plots",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'hierbayes' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    value = module if _LAZY[name].rpartition(".")[2] == name else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
