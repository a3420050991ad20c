"""Pictures of a meta-analysis (:class:`hierbayes.meta.MetaAnalysis`): matplotlib.

Every function has the form ``plot_x(ma, *, ax=None, **style) -> Axes`` like
:mod:`hierbayes.output.plots`: it draws on ``ax`` (a new figure when None),
changes no global state and never calls ``show``; all numbers come from the
analysis' own tables (``ma.studies``, ``ma.summary``) and densities.

* :func:`plot_forest` — each study's estimate with its interval, its shrinkage
  estimate beneath, the pooled mu as a diamond and the prediction interval
  for a new study's effect (theta_new) as a bar;
* :func:`plot_tau_posterior` — the posterior density of tau with the prior's;
* :func:`plot_funnel` — estimates against standard errors (axis inverted)
  with the pooled mean and its pseudo-confidence funnel.

The main artists carry a ``gid`` (``'studies'``, ``'shrinkage'``, ``'pooled'``,
``'prediction'``, ``'posterior'``, ``'prior'``, ``'funnel'``) so that they can
be found and restyled.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

__all__ = ["plot_forest", "plot_funnel", "plot_tau_posterior"]


def _axes(ax: Any, figsize: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def _columns(interval: str) -> tuple[str, str]:
    if interval not in ("central", "shortest"):
        raise ValueError(f"`interval` must be one of 'central', 'shortest'; got {interval!r}.")
    return ("lower", "upper") if interval == "central" else ("hpd_lower", "hpd_upper")


def plot_forest(ma: Any, *, ax: Any = None, interval: str = "central", null: float | None = 0.0,
                **style: Any) -> Any:
    """Forest plot: studies, shrinkage estimates, pooled diamond and prediction bar.

    Each study is a square at its estimate (area ∝ its posterior weight) with
    the Normal interval estimate ± z·std_error of mass ``ma.prob``; beneath it,
    its shrinkage estimate (posterior mean and central interval of theta_j).
    Below the studies the pooled mu is a diamond from the interval's lower to
    upper end, widest at the posterior median, and the prediction interval
    of a new study's effect (theta_new) is a bar. ``interval`` picks central
    or shortest intervals for the diamond and the bar; ``null`` draws a
    dashed reference line (None: none). ``style`` goes to the study lines.

    Examples
    --------
    >>> import hierbayes as hb
    >>> from hierbayes.output.meta_plots import plot_forest
    >>> ma = hb.meta_analysis({"yi": [-0.9, -1.6, -1.3, 0.0], "vi": [0.3, 0.2, 0.4, 0.1]},
    ...                       prior={"tau": "halfnorm:0.5"})
    >>> ax = plot_forest(ma)
    """
    from matplotlib.patches import Polygon

    lo_col, hi_col = _columns(interval)
    st, s = ma.studies, ma.summary
    k = len(st)
    ax = _axes(ax, (7.0, 1.2 + 0.42 * (k + 3)))
    z = stats.norm.isf(0.5 * (1.0 - ma.prob))
    pos = np.arange(k, 0, -1, dtype=float) + 2.0  # studies from the top; pooled rows at 1, 0
    est, se = st["estimate"].to_numpy(), st["std_error"].to_numpy()
    line = {"color": "black", "linewidth": 1.2, **style}
    ax.hlines(pos, est - z * se, est + z * se, gid="studies", **line)
    size = 30 + 300 * st["weight"].to_numpy() / max(float(st["weight"].max()), 1e-300)
    ax.scatter(est, pos, s=size, marker="s", color=line["color"], zorder=3, label="estimate")
    shrunk = pos - 0.3
    ax.hlines(shrunk, st["lower"], st["upper"], color="C0", linewidth=1.0, gid="shrinkage")
    ax.scatter(st["mean"], shrunk, s=14, color="C0", zorder=3, label="shrinkage estimate")
    mu = s.loc["mu"]
    ax.add_patch(Polygon([(mu[lo_col], 1.0), (mu["median"], 1.3), (mu[hi_col], 1.0),
                          (mu["median"], 0.7)], closed=True, color="C3", gid="pooled",
                         label="mu (pooled)"))
    new = s.loc["theta_new"]
    ax.hlines([0.0], [new[lo_col]], [new[hi_col]], color="C3", linewidth=4, alpha=0.5,
              gid="prediction", label="prediction (theta_new)")
    if null is not None:
        ax.axvline(null, color="grey", linestyle="--", linewidth=0.8)
    ax.set_yticks([*pos, 1.0, 0.0], [*map(str, st.index), "mu", "theta_new"], fontsize="small")
    ax.set_ylim(-0.8, k + 2.8)
    ax.set_xlabel(f"effect ({ma.prob:.0%} {interval} intervals)")
    ax.legend(loc="best", fontsize="small", frameon=False)
    return ax


def plot_tau_posterior(ma: Any, *, ax: Any = None, points: int = 400, **style: Any) -> Any:
    """The posterior density of tau (exact), with the prior's density when it is proper.

    Drawn on [0, 2.5 × the upper end of tau's central interval]; the posterior
    median is a dotted line. ``style`` goes to the posterior line.

    >>> import hierbayes as hb
    >>> from hierbayes.output.meta_plots import plot_tau_posterior
    >>> ma = hb.meta_analysis({"yi": [-0.9, -1.6, -1.3, 0.0], "vi": [0.3, 0.2, 0.4, 0.1]},
    ...                       prior={"tau": "halfnorm:0.5"})
    >>> ax = plot_tau_posterior(ma)
    """
    ax = _axes(ax, (6.4, 4.0))
    t = ma.summary.loc["tau"]
    x = np.linspace(0.0, 2.5 * float(t["upper"]), points)
    ax.plot(x, ma.tau_pdf(x), gid="posterior", **{"color": "C0", "label": "posterior", **style})
    prior = ma.fit.model._prior.tau
    if prior is not None:
        ax.plot(x, prior.pdf(x), color="grey", linestyle="--", gid="prior", label="prior")
    ax.axvline(float(t["median"]), color="C0", linestyle=":", linewidth=1.0,
               label=f"posterior median {float(t['median']):.3g}")
    ax.set_xlim(0.0, x[-1])
    ax.set_ylim(bottom=0.0)
    ax.set_xlabel("tau (between-study standard deviation)")
    ax.set_ylabel("density")
    ax.legend(fontsize="small", frameon=False)
    return ax


def plot_funnel(ma: Any, *, ax: Any = None, **style: Any) -> Any:
    """Funnel plot: each study's estimate against its standard error (axis inverted).

    The vertical line is the posterior mean of mu; the funnel is
    mu ± z·std_error with z for ``ma.prob`` (where estimates would fall
    without heterogeneity). ``style`` goes to the points.

    >>> import hierbayes as hb
    >>> from hierbayes.output.meta_plots import plot_funnel
    >>> ma = hb.meta_analysis({"yi": [-0.9, -1.6, -1.3, 0.0], "vi": [0.3, 0.2, 0.4, 0.1]},
    ...                       prior={"tau": "halfnorm:0.5"})
    >>> ax = plot_funnel(ma)
    """
    ax = _axes(ax, (6.4, 4.8))
    st = ma.studies
    mu = float(ma.summary.loc["mu", "mean"])
    z = stats.norm.isf(0.5 * (1.0 - ma.prob))
    top = 1.05 * float(st["std_error"].max())
    se = np.array([0.0, top])
    ax.plot(np.r_[mu - z * se[::-1], mu + z * se], np.r_[se[::-1], se], color="grey",
            linestyle="--", linewidth=1.0, gid="funnel")
    ax.axvline(mu, color="C3", linewidth=1.0, label=f"posterior mean of mu {mu:.3g}")
    ax.scatter(st["estimate"], st["std_error"], gid="studies",
               **{"color": "black", "zorder": 3, **style})
    ax.set_ylim(top, 0.0)
    ax.set_xlabel("estimate")
    ax.set_ylabel("standard error")
    ax.legend(fontsize="small", frameon=False)
    return ax
