"""Benchmark: model checking on the rats data, against the obvious ways of doing it.

Run: ``python benchmarks/bench_checks.py [--repeat N]``. Prints the median time
of several runs of each method, its ratio to the baseline measured in the same
run, and its largest difference from the baseline's answer.

* Leave one group out: the exact reweighting of the fitted grid (``fit.logo()``)
  against the obvious exact method, one refit per group without it
  (``log_predictive_new`` of the left-out group).
* P(best): the exact quadrature (``fit.prob_best()``) against counting ranks
  in 100 000 joint draws (``fit.ranks``), whose difference is Monte Carlo error.
* A new group (``predict_new(trials=14)``) against the mean and sd of the
  mixture pmf summed with scipy's beta-binomial pmf on every grid point.
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy import stats
from timing import median_time

import hierbayes as hb


def logo_by_refits(rats) -> np.ndarray:
    out = np.empty(len(rats))
    for j in range(len(rats)):
        rest = hb.BetaBinomial().fit(rats.drop(index=rats.index[j]))
        out[j] = rest.log_predictive_new(trials=int(rats.trials.iloc[j]),
                                         successes=int(rats.successes.iloc[j]))
    return out


def new_group_by_scipy(fit) -> np.ndarray:
    a, b, w = fit.points.params["alpha"], fit.points.params["beta"], fit.points.weight
    keep = (w > 0) & (a + b < 1e9)  # scipy's pmf overflows beyond; negligible mass there
    pmf = w[keep] @ stats.betabinom.pmf(np.arange(15)[None, :], 14, a[keep, None],
                                        b[keep, None])
    k = np.arange(15)
    mean = pmf @ k
    return np.array([mean, np.sqrt(pmf @ (k - mean) ** 2)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rats = hb.datasets.load("rats")
    fit = hb.BetaBinomial().fit(rats)
    rows = []

    t_base, base = median_time(lambda: logo_by_refits(rats), max(1, args.repeat // 2))
    t, got = median_time(lambda: fit.logo().to_numpy(), args.repeat)
    rows += [("LOGO: one refit per group (baseline)", t_base, 1.0, 0.0),
             ("LOGO: fit.logo() exact reweighting", t, t / t_base,
              float(np.max(np.abs(got - base))))]

    t_base, base = median_time(lambda: fit.ranks(draws=100_000, seed=1)["p_best"].to_numpy(),
                               args.repeat)
    t, got = median_time(lambda: fit.prob_best().to_numpy(), max(1, args.repeat // 2))
    rows += [("P(best): 100 000 joint draws (baseline)", t_base, 1.0, 0.0),
             ("P(best): fit.prob_best() exact", t, t / t_base, float(np.max(np.abs(got - base))))]

    t_base, base = median_time(lambda: new_group_by_scipy(fit), args.repeat)
    t, got = median_time(
        lambda: fit.predict_new(trials=14).loc["y", ["mean", "sd"]].to_numpy(float),
        args.repeat)
    rows += [("new group y: scipy pmf mixture (baseline)", t_base, 1.0, 0.0),
             ("new group y: fit.predict_new(trials=14)", t, t / t_base,
              float(np.max(np.abs(got - base))))]

    print(f"{'method':44s} {'median s':>10s} {'ratio':>8s} {'max |diff|':>11s}")
    for name, t, r, diff in rows:
        print(f"{name:44s} {t:10.4f} {r:8.3f} {diff:11.2g}")


if __name__ == "__main__":
    main()
