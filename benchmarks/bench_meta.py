"""Benchmark: every summary of a 30-study meta-analysis, against a dense (mu, tau) grid.

Run: ``python benchmarks/bench_meta.py [--repeat N] [--grid N]``. A 30-study
meta-analysis (simulated, seed 14) under mu ~ N(0, 4²), tau ~ HN(0.5). Prints
the median time of several runs of each step of ``hb.meta_analysis`` (fit,
summary table with central and shortest intervals, studies table, tail
probability, Bayes factors and log evidence, classical companions), the same
for the obvious reference, a dense N × N trapezoid grid over (mu, tau), their
ratio, and the largest difference between the two answers (the grid's own
error; the exact numbers agree with scipy quadrature to 1e-8, see
tests/meta/test_meta_analysis.py).
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import logsumexp
from timing import median_time

import hierbayes as hb

PRIOR = {"mu": "norm:0,4", "tau": "halfnorm:0.5"}



def simulate(k: int = 30, seed: int = 14) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    se = rng.uniform(0.1, 0.6, k)
    theta = rng.normal(-0.4, 0.25, k)
    return pd.DataFrame({"yi": theta + se * rng.standard_normal(k), "vi": se**2})


def everything(data: pd.DataFrame) -> dict[str, object]:
    ma = hb.meta_analysis(data, prior=PRIOR)
    return {"summary": ma.summary, "studies": ma.studies, "p": ma.prob_mu_greater(0.0),
            "bf": ma.bayes_factors(), "log_evidence": ma.log_evidence(),
            "classical": ma.classical_table}


def dense_grid(data: pd.DataFrame, n: int) -> dict[str, float]:
    """The obvious method: the joint posterior on an n × n grid, trapezoid weights."""
    y, v = data["yi"].to_numpy(), data["vi"].to_numpy()
    mu = np.linspace(-2.5, 1.5, n)
    tau = np.linspace(0.0, 2.5, n)
    m, t = np.meshgrid(mu, tau, indexing="ij")
    logp = stats.norm.logpdf(m, 0, 4) + stats.halfnorm.logpdf(t, scale=0.5)
    for yj, vj in zip(y, v, strict=True):
        logp += stats.norm.logpdf(yj, m, np.sqrt(vj + t * t))
    wm, wt = np.full(n, mu[1] - mu[0]), np.full(n, tau[1] - tau[0])
    wm[[0, -1]] /= 2
    wt[[0, -1]] /= 2
    logw = np.log(wm)[:, None] + np.log(wt)[None, :]
    log_z = logsumexp(logp + logw)
    w = np.exp(logp + logw - log_z)
    s2 = hb.meta.typical_variance(v)
    pm, pt = w.sum(axis=1), w.sum(axis=0)

    def q(x, p, prob):
        return float(np.interp(prob, np.cumsum(p) - p / 2, x))

    theta1 = (y[0] * t * t + m * v[0]) / (t * t + v[0])
    return {
        "mu mean": float(np.sum(w * m)), "mu q50": q(mu, pm, 0.5),
        "mu q97.5": q(mu, pm, 0.975), "tau mean": float(np.sum(w * t)),
        "tau q50": q(tau, pt, 0.5), "I2 mean": float(np.sum(w * t * t / (t * t + s2))),
        "theta_new sd": float(np.sqrt(np.sum(w * (m * m + t * t)) - np.sum(w * m) ** 2)),
        "study 1 mean": float(np.sum(w * theta1)), "P(mu > 0)": float(pm[mu > 0].sum()),
        "log evidence": float(log_z),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--grid", type=int, default=1500)
    args = parser.parse_args()
    data = simulate()
    everything(data)  # warm the imports

    steps = {
        "fit (hb.meta_analysis)": lambda: hb.meta_analysis(data, prior=PRIOR),
        "summary": lambda: hb.meta_analysis(data, prior=PRIOR).summary,
        "studies": lambda: hb.meta_analysis(data, prior=PRIOR).studies,
        "bayes_factors + log_evidence": lambda: hb.meta_analysis(data, prior=PRIOR)
        .bayes_factors(),
        "classical_meta alone (no fit)": lambda: hb.meta.classical_meta(data),
    }
    rows = []
    for name, fn in steps.items():
        rows.append((name, median_time(fn, args.repeat)[0]))
    total, out = median_time(lambda: everything(data), args.repeat)
    ref_time, ref = median_time(lambda: dense_grid(data, args.grid), max(1, args.repeat // 3))

    s, st = out["summary"], out["studies"]
    exact = {
        "mu mean": s.loc["mu", "mean"], "mu q50": s.loc["mu", "median"],
        "mu q97.5": s.loc["mu", "upper"], "tau mean": s.loc["tau", "mean"],
        "tau q50": s.loc["tau", "median"], "I2 mean": s.loc["I2", "mean"],
        "theta_new sd": s.loc["theta_new", "sd"], "study 1 mean": st["mean"].iloc[0],
        "P(mu > 0)": out["p"], "log evidence": out["log_evidence"],
    }
    print(f"30-study meta-analysis, median of {args.repeat} runs (steps after the first "
          "include the fit)")
    for name, secs in rows:
        print(f"  {name:32s} {1e3 * secs:8.1f} ms")
    print(f"  {'every summary (all of the above)':32s} {1e3 * total:8.1f} ms")
    print(f"dense {args.grid}x{args.grid} grid reference: {1e3 * ref_time:8.1f} ms; "
          f"ratio {ref_time / total:.1f}x")
    print(f"{'quantity':16s} {'exact':>16s} {'dense grid':>16s} {'difference':>11s}")
    for key, value in exact.items():
        print(f"{key:16s} {value:16.10f} {ref[key]:16.10f} {value - ref[key]:11.2e}")


if __name__ == "__main__":
    main()
