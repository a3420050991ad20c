"""CLI commands for model checking and decisions: compare (elpd), check, rank, predict.

Each command's JSON output is parsed back and compared with the library.
"""

import json

import pytest

import hierbayes as hb
from hierbayes.models import GammaPoisson
from hierbayes.output.cli import main


def _json(capsys, args):
    assert main([*args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_compare_prints_elpd_table(capsys):
    doc = _json(capsys, ["compare", "--dataset", "rats"])
    elpd = {row["pooling"]: row for row in doc["elpd"]}
    expect = hb.compare_pooling(hb.datasets.load("rats")).elpd
    for level in ("complete", "none", "partial"):
        assert elpd[level]["elpd_logo"] == pytest.approx(expect.loc[level, "elpd_logo"],
                                                         rel=1e-12)
        assert elpd[level]["se_diff"] == pytest.approx(expect.loc[level, "se_diff"], abs=1e-12)
    assert len(doc["pooling"]) == 71
    assert main(["compare", "--dataset", "rats"]) == 0
    assert "Leave-one-group-out" in capsys.readouterr().out


def test_compare_elpd_csv_keeps_nan_for_improper_levels(capsys):
    assert main(["compare", "--dataset", "eight_schools", "--format", "csv", "--table",
                 "elpd"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "pooling,elpd_logo,se,elpd_diff,se_diff"
    assert lines[2].startswith("none,,")  # no pooling with a flat prior: no predictive


def test_check_matches_library(capsys):
    doc = _json(capsys, ["check", "--dataset", "pumps", "--draws", "500", "--seed", "4"])
    table = GammaPoisson().fit(hb.datasets.load("pumps")).ppc(draws=500, seed=4).table
    got = {row["statistic"]: row for row in doc["ppc"]}
    assert set(got) == set(table.index)
    for name in table.index:
        assert got[name]["p_value"] == table.loc[name, "p_value"]


def test_rank_with_flags(capsys):
    doc = _json(capsys, ["rank", "--dataset", "rats", "--above", "0.2", "--fdr", "0.1",
                         "--draws", "1000"])
    rows = doc["ranks"]
    fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
    flags = fit.flag(0.2, fdr=0.1)
    assert sum(r["flagged"] for r in rows) == int(flags["flagged"].sum())
    by_group = {str(r["group"]): r for r in rows}
    assert by_group["70"]["pep"] == pytest.approx(flags.loc[70, "pep"], rel=1e-12)
    means = [r["mean_rank"] for r in rows]
    assert means == sorted(means)
    assert main(["rank", "--dataset", "rats", "--above", "0.2", "--below", "0.1"]) == 2


def test_predict_new_group(capsys):
    doc = _json(capsys, ["predict", "--dataset", "rats", "--design", "14", "--observed", "4"])
    rows = {r[next(iter(r))]: r for r in doc["new_group"]}
    fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
    expect = fit.predict_new(trials=14, successes=4)
    assert rows["theta"]["mean"] == pytest.approx(expect.loc["theta", "mean"], rel=1e-12)
    assert rows["y"]["upper"] == expect.loc["y", "upper"]
    assert doc["metadata"]["trials"] == 14
    assert main(["predict", "--dataset", "rats", "--design", "5", "--observed", "6"]) == 2
    assert "exceeds" in capsys.readouterr().err
    assert main(["predict", "--dataset", "eight_schools", "--design", "10"]) == 0
    assert "A new group" in capsys.readouterr().out


def test_rank_exact_best(capsys):
    doc = _json(capsys, ["rank", "--dataset", "pumps", "--exact-best", "--draws", "200"])
    fit = GammaPoisson().fit(hb.datasets.load("pumps"))
    exact = fit.prob_best()
    got = {str(r["group"]): r["p_best"] for r in doc["ranks"]}
    assert got["10"] == pytest.approx(exact.loc[10], rel=1e-12)
    assert "mc_se_best" not in doc["ranks"][0]
