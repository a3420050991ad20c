"""Pictures of a fit: matplotlib, one function per plot, the same for every family.

Every function has the form ``plot_x(fit, *, ax=None, **style) -> Axes``: it
draws on ``ax`` (a new figure from :func:`matplotlib.pyplot.subplots` when
``ax`` is None), passes ``style`` to its main artist, changes no global
state (rcParams, the current axes) and never calls ``show``. All numbers come
from the fit's own tables, so what is drawn is what ``fit.groups``,
``fit.summary`` and ``fit.hyper`` report.

* :func:`plot_shrinkage` — raw estimate against posterior mean, the pull of
  each group toward the population mean, point area by group size;
* :func:`plot_caterpillar` — sorted group intervals with the population mean;
* :func:`plot_pooling` — complete, no and partial pooling side by side;
* :func:`plot_hyperposterior` — contours of the joint hyperparameter posterior
  (BDA3 Figure 5.3 for Beta–Binomial), the marginal of tau for Normal–Normal;
* :func:`plot_ppc` — replicated test statistics against the observed one;
* :func:`plot_ranks` — league-table rank intervals;
* for a meta-analysis (:func:`hierbayes.meta_analysis`), from
  :mod:`hierbayes.output.meta_plots`: :func:`plot_forest`,
  :func:`plot_tau_posterior`, :func:`plot_funnel`;
* for a fit with covariates, from :mod:`hierbayes.output.regression_plots`:
  :func:`plot_coefficients`, :func:`plot_regression` (pooling toward the line).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.families.registry import info_of
from hierbayes.output.meta_plots import plot_forest, plot_funnel, plot_tau_posterior
from hierbayes.output.plot_data import (
    POOLINGS,
    as_pooling_table,
    group_size,
    interval_table,
    pooling_table,
    population_mean,
)
from hierbayes.output.regression_plots import plot_coefficients, plot_regression

__all__ = [
    "plot_caterpillar",
    "plot_coefficients",
    "plot_forest",
    "plot_funnel",
    "plot_hyperposterior",
    "plot_pooling",
    "plot_ppc",
    "plot_ranks",
    "plot_regression",
    "plot_shrinkage",
    "plot_tau_posterior",
]

# BDA3 Figure 5.3: contour lines at 0.05, 0.15, ..., 0.95 times the density at the mode
LEVELS = tuple(np.round(np.arange(0.05, 1.0, 0.1), 2))
_LABEL_LIMIT = 40  # groups named on an axis up to this many


def _axes(ax: Any, figsize: tuple[float, float] = (6.4, 4.8)) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def _label_groups(ax: Any, axis: str, pos: np.ndarray, labels: pd.Index) -> str:
    """Name the groups on an axis by their labels (never by sort position): all of
    them up to ``_LABEL_LIMIT``, else every k-th; returns '' or ', every k-th named'."""
    step = max(1, -(-len(labels) // _LABEL_LIMIT))
    setter = ax.set_yticks if axis == "y" else ax.set_xticks
    setter(pos[::step], [str(g) for g in labels[::step]], fontsize="small")
    if axis == "x":
        ax.tick_params(axis="x", labelrotation=90)
    return "" if step == 1 else f"; every {_ordinal(step)} named"


def _ordinal(k: int) -> str:
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k}{suffix}"


def _legend_above(ax: Any, title: str) -> None:
    """The legend in a row between the title and the axes, where it hides no mark."""
    handles, _ = ax.get_legend_handles_labels()
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=min(len(handles), 3),
              fontsize="small", frameon=False, borderaxespad=0.2)
    ax.set_title(title, pad=22)


def _mean_line(ax: Any, fit: Any, horizontal: bool) -> None:
    pop = population_mean(fit)
    if pop is None:
        return
    line = ax.axhline if horizontal else ax.axvline
    line(pop, color="C3", linestyle=":", linewidth=1.2, label=f"population mean {pop:.3g}")


def plot_shrinkage(fit: Any, *, ax: Any = None, **style: Any) -> Any:
    """Raw estimate against posterior mean per group: how far each is pulled.

    Each group is a point at (raw estimate, posterior mean) with area
    proportional to its size (trials, exposure or 1/std_error²); a grey line
    joins it to (raw, raw), where it would sit without pooling (the dashed
    diagonal), so the length of the line is the pull toward the population
    mean (dotted). Small groups are pulled most. Groups without data (zero
    trials or exposure) have no raw estimate and are not drawn.

    Parameters
    ----------
    fit : Fit
        A fit of any family.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    **style
        Passed to :meth:`~matplotlib.axes.Axes.scatter` (e.g. ``color``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import hierbayes as hb
    >>> from matplotlib.figure import Figure
    >>> fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
    >>> ax = plot_shrinkage(fit, ax=Figure().subplots())
    >>> ax.collections[1].get_offsets().shape
    (71, 2)
    """
    from matplotlib.collections import LineCollection

    g = fit.moments
    raw, mean = g["raw"].to_numpy(float), g["mean"].to_numpy(float)
    size = group_size(fit)
    ok = np.isfinite(raw) & np.isfinite(mean)
    raw, mean, size = raw[ok], mean[ok], size[ok]
    ax = _axes(ax)
    segments = np.stack([np.column_stack([raw, raw]), np.column_stack([raw, mean])], axis=1)
    ax.add_collection(LineCollection(segments, colors="0.6", linewidths=0.8, zorder=1))
    biggest = float(np.max(size)) if size.size and np.isfinite(size).all() else 0.0
    area = 8.0 + 112.0 * size / biggest if biggest > 0 else np.full(size.shape, 30.0)
    kw = {"color": "C0", "alpha": 0.8, "edgecolors": "white", "linewidths": 0.5,
          "zorder": 2, "label": f"posterior mean (area ∝ {info_of(fit).size})"}
    ax.scatter(raw, mean, s=area, **(kw | style))
    if raw.size:
        lo, hi = float(min(raw.min(), mean.min())), float(max(raw.max(), mean.max()))
        ax.plot([lo, hi], [lo, hi], color="0.4", linestyle="--", linewidth=0.8,
                label="no pooling (raw = mean)")
    _mean_line(ax, fit, horizontal=True)
    ax.set_xlabel(f"raw estimate ({info_of(fit).raw})")
    ax.set_ylabel("posterior mean of theta")
    ax.set_title("Shrinkage toward the population mean")
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_caterpillar(fit: Any, *, ax: Any = None, prob: float = 0.95, **style: Any) -> Any:
    """Forest plot: every group's posterior mean and interval, sorted by the mean.

    Parameters
    ----------
    fit : Fit
        A fit of any family.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    prob : float
        Mass of the equal-tailed intervals (as :meth:`Fit.summary`).
    **style
        Passed to :meth:`~matplotlib.axes.Axes.scatter` of the means.

    Returns
    -------
    matplotlib.axes.Axes
        Group k from the bottom is the k-th smallest posterior mean; the y
        axis names the groups by label (every k-th of more than 40).

    Examples
    --------
    >>> import hierbayes as hb
    >>> from matplotlib.figure import Figure
    >>> fit = hb.NormalNormal().fit(hb.datasets.load("eight_schools"))
    >>> ax = plot_caterpillar(fit, ax=Figure().subplots(), prob=0.9)
    >>> [t.get_text() for t in ax.get_yticklabels()][-1]  # the largest mean
    'A'
    """
    s = interval_table(fit, prob)
    order = np.argsort(s["mean"].to_numpy(float), kind="stable")
    s = s.iloc[order]
    y = np.arange(len(s), dtype=float)
    ax = _axes(ax, figsize=(6.4, max(3.0, min(0.18 * len(s) + 1.2, 14.0))))
    ax.hlines(y, s["lower"].to_numpy(float), s["upper"].to_numpy(float), color="0.5",
              linewidth=1.0, label=f"{prob:.0%} interval")
    kw = {"color": "C0", "s": 14, "zorder": 2, "label": "posterior mean"}
    ax.scatter(s["mean"].to_numpy(float), y, **(kw | style))
    _mean_line(ax, fit, horizontal=False)
    named = _label_groups(ax, "y", y, s.index)
    ax.set_xlabel(f"theta ({info_of(fit).theta})")
    ax.set_ylabel(f"group (sorted by posterior mean{named})")
    _legend_above(ax, f"Group posteriors: means and {prob:.0%} intervals")
    return ax


def plot_pooling(source: Any, *, ax: Any = None, prob: float = 0.95, **style: Any) -> Any:
    """Complete, no and partial pooling estimates and intervals, per group, on one axis.

    Parameters
    ----------
    source : Fit, DataFrame, or the result of :func:`hierbayes.compare_pooling`
        A fit (its model is refitted with each pooling level), or a table
        with columns ``<pooling>_mean``, ``_lower``, ``_upper`` for
        ``complete``, ``none``, ``partial`` (a result with such a table as
        ``.groups`` is accepted too).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    prob : float
        Interval mass (when ``source`` is a fit).
    **style
        Passed to every :meth:`~matplotlib.axes.Axes.errorbar` call.

    Returns
    -------
    matplotlib.axes.Axes
        Groups along x sorted by their no-pooling estimate; the three
        estimates of a group side by side (complete, none, partial).

    Examples
    --------
    >>> import hierbayes as hb
    >>> from matplotlib.figure import Figure
    >>> ax = plot_pooling(hb.compare_pooling(hb.datasets.load("pumps"),
    ...                                      model=hb.GammaPoisson()), ax=Figure().subplots())
    >>> len(ax.containers)
    3
    """
    table = pooling_table(source, prob) if hasattr(source, "points") else \
        as_pooling_table(source)
    order = np.argsort(table["none_mean"].to_numpy(float), kind="stable")
    table = table.iloc[order]
    x = np.arange(len(table), dtype=float)
    ax = _axes(ax, figsize=(max(6.4, min(0.12 * len(table) + 3.0, 16.0)), 4.8))
    for k, pooling in enumerate(POOLINGS):
        m = table[f"{pooling}_mean"].to_numpy(float)
        lo, hi = table[f"{pooling}_lower"].to_numpy(float), table[f"{pooling}_upper"].to_numpy(
            float)
        err = np.vstack([np.maximum(m - lo, 0.0), np.maximum(hi - m, 0.0)])
        kw = {"fmt": "o", "markersize": 3, "elinewidth": 1.0, "color": f"C{k}",
              "label": f"{'no' if pooling == 'none' else pooling} pooling"}
        ax.errorbar(x + (k - 1) * 0.25, m, yerr=err, **(kw | style))
    named = _label_groups(ax, "x", x, table.index)
    ax.set_xlabel(f"group (sorted by the no-pooling estimate{named})")
    ax.set_ylabel("theta: mean and interval")
    _legend_above(ax, "Complete, no and partial pooling")
    return ax


def _weighted_quantile(x: np.ndarray, w: np.ndarray, p: Sequence[float]) -> np.ndarray:
    order = np.argsort(x)
    cum = np.cumsum(w[order])
    return np.interp(np.asarray(p) * cum[-1], cum, x[order])


def plot_hyperposterior(fit: Any, *, ax: Any = None, levels: Sequence[float] = LEVELS,
                        resolution: int = 120, **style: Any) -> Any:
    """The hyperparameter posterior: joint contours, or the marginal of tau.

    Beta–Binomial: contours of p(logit mu, log kappa | y) at ``levels``
    times its maximum, as in BDA3 Figure 5.3 (rats data); Gamma–Poisson: the
    same in (log(alpha/beta), log alpha). The log posterior is evaluated on a
    regular ``resolution`` × ``resolution`` mesh spanning the bulk of the
    quadrature grid's points. Normal–Normal: the marginal posterior density
    of tau. Empirical Bayes: the point estimate.

    Parameters
    ----------
    fit : Fit
        A partial-pooling fit of any family.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    levels : sequence of float
        Contour levels relative to the maximum (default 0.05, 0.15, ..., 0.95).
    resolution : int
        Mesh points per axis.
    **style
        Passed to :meth:`~matplotlib.axes.Axes.contour` (or the density line).

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        For complete or no pooling, which have no hyperparameter posterior.

    Examples
    --------
    >>> import hierbayes as hb
    >>> from matplotlib.figure import Figure
    >>> fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
    >>> ax = plot_hyperposterior(fit, ax=Figure().subplots(), resolution=40)
    >>> ax.get_xlabel()
    'logit mu = log(alpha / beta)'
    """
    if fit.model.pooling != "partial":
        raise ValueError(
            f"a fit with pooling={fit.model.pooling!r} has no hyperparameter posterior to "
            "plot; fit with pooling='partial'"
        )
    ax = _axes(ax)
    view = fit.hyper_view()
    if len(view.labels) == 1:  # one hyperparameter (Normal–Normal: tau)
        return _plot_marginal(view, ax, **style)
    (x, y), logpost = view.coords, view.logpost
    ax.set_xlabel(view.labels[0])
    ax.set_ylabel(view.labels[1])
    if view.kind == "point":  # empirical Bayes: one point
        ax.scatter(x, y, marker="x", color="C3", s=60, label="empirical Bayes estimate")
        ax.set_title("Hyperparameters (empirical Bayes point estimate)")
        ax.legend(fontsize="small")
        return ax
    w = fit.points.weight
    xlo, xhi = _weighted_quantile(x, w, (0.0005, 0.9995))
    ylo, yhi = _weighted_quantile(y, w, (0.0005, 0.995))
    pad_x, pad_y = 0.08 * (xhi - xlo), 0.08 * (yhi - ylo)
    X, Y = np.meshgrid(np.linspace(xlo - pad_x, xhi + pad_x, resolution),
                       np.linspace(ylo - pad_y, yhi + pad_y, resolution))
    with np.errstate(all="ignore"):
        lp = np.asarray(logpost(X.ravel(), Y.ravel()), dtype=float).reshape(X.shape)
    dens = np.exp(lp - np.nanmax(np.where(np.isfinite(lp), lp, np.nan)))
    dens = np.where(np.isfinite(dens), dens, 0.0)
    kw = {"colors": "C0", "linewidths": 1.0}
    ax.contour(X, Y, dens, levels=sorted(levels), **(kw | style))
    ax.set_title("Joint posterior of the hyperparameters\n(contours at "
                 f"{min(levels):g}, …, {max(levels):g} of the maximum)")
    return ax


def _plot_marginal(view: Any, ax: Any, **style: Any) -> Any:
    """The density of one hyperparameter (from its CDF), or a point estimate."""
    (label,) = view.labels
    name = label.split(" ")[0]
    ax.set_xlabel(label)
    ax.set_ylabel("posterior density")
    if view.kind == "point":  # empirical Bayes
        value = float(np.ravel(view.coords[0])[0])
        ax.axvline(value, color="C3", label=f"empirical Bayes estimate {value:.3g}")
        ax.set_title(f"{name} (empirical Bayes point estimate)")
        ax.legend(fontsize="small")
        return ax
    hi = float(np.ravel(view.quantile(np.array([0.995])))[0])
    x = np.linspace(hi * 1e-4, hi, 400)
    dens = np.maximum(np.gradient(view.cdf(x), x), 0.0)
    kw = {"color": "C0", "linewidth": 1.5}
    ax.plot(x, dens, **(kw | style))
    ax.fill_between(x, dens, color="C0", alpha=0.15, linewidth=0)
    ax.set_xlim(0.0, hi)
    ax.set_ylim(bottom=0.0)
    ax.set_title(f"Marginal posterior of {name}")
    return ax


def plot_ppc(fit: Any, statistic: str | None = None, *, ax: Any = None, draws: int = 4000,
             seed: int | None = 0, check: Any = None, bins: int = 40, **style: Any) -> Any:
    """Posterior predictive check: replicated draws of a test statistic, and the observed.

    Parameters
    ----------
    fit : Fit
        A fit of any family.
    statistic : str, optional
        The statistic to show (a row of ``fit.ppc().table``); the first if None.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    draws, seed : int
        Passed to ``fit.ppc`` when ``check`` is not given.
    check : object, optional
        A result of ``fit.ppc(...)`` to draw instead of computing one.
    bins : int
        Histogram bins (at most; an integer statistic spanning fewer values
        gets one bar per value).
    **style
        Passed to :meth:`~matplotlib.axes.Axes.hist`.

    Returns
    -------
    matplotlib.axes.Axes
        A histogram of the replicated statistic with a vertical line at the
        observed value; the title gives the posterior predictive p-value.

    Examples
    --------
    >>> import hierbayes as hb
    >>> from matplotlib.figure import Figure
    >>> fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
    >>> ax = plot_ppc(fit, ax=Figure().subplots(), draws=200)
    >>> ax.get_ylabel()
    'replicated draws'
    """
    if check is None:
        check = fit.ppc(draws=draws, seed=seed)
    table = check.table
    if statistic is None:
        statistic = str(table.index[0])
    if statistic not in table.index:
        raise ValueError(
            f"`statistic` must be one of {', '.join(map(repr, table.index))}; got {statistic!r}"
        )
    rep = np.asarray(check.replicated[statistic], dtype=float)
    obs = float(check.observed[statistic])
    rep = rep[np.isfinite(rep)]
    lo, hi = (float(rep.min()), float(rep.max())) if rep.size else (obs, obs)
    if rep.size and np.all(rep == np.round(rep)) and hi - lo < bins:  # counts: one bar each
        bins = np.arange(lo - 0.5, hi + 1.0)
    ax = _axes(ax)
    kw = {"bins": bins, "color": "C0", "alpha": 0.7, "label": "replicated"}
    ax.hist(rep, **(kw | style))
    ax.axvline(obs, color="C3", linewidth=2.0, label=f"observed {obs:.4g}")
    p = float(table.loc[statistic, "p_value"])
    ax.set_xlabel(f"test statistic: {statistic}")
    ax.set_ylabel("replicated draws")
    ax.set_title(f"Posterior predictive check: {statistic} (p = {p:.3f})")
    ax.legend(fontsize="small")
    return ax


def plot_ranks(fit: Any, *, ax: Any = None, draws: int = 4000, seed: int | None = 0,
               prob: float = 0.95, ranks: pd.DataFrame | None = None, **style: Any) -> Any:
    """League table: each group's posterior mean rank and rank interval (1 = largest theta).

    Parameters
    ----------
    fit : Fit
        A fit of any family.
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure if None.
    draws, seed, prob
        Passed to ``fit.ranks`` when ``ranks`` is not given.
    ranks : pandas.DataFrame, optional
        A result of ``fit.ranks(...)`` to draw instead of computing one.
    **style
        Passed to :meth:`~matplotlib.axes.Axes.scatter` of the mean ranks.

    Returns
    -------
    matplotlib.axes.Axes
        Groups from top (best mean rank) to bottom.

    Examples
    --------
    >>> import hierbayes as hb
    >>> from matplotlib.figure import Figure
    >>> fit = hb.NormalNormal().fit(hb.datasets.load("eight_schools"))
    >>> ax = plot_ranks(fit, ax=Figure().subplots(), draws=500)
    >>> ax.get_xlabel()
    'rank (1 = largest theta)'
    """
    if ranks is None:
        ranks = fit.ranks(draws=draws, seed=seed, prob=prob)
    r = ranks.sort_values("mean_rank", kind="stable")
    y = np.arange(len(r), dtype=float)[::-1]  # best at the top
    ax = _axes(ax, figsize=(6.4, max(3.0, min(0.18 * len(r) + 1.2, 14.0))))
    ax.hlines(y, r["rank_lower"].to_numpy(float), r["rank_upper"].to_numpy(float),
              color="0.5", linewidth=1.0, label="rank interval")
    kw = {"color": "C0", "s": 14, "zorder": 2, "label": "mean rank"}
    ax.scatter(r["mean_rank"].to_numpy(float), y, **(kw | style))
    named = _label_groups(ax, "y", y, r.index)
    ax.set_xlim(0.5, len(r) + 0.5)
    ax.set_xlabel("rank (1 = largest theta)")
    ax.set_ylabel(f"group (best mean rank at the top{named})")
    _legend_above(ax, "League table: posterior ranks")
    return ax
