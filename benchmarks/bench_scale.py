"""Benchmark: cost of a Beta–Binomial fit as the number of groups J grows (issue 3).

Run: ``python benchmarks/bench_scale.py`` (``--max-exp 7`` stops at 10^7 groups,
``--quick`` at 10^5; ``--no-dask`` skips the Dask rows). Prints one table.

Data: alpha = 2, beta = 10, n_j uniform on 1..1000, theta_j ~ Beta(2, 10),
y_j ~ Binomial(n_j, theta_j), one row per group (int32 columns, no group labels).

For each J, medians of several runs (5 below 10^7, 3 from 10^7; each after an
untimed warm-up run) of:

* floor   ``np.bincount(y)`` + ``np.bincount(n)``: one pass over the same
          arrays, the memory-bandwidth floor of any reduction;
* (a)     the reduction: validation, per-group counts, distinct (y, n) pairs
          with their counts and the map back to groups
          (``binomial_counts(...).pairs``);
* (b)     the hyperparameter posterior from those pairs (adaptive grid on the
          J-independent likelihood);
* (c)     per-group means, sds and shrinkage as a J-row DataFrame (``fit.moments``);
* fit     (a) + (b) + (c): the whole fit with means and sds;
* (d)     per-group 95% intervals (``fit.summary(0.95)``): one run; timed on
          all distinct pairs when there are at most 2000, else on a random
          2000 of them and scaled by the number of pairs (marked ``~``; its
          memory then is that of the root finding on the subset, which works
          in bounded blocks, without the J-row table that (c) measures);
* naive   the obvious likelihood, ``Σ_j betaln(y_j + a, n_j − y_j + b) −
          J·betaln(a, b)`` vectorised over groups, on the fit's own grid:
          one run, on min(J, 20 000) groups, scaled to J (marked ``~``);
* dask    ``BetaBinomial().fit(dd.read_parquet(dir))`` with the same data as
          parquet files (5·10^6 rows per file), on a ``distributed.LocalCluster``
          of 2 worker processes with 1 thread each: reduction on the workers,
          hyperparameters locally (reported next to (a) + (b) in memory).

Peak memory (MB) is measured in a separate run with ``tracemalloc`` (NumPy
and pandas report their buffers to it) and is the peak above what was
allocated before the phase. The data themselves (2 int32 arrays) are not counted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln

import hierbayes as hb
from hierbayes.data.binomial import BinomialCounts, binomial_counts

ALPHA, BETA, NMAX = 2.0, 10.0, 1000
SUBSET_PAIRS = 2000
SUBSET_GROUPS = 20_000
ROWS_PER_FILE = 5_000_000


def synthetic(J: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Beta–Binomial data: (successes, trials) as int32, generated in blocks."""
    rng = np.random.default_rng(seed)
    y = np.empty(J, dtype=np.int32)
    n = np.empty(J, dtype=np.int32)
    for i in range(0, J, 10_000_000):
        m = min(10_000_000, J - i)
        nn = rng.integers(1, NMAX + 1, m)
        n[i : i + m] = nn
        y[i : i + m] = rng.binomial(nn, rng.beta(ALPHA, BETA, m))
    return y, n


def median_time(fn: Callable[[], Any], repeat: int) -> float:
    """Median of ``repeat`` timed runs after one untimed warm-up run.

    The warm-up matters on this VM: the first touch of fresh memory costs ~4 ms/MB
    (the host backs guest pages lazily), which would otherwise dominate one run.
    """
    fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def peak_mb(fn: Callable[[], Any]) -> tuple[float, Any]:
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    out = fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak / 2**20, out


def naive_loglik(y: np.ndarray, n: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ_j log B(y_j + a, n_j − y_j + b) − log B(a, b) at every grid point, the obvious way."""
    total = np.zeros(a.size)
    step = max(1, (1 << 20) // a.size)
    for i in range(0, y.size, step):
        yy = y[i : i + step, None].astype(float)
        nn = n[i : i + step, None].astype(float)
        total += betaln(yy + a[None, :], nn - yy + b[None, :]).sum(axis=0)
    return total - y.size * betaln(a, b)


def subset_fit(fit: hb.BetaBinomialFit, pairs: Any, size: int, seed: int = 0) -> Any:
    """A fit with the same posterior whose groups are `size` random distinct pairs."""
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(len(pairs), size=size, replace=False))
    counts = BinomialCounts(group=pd.RangeIndex(size, name="group"),
                            successes=pairs.successes[pick], trials=pairs.trials[pick])
    return hb.BetaBinomialFit(fit.model, fit.points, counts, lik=fit.lik)


def measure(J: int, repeat: int) -> dict[str, Any]:
    y, n = synthetic(J)
    model = hb.BetaBinomial()
    row: dict[str, Any] = {"J": J}
    row["floor"] = median_time(lambda: (np.bincount(y), np.bincount(n)), repeat)

    def reduce() -> Any:
        counts = binomial_counts(successes=y, trials=n)
        counts.pairs  # noqa: B018 - the reduction is computed on first access
        return counts

    row["a"] = median_time(reduce, repeat)
    counts = reduce()
    pairs = counts.pairs
    row["pairs"] = len(pairs)
    row["b"] = median_time(lambda: model._posterior(pairs), repeat)
    points, extra = model._posterior(pairs)
    lik = extra.get("lik")

    def moments() -> None:
        hb.BetaBinomialFit(model, points, counts, lik=lik).moments  # noqa: B018

    row["c"] = median_time(moments, repeat)
    row["fit"] = row["a"] + row["b"] + row["c"]
    row["grid"] = points.grid.size
    fit = hb.BetaBinomialFit(model, points, counts, lik=lik)

    # (d) intervals: all pairs, or a random subset scaled by the number of pairs
    if len(pairs) <= SUBSET_PAIRS:
        t = time.perf_counter()
        fit.summary(0.95)
        row["d"], row["d_est"] = time.perf_counter() - t, False
    else:
        sub = subset_fit(fit, pairs, SUBSET_PAIRS)
        t = time.perf_counter()
        sub.summary(0.95)
        row["d"] = (time.perf_counter() - t) * len(pairs) / SUBSET_PAIRS
        row["d_est"] = True

    # naive per-group betaln likelihood on the same grid
    a, b = points.params["alpha"], points.params["beta"]
    k = min(J, SUBSET_GROUPS)
    t = time.perf_counter()
    naive_loglik(y[:k], n[:k], a, b)
    row["naive"], row["naive_est"] = (time.perf_counter() - t) * J / k, k < J

    # peak memory, one run each, above what existed before the phase
    del fit
    row["mem_a"], _ = peak_mb(reduce)
    row["mem_b"], _ = peak_mb(lambda: model._posterior(pairs))
    row["mem_c"], _ = peak_mb(moments)
    if len(pairs) <= SUBSET_PAIRS:
        row["mem_d"], _ = peak_mb(lambda: hb.BetaBinomialFit(model, points, counts,
                                                             lik=lik).summary(0.95))
    else:  # the root finding's blocks; the J-row table adds what (c) shows
        sub = subset_fit(hb.BetaBinomialFit(model, points, counts, lik=lik), pairs,
                         SUBSET_PAIRS)
        row["mem_d"] = f"~{peak_mb(lambda: sub.summary(0.95))[0]:.0f}"
    return row


def measure_dask(J: int, repeat: int, client: Any, workdir: Path) -> float:
    import dask.dataframe as dd

    y, n = synthetic(J)
    folder = workdir / f"J{J}"
    folder.mkdir()
    for i, start in enumerate(range(0, J, ROWS_PER_FILE)):
        stop = min(J, start + ROWS_PER_FILE)
        pd.DataFrame({"successes": y[start:stop], "trials": n[start:stop]}).to_parquet(
            folder / f"part{i:03d}.parquet", index=False
        )
    del y, n
    model = hb.BetaBinomial()
    return median_time(lambda: model.fit(dd.read_parquet(str(folder))), repeat)


def fmt_t(x: float, est: bool = False) -> str:
    s = f"{x:.3g}" if x < 100 else f"{x:.0f}"
    return ("~" if est else "") + s


def fmt_m(x: Any) -> str:
    return x if isinstance(x, str) else f"{x:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-exp", type=int, default=None,
                        help="largest J = 10^k (default 8 if 20 GB are free, else 7)")
    parser.add_argument("--quick", action="store_true", help="J up to 10^5, fewer repeats")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask timings")
    args = parser.parse_args()
    free = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    top = args.max_exp or (5 if args.quick else 8 if free > 20e9 else 7)
    sizes = [10**k for k in range(3, top + 1)]

    client = cluster = None
    if not args.no_dask:
        try:
            import distributed

            cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                               processes=True, dashboard_address=None)
            client = distributed.Client(cluster)
        except ImportError:
            print("Dask not installed: the Dask column is skipped.")

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for J in sizes:
            repeat = 2 if args.quick else (5 if J < 10**7 else 3)
            row = measure(J, repeat)
            if client is not None:
                row["dask"] = measure_dask(J, 3, client, Path(tmp))
            rows.append(row)
            print(f"  done J = {J:.0e} ({row['pairs']} distinct pairs)", flush=True)
    if client is not None:
        client.close()
        cluster.close()

    head = (f"{'J':>6} {'pairs':>7} {'grid':>5} | {'floor':>6} {'(a)':>6} {'(b)':>6} "
            f"{'(c)':>6} {'fit':>6} {'fit/fl':>6} | {'(d)':>7} | {'naive':>7} | "
            f"{'dask':>6} {'(a)+(b)':>7} | {'MB (a)':>7} {'(b)':>5} {'(c)':>6} {'(d)':>9}")
    print()
    print("seconds (medians) and peak MB; ~ = scaled from a subset (see the docstring)")
    print(head)
    print("-" * len(head))
    for r in rows:
        dask = fmt_t(r["dask"]) if "dask" in r else "–"
        print(
            f"{r['J']:>6.0e} {r['pairs']:>7} {r['grid']:>5} | {fmt_t(r['floor']):>6} "
            f"{fmt_t(r['a']):>6} {fmt_t(r['b']):>6} {fmt_t(r['c']):>6} {fmt_t(r['fit']):>6} "
            f"{r['fit'] / r['floor']:>6.0f} | {fmt_t(r['d'], r['d_est']):>7} | "
            f"{fmt_t(r['naive'], r['naive_est']):>7} | {dask:>6} {fmt_t(r['a'] + r['b']):>7} | "
            f"{fmt_m(r['mem_a']):>7} {fmt_m(r['mem_b']):>5} {fmt_m(r['mem_c']):>6} "
            f"{fmt_m(r['mem_d']):>9}"
        )


if __name__ == "__main__":
    main()
