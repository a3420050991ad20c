import numpy as np
import pandas as pd
import pytest

import hierbayes as hb
from hierbayes.data import binomial_counts


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
