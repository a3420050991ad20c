import json

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.cli import main


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
    js = tmp_path / "groups.json"
    assert main(["fit", str(src), "--successes", "y", "--trials", "n", "-o", str(js)]) == 0
    assert len(json.loads(js.read_text())) == 71


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
