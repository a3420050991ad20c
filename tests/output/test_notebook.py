"""HTML of results in notebooks (_repr_html_, issue 15)."""

from __future__ import annotations

import re

import hierbayes as hb


def _cells(html: str) -> list[str]:
    return re.findall(r"<td>([^<]*)</td>", html)


def test_fit_html_shows_its_tables_with_the_fit_numbers():
    rats = hb.datasets.load("rats")
    fit = hb.BetaBinomial().fit(rats)
    html = fit._repr_html_()
    assert html.startswith("<div class='hierbayes'>")
    assert "<h4>Hyperparameters</h4>" in html and "<h4>Groups</h4>" in html
    assert "51 more rows (71 in all)" in html  # 20 of 71 groups shown, and it says so
    assert f"{fit.hyper.loc['mu', 'mean']:.4g}" in _cells(html)
    assert f"{fit.groups['mean'].iloc[0]:.4g}" in _cells(html)
    assert "&lt;BetaBinomialFit" in html  # the repr, escaped


def test_regression_comparison_and_check_html():
    fit = hb.NormalNormal().fit(hb.datasets.load("bcg"), covariates="~ ablat")
    html = fit._repr_html_()
    assert html.index("<h4>Coefficients</h4>") < html.index("<h4>Hyperparameters</h4>")
    c = hb.compare_pooling(hb.datasets.load("eight_schools"), model=hb.NormalNormal())
    html = c._repr_html_()
    assert "Leave-one-group-out" in html and "partial" in html
    assert "–" in html  # NaN (no pooling under a flat prior) shown as a dash
    ppc = hb.BetaBinomial().fit(hb.datasets.load("rats")).ppc(draws=200, seed=1)
    assert "<h4>Statistics</h4>" in ppc._repr_html_()
