"""Tests of the regression oracle itself (tests/oracle_regression.py), each able to fail.

(a) intercept-only designs reproduce hierbayes' no-covariate fits (public API only) with the
    matching priors, after the change of variables between the two parametrisations;
(b) independent routes inside the oracle agree (marginal likelihood by error contrasts, by
    the direct multivariate normal and by the GLS algebra; theta | tau, y by shrinkage and
    by joint conditioning; the 1-d tau quadrature and the brute-force (beta, tau) grid;
    quantiles re-checked through CDFs computed by scalar quad; grid refinements);
(c) a published check: metafor's REML meta-regression of the BCG trials on latitude.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import oracle_regression as orc
import pandas as pd
import pytest
import scipy.stats as st
from scipy import special

DATA = str(Path(__file__).resolve().parent / "fixtures")  # copies of ../shared/data
Q = ["q2.5", "q50", "q97.5"]
SUMMARY = ["mean", "sd", *Q]


@pytest.fixture(scope="module")
def bcg():
    d = pd.read_csv(f"{DATA}/bcg_colditz1994.csv")
    # log risk ratio and its variance as metafor's escalc("RR") (no zero cells in BCG)
    yi = np.log((d.tpos / (d.tpos + d.tneg)) / (d.cpos / (d.cpos + d.cneg)))
    vi = 1 / d.tpos - 1 / (d.tpos + d.tneg) + 1 / d.cpos - 1 / (d.cpos + d.cneg)
    X = np.column_stack([np.ones(len(d)), d.ablat])
    return yi.to_numpy(), vi.to_numpy(), X, d


def _close(a, b, tol, scale=1.0):
    a, b = np.asarray(a, float), np.asarray(b, float)
    err = np.max(np.abs(a - b) / np.maximum(scale, 1e-300))
    assert err <= tol, f"max scaled difference {err:.3g} > {tol:g}"


# ---------------------------------------------------------------------------------------------
# (c) published: metafor REML (Viechtbauer 2010, metafor docs: rma(yi, vi, mods = ~ ablat))
# ---------------------------------------------------------------------------------------------
def test_bcg_effect_sizes_match_the_data_file(bcg):
    yi, vi, _, d = bcg
    _close(yi, d.yi, 1e-9)
    _close(vi, d.vi, 1e-9)


def test_reml_meta_regression_bcg_ablat(bcg):
    yi, vi, X, _ = bcg
    r = orc.reml_fit(yi, X, sampling_variance=vi)
    # metafor: tau^2 = 0.0764 (its Fisher scoring stops at |delta tau^2| < 1e-5; the exact
    # maximiser is 0.076348), intercept 0.2515 (SE 0.2491), slope -0.0291 (SE 0.0072)
    assert abs(r["tau2"] - 0.0764) < 1e-4
    _close(r["coef"], [0.2515, -0.0291], 5e-5)
    _close(r["se"], [0.2491, 0.0072], 5e-5)


def test_reml_random_effects_bcg(bcg):
    yi, vi, _, _ = bcg
    r = orc.reml_fit(yi, None, sampling_variance=vi)
    # metafor: tau^2 = 0.3132, mu = -0.7145 (SE 0.1798)
    assert abs(r["tau2"] - 0.3132) < 5e-5
    _close(r["coef"], [-0.7145], 5e-5)
    _close(r["se"], [0.1798], 5e-5)


# ---------------------------------------------------------------------------------------------
# (b) NN: independent routes
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("tau", [0.0, 0.01, 0.3, 3.0])
def test_nn_marginal_likelihood_three_routes(bcg, tau):
    yi, vi, X, _ = bcg
    prior = ([0.0, 0.0], np.diag([100.0, 1.0]))
    split = orc.nn_marginal_loglik(tau, yi, vi, X, prior)
    direct = orc.nn_marginal_loglik(tau, yi, vi, X, prior, direct=True)
    gls = orc.nn_marginal_loglik_gls(tau, yi, vi, X, prior)
    assert abs(split - gls) < 1e-12
    assert abs(direct - gls) < 1e-9  # direct route: rounding noise ~eps cond(G)
    flat = orc.nn_marginal_loglik(tau, yi, vi, X, None)
    assert abs(flat - orc.nn_marginal_loglik_gls(tau, yi, vi, X, None)) < 1e-12


def test_nn_flat_prior_is_the_wide_normal_limit(bcg):
    yi, vi, X, _ = bcg
    flat = orc.nn_marginal_loglik(0.3, yi, vi, X, None)
    gaps = []
    for c2 in (1e6, 1e8):
        wide = orc.nn_marginal_loglik(0.3, yi, vi, X, ([0.0, 0.0], c2 * np.eye(2)))
        gaps.append(wide + np.log(2 * np.pi * c2) - flat)  # + (p/2) log(2 pi c^2), p = 2
    assert abs(gaps[1]) < 1e-8
    assert abs(gaps[0] / gaps[1] - 100) < 1  # O(1/c^2)


@pytest.mark.parametrize("tau", [0.05, 0.3, 2.0])
def test_nn_theta_conditionals_two_routes(bcg, tau):
    yi, vi, X, _ = bcg
    prior = (np.array([0.1, -0.01]), np.diag([4.0, 0.01]))
    _, _, m1, v1 = orc._nn_conditionals(tau, yi, vi, X, prior)
    m2, v2 = orc.nn_theta_conditionals_joint(tau, yi, vi, X, prior)
    _close(m1, m2, 1e-12)
    _close(v1, v2, 1e-12)


@pytest.fixture(scope="module")
def bcg_fit(bcg):
    yi, vi, X, _ = bcg
    prior = ([0.0, 0.0], np.diag([100.0, 1.0]))
    tp = st.halfcauchy(scale=0.5)
    fit = orc.nn_regression(yi, X, sampling_variance=vi, coef_prior=prior, tau_prior=tp)
    return fit, prior, tp


def test_nn_tolerance_refinement(bcg, bcg_fit):
    yi, vi, X, _ = bcg
    fit, prior, tp = bcg_fit
    coarse = orc.nn_regression(yi, X, sampling_variance=vi, coef_prior=prior, tau_prior=tp,
                               epsrel=1e-9)
    for k in ("hyper", "coef", "groups"):
        _close(fit[k].to_numpy(), coarse[k].to_numpy(), 1e-10)
    assert abs(fit["log_evidence"] - coarse["log_evidence"]) < 1e-10


def test_nn_quad_against_brute_force_grid(bcg, bcg_fit):
    yi, vi, X, _ = bcg
    fit, prior, tp = bcg_fit
    g = orc.nn_regression_grid(yi, X, sampling_variance=vi, coef_prior=prior, tau_prior=tp)
    _close(g["tau"], fit["hyper"].loc["tau", ["mean", "sd"]], 1e-9)
    _close(g["coef_mean"], fit["coef"]["mean"], 1e-9, fit["coef"]["sd"])
    _close(g["coef_sd"], fit["coef"]["sd"], 1e-9, fit["coef"]["sd"])
    _close(g["theta_mean"], fit["groups"]["mean"], 1e-9, fit["groups"]["sd"])
    _close(g["theta_sd"], fit["groups"]["sd"], 1e-9, fit["groups"]["sd"])
    assert abs(g["log_evidence"] - fit["log_evidence"]) < 1e-9


def test_nn_quantiles_through_independent_cdfs(bcg, bcg_fit):
    yi, vi, X, _ = bcg
    fit, prior, tp = bcg_fit
    rows = [0, 3, 7, 12]
    F, F_tau = orc.nn_cdf_check(
        fit["groups"].loc[rows, Q].to_numpy(), fit["hyper"].loc["tau", Q].to_numpy(),
        yi, X, sampling_variance=vi, coef_prior=prior, tau_prior=tp, rows=rows,
        lower=fit["tau_range"][0], upper=fit["tau_range"][1], points=[fit["tau_mode"]])
    _close(F, np.tile(orc.PROBS, (len(rows), 1)), 1e-10)
    _close(F_tau, orc.PROBS, 1e-10)


# ---------------------------------------------------------------------------------------------
# (a) intercept-only designs against hierbayes' no-covariate models (public API)
# ---------------------------------------------------------------------------------------------
hb = pytest.importorskip("hierbayes")


def _compare_tables(ours: pd.DataFrame, theirs: pd.DataFrame, tol):
    scale = ours["sd"].to_numpy()[:, None]
    _close(ours[SUMMARY].to_numpy(), theirs[SUMMARY].to_numpy(), tol, scale)


@pytest.mark.parametrize("flat", [False, True])
def test_nn_intercept_only_equals_hierbayes(flat):
    schools = hb.datasets.load("eight_schools")
    y, se = schools["estimate"].to_numpy(float), schools["std_error"].to_numpy(float)
    tau = st.halfnorm(scale=5) if not flat else st.halfcauchy(scale=5)
    prior = {"tau": tau} if flat else {"mu": st.norm(0, 10), "tau": tau}
    theirs = hb.NormalNormal(prior=prior).fit(schools)
    ours = orc.nn_regression(y, None, std_error=se, tau_prior=tau,
                             coef_prior=None if flat else ([0.0], [[100.0]]))
    _compare_tables(ours["coef"], theirs.hyper.loc[["mu"]], 1e-7)
    _compare_tables(ours["hyper"].loc[["tau"]], theirs.hyper.loc[["tau"]], 1e-7)
    _compare_tables(ours["groups"], theirs.groups, 1e-7)
    if not flat:
        assert abs(ours["log_evidence"] - theirs.log_evidence()) < 1e-7


def _logit_beta_logpdf(a, b):
    """log density of u = logit(mu) when mu ~ Beta(a, b): Beta pdf at expit(u) times
    d mu/du = expit(u) expit(-u)."""
    def f(beta):
        u = np.asarray(beta)[..., 0]
        return (st.beta(a, b).logpdf(special.expit(u)) + np.log(special.expit(u))
                + np.log(special.expit(-u)))
    return f


@pytest.fixture(scope="module")
def seeds_intercept():
    seeds = pd.read_csv(f"{DATA}/seeds_crowder1978.csv")
    kappa = st.lognorm(1, scale=20)
    fit = orc.bb_regression(seeds["r"].to_numpy(), seeds["n"].to_numpy(), None,
                            coef_prior=_logit_beta_logpdf(2, 2), kappa_prior=kappa)
    return seeds, kappa, fit


def test_bb_intercept_only_equals_hierbayes(seeds_intercept):
    seeds, kappa, ours = seeds_intercept
    theirs = hb.BetaBinomial(prior={"mu": st.beta(2, 2), "kappa": kappa}).fit(
        seeds, group="plate", successes="r", trials="n")
    assert ours["change"] < 1e-9
    _compare_tables(ours["hyper"].loc[["b0"]], theirs.hyper.loc[["logit_mu"]], 1e-7)
    _compare_tables(ours["hyper"].loc[["log_kappa"]], theirs.hyper.loc[["log_kappa"]], 1e-7)
    _compare_tables(ours["groups"], theirs.groups, 1e-7)
    assert abs(ours["log_evidence"] - theirs.log_evidence()) < 1e-7


@pytest.fixture(scope="module")
def pumps_intercept():
    pumps = hb.datasets.load("pumps")
    y, t = pumps["counts"].to_numpy(float), pumps["exposure"].to_numpy(float)
    shape = st.lognorm(1, scale=1)
    # mean ~ lognorm(s, scale=e^m) <=> log mean = b0 ~ N(m, s^2)
    fit = orc.gp_regression(y, t, None, coef_prior=([np.log(0.5)], [[1.5**2]]),
                            shape_prior=shape)
    return pumps, shape, fit


def test_gp_intercept_only_equals_hierbayes(pumps_intercept):
    pumps, shape, ours = pumps_intercept
    theirs = hb.GammaPoisson(prior={"mean": st.lognorm(1.5, scale=0.5), "shape": shape}).fit(
        pumps)
    assert ours["change"] < 1e-9
    _compare_tables(ours["hyper"].loc[["b0"]], theirs.hyper.loc[["log_mean"]], 1e-7)
    _compare_tables(ours["hyper"].loc[["log_shape"]], theirs.hyper.loc[["log_alpha"]], 1e-7)
    _compare_tables(ours["groups"], theirs.groups, 1e-7)
    assert abs(ours["log_evidence"] - theirs.log_evidence()) < 1e-7


# ---------------------------------------------------------------------------------------------
# (b) BB / GP with p = 2: a covariate column of zeros leaves the intercept-only posterior
# unchanged and b1 at its prior, exercising the 3-d machinery (slices over log kappa or
# log alpha, 2-d boxes, marginal quantiles along either coefficient) cheaply
# ---------------------------------------------------------------------------------------------
def _check_zero_column(fit3, fit2, prior_sd, tol):
    # fixed n = 36 nodes per axis to stay fast: quadrature error ~1e-6 (BB) / ~1e-7 (GP);
    # the default refinement (tol 1e-9) is exercised by the HB_SLOW tests below
    _compare_tables(fit3["groups"], fit2["groups"], tol)
    _compare_tables(fit3["hyper"].drop(index="b1"), fit2["hyper"], tol)
    z = st.norm.ppf(orc.PROBS)
    _close(fit3["hyper"].loc["b1", SUMMARY], [0.0, prior_sd, *(prior_sd * z)], tol, prior_sd)
    assert abs(fit3["log_evidence"] - fit2["log_evidence"]) < tol


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("HB_SLOW"),
                    reason="slow (~18 s), a property of the oracle alone (the library's "
                           "Beta-Binomial regression is checked against the oracle in "
                           "tests/families/test_bb_regression.py): set HB_SLOW=1; the "
                           "Gamma-Poisson twin below runs always")
def test_bb_zero_covariate_column(seeds_intercept):
    seeds, kappa, fit2 = seeds_intercept
    X = np.column_stack([np.ones(len(seeds)), np.zeros(len(seeds))])
    lp0 = _logit_beta_logpdf(2, 2)

    def coef_logpdf(beta):
        beta = np.atleast_2d(beta)
        return lp0(beta[:, :1]) + st.norm(0, 2).logpdf(beta[:, 1])

    fit3 = orc.bb_regression(seeds["r"], seeds["n"], X, coef_prior=coef_logpdf,
                             kappa_prior=kappa, n=36)
    _check_zero_column(fit3, fit2, 2.0, 1e-5)


def test_gp_zero_covariate_column(pumps_intercept):
    pumps, shape, fit2 = pumps_intercept
    X = np.column_stack([np.ones(len(pumps)), np.zeros(len(pumps))])
    fit3 = orc.gp_regression(pumps["counts"], pumps["exposure"], X,
                             coef_prior=([np.log(0.5), 0.0], np.diag([1.5**2, 1.0])),
                             shape_prior=shape, n=36)
    _check_zero_column(fit3, fit2, 1.0, 1e-6)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("HB_SLOW"), reason="slow (~75 s): set HB_SLOW=1")
@pytest.mark.parametrize("family", ["bb", "gp"])
def test_regression_refinement_full_data(family):
    """Full data sets, default refinement (tol 1e-9): ~45 s (BB seeds) / ~30 s (GP lip)."""
    if family == "bb":
        d = pd.read_csv(f"{DATA}/seeds_crowder1978.csv")
        X = np.column_stack([np.ones(len(d)), d["x2"]])
        fit = orc.bb_regression(d["r"], d["n"], X, coef_prior=([0, 0], 4 * np.eye(2)),
                                kappa_prior=st.lognorm(1, scale=20))
    else:
        d = pd.read_csv(f"{DATA}/scotland_lip_cancer.csv")
        X = np.column_stack([np.ones(len(d)), d["aff_pct"] / 10])
        fit = orc.gp_regression(d["observed"], d["expected"], X, coef_prior=([0, 0], np.eye(2)),
                                shape_prior=st.lognorm(1, scale=1))
    assert fit["change"] < 1e-9
