"""Normal–Normal meta-regression (issue 13) against the independent oracle and by identities.

The oracle (tests/oracle_regression.py) was written from MODEL.md and the issue alone: it
integrates tau by adaptive quadrature with beta integrated out by a route that does not
use the weighted-least-squares formulas (error contrasts), and was itself checked against
a brute-force (beta, tau) grid and metafor's published REML numbers.
"""

import numpy as np
import oracle_regression as orc
import pandas as pd
import pytest
import scipy.stats as st
from scipy.special import ndtr

import hierbayes as hb


@pytest.fixture(scope="module")
def bcg():
    return hb.datasets.load("bcg")


def _rel(a, b, scale, tol, what):
    err = np.max(np.abs(np.asarray(a, float) - np.asarray(b, float)) / scale)
    assert err < tol, f"{what}: {err:.3g} (in units of the sd) > {tol:g}"


CASES = {
    # proper priors: the log evidence is defined
    "normal coef, half-Cauchy tau": (
        {"coef": {"intercept": st.norm(0, 10), "ablat": st.norm(0, 1)},
         "tau": st.halfcauchy(scale=0.5)},
        dict(coef_prior=([0.0, 0.0], np.diag([100.0, 1.0])), tau_prior=st.halfcauchy(scale=0.5)),
    ),
    # the family's default: flat coefficients, uniform tau (proper for J - p >= 2)
    "flat coef, uniform tau": (None, dict(coef_prior=None, tau_prior=lambda t: 0.0)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bcg_meta_regression_against_the_oracle(bcg, case):
    prior, oracle_prior = CASES[case]
    fit = hb.NormalNormal(prior=prior).fit(bcg,
                                           covariates=["ablat"])
    X = np.column_stack([np.ones(len(bcg)), bcg.ablat])
    ref = orc.nn_regression(bcg.estimate.to_numpy(), X, sampling_variance=bcg.vi.to_numpy(),
                            **oracle_prior)
    h = pd.concat([fit.coefficients, fit.hyper])
    coef = ref["coef"].set_axis(["intercept", "ablat"])
    for name in ("intercept", "ablat", "tau"):
        got = h.loc[name]
        want = coef.loc[name] if name != "tau" else ref["hyper"].loc["tau"]
        sd = float(want["sd"])
        _rel(got[["mean", "sd"]], want[["mean", "sd"]], sd, 1e-8, f"{case} {name} moments")
        _rel(got[["q2.5", "q50", "q97.5"]], want[["q2.5", "q50", "q97.5"]], sd, 1e-7,
             f"{case} {name} quantiles")
    g, wg = fit.groups, ref["groups"]
    sd = wg["sd"].to_numpy()
    _rel(g["mean"], wg["mean"], sd, 1e-8, f"{case} group means")
    _rel(g["sd"], wg["sd"], sd, 1e-8, f"{case} group sds")
    for col in ("q2.5", "q50", "q97.5"):
        _rel(g[col], wg[col], sd, 1e-7, f"{case} group {col}")
    if ref["log_evidence"] is not None:
        assert fit.log_evidence() == pytest.approx(ref["log_evidence"], abs=1e-8)
    assert fit.error < 1e-8


def test_intercept_only_design_is_the_plain_model():
    """covariates=[] (an intercept column) must give the family's own fit, to rounding."""
    schools = hb.datasets.load("eight_schools")
    for prior in (None, {"tau": st.halfcauchy(scale=5)}):
        plain = hb.NormalNormal(prior=prior).fit(schools)
        reg = hb.NormalNormal(prior=prior).fit(schools, covariates=[])
        cols = ["mean", "sd", "q2.5", "q50", "q97.5", "shrinkage"]
        np.testing.assert_allclose(reg.groups[cols], plain.groups[cols], rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(reg.coefficients.loc["intercept"], plain.hyper.loc["mu"],
                                   rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(reg.hyper.loc[["tau"]], plain.hyper.loc[["tau"]],
                                   rtol=1e-8, atol=1e-9)


def test_tail_probabilities_are_the_mixture_and_draws_agree(bcg):
    """prob_greater (through the leave-one-out prior and the conjugate update) equals the
    mixture of the group's normal components; draws reproduce the moments."""
    fit = hb.NormalNormal().fit(bcg,
                                covariates="~ ablat")
    m, v, w, _ = fit._theta_components(compress=False)
    direct = w @ ndtr(-(-0.5 - m) / np.sqrt(v))
    np.testing.assert_allclose(fit.prob_greater(-0.5).to_numpy(), direct, rtol=1e-9,
                               atol=1e-12)
    d = fit.draws(40_000, seed=3)
    theta = d.filter(like="theta[").to_numpy()
    se = fit.groups["sd"].to_numpy() / np.sqrt(theta.shape[0])
    assert np.all(np.abs(theta.mean(axis=0) - fit.groups["mean"].to_numpy()) < 5 * se)
    assert list(d.columns[:3]) == ["intercept", "ablat", "tau"]


def test_formula_with_a_category(bcg):
    fit = hb.NormalNormal().fit(bcg,
                                covariates="~ ablat + C(alloc)")
    assert list(fit.coefficients.index)[:2] == ["intercept", "ablat"]
    assert len(fit.coefficients) == 2 + bcg.alloc.nunique() - 1
    assert list(fit.hyper.index) == ["tau", "log_tau"]


@pytest.mark.parametrize("kwargs, prior, error, match", [
    (dict(covariates=["ablat", "ablat2"]), None, hb.DataError, "collinear"),
    (dict(covariates=["nope"]), None, hb.DataError, "not in the data"),
    (dict(covariates=["ablat"]), {"mu": st.norm(0, 1)}, hb.PriorError, "x'beta"),
    (dict(covariates=["ablat"]), {"coef": st.cauchy(0, 1)}, hb.PriorError, "scipy.stats.norm"),
])
def test_bad_regressions_are_refused(bcg, kwargs, prior, error, match):
    data = bcg.assign(ablat2=2 * bcg.ablat)
    with pytest.raises(error, match=match):
        hb.NormalNormal(prior=prior).fit(data,
                                         **kwargs)


def test_too_few_groups_and_unsupported_outputs_say_so(bcg):
    small = bcg.iloc[:3]
    with pytest.raises(hb.ImproperPosteriorError):
        hb.NormalNormal().fit(small,
                              covariates=["ablat", "year"])
    fit = hb.NormalNormal().fit(bcg,
                                covariates=["ablat"])
    with pytest.raises(hb.HierBayesError, match="covariates"):
        fit.predict_new(std_error=0.3)
    with pytest.raises(hb.PriorError, match="proper priors"):
        fit.log_evidence()
    with pytest.raises(hb.PriorError, match="covariates"):
        hb.NormalNormal(prior={"coef": st.norm(0, 1)}).fit(hb.datasets.load("eight_schools"))


def test_new_group_with_covariates(bcg):
    """theta_new = x'beta + tau z: its mean is x'E[beta] exactly, its quantiles against
    Monte Carlo from the fit's own exact draws; without covariates a clear error."""
    fit = hb.NormalNormal().fit(bcg, covariates="~ ablat")
    new = fit.predict_new(covariates={"ablat": 40.0})
    c = fit.coefficients["mean"]
    assert new.loc["theta", "mean"] == pytest.approx(c["intercept"] + 40 * c["ablat"],
                                                     abs=1e-10)
    d = fit.draws(20000, seed=4)
    theta = d["intercept"] + 40 * d["ablat"] + d["tau"] * np.random.default_rng(1).normal(
        size=len(d))
    for col, p in (("lower", 0.025), ("upper", 0.975)):
        assert abs(new.loc["theta", col] - np.quantile(theta, p)) < 0.02
    with pytest.raises(hb.errors.PriorError, match="covariates"):
        fit.predict_new(std_error=0.2)


def test_population_mean_and_plots(bcg):
    """groups['population_mean'] is x_j'E[beta] (the coefficients' means); the plots draw
    exactly those numbers."""
    from matplotlib.figure import Figure

    from hierbayes import plots

    fit = hb.NormalNormal().fit(bcg, covariates="~ ablat")
    c = fit.coefficients["mean"]
    np.testing.assert_allclose(fit.groups["population_mean"],
                               c["intercept"] + c["ablat"] * bcg["ablat"], rtol=1e-12)
    ax = plots.plot_regression(fit, "ablat", ax=Figure().subplots())
    line = ax.get_lines()[0]
    order = np.argsort(bcg["ablat"].to_numpy(), kind="stable")
    np.testing.assert_allclose(line.get_ydata(), fit.groups["population_mean"].to_numpy()[order])
    ax = plots.plot_coefficients(fit, ax=Figure().subplots())
    np.testing.assert_allclose(ax.collections[1].get_offsets()[:, 0], c.to_numpy())
    with pytest.raises(ValueError, match="ablat"):
        plots.plot_regression(fit, "latitude", ax=Figure().subplots())
    with pytest.raises(TypeError, match="covariates"):
        plots.plot_coefficients(hb.NormalNormal().fit(bcg), ax=Figure().subplots())


def test_pooling_comparison_with_covariates(bcg):
    """compare_pooling(covariates=...) adds the regression level: its LOGO terms are the
    regression fit's own, and on BCG latitude predicts the left-out trials better."""
    c = hb.compare_pooling(bcg, model=hb.NormalNormal(), covariates="~ ablat")
    assert list(c.elpd.index) == ["complete", "none", "partial", "regression"]
    reg = hb.NormalNormal().fit(bcg, covariates="~ ablat")
    np.testing.assert_allclose(c.pointwise["regression"], reg.logo(), rtol=1e-12)
    np.testing.assert_allclose(c.groups["regression_mean"], reg.groups["mean"], rtol=1e-12)
    assert c.elpd.loc["regression", "elpd_logo"] > c.elpd.loc["partial", "elpd_logo"]
