import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hierbayes._special import log1pmx, log_scaled_rising, stirlerr
from hierbayes.betabinom_math import CollapsedLikelihood

mp.mp.dps = 60


def _ref_d(x: float, k: int) -> float:
    if k <= 200:
        return float(mp.fsum(mp.log1p(mp.mpf(i) / mp.mpf(x)) for i in range(k)))
    mp.mp.dps = 140
    val = mp.loggamma(mp.mpf(x) + k) - mp.loggamma(mp.mpf(x)) - k * mp.log(mp.mpf(x))
    mp.mp.dps = 60
    return float(val)


@pytest.mark.parametrize("x", [1e-8, 0.3, 5.0, 14.9, 15.0, 20.0, 1e3, 1.5e4, 1e8, 1.5e10, 1e16])
@pytest.mark.parametrize("k", [0, 1, 2, 7, 23, 24, 25, 52, 1000, 10**6])
def test_log_scaled_rising_matches_mpmath(x, k):
    ref = _ref_d(x, k)
    got = float(log_scaled_rising(np.array([x]), np.array([k]))[0])
    if ref == 0:
        assert got == 0
    else:
        assert abs(got - ref) <= 2e-14 * abs(ref)


def test_stirlerr_and_log1pmx():
    z = np.array([0.5, 3.0, 14.99, 15.0, 100.0, 1e8])
    ref = [float(mp.loggamma(v) - ((v - 0.5) * mp.log(v) - v + mp.log(2 * mp.pi) / 2)) for v in
           (mp.mpf(x) for x in z)]
    # below 15 gammaln differences cancel ~40 → 0.005: ~1e-13; the series above is exact
    assert np.allclose(stirlerr(z), ref, rtol=5e-13, atol=0)
    t = np.array([-0.5, -1e-3, 1e-9, 0.04, 0.06, 3.0])
    ref = [float(mp.log1p(mp.mpf(x)) - mp.mpf(x)) for x in t]
    assert np.allclose(log1pmx(t), ref, rtol=1e-14, atol=0)


def _naive_loglik(y, n, u, v):
    """Slow obvious sum over groups with mpmath betas (a different code path)."""
    mu = 1 / (1 + mp.e ** (-mp.mpf(u)))
    kappa = mp.e ** mp.mpf(v)
    a, b = mu * kappa, (1 - mu) * kappa
    return float(mp.fsum(mp.log(mp.beta(yi + a, ni - yi + b) / mp.beta(a, b))
                         for yi, ni in zip(y, n, strict=True)))


@pytest.mark.parametrize("u,v", [(-1.8, 2.7), (0.3, -3.0), (-2.0, 12.0), (1.0, 30.0)])
def test_both_likelihood_paths_match_mpmath(u, v):
    rng = np.random.default_rng(1)
    n = rng.integers(0, 60, size=40)
    y = rng.binomial(n, 0.3)
    ref = _naive_loglik(y, n, u, v)
    for path in ("counts", "pairs"):
        lik = CollapsedLikelihood.from_counts(y, n, path=path)
        got = float(lik(np.array([u]), np.array([v]))[0])
        assert abs(got - ref) <= 1e-10 * abs(ref), path


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 300), st.integers(0, 300)), min_size=1, max_size=30),
    st.floats(-6, 6),
    st.floats(-8, 40),
)
def test_paths_agree_on_random_data(pairs, u, v):
    y = np.array([min(a, b) for a, b in pairs])
    n = np.array([max(a, b) for a, b in pairs])
    c = CollapsedLikelihood.from_counts(y, n, path="counts")(np.array([u]), np.array([v]))[0]
    p = CollapsedLikelihood.from_counts(y, n, path="pairs")(np.array([u]), np.array([v]))[0]
    assert abs(c - p) <= 1e-10 * max(1.0, abs(c))
