"""Meta-analysis plots draw exactly the analysis' numbers (inspected artist by artist)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy import stats

import hierbayes as hb
from hierbayes.output.meta_plots import plot_forest, plot_funnel, plot_tau_posterior

DATA = pd.DataFrame({"study": ["a", "b", "c", "d", "e"],
                     "yi": [-0.9, -1.6, -1.3, 0.0, -0.4],
                     "vi": [0.3, 0.2, 0.4, 0.1, 0.25]})


@pytest.fixture(scope="module")
def ma():
    return hb.meta_analysis(DATA, study="study", prior={"mu": "norm:0,4", "tau": "halfnorm:0.5"})


@pytest.fixture()
def ax():
    return Figure().subplots()


def _by_gid(ax, gid):
    found = [a for a in [*ax.collections, *ax.patches, *ax.lines] if a.get_gid() == gid]
    assert len(found) == 1, gid
    return found[0]


@pytest.mark.parametrize("interval", ["central", "shortest"])
def test_forest_plot_draws_studies_shrinkage_diamond_and_prediction(ma, ax, interval):
    assert plot_forest(ma, ax=ax, interval=interval) is ax
    st, s = ma.studies, ma.summary
    z = stats.norm.isf(0.025)
    seg = np.asarray(_by_gid(ax, "studies").get_segments())
    np.testing.assert_allclose(seg[:, 0, 0], st["estimate"] - z * st["std_error"])
    np.testing.assert_allclose(seg[:, 1, 0], st["estimate"] + z * st["std_error"])
    assert np.all(np.diff(seg[:, 0, 1]) < 0)  # first study at the top
    shr = np.asarray(_by_gid(ax, "shrinkage").get_segments())
    np.testing.assert_allclose(shr[:, 0, 0], st["lower"])
    np.testing.assert_allclose(shr[:, 1, 0], st["upper"])
    lo, hi = ("lower", "upper") if interval == "central" else ("hpd_lower", "hpd_upper")
    xy = _by_gid(ax, "pooled").get_xy()
    np.testing.assert_allclose(sorted(xy[:4, 0]), sorted(
        [s.loc["mu", lo], s.loc["mu", "median"], s.loc["mu", hi], s.loc["mu", "median"]]))
    bar = np.asarray(_by_gid(ax, "prediction").get_segments())[0]
    np.testing.assert_allclose(bar[:, 0], [s.loc["theta_new", lo], s.loc["theta_new", hi]])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["a", "b", "c", "d", "e", "mu", "theta_new"]


def test_forest_plot_refuses_unknown_interval(ma, ax):
    with pytest.raises(ValueError, match="'central', 'shortest'"):
        plot_forest(ma, ax=ax, interval="hpd")


def test_tau_posterior_is_the_normalised_density_with_the_prior(ma, ax):
    plot_tau_posterior(ma, ax=ax)
    post, prior = _by_gid(ax, "posterior"), _by_gid(ax, "prior")
    x, y = post.get_xdata(), post.get_ydata()
    np.testing.assert_allclose(y, ma.tau_pdf(x))
    np.testing.assert_allclose(prior.get_ydata(), stats.halfnorm(scale=0.5).pdf(x))
    # the drawn range holds nearly all the mass, and the density integrates to it
    mass = np.sum(0.5 * (y[1:] + y[:-1]) * np.diff(x))
    assert mass == pytest.approx(1.0, abs=2e-3)


def test_tau_posterior_without_a_proper_prior_draws_no_prior(ax):
    ma = hb.meta_analysis(DATA)
    plot_tau_posterior(ma, ax=ax)
    assert [a.get_gid() for a in ax.lines].count("prior") == 0


def test_funnel_plot_points_and_funnel(ma, ax):
    plot_funnel(ma, ax=ax)
    pts = _by_gid(ax, "studies").get_offsets()
    np.testing.assert_allclose(pts, np.c_[DATA["yi"], np.sqrt(DATA["vi"])])
    fx, fy = _by_gid(ax, "funnel").get_data()
    mu = ma.summary.loc["mu", "mean"]
    np.testing.assert_allclose(np.abs(np.asarray(fx) - mu), stats.norm.isf(0.025) * fy,
                               atol=1e-12)
    lo, hi = ax.get_ylim()
    assert lo > hi == 0.0  # inverted: precise studies at the top
