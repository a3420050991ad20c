"""One conformance suite for every family: the same interface, the same invariants."""

import math

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb

FAMILIES = [
    pytest.param(hb.BetaBinomial, "rats", ("successes", "trials"), id="beta-binomial"),
    pytest.param(hb.NormalNormal, "eight_schools", ("estimate", "std_error"), id="normal-normal"),
    pytest.param(hb.GammaPoisson, "pumps", ("counts", "exposure"), id="gamma-poisson"),
]
DATA_COLS = {"successes", "trials", "estimate", "std_error", "counts", "exposure", "raw"}


@pytest.fixture(scope="module")
def fits():
    cache = {}

    def get(cls, name, pooling="partial"):
        key = (cls, name, pooling)
        if key not in cache:
            cache[key] = cls(pooling=pooling).fit(hb.datasets.load(name))
        return cache[key]

    return get


@pytest.mark.parametrize(("cls", "name", "roles"), FAMILIES)
def test_tables_have_the_common_shape(fits, cls, name, roles):
    fit = fits(cls, name)
    data = hb.datasets.load(name)
    g = fit.groups
    assert list(g.columns) == [*roles, "raw", "mean", "sd", "q2.5", "q50", "q97.5", "shrinkage"]
    assert g.index.name == "group" and list(g.index) == list(data.group)
    assert np.all(g["q2.5"] < g["q50"]) and np.all(g["q50"] < g["q97.5"])
    assert np.all((g["q2.5"] < g["mean"]) & (g["mean"] < g["q97.5"]))
    assert np.all((g.shrinkage >= 0) & (g.shrinkage <= 1)) and np.all(g.sd > 0)
    s = fit.summary(prob=0.5)
    assert list(s.columns[-3:]) == ["lower", "upper", "shrinkage"]
    assert np.all((s.lower > g["q2.5"]) & (s.upper < g["q97.5"]))
    h = fit.hyper
    assert list(h.columns) == ["mean", "sd", "q2.5", "q50", "q97.5"]
    assert np.all(h["q2.5"] < h["q97.5"])
    assert 0 <= fit.error < 1e-8
    assert type(fit).__name__ in repr(fit)


@pytest.mark.parametrize(("cls", "name", "roles"), FAMILIES)
def test_draws_agree_with_exact_moments(fits, cls, name, roles):
    fit = fits(cls, name)
    n = 8000
    d = fit.draws(n, seed=11)
    theta = d[[c for c in d.columns if c.startswith("theta[")]].to_numpy()
    assert theta.shape == (n, len(fit.groups))
    z = (theta.mean(axis=0) - fit.groups["mean"].to_numpy()) / (
        fit.groups["sd"].to_numpy() / math.sqrt(n)
    )
    assert np.abs(z).max() < 4.5
    med = np.mean(theta < fit.groups["q50"].to_numpy(), axis=0)
    assert np.abs(med - 0.5).max() < 4.5 * math.sqrt(0.25 / n)
    assert fit.draws(5, seed=3).equals(fit.draws(5, seed=3))


@pytest.mark.parametrize(("cls", "name", "roles"), FAMILIES)
def test_pooling_levels(fits, cls, name, roles):
    complete = fits(cls, name, "complete").groups
    none = fits(cls, name, "none").groups
    partial = fits(cls, name).groups
    assert np.ptp(complete["mean"]) <= 1e-12 * np.abs(complete["mean"]).max()
    assert np.allclose(complete.shrinkage, 1.0)
    # Partial pooling has narrower intervals than no pooling on average.
    width = lambda g: (g["q97.5"] - g["q2.5"]).mean()  # noqa: E731
    assert width(partial) < width(none)
    table = hb.compare_pooling(hb.datasets.load(name), model=cls()).groups
    assert np.allclose(table.partial_mean, partial["mean"], rtol=1e-12)


@pytest.mark.parametrize(("cls", "name", "roles"), FAMILIES)
def test_invariances(fits, cls, name, roles):
    base = fits(cls, name).groups
    data = hb.datasets.load(name)[["group", *roles]]
    shuffled = cls().fit(data.sample(frac=1.0, random_state=4)).groups.loc[base.index]
    pd.testing.assert_frame_equal(shuffled, base, rtol=1e-10)
    relabelled = cls().fit(data.assign(group=[f"g{i}" for i in range(len(data))])).groups
    assert np.allclose(relabelled["mean"].to_numpy(), base["mean"].to_numpy(), rtol=1e-10)


@pytest.mark.parametrize(("cls", "name", "roles"), FAMILIES)
def test_bad_values_name_column_and_group(cls, name, roles):
    data = hb.datasets.load(name)[["group", *roles]].copy()
    data.loc[2, roles[0]] = np.nan
    with pytest.raises(hb.DataError) as err:
        cls().fit(data)
    msg = str(err.value)
    assert roles[0] in msg and str(data.group.iloc[2]) in msg
    with pytest.raises(hb.DataError):
        cls().fit(data.iloc[:0])
    with pytest.raises(ValueError, match="`pooling` must be one of"):
        cls(pooling="partal")
