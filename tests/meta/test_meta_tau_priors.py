"""Heterogeneity priors: scipy oracles, quadrature, the defining identities, published tables."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import roots_hermitenorm

from hierbayes.errors import DataError, PriorError
from hierbayes.meta import (
    TAU_PRIOR_FORMS,
    JeffreysTauPrior,
    half_t,
    log_t,
    parse_tau_prior,
    rhodes2015,
    turner2015,
    uniform_i2_prior,
    uniform_shrinkage_prior,
)
from hierbayes.meta._prior_tables import (
    RHODES2015_COMPARISONS,
    RHODES2015_EXCLUDED,
    RHODES2015_OUTCOMES,
    TURNER2015,
    TURNER2015_COMPARISONS,
    TURNER2015_OUTCOMES,
)

# BCG trials (Colditz et al. 1994): standard errors sqrt(vi) of the log risk ratios.
BCG_SE = np.sqrt([0.325584765, 0.1945811214, 0.4153679654, 0.0200100319, 0.05121017217,
                  0.006905618456, 0.2230172476, 0.003961579298, 0.05643421046, 0.07302479361,
                  0.01241221397, 0.5325058452, 0.07140465968])  # fmt: skip
TAUS = np.array([1e-4, 0.01, 0.1, 0.37, 1.0, 2.5, 10.0, 300.0])


def total_mass(dist) -> float:
    """Integral of the density over (0, inf), on the log scale (heavy tails, mass near 0)."""
    mass, _ = integrate.quad(lambda u: dist.pdf(np.exp(u)) * np.exp(u), -60, 60, limit=400,
                             points=[np.log(dist.median())])  # fmt: skip
    return mass


# --- the text form ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "oracle"),
    [
        ("halfnorm:0.5", stats.halfnorm(scale=0.5)),
        ("halfcauchy:5", stats.halfcauchy(scale=5)),
        (" HalfCauchy : 1 ", stats.halfcauchy(scale=1)),
        ("exp:2", stats.expon(scale=2)),
        ("lnorm:-1.3,0.8", stats.lognorm(s=0.8, scale=np.exp(-1.3))),
        ("halft:1,2", stats.halfcauchy(scale=2)),  # half-t with 1 df is half-Cauchy
    ],
)
def test_parsed_priors_match_scipy(spec, oracle):
    prior = parse_tau_prior(spec)
    np.testing.assert_allclose(prior.pdf(TAUS), oracle.pdf(TAUS), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(prior.cdf(TAUS), oracle.cdf(TAUS), rtol=1e-12)
    np.testing.assert_allclose(prior.ppf([0.1, 0.5, 0.9]), oracle.ppf([0.1, 0.5, 0.9]), rtol=1e-9)
    assert total_mass(prior) == pytest.approx(1.0, abs=1e-7)


def test_exp_takes_a_scale_not_a_rate():
    assert parse_tau_prior("exp:4").mean() == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("spec", "pattern"),
    [
        ("halfnormal:1", r"A tau prior must be one of 'halfnorm:scale'.*got 'halfnormal:1'"),
        ("halfnorm", r"must be one of"),
        ("halft:3", r"'halft' takes 2 parameter\(s\) \(df, scale\)"),
        ("halfnorm:-1", r"`scale` of tau prior 'halfnorm' must be positive and finite; got '-1'"),
        ("lnorm:x,1", r"`meanlog` of tau prior 'lnorm' must be a number; got 'x'"),
        ("lnorm:0,0", r"`sdlog` .* must be positive"),
        ("exp:inf", r"`scale` .* must be positive and finite"),
    ],
)
def test_parse_errors(spec, pattern):
    with pytest.raises(PriorError, match=pattern):
        parse_tau_prior(spec)


def test_forms_are_documented():
    assert set(TAU_PRIOR_FORMS) == {"halfnorm", "halfcauchy", "halft", "exp", "lnorm"}


# --- half-t and log-t ------------------------------------------------------------------------


@pytest.mark.parametrize(("df", "scale"), [(1.0, 1.0), (3.0, 0.5), (7.5, 2.0), (200.0, 1.0)])
def test_half_t_against_student_t(df, scale):
    prior = half_t(df, scale=scale)
    t = stats.t(df, scale=scale)
    np.testing.assert_allclose(prior.pdf(TAUS), 2 * t.pdf(TAUS), rtol=1e-12)
    np.testing.assert_allclose(prior.cdf(TAUS), 2 * t.cdf(TAUS) - 1, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(prior.sf(TAUS), 2 * t.sf(TAUS), rtol=1e-9)
    q = np.array([1e-9, 0.3, 0.5, 0.99, 1 - 1e-9])
    np.testing.assert_allclose(prior.cdf(prior.ppf(q)), q, rtol=1e-9)
    np.testing.assert_allclose(prior.sf(prior.isf(q)), q, rtol=1e-9)
    assert total_mass(prior) == pytest.approx(1.0, abs=1e-7)
    if df > 1:
        mean, _ = integrate.quad(lambda x: x * prior.pdf(x), 0, np.inf)
        assert prior.mean() == pytest.approx(mean, rel=1e-7)


def test_half_t_tends_to_half_normal():
    x = TAUS[TAUS < 3]  # far tails differ by a factor of about exp(x⁴ / (4 df))
    np.testing.assert_allclose(half_t(1e9, scale=0.7).pdf(x), stats.halfnorm(scale=0.7).pdf(x),
                               rtol=1e-6)  # fmt: skip


def test_log_t_is_exp_of_student_t():
    m, sigma = -1.72, 1.295
    prior = log_t(5, sigma, scale=np.exp(m))
    t = stats.t(5, loc=m, scale=sigma)
    np.testing.assert_allclose(prior.cdf(TAUS), t.cdf(np.log(TAUS)), rtol=1e-12)
    np.testing.assert_allclose(prior.pdf(TAUS), t.pdf(np.log(TAUS)) / TAUS, rtol=1e-12)
    np.testing.assert_allclose(np.log(prior.ppf([0.05, 0.5, 0.95])), t.ppf([0.05, 0.5, 0.95]))
    assert total_mass(prior) == pytest.approx(1.0, abs=1e-7)
    draws = np.log(prior.rvs(size=4000, random_state=np.random.default_rng(11)))
    assert stats.kstest(draws, t.cdf).pvalue > 0.01
    assert prior.mean() == np.inf


# --- priors that depend on the standard errors -----------------------------------------------


def test_uniform_shrinkage_prior():
    prior = uniform_shrinkage_prior(BCG_SE)
    s02 = BCG_SE.size / np.sum(1 / BCG_SE**2)  # harmonic mean of the squared standard errors
    closed = 2 * s02 * TAUS / (s02 + TAUS**2) ** 2
    np.testing.assert_allclose(prior.pdf(TAUS), closed, rtol=1e-12)
    assert total_mass(prior) == pytest.approx(1.0, abs=1e-8)
    # The implied shrinkage S = s0²/(s0² + tau²) is uniform: P(S <= u) = P(tau >= t_u) = u.
    u = np.linspace(0.01, 0.99, 25)
    np.testing.assert_allclose(prior.sf(np.sqrt(s02 * (1 / u - 1))), u, rtol=1e-12)
    draws = prior.rvs(size=4000, random_state=np.random.default_rng(7))
    assert stats.kstest(s02 / (s02 + draws**2), "uniform").pvalue > 0.01


def test_uniform_i2_prior():
    prior = uniform_i2_prior(BCG_SE)
    w = 1 / BCG_SE**2
    s2 = (w.size - 1) * w.sum() / (w.sum() ** 2 - np.sum(w**2))  # Higgins & Thompson (2002)
    np.testing.assert_allclose(prior.pdf(TAUS), 2 * s2 * TAUS / (s2 + TAUS**2) ** 2, rtol=1e-12)
    assert total_mass(prior) == pytest.approx(1.0, abs=1e-8)
    # The implied I² = tau²/(tau² + s²) is uniform: P(I² <= u) = P(tau <= t_u) = u.
    u = np.linspace(0.01, 0.99, 25)
    np.testing.assert_allclose(prior.cdf(np.sqrt(s2 * u / (1 - u))), u, rtol=1e-12)
    draws = prior.rvs(size=4000, random_state=np.random.default_rng(8))
    assert stats.kstest(draws**2 / (draws**2 + s2), "uniform").pvalue > 0.01


def test_equal_standard_errors_make_the_two_priors_equal():
    a, b = uniform_shrinkage_prior([0.3] * 4), uniform_i2_prior([0.3] * 4)
    np.testing.assert_allclose(a.pdf(TAUS), b.pdf(TAUS), rtol=1e-12)
    assert a.median() == pytest.approx(0.3)


def test_standard_error_errors():
    with pytest.raises(DataError, match="at least 2"):
        uniform_i2_prior([0.3])
    with pytest.raises(DataError, match=r"positive and finite.*1: 0\.0"):
        uniform_shrinkage_prior([0.3, 0.0])
    with pytest.raises(DataError, match=r"2: nan"):
        JeffreysTauPrior([0.3, 0.2, np.nan])


def _fisher_information_tau(tau, s):
    """E[(d/dtau log N(y; 0, s² + tau²))²] by Gauss–Hermite quadrature, summed over studies."""
    z, wts = roots_hermitenorm(40)
    wts = wts / wts.sum()
    total = 0.0
    for sj in s:
        var = sj**2 + tau**2
        y = z * np.sqrt(var)
        score = tau * (y**2 / var - 1) / var  # d/dtau of -0.5 log(var) - y²/(2 var)
        total += np.sum(wts * score**2)
    return total


def test_jeffreys_prior_is_root_fisher_information():
    prior = JeffreysTauPrior(BCG_SE)
    assert prior.proper is False
    info = np.array([_fisher_information_tau(t, BCG_SE) for t in TAUS])
    ratio = prior.pdf(TAUS) / np.sqrt(info)
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-10)  # proportional to sqrt(I(tau))
    expected = np.sqrt(np.sum((TAUS[:, None] / (BCG_SE**2 + TAUS[:, None] ** 2)) ** 2, axis=1))
    np.testing.assert_allclose(prior.pdf(TAUS), expected, rtol=1e-12)
    # Improper: tau * p(tau) -> sqrt(k) for large tau; zero at tau = 0.
    assert 1e6 * prior.pdf(1e6) == pytest.approx(np.sqrt(BCG_SE.size), rel=1e-9)
    assert prior.pdf(0.0) == 0.0 and prior.logpdf(-1.0) == -np.inf
    assert np.isnan(prior.logpdf(np.nan))


# --- published empirical priors ---------------------------------------------------------------


def test_turner_transform_from_tau2_to_tau():
    prior = turner2015("all-cause-mortality", "pharma-vs-placebo")  # log tau² ~ N(-3.95, 1.34²)
    np.testing.assert_allclose(prior.cdf(TAUS), stats.norm.cdf(np.log(TAUS**2), -3.95, 1.34),
                               rtol=1e-12, atol=1e-300)  # fmt: skip
    assert total_mass(prior) == pytest.approx(1.0, abs=1e-8)
    general = turner2015()  # general healthcare setting: log tau² ~ N(-2.56, 1.74²)
    assert general.median() ** 2 == pytest.approx(np.exp(-2.56))
    assert np.log(general.ppf(0.975) ** 2) == pytest.approx(-2.56 + 1.959964 * 1.74, rel=1e-6)


def test_turner_table_entries_and_structure():
    # Spot checks against Turner et al. (2015) Table IV (via the bayesmeta 3.4 transcription).
    assert TURNER2015["all-cause-mortality", "pharma-vs-placebo"] == (-3.95, 1.34)
    assert TURNER2015["subjective", "nonpharma-vs-nonpharma"] == (-2.26, 1.45)
    assert TURNER2015["pain", "pharma-vs-placebo"] == (-1.83, 1.52)
    assert len(TURNER2015) == 80
    # The means come from an additive model (outcome + comparison): residuals within rounding.
    mu = np.array(
        [[TURNER2015[o, c][0] for c in TURNER2015_COMPARISONS] for o in TURNER2015_OUTCOMES]
    )
    fit = mu.mean(axis=1, keepdims=True) + mu.mean(axis=0, keepdims=True) - mu.mean()
    assert np.abs(mu - fit).max() < 0.015


def test_rhodes_transform_from_tau2_to_tau():
    prior = rhodes2015("obstetric", "pharma-vs-placebo")  # log tau² ~ t_5(-4.13, 2.34)
    np.testing.assert_allclose(prior.cdf(TAUS), stats.t.cdf((np.log(TAUS**2) + 4.13) / 2.34, 5),
                               rtol=1e-12)  # fmt: skip
    assert total_mass(prior) == pytest.approx(1.0, abs=1e-7)
    general = rhodes2015()  # log tau² ~ t_5(-3.44, 2.59)
    assert np.log(general.ppf(0.9) ** 2) == pytest.approx(-3.44 + 2.59 * stats.t.ppf(0.9, 5))
    alias = rhodes2015("pain", "nonpharma", "cancer")  # pain is in the general-health group
    group = rhodes2015("general-physical-health", "nonpharma", "cancer")
    np.testing.assert_allclose(alias.pdf(TAUS), group.pdf(TAUS))


def test_rhodes_tables_are_additive():
    from hierbayes.meta._prior_tables import RHODES2015

    comparisons, outcomes = list(RHODES2015_COMPARISONS), list(RHODES2015_OUTCOMES)
    for area in ("other", "respiratory", "cancer"):
        loc = np.array([[RHODES2015.get((o, c, area), (np.nan,))[0] for c in comparisons]
                        for o in outcomes])  # fmt: skip
        diffs = loc - loc[:, [1]]  # against pharma-vs-pharma, which has no gaps
        assert np.nanmax(np.abs(diffs - np.nanmedian(diffs, axis=0))) <= 0.0101
    other = np.array([RHODES2015[o, "pharma-vs-pharma", "other"][0] for o in outcomes])
    for area in ("respiratory", "cancer"):
        shift = np.array([RHODES2015[o, "pharma-vs-pharma", area][0] for o in outcomes]) - other
        assert np.ptp(shift) <= 0.0201


def test_empirical_prior_errors():
    with pytest.raises(PriorError, match=r"`outcome` must be one of 'all-cause-mortality'"):
        turner2015("mortality", "pharma-vs-placebo")
    with pytest.raises(PriorError, match=r"`comparison` must be one of .*got None"):
        turner2015("pain")
    with pytest.raises(PriorError, match="`area` must be one of 'other', 'respiratory', 'cancer'"):
        rhodes2015("pain", "nonpharma", area="cardio")
    for outcome, comparison, area in RHODES2015_EXCLUDED:
        with pytest.raises(PriorError, match="is not provided"):
            rhodes2015(outcome, comparison, area)
