"""
Meta-regression: partial pooling toward a line
==============================================

The BCG trials again, now with the absolute latitude of each trial as a
group-level covariate (``covariates="~ ablat"``): every trial is pulled toward
the regression line x'beta instead of one common mean.
"""

import hierbayes as hb
from hierbayes import plots

bcg = hb.datasets.load("bcg")
fit = hb.NormalNormal().fit(bcg, covariates="~ ablat")
print(fit.coefficients)
plots.plot_coefficients(fit)

# %%
plots.plot_regression(fit, "ablat")
