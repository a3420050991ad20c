"""Property tests (Hypothesis): random valid data sets of many shapes, every family.

What is guaranteed, and why:

* every group posterior is the mixture Σ_g w_g p(theta_j | y_j, eta_g) over the
  hyperparameter points (MODEL.md §2), so its mean lies in [min_g, max_g] of the
  conditional means E[theta_j | y_j, eta_g] (computed here from ``fit.points``
  with the conjugate formulas), and so does the shrinkage in [0, 1];
* quantiles are finite and ordered (q2.5 ≤ q50 ≤ q97.5), sds finite and ≥ 0;
* the conditional mean increases with the group's own datum at a fixed design
  (successes at equal trials, estimate at equal std_error, count at equal
  exposure) and the weights w_g are shared by all groups, so posterior means are
  ordered like the data within a design;
* the fit depends on the rows only through the per-group sums: shuffling rows and
  renaming groups permutes the table and changes nothing else (checked on the
  moments table for the binomial and Poisson families, to save the quantiles'
  time; the Normal family and the split-rows test compare whole tables).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import hierbayes as hb
from hierbayes.models import GammaPoisson, NormalNormal

# Fits with quantiles cost 0.05-0.5 s; these counts keep the file near 20 s of CPU.
SETTINGS = settings(max_examples=20, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
FEW = settings(SETTINGS, max_examples=12)
BB_PRIOR = {"mu": stats.beta(1, 1), "kappa": stats.lognorm(2.0, scale=10.0)}
NN_PRIOR = {"tau": stats.halfcauchy(scale=10.0)}
GP_PRIOR = {"mean": stats.lognorm(2.0, scale=1.0), "shape": stats.lognorm(2.0, scale=2.0)}
REL = 1e-9  # slack for rounding in the bounds


@st.composite
def binomial_data(draw):
    groups = draw(st.integers(1, 12))
    big = draw(st.booleans())
    n = np.array(draw(st.lists(st.integers(0, 10**6 if big else 60), min_size=groups,
                               max_size=groups)))
    frac = np.array(draw(st.lists(st.floats(0, 1), min_size=groups, max_size=groups)))
    y = np.floor(frac * n).astype(np.int64)
    return y, n


@st.composite
def normal_data(draw):
    groups = draw(st.integers(1, 20))
    est = draw(st.lists(st.floats(-1e3, 1e3), min_size=groups, max_size=groups))
    se = draw(st.lists(st.floats(0.01, 100.0), min_size=groups, max_size=groups))
    return np.array(est), np.array(se)


@st.composite
def poisson_data(draw):
    groups = draw(st.integers(1, 12))
    counts = draw(st.lists(st.integers(0, 10**4), min_size=groups, max_size=groups))
    exposure = draw(st.lists(st.floats(0.01, 1e3), min_size=groups, max_size=groups))
    return np.array(counts), np.array(exposure)


def _fit(model, table="groups", **data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hb.DegenerateDataWarning)
        # an AccuracyWarning is allowed: the properties below hold at any accuracy
        warnings.simplefilter("ignore", hb.AccuracyWarning)
        fit = model.fit(**data)
        return fit, getattr(fit, table)


def _binomial_model(y, n):
    proper = np.any((y > 0) & (y < n))
    return hb.BetaBinomial() if proper else hb.BetaBinomial(prior=BB_PRIOR)


def _normal_model(y):
    return NormalNormal() if y.size >= 3 else NormalNormal(prior=NN_PRIOR)


def _poisson_model(counts):
    return GammaPoisson() if np.any(counts > 0) else GammaPoisson(prior=GP_PRIOR)


def _check_tables(g):
    q = g[["q2.5", "q50", "q97.5"]].to_numpy()
    assert np.isfinite(q).all() and np.isfinite(g["mean"]).all()
    assert (q[:, 0] <= q[:, 1]).all() and (q[:, 1] <= q[:, 2]).all()
    assert (np.isfinite(g["sd"]) & (g["sd"] >= 0)).all()
    assert ((g["shrinkage"] >= 0) & (g["shrinkage"] <= 1)).all()


def _inside(values, cond):
    """``values[j]`` within [min, max] over points of ``cond[:, j]`` (rounding slack)."""
    lo, hi = cond.min(axis=0), cond.max(axis=0)
    slack = REL * np.maximum(np.abs(lo), np.abs(hi)) + 1e-300
    assert ((values >= lo - slack) & (values <= hi + slack)).all()


def _ordered_within_design(design, datum, mean):
    """Within groups of equal design, means are ordered like the data (ties: equal)."""
    frame = pd.DataFrame({"d": design, "x": datum, "m": mean})
    for _, part in frame.groupby("d"):
        part = part.sort_values("x")
        m, x = part["m"].to_numpy(), part["x"].to_numpy()
        rising = np.diff(x) > 0
        scale = np.abs(m).max() + 1e-300
        assert (np.diff(m)[rising] >= -REL * scale).all()
        assert (np.abs(np.diff(m)[~rising]) <= REL * scale).all()


# ---- Beta–Binomial --------------------------------------------------------------------------
@FEW
@given(binomial_data())
def test_binomial_quantiles_shrinkage_and_mixture_bounds(data):
    y, n = data
    fit, g = _fit(_binomial_model(y, n), successes=y, trials=n)
    _check_tables(g)
    a, b = fit.points.params["alpha"][:, None], fit.points.params["beta"][:, None]
    _inside(g["mean"].to_numpy(), (y + a) / (n + a + b))
    _inside(g["shrinkage"].to_numpy(), (a + b) / (n + a + b))
    assert ((g["mean"] > 0) & (g["mean"] < 1)).all()
    _ordered_within_design(n, y, g["mean"].to_numpy())


@FEW
@given(binomial_data(), st.randoms(use_true_random=False))
def test_binomial_row_order_and_relabelling(data, rnd):
    y, n = data
    model = _binomial_model(y, n)
    labels = [f"g{i}" for i in range(y.size)]
    base = _fit(model, "moments", successes=y, trials=n, group=labels)[1]
    order = list(range(y.size))
    rnd.shuffle(order)
    other = [f"renamed-{i}" for i in order]  # new names, rows in a new order
    g = _fit(model, "moments", successes=y[order], trials=n[order], group=other)[1]
    g.index = [labels[int(s.split("-")[1])] for s in g.index]
    pd.testing.assert_frame_equal(g.loc[base.index], base, rtol=1e-10, check_names=False)


# ---- Normal–Normal --------------------------------------------------------------------------
@SETTINGS
@given(normal_data())
def test_normal_quantiles_shrinkage_and_mixture_bounds(data):
    y, s = data
    fit, g = _fit(_normal_model(y), estimate=y, std_error=s)
    _check_tables(g)
    p = fit.points.params
    tau2 = p["tau"][:, None] ** 2
    shrink = np.where(np.isinf(tau2), 0.0, s**2 / (s**2 + tau2))
    _inside(g["mean"].to_numpy(), shrink * p["mu_mean"][:, None] + (1 - shrink) * y)
    _inside(g["shrinkage"].to_numpy(), shrink)
    _ordered_within_design(s, y, g["mean"].to_numpy())


@SETTINGS
@given(normal_data(), st.randoms(use_true_random=False))
def test_normal_row_order_and_relabelling(data, rnd):
    y, s = data
    model = _normal_model(y)
    labels = [f"g{i}" for i in range(y.size)]
    base = _fit(model, estimate=y, std_error=s, group=labels)[1]
    order = list(range(y.size))
    rnd.shuffle(order)
    g = _fit(model, estimate=y[order], std_error=s[order], group=[labels[i] for i in order])[1]
    pd.testing.assert_frame_equal(g.loc[base.index], base, rtol=1e-10)


# ---- Gamma–Poisson --------------------------------------------------------------------------
@FEW
@given(poisson_data())
def test_poisson_quantiles_shrinkage_and_mixture_bounds(data):
    y, t = data
    fit, g = _fit(_poisson_model(y), counts=y, exposure=t)
    _check_tables(g)
    a, b = fit.points.params["alpha"][:, None], fit.points.params["beta"][:, None]
    _inside(g["mean"].to_numpy(), (y + a) / (t + b))
    _inside(g["shrinkage"].to_numpy(), b / (t + b))
    assert (g["mean"] > 0).all()
    _ordered_within_design(t, y, g["mean"].to_numpy())


@FEW
@given(poisson_data(), st.randoms(use_true_random=False))
def test_poisson_row_order_and_relabelling(data, rnd):
    y, t = data
    model = _poisson_model(y)
    labels = [f"g{i}" for i in range(y.size)]
    base = _fit(model, "moments", counts=y, exposure=t, group=labels)[1]
    order = list(range(y.size))
    rnd.shuffle(order)
    g = _fit(model, "moments", counts=y[order], exposure=t[order],
             group=[labels[i] for i in order])[1]
    pd.testing.assert_frame_equal(g.loc[base.index], base, rtol=1e-10)


@pytest.mark.parametrize("split", [2, 3])
def test_splitting_a_group_into_rows_changes_nothing(split):
    """Counts are summed per group: a group given as several shuffled rows is one group."""
    rng = np.random.default_rng(split)
    n = rng.integers(1, 40, 8)
    y = rng.binomial(n, 0.3)
    labels = list("abcdefgh")
    whole = hb.BetaBinomial().fit(successes=y, trials=n, group=labels).groups
    records = []
    for g, yj, nj in zip(labels, y, n, strict=True):
        cuts = np.sort(rng.integers(0, nj + 1, split - 1))
        left = int(yj)
        for size in np.diff(np.concatenate([[0], cuts, [nj]])):
            take = min(left, int(size))  # every row valid; all successes placed (y ≤ n)
            records.append((g, take, int(size)))
            left -= take
    rows = pd.DataFrame(records, columns=["group", "successes", "trials"])
    g = hb.BetaBinomial().fit(rows.sample(frac=1, random_state=split)).groups
    pd.testing.assert_frame_equal(g.loc[whole.index], whole, rtol=1e-12)
