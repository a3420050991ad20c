"""Simulation-based calibration (Talts et al. 2018) for the three families.

Usage::

    python validation/sbc.py            # full run: 500 replications per setting
    python validation/sbc.py --quick    # 100 replications of 6 settings, no fit.hyper
    python validation/sbc.py --family binomial --reps 1000 --workers 2 --histogram

Each replication draws the hyperparameters from a *proper* prior, the group
parameters theta_j from the population distribution and the data from the
sampling model; it then fits the model **with that same prior** and records

* the rank of every true value among ``L`` posterior draws (``fit.draws``):
  under an exact posterior the rank is uniform on {0, ..., L};
* whether each true value lies inside the central 50% and 90% intervals
  (``fit.quantiles`` for theta_j, which is what ``fit.summary(prob)``
  reports as lower/upper; ``fit.hyper`` for the hyperparameters; both are
  exact mixture quantiles). ``fit.hyper`` is the slowest table (up to a
  second a fit for Gamma–Poisson), so by default the hyperparameters'
  intervals are checked in the first 100 replications of each setting
  (column ``(n)``); their ranks use every replication.

Tests per setting and parameter (rows of the table):

* **chi2 p**: Pearson chi-square of the rank histogram (``bins`` equal bins of
  the L + 1 rank values) against uniform;
* **KS p**: Kolmogorov–Smirnov of the randomised PIT (rank + U)/(L + 1),
  U ~ Uniform(0, 1) (exactly Uniform(0, 1) under calibration);
* **cov50, cov90**: coverage of the central 50% and 90% intervals, with
  the standard error ``se90`` of the 90% coverage.

The rows ``theta[0]`` use the first group of every replication only, so the
replications are independent and the p-values and binomial errors are exact
(groups are exchangeable in every setting, so any one group would do). The
rows ``theta[all]`` pool all J groups: their coverage standard error is the
between-replication (cluster) one, and no p-value is given because ranks of
groups within a replication are dependent.

Threshold (documented, used by tests/test_sbc.py): calibration is rejected
when a p-value falls below 0.001, or a coverage is more than 4 standard
errors from its nominal value. Everything is seeded: the same command gives
the same table whatever the number of workers.

Priors: Beta–Binomial mu ~ Beta(2, 2), kappa ~ LogNormal(log 20, 1);
Normal–Normal mu ~ Normal(0, 5), tau ~ HalfNormal(5) (the 1-D path);
Gamma–Poisson mean ~ LogNormal(0, 1), shape ~ LogNormal(log 5, 1). Settings:
J = 5 ("few") or 40 ("many") groups; "small" groups have 2-10 trials,
standard errors 5-15 or exposures 0.2-2, "large" ones 100-400 trials,
standard errors 0.5-2 or exposures 50-200.

Results of the full run (``python validation/sbc.py``, seed 20181102, 500
replications, L = 99, 20 bins; 42 minutes of 2 shared cores; the Gamma–Poisson
rows from ``--family poisson``, which gives the same rows)::

    setting                parameter     reps   chi2 p     KS p  cov50  cov90   se90    (n)  ok
    -------------------------------------------------------------------------------------------
    binomial/few-small     theta[0]       500    0.892    0.725  0.506  0.908  0.013    500  yes
    binomial/few-small     mu             500    0.512    0.935  0.560  0.930  0.030    100  yes
    binomial/few-small     kappa          500    0.280    0.462  0.500  0.890  0.030    100  yes
    binomial/few-small     theta[all]    2500        –        –  0.507  0.908  0.007   2500  yes
    binomial/few-large     theta[0]       500    0.684    0.809  0.492  0.900  0.013    500  yes
    binomial/few-large     mu             500    0.598    0.506  0.520  0.910  0.030    100  yes
    binomial/few-large     kappa          500    0.793    0.548  0.430  0.890  0.030    100  yes
    binomial/few-large     theta[all]    2500        –        –  0.490  0.899  0.006   2500  yes
    binomial/many-small    theta[0]       500    0.409    0.689  0.532  0.886  0.013    500  yes
    binomial/many-small    mu             500    0.305    0.557  0.490  0.870  0.030    100  yes
    binomial/many-small    kappa          500    0.788    0.437  0.520  0.920  0.030    100  yes
    binomial/many-small    theta[all]   20000        –        –  0.498  0.899  0.004  20000  yes
    binomial/many-large    theta[0]       500    0.820    0.779  0.508  0.886  0.013    500  yes
    binomial/many-large    mu             500    0.313    0.305  0.580  0.930  0.030    100  yes
    binomial/many-large    kappa          500    0.917    0.879  0.500  0.930  0.030    100  yes
    binomial/many-large    theta[all]   20000        –        –  0.499  0.897  0.002  20000  yes
    normal/few-small       theta[0]       500    0.280    0.063  0.458  0.908  0.013    500  yes
    normal/few-small       mu             500    0.343    0.235  0.480  0.940  0.030    100  yes
    normal/few-small       tau            500    0.710    0.789  0.500  0.890  0.030    100  yes
    normal/few-small       theta[all]    2500        –        –  0.477  0.902  0.007   2500  yes
    normal/few-large       theta[0]       500    0.620    0.831  0.534  0.896  0.013    500  yes
    normal/few-large       mu             500    0.097    0.198  0.560  0.950  0.030    100  yes
    normal/few-large       tau            500    0.560    0.390  0.530  0.940  0.030    100  yes
    normal/few-large       theta[all]    2500        –        –  0.510  0.898  0.006   2500  yes
    normal/many-small      theta[0]       500    0.802    0.995  0.494  0.912  0.013    500  yes
    normal/many-small      mu             500    0.257    0.828  0.490  0.870  0.030    100  yes
    normal/many-small      tau            500    0.614    0.652  0.470  0.920  0.030    100  yes
    normal/many-small      theta[all]   20000        –        –  0.490  0.899  0.005  20000  yes
    normal/many-large      theta[0]       500    0.030    0.485  0.504  0.894  0.013    500  yes
    normal/many-large      mu             500    0.209    0.630  0.450  0.900  0.030    100  yes
    normal/many-large      tau            500    0.465    0.245  0.450  0.900  0.030    100  yes
    normal/many-large      theta[all]   20000        –        –  0.507  0.898  0.003  20000  yes
    poisson/few-small      theta[0]       500    0.165    0.443  0.508  0.916  0.013    500  yes
    poisson/few-small      mean           500    0.679    0.258  0.510  0.930  0.030    100  yes
    poisson/few-small      alpha          500    0.647    0.766  0.470  0.890  0.030    100  yes
    poisson/few-small      theta[all]    2500        –        –  0.509  0.906  0.007   2500  yes
    poisson/few-large      theta[0]       500    0.137    0.184  0.496  0.910  0.013    500  yes
    poisson/few-large      mean           500    0.454    0.857  0.490  0.880  0.030    100  yes
    poisson/few-large      alpha          500    0.598    0.809  0.480  0.870  0.030    100  yes
    poisson/few-large      theta[all]    2500        –        –  0.486  0.902  0.006   2500  yes
    poisson/many-small     theta[0]       500    0.699    0.479  0.518  0.940  0.013    500  yes
    poisson/many-small     mean           500    0.953    0.965  0.580  0.930  0.030    100  yes
    poisson/many-small     alpha          500    0.229    0.853  0.570  0.930  0.030    100  yes
    poisson/many-small     theta[all]   20000        –        –  0.501  0.903  0.004  20000  yes
    poisson/many-large     theta[0]       500    0.000    0.109  0.486  0.882  0.013    500  NO
    poisson/many-large     mean           500    0.630    0.497  0.450  0.870  0.030    100  yes
    poisson/many-large     alpha          500    0.305    0.430  0.440  0.960  0.030    100  yes
    poisson/many-large     theta[all]   20000        –        –  0.499  0.900  0.002  20000  yes

One of the 72 rank tests rejects at 0.001: the chi-square of theta[0] in
poisson/many-large (p < 0.0005), with its KS p = 0.11, coverage 0.486/0.882
and the 20 000 pooled ranks of all its groups at coverage 0.499/0.900; its
histogram has no systematic shape (two high bins, one low). With 72 tests at
0.001 one rejection has a 7% chance under calibration. A rerun of that
setting at another seed (777, 300 replications) gives chi-square p = 0.93,
0.60 and 0.39 for theta[0], theta[1] and theta[2], KS p = 0.59, coverage
0.527/0.880 (theta[0]) and 0.496/0.894 (all 12 000).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

import hierbayes as hb
from hierbayes.models import GammaPoisson, NormalNormal

__all__ = ["SETTINGS", "Setting", "replicate", "run", "summarise"]

PROBS = (0.05, 0.25, 0.75, 0.95)  # central 90% and 50% intervals
P_MIN = 0.001  # reject calibration below this p-value
Z_MAX = 4.0  # ... or a coverage this many standard errors off


@dataclass(frozen=True)
class Setting:
    """One simulation design: a family, a prior, a number and size of groups.

    ``simulate(rng)`` returns ``(truth, data)``: the true hyperparameters and
    ``theta`` (array of J), and the keyword arguments of ``model.fit``.
    ``hyper`` names the hyperparameters ranked (keys of ``truth``, rows of
    ``fit.hyper``); ``from_draws`` maps a draws frame to those columns.
    """

    name: str
    family: str
    groups: int
    model: Callable[[], Any]
    simulate: Callable[[np.random.Generator], tuple[dict[str, Any], dict[str, Any]]]
    hyper: tuple[str, ...]
    from_draws: Callable[[Any], dict[str, np.ndarray]]
    quick: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


# ---- Beta–Binomial: mu ~ Beta(2, 2), kappa ~ LogNormal(log 20, 1) ----------------------
BB_PRIOR = {"mu": stats.beta(2, 2), "kappa": stats.lognorm(1.0, scale=20.0)}


def _bb_model() -> Any:
    return hb.BetaBinomial(prior=BB_PRIOR, probs=PROBS)


def _bb_sim(groups: int, lo: int, hi: int):
    def simulate(rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
        mu = float(BB_PRIOR["mu"].rvs(random_state=rng))
        kappa = float(BB_PRIOR["kappa"].rvs(random_state=rng))
        theta = rng.beta(mu * kappa, (1 - mu) * kappa, groups)
        n = rng.integers(lo, hi + 1, groups)
        y = rng.binomial(n, theta)
        return {"mu": mu, "kappa": kappa, "theta": theta}, {"successes": y, "trials": n}

    return simulate


def _bb_draws(d: Any) -> dict[str, np.ndarray]:
    a, b = d["alpha"].to_numpy(), d["beta"].to_numpy()
    return {"mu": a / (a + b), "kappa": a + b}


# ---- Normal–Normal: mu ~ Normal(0, 5), tau ~ HalfNormal(5) (1-D path) --------------------
NN_PRIOR = {"mu": stats.norm(0.0, 5.0), "tau": stats.halfnorm(scale=5.0)}


def _nn_model() -> Any:
    return NormalNormal(prior=NN_PRIOR, probs=PROBS)


def _nn_sim(groups: int, lo: float, hi: float):
    def simulate(rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
        mu = float(NN_PRIOR["mu"].rvs(random_state=rng))
        tau = float(NN_PRIOR["tau"].rvs(random_state=rng))
        theta = rng.normal(mu, tau, groups)
        se = rng.uniform(lo, hi, groups)
        y = rng.normal(theta, se)
        return {"mu": mu, "tau": tau, "theta": theta}, {"estimate": y, "std_error": se}

    return simulate


def _nn_draws(d: Any) -> dict[str, np.ndarray]:
    return {"mu": d["mu"].to_numpy(), "tau": d["tau"].to_numpy()}


# ---- Gamma–Poisson: mean ~ LogNormal(0, 1), shape ~ LogNormal(log 5, 1) -----------------
GP_PRIOR = {"mean": stats.lognorm(1.0, scale=1.0), "shape": stats.lognorm(1.0, scale=5.0)}


def _gp_model() -> Any:
    return GammaPoisson(prior=GP_PRIOR, probs=PROBS)


def _gp_sim(groups: int, lo: float, hi: float):
    def simulate(rng: np.random.Generator) -> tuple[dict[str, Any], dict[str, Any]]:
        mean = float(GP_PRIOR["mean"].rvs(random_state=rng))
        shape = float(GP_PRIOR["shape"].rvs(random_state=rng))
        theta = rng.gamma(shape, mean / shape, groups)  # rate beta = shape / mean
        t = rng.uniform(lo, hi, groups)
        y = rng.poisson(theta * t)
        return {"mean": mean, "alpha": shape, "theta": theta}, {"counts": y, "exposure": t}

    return simulate


def _gp_draws(d: Any) -> dict[str, np.ndarray]:
    a, b = d["alpha"].to_numpy(), d["beta"].to_numpy()
    return {"mean": a / b, "alpha": a}


def _settings() -> list[Setting]:
    out = []
    # (label, J, size range, in the quick subset)
    designs = {
        "binomial": [("few-small", 5, (2, 10), True), ("few-large", 5, (100, 400), False),
                     ("many-small", 40, (2, 10), False), ("many-large", 40, (100, 400), True)],
        "normal": [("few-small", 5, (5.0, 15.0), True), ("few-large", 5, (0.5, 2.0), False),
                   ("many-small", 40, (5.0, 15.0), False), ("many-large", 40, (0.5, 2.0), True)],
        "poisson": [("few-small", 5, (0.2, 2.0), True), ("few-large", 5, (50.0, 200.0), False),
                    ("many-small", 40, (0.2, 2.0), False),
                    ("many-large", 40, (50.0, 200.0), True)],
    }
    kinds = {
        "binomial": (_bb_model, _bb_sim, ("mu", "kappa"), _bb_draws, "trials"),
        "normal": (_nn_model, _nn_sim, ("mu", "tau"), _nn_draws, "std_error"),
        "poisson": (_gp_model, _gp_sim, ("mean", "alpha"), _gp_draws, "exposure"),
    }
    for family, rows in designs.items():
        model, sim, hyper, from_draws, size_name = kinds[family]
        for label, groups, (lo, hi), quick in rows:
            out.append(Setting(
                name=f"{family}/{label}", family=family, groups=groups, model=model,
                simulate=sim(groups, lo, hi), hyper=hyper, from_draws=from_draws, quick=quick,
                meta={"J": groups, size_name: (lo, hi)},
            ))
    return out


SETTINGS: list[Setting] = _settings()
_BY_NAME = {s.name: s for s in SETTINGS}


def replicate(setting: Setting | str, seed: Sequence[int], draws: int,
              hyper_intervals: bool = True) -> dict[str, Any]:
    """One SBC replication of a setting (or its name); fully determined by ``seed``.

    With ``hyper_intervals=False`` the hyperparameters are ranked but their
    intervals (``fit.hyper``, the slowest table) are not computed.

    Returns
    -------
    dict
        ``ranks``: parameter -> rank(s) in 0..draws (theta: one per group);
        ``in50``, ``in90``: parameter -> bool(s), inside the central interval;
        ``warnings``: messages of warnings raised by the fit;
        ``error``: the exception text if the fit failed (then nothing else).
    """
    if isinstance(setting, str):
        setting = _BY_NAME[setting]
    rng = np.random.default_rng(list(seed))
    truth, data = setting.simulate(rng)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = setting.model().fit(**data)
            d = fit.draws(draws, seed=int(rng.integers(2**31)))
            q = fit.quantiles(PROBS).to_numpy()
            hyper = fit.hyper if hyper_intervals else None
        except Exception as exc:  # a failure is a result: report it, never hide it
            return {"error": f"{type(exc).__name__}: {exc}"}
    theta_draws = d[[c for c in d.columns if c.startswith("theta[")]].to_numpy()
    hyper_draws = setting.from_draws(d)
    ranks: dict[str, Any] = {"theta": np.sum(theta_draws < truth["theta"], axis=0)}
    in50: dict[str, Any] = {"theta": (q[:, 1] <= truth["theta"]) & (truth["theta"] <= q[:, 2])}
    in90: dict[str, Any] = {"theta": (q[:, 0] <= truth["theta"]) & (truth["theta"] <= q[:, 3])}
    for h in setting.hyper:
        ranks[h] = int(np.sum(hyper_draws[h] < truth[h]))
        if hyper is None:
            continue
        row = hyper.loc[h, ["q5", "q25", "q75", "q95"]].to_numpy(dtype=float)
        in50[h] = bool(row[1] <= truth[h] <= row[2])
        in90[h] = bool(row[0] <= truth[h] <= row[3])
    return {"ranks": ranks, "in50": in50, "in90": in90,
            "warnings": sorted({str(w.message).split(":")[0][:80] for w in caught})}


def _job(args: tuple[str, tuple[int, ...], int, bool]) -> dict[str, Any]:
    return replicate(*args)


def run(names: Sequence[str], reps: int, draws: int = 99, seed: int = 20181102,
        workers: int = 1,
        done: Callable[[str, list[dict[str, Any]]], None] | None = None,
        hyper_reps: int | None = None,
        ) -> dict[str, list[dict[str, Any]]]:
    """All replications of the named settings; replication r of setting s uses
    the seed ``(seed, s, r)``, so results do not depend on ``workers``.
    ``done(name, results)`` is called as each setting completes. The
    hyperparameters' intervals are computed in the first ``hyper_reps``
    replications of each setting (default: all)."""
    hyper_reps = reps if hyper_reps is None else hyper_reps
    jobs = [(n, (seed, SETTINGS.index(_BY_NAME[n]), r), draws, r < hyper_reps) for n in names
            for r in range(reps)]
    out: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    try:
        results = pool.map(_job, jobs, chunksize=4) if pool else map(_job, jobs)
        for (n, *_), res in zip(jobs, results, strict=True):
            out[n].append(res)
            if done is not None and len(out[n]) == reps:
                done(n, out[n])
    finally:
        if pool is not None:
            pool.shutdown()
    return out


@dataclass(frozen=True)
class Row:
    """One line of the SBC table."""

    setting: str
    parameter: str
    reps: int
    interval_reps: int
    chi2_p: float
    ks_p: float
    cov50: float
    cov90: float
    se50: float
    se90: float
    histogram: np.ndarray

    @property
    def ok(self) -> bool:
        """Whether nothing rejects calibration at the documented thresholds."""
        # NaN (not tested) never rejects
        p_ok = all(not (p < P_MIN) for p in (self.chi2_p, self.ks_p))
        z50 = abs(self.cov50 - 0.5) / self.se50
        z90 = abs(self.cov90 - 0.9) / self.se90
        return p_ok and not (z50 > Z_MAX) and not (z90 > Z_MAX)


def rank_tests(ranks: np.ndarray, draws: int, bins: int, seed: int = 0) -> tuple[float, float,
                                                                                   np.ndarray]:
    """(chi-square p, KS p, histogram) of ranks in 0..draws against uniform.

    ``bins`` must divide ``draws + 1`` so every bin holds as many rank values.
    """
    if (draws + 1) % bins:
        raise ValueError(f"`bins` must divide draws + 1 = {draws + 1}; got {bins}.")
    ranks = np.asarray(ranks)
    hist = np.bincount(ranks * bins // (draws + 1), minlength=bins)
    chi2_p = float(stats.chisquare(hist).pvalue)
    u = (ranks + np.random.default_rng(seed).random(ranks.size)) / (draws + 1)
    ks_p = float(stats.kstest(u, "uniform").pvalue)
    return chi2_p, ks_p, hist


def summarise(setting: Setting | str, results: list[dict[str, Any]], draws: int,
              bins: int) -> list[Row]:
    """Table rows of one setting: theta[0], each hyperparameter, theta[all].

    A hyperparameter without intervals (``hyper_intervals=False``) has NaN coverage.
    """
    ok = [r for r in results if "error" not in r]
    if isinstance(setting, str):
        setting = _BY_NAME[setting]
    name = setting.name
    rows = []
    R = len(ok)

    def binomial_se(p: float, n: int = R) -> float:
        return math.sqrt(p * (1 - p) / n) if n else math.nan

    def stack(key: str, par: str) -> np.ndarray:
        return np.array([r[key][par] for r in ok if par in r[key]])

    for par in ("theta[0]", *setting.hyper):
        src = "theta" if par == "theta[0]" else par
        ranks = stack("ranks", src)
        i50, i90 = stack("in50", src), stack("in90", src)
        if src == "theta":
            ranks, i50, i90 = ranks[:, 0], i50[:, 0], i90[:, 0]
        chi2_p, ks_p, hist = rank_tests(ranks, draws, bins)
        n_int = len(i90)  # replications with intervals
        cov50 = float(np.mean(i50)) if n_int else math.nan
        cov90 = float(np.mean(i90)) if n_int else math.nan
        rows.append(Row(name, par, R, n_int, chi2_p, ks_p, cov50, cov90,
                        binomial_se(0.5, n_int), binomial_se(0.9, n_int), hist))
    # all groups pooled: coverage with the between-replication standard error
    ranks = stack("ranks", "theta").ravel()
    f50, f90 = stack("in50", "theta").mean(axis=1), stack("in90", "theta").mean(axis=1)
    hist = np.bincount(ranks * bins // (draws + 1), minlength=bins)
    rows.append(Row(name, "theta[all]", R * setting.groups, R * setting.groups, math.nan,
                    math.nan,
                    float(f50.mean()), float(f90.mean()),
                    max(float(f50.std(ddof=1)) / math.sqrt(R), binomial_se(0.5) / 10),
                    max(float(f90.std(ddof=1)) / math.sqrt(R), binomial_se(0.9) / 10), hist))
    return rows


_BARS = " ▁▂▃▄▅▆▇█"


def sparkline(hist: np.ndarray) -> str:
    """The rank histogram as one line of block characters (height relative to the max)."""
    top = max(int(hist.max()), 1)
    return "".join(_BARS[round(8 * h / top)] for h in hist)


def format_table(rows: list[Row], histogram: bool, header: bool = True) -> str:
    head = (f"{'setting':<22} {'parameter':<11} {'reps':>6} {'chi2 p':>8} {'KS p':>8} "
            f"{'cov50':>6} {'cov90':>6} {'se90':>6} {'(n)':>6}  ok")
    lines = [head, "-" * len(head)] if header else []
    for r in rows:
        def p(x: float) -> str:
            return "–" if math.isnan(x) else f"{x:.3f}"

        line = (f"{r.setting:<22} {r.parameter:<11} {r.reps:>6} {p(r.chi2_p):>8} "
                f"{p(r.ks_p):>8} {p(r.cov50):>6} {p(r.cov90):>6} {p(r.se90):>6} "
                f"{r.interval_reps:>6}  "
                f"{'yes' if r.ok else 'NO'}")
        if histogram:
            line += f"  |{sparkline(r.histogram)}|"
        lines.append(line)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="100 replications of the quick subset of settings")
    parser.add_argument("--reps", type=int, default=None,
                        help="replications per setting (default 500, quick 100)")
    parser.add_argument("--draws", type=int, default=99, help="posterior draws L per fit")
    parser.add_argument("--bins", type=int, default=None,
                        help="histogram bins, dividing draws + 1 (default 20, quick 10)")
    parser.add_argument("--seed", type=int, default=20181102)
    parser.add_argument("--family", choices=["binomial", "normal", "poisson"], action="append",
                        help="only these families (repeatable)")
    parser.add_argument("--hyper-reps", type=int, default=None,
                        help="replications with hyperparameter intervals (fit.hyper, the "
                        "slowest table; default 100, quick 0)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--histogram", action="store_true", help="print rank histograms")
    args = parser.parse_args(argv)
    reps = args.reps or (100 if args.quick else 500)
    bins = args.bins or (10 if args.quick else 20)
    names = [s.name for s in SETTINGS if (s.quick or not args.quick)
             and (args.family is None or s.family in args.family)]
    start = time.perf_counter()
    print(f"SBC: {reps} replications per setting, L = {args.draws} draws, {bins} rank bins, "
          f"seed {args.seed}; threshold p > {P_MIN}, |coverage − nominal| ≤ {Z_MAX:g} se")
    print(format_table([], False), flush=True)
    rows: list[Row] = []
    notes: list[str] = []

    def done(name: str, results: list[dict[str, Any]]) -> None:
        errs = [r["error"] for r in results if "error" in r]
        if errs:
            notes.append(f"FAILED {len(errs)} fit(s) of {name}, e.g. {errs[0]}")
        msgs = [m for r in results if "error" not in r for m in r["warnings"]]
        for m in sorted(set(msgs)):
            notes.append(f"warning in {msgs.count(m)} fit(s) of {name}: {m}")
        new = summarise(name, results, args.draws, bins)
        rows.extend(new)
        print(format_table(new, args.histogram, header=False), flush=True)

    hyper_reps = args.hyper_reps if args.hyper_reps is not None else (0 if args.quick else 100)
    run(names, reps, args.draws, args.seed, args.workers, done, min(hyper_reps, reps))
    print("\n".join(notes))
    failures = any(n.startswith("FAILED") for n in notes)
    print(f"time {time.perf_counter() - start:.0f} s with {args.workers} worker(s)")
    return 0 if all(r.ok for r in rows) and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
