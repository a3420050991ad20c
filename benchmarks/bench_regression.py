"""Regression fits (issue 13): the whole fit with every summary, against the dense
tensor-grid oracle in the same run.

    python benchmarks/bench_regression.py [--repeat 3] [--quick]

For each case: the fit (nested quadrature), the coefficients table, the groups table
(exact mixture quantiles), the total, and the dense Gauss-Legendre grid of
``tests/oracle_regression.py`` (p + 1 <= 3 dimensions only) with the ratio. Medians of
``--repeat`` runs (1 for the slow cases). ``--quick`` skips the cases above 30 s.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import median_time

import hierbayes as hb


def _phases(make):
    t0 = time.perf_counter()
    fit = make()
    t1 = time.perf_counter()
    fit.coefficients  # noqa: B018
    fit.hyper  # noqa: B018
    t2 = time.perf_counter()
    fit.groups  # noqa: B018
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, t3 - t0, fit


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    import oracle_regression as orc

    seeds = hb.datasets.load("seeds")
    lip = hb.datasets.load("lip_cancer").assign(aff=lambda d: d["aff_pct"] / 10)
    bcg = hb.datasets.load("bcg")
    bb_prior = {"coef": stats.norm(0, 2), "kappa": stats.lognorm(1, scale=20)}
    gp_prior = {"coef": stats.norm(0, 1), "shape": stats.lognorm(1, scale=5)}
    cases = [
        ("BCG ~ ablat (NN, 13)", lambda: hb.NormalNormal().fit(bcg, covariates="~ ablat"),
         None, False),
        ("seeds ~ x1 (BB, 21)",
         lambda: hb.BetaBinomial(prior=bb_prior).fit(seeds, covariates="~ x1"),
         lambda: orc.bb_regression(seeds["successes"], seeds["trials"],
                                   np.column_stack([np.ones(21), seeds["x1"]]),
                                   coef_prior=(np.zeros(2), 4 * np.eye(2)),
                                   kappa_prior=stats.lognorm(1, scale=20), n=48), False),
        ("lip ~ aff (GP, 56)",
         lambda: hb.GammaPoisson(prior=gp_prior).fit(lip, covariates="~ aff"),
         lambda: orc.gp_regression(lip["counts"], lip["exposure"],
                                   np.column_stack([np.ones(56), lip["aff"]]),
                                   coef_prior=(np.zeros(2), np.eye(2)),
                                   shape_prior=stats.lognorm(1, scale=5), n=48), False),
        ("seeds ~ x1 + x2 (BB, 21)",
         lambda: hb.BetaBinomial().fit(seeds, covariates="~ x1 + x2"), None, True),
        ("seeds ~ x1 * x2 (BB, 21)",
         lambda: hb.BetaBinomial().fit(seeds, covariates="~ x1 * x2"), None, True),
    ]
    print(f"{'case':28} {'fit s':>7} {'coef s':>7} {'groups s':>8} {'total s':>8} "
          f"{'dense grid s':>12} {'ratio':>6}  error")
    for name, make, dense, slow in cases:
        if slow and args.quick:
            print(f"{name:28} skipped (--quick)")
            continue
        runs = [_phases(make) for _ in range(1 if slow else args.repeat)]
        med = [float(np.median([r[k] for r in runs])) for k in range(4)]
        fit = runs[-1][4]
        if dense is not None:
            t_dense, _ = median_time(dense, repeat=1)
            ref = f"{t_dense:12.2f} {med[3] / t_dense:6.3f}"
        else:
            ref = f"{'–':>12} {'–':>6}"
        print(f"{name:28} {med[0]:7.2f} {med[1]:7.2f} {med[2]:8.2f} {med[3]:8.2f} {ref}  "
              f"{fit.error:.1g}")


if __name__ == "__main__":
    main()
