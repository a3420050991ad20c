"""``NormalNormal`` (MODEL.md §4) against independent computations written here.

Oracles (no hierbayes code; different formulas and integrators):

* ``TauOracle``: mu integrated out by BDA3's own forms (eqs. 5.17–5.21: theta_j | tau, y
  with mean (y_j/s_j² + mû/tau²)·V_j and variance V_j + (V_j/tau²)²·V_mu), then
  ``scipy.integrate.quad_vec`` over tau in pieces, to 1e-13 relative;
* ``test_collapsed_likelihood_by_quad``: the closed-form mu integral itself against
  ``scipy.integrate.quad`` over mu;
* ``scale_mixture_oracle``: for a Student-t prior on mu (a non-Normal prior, so the library
  takes its 2-D (mu, tau) grid), the t written as a scale mixture of Normals,
  mu | lam ~ Normal(0, sig²/lam), lam ~ Gamma(nu/2, rate nu/2): given (lam, tau) mu is
  conjugate, and a brute-force trapezoid grid over (log lam, log tau) does the rest — no grid
  in mu at all.

Tolerances: means, sds and shrinkage 1e-8 relative; every quantile q checked through the
oracle's CDF F and density f, |F(q) − p| / f(q) < 1e-7.
"""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, stats
from scipy.special import gammaln, ndtr

import hierbayes as hb
from hierbayes.families.normalnormal.math import collapsed_loglik
from hierbayes.models import NormalNormal
from hierbayes.output.cli import main

Y8 = np.array([28.0, 8, -3, 7, -1, 1, 18, 12])
S8 = np.array([15.0, 10, 16, 11, 9, 11, 10, 18])
P3 = np.array([0.025, 0.5, 0.975])
QCOLS = ["q2.5", "q50", "q97.5"]
REL = 1e-8
QTOL = 1e-7


# ---------------------------------------------------------------------------------------------
# oracles
# ---------------------------------------------------------------------------------------------
class TauOracle:
    """p(tau | y) with mu integrated out in BDA3's form; quad_vec over tau in pieces."""

    def __init__(self, y, s, log_prior_tau=None, mu_prior=None, upper=math.inf):
        self.y, self.s2 = np.asarray(y, float), np.asarray(s, float) ** 2
        self.lp, self.mu_prior, self.upper = log_prior_tau, mu_prior, upper
        scale = float(np.sqrt(np.mean(self.s2) + np.var(self.y)))
        cuts = [0.0] + [scale * c for c in (0.05, 0.2, 0.5, 1, 2, 4, 8, 16, 40, 100, 400)]
        cuts = [c for c in cuts if c < upper] + [upper]
        self.pieces = list(itertools.pairwise(cuts))
        self.shift = 0.0
        self.shift = max(self.parts(t)[0] for t in np.linspace(1e-3, min(upper, 5 * scale), 300))
        self.z = self.integrate(lambda t, mh, v: np.ones(1))[0]

    def parts(self, tau):
        var = self.s2 + tau * tau
        prec, num = np.sum(1 / var), np.sum(self.y / var)
        if self.mu_prior is not None:
            m0, v0 = self.mu_prior
            prec, num = prec + 1 / v0, num + m0 / v0
        mh = num / prec
        lg = (0.5 * math.log(1 / prec) - 0.5 * np.sum(np.log(var))
              - 0.5 * np.sum((self.y - mh) ** 2 / var))
        if self.mu_prior is not None:
            lg -= 0.5 * (m0 - mh) ** 2 / v0
        if self.lp is not None:
            lg += self.lp(tau)
        return lg - self.shift, mh, 1 / prec

    def integrate(self, g, hi=None):
        hi = self.upper if hi is None else hi
        total = 0.0
        for a, b in self.pieces:
            if a >= hi:
                break
            total = total + integrate.quad_vec(
                lambda t: (lambda lg, mh, v: math.exp(lg) * g(t, mh, v))(*self.parts(t)),
                a, min(b, hi), epsabs=0, epsrel=1e-13, limit=2000)[0]
        return total

    def expect(self, g):
        return self.integrate(g) / self.z

    def theta(self, t, mh, v):
        vj = 1 / (1 / self.s2 + 1 / t**2)  # BDA3 (5.17), then mu integrated out
        return (self.y / self.s2 + mh / t**2) * vj, vj + (vj / t**2) ** 2 * v

    def groups(self):
        def g(t, mh, v):
            m, var = self.theta(t, mh, v)
            return np.concatenate([m, var + m * m, self.s2 / (self.s2 + t * t)])

        e, j = self.expect(g), self.y.size
        return e[:j], np.sqrt(e[j : 2 * j] - e[:j] ** 2), e[2 * j :]

    def theta_cdf(self, q):
        """CDF and density of each theta_j at q (shape (J, k))."""
        def g(t, mh, v):
            m, var = self.theta(t, mh, v)
            z = (q - m[:, None]) / np.sqrt(var)[:, None]
            return np.concatenate([ndtr(z).ravel(), stats.norm.pdf(z).ravel()
                                   / np.repeat(np.sqrt(var), q.shape[1])])

        e = self.expect(g)
        return e[: q.size].reshape(q.shape), e[q.size :].reshape(q.shape)

    def hyper(self, rows=("mu", "tau", "log_tau")):
        """(mean, sd) of the rows asked for (only those whose moments exist)."""
        funcs = {"mu": lambda t, mh, v: [mh, v + mh * mh], "tau": lambda t, mh, v: [t, t * t],
                 "log_tau": lambda t, mh, v: [math.log(t), math.log(t) ** 2]}
        e = self.expect(lambda t, mh, v: np.array([x for r in rows for x in funcs[r](t, mh, v)]))
        return {r: (e[2 * i], math.sqrt(e[2 * i + 1] - e[2 * i] ** 2))
                for i, r in enumerate(rows)}

    def mu_cdf(self, q):
        def g(t, mh, v):
            z = (q - mh) / math.sqrt(v)
            return np.concatenate([ndtr(z), stats.norm.pdf(z) / math.sqrt(v)])

        e = self.expect(g)
        return e[: q.size], e[q.size :]

    def tau_cdf(self, q):
        f = np.array([math.exp(self.parts(t)[0]) for t in q]) / self.z
        cdf = [self.integrate(lambda t, mh, v: np.ones(1), hi=t)[0] for t in q]
        return np.array(cdf) / self.z, f


def scale_mixture_oracle(y, s, nu, sig, log_prior_tau, h=0.08):
    """mu ~ t_nu(0, sig) as N(0, sig²/lam), lam ~ Gamma(nu/2, rate nu/2); trapezoid grid in
    (log lam, log tau) with mu integrated in closed form at every node."""
    y, s2 = np.asarray(y, float), np.asarray(s, float) ** 2
    x, z = np.meshgrid(np.arange(-25, 6, h), np.arange(-32, 25, h), indexing="ij")
    lam, tau = np.exp(x), np.exp(z)
    v0 = sig**2 / lam
    var = s2 + (tau**2)[..., None]
    prec = 1 / v0 + np.sum(1 / var, axis=-1)
    mh, v = np.sum(y / var, axis=-1) / prec, 1 / prec
    lw = (0.5 * np.log(v / v0) - 0.5 * np.sum(np.log(var) + (y - mh[..., None]) ** 2 / var, -1)
          - 0.5 * mh**2 / v0 + (nu / 2) * x - nu / 2 * lam - gammaln(nu / 2)
          + log_prior_tau(tau) + z)
    w = np.exp(lw - lw.max())
    w /= w.sum()
    t2 = (tau**2)[..., None]
    b = s2 / (s2 + t2)
    m = y + b * (mh[..., None] - y)
    var_theta = s2 * t2 / (s2 + t2) + b**2 * v[..., None]
    return w, tau, mh, v, m, var_theta, b


def rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / np.abs(b)))


def quantile_error(cdf_pdf, q, p):
    f_q, dens = cdf_pdf
    return float(np.max(np.abs(f_q - p) / dens))


# ---------------------------------------------------------------------------------------------
# exact fits against the tau oracle (mu integrated in closed form)
# ---------------------------------------------------------------------------------------------
HC5 = stats.halfcauchy(scale=5)
CASES = {
    "eight_schools_default": (Y8, S8, None, {}),
    # posteriordb eight_schools: mu ~ N(0, 5), tau ~ half-Cauchy(0, 5)
    "eight_schools_posteriordb": (Y8, S8, {"mu": stats.norm(0, 5), "tau": HC5},
                                  {"log_prior_tau": HC5.logpdf, "mu_prior": (0.0, 25.0)}),
    "eight_schools_halfcauchy": (Y8, S8, "halfcauchy(5)", {"log_prior_tau": HC5.logpdf}),
    "eight_schools_bounded_tau": (Y8, S8, {"tau": stats.uniform(0, 30)}, {"upper": 30.0}),
    "three_groups_default": (np.array([1.0, 4, -2]), np.array([1.0, 2, 1.5]), None, {}),
}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    y, s, prior, oracle_kw = CASES[request.param]
    fit = NormalNormal(prior=prior).fit(estimate=y, std_error=s)
    return request.param, fit, TauOracle(y, s, **oracle_kw)


def test_group_moments_and_quantiles_against_oracle(case):
    _, fit, orc = case
    g = fit.groups
    mean, sd, shrink = orc.groups()
    assert rel(g["mean"], mean) < REL
    assert rel(g["sd"], sd) < REL
    assert np.max(np.abs(g["shrinkage"] - shrink)) < REL
    q = g[QCOLS].to_numpy()
    assert quantile_error(orc.theta_cdf(q), q, P3) < QTOL
    lo_hi = fit.summary(prob=0.5)[["lower", "upper"]].to_numpy()
    assert quantile_error(orc.theta_cdf(lo_hi), lo_hi, np.array([0.25, 0.75])) < QTOL


def test_hyper_against_oracle(case):
    name, fit, orc = case
    h = fit.hyper
    rows = ("log_tau",) if name == "three_groups_default" else ("mu", "tau", "log_tau")
    exact = orc.hyper(rows)
    for row in rows:
        assert h.loc[row, "mean"] == pytest.approx(exact[row][0], rel=REL, abs=1e-12)
        assert h.loc[row, "sd"] == pytest.approx(exact[row][1], rel=REL)
    qmu, qtau = h.loc["mu", QCOLS].to_numpy(), h.loc["tau", QCOLS].to_numpy()
    assert quantile_error(orc.mu_cdf(qmu), qmu, P3) < QTOL
    assert quantile_error(orc.tau_cdf(qtau), qtau, P3) < QTOL * max(1.0, float(qtau.max()))
    assert np.allclose(h.loc["log_tau", QCOLS], np.log(qtau), rtol=1e-13, atol=1e-13)


def test_collapsed_likelihood_by_quad():
    """The closed-form mu integral (MODEL.md §4) against quad over mu, flat and Normal prior."""
    for tau in (0.0, 0.7, 12.0):
        sd = np.sqrt(S8**2 + tau**2)

        def lik(mu, sd=sd):
            return math.exp(np.sum(stats.norm.logpdf(Y8, mu, sd)) + 30.0)

        flat = integrate.quad(lik, -np.inf, np.inf, epsabs=0, epsrel=1e-12)[0]
        normal = integrate.quad(lambda m, lik=lik: lik(m) * stats.norm.pdf(m, 2.0, 4.0),
                                -np.inf, np.inf, epsabs=0, epsrel=1e-12)[0]
        ll, _, _ = collapsed_loglik(np.array([tau**2]), Y8, S8**2, np.ones(8))
        ll_n, _, _ = collapsed_loglik(np.array([tau**2]), Y8, S8**2, np.ones(8), (2.0, 16.0))
        assert math.exp(ll[0] + 30.0) == pytest.approx(flat, rel=1e-10)
        assert math.exp(ll_n[0] + 30.0) == pytest.approx(normal, rel=1e-10)


# ---------------------------------------------------------------------------------------------
# 2-D grid (a non-Normal prior on mu)
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("y,s", [(Y8, S8), (np.array([3.0, -1, 4]), np.array([1.0, 2, 1]))])
def test_student_t_prior_on_mu_against_scale_mixture(y, s):
    hc = stats.halfcauchy(scale=2)
    fit = NormalNormal(prior={"mu": stats.t(3, 0, 10), "tau": hc}).fit(estimate=y, std_error=s)
    w, tau, mh, v, m, var, b = scale_mixture_oracle(y, s, 3, 10, hc.logpdf)
    g, h = fit.groups, fit.hyper
    mean = np.einsum("ab,abj->j", w, m)
    assert rel(g["mean"], mean) < REL
    assert rel(g["sd"], np.sqrt(np.einsum("ab,abj->j", w, var + (m - mean) ** 2))) < REL
    assert np.max(np.abs(g["shrinkage"] - np.einsum("ab,abj->j", w, b))) < REL
    q = g[QCOLS].to_numpy()
    z = (q[None, None] - m[..., None]) / np.sqrt(var)[..., None]
    cdf = np.einsum("ab,abjk->jk", w, ndtr(z))
    pdf = np.einsum("ab,abjk->jk", w, stats.norm.pdf(z) / np.sqrt(var)[..., None])
    assert np.max(np.abs(cdf - P3) / pdf) < QTOL
    e_mu, e_tau = np.sum(w * mh), np.sum(w * tau)
    assert h.loc["mu", "mean"] == pytest.approx(e_mu, rel=REL)
    assert h.loc["mu", "sd"] == pytest.approx(math.sqrt(np.sum(w * (v + (mh - e_mu) ** 2))),
                                              rel=REL)
    assert h.loc["tau", "mean"] == pytest.approx(e_tau, rel=REL)
    assert h.loc["tau", "sd"] == pytest.approx(math.sqrt(np.sum(w * (tau - e_tau) ** 2)),
                                               rel=REL)
    qm = h.loc["mu", QCOLS].to_numpy()
    zm = (qm[None, None] - mh[..., None]) / np.sqrt(v)[..., None]
    cdf = np.einsum("ab,abk->k", w, ndtr(zm))
    pdf = np.einsum("ab,abk->k", w, stats.norm.pdf(zm) / np.sqrt(v)[..., None])
    assert np.max(np.abs(cdf - P3) / pdf) < QTOL


def test_two_d_grid_equals_closed_form_for_the_same_prior():
    """A callable prior takes the 2-D grid; with a Normal mu prior it must equal the 1-D fit."""
    nm, hc = stats.norm(0, 5), HC5
    data = {"estimate": Y8, "std_error": S8}
    closed = NormalNormal(prior={"mu": nm, "tau": hc}).fit(data)
    grid = NormalNormal(prior=lambda mu, tau: nm.logpdf(mu) + hc.logpdf(tau)).fit(data)
    assert grid.tau_grid is None and closed.tau_grid is not None
    for col in ("mean", "sd", "shrinkage"):
        assert rel(grid.groups[col], closed.groups[col]) < REL
    for col in QCOLS:
        assert np.max(np.abs(grid.groups[col] - closed.groups[col])) < QTOL
    for row in ("mu", "tau", "log_tau"):
        assert np.allclose(grid.hyper.loc[row, QCOLS], closed.hyper.loc[row, QCOLS],
                           rtol=1e-9, atol=1e-9)
    # moments under a user log density: from the grid where its edge holds < tol of them
    # (issue 16), then those of the same prior given as distributions
    np.testing.assert_allclose(grid.hyper.loc[["mu", "tau"], ["mean", "sd"]],
                               closed.hyper.loc[["mu", "tau"], ["mean", "sd"]], rtol=1e-7)


# ---------------------------------------------------------------------------------------------
# published numbers
# ---------------------------------------------------------------------------------------------
def test_eight_schools_published_numbers():
    data = hb.datasets.load("eight_schools")
    # BDA3 §5.5: complete pooling, the precision-weighted mean 7.7 with standard error 4.1.
    full = NormalNormal(pooling="complete").fit(data).hyper.loc["theta"]
    assert (round(full["mean"], 1), round(full["sd"], 1)) == (7.7, 4.1)
    # BDA3 Table 5.3 quartiles of mu and tau: from 200 posterior simulations, rounded, so
    # the exact values agree within Monte Carlo error (about ±0.6 here), not to digits.
    fit = NormalNormal(probs=(0.25, 0.5, 0.75)).fit(data)
    assert np.allclose(fit.hyper.loc["mu", ["q25", "q50", "q75"]], [5, 8, 11], atol=1.0)
    assert np.allclose(fit.hyper.loc["tau", ["q25", "q50", "q75"]], [2.3, 5.1, 8.8], atol=1.0)


def test_eight_schools_table_shape():
    fit = NormalNormal().fit(hb.datasets.load("eight_schools"))
    g = fit.groups
    assert list(g.columns) == ["estimate", "std_error", "raw", "mean", "sd", *QCOLS, "shrinkage"]
    assert g.index.name == "group" and list(g.index) == list("ABCDEFGH")
    assert (g["raw"] == g["estimate"]).all()
    assert list(fit.hyper.index) == ["mu", "tau", "log_tau", "theta_new", "I2"]
    assert 0 <= fit.error < 1e-9
    assert "numerical error" in repr(fit)
    s = fit.summary(prob=0.9)
    assert list(s.columns) == ["estimate", "std_error", "raw", "mean", "sd", "lower", "upper",
                               "shrinkage"]


# ---------------------------------------------------------------------------------------------
# pooling levels and empirical Bayes
# ---------------------------------------------------------------------------------------------
def test_complete_and_no_pooling_closed_forms():
    data = {"estimate": Y8, "std_error": S8}
    w = 1 / S8**2
    post = stats.norm(np.sum(w * Y8) / np.sum(w), np.sum(w) ** -0.5)
    g = NormalNormal(pooling="complete").fit(data).groups
    assert np.allclose(g["mean"], post.mean(), rtol=1e-13)
    assert np.allclose(g["sd"], post.std(), rtol=1e-13)
    assert np.allclose(g[QCOLS].to_numpy(), post.ppf(P3)[None, :], rtol=1e-12)
    assert (g["shrinkage"] == 1).all()
    none = NormalNormal(pooling="none").fit(data)
    g = none.groups
    assert np.allclose(g["mean"], Y8, rtol=0, atol=0) and np.allclose(g["sd"], S8, rtol=1e-15)
    assert np.allclose(g[QCOLS].to_numpy(), stats.norm(Y8[:, None], S8[:, None]).ppf(P3),
                       rtol=1e-12, atol=1e-12)
    assert (g["shrinkage"] == 0).all() and len(none.hyper) == 0
    table = hb.compare_pooling(data, model=NormalNormal()).groups
    assert np.allclose(table["none_mean"], Y8) and np.allclose(table["complete_mean"],
                                                               post.mean())


def test_empirical_bayes_against_independent_optimizer():
    y = np.array([-20.0, -5, 0, 8, 25, 40])
    s = np.array([5.0, 6, 4, 8, 5, 7])
    eb = NormalNormal(method="eb").fit(estimate=y, std_error=s)

    def neg(x):
        return -np.sum(stats.norm.logpdf(y, x[0], np.sqrt(s**2 + math.exp(2 * x[1]))))

    res = optimize.minimize(neg, [5.0, 2.0], method="Nelder-Mead",
                            options={"xatol": 1e-12, "fatol": 1e-14, "maxiter": 10000})
    mu, tau = res.x[0], math.exp(res.x[1])
    h = eb.hyper
    assert h.loc["mu", "mean"] == pytest.approx(mu, rel=1e-7)
    assert h.loc["tau", "mean"] == pytest.approx(tau, rel=1e-7)
    b = s**2 / (s**2 + tau**2)
    assert np.allclose(eb.groups["mean"], (1 - b) * y + b * mu, rtol=1e-7)
    assert np.allclose(eb.groups["sd"], np.sqrt(s**2 * (1 - b)), rtol=1e-7)


def test_empirical_bayes_boundary_at_tau_zero():
    """Eight schools: the marginal likelihood is highest at tau = 0 (its slope there is < 0)."""
    w = 1 / S8**2
    ybar = np.sum(w * Y8) / np.sum(w)
    assert np.sum(w**2 * (Y8 - ybar) ** 2 - w) < 0  # d/d(tau²) of the log likelihood at 0
    with pytest.warns(hb.DegenerateDataWarning, match="tau = 0"):
        eb = NormalNormal(method="eb").fit(estimate=Y8, std_error=S8)
    assert eb.hyper.loc["tau", "mean"] == 0.0
    assert eb.hyper.loc["mu", "mean"] == pytest.approx(ybar, rel=1e-14)
    assert np.allclose(eb.groups["mean"], ybar) and (eb.groups["sd"] == 0).all()


# ---------------------------------------------------------------------------------------------
# moments that do not exist, improper priors
# ---------------------------------------------------------------------------------------------
def test_moments_that_do_not_exist_are_not_reported():
    y, s = [1.0, 4, -2, 3, 0], [1.0, 2, 1.5, 1, 2]
    h3 = NormalNormal().fit(estimate=y[:3], std_error=s[:3]).hyper
    assert np.isinf(h3.loc[["mu", "tau"], "mean"]).all()  # J = 3: E[tau], E[mu] infinite
    assert h3.loc[["mu", "tau"], "sd"].isna().all()
    assert np.isfinite(h3.loc["log_tau", ["mean", "sd"]]).all()
    h4 = NormalNormal().fit(estimate=y[:4], std_error=s[:4]).hyper
    assert np.isfinite(h4.loc[["mu", "tau"], "mean"]).all()
    assert np.isinf(h4.loc[["mu", "tau"], "sd"]).all()  # J = 4: E[tau²] infinite
    h5 = NormalNormal().fit(estimate=y, std_error=s).hyper
    assert np.isfinite(h5[["mean", "sd"]].to_numpy()).all()
    # one group, half-Cauchy prior: tau's posterior tail is the prior's, no mean
    with pytest.warns(hb.DegenerateDataWarning):
        h1 = NormalNormal(prior={"tau": HC5}).fit(estimate=[2.0], std_error=[1.0]).hyper
    assert np.isinf(h1.loc["tau", "mean"]) and np.isinf(h1.loc["mu", "mean"])


def test_improper_priors_are_refused():
    with pytest.raises(hb.ImproperPosteriorError, match="J ≥ 3"):
        NormalNormal().fit(estimate=[1.0, 2.0], std_error=[1.0, 1.0])
    with pytest.raises(hb.ImproperPosteriorError, match="J ≥ 2"):
        NormalNormal(prior={"mu": stats.norm(0, 5)}).fit(estimate=[1.0], std_error=[1.0])
    with pytest.raises(hb.ImproperPosteriorError, match="1/tau"):
        NormalNormal(prior="log-uniform")
    with pytest.raises(hb.ImproperPosteriorError, match="does not decay"):
        NormalNormal(prior=lambda mu, tau: -np.log(tau)).fit(estimate=Y8, std_error=S8)
    # the boundary case is proper: J = 3 under p(mu, tau) ∝ 1
    NormalNormal().fit(estimate=[1.0, 2.0, 0.0], std_error=[1.0, 1.0, 1.0])


def test_prior_specification_errors():
    with pytest.raises(hb.PriorError, match="needs a scale"):
        NormalNormal(prior="halfcauchy")
    with pytest.raises(hb.PriorError, match="exactly the keys"):
        NormalNormal(prior={"sigma": HC5})
    with pytest.raises(hb.PriorError, match="support"):
        NormalNormal(prior={"tau": stats.norm(0, 5)})
    with pytest.raises(hb.PriorError, match="no hyperprior"):
        NormalNormal(prior={"tau": HC5}, method="eb")
    with pytest.raises(ValueError, match="`pooling` must be one of"):
        NormalNormal(pooling="partal")
    assert NormalNormal(prior="halfcauchy(5)")._prior.tau.kwds == {"scale": 5.0}


# ---------------------------------------------------------------------------------------------
# input: validation, raw observations, invariances
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "est,se,needle",
    [
        ([1.0, 2.0], [-1.0, 1.0], "must be positive"),
        ([1.0, 2.0], [0.0, 1.0], "must be positive"),
        ([np.nan, 2.0], [1.0, 1.0], "missing or infinite"),
        ([1.0, 2.0], [np.inf, 1.0], "missing or infinite"),
        (["x", 2.0], [1.0, 1.0], "must hold numbers"),
    ],
)
def test_bad_summaries_name_column_group_and_value(est, se, needle):
    df = pd.DataFrame({"school": ["g1", "g2"], "y": est, "se": se})
    with pytest.raises(hb.DataError, match=needle) as err:
        NormalNormal().fit(df, group="school", estimate="y", std_error="se")
    msg = str(err.value)
    assert "g1" in msg and ("'y'" in msg or "'se'" in msg)


def test_more_input_errors():
    with pytest.raises(hb.DataError, match="and 2 more"):
        NormalNormal().fit(estimate=np.ones(7), std_error=-np.ones(7))
    with pytest.raises(hb.DataError, match="booleans"):
        NormalNormal().fit(pd.DataFrame({"estimate": [True], "std_error": [1.0]}))
    with pytest.raises(hb.DataError, match=r"'estimate'.*not in the data.*value='value'"):
        NormalNormal().fit(pd.DataFrame({"group": ["a"], "value": [1.0]}))
    with pytest.raises(hb.DataError, match="same length"):
        NormalNormal().fit(estimate=[1.0, 2.0], std_error=[1.0])
    with pytest.raises(hb.DataError, match="empty"):
        NormalNormal().fit(pd.DataFrame({"estimate": [], "std_error": []}))
    with pytest.raises(TypeError):
        NormalNormal().fit([1.0, 2.0])


def test_raw_observation_errors():
    df = pd.DataFrame({"g": ["a", "a", "b", "c", "c"], "x": [1.0, 2, 3, 4, 4]})
    with pytest.raises(hb.DataError, match=r"single observation.*'b'"):
        NormalNormal().fit(df, group="g", value="x")
    with pytest.raises(hb.DataError, match=r"all equal.*'c'"):
        NormalNormal().fit(df[df.g != "b"], group="g", value="x")
    with pytest.raises(hb.DataError, match="no within-group variance"):
        NormalNormal().fit(pd.DataFrame({"g": ["a", "b"], "x": [1.0, 2]}), group="g",
                           value="x", variance="pooled")
    with pytest.raises(hb.DataError, match="`sigma` must be"):
        NormalNormal().fit(df, group="g", value="x", sigma=-1.0)
    with pytest.raises(hb.DataError, match="raw observations"):
        NormalNormal().fit(estimate=Y8, std_error=S8, sigma=1.0)


@pytest.fixture(scope="module")
def raw():
    rng = np.random.default_rng(7)
    sizes = [6, 9, 4, 12, 7]
    theta = rng.normal(0, 2, len(sizes))
    groups = np.repeat([f"s{i}" for i in range(len(sizes))], sizes)
    values = np.concatenate([rng.normal(t, 3, n) for t, n in zip(theta, sizes, strict=True)])
    order = rng.permutation(values.size)
    return pd.DataFrame({"school": groups[order], "score": values[order]})


def test_raw_observations_equal_their_summaries(raw):
    labels = list(dict.fromkeys(raw["school"]))
    by = raw.groupby("school")["score"]
    n, mean = by.count()[labels].to_numpy(), by.mean()[labels].to_numpy()
    var = by.var(ddof=1)[labels].to_numpy()
    pooled = np.sum((n - 1) * var) / np.sum(n - 1)
    model = NormalNormal()
    for kw, se in (({}, np.sqrt(var / n)), ({"variance": "pooled"}, np.sqrt(pooled / n)),
                   ({"sigma": 3.0}, 3.0 / np.sqrt(n))):
        from_raw = model.fit(raw, group="school", value="score", **kw).groups
        summary = pd.DataFrame({"group": labels, "estimate": mean, "std_error": se})
        expected = model.fit(summary).groups
        assert list(from_raw.index) == labels
        pd.testing.assert_frame_equal(from_raw, expected, rtol=1e-12)


def test_row_order_relabelling_and_split_rows():
    base = pd.DataFrame({"group": list("ABCDEFGH"), "estimate": Y8, "std_error": S8})
    ref = NormalNormal().fit(base).groups
    perm = base.iloc[[3, 7, 0, 5, 1, 6, 2, 4]]
    pd.testing.assert_frame_equal(NormalNormal().fit(perm).groups.loc[ref.index], ref,
                                  rtol=1e-12)
    renamed = base.assign(group=[f"school {i}" for i in range(8)])
    got = NormalNormal().fit(renamed).groups
    assert np.allclose(got.to_numpy(), ref.to_numpy(), rtol=1e-12)
    # school A's estimate 28 ± 15 as two independent halves with the same total precision
    s1, s2 = 15 * math.sqrt(2), 15 * math.sqrt(2)
    split = pd.concat([base.iloc[1:], pd.DataFrame({"group": ["A", "A"], "estimate": [20.0, 36.0],
                                                    "std_error": [s1, s2]})])
    got = NormalNormal().fit(split).groups.loc[ref.index]
    pd.testing.assert_frame_equal(got, ref, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# draws
# ---------------------------------------------------------------------------------------------
def test_draws_follow_the_posterior():
    fit = NormalNormal().fit(hb.datasets.load("eight_schools"))
    d = fit.draws(20000, seed=3)
    assert list(d.columns) == ["mu", "tau", *[f"theta[{g}]" for g in "ABCDEFGH"]]
    pd.testing.assert_frame_equal(fit.draws(50, seed=4), fit.draws(50, seed=4))
    # tau: KS against the exact CDF; theta: means within 5 Monte Carlo standard errors
    assert stats.kstest(d["tau"], lambda t: fit.tau_grid.cdf(np.log(t))).pvalue > 1e-3
    g = fit.groups
    se = g["sd"].to_numpy() / math.sqrt(len(d))
    assert np.all(np.abs(d.iloc[:, 2:].mean().to_numpy() - g["mean"].to_numpy()) < 5 * se)
    assert abs(d["mu"].mean() - fit.hyper.loc["mu", "mean"]) < 5 * fit.hyper.loc["mu", "sd"] / 141


def test_draws_under_the_two_d_grid_and_pooling_levels():
    fit = NormalNormal(prior={"mu": stats.t(3, 0, 10), "tau": HC5}).fit(estimate=Y8,
                                                                        std_error=S8)
    d = fit.draws(4000, seed=1)
    se = fit.groups["sd"].to_numpy() / math.sqrt(4000)
    assert np.all(np.abs(d.iloc[:, 2:].mean().to_numpy() - fit.groups["mean"].to_numpy())
                  < 5 * se)
    full = NormalNormal(pooling="complete").fit(estimate=Y8, std_error=S8).draws(100, seed=2)
    assert (full["tau"] == 0).all() and np.allclose(full.iloc[:, 2:].to_numpy(),
                                                    full[["mu"]].to_numpy())
    none = NormalNormal(pooling="none").fit(estimate=Y8, std_error=S8).draws(20000, seed=2)
    assert list(none.columns) == [f"theta[{i}]" for i in range(8)]
    assert stats.kstest((none["theta[0]"] - 28) / 15, "norm").pvalue > 1e-3


def test_cli_fits_normal_data(tmp_path, capsys):
    assert main(["fit", "--dataset", "eight_schools"]) == 0
    out = capsys.readouterr().out
    assert "log_tau" in out and "shrinkage" in out
    src = tmp_path / "schools.csv"
    pd.DataFrame({"school": list("ABCDEFGH"), "y": Y8, "se": S8}).to_csv(src, index=False)
    dest = tmp_path / "out.csv"
    code = main(["fit", str(src), "--family", "normal", "--estimate", "y", "--std-error", "se",
                 "--group", "school", "-o", str(dest)])
    assert code == 0
    table = pd.read_csv(dest)
    expected = NormalNormal().fit(hb.datasets.load("eight_schools")).groups
    assert np.allclose(table["mean"], expected["mean"], rtol=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["compare", "--dataset", "beta_blockers"]) == 0


def test_hyper_rows_theta_new_and_i2():
    """Issue 14: fit.hyper has theta_new (the prediction for a new group) and I2 beside mu
    and tau. The 1-D fit (mu integrated out) and the 2-D grid (the same prior as a
    callable) are two algorithms and must agree; theta_new's moments are predict_new's;
    I² = tau²/(tau² + s²) with Higgins & Thompson's s², so its quantiles are tau's."""
    nm, hc = stats.norm(0, 5), HC5
    data = {"estimate": Y8, "std_error": S8}
    one = NormalNormal(prior={"mu": nm, "tau": hc}).fit(data)
    two = NormalNormal(prior=lambda mu, tau: nm.logpdf(mu) + hc.logpdf(tau)).fit(data)
    h1, h2 = one.hyper, two.hyper
    assert list(h1.index) == ["mu", "tau", "log_tau", "theta_new", "I2"]
    np.testing.assert_allclose(h2.loc["theta_new", QCOLS], h1.loc["theta_new", QCOLS],
                               rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(h2.loc["I2"], h1.loc["I2"], rtol=1e-7, atol=1e-9)
    new = one.predict_new(std_error=10.0).loc["theta"]
    assert h1.loc["theta_new", "mean"] == pytest.approx(new["mean"], rel=1e-12)
    assert h1.loc["theta_new", "sd"] == pytest.approx(new["sd"], rel=1e-12)
    assert h1.loc["theta_new", "q2.5"] == pytest.approx(new["lower"], abs=1e-7)
    w = 1.0 / np.asarray(S8) ** 2
    s2 = (w.size - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum())
    tau_q = h1.loc["tau", QCOLS].to_numpy()
    np.testing.assert_allclose(h1.loc["I2", QCOLS], tau_q**2 / (tau_q**2 + s2), rtol=1e-12)


def test_new_group_theta_on_the_2d_grid_equals_the_closed_form():
    """predict_new's theta interval on the 2-D grid (a callable prior) used the plain point
    mixture, off by ~2e-3 at the 97.5% point (rows of small tau are sharp in mu); it now
    uses the row-splitting solver and equals the 1-D fit of the same prior."""
    nm, hc = stats.norm(0, 5), HC5
    data = {"estimate": Y8, "std_error": S8}
    one = NormalNormal(prior={"mu": nm, "tau": hc}).fit(data).predict_new(std_error=10.0)
    two = NormalNormal(prior=lambda mu, tau: nm.logpdf(mu) + hc.logpdf(tau)).fit(
        data).predict_new(std_error=10.0)
    np.testing.assert_allclose(two.loc["theta", ["lower", "upper"]],
                               one.loc["theta", ["lower", "upper"]], rtol=0, atol=1e-7)
