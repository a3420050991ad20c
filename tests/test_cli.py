import json

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
