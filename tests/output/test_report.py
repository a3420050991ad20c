"""The HTML report: self-contained, escaped, complete; rendered in a real headless Chromium."""

from __future__ import annotations

import base64
import functools
import html
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.output.cli import main
from hierbayes.output.report import render_report, write_report

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
FAMILIES = {
    "binomial": (hb.BetaBinomial, "rats"),
    "normal": (hb.NormalNormal, "eight_schools"),
    "poisson": (hb.GammaPoisson, "pumps"),
}
SECTIONS = ["data", "model", "hyper", "plots", "groups", "pooling", "accuracy"]


class _Page(HTMLParser):
    """Tags, attributes and the text of table cells, by table id."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "table":
            self._table = a.get("id") or f"table{len(self.tables)}"
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append("".join(self._cell))
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _parse(page: str) -> _Page:
    p = _Page()
    p.feed(page)
    return p


@functools.cache
def _rendered(family: str) -> tuple[object, str]:
    """A fit of the family's bundled data set and its report (rendered once per session)."""
    cls, name = FAMILIES[family]
    fit = cls().fit(hb.datasets.load(name))
    return fit, render_report(fit, draws=500)


@pytest.fixture(params=list(FAMILIES))
def family(request):
    return request.param


@pytest.fixture()
def fit(family):
    return _rendered(family)[0]


@pytest.fixture()
def pages(family):
    return _rendered(family)[1]


def test_report_is_self_contained(pages):
    page = _parse(pages)
    urls = [v for _, a in page.tags for k, v in a.items() if k in ("src", "href") and v]
    assert urls  # the images and the navigation
    assert all(u.startswith(("data:image/svg+xml;base64,", "#")) for u in urls)
    assert not [t for t, a in page.tags if t == "link" or (t == "script" and "src" in a)]
    for u in urls:
        if u.startswith("data:"):
            svg = base64.b64decode(u.split(",", 1)[1]).decode()
            assert svg.lstrip().startswith("<?xml") and "<svg" in svg
            assert "xlink:href=\"http" not in svg and "<image" not in svg


def test_report_contents(fit, pages):
    page = _parse(pages)
    ids = [a["id"] for t, a in page.tags if t == "section"]
    assert ids[: len(SECTIONS) - 1] == SECTIONS[:-1] and ids[-1] == "accuracy"
    imgs = [a for t, a in page.tags if t == "img"]
    assert len(imgs) >= 4 and all(a["alt"] for a in imgs)  # shrinkage, hyper, caterpillar, pool
    # the group table is fit.summary(0.95), formatted
    rows = page.tables["group-table"]
    s = fit.summary(0.95)
    data_cols = list(s.columns[: s.columns.get_loc("mean")])
    head = rows[0]
    assert head == ["group", *data_cols, "mean", "sd", "q2.5", "q50", "q97.5", "shrinkage"]
    assert [r[0] for r in rows[1:]] == [str(g) for g in s.index]
    for col, name in (("mean", "mean"), ("lower", "q2.5"), ("upper", "q97.5")):
        shown = [float(r[head.index(name)]) for r in rows[1:]]
        np.testing.assert_allclose(shown, s[col], rtol=1e-3)
    # sortable, with exact values behind the formatted ones
    assert re.search(r'<table id="group-table" class="sortable">', pages)
    first = s.iloc[0]
    assert f'data-value="{float(first["mean"])!r}"' in pages
    # hyperparameters, pooling comparison, model, accuracy
    hyper = page.tables["hyper-table"]
    assert [r[0] for r in hyper[1:]] == list(fit.hyper.index)
    assert "∞" in "".join(c for r in hyper for c in r) or fit.observed_name == "estimate"
    assert len(page.tables["pooling-table"]) == len(s) + 1
    assert "partial_mean" in page.tables["pooling-table"][0]
    # the model as mathematics and in words, not as Python reprs
    assert "prior=None" not in pages and "probs=(" not in pages and "<pre>" not in pages
    model = pages.split('<section id="model">')[1].split("</section>")[0]
    lines = fit.model_lines()
    assert model.count('<math display="block">') == sum(bool(m) for m, _ in lines) >= 2
    for _, words in lines:
        assert html.escape(words, quote=True) in model
    assert f"{fit.error:.2g}" in pages and "tolerance 1e-10" in pages
    assert "within tolerance" in pages


def test_report_escapes_user_strings(tmp_path):
    nasty = ['<script>alert("x")</script>', "a & b", "O'Brien", "<b>bold</b>"]
    data = pd.DataFrame({"group": nasty, "successes": [1, 4, 2, 6], "trials": [10, 12, 9, 15]})
    fit = hb.BetaBinomial().fit(data)
    out = write_report(fit, tmp_path / "nasty.html", title="<i>title</i> & co", draws=200)
    page = out.read_text(encoding="utf-8")
    assert "<script>alert" not in page and "<b>bold</b>" not in page and "<i>title" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "a &amp; b" in page and "O&#x27;Brien" in page
    assert "<title>&lt;i&gt;title&lt;/i&gt; &amp; co</title>" in page
    assert page.count("<script>") == 1  # only the report's own sorting script
    groups = [r[0] for r in _parse(page).tables["group-table"][1:]]
    assert groups == nasty


@pytest.mark.parametrize("pooling,method", [("none", "exact"), ("complete", "exact"),
                                            ("partial", "eb")])
def test_report_other_fits(pooling, method, tmp_path):
    fit = hb.GammaPoisson(pooling=pooling, method=method).fit(hb.datasets.load("pumps"))
    page = write_report(fit, tmp_path / "r.html", draws=200).read_text(encoding="utf-8")
    assert "No quadrature was needed" in page
    imgs = page.count("<img ")
    assert imgs >= 3 + (pooling == "partial")
    if pooling == "none":
        assert "there are no hyperparameters" in page


def test_report_of_many_groups(tmp_path, monkeypatch):
    import hierbayes.output.report as report

    monkeypatch.setattr(report, "_SVG_GROUPS", 10)  # the PNG path without a slow fit
    monkeypatch.setattr(report, "_MAX_ROWS", 8)
    rng = np.random.default_rng(3)
    n = rng.integers(5, 60, 12)
    fit = hb.BetaBinomial().fit(successes=rng.binomial(n, 0.2), trials=n)
    page = report.render_report(fit, draws=200, prob=0.9)
    srcs = [a["src"] for t, a in _parse(page).tags if t == "img"]
    png = [u for u in srcs if u.startswith("data:image/png;base64,")]
    assert len(png) == 4  # shrinkage, caterpillar, pooling, ranks; the rest stay SVG
    assert all(base64.b64decode(u.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n" for u in png)
    assert len(srcs) - len(png) == 2  # hyperparameters, predictive checks
    rows = _parse(page).tables["group-table"]
    assert len(rows) == 9 and "First 8 of 12 rows; the whole table" in page
    assert rows[0][-3:-1] == ["q5", "q95"]  # prob=0.9 is not in model.probs: from summary


def test_cli_report(tmp_path):
    csv = tmp_path / "d.csv"
    pd.DataFrame({"lab": ["a", "b", "c"], "y": [3, 5, 1], "n": [20, 21, 19]}).to_csv(csv)
    out = tmp_path / "c.html"
    assert main(["report", str(csv), "--group", "lab", "--successes", "y", "--trials", "n",
                 "--title", "T&T", "--draws", "200", "--prob", "0.9", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert "<title>T&amp;T</title>" in page and "Beta–Binomial" in page
    # without --title, the title names the family, the data and their size
    assert main(["report", str(csv), "--group", "lab", "--successes", "y", "--trials", "n",
                 "--draws", "100", "-o", str(out)]) == 0
    title = re.search("<title>(.*)</title>", out.read_text(encoding="utf-8")).group(1)
    assert title == "Beta–Binomial model of the d.csv data, 3 groups"
    rows = _parse(page).tables["group-table"]
    assert [r[0] for r in rows[1:]] == ["a", "b", "c"]
    assert rows[0][-4:-1] == ["q5", "q50", "q95"]  # the CLI's probs follow --prob
    assert main(["report", str(csv), "--successes", "nope", "-o", str(tmp_path / "x.html")]) == 2
    assert not (tmp_path / "x.html").exists()


def test_fit_report_delegates(tmp_path, monkeypatch):
    import hierbayes.output.report

    calls = []
    monkeypatch.setattr(hierbayes.output.report, "write_report",
                        lambda *a, **k: calls.append((a, k)))
    fit = hb.GammaPoisson().fit(hb.datasets.load("pumps"))
    fit.report(tmp_path / "pumps.html", title="pumps", draws=200)
    assert calls == [((fit, tmp_path / "pumps.html"), {"title": "pumps", "draws": 200})]


def _notes(page: str) -> list[str]:
    return [html.unescape(re.sub("<[^>]+>", "", n))
            for n in re.findall(r'<p class="note">(.*?)</p>', page)]


def test_report_explains_what_it_hides_and_what_it_leaves_out():
    _, rats = _rendered("binomial")
    notes = _notes(rats)
    # 71 rows in a box that shows ~20: the reader is told
    assert "71 rows × 10 columns: scroll inside the table to see them all." in notes
    assert "71 rows × 13 columns: scroll inside the table to see them all." in notes  # pooling
    # ∞ explained where it is: means of alpha, beta, kappa on rats
    assert ("∞ in the mean column: the posterior mean of alpha, beta, kappa does not exist "
            "(a heavy tail); the quantiles do.") in notes
    # predictive checks: none that cannot fail (rats' smallest rate is 0), each explained
    checks = _parse(rats).tables["ppc-table"]
    assert [r[0] for r in checks[1:]] == ["zeros", "max_rate", "var_rate"]
    assert "does the model reproduce the spread between groups?" in rats
    pumps_fit, pumps = _rendered("poisson")
    notes = _notes(pumps)
    # pumps: the sd of the parameter named 'mean' is infinite, said so by name
    assert ("∞ in the sd column: the posterior standard deviation of mean does not exist "
            "(a heavy tail); the quantiles do.") in notes
    assert np.isinf(pumps_fit.hyper.loc["mean", "sd"])
    assert [r[0] for r in _parse(pumps).tables["ppc-table"][1:]] == [
        "max_rate", "min_rate", "var_rate"]  # no zero counts: 'zeros' could not fail
    # the empty no-pooling elpd row is explained (flat prior: no predictive density)
    elpd = {r[0]: r[1:] for r in _parse(pumps).tables["elpd-table"][1:]}
    assert set(elpd["none"]) == {"–"}
    assert any(n.startswith("The none row is empty (–): no pooling cannot predict") for n in notes)
    assert not any("row is empty" in n for n in _notes(rats))  # rats' Beta(1, 1) predicts
    assert "population mean" not in "".join(notes[:1])


def test_report_is_deterministic():
    fit, page = _rendered("normal")
    same = render_report(fit, draws=500) == page
    assert same  # byte for byte: the SVG ids are fixed


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is absent; install Debian's chromium (.ci/run does)"
        if os.environ.get("HIERBAYES_REQUIRE_CHROMIUM"):  # set by .ci/run: CI never skips
            pytest.fail(reason)
        print(f"skipping the browser test: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        # with scroll bars as a desktop browser shows them (headless hides them by default)
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS,
                              ignore_default_args=["--hide-scrollbars"])
        yield b
        b.close()


def test_report_in_headless_chromium(browser, tmp_path):
    fit, page_html = _rendered("binomial")
    html = tmp_path / "rats.html"
    html.write_text(page_html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(html.as_uri(), wait_until="load")
    assert errors == []
    assert all(u.startswith(("file:", "data:")) for u in requests)  # nothing from the network
    # every image decoded, with a real size
    sizes = page.eval_on_selector_all(
        "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    assert len(sizes) >= 4
    assert all(ok and w > 300 and h > 200 for ok, w, h in sizes)
    # the group table, and sorting by clicking a header
    assert page.locator("#group-table tbody tr").count() == 71
    heads = page.locator("#group-table thead th")
    col = [heads.nth(i).inner_text() for i in range(heads.count())].index("mean")
    means = f"rows => rows.map(r => parseFloat(r.cells[{col}].dataset.value))"
    heads.nth(col).click()
    asc = page.eval_on_selector_all("#group-table tbody tr", means)
    assert asc == sorted(fit.groups["mean"].tolist())
    heads.nth(col).click()
    desc = page.eval_on_selector_all("#group-table tbody tr", means)
    assert desc == sorted(asc, reverse=True)
    assert heads.nth(col).get_attribute("aria-sort") == "descending"
    heads.nth(0).click()  # text column: natural order of the labels
    labels = page.eval_on_selector_all("#group-table tbody tr",
                                       "rows => rows.map(r => r.cells[0].textContent)")
    assert labels == [str(i) for i in range(1, 72)]
    for sid in ("data", "hyper", "plots", "groups", "pooling", "accuracy"):
        assert page.locator(f"section#{sid} h2").is_visible()
    # the model's MathML is laid out by the browser (not shown as raw text)
    boxes = page.eval_on_selector_all(
        "section#model math", "ms => ms.map(m => [m.getBoundingClientRect().width, "
        "m.getBoundingClientRect().height, m.namespaceURI])")
    assert len(boxes) == 3
    assert all(w > 60 and h > 10 and ns == "http://www.w3.org/1998/Math/MathML"
               for w, h, ns in boxes)
    # the table boxes scroll, with a visible scroll bar (a note says so too)
    bar = page.eval_on_selector("#group-table", "t => { const w = t.parentElement; "
                                "return [w.scrollHeight > w.clientHeight, "
                                "w.offsetWidth - w.clientWidth]; }")
    assert bar[0] and bar[1] >= 8
    shot = tmp_path / "rats.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    assert errors == []
    page.close()


def test_screenshot_script_writes_under_untracked_out(tmp_path, monkeypatch):
    """scripts/report_screenshot.py writes into out/ (git-ignored), not the repository root."""
    import importlib.util

    root = Path(__file__).resolve().parents[2]
    script = root / "scripts" / "report_screenshot.py"
    spec = importlib.util.spec_from_file_location("shot", script)
    shot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(shot)
    written = []

    def fake(html, png, **kw):
        assert "Gamma–Poisson model of the pumps data" in html.read_text(encoding="utf-8")
        png.write_bytes(b"png")
        written.append(png)
        return []

    monkeypatch.setattr(shot, "screenshot", fake)
    monkeypatch.chdir(tmp_path)
    assert shot.main(["--dataset", "pumps"]) == 0
    assert written == [Path("out") / "report_pumps.png"] and (tmp_path / "out").is_dir()
    assert "/out/" in (root / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("family,pooling,method,covariates", [
    ("binomial", "partial", "eb", None), ("binomial", "complete", "exact", None),
    ("poisson", "none", "exact", None), ("normal", "complete", "exact", None),
    ("binomial", "partial", "exact", "~ x1"), ("poisson", "partial", "exact", "~ aff_pct"),
    ("normal", "partial", "exact", "~ ablat")])
def test_model_lines_are_mathml_and_words(family, pooling, method, covariates):
    """Every kind of fit states its model: well-formed MathML beside a sentence."""
    import xml.etree.ElementTree as ET

    cls, name = FAMILIES[family]
    name = {"~ x1": "seeds", "~ aff_pct": "lip_cancer", "~ ablat": "bcg"}.get(covariates, name)
    kw = {"covariates": covariates} if covariates else {}
    fit = cls(pooling=pooling, method=method).fit(hb.datasets.load(name), **kw)
    lines = fit.model_lines()
    words = [w for _, w in lines]
    assert words[0].startswith("Data: ")
    expect = {"partial": "Population: ", "complete": "Complete pooling: ",
              "none": "Prior: "}[pooling]
    assert words[1].startswith(expect) and all(w.endswith(".") for w in words)
    if covariates:
        assert "regression" in words[1] and covariates[2:] in words[2]
    if method == "eb":
        assert words[-1].startswith("Empirical Bayes")
    for math, _ in lines:
        if math:
            root = ET.fromstring(math)
            assert root.tag == "math" and root.get("display") == "block"
