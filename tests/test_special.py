import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hierbayes.families.betabinomial.math import (
    CollapsedLikelihood,
    conditional_means,
    conditional_moments,
)
from hierbayes.special import log1pmx, log_scaled_rising, stirlerr

PATHS = ("counts", "pairs", "hybrid")

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
def test_all_likelihood_paths_match_mpmath(u, v):
    rng = np.random.default_rng(1)
    n = rng.integers(0, 60, size=40)
    y = rng.binomial(n, 0.3)
    ref = _naive_loglik(y, n, u, v)
    for path in PATHS:
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
    at = (np.array([u]), np.array([v]))
    c = CollapsedLikelihood.from_counts(y, n, path="counts")
    ref = c(*at)[0]
    for path in ("pairs", "hybrid"):
        p = CollapsedLikelihood.from_counts(y, n, path=path)(*at)[0]
        assert abs(ref - p) <= 1e-10 * max(1.0, abs(ref)), path
    # centred anywhere (here off the point): the same function up to its offset
    centred = c.centred(u + 0.7, v - 1.3)
    assert abs(centred(*at)[0] + centred.offset - ref) <= 1e-10 * max(1.0, abs(ref))


def _loggamma_loglik(y, n, u, v):
    """Σ_j log B(y+a, n−y+b) − log B(a, b) by mpmath log-gammas (oracle for large n)."""
    with mp.workdps(50):
        kappa = mp.e ** mp.mpf(v)
        a = kappa / (1 + mp.e ** (-mp.mpf(u)))
        b = kappa - a
        const = mp.loggamma(a + b) - mp.loggamma(a) - mp.loggamma(b)
        return float(mp.fsum(
            mp.loggamma(yi + a) + mp.loggamma(ni - yi + b) - mp.loggamma(ni + a + b) + const
            for yi, ni in zip(y.tolist(), n.tolist(), strict=True)
        ))


def test_all_paths_agree_at_large_n():
    """n up to 10^6 (count vectors of length 10^6), every path within 1e-10 of mpmath."""
    rng = np.random.default_rng(3)
    n = np.unique(np.round(10 ** rng.uniform(0, 6, 40))).astype(np.int64)
    n = np.concatenate([n, [10**6, 10**6, 10**6, 0]])
    y = rng.binomial(n, 0.2)
    y[-4:-1] = [0, 10**6, 123_457]
    liks = {path: CollapsedLikelihood.from_counts(y, n, path=path) for path in PATHS}
    liks["split at 1000"] = CollapsedLikelihood.from_pairs(
        *np.unique(np.stack([y, n]), axis=1), np.ones(n.size, dtype=np.int64), threshold=1000
    )
    assert liks["hybrid"].path == liks["split at 1000"].path == "hybrid"
    for u, v in [(-1.4, 2.5), (0.3, -3.0), (-2.0, 12.0), (1.0, 30.0)]:
        ref = _loggamma_loglik(y, n, u, v)
        for name, lik in liks.items():
            got = float(lik(np.array([u]), np.array([v]))[0])
            assert abs(got - ref) <= 1e-10 * abs(ref), (name, u, v)


def test_auto_path_splits_off_a_few_huge_groups():
    rng = np.random.default_rng(4)
    n = np.concatenate([rng.integers(1, 101, 5000), [10**6, 2 * 10**6]])
    y = rng.binomial(n, 0.1)
    lik = CollapsedLikelihood.from_counts(y, n)
    assert lik.path == "hybrid" and 100 <= lik.threshold < 10**6 and lik.y.size == 2
    small = CollapsedLikelihood.from_counts(y[:-2], n[:-2])
    assert small.path == "counts"


def test_centred_differences_keep_full_precision_at_large_j():
    """10^5 groups: |log lik| ~ 10^7, so an uncentred difference carries ~1e-9 of rounding.

    Oracle: the counts formula in mpmath, with S[k] from sorted data (not bincounts).
    """
    rng = np.random.default_rng(5)
    n = rng.integers(1, 201, 100_000)
    y = rng.binomial(n, rng.beta(2, 10, n.size))
    lik = CollapsedLikelihood.from_counts(y, n, path="counts")
    u0, v0 = -1.61, 2.48
    centred = lik.centred(u0, v0)
    k = np.arange(200)
    s = [n.size - np.searchsorted(np.sort(x), k, side="right") for x in (y, n - y, n)]
    with mp.workdps(40):
        def terms(u, v):
            kappa = mp.e ** mp.mpf(v)
            a = kappa / (1 + mp.e ** (-mp.mpf(u)))
            return a, kappa - a, kappa

        ref_terms = terms(u0, v0)
        for du, dv in [(1e-3, -2e-3), (-4e-3, 1e-2), (2e-5, 3e-5), (2e-7, 0.0)]:
            new = terms(u0 + du, v0 + dv)
            parts = [
                mp.fsum(int(sk[i]) * (mp.log(x + i) - mp.log(x0 + i)) for i in range(200))
                for sk, x, x0 in zip(s, new, ref_terms, strict=True)
            ]
            exact = float(parts[0] + parts[1] - parts[2])
            got = float(centred(np.array([u0 + du]), np.array([v0 + dv]))[0])
            # rounding of the three sums (~1e4 at most here), not of log lik (~1e7)
            assert abs(got - exact) <= 4e-16 * sum(abs(float(p)) for p in parts) + 1e-15


def _direct_moments(y, n, a, b, w):
    """The obvious per-pair sums over all points (law of total variance)."""
    out = []
    for yi, ni in zip(y, n, strict=True):
        A, B = yi + a, ni - yi + b
        cm = A / (A + B)
        mean = w @ cm
        var = w @ (cm * (B / (A + B)) / (A + B + 1)) + w @ (cm - mean) ** 2
        out.append((mean, np.sqrt(var), w @ ((a + b) / (ni + a + b))))
    return np.array(out).T


def test_conditional_moments_match_direct_sums_and_mpmath():
    rng = np.random.default_rng(6)
    a = rng.gamma(4, 0.5, 300)
    b = a * rng.uniform(3, 6, 300)
    w = rng.random(300)
    w /= w.sum()
    n = np.concatenate([rng.integers(0, 50, 400), [0, 1, 10**6, 10**6, 10**9]]).astype(float)
    y = np.floor(rng.random(n.size) * (n + 1))
    y[-3:] = [0, 10**6, 10**9]
    got = conditional_moments(y, n, a, b, w)
    ref = _direct_moments(y, n, a, b, w)
    for g, r in zip(got, ref, strict=True):
        assert np.allclose(g[:-2], r[:-2], rtol=1e-13, atol=0)
    assert np.allclose(conditional_means(y, n, a, b, w), ref[0], rtol=1e-13, atol=0)
    # at n = 10^9 the sd comes from tiny differences: check against mpmath instead
    with mp.workdps(50):
        for i in (-2, -1):
            A = [mp.mpf(y[i]) + mp.mpf(x) for x in a]
            B = [mp.mpf(n[i] - y[i]) + mp.mpf(x) for x in b]
            cm = [p / (p + q) for p, q in zip(A, B, strict=True)]
            W = [mp.mpf(x) for x in w]
            mean = mp.fsum(wi * c for wi, c in zip(W, cm, strict=True))
            var = mp.fsum(wi * (c * (1 - c) / (p + q + 1) + (c - mean) ** 2)
                          for wi, c, p, q in zip(W, cm, A, B, strict=True))
            assert abs(got[0][i] - float(mean)) <= 1e-15 * float(mean)
            assert abs(got[1][i] - float(mp.sqrt(var))) <= 1e-13 * float(mp.sqrt(var))
