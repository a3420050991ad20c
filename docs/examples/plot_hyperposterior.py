"""
The hyperparameter posterior (BDA3 Fig. 5.3)
============================================

``plots.plot_hyperposterior(fit)``
on the Beta–Binomial fit to the 71 rat tumor experiments.
"""

import hierbayes as hb
from hierbayes import plots

fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
plots.plot_hyperposterior(fit)
