import functools
import io
import json
import math
import re

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.models import GammaPoisson, NormalNormal
from hierbayes.output.cli import main


def test_fit_dataset_prints_hyper_and_groups(capsys):
    assert main(["fit", "--dataset", "rats"]) == 0
    out = capsys.readouterr().out
    assert "Hyperparameters" in out and "log_kappa" in out and "shrinkage" in out


def test_fit_file_writes_canonical_columns(tmp_path):
    src = tmp_path / "d.csv"
    rats = hb.datasets.load("rats")
    rats.rename(columns={"group": "lab", "successes": "y", "trials": "n"}).to_csv(src, index=False)
    out = tmp_path / "groups.csv"
    code = main(["fit", str(src), "--successes", "y", "--trials", "n", "--group", "lab",
                 "--output", str(out)])
    assert code == 0
    table = pd.read_csv(out)
    assert list(table.columns) == ["group", "successes", "trials", "raw", "mean", "sd", "q2.5",
                                   "q50", "q97.5", "shrinkage"]
    expected = hb.BetaBinomial().fit(rats).groups
    assert table["mean"].to_numpy() == pytest.approx(expected["mean"].to_numpy(), rel=1e-12)
    js = tmp_path / "groups.json"  # the suffix picks --format json: one document
    assert main(["fit", str(src), "--successes", "y", "--trials", "n", "-o", str(js)]) == 0
    doc = json.loads(js.read_text())
    assert len(doc["groups"]) == 71 and doc["metadata"]["columns"]["successes"] == "y"


def test_compare_and_datasets(capsys, tmp_path):
    assert main(["compare", "--dataset", "rats"]) == 0
    assert "Pooling comparison" in capsys.readouterr().out
    assert main(["datasets"]) == 0
    assert "Tarone" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content,args,needle",
    [
        ("y,n\n5,3\n", ["--successes", "y", "--trials", "n"], "exceeds"),
        ("y,n\n1,3\n", ["--successes", "k", "--trials", "n"], "not in the data"),
        ("y,n\n", ["--successes", "y", "--trials", "n"], "empty"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, content, args, needle):
    src = tmp_path / "bad.csv"
    src.write_text(content)
    assert main(["fit", str(src), *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err


def test_missing_file_exit_2(capsys):
    assert main(["fit", "no/such/file.csv"]) == 2
    assert "no such file" in capsys.readouterr().err


def _clicks(tmp_path, files=3, rows=4000):
    rng = np.random.default_rng(3)
    data = tmp_path / "data"
    data.mkdir()
    frames = []
    for i in range(files):
        n = rng.integers(1, 200, rows)
        frame = pd.DataFrame({"clicks": rng.binomial(n, 0.1), "views": n})
        frame.to_parquet(data / f"part{i}.parquet")
        frames.append(frame)
    return data, pd.concat(frames, ignore_index=True)


def test_fit_parquet_glob_through_dask_writes_parquet_directory(tmp_path, capsys):
    pytest.importorskip("dask.dataframe", reason="Dask is not installed")
    data, frame = _clicks(tmp_path)
    out = tmp_path / "out"
    code = main(["fit", str(data / "*.parquet"), "--successes", "clicks", "--trials", "views",
                 "--output", f"{out}/", "--no-intervals"])
    assert code == 0
    captured = capsys.readouterr()
    assert "DaskBetaBinomialFit: 12000 groups" in captured.out
    assert f"wrote 12000 rows to {out}" in captured.err
    table = pd.read_parquet(out)
    expected = hb.BetaBinomial().fit(frame, successes="clicks", trials="views").moments
    assert list(table.columns) == ["group", *expected.columns]
    assert np.array_equal(table["group"].to_numpy(), np.arange(12000))  # row numbers
    assert np.array_equal(table.drop(columns="group").to_numpy(), expected.to_numpy())


def test_engine_dask_on_csv_with_groups_and_intervals(tmp_path):
    pytest.importorskip("dask.dataframe", reason="Dask is not installed")
    rats = hb.datasets.load("rats").rename(columns={"successes": "y", "trials": "n"})
    src = tmp_path / "rats.csv"
    rats.to_csv(src, index=False)
    out = tmp_path / "groups.csv"
    code = main(["fit", str(src), "--engine", "dask", "--successes", "y", "--trials", "n",
                 "--output", str(out)])
    assert code == 0
    table = pd.read_csv(out).set_index("group").sort_index()
    expected = hb.BetaBinomial().fit(hb.datasets.load("rats")).groups.sort_index()
    assert list(table.columns) == list(expected.columns)
    assert np.allclose(table.to_numpy(), expected.to_numpy(), rtol=1e-14, atol=0)


def test_pandas_engine_reads_a_directory_and_writes_parquet(tmp_path):
    data, _ = _clicks(tmp_path, files=2, rows=300)
    out = tmp_path / "res.parquet"
    assert main(["fit", str(data), "--engine", "pandas", "--successes", "clicks",
                 "--trials", "views", "--no-intervals", "-o", str(out)]) == 0
    table = pd.read_parquet(out)
    assert len(table) == 600 and "q2.5" not in table.columns


def test_dask_engine_errors_are_one_line(tmp_path, capsys):
    pytest.importorskip("dask.dataframe", reason="Dask is not installed")
    data, _ = _clicks(tmp_path, files=2, rows=50)
    pattern = str(data / "*.parquet")
    assert main(["fit", pattern, "--successes", "click", "--trials", "views"]) == 2
    err = capsys.readouterr().err
    assert "'click'" in err and "not in the data" in err and "Traceback" not in err
    assert main(["fit", pattern, "--family", "poisson"]) == 2
    assert "binomial family only" in capsys.readouterr().err
    assert main(["fit", str(tmp_path / "none" / "*.parquet")]) == 2
    assert "no files match" in capsys.readouterr().err
    assert main(["fit", pattern, "--successes", "clicks", "--trials", "views",
                 "-o", str(tmp_path / "x.json")]) == 2
    assert "must be a directory" in capsys.readouterr().err


# ---- output formats: each parses back to the library's numbers ------------------------------
@functools.cache
def _pumps():  # fits are immutable: one per test session
    return GammaPoisson().fit(hb.datasets.load("pumps"))


def _unjson(records, index):
    """A table from JSON records, with 'inf' / '-inf' / null back to floats."""
    frame = pd.DataFrame(records).set_index(index)
    return frame.replace({"inf": math.inf, "-inf": -math.inf}).astype(float)


def test_fit_json_is_one_document_equal_to_the_library(capsys):
    assert main(["fit", "--dataset", "pumps", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc) == ["metadata", "hyper", "groups"]
    meta = doc["metadata"]
    assert meta["command"] == "fit" and meta["family"] == "poisson"
    assert meta["model"] == "GammaPoisson" and meta["data"] == "dataset:pumps"
    assert meta["n_groups"] == 10 and meta["pooling"] == "partial" and "null" in meta["nonfinite"]
    fit = _pumps()
    groups = _unjson(doc["groups"], "group")
    pd.testing.assert_frame_equal(groups, fit.groups.astype(float), check_exact=True,
                                  check_names=False)
    hyper = doc["hyper"]
    assert hyper[0]["parameter"] == "alpha" and hyper[0]["mean"] == "inf"
    assert hyper[0]["sd"] is None  # NaN
    pd.testing.assert_frame_equal(_unjson(hyper, "parameter"), fit.hyper, check_exact=True)


def test_fit_csv_group_and_hyper_tables_parse_back(capsys):
    fit = _pumps()
    assert main(["fit", "--dataset", "pumps", "--format", "csv"]) == 0
    groups = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert list(groups.columns) == ["group", *fit.groups.columns]
    pd.testing.assert_frame_equal(groups.set_index("group"), fit.groups, check_exact=True,
                                  check_dtype=False)
    assert main(["fit", "--dataset", "pumps", "-f", "csv", "--table", "hyper"]) == 0
    hyper = pd.read_csv(io.StringIO(capsys.readouterr().out))
    pd.testing.assert_frame_equal(hyper.set_index("parameter"), fit.hyper, check_exact=True)


def test_csv_to_a_file_and_the_hyper_table_on_the_terminal(tmp_path, capsys):
    out = tmp_path / "groups.txt"
    assert main(["fit", "--dataset", "eight_schools", "--format", "csv", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "Hyperparameters" in captured.out and "Groups" not in captured.out
    assert f"wrote 8 rows to {out}" in captured.err
    expected = NormalNormal().fit(hb.datasets.load("eight_schools")).groups
    table = pd.read_csv(out).set_index("group")
    assert np.allclose(table["mean"], expected["mean"], rtol=1e-15, atol=0)


@pytest.mark.parametrize("column,descending", [("mean", True), ("shrinkage", False),
                                               ("group", True)])
def test_sort_orders_the_group_table(capsys, column, descending):
    args = ["fit", "--dataset", "pumps", "-f", "csv", "--sort", column]
    assert main(args + (["--descending"] if descending else [])) == 0
    got = pd.read_csv(io.StringIO(capsys.readouterr().out))["group"].tolist()
    g = _pumps().groups
    expected = (g.sort_index(ascending=not descending) if column == "group"
                else g.sort_values(column, ascending=not descending, kind="stable"))
    assert got == expected.index.tolist()


def test_table_format_shows_hyper_then_sorted_groups(capsys):
    assert main(["fit", "--dataset", "pumps", "--sort", "mean"]) == 0
    out = capsys.readouterr().out
    assert out.index("GammaPoissonFit") < out.index("Hyperparameters") < out.index("Groups")
    rows = [line.split("│")[1].strip() for line in out[out.index("Groups"):].splitlines()
            if line.startswith("│")]
    assert rows == [str(g) for g in _pumps().groups.sort_values("mean").index]


def test_compare_formats_equal_compare_pooling(tmp_path, capsys):
    pumps = hb.datasets.load("pumps")
    expected = hb.compare_pooling(pumps, prob=0.9, model=GammaPoisson()).groups
    assert main(["compare", "--dataset", "pumps", "--prob", "0.9", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["metadata"]["command"] == "compare" and doc["metadata"]["prob"] == 0.9
    pd.testing.assert_frame_equal(_unjson(doc["pooling"], "group"), expected.astype(float),
                                  check_exact=True, check_names=False)
    out = tmp_path / "pooling.csv"
    assert main(["compare", "--dataset", "pumps", "--prob", "0.9", "-o", str(out),
                 "--sort", "partial_mean", "--descending"]) == 0
    table = pd.read_csv(out).set_index("group")
    pd.testing.assert_frame_equal(
        table, expected.sort_values("partial_mean", ascending=False, kind="stable"),
        check_exact=True, check_dtype=False)


def test_datasets_json(capsys):
    assert main(["datasets", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {d["name"] for d in doc["datasets"]} == set(hb.datasets.DATASETS)


@pytest.mark.parametrize("command", ["fit", "compare", "datasets"])
def test_help_has_examples_and_exit_0(capsys, command):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "Examples:" in out and f"hierbayes {command}" in out


@pytest.mark.parametrize(
    "args,needle",
    [
        (["fit", "--dataset", "pumps", "--format", "xml"], "'xml' is not one of"),
        (["fit", "--dataset", "pumps", "--sort", "meen"], "no column 'meen' to sort by"),
        (["compare", "--dataset", "pumps", "--frmat", "csv"], "No such option '--frmat'"),
        (["fit", "--dataset", "nope"], "unknown data set 'nope'"),
        (["fit"], "Give either a data file or --dataset"),
    ],
)
def test_usage_errors_are_one_line_plus_hint_and_exit_2(capsys, args, needle):
    assert main(args) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0].startswith("error: ") and needle in err[0]
    assert err[1].startswith("hint: run 'hierbayes ") and "--help" in err[1]


def test_other_failures_exit_1_and_debug_shows_the_traceback(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("hierbayes.models.compare_pooling", broken)  # imported when run
    assert main(["compare", "--dataset", "pumps"]) == 1
    err = capsys.readouterr().err
    assert "RuntimeError: disk on fire" in err and "--debug" in err and "Traceback" not in err
    with pytest.raises(RuntimeError, match="disk on fire"):
        main(["--debug", "compare", "--dataset", "pumps"])


# ---- issue 15: the command line as a new user finds it ---------------------------------------
def _subprocess(args, **kwargs):
    """``python -m hierbayes ARGS`` in a fresh interpreter that imports this checkout."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    src = str(Path(hb.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src}
    env.pop("PYTHONWARNINGS", None)
    env.update(kwargs.pop("env", {}))
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                          check=False, **kwargs)


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"hierbayes {hb.__version__}\n"


def test_stdin_csv_with_a_warning_as_one_line(tmp_path):
    """`-` reads CSV from stdin; a warning is one `warning: ...` line, no file or category."""
    text = "y,n\n3,10\n3,10\n3,10\n"  # no extra-binomial variation: EB collapses, and warns
    proc = _subprocess(["-m", "hierbayes", "fit", "-", "--successes", "y", "--trials", "n",
                        "--method", "eb", "-f", "csv"], input=text)
    assert proc.returncode == 0, proc.stderr
    got = pd.read_csv(io.StringIO(proc.stdout)).set_index("group")
    frame = pd.read_csv(io.StringIO(text))
    with pytest.warns(hb.DegenerateDataWarning, match="The marginal likelihood"):
        expected = hb.BetaBinomial(method="eb").fit(frame, successes="y", trials="n").groups
    assert np.array_equal(got["mean"].to_numpy(), expected["mean"].to_numpy())
    lines = proc.stderr.splitlines()
    assert lines == [lines[0]] and lines[0].startswith("warning: The marginal likelihood")
    assert ".py:" not in proc.stderr and "DegenerateDataWarning" not in proc.stderr


def test_stdin_in_process_names_stdin_in_the_metadata(monkeypatch, capsys):
    rats = hb.datasets.load("rats")
    monkeypatch.setattr("sys.stdin", io.StringIO(rats.to_csv(index=False)))
    assert main(["fit", "-", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["metadata"]["data"] == "stdin" and len(doc["groups"]) == 71


def test_warnings_print_once_each_without_paths(tmp_path, capsys):
    src = tmp_path / "one.csv"
    src.write_text("y,n\n3,10\n")  # one group: the population spread comes from the prior
    assert main(["fit", str(src), "--successes", "y", "--trials", "n", "-f", "csv"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err and all(line.startswith("warning: ") for line in err), err
    assert len(err) == len(set(err)) and not any(".py" in line for line in err)


def test_predict_table_names_its_rows_and_says_what_y_is(capsys):
    assert main(["predict", "--dataset", "rats", "--design", "14", "--observed", "4"]) == 0
    out = capsys.readouterr().out
    head = next(line for line in out.splitlines() if "mean" in line and "upper" in line)
    assert head.split("┃")[1].strip() == "quantity"  # no blank first header
    assert "y: its successes in new data with trials = 14" in out
    assert "theta: the new group's probability, given successes = 4" in out
    assert main(["predict", "--dataset", "pumps", "--design", "10", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [row["quantity"] for row in doc["new_group"]] == ["theta", "y"]
    assert "index" not in doc["new_group"][0]
    assert doc["metadata"]["quantities"]["y"] == "its counts in new data with exposure = 10"


def test_check_prints_the_log_evidence_when_the_prior_is_proper(capsys):
    fit = hb.BetaBinomial(pooling="complete").fit(hb.datasets.load("rats"))
    assert main(["check", "--dataset", "rats", "--pooling", "complete", "--draws", "200"]) == 0
    out = capsys.readouterr().out
    assert f"log evidence log p(y) = {fit.log_evidence():.6g}" in out
    assert main(["check", "--dataset", "rats", "--pooling", "complete", "--draws", "200",
                 "-f", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["metadata"]["log_evidence"] == fit.log_evidence()
    assert main(["check", "--dataset", "pumps", "--draws", "200", "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["metadata"]["log_evidence"] is None
    assert main(["check", "--dataset", "pumps", "--draws", "200"]) == 0
    assert "log evidence: not defined, the prior is improper" in capsys.readouterr().out


def _header_cells(out):
    """The header cells of every table in rich output."""
    return [c.strip() for line in out.splitlines() if line.startswith("┃")
            for c in line.strip("┃").split("┃")]


def test_tables_fit_the_terminal_in_blocks_of_whole_columns(monkeypatch, capsys):
    from rich.cells import cell_len

    expected = ["group", *hb.compare_pooling(hb.datasets.load("pumps"),
                                             model=GammaPoisson()).groups.columns]
    monkeypatch.setattr("hierbayes.output.tables.terminal_width", lambda: 80)
    assert main(["compare", "--dataset", "pumps"]) == 0
    out = capsys.readouterr().out
    assert max(cell_len(line) for line in out.splitlines()) <= 80
    heads = _header_cells(out)
    assert "…" not in out and set(expected) <= set(heads)  # every header whole
    assert heads.count("group") >= 2  # split into blocks, each with the group column
    monkeypatch.setattr("hierbayes.output.tables.terminal_width", lambda: None)  # piped
    assert main(["compare", "--dataset", "pumps"]) == 0
    out = capsys.readouterr().out
    pooling = out[out.index("Pooling comparison"):]
    rows = [line for line in pooling.splitlines() if line.startswith("┃")]
    assert len(rows) == 1 and _header_cells(pooling) == expected  # one line, unwrapped
    assert "\x1b[" not in out  # plain: no terminal codes


def test_a_real_terminal_of_60_columns():
    pty = pytest.importorskip("pty")
    import os
    import subprocess
    import sys
    from pathlib import Path

    from rich.cells import cell_len

    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(Path(hb.__file__).resolve().parents[1]),
           "COLUMNS": "60", "LINES": "40"}
    proc = subprocess.Popen([sys.executable, "-m", "hierbayes", "check", "--dataset",
                             "eight_schools", "--draws", "100"], stdout=slave,
                            stderr=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 1 << 16)
        except OSError:  # the terminal closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait() == 0
    out = re.sub(r"\x1b\[[0-9;]*m", "", b"".join(chunks).decode())  # bold, on a terminal
    lines = [line for line in out.splitlines() if line.startswith(("┃", "│", "┏", "└"))]
    assert lines and max(cell_len(line.rstrip()) for line in lines) <= 60
    assert {"statistic", "replicated_mean", "p_value_le"} <= set(_header_cells(out))


def test_datasets_lists_columns_left_aligned_without_pandas():
    proc = _subprocess(["-c", "import sys; from hierbayes.output.cli import main; "
                        "code = main(['datasets']); "
                        "print('LOADED', sorted({'pandas', 'scipy', 'matplotlib', 'numpy'} "
                        "& set(sys.modules))); sys.exit(code)"])
    assert proc.returncode == 0, proc.stderr
    assert "LOADED []" in proc.stdout
    rats = next(line for line in proc.stdout.splitlines() if line.startswith("│ rats "))
    cells = rats.split("│")
    assert cells[2] == " beta-binomial " and cells[3].startswith(" group, successes, trials")


def test_datasets_json_has_each_data_sets_columns(capsys):
    assert main(["datasets", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    for row in doc["datasets"]:
        assert row["columns"] == ", ".join(hb.datasets.load(row["name"]).columns)


def test_fit_with_covariates_is_the_library_fit(capsys):
    """--covariates gives the library's meta-regression numbers; a family without
    covariates says so (exit 2)."""
    assert main(["fit", "--dataset", "bcg", "--covariates", "~ ablat", "-f", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    fit = NormalNormal().fit(hb.datasets.load("bcg"), covariates="~ ablat")
    want = pd.concat([fit.coefficients, fit.hyper])
    got = {row["parameter"]: row for row in doc["hyper"]}
    got.update({row["coefficient"]: row for row in doc["coefficients"]})
    for name in ("intercept", "ablat", "tau"):
        assert got[name]["mean"] == pytest.approx(float(want.loc[name, "mean"]), rel=1e-12)
    assert main(["fit", "--dataset", "bcg", "--covariates", "ablat", "-f", "json"]) == 0
    assert main(["fit", "--dataset", "rats", "--covariates", "x"]) == 2
    assert "Covariate column(s) ['x'] not in the data" in capsys.readouterr().err
    assert main(["fit", "--dataset", "pumps", "--covariates", "x"]) == 2
    assert "Covariate column(s) ['x'] not in the data" in capsys.readouterr().err


def test_a_closed_pipe_is_a_quiet_success(tmp_path):
    """`hierbayes fit big.csv | head -1`: the reader leaves early; exit 0, nothing on
    stderr (no BrokenPipeError traceback)."""
    import subprocess
    import sys

    rng = np.random.default_rng(0)
    n = rng.integers(1, 50, 4000)
    path = tmp_path / "big.csv"
    pd.DataFrame({"group": np.arange(4000), "successes": rng.binomial(n, 0.3),
                  "trials": n}).to_csv(path, index=False)
    for fmt in ("csv", "table"):
        proc = subprocess.Popen([sys.executable, "-m", "hierbayes", "fit", str(path),
                                 "--no-intervals", "-f", fmt],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline()
        proc.stdout.close()  # as head does after its line
        err = proc.stderr.read()
        assert proc.wait(timeout=120) == 0, (fmt, err)
        assert b"Traceback" not in err and b"BrokenPipe" not in err, (fmt, err)


def test_prior_option_is_the_python_prior(capsys):
    """--prior NAME=DIST:ARGS builds the API's prior dict: the same numbers, echoed in the
    metadata; bad pieces are named (exit 2)."""
    from scipy import stats

    assert main(["fit", "--dataset", "eight_schools", "--prior", "tau=halfcauchy:scale=5",
                 "--prior", "mu=norm:loc=0,scale=100", "-f", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    want = NormalNormal(prior={"tau": stats.halfcauchy(scale=5),
                               "mu": stats.norm(0, 100)}).fit(
        hb.datasets.load("eight_schools")).hyper
    got = {row["parameter"]: row for row in doc["hyper"]}
    assert got["tau"]["mean"] == pytest.approx(float(want.loc["tau", "mean"]), rel=1e-12)
    assert doc["metadata"]["prior_options"] == {"tau": "halfcauchy(scale=5)",
                                                "mu": "norm(loc=0, scale=100)"}
    for bad, words in (("kappa=nope:1", "not a scipy.stats continuous"),
                       ("kappa=lognorm:-1", "invalid parameters"),
                       ("kappa lognorm", "NAME=DIST:ARGS"),
                       ("kappa=lognorm:one", "'one' is not a number"),
                       ("kappa=halfcauchy:5", "give loc and scale by name")):
        assert main(["fit", "--dataset", "rats", "--prior", bad,
                     "--prior", "mu=beta:1,1"]) == 2
        assert words in capsys.readouterr().err
    assert main(["fit", "--dataset", "rats", "--prior", "tau=halfcauchy:scale=5"]) == 2
    assert "keys" in capsys.readouterr().err  # a prior of another family: named


def test_an_obvious_label_column_is_used_and_named(tmp_path, capsys):
    """No --group and no 'group' column: a column named like labels (else the one text
    column) holds the groups, said on stderr; rows of one label are combined."""
    path = tmp_path / "h.csv"
    path.write_text("hospital,deaths,patients\nA,3,40\nB,5,60\nA,1,20\nC,2,15\n")
    assert main(["fit", str(path), "--successes", "deaths", "--trials", "patients",
                 "-f", "json", "--no-intervals"]) == 0
    out = capsys.readouterr()
    assert "using 'hospital' as the group labels" in out.err
    rows = {r["group"]: r for r in json.loads(out.out)["groups"]}
    assert sorted(rows) == ["A", "B", "C"]
    assert (rows["A"]["successes"], rows["A"]["trials"]) == (4, 60)
    path.write_text("deaths,patients,where\n3,40,x\n5,60,y\n")
    assert main(["fit", str(path), "--successes", "deaths", "--trials", "patients",
                 "-f", "json", "--no-intervals"]) == 0
    assert "using 'where'" in capsys.readouterr().err  # the one text column
    path.write_text("deaths,patients\n3,40\n5,60\n")
    assert main(["fit", str(path), "--successes", "deaths", "--trials", "patients",
                 "-f", "json", "--no-intervals"]) == 0
    assert "note:" not in capsys.readouterr().err  # nothing to guess: each row a group


def test_dask_output_is_the_same_file_run_after_run(tmp_path):
    # groups spread over partitions (a shuffle): the rows are written in the same order
    pytest.importorskip("dask.dataframe", reason="Dask is not installed")
    rng = np.random.default_rng(5)
    data = tmp_path / "data"
    data.mkdir()
    for i in range(4):
        n = rng.integers(1, 100, 600)
        pd.DataFrame({"ad": [f"ad{g}" for g in rng.integers(0, 300, 600)],
                      "clicks": rng.binomial(n, 0.1), "views": n}).to_csv(
            data / f"p{i}.csv", index=False)
    outs = [tmp_path / f"out{k}.csv" for k in range(3)]
    for out in outs:
        assert main(["fit", str(data), "--engine", "dask", "--group", "ad", "--successes",
                     "clicks", "--trials", "views", "--no-intervals", "-o", str(out)]) == 0
    first = outs[0].read_bytes()
    assert all(out.read_bytes() == first for out in outs[1:])
    groups = pd.read_csv(outs[0])["group"]
    assert groups.is_unique and len(groups) == 300
