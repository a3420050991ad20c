"""Model checking, comparison and decisions (issue 5) against independent computations.

Independent paths used here: refits without a group (a different grid), closed
forms from scipy.stats, brute-force sums of scipy pmfs, and Monte Carlo from
draws with a tolerance of a stated number of standard errors.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats
from scipy.special import betaln, gammaln, logsumexp

import hierbayes as hb
from hierbayes.models import GammaPoisson, NormalNormal


@pytest.fixture(scope="module")
def rats():
    return hb.datasets.load("rats")


@pytest.fixture(scope="module")
def rats_fit(rats):
    return hb.BetaBinomial().fit(rats)


@pytest.fixture(scope="module")
def schools():
    return hb.datasets.load("eight_schools")


@pytest.fixture(scope="module")
def pumps():
    return hb.datasets.load("pumps")


# ---- leave one group out -------------------------------------------------------------


@pytest.mark.parametrize("j", [0, 26, 70])
def test_logo_equals_refit_without_the_group_beta_binomial(rats, rats_fit, j):
    lp = rats_fit.logo()
    rest = hb.BetaBinomial().fit(rats.drop(index=rats.index[j]))
    y, n = int(rats.successes.iloc[j]), int(rats.trials.iloc[j])
    direct = rest.log_predictive_new(trials=n, successes=y)
    assert lp.iloc[j] == pytest.approx(direct, rel=1e-8)


def test_logo_equals_refit_without_the_group_normal(schools):
    lp = NormalNormal().fit(schools).logo()
    for j in range(len(schools)):
        rest = NormalNormal().fit(schools.drop(index=schools.index[j]))
        direct = rest.log_predictive_new(std_error=schools.std_error.iloc[j],
                                         estimate=schools.estimate.iloc[j])
        assert lp.iloc[j] == pytest.approx(direct, rel=1e-8)


def test_logo_equals_refit_without_the_group_gamma_poisson(pumps):
    # The default prior is scaled by the exposures' geometric mean, so a refit without
    # a group would change the prior too: compare under a fixed proper prior (BUGS).
    model = GammaPoisson(prior={"alpha": stats.expon(scale=1.0),
                                "beta": stats.gamma(0.1, scale=1.0)})
    lp = model.fit(pumps).logo()
    for j in (0, 4, 9):
        rest = model.fit(pumps.drop(index=pumps.index[j]))
        direct = rest.log_predictive_new(exposure=pumps.exposure.iloc[j],
                                         counts=pumps.counts.iloc[j])
        assert lp.iloc[j] == pytest.approx(direct, rel=1e-7)


def test_logo_complete_and_no_pooling_closed_forms(rats):
    y, n = rats.successes.to_numpy(), rats.trials.to_numpy()
    complete = hb.BetaBinomial(pooling="complete").fit(rats).logo().to_numpy()
    a = 1 + y.sum() - y
    b = 1 + (n - y).sum() - (n - y)
    assert np.allclose(complete, stats.betabinom.logpmf(y, n, a, b), rtol=1e-12)
    none = hb.BetaBinomial(pooling="none").fit(rats).logo().to_numpy()
    assert np.allclose(none, -np.log(n + 1.0), rtol=1e-12)  # Beta(1, 1): uniform on 0..n


def test_logo_normal_complete_pooling_closed_form(schools):
    y, s = schools.estimate.to_numpy(), schools.std_error.to_numpy()
    lp = NormalNormal(pooling="complete").fit(schools).logo().to_numpy()
    for j in range(len(y)):
        keep = np.arange(len(y)) != j
        w = 1 / s[keep] ** 2
        m, v = (w @ y[keep]) / w.sum(), 1 / w.sum()
        assert lp[j] == pytest.approx(stats.norm.logpdf(y[j], m, math.sqrt(v + s[j] ** 2)),
                                      rel=1e-12)


def test_logo_flat_prior_has_no_predictive_density(schools):
    with pytest.warns(hb.HierBayesWarning, match="no predictive density"):
        lp = NormalNormal(pooling="none").fit(schools).logo()
    assert lp.isna().all()


def test_logo_empirical_bayes_refits_without_each_group(rats):
    sub = rats.iloc[::7]
    lp = hb.BetaBinomial(method="eb").fit(sub).logo()
    y, n = sub.successes.to_numpy(), sub.trials.to_numpy()
    for j in (0, 5):
        keep = np.arange(len(sub)) != j
        eb = hb.BetaBinomial(method="eb").fit(successes=y[keep], trials=n[keep])
        a, b = eb.hyper.loc["alpha", "mean"], eb.hyper.loc["beta", "mean"]
        assert lp.iloc[j] == pytest.approx(stats.betabinom.logpmf(y[j], n[j], a, b), rel=1e-10)
    with pytest.raises(hb.HierBayesError, match="evidence"):
        hb.BetaBinomial(method="eb").fit(sub).log_evidence()


def test_elpd_table(rats):
    c = hb.compare_pooling(rats)
    assert list(c.elpd.index) == ["complete", "none", "partial"]
    assert list(c.elpd.columns) == ["elpd_logo", "se", "elpd_diff", "se_diff"]
    pw = c.pointwise
    for level in c.elpd.index:
        assert c.elpd.loc[level, "elpd_logo"] == pytest.approx(pw[level].sum(), rel=1e-14)
        assert c.elpd.loc[level, "se"] == pytest.approx(
            math.sqrt(len(pw) * pw[level].var(ddof=1)), rel=1e-12)
    # partial pooling predicts the rats best; complete pooling is second
    assert c.elpd["elpd_diff"].idxmax() == "partial"
    d = pw["complete"] - pw["partial"]
    assert c.elpd.loc["complete", "elpd_diff"] == pytest.approx(d.sum(), rel=1e-12)
    assert c.elpd.loc["complete", "se_diff"] == pytest.approx(
        math.sqrt(len(d) * d.var(ddof=1)), rel=1e-12)


def test_elpd_table_keeps_nan_for_improper_levels(schools):
    c = hb.compare_pooling(schools, model=NormalNormal())
    assert math.isnan(c.elpd.loc["none", "elpd_logo"])
    assert math.isnan(c.elpd.loc["none", "elpd_diff"])
    assert c.elpd[["elpd_logo"]].drop(index="none").notna().all().all()


# ---- evidence ------------------------------------------------------------------------


def test_evidence_complete_and_none_closed_forms(rats):
    y, n = rats.successes.to_numpy(), rats.trials.to_numpy()
    log_choose = gammaln(n + 1) - gammaln(y + 1) - gammaln(n - y + 1)
    ev = hb.BetaBinomial(pooling="complete", pooled_prior=(2.0, 3.0)).fit(rats).log_evidence()
    expect = log_choose.sum() + betaln(2 + y.sum(), 3 + (n - y).sum()) - betaln(2, 3)
    assert ev == pytest.approx(expect, rel=1e-12)
    ev = hb.BetaBinomial(pooling="none", pooled_prior=(2.0, 3.0)).fit(rats).log_evidence()
    assert ev == pytest.approx(stats.betabinom.logpmf(y, n, 2, 3).sum(), rel=1e-12)


def test_evidence_gamma_poisson_complete_closed_form(pumps):
    y, t = pumps.counts.to_numpy(), pumps.exposure.to_numpy()
    fit = GammaPoisson(pooling="complete", pooled_prior=(1.5, 2.0)).fit(pumps)
    expect = (np.sum(y * np.log(t) - gammaln(y + 1)) + 1.5 * math.log(2.0) - gammaln(1.5)
              + gammaln(1.5 + y.sum()) - (1.5 + y.sum()) * math.log(2.0 + t.sum()))
    assert fit.log_evidence() == pytest.approx(expect, rel=1e-12)
    with pytest.raises(hb.PriorError, match="improper"):
        GammaPoisson(pooling="complete").fit(pumps).log_evidence()  # Jeffreys' prior


def test_evidence_beta_binomial_partial_against_dblquad():
    y, n = np.array([1, 3, 0, 5]), np.array([8, 9, 7, 10])
    pmu, pk = stats.beta(2, 6), stats.lognorm(1.0, scale=8.0)
    fit = hb.BetaBinomial(prior={"mu": pmu, "kappa": pk}).fit(successes=y, trials=n)

    log_choose = float(np.sum(gammaln(n + 1) - gammaln(y + 1) - gammaln(n - y + 1)))
    def lpk(x):
        return (-math.log(x) - 0.5 * math.log(2 * math.pi)  # lognorm(1, scale 8) pdf
               - 0.5 * (math.log(x) - math.log(8.0)) ** 2)
    def lpmu(m):
        return (math.log(m) + 5 * math.log1p(-m) - float(betaln(2, 6)))

    def integrand(logk, mu):
        k = math.exp(logk)
        a, b = mu * k, (1 - mu) * k
        ll = log_choose + float(np.sum(betaln(a + y, b + n - y))) - 4 * float(betaln(a, b))
        return math.exp(ll + lpmu(mu) + lpk(k) + logk)

    val, _ = integrate.dblquad(integrand, 0, 1, -12, 12, epsabs=0, epsrel=1e-10)
    assert fit.log_evidence() == pytest.approx(math.log(val), abs=1e-8)


def test_evidence_normal_partial_against_quadrature(schools):
    y, s = schools.estimate.to_numpy(), schools.std_error.to_numpy()
    pmu, ptau = stats.norm(0, 5), stats.halfnorm(scale=10)
    fit = NormalNormal(prior={"mu": pmu, "tau": ptau}).fit(schools)

    def p_y_given_tau(tau):  # y ~ N(m0 1, diag(s² + tau²) + v0 11ᵀ)
        cov = np.diag(s**2 + tau**2) + pmu.var()
        return stats.multivariate_normal(np.full(len(y), pmu.mean()), cov).pdf(y)

    val, _ = integrate.quad(lambda t: p_y_given_tau(t) * ptau.pdf(t), 0, np.inf,
                            epsabs=0, epsrel=1e-12, limit=200)
    assert fit.log_evidence() == pytest.approx(math.log(val), abs=1e-8)


def test_evidence_refused_for_improper_and_callable_priors(rats, schools):
    with pytest.raises(hb.PriorError, match="improper"):
        hb.BetaBinomial().fit(rats).log_evidence()
    with pytest.raises(hb.PriorError, match="improper"):
        NormalNormal().fit(schools).log_evidence()
    flatish = hb.BetaBinomial(prior=lambda a, b: -2.5 * np.log(a + b))
    with pytest.raises(hb.PriorError, match="normalising constant"):
        flatish.fit(rats).log_evidence()


# ---- a new group ---------------------------------------------------------------------


def test_current_experiment_from_the_historical_ones(rats, rats_fit):
    """The posterior of group 71 is the new-group posterior of the 70-group fit with its data."""
    hist = hb.BetaBinomial().fit(rats.iloc[:70])
    new = hist.predict_new(trials=14, successes=4)
    s = rats_fit.summary().iloc[-1]
    assert new.loc["theta", "mean"] == pytest.approx(s["mean"], rel=1e-9)
    assert new.loc["theta", "sd"] == pytest.approx(s["sd"], rel=1e-8)
    assert new.loc["theta", "lower"] == pytest.approx(s["lower"], rel=1e-7)
    assert new.loc["theta", "upper"] == pytest.approx(s["upper"], rel=1e-7)
    assert hist.log_predictive_new(trials=14, successes=4) == pytest.approx(
        rats_fit.logo().iloc[-1], rel=1e-8)


def test_new_group_predictive_against_scipy_mixture(rats):
    hist = hb.BetaBinomial().fit(rats.iloc[:70])
    out = hist.predict_new(trials=14, prob=0.9)
    a, b = hist.points.params["alpha"], hist.points.params["beta"]
    w = hist.points.weight
    keep = (w > 1e-300) & (a + b < 1e9)  # scipy's pmf overflows beyond; their mass < 1e-9
    pmf = w[keep] @ stats.betabinom.pmf(np.arange(15)[None, :], 14, a[keep, None],
                                        b[keep, None])
    assert pmf.sum() == pytest.approx(1.0, abs=1e-9)
    k = np.arange(15)
    mean = pmf @ k
    assert out.loc["y", "mean"] == pytest.approx(mean, rel=1e-8)
    assert out.loc["y", "sd"] == pytest.approx(math.sqrt(pmf @ (k - mean) ** 2), rel=1e-8)
    cdf = np.cumsum(pmf)
    assert out.loc["y", "lower"] == np.searchsorted(cdf, 0.05)
    assert out.loc["y", "upper"] == np.searchsorted(cdf, 0.95)
    # theta_new: the mixture of the population Betas, by its CDF at the interval ends
    f = w[keep] @ stats.beta.cdf(out.loc["theta", ["lower", "upper"]].to_numpy()[None, :],
                                 a[keep, None], b[keep, None])
    assert f == pytest.approx([0.05, 0.95], abs=1e-9)


def test_new_group_gamma_poisson_and_normal(pumps, schools):
    g = GammaPoisson().fit(pumps)
    out = g.predict_new(exposure=10.0)
    a, b, w = g.points.params["alpha"], g.points.params["beta"], g.points.weight
    k = np.arange(0, 4000)
    pmf = w @ stats.nbinom.pmf(k[None, :], a[:, None], (b / (b + 10.0))[:, None])
    cdf = np.cumsum(pmf)
    assert out.loc["y", "upper"] == np.searchsorted(cdf, 0.975)
    assert out.loc["y", "mean"] == pytest.approx(w @ (10 * a / b), rel=1e-10)
    nn = NormalNormal().fit(schools)
    o = nn.predict_new(std_error=10.0, estimate=28.0)
    p = nn.points.params
    m, v = p["mu_mean"], p["mu_var"] + p["tau"] ** 2
    lw = np.log(nn.points.weight) + stats.norm.logpdf(28.0, m, np.sqrt(v + 100.0))
    ww = np.exp(lw - logsumexp(lw))
    post_m = m + v / (v + 100.0) * (28.0 - m)
    assert o.loc["theta", "mean"] == pytest.approx(ww @ post_m, rel=1e-10)
    with pytest.raises(hb.PriorError, match="improper"):
        NormalNormal(pooling="none").fit(schools).predict_new(std_error=1.0)


def test_new_group_bad_input(rats_fit):
    with pytest.raises(hb.DataError, match="exceeds its trials"):
        rats_fit.predict_new(trials=5, successes=6)
    with pytest.raises(hb.DataError, match="whole number"):
        rats_fit.predict_new(trials=5.5)
    with pytest.raises(TypeError, match="trials="):
        rats_fit.predict_new(exposure=3)
    with pytest.raises(hb.DataError, match="Give the new group's trials"):
        rats_fit.predict_new(successes=3)


# ---- further data from existing groups: Efron & Morris ---------------------------------


def test_efron_morris_partial_pooling_predicts_the_rest_of_the_season_best():
    """First 45 at-bats → rest-of-season batting averages (Efron & Morris 1975)."""
    bb = hb.datasets.load("baseball_efron_morris")
    rest_y, rest_n = bb.remaining_hits.to_numpy(), bb.remaining_at_bats.to_numpy()
    truth = rest_y / rest_n
    c = hb.compare_pooling(bb[["group", "successes", "trials"]])
    sse, lpd = {}, {}
    for level, fit in c.fits.items():
        sse[level] = float(((fit.moments["mean"].to_numpy() - truth) ** 2).sum())
        lpd[level] = float(fit.log_predictive_groups(trials=rest_n, successes=rest_y).sum())
    assert sse["partial"] < sse["complete"] < sse["none"]
    assert sse["none"] / sse["partial"] > 2.5  # Efron & Morris: about 3.5 for James–Stein
    assert lpd["partial"] > lpd["complete"] > lpd["none"]
    # the log predictive density, independently: scipy's beta-binomial pmf on the points
    fit = c.fits["partial"]
    a, b, w = fit.points.params["alpha"], fit.points.params["beta"], fit.points.weight
    keep = w > 0
    a, b, w = a[keep, None], b[keep, None], w[keep, None]
    y, n = bb.successes.to_numpy(), bb.trials.to_numpy()
    log_choose = gammaln(rest_n + 1) - gammaln(rest_y + 1) - gammaln(rest_n - rest_y + 1)
    A, B = a + y, b + n - y
    # log B(A + r, B + m) − log B(A, B) as sums of logs of rising factorials: no
    # cancellation at the largest kappa (~1e42), where betaln and scipy's pmf break down
    ratio = np.empty(A.shape)
    for j in range(len(y)):
        r, m = rest_y[j], rest_n[j] - rest_y[j]
        ratio[:, j] = (np.log(A[:, j, None] + np.arange(r)).sum(1)
                       + np.log(B[:, j, None] + np.arange(m)).sum(1)
                       - np.log(A[:, j, None] + B[:, j, None] + np.arange(r + m)).sum(1))
    lp = logsumexp(np.log(w) + log_choose + ratio, axis=0)
    assert lpd["partial"] == pytest.approx(lp.sum(), rel=1e-10)


# ---- posterior predictive checks --------------------------------------------------------


def test_ppc_against_independent_simulation(rats_fit):
    res = rats_fit.ppc(draws=4000, seed=1)
    # min_rate is 0 on rats (p = 1 whatever the model): not a default
    assert list(res.table.index) == ["zeros", "max_rate", "var_rate"]
    assert res.observed["zeros"] == 14 and res.observed["max_rate"] == pytest.approx(6 / 16)
    # an independent replication: draws → scipy binomial → statistics
    d = rats_fit.draws(4000, seed=7)
    theta = d.filter(like="theta[").to_numpy()
    n = rats_fit.groups["trials"].to_numpy()
    rep = stats.binom.rvs(n[None, :], theta, random_state=np.random.default_rng(3))
    rates = rep / n
    indep = {"zeros": (rep == 0).sum(1), "max_rate": rates.max(1), "var_rate": rates.var(1,
                                                                                      ddof=1)}
    for name, t in indep.items():
        p = float(np.mean(t >= res.observed[name]))
        se = math.sqrt(max(p * (1 - p), 1e-4) * (1 / 4000 + 1 / 4000))
        assert abs(res.table.loc[name, "p_value"] - p) < 4.5 * se, name
        p_le = float(np.mean(t <= res.observed[name]))
        se_le = math.sqrt(max(p_le * (1 - p_le), 1e-4) * (1 / 4000 + 1 / 4000))
        assert abs(res.table.loc[name, "p_value_le"] - p_le) < 4.5 * se_le, name
        assert abs(res.table.loc[name, "replicated_mean"] - t.mean()) < 4.5 * t.std() * math.sqrt(
            2 / 4000), name


def test_ppc_defaults_leave_out_checks_that_cannot_fail():
    """A default statistic observed at 0, its least value, has p = 1 for every model."""
    pumps = hb.GammaPoisson().fit(hb.datasets.load("pumps"))  # no zero counts
    assert list(pumps.ppc(draws=50).table.index) == ["max_rate", "min_rate", "var_rate"]
    flat = hb.BetaBinomial().fit(pd.DataFrame({"successes": [2, 2, 2], "trials": [5, 5, 5]}))
    assert list(flat.ppc(draws=50).table.index) == ["max_rate", "min_rate"]  # no 0, no spread
    # asked for by name, a statistic is computed whatever its value
    res = pumps.ppc({"zeros": lambda y: (y == 0).sum(-1)}, draws=200)
    assert res.table.loc["zeros", "p_value"] == 1.0


def test_ppc_user_statistic_and_vectorisation(rats_fit):
    def q90_scalar(y):
        return float(np.quantile(y, 0.9))

    res = rats_fit.ppc({"q90": q90_scalar, "total": lambda y: y.sum(axis=-1)}, draws=300)
    assert res.replicated["q90"].shape == (300,)
    assert res.observed["total"] == 267
    assert 0 <= res.table.loc["total", "p_value"] <= 1
    with pytest.raises(hb.HierBayesError, match="'bad' failed"):
        rats_fit.ppc({"bad": lambda y: y["no"]}, draws=10)


def test_ppc_normal_defaults(schools):
    res = NormalNormal().fit(schools).ppc(draws=500)
    assert list(res.table.index) == ["max", "min", "var"]
    assert res.observed["max"] == 28


# ---- decisions ----------------------------------------------------------------------


def test_tail_probabilities_against_monte_carlo_and_each_other(rats_fit):
    g = rats_fit.prob_greater(0.2)
    le = rats_fit.prob_less(0.2)
    assert np.allclose(g + le, 1.0, atol=1e-12)
    theta = rats_fit.draws(40_000, seed=5).filter(like="theta[").to_numpy()
    mc = (theta > 0.2).mean(axis=0)
    se = np.sqrt(np.maximum(mc * (1 - mc), 1e-5) / theta.shape[0])
    assert np.all(np.abs(g.to_numpy() - mc) < 5 * se)


def test_tail_probability_small_values_keep_their_digits(rats_fit):
    """P(theta > 0.9) is tiny: computed directly, not as 1 − P(theta ≤ 0.9)."""
    p = rats_fit.prob_greater(0.9)
    assert (p > 0).all() and (p < 1e-12).all()
    # against quad of each mixture density for group 1
    fit = rats_fit
    a, b, w = fit.points.params["alpha"], fit.points.params["beta"], fit.points.weight
    y, n = 0, 20
    keep = w > 0
    val = integrate.quad(lambda x: float(w[keep] @ stats.beta.pdf(x, a[keep] + y,
                                                                   b[keep] + n - y)),
                         0.9, 1.0, epsabs=0, epsrel=1e-10)[0]
    assert p.iloc[0] == pytest.approx(val, rel=1e-7)


def test_flag_qvalues_by_definition(rats_fit):
    f = rats_fit.flag(0.2, fdr=0.1)
    pep = rats_fit.prob_less(0.2).to_numpy()
    assert np.allclose(f["pep"], pep, rtol=1e-12)
    q = np.array([pep[pep <= p].mean() for p in pep])  # mean PEP of those flagged with j
    assert np.allclose(f["qvalue"], q, rtol=1e-12)
    flagged = f[f.flagged]
    assert len(flagged) == 4 and flagged["pep"].mean() <= 0.1
    low = rats_fit.flag(0.05, fdr=0.1, direction="less")
    assert np.allclose(low["pep"], rats_fit.prob_greater(0.05), rtol=1e-12)


def test_ranks_against_scipy_rankdata(schools):
    fit = NormalNormal().fit(schools)
    r = fit.ranks(draws=2000, seed=3, top=2)
    theta = fit.draws(2000, seed=3).filter(like="theta[").to_numpy()
    ranks = stats.rankdata(-theta, axis=1)
    assert np.allclose(r["mean_rank"], ranks.mean(0), rtol=1e-12)
    assert np.allclose(r["p_best"], (ranks == 1).mean(0))
    assert np.allclose(r["p_top2"], (ranks <= 2).mean(0))
    assert r["p_best"].sum() == pytest.approx(1.0)
    assert r["mean_rank"].sum() == pytest.approx(8 * 9 / 2)
    assert (r["rank_lower"] <= r["mean_rank"]).all() and (r["mean_rank"] <= r["rank_upper"]).all()
    # the rank interval: smallest rank whose empirical CDF reaches 2.5% / 97.5%
    for j, g in enumerate(r.index):
        cdf = np.cumsum(np.bincount(ranks[:, j].astype(int), minlength=10)[1:]) / len(ranks)
        assert r.loc[g, "rank_lower"] == 1 + np.searchsorted(cdf, 0.025 - 1e-12)
        assert r.loc[g, "rank_upper"] == 1 + np.searchsorted(cdf, 0.975 - 1e-12)


def test_p_best_against_exact_quadrature_beta_binomial():
    y, n = np.array([2, 5, 9, 4]), np.array([20, 20, 25, 30])
    prior = {"mu": stats.beta(1, 1), "kappa": stats.lognorm(1.0, scale=10.0)}
    fit = hb.BetaBinomial(prior=prior).fit(successes=y, trials=n)
    r = fit.ranks(draws=40_000, seed=11)
    a, b, w = fit.points.params["alpha"], fit.points.params["beta"], fit.points.weight
    keep = w > 1e-12
    a, b, w = a[keep], b[keep], w[keep] / w[keep].sum()
    x, gw = np.polynomial.legendre.leggauss(600)
    x, gw = 0.5 * (x + 1), 0.5 * gw
    A, B = a[:, None, None] + y[None, :, None], b[:, None, None] + (n - y)[None, :, None]
    pdf = stats.beta.pdf(x[None, None, :], A, B)
    cdf = stats.beta.cdf(x[None, None, :], A, B)
    exact = []
    for j in range(4):
        others = np.prod(np.delete(cdf, j, axis=1), axis=1)
        exact.append(float(w @ ((pdf[:, j, :] * others) @ gw)))
    assert sum(exact) == pytest.approx(1.0, abs=1e-6)
    se = r["mc_se_best"].to_numpy()
    assert np.all(np.abs(r["p_best"].to_numpy() - exact) < 4.5 * np.maximum(se, 1e-3))


def test_difference_normal_against_exact_mixture(schools):
    fit = NormalNormal().fit(schools)
    d = fit.difference("A", "C", draws=200_000, seed=2)
    y, s = schools.estimate.to_numpy(), schools.std_error.to_numpy()
    p = fit.points.params
    tau2, m, v, w = p["tau"] ** 2, p["mu_mean"], p["mu_var"], fit.points.weight
    ba, bc = s[0] ** 2 / (s[0] ** 2 + tau2), s[2] ** 2 / (s[2] ** 2 + tau2)
    mean = (1 - ba) * y[0] + ba * m - (1 - bc) * y[2] - bc * m
    var = (ba - bc) ** 2 * v + s[0] ** 2 * (1 - ba) + s[2] ** 2 * (1 - bc)
    with np.errstate(divide="ignore", invalid="ignore"):  # tau = 0: theta_A = theta_C
        exact_p = float(w @ np.where(var > 0, stats.norm.sf(0, mean, np.sqrt(var)), mean > 0))
    exact_mean = float(w @ mean)
    assert abs(d["p_greater"] - exact_p) < 4.5 * d["mc_se"]
    assert abs(d["mean"] - exact_mean) < 4.5 * d["sd"] / math.sqrt(200_000)
    exact_sd = math.sqrt(float(w @ (var + (mean - exact_mean) ** 2)))
    assert d["sd"] == pytest.approx(exact_sd, rel=0.01)  # MC: 4.5/sqrt(2·200 000) ≈ 0.007
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf_at = [float(w @ np.where(var > 0, stats.norm.cdf(q, mean, np.sqrt(var)), mean <= q))
                  for q in (d["lower"], d["upper"])]
    assert cdf_at == pytest.approx([0.025, 0.975], abs=0.002)  # MC se of a quantile's CDF
    with pytest.raises(hb.DataError, match="No group 'Z'"):
        fit.difference("A", "Z")


def test_compare_methods_eb_intervals_are_narrower(rats):
    c = hb.compare_methods(rats)
    eb = hb.BetaBinomial(method="eb").fit(rats)
    assert c.hyper.loc["alpha", "eb"] == pytest.approx(eb.hyper.loc["alpha", "mean"])
    assert (c.groups["width_ratio"] < 1).all()
    assert np.allclose(c.groups["fb_mean"], hb.BetaBinomial().fit(rats).moments["mean"],
                       rtol=1e-12)


def test_checks_run_for_every_family_and_pooling(rats, schools, pumps):
    cases = [(hb.BetaBinomial, rats, {"trials": 10}), (NormalNormal, schools, {"std_error": 5}),
             (GammaPoisson, pumps, {"exposure": 2.0})]
    for cls, data, design in cases:
        for pooling in ("partial", "complete", "none"):
            fit = cls(pooling=pooling).fit(data)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", hb.HierBayesWarning)
                lp = fit.logo()
            assert len(lp) == len(data)
            p = fit.prob_greater(float(fit.moments["mean"].median()))
            assert ((p >= 0) & (p <= 1)).all()
            if fit._new_group_reason() is None:
                out = fit.predict_new(**design)
                assert out.loc["theta", "lower"] < out.loc["theta", "mean"] < out.loc[
                    "theta", "upper"]
            assert isinstance(fit.ppc(draws=50).table, pd.DataFrame)


def test_efron_morris_example_runs():
    import runpy
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / "efron_morris.py"
    table = runpy.run_path(str(path))["main"]()
    assert table["sum_sq_error"].idxmin() == "partial"
    assert table["log_pred_rest_of_season"].idxmax() == "partial"


def test_beta_binomial_cdf_identity_against_exact_sums():
    """P(Y ≤ k) by the order-statistic identity vs the exact pmf sum (mpmath)."""
    import mpmath

    from hierbayes.families.conjugate import BETA

    a = np.array([0.5, 2.0, 30.0, 3e4, 1e7])
    b = np.array([3.0, 10.0, 170.0, 1.7e5, 6e7])
    for n, k in [(20, 0), (20, 6), (500, 71), (500, 300)]:
        got = BETA.y_cdf((a, b), k, float(n))
        with mpmath.workdps(40):
            for i in range(a.size):
                ai, bi = mpmath.mpf(a[i]), mpmath.mpf(b[i])
                exact = mpmath.fsum(mpmath.binomial(n, j) * mpmath.beta(ai + j, bi + n - j)
                                    for j in range(k + 1)) / mpmath.beta(ai, bi)
                assert got[i] == pytest.approx(float(exact), abs=1e-9), (n, k, i)


def test_new_group_with_huge_trials_is_fast_and_consistent(rats_fit):
    """The bisection path (wide supports) agrees with the pmf path where both apply."""
    from hierbayes.checks import predictive

    small = rats_fit.predict_new(trials=400)
    cells = predictive._PMF_CELLS
    try:
        predictive._PMF_CELLS = 10  # force bisection on the components' CDFs
        bisect = rats_fit.predict_new(trials=400)
    finally:
        predictive._PMF_CELLS = cells
    assert small.loc["y", ["lower", "upper"]].tolist() == bisect.loc["y", ["lower",
                                                                          "upper"]].tolist()
    big = rats_fit.predict_new(trials=10**9)
    theta = big.loc["theta"]
    assert big.loc["y", "lower"] == pytest.approx(1e9 * theta["lower"], rel=1e-3)
    assert big.loc["y", "upper"] == pytest.approx(1e9 * theta["upper"], rel=1e-3)


def test_new_group_data_beyond_the_grid_warns(rats_fit, monkeypatch):
    """The warning path (data of a new group moving the posterior to the grid's edge)."""
    from hierbayes.checks import predictive

    monkeypatch.setattr(predictive, "_edge_mass", lambda w: np.full(w.shape[-1], 1e-3))
    with pytest.warns(hb.AccuracyWarning, match="edge of the quadrature grid"):
        rats_fit.predict_new(trials=14, successes=4)


def test_logo_three_groups_heavy_tail_against_dblquad():
    """Three groups under the default prior: the posterior tail in kappa^(-1/2) is heavy
    (∝ t^-6, and t^-4 without a group), the refits without a group reach alpha that
    underflows to 0. Against dblquad in (mu, t = kappa^(-1/2)), where the prior is flat,
    with the tail t > 50 mapped to s = 1/t."""
    y, n = np.array([3, 5, 1]), np.array([20, 21, 19])
    lp = hb.BetaBinomial().fit(successes=y, trials=n).logo().to_numpy()
    log_choose = gammaln(n + 1) - gammaln(y + 1) - gammaln(n - y + 1)

    def integral(idx):
        def f(t, mu):
            k = t**-2
            a, b = mu * k, (1 - mu) * k
            return math.exp(float(np.sum(log_choose[idx] + betaln(a + y[idx], b + n[idx] - y[idx])
                                         - betaln(a, b))) + 20)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", integrate.IntegrationWarning)
            v = sum(integrate.dblquad(f, 0, 1, lo, hi, epsabs=0, epsrel=1e-10)[0]
                    for lo, hi in [(1e-9, 0.5), (0.5, 3), (3, 50)])
            v += integrate.dblquad(lambda s, mu: f(1 / s, mu) / s**2, 1e-9, 1, 1e-12, 1 / 50,
                                   epsabs=0, epsrel=1e-9)[0]
        return v

    full = integral(np.arange(3))
    for j in (0, 2):
        rest = integral(np.array([i for i in range(3) if i != j]))
        assert lp[j] == pytest.approx(math.log(full / rest), abs=1e-7)


def test_prob_best_exact_against_draws_and_sums():
    pumps = hb.datasets.load("pumps")
    fit = GammaPoisson().fit(pumps)
    for descending in (True, False):
        exact = fit.prob_best(descending=descending)
        assert exact.sum() == pytest.approx(1.0, abs=1e-10)
        r = fit.ranks(draws=100_000, seed=3, descending=descending)
        se = np.sqrt(np.maximum(exact * (1 - exact), 1e-6) / 100_000)
        assert np.all(np.abs(r["p_best"] - exact) < 4.5 * se)
    none = hb.BetaBinomial(pooling="none").fit(successes=[2, 5, 9, 5], trials=[20, 20, 25, 20])
    p = none.prob_best()
    assert p.sum() == pytest.approx(1.0, abs=1e-10) and p.iloc[1] == p.iloc[3]
    # independent Betas under no pooling: one 1-D quad
    a, b = np.array([3, 6, 10, 6]), np.array([19, 16, 17, 16])
    val = integrate.quad(lambda x: stats.beta.pdf(x, a[2], b[2]) * np.prod(
        stats.beta.cdf(x, np.delete(a, 2), np.delete(b, 2))), 0, 1, epsabs=1e-13)[0]
    assert p.iloc[2] == pytest.approx(val, abs=1e-9)
    nn = NormalNormal().fit(hb.datasets.load("eight_schools")).prob_best()
    assert nn.sum() == pytest.approx(1.0)
    with pytest.raises(hb.HierBayesError, match="no group is best"):
        hb.BetaBinomial(pooling="complete").fit(pumps.rename(
            columns={"counts": "successes", "exposure": "trials"}).assign(
            trials=lambda d: d.successes + 10)).prob_best()


def test_logo_many_groups_beyond_the_grid_warn_instead_of_refitting(rats_fit, monkeypatch):
    from hierbayes.checks import predictive

    monkeypatch.setattr(predictive, "_edge_mass", lambda w: np.full(w.shape[-1], 1e-3))
    monkeypatch.setattr(predictive, "_MAX_REFITS", 10)
    with pytest.warns(hb.AccuracyWarning, match="reach the edge of the quadrature grid"):
        lp = rats_fit.logo()
    assert np.isfinite(lp).all()
