"""Parity harness: record every number hierbayes prints, and compare two records.

Usage::

    python validation/parity.py record OUT.json [--quick] [--jobs N]
    python validation/parity.py compare A.json B.json [--rtol 1e-9] [--atol 1e-12] [--limit N]

``record`` runs the public API (``import hierbayes as hb`` only: the model
classes, ``compare_pooling``, ``compare_methods``, ``hb.datasets`` and the
fit methods) and the command line (``python -m hierbayes ... --format json``
in subprocesses that import the same hierbayes as this process) and writes
one JSON document. It records, for every bundled data set x pooling
(partial, complete, none) x method (exact, eb) x prior form (the default and
proper scipy.stats dict priors; a combination the library refuses is
recorded as the exception's class and message):

* ``repr(fit)``, ``error``, ``groups``, ``moments``, ``summary(0.9)``,
  ``hyper``, ``draws(200, seed=1)`` (column means and the first 3 rows),
  ``logo()``, ``log_evidence()``, ``ppc(draws=500, seed=0).table``;
* ``prob_greater(c)``, ``flag(c, fdr=0.1)`` at a round number ``c`` near the
  pooled raw rate (or mean estimate) of the data, ``ranks(draws=500, seed=0)``,
  ``difference(first group, last group, draws=20000)``, ``prob_best()`` (data
  sets of at most 12 groups only: it is slow), ``predict_new`` at the median
  design value without and with observed data, and ``log_predictive_new``;
* the warnings each step raised (category and message; for RuntimeWarning,
  e.g. NumPy overflow, the distinct messages only, because how often they
  fire is an implementation detail);

and per data set ``compare_pooling`` and ``compare_methods`` (their tables),
the CLI's ``fit``, ``compare``, ``check``, ``rank`` (with ``--above c --fdr
0.1``) and ``predict`` (with ``--design``, and with ``--observed``) JSON
documents (without ``metadata.hierbayes_version``), the CLI's ``datasets``
document, and the visible text of the rats HTML report (tags, scripts,
styles and image data URIs removed; the version number replaced by
``<version>``). Errors of any step are recorded as ``{"error": {"type",
"message"}}``. Nothing that varies between runs is recorded (no timings; the
key ``_info`` holds the environment and is not compared).

Every DataFrame is stored as ``{"type": "DataFrame", "index", "index_name",
"columns", "dtypes", "data": {column: [values]}}`` and every Series likewise;
floats are JSON numbers (Python's repr, which round-trips exactly) and NaN,
+inf, -inf the strings ``"nan"``, ``"inf"``, ``"-inf"``.

``--quick`` (under a minute on 2 cores) records rats, eight_schools and pumps
with six model combinations each and every CLI command for those three;
``--jobs`` (default 2) runs the independent steps in that many forked worker
processes (the record does not depend on it).

``compare`` walks both records and prints every differing leaf with its path
(positions in a table also show the row label), both values and the absolute
and relative difference, ``ok`` when within ``atol + rtol * max(|a|, |b|)``
and ``FAIL`` otherwise; strings, types and structure must be identical. It
ends with a summary count and the largest relative difference per top-level
(and second-level) key, and exits 0 when every difference is within
tolerance, 1 otherwise.

Typical use around a refactor step::

    cd /work/base && PYTHONPATH=src python /work/main/validation/parity.py \\
        record /work/parity/base_full.json
    cd /work/main && PYTHONPATH=src python validation/parity.py record /tmp/new.json
    python validation/parity.py compare /work/parity/base_full.json /tmp/new.json
"""

from __future__ import annotations

import os

# One BLAS thread everywhere (here, in workers and in CLI subprocesses): results must not
# depend on how a reduction is split over threads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import multiprocessing  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from html.parser import HTMLParser  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import scipy  # noqa: E402
import scipy.stats as st  # noqa: E402

import hierbayes as hb  # noqa: E402

POOLINGS = ("partial", "complete", "none")
METHODS = ("exact", "eb")
QUICK_DATASETS = ("rats", "eight_schools", "pumps")
PROB_BEST_MAX_GROUPS = 12
DIFFERENCE_DRAWS = 20_000
CLI_COMMANDS = ("fit", "compare", "check", "rank", "predict", "predict_observed")
REPORT_DATASET = "rats"

# family name in hb.datasets -> model class, CLI --design role, observed role
FAMILIES: dict[str, tuple[Any, str, str]] = {
    "beta-binomial": (hb.BetaBinomial, "trials", "successes"),
    "normal-normal": (hb.NormalNormal, "std_error", "estimate"),
    "gamma-poisson": (hb.GammaPoisson, "exposure", "counts"),
}


def proper_priors(family: str) -> dict[str, dict[str, Any]]:
    """The proper scipy.stats dict priors recorded for a family, by name."""
    if family == "beta-binomial":
        return {"mu_kappa": {"mu": st.beta(1, 1), "kappa": st.lognorm(1, scale=10)}}
    if family == "normal-normal":
        return {"mu_tau": {"mu": st.norm(0, 5), "tau": st.halfcauchy(scale=5)},
                "tau": {"tau": st.halfcauchy(scale=5)}}
    return {"alpha_beta": {"alpha": st.expon(scale=1), "beta": st.gamma(0.1, scale=1)}}


def prior_forms(family: str) -> list[str]:
    return ["default", *proper_priors(family)]


def dataset_names(quick: bool) -> list[str]:
    names = list(hb.datasets.DATASETS)
    return [n for n in names if n in QUICK_DATASETS] if quick else names


def combinations(name: str, quick: bool) -> list[tuple[str, str, str]]:
    """(pooling, method, prior form) recorded for a data set."""
    family = hb.datasets.DATASETS[name].family
    forms = prior_forms(family)
    if quick:
        return [("partial", "exact", "default"), ("partial", "exact", forms[1]),
                ("partial", "eb", "default"), ("partial", "eb", forms[1]),
                ("complete", "exact", "default"), ("none", "exact", "default")]
    return [(p, m, f) for p in POOLINGS for m in METHODS for f in forms]


def combo_key(pooling: str, method: str, form: str) -> str:
    return f"{pooling}:{method}:{form}"


# ---- JSON encoding ---------------------------------------------------------------------------
_SRC = str(Path(hb.__file__).resolve().parent.parent)
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def clean_text(s: str) -> str:
    """A string without run-dependent parts (object addresses, the source location)."""
    return _ADDRESS.sub(" at 0x?", s).replace(_SRC, "<src>")


def enc_float(x: float) -> float | str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return float(x)


def enc(x: Any) -> Any:
    """A JSON-safe, exact representation of a result."""
    if isinstance(x, pd.DataFrame):
        return {
            "type": "DataFrame",
            "index": [enc(v) for v in x.index],
            "index_name": enc(x.index.name),
            "columns": [str(c) for c in x.columns],
            "dtypes": [str(t) for t in x.dtypes],
            "data": {str(c): [enc(v) for v in x.iloc[:, i].tolist()]
                     for i, c in enumerate(x.columns)},
        }
    if isinstance(x, pd.Series):
        return {
            "type": "Series",
            "name": enc(x.name),
            "index": [enc(v) for v in x.index],
            "index_name": enc(x.index.name),
            "dtype": str(x.dtype),
            "values": [enc(v) for v in x.tolist()],
        }
    if isinstance(x, pd.Index):
        return [enc(v) for v in x]
    if isinstance(x, np.ndarray):
        return [enc(v) for v in x.tolist()]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return enc_float(float(x))
    if isinstance(x, str):
        return clean_text(x)
    if x is None:
        return None
    if isinstance(x, dict):
        return {str(k): enc(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [enc(v) for v in x]
    return {"repr": clean_text(repr(x)), "type": type(x).__name__}


def enc_json_doc(x: Any) -> Any:
    """A parsed CLI JSON document, with floats encoded like every other record."""
    if isinstance(x, dict):
        return {k: enc_json_doc(v) for k, v in x.items()}
    if isinstance(x, list):
        return [enc_json_doc(v) for v in x]
    if isinstance(x, float):
        return enc_float(x)
    if isinstance(x, str):
        return clean_text(x)
    return x


def error_record(exc: BaseException) -> dict[str, Any]:
    return {"error": {"type": type(exc).__name__, "message": clean_text(str(exc))}}


# ---- capturing warnings ----------------------------------------------------------------------
@contextmanager
def caught_warnings() -> Iterator[list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def summarise_warnings(caught: list[warnings.WarningMessage]) -> list[dict[str, Any]]:
    """Distinct (category, message) in order of first appearance; counts except for
    RuntimeWarning (NumPy's floating-point warnings fire once per array operation)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for w in caught:
        key = (w.category.__name__, clean_text(str(w.message)))
        if key not in out:
            out[key] = {"category": key[0], "message": key[1]}
            if not issubclass(w.category, RuntimeWarning):
                out[key]["count"] = 0
        if "count" in out[key]:
            out[key]["count"] += 1
    return list(out.values())


class Steps:
    """Runs named steps, recording each value (or error) and the warnings it raised."""

    def __init__(self) -> None:
        self.out: dict[str, Any] = {}
        self.warned: dict[str, Any] = {}

    def run(self, name: str, f: Callable[[], Any]) -> Any:
        with caught_warnings() as caught:
            try:
                value = f()
                self.out[name] = enc(value)
            except Exception as exc:
                value = None
                self.out[name] = error_record(exc)
        if caught:
            self.warned[name] = summarise_warnings(caught)
        return value

    def result(self) -> dict[str, Any]:
        return {**self.out, "warnings": self.warned}


# ---- per data set constants (from the data alone, so they never move with the fit) --------
def round_sig(x: float, digits: int = 2) -> float:
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{digits}g}")


def settings(name: str) -> dict[str, Any]:
    """Threshold c, new-group design and observed value, first and last group label."""
    ds = hb.datasets.DATASETS[name]
    data = hb.datasets.load(name)
    _, design, observed = FAMILIES[ds.family]
    if ds.family == "normal-normal":
        c = round_sig(float(data["estimate"].mean()))
        d = round_sig(float(data["std_error"].median()), 3)
        y = c
    else:
        c = round_sig(float(data[observed].sum() / data[design].sum()))
        d = round_sig(float(data[design].median()), 3)
        if ds.family == "beta-binomial":
            d = float(round(d))
        y = float(round(c * d))
    groups = pd.Index(pd.unique(data["group"])).tolist()  # Python scalars
    return {"c": c, "design_name": design, "design": d, "observed_name": observed,
            "observed": y, "first": groups[0], "last": groups[-1], "n_groups": len(groups)}


def model_for(name: str, pooling: str, method: str, form: str) -> Any:
    family = hb.datasets.DATASETS[name].family
    cls = FAMILIES[family][0]
    if form == "default":
        return cls(pooling=pooling, method=method)
    return cls(pooling=pooling, method=method, prior=proper_priors(family)[form])


# ---- tasks (each runs in a worker and returns JSON-safe data) --------------------------------
def task_dataset(name: str) -> dict[str, Any]:
    ds = hb.datasets.DATASETS[name]
    return {"family": ds.family, "description": ds.description, "source": ds.source,
            "settings": enc(settings(name)), "data": enc(hb.datasets.load(name))}


def draws_summary(fit: Any) -> dict[str, Any]:
    d = fit.draws(200, seed=1)
    return {"shape": list(d.shape), "mean": d.mean(), "head": d.head(3)}


def task_fit(name: str, pooling: str, method: str, form: str) -> dict[str, Any]:
    s = settings(name)
    data = hb.datasets.load(name)
    steps = Steps()
    model = steps.run("model", lambda: model_for(name, pooling, method, form))
    if model is None:
        return {"refused": steps.out["model"]["error"], "warnings": steps.warned}
    del steps.out["model"]
    fit = steps.run("fit", lambda: model.fit(data))
    if fit is None:
        return {"refused": steps.out["fit"]["error"], "warnings": steps.warned}
    del steps.out["fit"]
    c, fdr = s["c"], 0.1
    new = {s["design_name"]: s["design"]}
    new_obs = {**new, s["observed_name"]: s["observed"]}
    steps.run("repr", lambda: repr(fit))
    steps.run("error", lambda: fit.error)
    steps.run("groups", lambda: fit.groups)
    steps.run("moments", lambda: fit.moments)
    steps.run("summary(0.9)", lambda: fit.summary(0.9))
    steps.run("hyper", lambda: fit.hyper)
    steps.run("draws(200,seed=1)", lambda: draws_summary(fit))
    steps.run("logo", fit.logo)
    steps.run("log_evidence", fit.log_evidence)
    steps.run("ppc(draws=500,seed=0)", lambda: fit.ppc(draws=500, seed=0).table)
    steps.run(f"prob_greater({c!r})", lambda: fit.prob_greater(c))
    steps.run(f"flag({c!r},fdr={fdr})", lambda: fit.flag(c, fdr=fdr))
    steps.run("ranks(draws=500,seed=0)", lambda: fit.ranks(draws=500, seed=0))
    steps.run(f"difference({s['first']!r},{s['last']!r},draws={DIFFERENCE_DRAWS})",
              lambda: fit.difference(s["first"], s["last"], draws=DIFFERENCE_DRAWS))
    if s["n_groups"] <= PROB_BEST_MAX_GROUPS:
        steps.run("prob_best", fit.prob_best)
    steps.run(f"predict_new({new})", lambda: fit.predict_new(**new))
    steps.run(f"predict_new({new_obs})", lambda: fit.predict_new(**new_obs))
    steps.run(f"log_predictive_new({new_obs})", lambda: fit.log_predictive_new(**new_obs))
    return steps.result()


def model_of(name: str) -> Any:
    return FAMILIES[hb.datasets.DATASETS[name].family][0]()


def task_compare_pooling(name: str) -> dict[str, Any]:
    steps = Steps()

    def run() -> dict[str, Any]:
        c = hb.compare_pooling(hb.datasets.load(name), model=model_of(name))
        return {"groups": c.groups, "elpd": c.elpd, "pointwise": c.pointwise,
                "fits": {k: repr(f) for k, f in c.fits.items()}}

    steps.run("compare_pooling", run)
    return steps.result()


def task_compare_methods(name: str) -> dict[str, Any]:
    steps = Steps()

    def run() -> dict[str, Any]:
        c = hb.compare_methods(hb.datasets.load(name), model=model_of(name))
        out: dict[str, Any] = {k: v for k, v in vars(c).items() if k != "fits"}
        out["fits"] = {k: repr(f) for k, f in c.fits.items()}
        return out

    steps.run("compare_methods", run)
    return steps.result()


def cli_env() -> dict[str, str]:
    """The environment of CLI subprocesses: they import the hierbayes this process runs."""
    env = dict(os.environ)
    path = env.get("PYTHONPATH")
    env["PYTHONPATH"] = _SRC + (os.pathsep + path if path else "")
    env.pop("PYTHONWARNINGS", None)
    return env


_WARNING_LINE = re.compile(r"^\S.*?:\d+: (\w+): (.*)$")


def clean_stderr(text: str) -> list[str]:
    """stderr lines without warnings' file:line prefixes and echoed source lines."""
    out: list[str] = []
    skip_source = False
    for line in text.splitlines():
        m = _WARNING_LINE.match(line)
        if m:
            out.append(f"{m.group(1)}: {m.group(2)}")
            skip_source = True
            continue
        if skip_source and line.startswith("  "):
            skip_source = False
            continue
        skip_source = False
        out.append(clean_text(line))
    return out


def run_cli(args: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as cwd:
        proc = subprocess.run([sys.executable, "-m", "hierbayes", *args], cwd=cwd,
                              env=cli_env(), capture_output=True, text=True, check=False)
    record: dict[str, Any] = {"args": args, "returncode": proc.returncode,
                              "stderr": clean_stderr(proc.stderr)}
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        record["stdout"] = clean_text(proc.stdout)
        return record
    if isinstance(doc, dict) and isinstance(doc.get("metadata"), dict):
        doc["metadata"].pop("hierbayes_version", None)
    record["json"] = enc_json_doc(doc)
    return record


def cli_args(name: str, command: str) -> list[str]:
    s = settings(name)
    base = ["--dataset", name, "--format", "json"]
    if command == "rank":
        return ["rank", *base, "--above", repr(s["c"]), "--fdr", "0.1"]
    if command == "predict":
        return ["predict", *base, "--design", repr(s["design"])]
    if command == "predict_observed":
        return ["predict", *base, "--design", repr(s["design"]), "--observed",
                repr(s["observed"])]
    return [command, *base]


def task_cli(name: str, command: str) -> dict[str, Any]:
    return run_cli(cli_args(name, command))


def task_cli_datasets() -> dict[str, Any]:
    return run_cli(["datasets", "--format", "json"])


_BLOCK = frozenset(("br", "p", "div", "tr", "li", "ul", "ol", "nav", "h1", "h2", "h3", "h4",
                    "section", "table", "thead", "tbody", "caption", "figure", "figcaption",
                    "title", "pre", "header", "footer", "details", "summary", "dl", "dt", "dd"))


class _Text(HTMLParser):
    """Visible text of an HTML page: no tags, scripts, styles or attribute values."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append("\t")
        else:  # inline (a, span, code, ...): a word boundary
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag not in ("td", "th"):
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


_DATA_URI = re.compile(r"data:[\w/+.-]+(;[\w=-]+)*,[A-Za-z0-9+/=%._~-]+")


def report_lines(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = _DATA_URI.sub("<data-uri>", "".join(parser.parts))
    text = text.replace(f"hierbayes {hb.__version__}", "hierbayes <version>")
    lines = (" ".join(line.replace("\t", " | ").split()) for line in text.splitlines())
    return [clean_text(line) for line in lines if line.strip(" |")]


def task_report(name: str) -> dict[str, Any]:
    steps = Steps()

    def run() -> dict[str, Any]:
        fit = hb.BetaBinomial().fit(hb.datasets.load(name))
        with tempfile.TemporaryDirectory() as tmp:
            path = fit.report(Path(tmp) / f"{name}.html")
            html = Path(path).read_text(encoding="utf-8")
        return {"lines": report_lines(html)}

    steps.run("report", run)
    return steps.result()


TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    "datasets": task_dataset,
    "fits": task_fit,
    "compare_pooling": task_compare_pooling,
    "compare_methods": task_compare_methods,
    "cli": task_cli,
    "cli_datasets": task_cli_datasets,
    "report": task_report,
}


def run_task(kind: str, args: tuple[Any, ...]) -> dict[str, Any]:
    return TASKS[kind](*args)


def plan(quick: bool) -> list[tuple[str, tuple[Any, ...]]]:
    """Every task in the record's order."""
    names = dataset_names(quick)
    tasks: list[tuple[str, tuple[Any, ...]]] = [("datasets", (n,)) for n in names]
    tasks += [("fits", (n, *c)) for n in names for c in combinations(n, quick)]
    tasks += [("compare_pooling", (n,)) for n in names]
    tasks += [("compare_methods", (n,)) for n in names]
    tasks += [("cli", (n, cmd)) for n in names for cmd in CLI_COMMANDS]
    if not quick:
        tasks.append(("cli_datasets", ()))
    if REPORT_DATASET in names:
        tasks.append(("report", (REPORT_DATASET,)))
    return tasks


def cost(task: tuple[str, tuple[Any, ...]]) -> float:
    """A rough cost, to start the slow tasks first (the record does not depend on it)."""
    kind, args = task
    if kind != "fits":
        return {"cli": 3.0, "report": 8.0, "compare_pooling": 3.0,
                "compare_methods": 3.0}.get(kind, 0.1)
    name, pooling, method, _ = args
    n = len(hb.datasets.load(name))
    if pooling != "partial":
        return 0.5
    if method == "eb":
        return 1.0 + n / 5
    slow = {"surgical": 150.0, "cancer_mortality": 60.0}
    return slow.get(name, 5.0 + n / 10)


def insert(record: dict[str, Any], task: tuple[str, tuple[Any, ...]], value: Any) -> None:
    kind, args = task
    if kind == "fits":
        name, *combo = args
        record["fits"].setdefault(name, {})[combo_key(*combo)] = value
    elif kind == "cli":
        record["cli"].setdefault(args[0], {})[args[1]] = value
    elif kind == "cli_datasets":
        record["cli_datasets"] = value
    else:
        record[kind][args[0]] = value


def cli_hierbayes_file() -> str:
    out = subprocess.run([sys.executable, "-c", "import hierbayes; print(hierbayes.__file__)"],
                         cwd=tempfile.gettempdir(), env=cli_env(), capture_output=True,
                         text=True, check=True)
    return out.stdout.strip()


def record_main(out: Path, quick: bool, jobs: int) -> int:
    start = time.perf_counter()
    here = str(Path(hb.__file__).resolve())
    there = str(Path(cli_hierbayes_file()).resolve())
    if here != there:
        print(f"CLI subprocesses import {there}, this process {here}", file=sys.stderr)
        return 2
    print(f"hierbayes from {here}; CLI subprocesses likewise", file=sys.stderr)
    tasks = plan(quick)
    order = sorted(range(len(tasks)), key=lambda i: -cost(tasks[i]))
    results: dict[int, Any] = {}
    if jobs <= 1:
        for k, i in enumerate(order, 1):
            results[i] = run_task(*tasks[i])
            print(f"[{k}/{len(tasks)}] {tasks[i][0]} {tasks[i][1]}", file=sys.stderr)
    else:
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
            futures = {i: pool.submit(run_task, *tasks[i]) for i in order}
            for k, i in enumerate(order, 1):
                results[i] = futures[i].result()
                print(f"[{k}/{len(tasks)}] {tasks[i][0]} {tasks[i][1]}", file=sys.stderr)
    record: dict[str, Any] = {
        "_info": {
            "mode": "quick" if quick else "full",
            "hierbayes_file": clean_text(here),
            "hierbayes_src": _SRC,
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "pandas": pd.__version__,
        },
        "datasets": {}, "fits": {}, "compare_pooling": {}, "compare_methods": {}, "cli": {},
        "report": {},
    }
    for i, task in enumerate(tasks):
        insert(record, task, results[i])
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=1, ensure_ascii=False, allow_nan=False)
    out.write_text(text + "\n", encoding="utf-8")
    problems = list(find_errors(record))
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB, {len(tasks)} tasks, "
          f"{time.perf_counter() - start:.0f} s)", file=sys.stderr)
    if problems:
        print(f"{len(problems)} recorded errors and refusals:", file=sys.stderr)
        for path, err in problems:
            print(f"  {path}: {err['type']}: {err['message'][:160]}", file=sys.stderr)
    return 0


def find_errors(x: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(x, dict):
        for key in ("error", "refused"):
            if isinstance(x.get(key), dict) and set(x[key]) == {"type", "message"}:
                yield path, x[key]
        for k, v in x.items():
            if k not in ("error", "refused", "_info"):
                yield from find_errors(v, f"{path}/{k}")


# ---- compare ---------------------------------------------------------------------------------
class Diff:
    """Walks two records; keeps every differing leaf and statistics per key."""

    def __init__(self, rtol: float, atol: float) -> None:
        self.rtol, self.atol = rtol, atol
        self.leaves = 0
        self.rows: list[tuple[str, str]] = []  # (status, line)
        self.fails = 0
        self.within = 0
        # per top-level and second-level key: [max rel, its path, numeric diffs, others]
        self.stats: dict[str, list[Any]] = {}

    def _keys(self, path: str) -> tuple[str, ...]:
        parts = path.strip("/").split("/")
        return (parts[0],) if len(parts) == 1 else (parts[0], "/".join(parts[:2]))

    def numeric(self, path: str, rel: float) -> None:
        for key in self._keys(path):
            st_ = self.stats.setdefault(key, [0.0, "", 0, 0])
            st_[2] += 1
            if rel > st_[0] or not st_[1]:
                st_[0], st_[1] = rel, path

    def structural(self, path: str, what: str) -> None:
        self.fails += 1
        self.rows.append(("FAIL", f"{path}: {what}"))
        for key in self._keys(path):
            self.stats.setdefault(key, [0.0, "", 0, 0])[3] += 1

    def walk(self, a: Any, b: Any, path: str, labels: list[Any] | None = None) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            kind = a.get("type") if a.get("type") == b.get("type") else None
            for k in [*a, *(k for k in b if k not in a)]:
                p = f"{path}/{k}"
                if k not in b:
                    self.structural(p, "only in A")
                elif k not in a:
                    self.structural(p, "only in B")
                elif kind == "DataFrame" and k == "data":
                    for col in [*a[k], *(c for c in b[k] if c not in a[k])]:
                        if col not in a[k] or col not in b[k]:
                            self.structural(f"{p}/{col}", "column only in one record")
                        else:
                            self.walk(a[k][col], b[k][col], f"{p}/{col}", a["index"])
                elif kind == "Series" and k == "values":
                    self.walk(a[k], b[k], p, a["index"])
                else:
                    self.walk(a[k], b[k], p)
            return
        if isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                self.structural(path, f"length {len(a)} in A, {len(b)} in B")
            for i, (x, y) in enumerate(zip(a, b, strict=False)):
                label = f" ({labels[i]!r})" if labels is not None and i < len(labels) else ""
                self.walk(x, y, f"{path}[{i}{label}]")
            return
        self.leaves += 1
        num = (int, float)
        if (isinstance(a, num) and isinstance(b, num) and not isinstance(a, bool)
                and not isinstance(b, bool)):
            if a == b:
                if type(a) is not type(b):
                    self.structural(path, f"type: A={a!r} ({type(a).__name__}) "
                                          f"B={b!r} ({type(b).__name__})")
                return
            diff = abs(float(a) - float(b))
            scale = max(abs(float(a)), abs(float(b)))
            rel = diff / scale if scale > 0 else math.inf
            ok = diff <= self.atol + self.rtol * scale
            if ok:
                self.within += 1
            else:
                self.fails += 1
            self.rows.append(("ok" if ok else "FAIL",
                              f"{path}: A={a!r} B={b!r} abs={diff:.3g} rel={rel:.3g}"))
            self.numeric(path, rel)
            return
        if a != b or type(a) is not type(b):
            self.structural(path, f"A={short(a)} B={short(b)}")

    def print_stats(self, top_keys: list[str]) -> None:
        print("per key: largest relative difference of numbers (where), numbers that differ, "
              "other differences (strings, types, structure)")
        keys = sorted(set(top_keys) | set(self.stats),
                      key=lambda k: (k.split("/")[0], "/" in k, k))
        for key in keys:
            rel, where, n_num, n_other = self.stats.get(key, [0.0, "", 0, 0])
            indent = "    " if "/" in key else "  "
            at = f" at {where}" if where else ""
            print(f"{indent}{key}: max rel {rel:.3g}{at}; {n_num} numbers differ, "
                  f"{n_other} other")


def short(x: Any, n: int = 300) -> str:
    s = json.dumps(x, ensure_ascii=False)
    return s if len(s) <= n else s[:n] + f"... ({len(s)} chars)"


def compare_main(a_path: Path, b_path: Path, rtol: float, atol: float,
                 limit: int | None) -> int:
    a = json.loads(a_path.read_text(encoding="utf-8"))
    b = json.loads(b_path.read_text(encoding="utf-8"))
    ia, ib = a.pop("_info", {}), b.pop("_info", {})
    for key in sorted(set(ia) | set(ib)):
        if ia.get(key) != ib.get(key):
            print(f"note: _info/{key}: A={ia.get(key)!r} B={ib.get(key)!r}")
    d = Diff(rtol, atol)
    d.walk(a, b, "")
    shown = d.rows if limit is None else d.rows[:limit]
    for status, line in shown:
        print(f"{status:4} {line}")
    if len(shown) < len(d.rows):
        print(f"... {len(d.rows) - len(shown)} more differences (--limit)")
    print()
    print(f"summary: {d.leaves} leaves compared, {len(d.rows)} differ: {d.within} within "
          f"tolerance (rtol={rtol:g}, atol={atol:g}), {d.fails} beyond it or structural")
    d.print_stats(sorted(set(a) | set(b)))
    print("PASS" if d.fails == 0 else "FAIL")
    return 0 if d.fails == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="run everything and write a JSON record")
    rec.add_argument("out", type=Path)
    rec.add_argument("--quick", action="store_true",
                     help="rats, eight_schools and pumps, fewer combinations (< 1 min)")
    rec.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                     help="worker processes (default: 2 or the number of CPUs)")
    cmp = sub.add_parser("compare", help="list every difference between two records")
    cmp.add_argument("a", type=Path)
    cmp.add_argument("b", type=Path)
    cmp.add_argument("--rtol", type=float, default=1e-9)
    cmp.add_argument("--atol", type=float, default=1e-12)
    cmp.add_argument("--limit", type=int, default=None,
                     help="print at most this many differences (all by default)")
    args = parser.parse_args(argv)
    if args.command == "record":
        return record_main(args.out, args.quick, args.jobs)
    return compare_main(args.a, args.b, args.rtol, args.atol, args.limit)


if __name__ == "__main__":
    sys.exit(main())
