"""hb GammaPoisson: every number against an independent computation (MODEL.md §5).

The oracle (``oracle_gammapoisson.py``) integrates the posterior with
``scipy.integrate.cubature`` in its own coordinates and algebra and shares no
code with hierbayes. Tolerances as for Beta–Binomial: means, sds and
shrinkage 1e-8 relative; quantiles 1e-7 as implied errors |F(q) − p|/(f(q)·q)
(relative, i.e. on the log scale, since every quantity is positive).
"""

from __future__ import annotations

import math
import sys
import warnings
from pathlib import Path

import mpmath as mp
import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import hierbayes as hb
from hierbayes.families.conjugate import GAMMA
from hierbayes.families.gammapoisson.math import NegBinLikelihood
from hierbayes.mixtures.mixture import mixture_quantiles
from hierbayes.models import GammaPoisson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import oracle_gammapoisson as og

REL_MOMENT = 1e-8
QUANTILE_TOL = 1e-7
BUGS = {"alpha": stats.expon(scale=1), "beta": stats.gamma(0.1, scale=1)}  # BUGS: dgamma(0.1, 1)
PRIORS = {"default": None, "bugs": BUGS}
Y = np.array(og.PUMP_FAILURES)
T = np.array(og.PUMP_KILOHOURS)


@pytest.fixture(scope="module")
def pumps():
    return hb.datasets.load("pumps")


@pytest.fixture(scope="module", params=list(PRIORS))
def case(request, pumps):
    fit = GammaPoisson(prior=PRIORS[request.param]).fit(pumps)
    return request.param, og.get(request.param), fit


def rel(a, b):
    return np.max(np.abs(np.asarray(a, float) / np.asarray(b, float) - 1.0))


# ---- the data ------------------------------------------------------------------------
def test_pumps_dataset_matches_oracle_copy(pumps):
    assert list(pumps.columns[:3]) == ["group", "counts", "exposure"]
    np.testing.assert_array_equal(pumps["counts"], Y)
    np.testing.assert_array_equal(pumps["exposure"], T)


# ---- likelihood ----------------------------------------------------------------------
def _mp_loglik(y, t, alpha, beta):
    mp.mp.dps = 80
    a, b = mp.mpf(alpha), mp.mpf(beta)
    total = mp.mpf(0)
    for yi, ti in zip(y, t, strict=True):
        ti = mp.mpf(ti)
        total += (mp.loggamma(yi + a) - mp.loggamma(a) - mp.loggamma(yi + 1) + a * mp.log(b)
                  + yi * mp.log(ti) - (yi + a) * mp.log(b + ti))
    return float(total)


@pytest.mark.parametrize("path", ["counts", "unique", "pairs"])
def test_likelihood_paths_match_mpmath(path):
    """Every path, at shapes from 1e-8 to 1e16 (where lgamma differences lose all digits)."""
    y = np.array([0, 3, 3, 0, 17, 1, 250, 3, 0])
    t = np.array([1.5, 2.0, 2.0, 0.25, 40.0, 2.0, 100.0, 0.25, 1.5])
    lik = NegBinLikelihood.from_counts(y, t, path=path)
    assert lik.path == path
    pts = [(u, v) for u in (-3.0, 0.7, 4.0) for v in (-18.4, -2.0, 0.0, 3.0, 12.0, 23.0, 36.8)]
    u, v = np.array(pts).T
    got = lik(u, v) + lik.log_const
    for g, (ui, vi) in zip(got, pts, strict=True):
        ref = _mp_loglik(y, t, math.exp(vi), math.exp(vi - ui))
        assert abs(g - ref) <= 1e-10 * abs(ref), (path, ui, vi, g, ref)


def test_likelihood_auto_path_and_pairs_multiplicities():
    small = NegBinLikelihood.from_counts(np.array([0, 1, 2, 2]), np.ones(4))
    assert small.path == "counts"
    big = NegBinLikelihood.from_counts(np.array([10**6, 3]), np.array([1.0, 2.0]))
    assert big.path == "unique"
    u, v = np.array([0.1, -1.0]), np.array([2.0, 30.0])
    ref = NegBinLikelihood.from_counts(np.array([10**6, 3]), np.array([1.0, 2.0]), path="pairs")
    np.testing.assert_allclose(big(u, v), ref(u, v), rtol=1e-13)


# ---- group posteriors against the oracle ---------------------------------------------
def test_group_moments(case):
    name, oracle, fit = case
    g = fit.groups
    ref = oracle.group_moments()
    for col in ("mean", "sd", "shrinkage"):
        assert rel(g[col], ref[col]) < REL_MOMENT, (name, col, rel(g[col], ref[col]))


def test_group_quantiles(case):
    name, oracle, fit = case
    cols = {"q2.5": 0.025, "q50": 0.5, "q97.5": 0.975}
    q = np.stack([fit.groups[c].to_numpy(float) for c in cols])
    s = fit.summary(prob=0.9)
    q = np.vstack([q, s["lower"].to_numpy(float), s["upper"].to_numpy(float)])
    p = np.array([*cols.values(), 0.05, 0.95])[:, None]
    err = np.abs(oracle.group_cdf(q) - p) / (oracle.group_pdf(q) * q)
    assert err.max() < QUANTILE_TOL, (name, err.max())


# ---- hyperparameters against the oracle ----------------------------------------------
def test_hyper_moments(case):
    name, oracle, fit = case
    h = fit.hyper
    logs = ["log_alpha", "log_beta", "log_mean"]
    if name == "default":
        # E[alpha] = E[beta] = ∞ (logistic tails), E[mean] < ∞ but sd(mean) = ∞.
        assert np.isinf(h.loc[["alpha", "beta"], "mean"]).all()
        assert h.loc[["alpha", "beta"], "sd"].isna().all()
        assert np.isinf(h.loc["mean", "sd"])
        ref = oracle.hyper_moments([*logs, "mean"], logs)
        assert abs(h.loc["mean", "mean"] / ref["mean"][0] - 1) < REL_MOMENT
    else:
        # BUGS: E[mean] = E[alpha]·E[1/beta] = ∞ under the Gamma(0.1) prior on the rate.
        assert np.isinf(h.loc["mean", "mean"]) and np.isnan(h.loc["mean", "sd"])
        ref = oracle.hyper_moments([*logs, "alpha", "beta"])
        for p in ("alpha", "beta"):
            assert abs(h.loc[p, "mean"] / ref[p][0] - 1) < REL_MOMENT, p
            assert abs(h.loc[p, "sd"] / ref[p][1] - 1) < REL_MOMENT, p
    for p in logs:
        assert abs(h.loc[p, "mean"] - ref[p][0]) < REL_MOMENT * abs(ref[p][0]), p
        assert abs(h.loc[p, "sd"] / ref[p][1] - 1) < REL_MOMENT, p


def test_hyper_quantiles(case):
    name, oracle, fit = case
    h = fit.hyper
    for p in ("log_alpha", "log_mean", "log_beta"):
        natural = {"log_alpha": "alpha", "log_mean": "mean", "log_beta": "beta"}[p]
        for col, level in (("q2.5", 0.025), ("q50", 0.5), ("q97.5", 0.975)):
            x = float(h.loc[p, col])
            assert float(h.loc[natural, col]) == pytest.approx(math.exp(x), rel=1e-14)
            err = abs(oracle.hyper_cdf(p, x) - level) / oracle.hyper_pdf(p, x)
            assert err < QUANTILE_TOL, (name, p, col, err)


# ---- pooling levels: closed forms ----------------------------------------------------
def test_complete_and_no_pooling_closed_forms(pumps):
    full = GammaPoisson(pooling="complete").fit(pumps)
    post = stats.gamma(0.5 + Y.sum(), scale=1 / T.sum())  # Jeffreys prior theta^(-1/2)
    g = full.groups
    assert np.allclose(g["mean"], post.mean(), rtol=1e-14)
    assert np.allclose(g["sd"], post.std(), rtol=1e-14)
    assert np.allclose(g["q97.5"], post.ppf(0.975), rtol=1e-12)
    assert (g["shrinkage"] == 1).all()
    assert full.hyper.loc["theta", "q2.5"] == pytest.approx(post.ppf(0.025), rel=1e-12)
    none = GammaPoisson(pooling="none", pooled_prior=(2.0, 1.5)).fit(pumps).groups
    post = stats.gamma(2.0 + Y, scale=1 / (1.5 + T))
    assert np.allclose(none["mean"], post.mean(), rtol=1e-14)
    assert np.allclose(none["q2.5"], post.ppf(0.025), rtol=1e-12)
    assert np.allclose(none["shrinkage"], 1.5 / (1.5 + T), rtol=1e-14)
    t = hb.compare_pooling(pumps, model=GammaPoisson()).groups
    assert list(t.columns[:3]) == ["counts", "exposure", "raw"]
    assert t.complete_mean.nunique() == 1


def test_empirical_bayes_against_scipy_nbinom(pumps):
    eb = GammaPoisson(method="eb").fit(pumps)

    def neg(x):
        a, b = np.exp(x)
        return -np.sum(stats.nbinom.logpmf(Y, a, b / (b + T)))

    res = optimize.minimize(neg, [0.0, 0.0], method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000})
    a, b = np.exp(res.x)
    h = eb.hyper
    assert h.loc["alpha", "mean"] == pytest.approx(a, rel=1e-5)
    assert h.loc["beta", "mean"] == pytest.approx(b, rel=1e-5)
    post = stats.gamma(a + Y, scale=1 / (b + T))
    assert np.allclose(eb.groups["mean"], post.mean(), rtol=1e-5)


def test_empirical_bayes_without_overdispersion_warns_complete_pooling():
    with pytest.warns(hb.DegenerateDataWarning, match="complete"):
        eb = GammaPoisson(method="eb").fit(counts=[10, 20, 30, 40], exposure=[1, 2, 3, 4])
    assert eb.groups["mean"].to_numpy() == pytest.approx(np.full(4, 10.0), rel=1e-6)
    with pytest.raises(hb.DataError, match="every count is 0"):
        GammaPoisson(method="eb").fit(counts=[0, 0], exposure=[1, 2])


# ---- priors --------------------------------------------------------------------------
def test_prior_forms_agree(pumps):
    """A dict prior and the same density as a callable in (alpha, beta), Jacobian by hand."""
    pm, ps = stats.lognorm(1.5, scale=0.5), stats.gamma(2.0, scale=1.0)
    f1 = GammaPoisson(prior={"mean": pm, "shape": ps}).fit(pumps)
    # p(alpha, beta) = p_mean(alpha/beta)·p_shape(alpha)·|∂(mean, shape)/∂(alpha, beta)|,
    # and the Jacobian is alpha/beta².
    f2 = GammaPoisson(
        prior=lambda a, b: pm.logpdf(a / b) + ps.logpdf(a) + np.log(a) - 2 * np.log(b)
    ).fit(pumps)
    assert rel(f1.groups["mean"], f2.groups["mean"]) < 1e-9
    assert rel(f1.groups["q97.5"], f2.groups["q97.5"]) < 1e-8
    # Finite prior moments are reported; E[beta] = E[shape]·E[1/mean] (lognormal: finite).
    assert np.isfinite(f1.hyper.loc[["alpha", "beta", "mean"], "mean"]).all()
    # The callable's moments: decided on the grid (its edge holds < tol of them), and
    # then the dict prior's numbers.
    assert f2.hyper.loc["alpha", "mean"] == pytest.approx(f1.hyper.loc["alpha", "mean"],
                                                          rel=1e-7)
    f3 = GammaPoisson(prior=lambda a, b: stats.expon.logpdf(a) + stats.gamma.logpdf(b, 0.1)
                      ).fit(pumps)
    f4 = GammaPoisson(prior=BUGS).fit(pumps)
    assert rel(f3.groups["sd"], f4.groups["sd"]) < 1e-9


def test_improper_priors_refused(pumps):
    for name in ("flat", "flat-log", "jeffreys"):
        with pytest.raises(hb.ImproperPosteriorError, match="improper"):
            GammaPoisson(prior=name)
    with pytest.raises(hb.ImproperPosteriorError, match="every count is 0"):
        GammaPoisson().fit(counts=[0, 0, 0], exposure=[1.0, 2.0, 3.0])
    with pytest.raises(hb.ImproperPosteriorError, match="does not decay"):
        GammaPoisson(prior=lambda a, b: np.zeros_like(a)).fit(pumps)
    # All-zero counts are fine under proper priors.
    fit = GammaPoisson(prior={"mean": stats.lognorm(1, scale=0.1), "shape": stats.expon()}
                       ).fit(counts=[0, 0, 0], exposure=[1.0, 2.0, 3.0])
    assert (fit.groups["mean"] > 0).all()


def test_prior_specification_errors():
    with pytest.raises(hb.PriorError, match="exactly the keys"):
        GammaPoisson(prior={"alpha": stats.expon()})
    with pytest.raises(hb.PriorError, match="support"):
        GammaPoisson(prior={"mean": stats.norm(1, 1), "shape": stats.expon()})
    with pytest.raises(TypeError, match=r"frozen scipy\.stats"):
        GammaPoisson(prior={"alpha": 1.0, "beta": stats.expon()})
    with pytest.raises(hb.PriorError, match="method='eb'"):
        GammaPoisson(prior=BUGS, method="eb")
    with pytest.raises(ValueError, match="`pooling` must be one of"):
        GammaPoisson(pooling="partal")
    with pytest.raises(hb.PriorError, match="pooled_prior"):
        GammaPoisson(pooled_prior=(0.0, 1.0))


# ---- input ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "counts,exposure,needle",
    [
        ([-1, 2], [1.0, 2.0], "negative"),
        ([2.5, 2], [1.0, 2.0], "whole numbers"),
        ([np.nan, 2], [1.0, 2.0], "missing"),
        ([1, 2], [np.nan, 2.0], "exposure.*missing"),
        ([1, 2], [np.inf, 2.0], "missing or infinite"),
        ([1, 2], [0.0, 2.0], "must be positive"),
        ([1, 2], [-3.0, 2.0], "must be positive"),
        ([1, 2], ["x", 2.0], "must hold numbers"),
    ],
)
def test_bad_input_is_named(counts, exposure, needle):
    df = pd.DataFrame({"group": ["g1", "g2"], "counts": counts, "exposure": exposure})
    with pytest.raises(hb.DataError, match=needle) as err:
        GammaPoisson().fit(df)
    assert "g1" in str(err.value)


def test_columns_defaults_and_arrays(pumps):
    base = GammaPoisson(pooling="none").fit(pumps).groups
    renamed = pumps.rename(columns={"counts": "failures", "exposure": "kh", "group": "pump"})
    g = GammaPoisson(pooling="none").fit(renamed, group="pump", counts="failures",
                                         exposure="kh").groups
    pd.testing.assert_frame_equal(g, base)
    g = GammaPoisson(pooling="none").fit(counts=Y.astype(float), exposure=T).groups
    assert np.allclose(g["mean"].to_numpy(), base["mean"].to_numpy(), rtol=1e-15)
    ones = GammaPoisson().fit(pd.DataFrame({"counts": [3, 5, 0, 2]})).groups
    assert (ones["exposure"] == 1.0).all()
    explicit = GammaPoisson().fit(counts=[3, 5, 0, 2], exposure=[1, 1, 1, 1]).groups
    assert np.allclose(ones["mean"], explicit["mean"], rtol=1e-14)
    with pytest.raises(hb.DataError, match="'hours'"):
        GammaPoisson().fit(pumps, exposure="hours")


# ---- invariances ---------------------------------------------------------------------
def test_invariances(pumps):
    model = GammaPoisson()
    base = model.fit(pumps).groups
    g = model.fit(pumps.sample(frac=1.0, random_state=4)).groups.loc[base.index]
    pd.testing.assert_frame_equal(g, base, rtol=1e-11)
    g = model.fit(pumps.assign(group=[f"pump {i}" for i in pumps.group])).groups
    assert rel(g["mean"], base["mean"]) < 1e-11
    # Splitting pump 10's rows (22 failures in 10.5 kh) into 9 + 13 in 4.5 + 6.
    split = pd.concat([pumps.iloc[:-1], pd.DataFrame(
        {"group": [10, 10], "counts": [9, 13], "exposure": [4.5, 6.0]})])
    g = model.fit(split).groups
    assert rel(g["mean"], base["mean"]) < 1e-11 and rel(g["q2.5"], base["q2.5"]) < 1e-9
    # Units of exposure (kilohours → hours): every rate posterior scales by 1/1000 exactly.
    g = model.fit(pumps.assign(exposure=pumps.exposure * 1000)).groups
    for col in ("mean", "sd", "q2.5", "q97.5"):
        assert rel(g[col] * 1000, base[col]) < 1e-8, col


def test_small_exposures_and_zero_counts_against_oracle():
    """A second data set: zeros, repeated exposures; default prior."""
    y, t = [0, 2, 1, 7, 0, 3, 2], [1.5, 2.0, 0.5, 4.0, 3.0, 2.0, 2.0]
    fit = GammaPoisson().fit(counts=y, exposure=t)
    ref = og.Oracle("default", y=y, t=t).group_moments()
    for col in ("mean", "sd", "shrinkage"):
        assert rel(fit.groups[col], ref[col]) < REL_MOMENT, col


# ---- draws, summaries, edge cases ----------------------------------------------------
def test_draws_agree_with_exact_summaries(pumps):
    fit = GammaPoisson(prior=BUGS).fit(pumps)
    d = fit.draws(10000, seed=0)
    assert list(d.columns[:3]) == ["alpha", "beta", "theta[1]"] and d.shape == (10000, 12)
    g = fit.groups
    theta = d.iloc[:, 2:].to_numpy()
    z = (theta.mean(axis=0) - g["mean"].to_numpy()) / (g["sd"].to_numpy() / math.sqrt(10000))
    assert np.abs(z).max() < 4.5
    for name in ("alpha", "beta"):
        frac = np.mean(d[name] < fit.hyper.loc[name, "q50"])
        assert abs(frac - 0.5) < 4.5 * math.sqrt(0.25 / 10000)
    assert fit.draws(10, seed=5).equals(fit.draws(10, seed=5))
    full = GammaPoisson(pooling="complete").fit(pumps).draws(5, seed=1)
    assert (full.iloc[:, 2:].nunique(axis=1) == 1).all()


def test_quantiles_below_smallest_double_warn_not_zero():
    model = GammaPoisson(pooling="none", pooled_prior=(1e-4, 1.0))
    with pytest.warns(hb.AccuracyWarning, match="smallest positive double"):
        q = model.fit(counts=[0, 3], exposure=[1.0, 1.0]).groups["q2.5"]
    assert q.iloc[0] == np.finfo(float).tiny and q.iloc[1] > 0


def test_mixture_quantiles_at_huge_and_tiny_shapes():
    """Components Gamma(y + alpha, t + beta) with alpha up to 1e12 and down to 1e-3."""
    alpha = np.array([1e-3, 0.5, 1e12])
    beta = alpha / 2.0
    w = np.array([0.004, 0.696, 0.3])  # the tiny shape holds less than the lowest probability
    y, t = np.array([0, 4]), np.array([1.0, 3.0])
    A = y[None, :] + alpha[:, None]
    B = t[None, :] + beta[:, None]
    mean = w @ (A / B)
    sd = np.sqrt(w @ (A / B**2) + w @ (A / B - mean) ** 2)
    probs = np.array([0.01, 0.3, 0.5, 0.9])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        q = mixture_quantiles(GAMMA, lambda sl: (A[:, sl], B[:, sl]), w, probs, mean, sd)
    for j in range(2):
        dists = [stats.gamma(A[g, j], scale=1 / B[g, j]) for g in range(3)]
        for k, p in enumerate(probs):
            cdf = sum(wi * d.cdf(q[j, k]) for wi, d in zip(w, dists, strict=True))
            pdf = sum(wi * d.pdf(q[j, k]) for wi, d in zip(w, dists, strict=True))
            assert abs(cdf - p) / (pdf * q[j, k]) < 1e-9, (j, p)


def test_no_overdispersion_reaches_complete_pooling_tail():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = GammaPoisson().fit(counts=[10, 20, 30, 41], exposure=[1, 2, 3, 4])
    assert fit.error < 1e-9
    assert fit.hyper.loc["log_alpha", "q97.5"] > 6  # mass far out toward complete pooling


def test_cli_fits_pumps(capsys, tmp_path, pumps):
    from hierbayes.output.cli import main

    assert main(["fit", "--dataset", "pumps"]) == 0
    out = capsys.readouterr().out
    assert "GammaPoissonFit" in out and "log_alpha" in out
    path = tmp_path / "pumps.csv"
    pumps.rename(columns={"counts": "failures", "exposure": "hours"}).to_csv(path, index=False)
    target = tmp_path / "groups.csv"
    assert main(["fit", str(path), "--family", "poisson", "--counts", "failures",
                 "--exposure", "hours", "--output", str(target)]) == 0
    written = pd.read_csv(target)
    expected = GammaPoisson().fit(pumps).groups
    assert np.allclose(written["mean"], expected["mean"], rtol=1e-12)


def test_weak_data_mean_rate_reported_only_when_computable():
    """One positive count in five groups: E[mean] exists, but m·p(m) decays too slowly in
    log m (rate J·alpha at small shapes) to integrate to tolerance: NaN and a warning."""
    with pytest.warns(hb.AccuracyWarning, match="could not be computed"):
        fit = GammaPoisson().fit(counts=[0, 0, 0, 0, 1], exposure=[1, 2, 3, 4, 5])
        h = fit.hyper
    assert np.isnan(h.loc["mean", "mean"]) and np.isinf(h.loc["mean", "sd"])
    assert np.isfinite(h.loc[["log_mean", "log_alpha"], ["mean", "sd", "q2.5"]]).all().all()
    assert fit.error < 1e-9


def test_sd_of_the_mean_rate_reached_by_its_own_grid():
    """Issue 16 (found by the covariate oracle's author): under mean ~ lognorm(1),
    shape ~ lognorm(1) the sd of the population mean rate exists but x²·p(x) had not
    decayed by the grid's edge, so it was reported as NaN. E[x²] now gets a grid of its
    own; checked against a dense trapezoid grid over (log mean, log shape)."""
    from scipy.special import gammaln, logsumexp

    prior = {"mean": stats.lognorm(1, scale=1), "shape": stats.lognorm(1)}
    fit = GammaPoisson(prior=prior).fit(hb.datasets.load("pumps"))
    p = hb.datasets.load("pumps")
    y, t = p.counts.to_numpy(float), p.exposure.to_numpy(float)
    U, V = np.meshgrid(np.linspace(-4, 6, 1000), np.linspace(-6, 6, 800), indexing="ij")
    m, a = np.exp(U), np.exp(V)
    b = a / m
    lp = sum(gammaln(yi + a) - gammaln(a) + a * np.log(b / (b + ti)) + yi * np.log(ti / (b + ti))
             for yi, ti in zip(y, t, strict=True))
    lp = lp + stats.lognorm(1).logpdf(m) + U + stats.lognorm(1).logpdf(a) + V
    w = np.exp(lp - logsumexp(lp))
    mean = float((w * m).sum())
    sd = float(np.sqrt((w * m * m).sum() - mean**2))
    assert fit.hyper.loc["mean", "mean"] == pytest.approx(mean, rel=1e-7)
    assert fit.hyper.loc["mean", "sd"] == pytest.approx(sd, rel=1e-6)


def test_a_group_without_information_does_not_move_the_others():
    # issue 16: the default prior's t0 was the plain geometric mean of the exposures, so a
    # group with count 0 at exposure 1e-90 moved t0 by 19 orders of magnitude and every
    # other group's shrinkage from ~0.02-0.6 to ~1e-18.
    pumps = hb.datasets.load("pumps")
    base = GammaPoisson().fit(pumps)
    extra = GammaPoisson().fit(counts=[*pumps.counts, 0], exposure=[*pumps.exposure, 1e-90])
    for col in ("mean", "sd", "shrinkage"):
        np.testing.assert_allclose(extra.groups[col].to_numpy()[:-1],
                                   base.groups[col].to_numpy(), rtol=1e-7)


def test_reference_exposure_is_the_geometric_mean_when_every_count_is_positive():
    from hierbayes.families.gammapoisson.data import poisson_counts
    from hierbayes.families.gammapoisson.hyperprior import reference_exposure

    pumps = hb.datasets.load("pumps")
    data = poisson_counts(pumps)
    assert reference_exposure(data) == pytest.approx(
        math.exp(np.mean(np.log(pumps.exposure))), rel=1e-15)
    # units: multiplying every exposure by c multiplies t0 by c, also with count-0 groups
    y, t = [0, 3, 0, 7], np.array([0.5, 2.0, 40.0, 9.0])
    t0 = reference_exposure(poisson_counts(counts=y, exposure=t))
    assert reference_exposure(poisson_counts(counts=y, exposure=t * 1e6)) == pytest.approx(
        t0 * 1e6, rel=1e-13)
