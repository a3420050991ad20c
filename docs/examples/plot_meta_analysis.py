"""
Meta-analysis: forest, tau posterior and funnel
===============================================

The 13 BCG vaccine trials (Colditz et al. 1994): log risk ratios and their
standard errors, pooled by :func:`hierbayes.meta_analysis` with a half-normal
prior on the heterogeneity tau. The forest plot shows each study, its
shrinkage estimate, the pooled diamond and the prediction interval for a new
study; then the posterior of tau beside its prior, and the funnel plot.
"""

import hierbayes as hb
from hierbayes import plots

bcg = hb.datasets.load("bcg")
ma = hb.meta_analysis(bcg, estimate="estimate", std_error="std_error", study="group",
                      prior={"tau": "halfnorm:0.5"})
print(ma.summary)
plots.plot_forest(ma)

# %%
plots.plot_tau_posterior(ma)

# %%
plots.plot_funnel(ma)
