import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, stats
from scipy.special import betaln

import hierbayes as hb


@pytest.fixture(scope="module")
def rats():
    return hb.datasets.load("rats")


@pytest.fixture(scope="module")
def rats_fit(rats):
    return hb.BetaBinomial().fit(rats)


def test_table_columns_and_error_estimate(rats_fit):
    g = rats_fit.groups
    assert list(g.columns) == ["successes", "trials", "raw", "mean", "sd", "q2.5", "q50",
                               "q97.5", "shrinkage"]
    assert g.index.name == "group" and len(g) == 71
    assert 0 < rats_fit.error < 1e-9
    assert (g["q2.5"] < g["q50"]).all() and (g["q50"] < g["q97.5"]).all()
    assert ((g.shrinkage > 0) & (g.shrinkage < 1)).all()
    h = rats_fit.hyper
    assert list(h.index) == ["alpha", "beta", "mu", "kappa", "logit_mu", "log_kappa"]
    # E[alpha], E[beta], E[kappa] do not exist under the default prior.
    assert np.isinf(h.loc[["alpha", "beta", "kappa"], "mean"]).all()
    assert h.loc[["alpha", "beta", "kappa"], "sd"].isna().all()


def test_small_data_against_scipy_dblquad():
    """Independent path: scipy dblquad over (log alpha, log beta), likelihood as plain sums."""
    y, n = np.array([1, 4, 7]), np.array([10, 12, 15])
    fit = hb.BetaBinomial().fit(successes=y, trials=n)

    def logpost(la, lb):
        a, b = math.exp(la), math.exp(lb)
        # log B(y+a, n-y+b) - log B(a, b) as exact sums of logs of ratios (no cancellation)
        terms = [math.log((a + k) / (a + b + k)) for yi in y for k in range(yi)]
        terms += [math.log((b + k) / (a + b + yi + k)) for yi, ni in zip(y, n, strict=False)
                  for k in range(ni - yi)]
        return -2.5 * math.log(a + b) + la + lb + math.fsum(terms)

    best = optimize.minimize(lambda x: -logpost(*x), [0.5, 1.5], method="Nelder-Mead")
    shift = -best.fun

    def moment(g):
        return integrate.dblquad(lambda lb, la: math.exp(logpost(la, lb) - shift) * g(la, lb),
                                 -12, 60, -12, 60, epsabs=0, epsrel=1e-11)[0]

    z = moment(lambda la, lb: 1.0)
    m0 = moment(lambda la, lb: (y[0] + math.exp(la)) / (n[0] + math.exp(la) + math.exp(lb))) / z
    assert abs(fit.groups["mean"].iloc[0] - m0) < 1e-8 * m0


def test_complete_and_no_pooling_closed_forms(rats):
    full = hb.BetaBinomial(pooling="complete").fit(rats)
    post = stats.beta(1 + 267, 1 + 1739 - 267)
    g = full.groups
    assert np.allclose(g["mean"], post.mean(), rtol=1e-13)
    assert np.allclose(g["q97.5"], post.ppf(0.975), rtol=1e-12)
    assert full.hyper.loc["theta", "sd"] == pytest.approx(post.std(), rel=1e-13)
    none = hb.BetaBinomial(pooling="none").fit(rats).groups
    post = stats.beta(1 + rats.successes, 1 + rats.trials - rats.successes)
    assert np.allclose(none["mean"], post.mean(), rtol=1e-13)
    assert np.allclose(none["q2.5"], post.ppf(0.025), rtol=1e-10)


def test_empirical_bayes_matches_independent_optimizer(rats):
    eb = hb.BetaBinomial(method="eb").fit(rats)
    y, n = rats.successes.to_numpy(), rats.trials.to_numpy()

    def neg(x):
        a, b = np.exp(x)
        return -np.sum(betaln(y + a, n - y + b) - betaln(a, b))

    res = optimize.minimize(neg, [0.5, 2.0], method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 5000})
    a, b = np.exp(res.x)
    assert eb.hyper.loc["alpha", "mean"] == pytest.approx(a, rel=1e-5)
    assert eb.hyper.loc["beta", "mean"] == pytest.approx(b, rel=1e-5)
    g = eb.groups
    post = stats.beta(y + a, n - y + b)
    assert np.allclose(g["mean"], post.mean(), rtol=1e-5)


def test_improper_priors_refused():
    with pytest.raises(hb.ImproperPosteriorError, match="improper"):
        hb.BetaBinomial(prior="flat")
    with pytest.raises(hb.ImproperPosteriorError, match="0 < successes < trials"):
        hb.BetaBinomial().fit(successes=[0, 0, 0], trials=[5, 6, 7])
    with pytest.raises(hb.ImproperPosteriorError, match="0 < successes < trials"):
        hb.BetaBinomial().fit(successes=[0, 6], trials=[5, 6])
    # A flat callable prior is caught by the grid: the mass does not decay.
    with pytest.raises(hb.ImproperPosteriorError, match="does not decay"):
        hb.BetaBinomial(prior=lambda a, b: np.zeros_like(a)).fit(hb.datasets.load("rats"))


def test_prior_specification_errors():
    with pytest.raises(hb.PriorError, match="exactly the keys"):
        hb.BetaBinomial(prior={"mu": stats.beta(1, 1)})
    with pytest.raises(hb.PriorError, match="support"):
        hb.BetaBinomial(prior={"mu": stats.norm(0.5, 1), "kappa": stats.expon()})
    with pytest.raises(TypeError, match=r"frozen scipy\.stats"):
        hb.BetaBinomial(prior={"mu": 0.5, "kappa": stats.expon()})
    with pytest.raises(ValueError, match="`pooling` must be one of"):
        hb.BetaBinomial(pooling="partal")


def test_callable_prior_equals_default(rats, rats_fit):
    fit = hb.BetaBinomial(prior=lambda a, b: -2.5 * np.log(a + b)).fit(rats)
    assert np.allclose(fit.groups["mean"], rats_fit.groups["mean"], rtol=1e-9)
    assert np.allclose(fit.groups["q97.5"], rats_fit.groups["q97.5"], rtol=1e-8)


def test_alpha_beta_prior_equals_same_prior_in_mu_kappa(rats):
    # alpha ~ Gamma(2, 1), beta ~ Gamma(2, 1/5) in (mu, kappa) as a callable, an independent route
    pa, pb = stats.gamma(2, scale=1.0), stats.gamma(2, scale=5.0)
    f1 = hb.BetaBinomial(prior={"alpha": pa, "beta": pb}).fit(rats)
    f2 = hb.BetaBinomial(prior=lambda a, b: pa.logpdf(a) + pb.logpdf(b)).fit(rats)
    assert np.allclose(f1.groups["mean"], f2.groups["mean"], rtol=1e-10)
    # Proper priors with finite means: E[alpha] exists and is reported.
    assert np.isfinite(f1.hyper.loc["alpha", "mean"])


def test_invariances(rats, rats_fit):
    base = rats_fit.groups
    shuffled = rats.sample(frac=1.0, random_state=3)
    g = hb.BetaBinomial().fit(shuffled).groups.loc[base.index]
    pd.testing.assert_frame_equal(g, base, rtol=1e-12)
    relabelled = rats.assign(group=[f"lab{i}" for i in rats.group])
    g = hb.BetaBinomial().fit(relabelled).groups
    assert np.allclose(g["mean"].to_numpy(), base["mean"].to_numpy(), rtol=1e-12)
    # Splitting a group's rows changes nothing.
    split = pd.concat([rats.iloc[:-1], pd.DataFrame({"group": [71, 71], "successes": [1, 3],
                                                       "trials": [6, 8]})])
    g = hb.BetaBinomial().fit(split).groups
    assert np.allclose(g["mean"].to_numpy(), base["mean"].to_numpy(), rtol=1e-12)


def test_zero_trial_group_gets_population_distribution(rats, rats_fit):
    data = pd.concat([rats, pd.DataFrame({"group": ["new"], "successes": [0], "trials": [0]})])
    fit = hb.BetaBinomial().fit(data)
    new = fit.groups.loc["new"]
    assert math.isnan(new.raw)
    assert new["mean"] == pytest.approx(rats_fit.hyper.loc["mu", "mean"], rel=1e-12)
    assert new["shrinkage"] == pytest.approx(1.0)


def test_summary_intervals(rats_fit):
    s = rats_fit.summary(prob=0.9)
    assert list(s.columns) == ["successes", "trials", "raw", "mean", "sd", "lower", "upper",
                               "shrinkage"]
    q = rats_fit.quantiles([0.05, 0.95])
    assert np.allclose(s.lower, q["q5"]) and np.allclose(s.upper, q["q95"])
    with pytest.raises(ValueError, match="strictly between"):
        rats_fit.summary(prob=1.5)


def test_draws_agree_with_exact_summaries(rats_fit):
    d = rats_fit.draws(20000, seed=0)
    assert d.shape == (20000, 73)
    assert list(d.columns[:3]) == ["alpha", "beta", "theta[1]"]
    g = rats_fit.groups
    theta = d.iloc[:, 2:].to_numpy()
    z = (theta.mean(axis=0) - g["mean"].to_numpy()) / (g["sd"].to_numpy() / math.sqrt(20000))
    assert np.abs(z).max() < 4.5
    # Hyperparameter draws: the fraction below the exact median is 1/2 within 4.5 s.e.
    h = rats_fit.hyper
    for name in ("alpha", "beta"):
        frac = np.mean(d[name] < h.loc[name, "q50"])
        assert abs(frac - 0.5) < 4.5 * math.sqrt(0.25 / 20000)
    assert rats_fit.draws(10, seed=5).equals(rats_fit.draws(10, seed=5))


def test_compare_pooling_table(rats):
    t = hb.compare_pooling(rats, prob=0.9).groups
    assert list(t.columns) == ["successes", "trials", "raw", "complete_mean", "complete_lower",
                               "complete_upper", "none_mean", "none_lower", "none_upper",
                               "partial_mean", "partial_lower", "partial_upper"]
    partial = hb.BetaBinomial().fit(rats).summary(prob=0.9)
    assert np.allclose(t.partial_upper, partial.upper, rtol=1e-12)
    # Complete pooling gives every group the same posterior.
    assert t.complete_mean.nunique() == 1 and t.complete_upper.nunique() == 1


def test_single_group_warns_but_fits():
    prior = {"mu": stats.beta(2, 2), "kappa": stats.lognorm(1, scale=10)}
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fit = hb.BetaBinomial(prior=prior).fit(successes=[3], trials=[10])
    assert any(issubclass(w.category, hb.DegenerateDataWarning) for w in rec)
    assert 0 < fit.groups["mean"].iloc[0] < 1


def test_moments_table_is_groups_without_quantiles(rats_fit):
    m, g = rats_fit.moments, rats_fit.groups
    assert list(m.columns) == ["successes", "trials", "raw", "mean", "sd", "shrinkage"]
    assert m.equals(g[m.columns])


def test_many_groups_converge_and_recover_the_population():
    """10^6 groups (|log lik| ~ 10^8): the grid converges at its coarsest spacing, no warning.

    Without a centred likelihood its rounding (~1e-8 per point) kept the grid
    from reaching 1e-10, and the hyper moments' scaling amplified it further.
    """
    rng = np.random.default_rng(11)
    n = rng.integers(1, 1001, 10**6)
    y = rng.binomial(n, rng.beta(2.0, 10.0, n.size))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = hb.BetaBinomial().fit(successes=y, trials=n)
        h = fit.hyper
    assert fit.error <= 1e-10 and fit.points.grid.size < 2000
    assert h.loc["alpha", "q2.5"] < 2.0 < h.loc["alpha", "q97.5"]
    assert h.loc["beta", "q2.5"] < 10.0 < h.loc["beta", "q97.5"]
    m = fit.moments
    assert len(m) == 10**6 and m.index.equals(pd.RangeIndex(10**6, name="group"))
    # per-pair numbers mapped back: equal pairs, equal rows
    first = m.groupby(["successes", "trials"]).nunique()
    assert (first[["mean", "sd", "shrinkage"]] == 1).all().all()


@pytest.mark.parametrize(("successes", "trials", "why"), [
    ([0, 0, 0, 0], [10, 12, 8, 9], "every group has 0 successes"),  # was alpha = 2.8e-22
    ([10, 12, 8, 9], [10, 12, 8, 9], "successes = trials, so"),
    ([0, 1, 1, 0, 1], [1] * 5, "depends on mu alone"),  # was kappa 3.2, not identified
    ([0, 12, 0, 9], [10, 12, 8, 9], "kappa = alpha\\+beta → 0"),
    ([0, 1, 0, 0], [0, 1, 1, 0], "depends on mu alone"),  # groups without trials aside
])
def test_empirical_bayes_at_the_boundary_is_refused_with_the_reason(successes, trials, why):
    # issue 16: no group with 0 < successes < trials means no interior maximum; the
    # optimiser stopped on the edge and the point was reported without a warning
    with pytest.raises(hb.DataError, match=f"Empirical Bayes has no estimate .*{why}"):
        hb.BetaBinomial(method="eb").fit(successes=successes, trials=trials)
    # one group inside (0, n) is enough for a maximum
    fit = hb.BetaBinomial(method="eb").fit(successes=[*successes, 3], trials=[*trials, 10])
    assert np.isfinite(fit.hyper["mean"]).all()
