"""
Group intervals (caterpillar)
=============================

``plots.plot_caterpillar(fit, prob=0.9)``
on the Beta–Binomial fit to the 71 rat tumor experiments.
"""

import hierbayes as hb
from hierbayes import plots

fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
plots.plot_caterpillar(fit, prob=0.9)
