"""
Shrinkage on the rat tumor data
===============================

The 71 rat tumor experiments (Tarone 1982; BDA3 §5.3): each experiment's raw
rate y/n against its posterior mean, pulled toward the population mean — most
strongly where n is small.
"""

import hierbayes as hb
from hierbayes import plots

rats = hb.datasets.load("rats")
fit = hb.BetaBinomial().fit(rats)
plots.plot_shrinkage(fit)
