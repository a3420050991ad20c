"""Random-effects meta-analysis: effect sizes, classical estimators, heterogeneity priors.

* :mod:`~hierbayes.meta.effect_sizes` — ``yi``/``vi`` from raw study data;
* :mod:`~hierbayes.meta.classical` — Q, I², H², DL / PM / REML estimates;
* :mod:`~hierbayes.meta.tau_priors` — priors for the heterogeneity tau;
* :mod:`~hierbayes.meta.analysis` — the Bayesian front door, :func:`meta_analysis`
  (also ``hb.meta_analysis``), and its result :class:`MetaAnalysis`.
"""

from .analysis import MetaAnalysis, meta_analysis, parse_mu_prior
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
    "MetaAnalysis",
    "classical_meta",
    "effect_sizes",
    "half_t",
    "log_t",
    "meta_analysis",
    "parse_mu_prior",
    "parse_tau_prior",
    "rhodes2015",
    "turner2015",
    "typical_variance",
    "uniform_i2_prior",
    "uniform_shrinkage_prior",
]
