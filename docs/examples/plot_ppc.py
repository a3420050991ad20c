"""
A posterior predictive check
============================

``plots.plot_ppc(fit)``
on the Beta–Binomial fit to the 71 rat tumor experiments.
"""

import hierbayes as hb
from hierbayes import plots

fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
plots.plot_ppc(fit)
