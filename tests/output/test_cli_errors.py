"""Command-line errors: bad files and bad columns give one error line and exit code 2.

Already in tests/test_cli.py: a header-only CSV ("empty"), a named column
that is absent, y > n, a path that does not exist; here the rest of issue 7's
list and a few more ways a file can be wrong.
"""

import numpy as np
import pandas as pd
import pytest

from hierbayes.output.cli import main


def _run(capsys, args):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.err


def _assert_one_line_error(code, err, *needles):
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    first = lines[0]
    assert first.startswith(("error:", "Error:")), err
    assert len(lines) <= 2  # the error, then at most one hint line
    for needle in needles:
        assert needle in first, (needle, first)


@pytest.mark.parametrize(
    ("name", "content", "needles"),
    [
        ("binary.csv", bytes(range(128, 256)) * 3, ("cannot read", "binary.csv", "decode")),
        ("latin1.csv", "y,n\ncafé,3\n".encode("latin-1"), ("cannot read", "latin1.csv")),
        ("empty.csv", b"", ("cannot read", "empty.csv")),
        ("ragged.csv", b"y,n\n1,3\n2,5,7\n0,4\n", ("cannot read", "line 3")),
        ("bad.parquet", b"not a parquet file", ("cannot read", "bad.parquet")),
    ],
)
def test_unreadable_files(tmp_path, capsys, name, content, needles):
    src = tmp_path / name
    src.write_bytes(content)
    code, err = _run(capsys, ["fit", str(src), "--successes", "y", "--trials", "n"])
    _assert_one_line_error(code, err, *needles)


def test_wrong_delimiter_inside_a_comma_file_names_column_and_values(tmp_path, capsys):
    src = tmp_path / "mixed.csv"
    src.write_text("y,n\n1;3\n2;5\n")
    code, err = _run(capsys, ["fit", str(src), "--successes", "y", "--trials", "n"])
    _assert_one_line_error(code, err, "'y'", "must hold numbers", "'1;3'")


def test_a_single_column_file_says_which_columns_it_has(tmp_path, capsys):
    src = tmp_path / "one.csv"
    src.write_text("y\n1\n2\n")
    code, err = _run(capsys, ["fit", str(src), "--successes", "y", "--trials", "n"])
    _assert_one_line_error(code, err, "'n'", "not in the data", "columns are 'y'")


@pytest.mark.parametrize("sep", [";", "\t", "|", ":"])
def test_other_delimiters_are_detected_and_give_the_comma_answer(tmp_path, capsys, sep):
    frame = pd.DataFrame({"lab": ["a", "b", "c", "d"], "y": [1, 2, 0, 7], "n": [3, 5, 4, 9]})
    ref, other = tmp_path / "comma.csv", tmp_path / "other.csv"
    frame.to_csv(ref, index=False)
    frame.to_csv(other, index=False, sep=sep)
    outs = []
    for src in (ref, other):
        out = tmp_path / f"{src.stem}-groups.csv"
        assert main(["fit", str(src), "--group", "lab", "--successes", "y", "--trials", "n",
                     "-o", str(out)]) == 0
        outs.append(pd.read_csv(out))
    capsys.readouterr()
    pd.testing.assert_frame_equal(outs[0], outs[1])
    assert np.isfinite(outs[0]["mean"]).all()


def test_header_only_file_for_every_family(tmp_path, capsys):
    for family, header in (("normal", "estimate,std_error"), ("poisson", "counts,exposure")):
        src = tmp_path / f"{family}.csv"
        src.write_text(header + "\n")
        code, err = _run(capsys, ["fit", str(src), "--family", family])
        _assert_one_line_error(code, err, "empty")


@pytest.mark.parametrize(
    ("content", "args", "needles"),
    [
        ("est,se\n1,2\n", ["--family", "normal", "--estimate", "est", "--std-error", "sd"],
         ("'sd'", "not in the data")),
        ("g,est,se\na,1,0\nb,2,1\nc,3,1\n", ["--family", "normal", "--estimate", "est",
                                             "--std-error", "se", "--group", "g"],
         ("'se'", "must be positive", "'a': 0")),
        ("g,k,t\na,1,-2\nb,2,1\n", ["--family", "poisson", "--counts", "k", "--exposure", "t",
                                   "--group", "g"], ("'t'", "positive", "'a': -2")),
        ("y,n\n1,3\n2,5\n", ["--successes", "y", "--trials", "n", "--group", "lab"],
         ("'lab'", "not in the data")),
    ],
)
def test_bad_columns_for_every_family(tmp_path, capsys, content, args, needles):
    src = tmp_path / "d.csv"
    src.write_text(content)
    code, err = _run(capsys, ["fit", str(src), *args])
    _assert_one_line_error(code, err, *needles)


def test_nonexistent_path_and_empty_directory(tmp_path, capsys):
    code, err = _run(capsys, ["fit", str(tmp_path / "nope.csv")])
    _assert_one_line_error(code, err, "no such file", "nope.csv")
    (tmp_path / "empty").mkdir()
    code, err = _run(capsys, ["fit", str(tmp_path / "empty"), "--engine", "pandas"])
    _assert_one_line_error(code, err, "no .parquet or .csv files")


def test_compare_command_errors_too(tmp_path, capsys):
    src = tmp_path / "d.csv"
    src.write_text("y,n\n")
    code, err = _run(capsys, ["compare", str(src), "--successes", "y", "--trials", "n"])
    _assert_one_line_error(code, err, "empty")


# --- data integrity (issue 16) -------------------------------------------------------------

def _groups_json(capsys, args):
    import json

    assert main([*args, "--format", "json", "--no-intervals"]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)["groups"]


def test_csv_group_labels_are_text(tmp_path, capsys):
    """01 and 1, 1e3 and 1000 were one group each (rows summed); 7 became 7.0; NA and null
    were missing labels."""
    src = tmp_path / "d.csv"
    src.write_text("group,successes,trials\n01,1,5\n1,2,6\n1e3,1,3\n1000,2,4\n7,1,9\n"
                   "NA,1,4\nnull,0,3\n")
    rows = _groups_json(capsys, ["fit", str(src)])
    assert [r["group"] for r in rows] == ["01", "1", "1e3", "1000", "7", "NA", "null"]
    assert [r["trials"] for r in rows] == [5, 6, 3, 4, 9, 4, 3]
    # a missing value in a numeric column is still missing; an empty label is a missing label
    src.write_text("group,successes,trials\na,NA,5\nb,1,6\n")
    code, err = _run(capsys, ["fit", str(src)])
    _assert_one_line_error(code, err, "missing or infinite", "'a': nan")
    src.write_text("group,successes,trials\na,1,5\n,1,6\n")
    code, err = _run(capsys, ["fit", str(src)])
    _assert_one_line_error(code, err, "'group' (group) has missing labels in rows 1")


def test_text_labels_sort_as_numbers_when_they_are_numbers(tmp_path, capsys):
    src = tmp_path / "d.csv"
    src.write_text("lab,y,n\n10,1,5\n9,2,6\n1,1,4\n")
    rows = _groups_json(capsys, ["fit", str(src), "--group", "lab", "--successes", "y",
                                 "--trials", "n", "--sort", "group"])
    assert [r["group"] for r in rows] == ["1", "9", "10"]


@pytest.mark.parametrize("engine", ["pandas", "dask"])
def test_duplicated_header_is_refused(tmp_path, capsys, engine):
    """pandas renames the copy 'y.1' and the first 'y' was used without a word."""
    if engine == "dask":
        pytest.importorskip("dask.dataframe", reason="Dask is not installed")
    src = tmp_path / "d.csv"
    src.write_text("group,y,n,y\na,1,5,4\nb,2,6,5\n")
    code, err = _run(capsys, ["fit", str(src), "--successes", "y", "--trials", "n",
                              "--engine", engine, "-o", str(tmp_path / "out.csv")])
    _assert_one_line_error(code, err, "Column 'y' appears 2 times in the header", "d.csv")


@pytest.mark.parametrize("engine", ["pandas", "dask"])
def test_rows_are_checked_before_they_are_summed(tmp_path, capsys, engine):
    if engine == "dask":
        pytest.importorskip("dask.dataframe", reason="Dask is not installed")
    src = tmp_path / "d.csv"
    src.write_text("group,successes,trials\nA,5,3\nA,0,10\nB,1,4\nC,2,5\n")
    code, err = _run(capsys, ["fit", str(src), "--engine", engine,
                              "-o", str(tmp_path / "out.csv")])
    _assert_one_line_error(code, err, "exceeds 'trials'", "'A': 5 > 3")


def test_a_data_column_as_the_group_is_refused(tmp_path, capsys):
    src = tmp_path / "d.csv"
    src.write_text("successes,trials\n1,5\n2,6\n1,4\n")
    code, err = _run(capsys, ["fit", str(src), "--group", "successes"])
    _assert_one_line_error(code, err, "Column 'successes' is given as both")


def test_dask_csv_labels_are_text_too(tmp_path):
    pytest.importorskip("dask.dataframe", reason="Dask is not installed")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("group,successes,trials\n01,1,5\nNA,1,4\n")
    (tmp_path / "in" / "b.csv").write_text("group,successes,trials\n1,2,6\n01,0,1\n")
    out = tmp_path / "out.csv"
    assert main(["fit", str(tmp_path / "in"), "--engine", "dask", "-o", str(out)]) == 0
    table = pd.read_csv(out, dtype={"group": str}, keep_default_na=False).set_index("group")
    assert sorted(table.index) == ["01", "1", "NA"]
    assert table.loc["01", "trials"] == 6 and table.loc["1", "trials"] == 6


# ---- issue 15: bad options are refused before any work, in one line --------------------------
@pytest.mark.parametrize(
    ("args", "tip"),
    [
        (["fit", "--dataset", "pumps", "--prob", "95"], "--prob 0.95"),
        (["compare", "--dataset", "pumps", "--prob", "90"], "--prob 0.9"),
        (["rank", "--dataset", "pumps", "--fdr", "10"], "--fdr 0.1"),
        (["predict", "--dataset", "pumps", "--prob", "0"], "e.g. 0.95"),
        (["report", "--dataset", "pumps", "--prob", "1"], "e.g. 0.95"),
    ],
)
def test_a_probability_outside_0_1_says_so_and_suggests_the_fraction(capsys, args, tip):
    code, err = _run(capsys, args)
    _assert_one_line_error(code, err, "strictly between 0 and 1", tip)
    assert "column" not in err and "-47" not in err and "-4" not in err


@pytest.mark.parametrize("args", [["check", "--dataset", "pumps", "--draws", "0"],
                                  ["rank", "--dataset", "pumps", "--top", "0"]])
def test_counts_of_draws_and_top_must_be_positive(capsys, args):
    code, err = _run(capsys, args)
    _assert_one_line_error(code, err, "x>=1" if "--top" in args else "not a positive whole")


@pytest.mark.parametrize("value, expected", [("1e3", 1000), ("1_000", 1000), ("2000", 2000)])
def test_draws_may_be_written_in_scientific_notation(capsys, value, expected):
    assert main(["check", "--dataset", "pumps", "--draws", value, "--format", "json"]) == 0
    assert f'"draws": {expected}' in capsys.readouterr().out
    code, err = _run(capsys, ["check", "--dataset", "pumps", "--draws", "2.5"])
    _assert_one_line_error(code, err, "'2.5' is not a whole number")


def _no_work(monkeypatch):
    """Reading the data fails loudly: an error that comes first was found before any work."""
    def read(*args, **kwargs):
        raise AssertionError("the data were read before the output was checked")

    monkeypatch.setattr("hierbayes.output.files.read_data", read)


def test_parquet_without_pyarrow_is_refused_before_work_with_the_install_hint(
        tmp_path, capsys, monkeypatch):
    _no_work(monkeypatch)
    monkeypatch.setattr("hierbayes.output.files._has_parquet_engine", lambda: False)
    for out in (tmp_path / "groups.parquet", f"{tmp_path / 'dir'}/"):
        code = main(["fit", "--dataset", "rats", "-o", str(out)])
        captured = capsys.readouterr()
        _assert_one_line_error(code, captured.err, "needs pyarrow",
                               'pip install "hierbayes[parquet]"')
        assert captured.out == ""
    assert list(tmp_path.iterdir()) == []


def test_the_parquet_hint_names_an_extra_that_brings_pyarrow():
    import tomllib
    from pathlib import Path

    from hierbayes.output.files import PARQUET_HINT

    root = Path(__file__).resolve().parents[2]
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    extra = PARQUET_HINT.split("[")[1].split("]")[0]
    assert any(dep.startswith("pyarrow") for dep in extras[extra])


@pytest.mark.parametrize(
    ("name", "fmt", "needles"),
    [
        ("groups.xlsx", None, ("spreadsheet", ".csv, .json, .parquet")),
        ("groups.txt", None, ("cannot tell the format", ".csv, .json, .parquet", "--format")),
        ("groups", None, ("cannot tell the format",)),
        ("groups.json", "csv", ("--format csv does not write a .json file",)),
        ("missing/groups.csv", None, ("does not exist", "missing")),
    ],
)
def test_outputs_it_cannot_write_are_refused_before_work(tmp_path, capsys, monkeypatch, name,
                                                        fmt, needles):
    _no_work(monkeypatch)
    args = ["fit", "--dataset", "rats", "-o", str(tmp_path / name)]
    code = main(args + (["--format", fmt] if fmt else []))
    captured = capsys.readouterr()
    _assert_one_line_error(code, captured.err, *needles)
    assert captured.out == "" and list(tmp_path.iterdir()) == []


def test_report_into_a_missing_directory_is_refused_before_work(tmp_path, capsys, monkeypatch):
    _no_work(monkeypatch)
    code, err = _run(capsys, ["report", "--dataset", "rats", "-o",
                              str(tmp_path / "nope" / "r.html")])
    _assert_one_line_error(code, err, "does not exist")
    code, err = _run(capsys, ["report", "--dataset", "rats", "-o", str(tmp_path)])
    _assert_one_line_error(code, err, "is a directory")


def test_a_directory_output_must_be_new_or_empty(tmp_path, capsys, monkeypatch):
    _no_work(monkeypatch)
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.parquet").write_bytes(b"x")
    code, err = _run(capsys, ["fit", "--dataset", "rats", "-o", f"{out}/"])
    _assert_one_line_error(code, err, "is not empty")


def _interrupt_writes(monkeypatch):
    """Every writer writes half its output, then the user presses Ctrl-C."""
    import pathlib

    def half_text(self, text, *args, **kwargs):
        with open(self, "w", encoding="utf-8") as fh:
            fh.write(text[: len(text) // 2])
        raise KeyboardInterrupt

    def half_parquet(self, path, *args, **kwargs):
        pathlib.Path(path).write_bytes(b"PAR1 half")
        raise KeyboardInterrupt

    from hierbayes.output import tables

    render = tables.render

    def half_table(console, *args, **kwargs):
        render(console, *args, **kwargs)  # the first table is written, then Ctrl-C
        raise KeyboardInterrupt

    monkeypatch.setattr(pathlib.Path, "write_text", half_text)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", half_parquet)
    monkeypatch.setattr(tables, "render", half_table)


@pytest.mark.parametrize(
    ("command", "name"),
    [
        (["fit", "--dataset", "pumps"], "groups.json"),
        (["fit", "--dataset", "pumps"], "groups.csv"),
        (["fit", "--dataset", "pumps"], "groups.parquet"),
        (["fit", "--dataset", "pumps"], "dir/"),
        (["compare", "--dataset", "pumps", "--format", "table"], "table.txt"),
        (["report", "--dataset", "pumps", "--draws", "100"], "report.html"),
    ],
)
def test_an_interrupted_write_leaves_no_file_and_keeps_the_old_one(tmp_path, capsys,
                                                                   monkeypatch, command, name):
    target = tmp_path / name.rstrip("/")
    if not name.endswith("/"):
        target.write_text("the previous run's output")
    _interrupt_writes(monkeypatch)
    code = main([*command, "-o", str(tmp_path / name) + ("/" if name.endswith("/") else "")])
    assert code == 1, capsys.readouterr().err  # aborted
    if name.endswith("/"):
        assert not target.exists()
    else:
        assert target.read_text() == "the previous run's output"
    assert [p.name for p in tmp_path.iterdir()] == ([target.name] if target.exists() else [])


def test_a_write_that_fails_midway_leaves_nothing(tmp_path, capsys, monkeypatch):
    import errno
    import pathlib

    def disk_full(self, text, *args, **kwargs):
        with open(self, "w", encoding="utf-8") as fh:
            fh.write(text[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "write_text", disk_full)
    code, err = _run(capsys, ["fit", "--dataset", "pumps", "-o", str(tmp_path / "g.json")])
    assert code == 1 and "No space left" in err
    assert list(tmp_path.iterdir()) == []


def test_empirical_bayes_without_an_estimate_is_one_line_and_exit_2(tmp_path, capsys):
    # issue 16: all-zero data under --method eb printed alpha = 2.8e-22 with exit 0
    src = tmp_path / "zero.csv"
    src.write_text("group,successes,trials\na,0,10\nb,0,12\nc,0,8\n")
    code, err = _run(capsys, ["fit", str(src), "--method", "eb"])
    _assert_one_line_error(code, err, "Empirical Bayes has no estimate",
                           "every group has 0 successes")


def test_the_input_file_is_never_the_output(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("group,successes,trials\na,1,10\nb,2,10\nc,3,12\n")
    before = data.read_bytes()
    for command in (["fit"], ["report"], ["check"]):
        assert main([*command, str(data), "-o", str(data)]) == 2
        assert "is the input data" in capsys.readouterr().err
    assert main(["fit", str(data), "-o", str(tmp_path / "." / "d.csv")]) == 2
    assert data.read_bytes() == before


def test_check_with_draws_past_the_free_memory_is_refused(capsys):
    assert main(["check", "--dataset", "rats", "--draws", "1e11"]) == 2  # 4,800 GB
    err = capsys.readouterr().err
    assert "GB of memory, more than the" in err and "ask for fewer draws" in err
