"""Pictures of a regression fit (issue 13): the coefficients, and partial pooling toward
the regression line. Same form as :mod:`hierbayes.output.plots`: ``plot_x(fit, *,
ax=None, **style) -> Axes``, numbers from the fit's own tables, no global state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hierbayes.families.registry import info_of

__all__ = ["plot_coefficients", "plot_regression"]


def _axes(ax: Any, figsize: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize)[1]


def _check(fit: Any) -> None:
    if not hasattr(fit, "coefficients"):
        raise TypeError("This plot needs a fit with covariates (fit(..., covariates=...)).")


def plot_coefficients(fit: Any, *, ax: Any = None, **style: Any) -> Any:
    """Each coefficient's posterior mean and its interval (the outer quantiles of
    ``model.probs``, 95% by default), with a line at 0.

    Examples
    --------
    >>> import hierbayes as hb
    >>> from matplotlib.figure import Figure
    >>> fit = hb.NormalNormal().fit(hb.datasets.load("bcg"), covariates="~ ablat")
    >>> ax = plot_coefficients(fit, ax=Figure().subplots())
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['intercept', 'ablat']
    """
    _check(fit)
    c = fit.coefficients
    qs = [col for col in c.columns if col.startswith("q")]
    lo, hi = c[qs[0]].to_numpy(float), c[qs[-1]].to_numpy(float)
    y = np.arange(len(c), dtype=float)[::-1]
    ax = _axes(ax, (6.4, max(2.5, 0.5 * len(c) + 1.2)))
    ax.hlines(y, lo, hi, color="0.4", linewidth=1.5,
              label=f"interval {qs[0][1:]}%–{qs[-1][1:]}%")
    kw = {"color": "C0", "s": 28, "zorder": 2, "label": "posterior mean"}
    ax.scatter(c["mean"].to_numpy(float), y, **(kw | style))
    ax.axvline(0.0, color="0.6", linestyle=":", linewidth=1.0)
    ax.set_yticks(y, [str(i) for i in c.index])
    ax.set_xlabel("coefficient (on the scale of the link)")
    ax.set_title("Regression coefficients")
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_regression(fit: Any, covariate: str, *, ax: Any = None, prob: float = 0.95,
                    **style: Any) -> Any:
    """Partial pooling toward the regression: against one covariate, each group's raw
    estimate (hollow), its posterior mean and interval (filled), and its own
    population mean (the line, joined in the covariate's order).

    Parameters
    ----------
    fit : Fit
        A fit with covariates.
    covariate : str
        A column of the design (``fit.coefficients.index``) to put on the x axis.
    prob : float
        Mass of the equal-tailed intervals.

    Examples
    --------
    >>> import hierbayes as hb
    >>> from matplotlib.figure import Figure
    >>> fit = hb.NormalNormal().fit(hb.datasets.load("bcg"), covariates="~ ablat")
    >>> ax = plot_regression(fit, "ablat", ax=Figure().subplots())
    >>> ax.get_xlabel()
    'ablat'
    """
    _check(fit)
    names = list(fit.coefficients.index)
    if covariate not in names or covariate == "intercept":
        raise ValueError(f"`covariate` must be a column of the design: one of "
                         f"{[n for n in names if n != 'intercept']}; got {covariate!r}.")
    x = fit.design.X[:, names.index(covariate)]
    s = fit.summary(prob)
    g = fit.groups
    ax = _axes(ax, (6.4, 4.8))
    order = np.argsort(x, kind="stable")
    ax.plot(x[order], g["population_mean"].to_numpy(float)[order], color="C1",
            linewidth=1.5, label="population mean (regression)")
    ax.vlines(x, s["lower"].to_numpy(float), s["upper"].to_numpy(float), color="0.6",
              linewidth=1.0, label=f"{prob:.0%} interval")
    ax.scatter(x, g["raw"].to_numpy(float) if "raw" in g else g.iloc[:, 0].to_numpy(float),
               facecolors="none", edgecolors="0.3", s=22, label="raw estimate")
    kw = {"color": "C0", "s": 18, "zorder": 3, "label": "posterior mean"}
    ax.scatter(x, g["mean"].to_numpy(float), **(kw | style))
    ax.set_xlabel(covariate)
    ax.set_ylabel(f"theta ({info_of(fit).theta})")
    ax.set_title("Partial pooling toward the regression")
    ax.legend(loc="best", fontsize="small")
    return ax
