"""A self-contained HTML report of a fit: tables, plots and checks in one file.

:func:`write_report` writes one HTML file that needs nothing else to be
viewed: the plots are SVG images embedded as ``data:`` URIs, the style sheet
and the few lines of script that sort the group table are inline, and no
resource is fetched from the network. Every string that comes from the user
(group labels, column names, the model's description) is escaped.

The report holds, in order: a data summary; the model and prior; the
hyperparameter table; the plots of :mod:`hierbayes.output.plots`; the per-group
table (sortable by clicking a column header); complete, no and partial
pooling side by side; model checks (posterior predictive checks and the
league table of ranks, where the fit provides them); and the numerical
accuracy of the computation.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hierbayes.families.registry import info_of
from hierbayes.output import plot_data, plots
from hierbayes.output.numbers import format_number
from hierbayes.result import quantile_label

__all__ = ["render_report", "write_report"]

_TOTALS = ("successes", "trials", "counts", "exposure")
_MAX_ROWS = 5000  # group-table rows written; larger tables are cut (with a note)
_BOX_ROWS = 18  # about this many rows show in a table's box; more are scrolled to
_BOX_COLUMNS = 9  # wider tables may be cut at the right edge of the page
_SVG_GROUPS = 500  # plots of more groups are embedded as PNG
_PNG_DPI = 110

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;
background:#fafafa;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:1.2em 2em 3em}
h1{font-size:1.6em;margin:.4em 0 .2em}h2{font-size:1.25em;margin-top:1.8em;
border-bottom:1px solid #ddd;padding-bottom:.2em}
nav a{margin-right:1em;font-size:.9em}
pre{background:#f0f0f0;padding:.6em .8em;overflow-x:auto;white-space:pre-wrap}
.wrap{overflow:auto;max-height:36em;border:1px solid #ddd;background:#fff;
display:inline-block;max-width:100%}
table{border-collapse:collapse;font-size:.85em;font-variant-numeric:tabular-nums}
th,td{padding:.25em .6em;border-bottom:1px solid #eee;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
thead th{position:sticky;top:0;background:#f4f4f4;border-bottom:1px solid #ccc}
table.sortable thead th{cursor:pointer;user-select:none}
table.sortable thead th[aria-sort=ascending]::after{content:" ▲"}
table.sortable thead th[aria-sort=descending]::after{content:" ▼"}
.figs{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:1em}
figure{margin:0;background:#fff;border:1px solid #ddd;padding:.5em}
figure img{max-width:100%;height:auto;display:block;margin:0 auto}
figcaption{font-size:.85em;color:#555;margin-top:.3em}
.ok{color:#1a7f37;font-weight:600}.warn{color:#b35900;font-weight:600}
.note{color:#555;font-size:.9em}
.wrap::-webkit-scrollbar{width:11px;height:11px;background:#f0f0f0}
.wrap::-webkit-scrollbar-thumb{background:#b8b8b8;border-radius:6px;border:2px solid #f0f0f0}
.model{display:grid;grid-template-columns:minmax(14em,auto) 1fr;gap:.2em 1.5em;
align-items:center;margin:.8em 0}
.model math{font-size:1.15em;margin:.2em 0}.model p{margin:.2em 0}
"""

# Sort the rows of a table.sortable by the clicked column: numbers by data-value
# (NaN last), text otherwise; a second click reverses.
_JS = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    th.addEventListener("click", function () {
      var asc = th.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var key = function (row) {
        var cell = row.cells[col], v = cell.getAttribute("data-value");
        return v === null ? cell.textContent : parseFloat(v);
      };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b), d;
        if (typeof x === "number" && typeof y === "number") {
          if (isNaN(x) || isNaN(y)) { return isNaN(x) - isNaN(y); }
          d = x - y;
        } else {
          d = String(x).localeCompare(String(y), undefined, {numeric: true});
        }
        return asc ? d : -d;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)




def _cell(x: Any) -> str:
    if isinstance(x, int | float | np.integer | np.floating) and not isinstance(x, bool):
        return f'<td data-value="{float(x)!r}">{_esc(format_number(x))}</td>'
    return f"<td>{_esc(format_number(x))}</td>"


def _table(frame: pd.DataFrame, *, sortable: bool = False, table_id: str | None = None,
           max_rows: int | None = None) -> str:
    """An HTML table of a DataFrame: the index first, every value escaped."""
    shown = frame if max_rows is None else frame.iloc[:max_rows]
    attrs = (f' id="{_esc(table_id)}"' if table_id else "") + (
        ' class="sortable"' if sortable else "")
    head = "".join(f"<th>{_esc(c)}</th>" for c in [frame.index.name or "", *frame.columns])
    body = [
        f"<tr><td>{_esc(idx)}</td>{''.join(_cell(v) for v in row)}</tr>"
        for idx, row in zip(shown.index, shown.itertuples(index=False, name=None), strict=True)
    ]
    out = (f'<div class="wrap"><table{attrs}><thead><tr>{head}</tr></thead>'
           f"<tbody>{''.join(body)}</tbody></table></div>")
    if len(shown) < len(frame):
        out += (f'<p class="note">First {len(shown)} of {len(frame)} rows; the whole table '
                "is in the CSV output of <code>hierbayes fit</code>.</p>")
    elif len(shown) > _BOX_ROWS or frame.shape[1] > _BOX_COLUMNS:
        out += (f'<p class="note">{len(shown)} rows × {frame.shape[1] + 1} columns: scroll '
                "inside the table to see them all.</p>")
    return out


def _figure(draw: Callable[[Any], Any], caption: str, *, size: tuple[float, float] = (6.4, 4.6),
            alt: str = "", raster: bool = False) -> str:
    """Draw on a fresh Figure (no pyplot state); embed it as an SVG (or PNG) data URI.

    PNG where a plot has thousands of marks (``raster``), which would make a
    slow and heavy SVG.
    """
    import matplotlib
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    draw(fig.subplots())
    buf = io.BytesIO()
    if raster:
        fig.savefig(buf, format="png", dpi=_PNG_DPI, metadata={"Software": None})
        mime = "image/png"
    else:
        # fixed ids inside the SVG (clip paths, markers): the same fit gives the same file
        with matplotlib.rc_context({"svg.hashsalt": "hierbayes"}):
            fig.savefig(buf, format="svg", metadata={"Date": None})
        mime = "image/svg+xml"
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'<figure><img alt="{_esc(alt or caption)}" src="data:{mime};base64,{data}">'
            f"<figcaption>{_esc(caption)}</figcaption></figure>")


def _tall(n: int) -> tuple[float, float]:
    return (6.4, max(4.0, min(0.11 * n + 1.5, 10.0)))


def _data_summary(fit: Any) -> str:
    g = fit.moments
    cols = list(g.columns[: g.columns.get_loc("mean")])
    rows = []
    for c in cols:
        x = g[c].to_numpy(float)
        ok = x[np.isfinite(x)]
        stats = [ok.min(), np.median(ok), ok.max()] if ok.size else [math.nan] * 3
        rows.append([*stats, float(x.sum()) if c in _TOTALS else math.nan])
    table = pd.DataFrame(rows, index=pd.Index(cols, name="column"),
                         columns=["min", "median", "max", "total"])
    text = f"<p>{len(g)} groups; observed quantity <code>{_esc(fit.observed_name)}</code>."
    info = info_of(fit)
    if info.totals:
        num, den = info.roles
        total_num, total_den = float(g[num].sum()), float(g[den].sum())
        empty = int((g[den] == 0).sum())
        if total_den > 0:
            text += (f" Pooled rate {_esc(format_number(total_num / total_den))} "
                     f"({_esc(format_number(total_num))} / {_esc(format_number(total_den))}).")
        if empty:
            text += f" {empty} group(s) without data (they get the population distribution)."
    return text + "</p>" + _table(table)


def _model(fit: Any, name: str, prob: float) -> str:
    """The model as mathematics (MathML) beside the same in words, then the settings."""
    lines = "".join(f"<div>{math}</div><p>{_esc(words)}</p>"
                    for math, words in fit.model_lines())
    m = fit.model
    how = ("the hyperparameters integrated exactly by adaptive quadrature "
           f"(tolerance {m.tol:g})" if m.method == "exact" and m.pooling == "partial" else
           "the hyperparameters fixed at their empirical-Bayes estimate"
           if m.pooling == "partial" else "no hyperparameters")
    return (f'<p>{_esc(name)} hierarchical model, j = 1, …, {len(fit.group_labels)} groups.</p>'
            f'<div class="model">{lines}</div>'
            f'<p class="note">Pooling <code>{_esc(m.pooling)}</code>, method '
            f"<code>{_esc(m.method)}</code>: {_esc(how)}; intervals are {prob:.0%} "
            "equal-tailed.</p>")


def _hyper_note(hyper: pd.DataFrame) -> str:
    """Explain the ∞ and – cells of the hyperparameter table, naming where they are."""
    notes = []
    for col, what in (("mean", "mean"), ("sd", "standard deviation")):
        if col not in hyper.columns:
            continue
        inf = [str(i) for i, v in hyper[col].items() if np.isinf(float(v))]
        if inf:
            names = ", ".join(f"<code>{_esc(i)}</code>" for i in inf)
            notes.append(f"∞ in the {col} column: the posterior {what} of {names} does not "
                         "exist (a heavy tail); the quantiles do.")
    if hyper.isna().any().any():
        notes.append("–: not reported (a moment that does not exist beside an infinite one, "
                     "or a point estimate without spread).")
    return "".join(f'<p class="note">{n}</p>' for n in notes)


def _accuracy(fit: Any) -> str:
    tol = getattr(fit.model, "tol", math.nan)
    shape = fit.quadrature_shape()
    if shape is None:
        return ("<p>No quadrature was needed: the hyperparameters are a point estimate "
                "(empirical Bayes) or fixed (complete or no pooling), so every group posterior "
                "is a single conjugate distribution, exact to floating-point rounding.</p>")
    n = int(np.prod(shape))
    dims = {1: "one", 2: "two", 3: "three", 4: "four"}
    kind = f"{dims.get(len(shape), len(shape))}-dimensional"
    err = fit.error
    status = ('<span class="ok">within tolerance</span>' if err <= tol else
              '<span class="warn">above the tolerance — treat the last digits with care</span>')
    return (
        f"<p>The hyperparameter posterior was integrated exactly (no sampling) by adaptive "
        f"{kind} trapezoid quadrature on {n} points; group posteriors are exact mixtures of "
        f"conjugate distributions over those points, their quantiles solved from the mixture "
        f"CDF.</p><p>Estimated numerical error of the posterior summaries: "
        f"<b>{_esc(f'{err:.2g}')}</b> (tolerance {_esc(f'{tol:g}')}): {status}.</p>"
    )


def _checks(fit: Any, prob: float, draws: int, seed: int | None) -> tuple[str, str]:
    """The posterior predictive checks and league-table sections ('' where not available)."""
    ppc_html = ranks_html = ""
    if hasattr(fit, "ppc"):
        check = fit.ppc(draws=draws, seed=seed)
        stats = list(check.table.index)
        cols = min(len(stats), 2)
        rows = -(-len(stats) // cols)

        def draw_ppc(ax: Any) -> None:  # one panel per statistic, in one figure
            axes = ax.figure.subplots(rows, cols, squeeze=False).ravel()
            ax.remove()
            for a, stat in zip(axes, stats, strict=False):
                plots.plot_ppc(fit, stat, ax=a, check=check)
            for a in axes[len(stats):]:
                a.remove()

        figs = [_figure(draw_ppc, f"Replicated test statistics ({draws} draws) and the "
                        "observed values (red).", size=(5.4 * cols, 3.5 * rows))]
        from hierbayes.checks.ppc import STATISTIC_NOTES

        explained = "".join(f"<li><code>{_esc(k)}</code>: {_esc(STATISTIC_NOTES[k])}</li>"
                            for k in stats if k in STATISTIC_NOTES)
        ppc_html = (
            "<p>Replicated data sets from the posterior predictive distribution, each "
            "summarised by a test statistic; <code>p_value</code> = P(T(y_rep) ≥ T(y)) and "
            "<code>p_value_le</code> = P(T(y_rep) ≤ T(y)). A p-value near 0 or 1 means the "
            "model rarely reproduces the observed value. A statistic that could not "
            "disagree with these data (observed at 0, its least value) is not checked.</p>"
            + (f"<ul>{explained}</ul>" if explained else "")
            + _table(check.table, table_id="ppc-table")
            + "".join(figs)
        )
    if hasattr(fit, "ranks"):
        ranks = fit.ranks(draws=draws, seed=seed, prob=prob)
        ranks_html = (
            '<div class="figs">'
            + _figure(lambda ax: plots.plot_ranks(fit, ax=ax, ranks=ranks),
                      f"Posterior mean rank and {prob:.0%} rank interval of every group "
                      "(1 = largest theta).", size=_tall(len(ranks)),
                      raster=len(ranks) > _SVG_GROUPS)
            + "<div>" + _table(ranks.sort_values("mean_rank", kind="stable"), sortable=True,
                               table_id="ranks-table", max_rows=_MAX_ROWS) + "</div></div>"
        )
    return ppc_html, ranks_html


def _level(pooling: str) -> str:
    return "no pooling" if pooling == "none" else f"{pooling} pooling"


def _pooling(fit: Any, prob: float, n: int) -> str:
    comparison = plot_data.compare_fit_pooling(fit, prob)
    table = comparison.groups
    note = ("" if fit.model.method == "exact" else
            '<p class="note">Partial pooling here is the exact (full Bayes) fit: '
            "leave-one-group-out prediction needs the posterior of the hyperparameters, "
            "which empirical Bayes does not have.</p>")
    elpd = getattr(comparison, "elpd", None)
    missing = [] if elpd is None else [str(i) for i, row in elpd.iterrows() if row.isna().all()]
    why = "" if not missing else (
        f'<p class="note">The {" and ".join(_esc(m) for m in missing)} row is empty (–): '
        f"{' and '.join(_level(m) for m in missing)} cannot predict a left-out group, because "
        "its prior for a group's theta is improper (flat), so a group it has not seen has no "
        "predictive density.</p>")
    elpd_html = "" if elpd is None else (
        "<p>Predictive accuracy: the exact leave-one-group-out log predictive density "
        "of each pooling level (higher is better; <code>elpd_diff</code> from the best, "
        "with its standard error).</p>" + _table(elpd, table_id="elpd-table") + why)
    return (
        note + elpd_html
        + _figure(lambda ax: plots.plot_pooling(table, ax=ax),
                  f"Means and {prob:.0%} intervals under the three pooling levels.",
                  size=(max(6.4, min(0.12 * n + 3.0, 16.0)), 4.6), raster=n > _SVG_GROUPS)
        + _table(table, sortable=True, table_id="pooling-table", max_rows=_MAX_ROWS)
    )


def render_report(fit: Any, *, title: str | None = None, prob: float = 0.95,
                  draws: int = 4000, seed: int | None = 0, data_name: str | None = None) -> str:
    """The report of a fit as one self-contained HTML string (see :func:`write_report`).

    Examples
    --------
    >>> import hierbayes as hb
    >>> page = render_report(hb.NormalNormal().fit(hb.datasets.load("eight_schools")),
    ...                      draws=200)
    >>> page.startswith("<!DOCTYPE html>"), "http://" in page.replace("http://www.w3.org", "")
    (True, False)
    """
    name = info_of(fit).title
    n = len(fit.group_labels)
    of = f"the {data_name} data, {n} groups" if data_name else f"{n} groups"
    title = title or f"{name} model of {of}"
    tail = (1.0 - prob) / 2.0
    pool = fit.model.pooling
    sections: list[tuple[str, str, str]] = []  # (id, heading, body)

    sections.append(("data", "Data", _data_summary(fit)))
    sections.append(("model", "Model and prior", _model(fit, name, prob)))
    hyper = fit.hyper
    sections.append(("hyper", "Hyperparameters", _table(hyper, table_id="hyper-table")
                     + _hyper_note(hyper)
                     if len(hyper) else "<p>No pooling: there are no hyperparameters.</p>"))

    many = n > _SVG_GROUPS
    figs = [_figure(lambda ax: plots.plot_shrinkage(fit, ax=ax),
                    "Raw estimate against posterior mean; the grey lines show each group's "
                    "pull toward the population mean, point area the group's size.",
                    raster=many)]
    if pool == "partial":
        figs.append(_figure(lambda ax: plots.plot_hyperposterior(fit, ax=ax),
                            fit.hyper_view().caption))
    figs.append(_figure(lambda ax: plots.plot_caterpillar(fit, ax=ax, prob=prob),
                        f"Posterior means and {prob:.0%} intervals, sorted.", size=_tall(n),
                        raster=many))
    sections.append(("plots", "Plots", f'<div class="figs">{"".join(figs)}</div>'))

    lo, hi = quantile_label(tail), quantile_label(1.0 - tail)
    groups = fit.groups  # computed once per fit (the plots use it too)
    if lo not in groups.columns or hi not in groups.columns:
        groups = fit.summary(prob).rename(columns={"lower": lo, "upper": hi})
    sections.append(("groups", "Groups",
                     f"<p>Posterior mean, sd and {prob:.0%} equal-tailed interval of every "
                     "group's theta; <code>shrinkage</code> is the weight on the population "
                     "mean. Click a column header to sort.</p>"
                     + _table(groups, sortable=True, table_id="group-table",
                              max_rows=_MAX_ROWS)))

    sections.append(("pooling", "Complete, no and partial pooling", _pooling(fit, prob, n)))

    ppc_html, ranks_html = _checks(fit, prob, draws, seed)
    if ppc_html:
        sections.append(("checks", "Posterior predictive checks", ppc_html))
    if ranks_html:
        sections.append(("ranks", "League table (ranks)", ranks_html))
    sections.append(("accuracy", "Numerical accuracy", _accuracy(fit)))

    from hierbayes._version import __version__

    nav = "".join(f'<a href="#{sid}">{_esc(head)}</a>' for sid, head, _ in sections)
    body = "".join(f'<section id="{sid}"><h2>{_esc(head)}</h2>{content}</section>'
                   for sid, head, content in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body><main>"
        f"<h1>{_esc(title)}</h1><p class=\"note\">hierbayes {_esc(__version__)} — exact "
        f"hierarchical Bayes by quadrature.</p><nav>{nav}</nav>{body}</main>"
        f"<script>{_JS}</script></body></html>\n"
    )


def write_report(fit: Any, path: str | Path, *, title: str | None = None, prob: float = 0.95,
                 draws: int = 4000, seed: int | None = 0, data_name: str | None = None) -> Path:
    """Write a self-contained HTML report of a fit.

    Parameters
    ----------
    fit : Fit
        A fit of any family and pooling level.
    path : str or pathlib.Path
        The HTML file to write (overwritten).
    title : str, optional
        The page title (default: the family, the data's name and the number
        of groups).
    prob : float
        Mass of the equal-tailed intervals in the tables and plots.
    draws, seed : int
        Monte Carlo draws for the posterior predictive checks and ranks.
    data_name : str, optional
        What the data are called (a bundled data set's name, a file name),
        for the title.

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import hierbayes as hb
    >>> fit = hb.GammaPoisson().fit(hb.datasets.load("pumps"))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = write_report(fit, pathlib.Path(d) / "pumps.html", draws=200)
    ...     "group-table" in p.read_text(encoding="utf-8")
    True
    """
    out = Path(path)
    out.write_text(render_report(fit, title=title, prob=prob, draws=draws, seed=seed,
                                 data_name=data_name), encoding="utf-8")
    return out
