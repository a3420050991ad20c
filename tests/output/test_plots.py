"""Plots render with Agg and draw exactly the fit's numbers, for every family."""

from __future__ import annotations

import types

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure

import hierbayes as hb
from hierbayes.output import plot_data, plots

FAMILIES = {
    "binomial": (hb.BetaBinomial, "rats"),
    "normal": (hb.NormalNormal, "eight_schools"),
    "poisson": (hb.GammaPoisson, "pumps"),
}


@pytest.fixture(scope="module", params=list(FAMILIES))
def fit(request):
    cls, name = FAMILIES[request.param]
    return cls().fit(hb.datasets.load(name))


@pytest.fixture()
def ax():
    return Figure().subplots()


def _scatter(ax) -> PathCollection:
    found = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert len(found) == 1
    return found[0]


def _segments(ax) -> np.ndarray:
    found = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(found) == 1
    return np.asarray(found[0].get_segments())


def _hline_y(ax) -> list[float]:
    return [ln.get_ydata()[0] for ln in ax.lines if np.ptp(ln.get_ydata()) == 0]


def test_shrinkage_draws_raw_against_mean(fit, ax):
    out = plots.plot_shrinkage(fit, ax=ax)
    assert out is ax
    g = fit.groups
    raw, mean = g["raw"].to_numpy(float), g["mean"].to_numpy(float)
    np.testing.assert_array_equal(_scatter(ax).get_offsets(), np.column_stack([raw, mean]))
    seg = _segments(ax)  # one pull line per group, from (raw, raw) down or up to (raw, mean)
    assert seg.shape == (len(g), 2, 2)
    np.testing.assert_array_equal(seg[:, 0], np.column_stack([raw, raw]))
    np.testing.assert_array_equal(seg[:, 1], np.column_stack([raw, mean]))
    # point area increases with group size
    sizes = _scatter(ax).get_sizes()
    order = np.argsort(plot_data.group_size(fit))
    assert np.all(np.diff(sizes[order]) >= 0) and sizes.max() > sizes.min()
    # the population mean line sits at fit.hyper's mean
    pop = fit.hyper.loc["mu" if "mu" in fit.hyper.index else "mean"]
    expected = pop["mean"] if np.isfinite(pop["mean"]) else pop["q50"]
    assert expected in _hline_y(ax)
    assert ax.get_xlabel().startswith("raw estimate")
    assert ax.get_ylabel() == "posterior mean of theta"
    lim = ax.dataLim
    assert lim.x0 <= raw.min() and lim.x1 >= raw.max()
    assert lim.y0 <= mean.min() and lim.y1 >= mean.max()
    assert len(ax.get_legend().get_texts()) == 3


def test_group_size_by_family(fit):
    g = fit.groups
    size = plot_data.group_size(fit)
    if "trials" in g:
        np.testing.assert_array_equal(size, g["trials"])
    elif "exposure" in g:
        np.testing.assert_array_equal(size, g["exposure"])
    else:
        np.testing.assert_allclose(size, 1 / g["std_error"] ** 2)


def test_shrinkage_skips_groups_without_data(ax):
    fit = hb.BetaBinomial().fit(successes=[3, 5, 0, 8], trials=[20, 25, 0, 30])
    plots.plot_shrinkage(fit, ax=ax, color="red")
    points = _scatter(ax)
    assert points.get_offsets().shape == (3, 2)
    np.testing.assert_allclose(points.get_facecolor()[0][:3], [1, 0, 0])  # style passed on


def test_caterpillar_is_sorted_summary(fit, ax):
    plots.plot_caterpillar(fit, ax=ax, prob=0.9)
    s = fit.summary(0.9).sort_values("mean", kind="stable")
    y = np.arange(len(s))
    np.testing.assert_array_equal(_scatter(ax).get_offsets(),
                                  np.column_stack([s["mean"], y]))
    seg = _segments(ax)
    np.testing.assert_array_equal(seg[:, 0, 0], s["lower"])
    np.testing.assert_array_equal(seg[:, 1, 0], s["upper"])
    np.testing.assert_array_equal(seg[:, :, 1], np.column_stack([y, y]))
    assert [ln.get_xdata()[0] for ln in ax.lines] == [plot_data.population_mean(fit)]
    # the axis names groups by label, never by sort position: all of them, or every k-th
    labels = [t.get_text() for t in ax.get_yticklabels()]
    step = -(-len(s) // 40)
    assert labels == [str(i) for i in s.index[::step]]
    np.testing.assert_array_equal(ax.get_yticks(), y[::step])
    assert ax.dataLim.x0 <= s["lower"].min() and ax.dataLim.x1 >= s["upper"].max()
    assert ax.get_ylabel() == ("group (sorted by posterior mean)" if step == 1 else
                               f"group (sorted by posterior mean; every {step}nd named)")
    assert ax.get_legend().get_texts()[0].get_text() == "90% interval"
    assert "90%" in ax.get_title()


def test_pooling_from_fit_table_and_result(fit):
    cls = type(fit.model)
    name = FAMILIES[{"successes": "binomial", "estimate": "normal",
                     "counts": "poisson"}[fit.observed_name]][1]
    table = hb.compare_pooling(hb.datasets.load(name), model=cls())
    table = table if isinstance(table, pd.DataFrame) else table.groups
    from_fit = plot_data.pooling_table(fit)
    pd.testing.assert_frame_equal(from_fit, table)
    for source in (fit, table, types.SimpleNamespace(groups=table)):
        ax = plots.plot_pooling(source, ax=Figure().subplots())
        assert len(ax.containers) == 3
        t = table.iloc[np.argsort(table["none_mean"].to_numpy(), kind="stable")]
        for k, (pooling, cont) in enumerate(zip(plot_data.POOLINGS, ax.containers, strict=True)):
            line, _, (bars,) = cont.lines
            np.testing.assert_array_equal(line.get_ydata(), t[f"{pooling}_mean"])
            np.testing.assert_allclose(line.get_xdata(), np.arange(len(t)) + (k - 1) * 0.25)
            seg = np.asarray(bars.get_segments())
            np.testing.assert_allclose(seg[:, 0, 1], t[f"{pooling}_lower"], rtol=1e-12)
            np.testing.assert_allclose(seg[:, 1, 1], t[f"{pooling}_upper"], rtol=1e-12)
        assert [t.get_text() for t in ax.get_legend().get_texts()] == [
            "complete pooling", "no pooling", "partial pooling"]
        step = -(-len(t) // 40)
        assert [x.get_text() for x in ax.get_xticklabels()] == [str(g) for g in t.index[::step]]
        assert ax.get_xlabel() == "group (sorted by the no-pooling estimate" + (
            ")" if step == 1 else f"; every {step}nd named)")


def test_pooling_rejects_other_input(ax):
    with pytest.raises(TypeError, match="compare_pooling"):
        plots.plot_pooling(pd.DataFrame({"a": [1.0]}), ax=ax)


def test_hyperposterior_contours_beta_binomial(ax):
    fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
    plots.plot_hyperposterior(fit, ax=ax, resolution=60)
    (cs,) = [c for c in ax.collections]
    np.testing.assert_allclose(cs.levels, plots.LEVELS)
    assert ax.get_xlabel() == "logit mu = log(alpha / beta)"
    assert ax.get_ylabel() == "log kappa = log(alpha + beta)"
    h = fit.hyper
    # BDA3 Figure 5.3: the 0.95 contour encloses the mode near (-1.79, 2.74) ...
    inner = np.concatenate([p.vertices for p in cs.get_paths()[-1:]])
    assert inner[:, 0].min() < h.loc["logit_mu", "q50"] < inner[:, 0].max()
    assert inner[:, 1].min() < h.loc["log_kappa", "q50"] < inner[:, 1].max()
    # ... and the 0.05 contour spans roughly the central 95% intervals
    outer = cs.get_paths()[0].vertices
    assert outer[:, 0].min() < h.loc["logit_mu", "q2.5"] < h.loc["logit_mu", "q97.5"] \
        < outer[:, 0].max()
    assert outer[:, 1].min() < h.loc["log_kappa", "q2.5"] < outer[:, 1].max()
    assert outer[:, 1].max() < h.loc["log_kappa", "q97.5"] + 1.0


def test_hyperposterior_contours_gamma_poisson(ax):
    fit = hb.GammaPoisson().fit(hb.datasets.load("pumps"))
    plots.plot_hyperposterior(fit, ax=ax, resolution=60, levels=(0.1, 0.5))
    (cs,) = ax.collections
    np.testing.assert_allclose(cs.levels, [0.1, 0.5])
    assert ax.get_ylabel() == "log alpha (shape)"
    h = fit.hyper
    outer = cs.get_paths()[0].vertices
    for row, col in (("log_mean", 0), ("log_alpha", 1)):
        assert outer[:, col].min() < h.loc[row, "q50"] < outer[:, col].max()


def test_hyperposterior_tau_density(ax):
    fit = hb.NormalNormal().fit(hb.datasets.load("eight_schools"))
    plots.plot_hyperposterior(fit, ax=ax)
    (line,) = ax.lines
    tau, dens = line.get_xdata(), line.get_ydata()
    assert tau.size == 400 and np.all(dens >= 0)
    # integrates to the mass it covers (0 to the 99.5% quantile) ...
    assert abs(np.trapezoid(dens, tau) - 0.995) < 2e-3
    # ... and its median is fit.hyper's
    cdf = np.concatenate([[0], np.cumsum(np.diff(tau) * (dens[1:] + dens[:-1]) / 2)])
    assert abs(np.interp(0.5, cdf, tau) - fit.hyper.loc["tau", "q50"]) < 0.05
    assert ax.get_xlabel() == "tau (population standard deviation)"
    assert ax.get_xlim()[0] == 0.0 and ax.get_ylim()[0] == 0.0


def test_hyperposterior_2d_normal_grid(ax):
    import scipy.stats as st

    prior = {"mu": st.uniform(-50, 100), "tau": st.halfcauchy(scale=5)}
    fit = hb.NormalNormal(prior=prior).fit(hb.datasets.load("eight_schools"))
    assert fit.tau_grid is None and fit.points.grid is not None
    plots.plot_hyperposterior(fit, ax=ax)
    tau, dens = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    cdf = np.concatenate([[0], np.cumsum(np.diff(tau) * (dens[1:] + dens[:-1]) / 2)])
    assert abs(np.interp(0.5, cdf, tau) - fit.hyper.loc["tau", "q50"]) < 0.05


@pytest.mark.filterwarnings("ignore::hierbayes.DegenerateDataWarning")  # schools: tau = 0
@pytest.mark.parametrize("family", list(FAMILIES))
def test_hyperposterior_empirical_bayes_is_a_point(family, ax):
    cls, name = FAMILIES[family]
    fit = cls(method="eb").fit(hb.datasets.load(name))
    plots.plot_hyperposterior(fit, ax=ax)
    h = fit.hyper["mean"]
    if family == "normal":
        assert ax.lines[0].get_xdata()[0] == h["tau"]
    else:
        (x, y), = _scatter(ax).get_offsets()
        expect = ((h["logit_mu"], h["log_kappa"]) if family == "binomial"
                  else (h["log_mean"], h["log_alpha"]))
        np.testing.assert_allclose([x, y], expect, rtol=1e-12)


@pytest.mark.parametrize("pooling", ["none", "complete"])
def test_hyperposterior_needs_partial_pooling(pooling, ax):
    fit = hb.GammaPoisson(pooling=pooling).fit(hb.datasets.load("pumps"))
    with pytest.raises(ValueError, match="pooling='partial'"):
        plots.plot_hyperposterior(fit, ax=ax)


@pytest.mark.parametrize("pooling", ["none", "complete"])
def test_unpooled_fits_plot(pooling):
    fit = hb.BetaBinomial(pooling=pooling).fit(hb.datasets.load("rats"))
    ax = plots.plot_shrinkage(fit, ax=Figure().subplots())
    lines = _hline_y(ax)
    assert lines == ([] if pooling == "none" else [fit.hyper.loc["theta", "mean"]])
    ax = plots.plot_caterpillar(fit, ax=Figure().subplots())
    assert len(_segments(ax)) == 71


def test_new_figure_without_ax_and_no_global_state():
    fit = hb.NormalNormal().fit(hb.datasets.load("eight_schools"))
    rc = dict(matplotlib.rcParams)
    before = plt.get_fignums()
    ax = plots.plot_caterpillar(fit, ax=Figure().subplots())
    assert plt.get_fignums() == before  # given an axes, pyplot is untouched
    ax = plots.plot_shrinkage(fit)
    try:
        assert ax.figure.number in plt.get_fignums()
        assert len(_scatter(ax).get_offsets()) == 8
    finally:
        plt.close(ax.figure)
    assert dict(matplotlib.rcParams) == rc


def test_ppc_histograms_hold_the_replicated_statistics(fit):
    check = fit.ppc(draws=500, seed=1)
    assert len(check.table) >= 2
    for stat in check.table.index:
        ax = plots.plot_ppc(fit, stat, ax=Figure().subplots(), check=check, bins=25)
        rep = np.asarray(check.replicated[stat], dtype=float)
        heights = np.array([p.get_height() for p in ax.patches])
        assert len(heights) <= 25 and heights.sum() == np.isfinite(rep).sum() == 500
        left = np.array([p.get_x() for p in ax.patches])
        right = left + np.array([p.get_width() for p in ax.patches])
        span = rep.max() - rep.min() + 1.0
        assert left.min() <= rep.min() + 1e-12 * span
        assert right.max() >= rep.max() - 1e-12 * span
        if np.all(rep == np.round(rep)) and np.ptp(rep) < 25:  # a count: a bar per value
            np.testing.assert_allclose((left + right) / 2, np.arange(rep.min(), rep.max() + 1))
            values, counts = np.unique(rep, return_counts=True)
            np.testing.assert_array_equal(heights[(values - rep.min()).astype(int)], counts)
        (line,) = ax.lines
        assert line.get_xdata()[0] == check.observed[stat]
        assert f"p = {check.table.loc[stat, 'p_value']:.3f}" in ax.get_title()
        assert ax.get_xlabel() == f"test statistic: {stat}"
    # computed on demand with the same draws and seed: the same picture
    first = check.table.index[0]
    ax = plots.plot_ppc(fit, ax=Figure().subplots(), draws=500, seed=1, bins=25)
    again = plots.plot_ppc(fit, first, ax=Figure().subplots(), check=check, bins=25)
    assert [p.get_height() for p in ax.patches] == [p.get_height() for p in again.patches]
    with pytest.raises(ValueError, match="`statistic` must be one of"):
        plots.plot_ppc(fit, "nope", ax=Figure().subplots(), check=check)


def test_ranks_plot_is_the_rank_table(fit):
    ranks = fit.ranks(draws=500, seed=1)
    ax = plots.plot_ranks(fit, ax=Figure().subplots(), ranks=ranks)
    r = ranks.sort_values("mean_rank", kind="stable")
    y = np.arange(len(r))[::-1]
    np.testing.assert_array_equal(_scatter(ax).get_offsets(),
                                  np.column_stack([r["mean_rank"], y]))
    seg = _segments(ax)
    np.testing.assert_array_equal(seg[:, 0, 0], r["rank_lower"])
    np.testing.assert_array_equal(seg[:, 1, 0], r["rank_upper"])
    assert ax.get_xlim() == (0.5, len(r) + 0.5)
    assert ax.get_xlabel() == "rank (1 = largest theta)"
    # best at the top, named by group label (rats: every 2nd of 71, the top one first)
    step = -(-len(r) // 40)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [str(g) for g in r.index[::step]]
    assert ax.get_yticks()[0] == len(r) - 1
    ax2 = plots.plot_ranks(fit, ax=Figure().subplots(), draws=500, seed=1)
    np.testing.assert_array_equal(_scatter(ax2).get_offsets(), _scatter(ax).get_offsets())
