"""hb.meta_analysis: an independent brute-force oracle, published numbers, invariants, errors.

The oracle integrates the joint posterior of (mu, tau) directly with
scipy.integrate.quad (mu inside, tau outside), from the model's formulas alone:

    p(mu, tau | y) ∝ N(mu; 0, 4²) · HN(tau; 0.5) · Π_j N(y_j; mu, v_j + tau²)

and nothing from hierbayes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, special, stats

import hierbayes as hb
from hierbayes.errors import DataError, ImproperPosteriorError, PriorError
from hierbayes.validate import ArgumentError

# Crins et al. (2014), acute rejection, log odds ratios and their variances as in R bayesmeta
# `CrinsEtAl2014` with metafor's escalc(measure="OR", ai=exp.AR.events, n1i=exp.total,
# ci=cont.AR.events, n2i=cont.total) (0.5 added to the one table with a zero cell);
# ../shared/data/crins2014_il2ra.csv.
CRINS = pd.DataFrame(
    {
        "publication": ["Heffron (2003)", "Gibelli (2004)", "Schuller (2005)",
                        "Ganschow (2005)", "Spada (2006)", "Gras (2008)"],
        "yi": [-2.309702561, -0.4595323294, -2.302585093, -1.757857918, -1.25846099,
               -2.41789594],
        "vi": [0.3593718338, 0.3095760234, 0.775, 0.207816092, 0.4121590909, 2.337262298],
    }
)  # fmt: skip
PRIOR = {"mu": stats.norm(0.0, 4.0), "tau": stats.halfnorm(scale=0.5)}  # Röver (2020), §3

# BCG vaccine trials (Colditz et al. 1994; R metadat `dat.bcg`), log risk ratios and variances
# from metafor's escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg).
BCG = pd.DataFrame(
    {
        "yi": [-0.8893113339, -1.585388657, -1.348073148, -1.44155119, -0.2175473222,
               -0.7861155858, -1.620898224, 0.01195233352, -0.4694176487, -1.371344803,
               -0.3393588283, 0.4459134006, -0.01731394822],
        "vi": [0.325584765, 0.1945811214, 0.4153679654, 0.0200100319, 0.05121017217,
               0.006905618456, 0.2230172476, 0.003961579298, 0.05643421046, 0.07302479361,
               0.01241221397, 0.5325058452, 0.07140465968],
    }
)  # fmt: skip


# ---- the oracle: scipy.integrate.quad over (mu, tau), written from the formulas ----------
class Oracle:
    TAU_MAX = 8.0  # P(tau > 8) under HN(0.5) is about 1e-57
    MU = (-25.0, 22.0)

    def __init__(self, y: np.ndarray, v: np.ndarray) -> None:
        self.y, self.v = y, v
        self.shift = 0.0
        self.shift = self.log_joint(-1.57, 0.34)  # keeps exp() in range; cancels in ratios
        self.z = self.double(lambda mu, tau: 1.0)

    def log_joint(self, mu: float, tau: float) -> float:
        s2 = self.v + tau * tau
        ll = -0.5 * np.sum(np.log(2 * np.pi * s2) + (self.y - mu) ** 2 / s2)
        lp = -0.5 * math.log(2 * math.pi * 16.0) - mu * mu / 32.0
        lt = 0.5 * math.log(2.0 / math.pi) - math.log(0.5) - tau * tau / (2 * 0.25)
        return float(ll + lp + lt) - self.shift

    def double(self, g, mu_hi: float | None = None, tau_hi: float | None = None,
               tol: float = 1e-15) -> float:
        """∫∫ g(mu, tau) exp(log_joint) over mu < mu_hi, 0 < tau < tau_hi."""
        hi = self.MU[1] if mu_hi is None else mu_hi

        def inner(tau: float) -> float:
            f = lambda mu: g(mu, tau) * math.exp(self.log_joint(mu, tau))  # noqa: E731
            pts = [p for p in (-1.6,) if self.MU[0] < p < hi]
            return integrate.quad(f, self.MU[0], hi, points=pts or None, epsabs=tol,
                                  epsrel=100 * tol, limit=400)[0]

        top = self.TAU_MAX if tau_hi is None else tau_hi
        return integrate.quad(inner, 0.0, top, points=[p for p in (0.3, 1.0) if p < top] or None,
                              epsabs=tol, epsrel=100 * tol, limit=400)[0]

    def mean(self, g, tol: float = 1e-15) -> float:
        return self.double(g, tol=tol) / self.z

    def quantile(self, cdf, p: float, guess: float, width: float = 2e-3) -> float:
        return optimize.brentq(lambda x: cdf(x) - p, guess - width, guess + width, xtol=1e-12)

    def cdf_mu(self, x: float) -> float:
        return self.double(lambda mu, tau: 1.0, mu_hi=x, tol=1e-13) / self.z

    def cdf_tau(self, t: float) -> float:
        return self.double(lambda mu, tau: 1.0, tau_hi=t, tol=1e-13) / self.z

    def cdf_new(self, x: float) -> float:
        return self.mean(lambda mu, tau: special.ndtr((x - mu) / tau), tol=1e-13)


def typical_variance(v: np.ndarray) -> float:
    w = 1 / v
    return (w.size - 1) * w.sum() / (w.sum() ** 2 - np.sum(w**2))  # Higgins & Thompson eq. 9


@pytest.fixture(scope="module")
def crins():
    return hb.meta_analysis(CRINS, estimate="yi", sampling_variance="vi", study="publication",
                            prior={"mu": "norm:0,4", "tau": "halfnorm:0.5"})


@pytest.fixture(scope="module")
def oracle():
    return Oracle(CRINS["yi"].to_numpy(), CRINS["vi"].to_numpy())


def test_means_match_brute_force_quadrature(crins, oracle):
    s, s2 = crins.summary, typical_variance(CRINS["vi"].to_numpy())
    assert s.loc["mu", "mean"] == pytest.approx(oracle.mean(lambda m, t: m), abs=1e-8)
    assert s.loc["tau", "mean"] == pytest.approx(oracle.mean(lambda m, t: t), abs=1e-8)
    assert s.loc["I2", "mean"] == pytest.approx(
        oracle.mean(lambda m, t: t * t / (t * t + s2)), abs=1e-8)
    assert s.loc["theta_new", "mean"] == pytest.approx(s.loc["mu", "mean"], abs=1e-12)
    sd_new = math.sqrt(oracle.mean(lambda m, t: m * m + t * t) - s.loc["mu", "mean"] ** 2)
    assert s.loc["theta_new", "sd"] == pytest.approx(sd_new, abs=1e-8)
    # a shrinkage estimate: E[theta_1] = E[(y_1/v_1 + mu/tau²) / (1/v_1 + 1/tau²)]
    y1, v1 = CRINS["yi"][0], CRINS["vi"][0]
    e1 = oracle.mean(lambda m, t: (y1 * t * t + m * v1) / (t * t + v1))
    assert crins.studies["mean"].iloc[0] == pytest.approx(e1, abs=1e-8)


def test_quantiles_match_brute_force_quadrature(crins, oracle):
    s, s2 = crins.summary, typical_variance(CRINS["vi"].to_numpy())
    for col, p in (("lower", 0.025), ("median", 0.5), ("upper", 0.975)):
        q_tau = oracle.quantile(oracle.cdf_tau, p, s.loc["tau", col])
        assert s.loc["tau", col] == pytest.approx(q_tau, abs=1e-7)
        assert s.loc["I2", col] == pytest.approx(q_tau**2 / (q_tau**2 + s2), abs=1e-7)
        assert s.loc["mu", col] == pytest.approx(
            oracle.quantile(oracle.cdf_mu, p, s.loc["mu", col]), abs=1e-7)
    for col, p in (("lower", 0.025), ("upper", 0.975)):
        assert s.loc["theta_new", col] == pytest.approx(
            oracle.quantile(oracle.cdf_new, p, s.loc["theta_new", col]), abs=1e-7)


def test_shortest_intervals_have_the_mass_and_equal_end_densities(crins, oracle):
    s = crins.summary
    lo, hi = s.loc["mu", ["hpd_lower", "hpd_upper"]]
    assert oracle.cdf_mu(hi) - oracle.cdf_mu(lo) == pytest.approx(0.95, abs=1e-7)

    def dens_mu(x):
        return integrate.quad(lambda t: math.exp(oracle.log_joint(x, t)), 0, 8, points=[0.3],
                              epsabs=1e-15, epsrel=1e-12)[0]

    assert dens_mu(lo) == pytest.approx(dens_mu(hi), rel=1e-5)
    assert (hi - lo) < s.loc["mu", "upper"] - s.loc["mu", "lower"]
    lo, hi = s.loc["theta_new", ["hpd_lower", "hpd_upper"]]  # the prediction interval
    assert oracle.cdf_new(hi) - oracle.cdf_new(lo) == pytest.approx(0.95, abs=1e-7)
    assert (hi - lo) < s.loc["theta_new", "upper"] - s.loc["theta_new", "lower"]
    # tau's posterior density here is highest near 0 relative to its upper end: [0, q]
    lo, hi = s.loc["tau", ["hpd_lower", "hpd_upper"]]
    assert lo == 0.0
    assert oracle.cdf_tau(hi) == pytest.approx(0.95, abs=1e-7)
    assert s.loc["I2", "hpd_lower"] == 0.0 and s.loc["H2", "hpd_lower"] == 1.0


def test_tail_probability_and_bayes_factors_match_the_oracle(crins, oracle):
    assert crins.prob_mu_greater(0.0) == pytest.approx(1 - oracle.cdf_mu(0.0), abs=1e-10)
    log_py = math.log(oracle.z) + oracle.shift
    assert crins.log_evidence() == pytest.approx(log_py, abs=1e-8)
    # H0: tau = 0 (mu still ~ N(0, 4²)); H0: mu = 0 (tau still ~ HN(0.5))
    p_tau0 = integrate.quad(lambda m: math.exp(oracle.log_joint(m, 0.0) - 0.5 * math.log(
        2 / math.pi) + math.log(0.5)), -25, 22, points=[-1.6], epsabs=1e-15, epsrel=1e-13)[0]
    p_mu0 = integrate.quad(lambda t: math.exp(oracle.log_joint(0.0, t) + 0.5 * math.log(
        2 * math.pi * 16.0)), 0, 8, points=[0.3], epsabs=1e-15, epsrel=1e-13)[0]
    bf = crins.bayes_factors()
    assert bf.loc["tau = 0", "log_bf01"] == pytest.approx(
        math.log(p_tau0) + oracle.shift - log_py, abs=1e-8)
    assert bf.loc["mu = 0", "log_bf01"] == pytest.approx(
        math.log(p_mu0) + oracle.shift - log_py, abs=1e-8)
    assert bf.loc["mu = 0", "bf10"] == pytest.approx(1 / bf.loc["mu = 0", "bf01"])


def test_crins_against_published_bayesmeta_numbers(crins):
    # Röver (2020), J Stat Softw 93(6), §3.2-3.3: ma01 <- bayesmeta(crins.es, mu.prior.mean = 0,
    # mu.prior.sd = 4, tau.prior = function(t) dhalfnormal(t, scale = 0.5)); ma01$summary
    # (shortest 95% intervals), and ma01$theta for the first study. bayesmeta integrates tau
    # numerically (our values agree to 1e-7) but represents mu | y by a discrete mixture
    # (DIRECT algorithm, delta = 0.01; Röver & Friede 2017), so its mu and theta numbers differ
    # from the exact ones by about 1e-5 (mean, median) to 2e-3 (interval ends); ours agree with
    # the brute-force quadrature above to 1e-8.
    s, st = crins.summary, crins.studies
    assert s.loc["tau", "median"] == pytest.approx(0.3445023, abs=2e-7)
    assert s.loc["tau", "mean"] == pytest.approx(0.3810562, abs=2e-7)
    assert s.loc["tau", "sd"] == pytest.approx(0.2593672, abs=2e-7)
    assert s.loc["tau", "hpd_lower"] == 0.0
    assert s.loc["tau", "hpd_upper"] == pytest.approx(0.8607193, abs=2e-7)
    # the approximated ones (published; our exact value; difference)
    assert s.loc["mu", "median"] == pytest.approx(-1.5734819, abs=2e-5)  # -1.5734953: 1.3e-5
    assert s.loc["mu", "mean"] == pytest.approx(-1.5764365, abs=2e-5)  # -1.5764254: 1.1e-5
    assert s.loc["mu", "sd"] == pytest.approx(0.3295301, abs=3e-4)  # 0.3293682: 1.6e-4
    assert s.loc["mu", "hpd_lower"] == pytest.approx(-2.2311251, abs=1e-3)  # -2.2307381: 3.9e-4
    assert s.loc["mu", "hpd_upper"] == pytest.approx(-0.9263075, abs=1e-3)  # -0.9266325: 3.3e-4
    assert s.loc["theta_new", "sd"] == pytest.approx(0.5671855, abs=1e-3)  # 0.5665321: 6.5e-4
    assert s.loc["theta_new", "hpd_lower"] == pytest.approx(-2.7661319, abs=3e-3)  # 1.7e-3
    assert s.loc["theta_new", "hpd_upper"] == pytest.approx(-0.4072970, abs=3e-3)  # 1.6e-3
    assert st["mean"].iloc[0] == pytest.approx(-1.7778965, abs=5e-4)  # -1.7780998: 2.0e-4
    assert st["sd"].iloc[0] == pytest.approx(0.4229425, abs=5e-4)  # 0.4227365: 2.1e-4


EIGHT = pd.DataFrame({"school": list("ABCDEFGH"),  # Rubin (1981), as R bayesmeta `Rubin1981`
                      "effect": [28.39, 7.94, -2.75, 6.82, -0.64, 0.63, 18.01, 12.16],
                      "stderr": [14.9, 10.2, 16.3, 11.0, 9.4, 11.4, 10.4, 17.6]})


def test_eight_schools_against_the_bayesmeta_vignette_and_quadrature():
    # bayesmeta 3.4 vignette (inst/doc/bayesmeta.html): schools.example.1 <- bayesmeta(y, sigma,
    # mu.prior.mean = 0, mu.prior.sd = 50, tau.prior = function(t) dhalfcauchy(t, scale = 25));
    # $summary, 1 - $pposterior(mu = 0), $post.interval(tau.level = 0.95, method = "central").
    ma = hb.meta_analysis(EIGHT, estimate="effect", std_error="stderr", study="school",
                          prior={"mu": stats.norm(0, 50), "tau": stats.halfcauchy(scale=25)})
    s = ma.summary
    for col, published in (("median", 4.758539), ("mean", 5.884511), ("sd", 4.869904),
                           ("hpd_upper", 15.165894), ("lower", 0.2199559),
                           ("upper", 18.0531718)):
        assert s.loc["tau", col] == pytest.approx(published, abs=2e-6)  # tau: integrated
    # mu and theta: bayesmeta's mixture approximation; published, exact (difference)
    assert s.loc["mu", "mean"] == pytest.approx(7.985729, abs=1e-3)  # 7.986042 (3.1e-4)
    assert s.loc["mu", "median"] == pytest.approx(7.962961, abs=1e-3)  # 7.963499 (5.4e-4)
    assert s.loc["mu", "sd"] == pytest.approx(4.995762, abs=1e-3)  # 4.995598 (1.6e-4)
    assert s.loc["mu", "hpd_lower"] == pytest.approx(-1.823353, abs=5e-3)  # -1.820747 (2.6e-3)
    assert s.loc["mu", "hpd_upper"] == pytest.approx(17.824562, abs=5e-3)  # 17.822179 (2.4e-3)
    assert s.loc["theta_new", "sd"] == pytest.approx(9.126767, abs=1e-3)  # 9.126852 (8.5e-5)
    assert s.loc["theta_new", "hpd_lower"] == pytest.approx(-10.623526, abs=5e-2)  # 2.3e-2
    assert s.loc["theta_new", "hpd_upper"] == pytest.approx(26.827377, abs=5e-2)  # 2.4e-2
    assert ma.prob_mu_greater(0.0) == pytest.approx(0.9487521, abs=5e-5)  # 0.9487691 (1.7e-5)
    # ... while the exact values agree with scipy quadrature over (mu, tau) to 1e-8
    y, se = EIGHT["effect"].to_numpy(), EIGHT["stderr"].to_numpy()

    def log_joint(m, t):
        v = se * se + t * t
        prior = (-0.5 * math.log(2 * math.pi * 2500.0) - m * m / 5000.0  # N(0, 50²)
                 + math.log(2 / (math.pi * 25.0)) - math.log1p((t / 25.0) ** 2))  # HC(25)
        return -0.5 * float(np.sum(np.log(v) + (y - m) ** 2 / v)) + prior - LOG_AT_8_5

    def double(g):
        def inner(t):
            return integrate.quad(lambda m: g(m, t) * math.exp(log_joint(m, t)), -150, 170,
                                  points=[8.0], epsabs=1e-13, epsrel=1e-11, limit=200)[0]
        # the tail of tau is ~ tau^-10 here: P(tau > 3000) < 1e-25
        return integrate.quad(inner, 0, 3000, points=[5.0, 30.0, 200.0], epsabs=1e-13,
                              epsrel=1e-11, limit=200)[0]

    z = double(lambda m, t: 1.0)
    mean = double(lambda m, t: m) / z
    second = double(lambda m, t: m * m) / z
    assert s.loc["mu", "mean"] == pytest.approx(mean, abs=1e-8)
    assert s.loc["mu", "sd"] == pytest.approx(math.sqrt(second - mean**2), abs=1e-8)
    assert s.loc["theta_new", "sd"] == pytest.approx(
        math.sqrt(second + double(lambda m, t: t * t) / z - mean**2), abs=1e-8)


LOG_AT_8_5 = -47.0  # about log_joint(8, 5) of the eight schools: keeps exp() in range


def test_weights_are_bayesmeta_posterior_mean_weights(crins):
    st = crins.studies
    assert st["weight"].sum() + crins.prior_weight == pytest.approx(1.0, abs=1e-13)
    # E[mu | y] = Σ w_j y_j + w_0 · m_0 (m_0 = 0), exactly
    assert float(st["weight"] @ st["estimate"]) == pytest.approx(
        crins.summary.loc["mu", "mean"], abs=1e-12)
    assert list(st.index) == list(CRINS["publication"])
    assert (st["lower"] < st["mean"]).all() and (st["mean"] < st["upper"]).all()


def test_bcg_classical_companions_published_metafor_values():
    # metafor: rma(yi, vi, data=dat.bcg): tau² (REML) 0.3132, Q(df = 12) = 152.2330;
    # method="DL": tau² 0.3088; method="EE": -0.4303.
    ma = hb.meta_analysis(BCG, sampling_variance="vi", prior={"tau": "halfnorm:1"})
    c = ma.classical_table["value"]
    assert round(c["Q"], 4) == 152.2330 and c["Q_df"] == 12
    assert round(c["tau2_REML"], 4) == 0.3132
    assert round(c["tau2_DL"], 4) == 0.3088
    assert round(c["mu_equal_effects"], 4) == -0.4303


def test_std_error_and_sampling_variance_agree_and_row_order_does_not_matter(crins):
    se = CRINS.assign(sei=np.sqrt(CRINS["vi"]))
    by_se = hb.meta_analysis(se.iloc[::-1], std_error="sei", study="publication",
                             prior={"mu": "norm:0,4", "tau": "halfnorm:0.5"})
    pd.testing.assert_frame_equal(by_se.summary, crins.summary, atol=1e-10, rtol=0)
    pd.testing.assert_frame_equal(by_se.studies.loc[crins.studies.index], crins.studies,
                                  atol=1e-10, rtol=0)


def test_flat_prior_bayes_factors_refused_and_moments_honest():
    ma = hb.meta_analysis(CRINS, prior=None)  # p(mu, tau) ∝ 1, J = 6: tail of tau ~ tau^-5
    moments = ma.summary[["mean", "sd"]]
    assert moments.loc["H2", "sd"] == math.inf  # needs E[tau⁴] = ∫ tau⁴ tau^-5 dtau = ∞
    assert np.isfinite(moments.drop(index="H2").to_numpy()).all()
    with pytest.raises(PriorError, match="proper priors"):
        ma.bayes_factors()
    with pytest.raises(PriorError):
        ma.log_evidence()
    three = hb.meta_analysis(CRINS.iloc[:3])  # J = 3 under p(mu, tau) ∝ 1: E[tau] is infinite
    assert three.summary.loc["tau", "mean"] == math.inf
    assert np.isfinite(three.summary.loc["tau", "median"])


@pytest.mark.parametrize(
    ("frame", "kwargs", "error", "match"),
    [
        (CRINS.assign(vi=[0.3, 0.0, 0.7, 0.2, 0.4, 2.3]), {}, DataError, "vi"),
        (CRINS.assign(vi=[0.3, -0.1, 0.7, 0.2, 0.4, 2.3]), {}, DataError, "-0.1"),
        (CRINS.iloc[:1], {"prior": {"tau": "halfnorm:0.5"}}, DataError, "at least 2 studies"),
        (CRINS.iloc[:2], {}, ImproperPosteriorError, "2 studies"),
        (CRINS.iloc[:2], {"prior": {"tau": None}}, ImproperPosteriorError, "proper prior"),
        (CRINS, {"std_error": "vi", "sampling_variance": "vi"}, ArgumentError, "not both"),
        (CRINS.drop(columns="vi"), {}, ArgumentError, "sampling variances"),
        (CRINS, {"prior": {"sigma": "halfnorm:1"}}, ArgumentError, "keys"),
        (CRINS, {"prior": {"mu": stats.t(3)}}, PriorError, "Normal prior on mu"),
        (CRINS, {"prior": {"tau": "halfnorm:-1"}}, PriorError, "positive"),
        (CRINS, {"prior": {"mu": "norm:0"}}, PriorError, "norm:mean,sd"),
        (CRINS, {"prior": {"tau": hb.meta.JeffreysTauPrior(np.sqrt(CRINS["vi"]))}}, PriorError,
         "improper JeffreysTauPrior"),
        (CRINS, {"study": "yi", "estimate": "vi", "sampling_variance": "vi"}, None, None),
    ],
)
def test_bad_input_is_a_clear_error(frame, kwargs, error, match):
    if error is None:  # the last case is legal (labels from a numeric column)
        hb.meta_analysis(frame, **kwargs)
        return
    with pytest.raises(error, match=match):
        hb.meta_analysis(frame, **kwargs)


def test_two_studies_with_a_proper_tau_prior_fit():
    ma = hb.meta_analysis(CRINS.iloc[:2], prior={"tau": "halfnorm:0.5"})
    assert np.isfinite(ma.summary.to_numpy()).all()


def test_repeated_study_labels_refused():
    with pytest.raises(DataError, match="unique"):
        hb.meta_analysis(CRINS.assign(publication="x"), study="publication")


def test_tiny_heterogeneity_gives_the_conjugate_common_effect():
    # tau ~ HN(1e-9): the common-effect model, mu | y ~ N(m, V) with the N(0, 4²) prior,
    # V = 1 / (Σ 1/v_j + 1/16), m = V Σ y_j/v_j; theta_new then has mu's distribution
    y, v = CRINS["yi"].to_numpy(), CRINS["vi"].to_numpy()
    ma = hb.meta_analysis(CRINS, prior={"mu": "norm:0,4", "tau": stats.halfnorm(scale=1e-9)})
    var = 1 / (np.sum(1 / v) + 1 / 16)
    mean = var * np.sum(y / v)
    s = ma.summary
    assert s.loc["mu", "mean"] == pytest.approx(mean, abs=1e-8)
    assert s.loc["mu", "sd"] == pytest.approx(math.sqrt(var), abs=1e-8)
    z = stats.norm.isf(0.025)
    assert s.loc["mu", "upper"] == pytest.approx(mean + z * math.sqrt(var), abs=1e-7)
    assert s.loc["mu", "hpd_lower"] == pytest.approx(mean - z * math.sqrt(var), abs=1e-6)
    assert s.loc["theta_new", "sd"] == pytest.approx(math.sqrt(var), abs=1e-7)
    np.testing.assert_allclose(ma.studies["weight"], (1 / v) * var, atol=1e-9)
    assert ma.prior_weight == pytest.approx(var / 16, abs=1e-9)


@pytest.mark.parametrize("prob", [0.8, 0.9, 0.99])
def test_interval_mass_follows_prob_and_the_tail_function(prob):
    ma = hb.meta_analysis(CRINS, prior={"mu": "norm:0,4", "tau": "halfnorm:0.5"}, prob=prob)
    s, tail = ma.summary, (1 - prob) / 2
    lo, hi = s.loc["mu", ["lower", "upper"]]
    assert ma.prob_mu_greater(lo) == pytest.approx(1 - tail, abs=1e-10)
    assert ma.prob_mu_greater(hi) == pytest.approx(tail, abs=1e-10)
    h_lo, h_hi = s.loc["mu", ["hpd_lower", "hpd_upper"]]
    assert ma.prob_mu_greater(h_lo) - ma.prob_mu_greater(h_hi) == pytest.approx(prob, abs=1e-8)
    assert h_hi - h_lo <= hi - lo
    st = ma.studies
    assert ((st["lower"] < st["mean"]) & (st["mean"] < st["upper"])).all()


def test_tau_density_is_normalised_and_matches_the_oracle(crins, oracle):
    total = integrate.quad(lambda t: float(crins.tau_pdf(t)[0]), 0, 8, points=[0.3, 1.0],
                           epsabs=1e-13, epsrel=1e-12, limit=200)[0]
    assert total == pytest.approx(1.0, abs=1e-9)
    for tau in (0.05, 0.34, 1.2):
        inner = integrate.quad(lambda m, t=tau: math.exp(oracle.log_joint(m, t)), -25, 22,
                               points=[-1.6], epsabs=1e-15, epsrel=1e-13)[0]
        assert crins.tau_pdf(tau)[0] == pytest.approx(inner / oracle.z, rel=1e-8)
    assert crins.tau_pdf(-1.0)[0] == 0.0


@pytest.mark.parametrize("text, make", [
    ("uniform-shrinkage", lambda se: hb.meta.uniform_shrinkage_prior(se)),
    ("uniform-i2", lambda se: hb.meta.uniform_i2_prior(se)),
    ("turner", lambda se: hb.meta.turner2015()),
    ("turner:all-cause-mortality,pharma-vs-placebo",
     lambda se: hb.meta.turner2015("all-cause-mortality", "pharma-vs-placebo")),
    ("rhodes", lambda se: hb.meta.rhodes2015()),
])
def test_tau_priors_named_by_their_source_equal_the_objects(text, make):
    bcg = hb.datasets.load("bcg")
    se = bcg["std_error"].to_numpy()
    by_name = hb.meta_analysis(bcg, estimate="estimate", std_error="std_error",
                               prior={"tau": text}).summary
    by_object = hb.meta_analysis(bcg, estimate="estimate", std_error="std_error",
                                 prior={"tau": make(se)}).summary
    pd.testing.assert_frame_equal(by_name, by_object, rtol=0, atol=0)


def test_named_tau_priors_refuse_wrong_settings():
    bcg = hb.datasets.load("bcg")
    for text, needle in [("uniform-i2:3", "takes no parameters"),
                         ("turner:bogus", "`outcome` must be one of"),
                         ("turner:a,b,c", "at most 2 settings")]:
        with pytest.raises(hb.HierBayesError, match=needle):
            hb.meta_analysis(bcg, estimate="estimate", std_error="std_error",
                             prior={"tau": text})
