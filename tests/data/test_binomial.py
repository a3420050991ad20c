import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.data.binomial import PairCounts, binomial_counts, reduce_pairs


def test_rows_are_summed_per_group_in_first_appearance_order():
    df = pd.DataFrame({"lab": ["b", "a", "b"], "y": [1, 2, 3], "n": [5, 6, 7]})
    c = binomial_counts(df, group="lab", successes="y", trials="n")
    assert list(c.group) == ["b", "a"]
    assert c.successes.tolist() == [4, 2]
    assert c.trials.tolist() == [12, 6]


def test_integer_valued_floats_accepted_and_arrays_work():
    c = binomial_counts(successes=[1.0, 2.0], trials=[3.0, 4.0])
    assert c.successes.dtype == np.int64 and c.trials.tolist() == [3, 4]


@pytest.mark.parametrize(
    "y,n,needle",
    [
        ([5, 1], [3, 4], "exceeds"),
        ([-1, 1], [3, 4], "negative"),
        ([2.5, 1], [3, 4], "whole numbers"),
        ([np.nan, 1], [3, 4], "missing"),
        ([1, 1], [np.inf, 4], "missing or infinite"),
        (["x", 1], [3, 4], "must hold numbers"),
    ],
)
def test_bad_counts_are_named(y, n, needle):
    df = pd.DataFrame({"group": ["g1", "g2"], "successes": y, "trials": n})
    with pytest.raises(hb.DataError, match=needle) as err:
        hb.BetaBinomial().fit(df)
    assert "g1" in str(err.value)


def test_more_than_five_offenders_are_counted_not_listed():
    df = pd.DataFrame({"successes": [9] * 8, "trials": [1] * 8})
    with pytest.raises(hb.DataError, match="and 3 more"):
        binomial_counts(df)


def test_missing_column_empty_and_booleans():
    df = pd.DataFrame({"y": [1], "n": [2]})
    with pytest.raises(hb.DataError, match=r"'successes'.*not in the data"):
        hb.BetaBinomial().fit(df)
    with pytest.raises(hb.DataError, match="empty"):
        hb.BetaBinomial().fit(pd.DataFrame({"successes": [], "trials": []}))
    with pytest.raises(hb.DataError, match="booleans"):
        binomial_counts(pd.DataFrame({"successes": [True], "trials": [1]}))
    with pytest.raises(hb.DataError, match="group"):
        binomial_counts(df, group="lab", successes="y", trials="n")
    with pytest.raises(TypeError):
        binomial_counts([1, 2])


def test_datasets_load_rats_with_published_totals():
    rats = hb.datasets.load("rats")
    assert len(rats) == 71
    assert int(rats.successes.sum()) == 267 and int(rats.trials.sum()) == 1739
    assert tuple(rats.iloc[-1][["successes", "trials"]]) == (4, 14)
    with pytest.raises(ValueError, match="must be one of"):
        hb.datasets.load("mice")


def _unique_reference(y, n):
    uniq, inverse, count = np.unique(np.stack([y, n], axis=1), axis=0, return_inverse=True,
                                     return_counts=True)
    return uniq[:, 0], uniq[:, 1], count, inverse.reshape(-1)


@pytest.mark.parametrize(
    "nmax,size",
    [(1000, 20_000),  # dense key space: bincount
     (10**7, 20_000),  # sparse key space: hash factorisation
     (2**40, 500)],  # keys beyond int64: row sort
)
def test_reduce_pairs_matches_np_unique(nmax, size):
    rng = np.random.default_rng(nmax % 97)
    n = rng.integers(0, nmax, size, dtype=np.int64)
    n[:5] = [0, nmax - 1, nmax - 1, 7, 7]
    y = (rng.random(size) * (n + 1)).astype(np.int64)
    y[:5] = [0, 0, nmax - 1, 3, 3]
    pairs, inverse = reduce_pairs(y, n)
    ry, rn, rc, rinv = _unique_reference(y, n)
    assert np.array_equal(pairs.successes, ry) and np.array_equal(pairs.trials, rn)
    assert np.array_equal(pairs.count, rc) and np.array_equal(inverse, rinv)
    assert pairs.n_groups == size and pairs.total_successes == int(y.sum())


def test_pair_counts_merge_does_not_depend_on_the_split():
    rng = np.random.default_rng(2)
    n = rng.integers(0, 50, 5000)
    y = rng.binomial(n, 0.4)
    whole, _ = reduce_pairs(y, n)
    cuts = np.sort(rng.choice(np.arange(1, 5000), 6, replace=False))
    parts = [reduce_pairs(a, b)[0] for a, b in zip(np.split(y, cuts), np.split(n, cuts),
                                                   strict=True)]
    for merged in (PairCounts.merge(parts), PairCounts.merge(parts[::-1]),
                   PairCounts.merge([PairCounts.merge(parts[:3]), PairCounts.merge(parts[3:]),
                                     PairCounts.empty()])):
        assert np.array_equal(merged.successes, whole.successes)
        assert np.array_equal(merged.trials, whole.trials)
        assert np.array_equal(merged.count, whole.count)


def test_counts_cache_their_pairs_and_fast_integer_paths():
    y32 = np.array([1, 2, 1, 0], dtype=np.int32)
    n16 = np.array([3, 4, 3, 0], dtype=np.uint16)
    c = binomial_counts(successes=y32, trials=n16)
    assert c.successes.dtype == np.int64 and c.trials.tolist() == [3, 4, 3, 0]
    assert c.pairs is c.pairs and c.pairs.count.tolist() == [1, 2, 1]
    y, n, inverse = c.unique_pairs()
    assert np.array_equal(y[inverse], c.successes) and np.array_equal(n[inverse], c.trials)
    with pytest.raises(hb.DataError, match=r"'successes'.*negative.*-1"):
        binomial_counts(successes=np.array([-1, 2]), trials=np.array([3, 3]))
    with pytest.raises(hb.DataError, match="same length"):
        binomial_counts(successes=np.array([1, 2]), trials=np.array([3]))
