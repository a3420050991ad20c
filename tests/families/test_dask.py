"""The Dask engine against the in-memory fit, on a real distributed LocalCluster."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import hierbayes as hb

dd = pytest.importorskip(
    "dask.dataframe", reason="Dask is not installed: pip install 'hierbayes[dask]'"
)
distributed = pytest.importorskip(
    "distributed", reason="dask.distributed is not installed: pip install 'hierbayes[dask]'"
)
from dask.sizeof import sizeof  # noqa: E402

from hierbayes.families.betabinomial.dask import DaskBetaBinomialFit  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _write_parts(path, frame, parts):
    path.mkdir()
    for i, chunk in enumerate(np.array_split(np.arange(len(frame)), parts)):
        frame.iloc[chunk].reset_index(drop=True).to_parquet(path / f"part{i}.parquet")
    return path


@pytest.fixture(scope="module")
def clicks(tmp_path_factory):
    """120k rows, one per ad (no group column), n up to 100, in 6 parquet files."""
    rng = np.random.default_rng(7)
    n = rng.integers(1, 101, 120_000)
    y = rng.binomial(n, rng.beta(2, 10, n.size))
    frame = pd.DataFrame({"clicks": y.astype(np.int32), "views": n.astype(np.int32)})
    return _write_parts(tmp_path_factory.mktemp("d") / "clicks", frame, 6), frame


@pytest.fixture(scope="module")
def labs(tmp_path_factory):
    """3000 rows of 40 labelled groups (rows summed per group), small n, 4 files."""
    rng = np.random.default_rng(8)
    n = rng.integers(0, 6, 3000)
    frame = pd.DataFrame({"lab": rng.choice([f"lab{i}" for i in range(40)], 3000),
                          "y": rng.binomial(n, 0.3), "n": n})
    return _write_parts(tmp_path_factory.mktemp("d") / "labs", frame, 4), frame


def test_rows_as_groups_match_the_in_memory_fit_exactly(client, clicks):
    path, frame = clicks
    ddf = dd.read_parquet(str(path))
    fit = hb.BetaBinomial().fit(ddf, successes="clicks", trials="views")
    mem = hb.BetaBinomial().fit(frame, successes="clicks", trials="views")
    assert isinstance(fit, DaskBetaBinomialFit) and fit.n_groups == len(frame)
    # same sufficient statistics -> identical numbers, not merely close ones
    for a, b in zip((fit.pairs.successes, fit.pairs.trials, fit.pairs.count),
                    (mem.counts.pairs.successes, mem.counts.pairs.trials, mem.counts.pairs.count),
                    strict=True):
        assert np.array_equal(a, b)
    assert fit.hyper.equals(mem.hyper)
    assert fit.error == mem.error
    moments = fit.moments.compute()  # groups are rows, numbered through all files
    assert moments.index.equals(mem.moments.index)
    assert np.array_equal(moments.to_numpy(), mem.moments.to_numpy(), equal_nan=True)


def test_grouped_rows_quantiles_and_to_parquet(client, labs, tmp_path):
    path, frame = labs
    ddf = dd.read_parquet(str(path))
    roles = {"group": "lab", "successes": "y", "trials": "n"}
    fit = hb.BetaBinomial().fit(ddf, **roles)
    mem = hb.BetaBinomial().fit(frame, **roles)
    assert fit.n_groups == len(mem.counts) and fit.hyper.equals(mem.hyper)
    fit.groups.to_parquet(tmp_path / "out")
    back = pd.read_parquet(tmp_path / "out").sort_index()
    expected = mem.groups.sort_index()
    assert list(back.columns) == list(expected.columns)
    assert back.index.equals(expected.index)
    assert np.array_equal(back.to_numpy(), expected.to_numpy(), equal_nan=True)


def test_the_fit_gathers_only_the_sufficient_statistics(client, clicks, monkeypatch):
    path, frame = clicks
    gathered = []
    real = client.gather

    def spy(futures, *args, **kwargs):
        out = real(futures, *args, **kwargs)
        gathered.append(sizeof(out))
        return out

    monkeypatch.setattr(client, "gather", spy)
    fit = hb.BetaBinomial().fit(dd.read_parquet(str(path)), successes="clicks", trials="views")
    data_bytes = frame.memory_usage(deep=True).sum()
    assert len(gathered) == 1  # one computation: the reduction
    assert sum(gathered) < data_bytes / 20
    assert len(fit.pairs) < 6000  # distinct (clicks, views) pairs, not 120k rows


@pytest.mark.parametrize("pooling,method", [("complete", "exact"), ("none", "exact"),
                                            ("partial", "eb")])
def test_other_poolings_and_methods_match(client, labs, pooling, method):
    path, frame = labs
    model = hb.BetaBinomial(pooling=pooling, method=method)
    roles = {"group": "lab", "successes": "y", "trials": "n"}
    fit = model.fit(dd.read_parquet(str(path)), **roles)
    mem = model.fit(frame, **roles)
    assert fit.hyper.equals(mem.hyper)
    got = fit.moments.compute().sort_index()
    assert np.array_equal(got.to_numpy(), mem.moments.sort_index().to_numpy(), equal_nan=True)


def test_data_errors_name_the_column_and_values(client, tmp_path):
    frame = pd.DataFrame({"clicks": [1, 2, 3, 9, 1, 1], "views": [5, 5, 5, 4, 5, 5]})
    ddf = dd.from_pandas(frame, npartitions=3)
    with pytest.raises(hb.DataError, match=r"'clicks'.*exceeds 'views'.*3: 9 > 4"):
        hb.BetaBinomial().fit(ddf, successes="clicks", trials="views")
    bad = dd.from_pandas(frame.assign(views=[5, 5, 5, 10, -1, 5]), npartitions=3)
    with pytest.raises(hb.DataError, match=r"'views'.*negative.*-1"):
        hb.BetaBinomial().fit(bad, successes="clicks", trials="views")
    with pytest.raises(hb.DataError, match=r"'impressions'.*not in the data"):
        hb.BetaBinomial().fit(ddf, successes="clicks", trials="impressions")
    with pytest.raises(TypeError, match="column name"):
        hb.BetaBinomial().fit(ddf, successes=[1, 2], trials="views")


def test_threaded_scheduler_without_a_cluster(labs):
    import dask

    path, frame = labs
    roles = {"group": "lab", "successes": "y", "trials": "n"}
    # tasks shuffle: p2p (the default while a distributed client exists) needs the cluster
    with dask.config.set({"scheduler": "threads", "dataframe.shuffle.method": "tasks"}):
        fit = hb.BetaBinomial().fit(dd.read_parquet(str(path)), **roles)
    assert fit.hyper.equals(hb.BetaBinomial().fit(frame, **roles).hyper)


def test_hierbayes_imports_without_dask():
    code = "import sys, hierbayes; sys.exit('dask' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_cli_on_the_cluster(client, labs, tmp_path):
    from hierbayes.output.cli import main

    path, frame = labs
    out = tmp_path / "out"
    code = main(["fit", str(path / "*.parquet"), "--scheduler", client.scheduler.address,
                 "--group", "lab", "--successes", "y", "--trials", "n", "--no-intervals",
                 "-o", str(out)])
    assert code == 0
    back = pd.read_parquet(out).set_index("group").sort_index()
    expected = hb.BetaBinomial().fit(frame, group="lab", successes="y", trials="n").moments
    assert np.array_equal(back.to_numpy(), expected.sort_index().to_numpy(), equal_nan=True)
