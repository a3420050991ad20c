"""``hierbayes meta``: the tables in every format, and bad input as one error line, exit 2."""

from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from hierbayes.output.cli import main

STUDIES = pd.DataFrame({"trial": ["A", "B", "C", "D", "E", "F"],
                        "yi": [-2.31, -0.46, -2.30, -1.76, -1.26, -2.42],
                        "vi": [0.359, 0.310, 0.775, 0.208, 0.412, 2.337]})
PRIORS = ["--prior", "tau=halfnorm:0.5", "--prior", "mu=norm:0,4"]


@pytest.fixture()
def csv(tmp_path):
    path = tmp_path / "studies.csv"
    STUDIES.to_csv(path, index=False)
    return str(path)


def _run(capsys, args):
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_table_output_has_every_table(csv, capsys):
    code, out, err = _run(capsys, ["meta", csv, "--estimate", "yi", "--sampling-variance", "vi",
                                   "--study", "trial", *PRIORS])
    assert code == 0, err
    for needle in ("Posterior summary", "theta_new", "hpd_lower", "Classical companions",
                   "tau2_REML", "Bayes factors", "mu = 0", "log evidence", "P(mu > 0 | y)"):
        assert needle in out


def test_json_document_and_csv_table(csv, capsys):
    code, out, err = _run(capsys, ["meta", csv, "--study", "trial", *PRIORS, "--format", "json"])
    assert code == 0, err
    doc = json.loads(out)
    assert {"metadata", "summary", "studies", "classical", "bayes_factors"} <= set(doc)
    assert [r["parameter"] for r in doc["summary"]] == ["mu", "tau", "I2", "H2", "theta_new"]
    assert doc["metadata"]["n_studies"] == 6 and doc["metadata"]["command"] == "meta"
    code, out, err = _run(capsys, ["meta", csv, "--format", "csv", "--table", "studies"])
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns[:3]) == ["study", "estimate", "std_error"]
    assert len(table) == 6


def test_std_error_column_gives_the_same_summary(csv, tmp_path, capsys):
    se = tmp_path / "se.csv"
    STUDIES.assign(sei=STUDIES["vi"] ** 0.5).drop(columns="vi").to_csv(se, index=False)
    a = _run(capsys, ["meta", csv, *PRIORS, "--format", "csv", "--table", "summary"])[1]
    b = _run(capsys, ["meta", str(se), "--std-error", "sei", *PRIORS, "--format", "csv",
                      "--table", "summary"])[1]
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(a)), pd.read_csv(io.StringIO(b)),
                                  atol=1e-9)


def test_improper_priors_skip_the_bayes_factors(csv, capsys):
    code, out, err = _run(capsys, ["meta", csv])
    assert code == 0, err
    assert "Bayes factors" not in out and "tau2_DL" in out


@pytest.mark.parametrize(
    ("change", "args", "needle"),
    [
        ({"vi": [0.359, 0.0, 0.775, 0.208, 0.412, 2.337]}, [], "'vi'"),
        ({"vi": [0.359, -0.31, 0.775, 0.208, 0.412, 2.337]}, [], "-0.31"),
        (None, ["--prior", "tau=halfnorm"], "halfnorm"),
        (None, ["--prior", "sigma=halfnorm:1"], "--prior"),
        (None, ["--prior", "tau=halfnorm:1", "--prior", "tau=exp:1"], "twice"),
        (None, ["--std-error", "vi", "--sampling-variance", "vi"], "not both"),
        (None, ["--estimate", "logor"], "'logor'"),
        (None, ["--table", "bayes_factors", "--format", "csv"], "proper priors"),
    ],
)
def test_bad_input_is_one_error_line(csv, tmp_path, capsys, change, args, needle):
    path = csv
    if change is not None:
        path = str(tmp_path / "bad.csv")
        STUDIES.assign(**change).to_csv(path, index=False)
    code, _, err = _run(capsys, ["meta", path, *args])
    assert code == 2, err
    lines = err.strip().splitlines()
    assert lines[0].startswith(("error:", "Error:")) and len(lines) <= 2
    assert needle in lines[0], lines[0]


def test_one_study_and_two_studies_with_improper_prior(tmp_path, capsys):
    for rows, needle in ((1, "at least 2 studies"), (2, "improper")):
        path = tmp_path / f"s{rows}.csv"
        STUDIES.iloc[:rows].to_csv(path, index=False)
        code, _, err = _run(capsys, ["meta", str(path)])
        assert code == 2 and needle in err.splitlines()[0], err


def test_cli_takes_tau_priors_named_by_their_source(capsys):
    import hierbayes as hb

    bcg = hb.datasets.load("bcg")
    want = hb.meta_analysis(bcg, estimate="estimate", std_error="std_error",
                            prior={"tau": "uniform-shrinkage"}).summary
    assert main(["meta", "--dataset", "bcg", "--estimate", "estimate", "--std-error",
                 "std_error", "--prior", "tau=uniform-shrinkage", "--table", "summary",
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)["summary"]
    tau = next(r for r in rows if r["parameter"] == "tau")
    assert tau["mean"] == want.loc["tau", "mean"]
    assert main(["meta", "--dataset", "bcg", "--estimate", "estimate", "--prior",
                 "tau=turner:bogus"]) == 2
    assert "`outcome` must be one of" in capsys.readouterr().err
