"""Gamma–Poisson regression (issue 13) against the independent brute-force oracle."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import hierbayes as hb
from hierbayes.errors import ImproperPosteriorError, PriorError

COLS = ["mean", "sd", "q2.5", "q50", "q97.5"]
PRIOR = {"coef": stats.norm(0, 1), "shape": stats.lognorm(1, scale=5)}


@pytest.fixture(scope="module")
def lip() -> pd.DataFrame:
    frame = hb.datasets.load("lip_cancer")
    return frame.assign(aff=frame["aff_pct"] / 10)  # per 10 percentage points


@pytest.fixture(scope="module")
def oracle(lip):
    import oracle_regression as orc

    X = np.column_stack([np.ones(len(lip)), lip["aff"]])
    # n = 48 per axis: n = 40 is within 6e-6 sd of it, so n = 48 is far below 1e-7
    return orc.gp_regression(lip["counts"].to_numpy(), lip["exposure"].to_numpy(), X,
                             coef_prior=(np.zeros(2), np.eye(2)),
                             shape_prior=stats.lognorm(1, scale=5), n=48)


@pytest.fixture(scope="module")
def fit(lip):
    return hb.GammaPoisson(prior=PRIOR, tol=1e-9).fit(lip, covariates=["aff"])


def test_every_summary_matches_the_oracle(fit, oracle):
    ref = oracle["hyper"]
    got = np.vstack([fit.coefficients[COLS].to_numpy(),
                     fit.hyper.loc[["log_shape"], COLS].to_numpy()])
    assert np.max(np.abs(got - ref[COLS].to_numpy()) / ref["sd"].to_numpy()[:, None]) < 1e-7
    g, rg = fit.groups, oracle["groups"]
    assert np.max(np.abs(g[COLS].to_numpy() - rg[COLS].to_numpy())
                  / rg["sd"].to_numpy()[:, None]) < 1e-7
    # p(y) with the log y! terms, both priors proper
    assert fit.log_evidence() == pytest.approx(oracle["log_evidence"], abs=1e-7)


def test_logo_is_the_leave_one_out_identity(fit, lip):
    """log p(y_j | y_-j) = log p(y) − log p(y_-j): both evidences by quadrature."""
    lo = fit.logo()
    j = 4
    rest = lip.drop(index=lip.index[j]).reset_index(drop=True)
    ev_rest = hb.GammaPoisson(prior=PRIOR, tol=1e-9).fit(rest, covariates=["aff"]).log_evidence()
    assert lo.iloc[j] == pytest.approx(fit.log_evidence() - ev_rest, abs=1e-7)


def test_default_prior_and_refusals(lip):
    fit = hb.GammaPoisson().fit(lip, covariates="~ aff_pct")
    assert list(fit.coefficients.index) == ["intercept", "aff_pct"]
    assert 0.04 < fit.coefficients.loc["aff_pct", "mean"] < 0.1  # Clayton & Kaldor: ~0.07
    assert fit.hyper.loc["shape", "mean"] == np.inf  # the default prior has no mean
    none = pd.DataFrame({"counts": [0, 0, 3, 4], "exposure": [1.0, 2.0, 1.0, 2.0],
                         "x": [0.0, 0.0, 1.0, 1.0]})
    with pytest.raises(ImproperPosteriorError, match="separate"):
        hb.GammaPoisson().fit(none, covariates=["x"])
    with pytest.raises(PriorError, match="covariates"):
        hb.GammaPoisson(prior={"shape": stats.lognorm(1)}).fit(none)


def test_new_group_with_covariates(fit):
    """theta_new against Monte Carlo from the fit's own draws (coefficients, shape)."""
    new = fit.predict_new(exposure=2.0, covariates={"aff": 1.0})
    d = fit.draws(20000, seed=2)
    rng = np.random.default_rng(9)
    mu = np.exp(d["intercept"] + d["aff"])
    theta = rng.gamma(d["shape"], mu / d["shape"])
    for col, p in (("lower", 0.025), ("upper", 0.975)):
        q = np.quantile(theta, p)
        dens = np.mean(np.abs(theta - q) < 0.02 * theta.std()) / (0.04 * theta.std())
        se = np.sqrt(p * (1 - p) / theta.size) / dens
        assert abs(new.loc["theta", col] - q) < 5 * se
