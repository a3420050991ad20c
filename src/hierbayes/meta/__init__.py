"""Random-effects meta-analysis: effect sizes, classical estimators, heterogeneity priors.

* :mod:`~hierbayes.meta.effect_sizes` — ``yi``/``vi`` from raw study data;
* :mod:`~hierbayes.meta.classical` — Q, I², H², DL / PM / REML estimates;
* :mod:`~hierbayes.meta.tau_priors` — priors for the heterogeneity tau.
"""

from .classical import ClassicalMeta, classical_meta, typical_variance
from .effect_sizes import MEASURES, effect_sizes
from .tau_priors import (
    TAU_PRIOR_FORMS,
    JeffreysTauPrior,
    half_t,
    log_t,
    parse_tau_prior,
    rhodes2015,
    turner2015,
    uniform_i2_prior,
    uniform_shrinkage_prior,
)

__all__ = [
    "MEASURES",
    "TAU_PRIOR_FORMS",
    "ClassicalMeta",
    "JeffreysTauPrior",
    "classical_meta",
    "effect_sizes",
    "half_t",
    "log_t",
    "parse_tau_prior",
    "rhodes2015",
    "turner2015",
    "typical_variance",
    "uniform_i2_prior",
    "uniform_shrinkage_prior",
]
