"""Fast self-consistency checks of the issue-5 oracle (tests/oracle_checks.py)."""

from __future__ import annotations

import math
import pathlib
import sys

import numpy as np
import pytest
from scipy import integrate, stats

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
import oracle_checks as oc

SMALL_Y = np.array([0, 1, 2, 4, 5, 3, 9, 1])
SMALL_N = np.array([20, 19, 20, 20, 46, 17, 24, 10])
BB_PRIOR = {"mu": stats.beta(2, 5), "kappa": stats.lognorm(1, scale=10)}
NN_PRIOR = {"mu": stats.norm(0, 10), "tau": stats.halfcauchy(scale=5)}


def test_bb_logo_identity_and_coordinates():
    lo = oc.bb_logo(SMALL_Y, SMALL_N, BB_PRIOR)
    ev = oc.bb_log_evidence(SMALL_Y, SMALL_N, BB_PRIOR)
    for j in (0, 3, 6):
        keep = np.arange(SMALL_Y.size) != j
        ev_j = oc.bb_log_evidence(SMALL_Y[keep], SMALL_N[keep], BB_PRIOR)
        assert lo[j] == pytest.approx(ev - ev_j, abs=1e-10)
    lo_uv = oc.bb_logo(SMALL_Y, SMALL_N, BB_PRIOR, coords="uv")
    np.testing.assert_allclose(lo, lo_uv, rtol=0, atol=1e-10)
    lo_def = oc.bb_logo(SMALL_Y, SMALL_N)
    np.testing.assert_allclose(lo_def, oc.bb_logo(SMALL_Y, SMALL_N, coords="uv"), atol=1e-10)


def test_bb_pooling_closed_forms_vs_quadrature():
    y, n = SMALL_Y, SMALL_N
    lc = oc.bb_logo_complete(y, n)
    for j in (0, 4):
        A = 1 + y.sum() - y[j]
        B = 1 + (n - y).sum() - (n[j] - y[j])
        val = integrate.quad(lambda th, j=j, A=A, B=B: stats.binom.pmf(y[j], n[j], th)
                             * stats.beta.pdf(th, A, B), 0, 1, epsabs=0, epsrel=1e-13)[0]
        assert lc[j] == pytest.approx(math.log(val), abs=1e-11)
    np.testing.assert_allclose(oc.bb_logo_none(y, n), -np.log(n + 1.0), atol=1e-13)
    f = lambda th: math.exp(stats.binom.logpmf(y, n, th).sum() + 60)  # noqa: E731
    val = integrate.quad(f, 0, 1, epsabs=0, epsrel=1e-13, points=[0.1, 0.2])[0]
    assert oc.bb_log_evidence_complete(y, n) == pytest.approx(math.log(val) - 60, abs=1e-10)


def test_bb_predict_new():
    y, n = SMALL_Y, SMALL_N
    p = oc.bb_predict_new(y, n, 14, y_new=4)
    assert p["pmf"].sum() == pytest.approx(1.0, abs=1e-12)
    assert p["log_pred"] == pytest.approx(math.log(p["pmf"][4]), abs=1e-12)
    assert p["mean"] == pytest.approx((np.arange(15) * p["pmf"]).sum() / 14, abs=1e-12)


def test_gp_closed_forms_and_identity():
    y, t = oc.pumps()
    a0, b0 = 1.0, 0.5
    f = lambda th: math.exp(stats.poisson.logpmf(y, th * t).sum()  # noqa: E731
                            + stats.gamma.logpdf(th, a0, scale=1 / b0) + 40)
    val = integrate.quad(f, 0, 5, epsabs=0, epsrel=1e-13, points=[0.5, 1.0], limit=200)[0]
    assert oc.gp_log_evidence_complete(y, t, a0, b0) == pytest.approx(math.log(val) - 40,
                                                                      abs=1e-10)
    lc = oc.gp_logo_complete(y, t)
    A, B = 0.5 + y.sum() - y[3], t.sum() - t[3]
    val = integrate.quad(lambda th: stats.poisson.pmf(y[3], th * t[3])
                         * stats.gamma.pdf(th, A, scale=1 / B), 0, 2, epsabs=0,
                         epsrel=1e-13)[0]
    assert lc[3] == pytest.approx(math.log(val), abs=1e-11)
    with pytest.raises(ValueError):
        oc.gp_logo_none(y, t)
    pr = {"alpha": stats.expon(), "beta": stats.gamma(0.1)}
    lo = oc.gp_logo(y, t, pr)
    ev = oc.gp_log_evidence(y, t, pr)
    keep = np.arange(y.size) != 9
    assert lo[9] == pytest.approx(ev - oc.gp_log_evidence(y[keep], t[keep], pr), abs=1e-10)
    p = oc.gp_predict_new(y, t, 10.0, {"mean": stats.lognorm(1.5), "shape": stats.gamma(2)},
                          k=60)
    assert p["cdf_k"] == pytest.approx(p["pmf"].sum(), rel=1e-14)
    assert 0.99 < p["cdf_k"] < 1.0  # heavy-tailed predictive: not all mass below 60


def _nn_log_marg_flat(y, s, tau):
    vv = s**2 + tau**2
    P = (1 / vv).sum()
    mh = (y / vv).sum() / P
    return (-0.5 * (y.size - 1) * math.log(2 * math.pi) - 0.5 * np.log(vv).sum()
            - 0.5 * math.log(P) - 0.5 * ((y - mh) ** 2 / vv).sum())


def test_nn_logo_vs_tau_quadrature_and_evidence():
    y, s = oc.eight_schools()

    def ev(yy, ss):
        return math.log(integrate.quad(lambda tau: math.exp(_nn_log_marg_flat(yy, ss, tau) + 30),
                                       0, np.inf, epsabs=0, epsrel=1e-12, limit=500)[0]) - 30

    lo = oc.nn_logo(y, s)
    e = ev(y, s)
    for j in (0, 4):
        assert lo[j] == pytest.approx(e - ev(np.delete(y, j), np.delete(s, j)), abs=1e-9)

    def lm(tau):
        cov = np.diag(s**2 + tau**2) + 100.0
        return math.exp(stats.multivariate_normal(np.zeros(8), cov).logpdf(y)
                        + NN_PRIOR["tau"].logpdf(tau) + 30)

    ref = math.log(integrate.quad(lm, 0, np.inf, epsabs=0, epsrel=1e-12, limit=500)[0]) - 30
    assert oc.nn_log_evidence(y, s, NN_PRIOR) == pytest.approx(ref, abs=1e-9)
    assert oc.nn_log_evidence_complete(y, s, 0.0, 10.0) == pytest.approx(
        oc.nn_log_evidence(y, s, {"mu": stats.norm(0, 10), "tau": stats.halfnorm(scale=1e-9)}),
        abs=1e-6)
    with pytest.raises(ValueError):
        oc.nn_logo_none(y, s)


def test_nn_best_and_pairs():
    y, s = oc.eight_schools()
    best = oc.nn_prob_best(y, s)
    assert best.sum() == pytest.approx(1.0, abs=1e-10)
    q = oc.nn_prob_greater_pair(y, s, 0, 2)
    assert q == pytest.approx(oc._nn_prob_greater_pair_gl(y, s, 0, 2), abs=1e-9)
    p = oc.nn_predict_new(y, s, 10.0, y_new=5.0)
    assert p["y_sd"] ** 2 == pytest.approx(p["sd"] ** 2 + 100.0, rel=1e-12)
