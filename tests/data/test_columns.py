"""The one column parser (hierbayes.data.columns): roles, labels, row checks, exact sums."""

import datetime

import numpy as np
import pandas as pd
import pytest

from hierbayes.data.columns import (
    MAX_EXACT,
    count_values,
    distinct_pairs,
    exact_sums,
    group_labels,
    real_values,
    role_columns,
)
from hierbayes.errors import DataError

LABELS = pd.Index(["a", "b", "c"])


@pytest.mark.parametrize(
    ("raw", "pattern"),
    [
        ([1, 2.5, 3], r"^Column 'y' \(successes\) must hold whole numbers; non-integer values "
                      r"in groups \(group: value\): 'b': 2\.5\.$"),
        ([1, -2, 3], r"must not be negative; negative values in groups \(group: value\): 'b': -2"),
        ([1, np.nan, 3], r"missing or infinite values in groups \(group: value\): 'b': nan"),
        ([1, "x", 3], r"must hold numbers; non-numeric values in groups.*'b': 'x'"),
        ([1, True, 3], r"must hold numbers; booleans in groups \(group: value\): 'b': True"),
        ([1, 2**53 + 1, 3], r"too large to be exact \(above 2\^53\).*'b': 9007199254740993"),
        ([1, 2 + 1j, 3], r"must hold real numbers; complex values.*'b': \(2\+1j\)"),
    ],
)
def test_count_errors_name_column_role_group_and_value(raw, pattern):
    with pytest.raises(DataError, match=pattern):
        count_values("y", "successes", np.asarray(raw, dtype=object), LABELS)


def test_counts_in_every_spelling_give_int64():
    got = count_values("y", "successes", [1, 2.0, "3"], LABELS)
    assert got.dtype == np.int64 and got.tolist() == [1, 2, 3]
    nullable = pd.array([1, 2, 3], dtype="Int64")
    assert count_values("y", "successes", nullable, LABELS).tolist() == [1, 2, 3]
    with pytest.raises(DataError, match=r"must be at least 1; smaller values.*'a': 0"):
        count_values("n", "total", [0, 2, 3], LABELS, minimum=1)


@pytest.mark.parametrize(
    "raw",
    [
        pd.to_timedelta([1, 2, 3], unit="D"),
        pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"]),
        np.array([1.0, datetime.timedelta(days=2), 3.0], dtype=object),
        np.array([1.0, pd.Timestamp("2020-01-01"), 3.0], dtype=object),
    ],
)
def test_dates_and_durations_are_refused_not_read_as_nanoseconds(raw):
    for check in (count_values, real_values):
        with pytest.raises(DataError, match=r"'t' \(exposure\) holds dates or durations.*"
                                            r"nanoseconds.*pd\.Timedelta"):
            check("t", "exposure", pd.Series(raw), LABELS)


def test_rows_listed_in_row_wording():
    with pytest.raises(DataError, match=r"in rows \(row: value\): 'b': inf"):
        real_values("v", "`variance`", [1.0, np.inf, 2.0], LABELS, where="row")


def test_group_labels_that_print_the_same_are_refused():
    with pytest.raises(DataError, match=r"'lab' \(group\).*differ only in type.*1 \(int\), "
                                        r"'1' \(str\)"):
        group_labels(pd.Series([1, "1", 2], dtype=object), "lab")
    assert list(group_labels(pd.Series(["01", "1", "1e3", "1000"]), "lab")) == [
        "01", "1", "1e3", "1000"]  # text labels are distinct however they read as numbers
    with pytest.raises(DataError, match=r"'lab' \(group\) has missing labels in rows 1, 3"):
        group_labels(pd.Series(["a", None, "b", np.nan]), "lab")


def test_exact_sums_stay_exact_past_float64_and_refuse_past_2_53():
    codes, groups = np.array([0, 0, 1]), pd.Index(["a", "b"])
    got = exact_sums("y", "counts", np.array([2**53 - 1, 1, 5]), codes, groups)
    assert got.tolist() == [2**53, 5]  # float64 rounds 2^53 - 1 + 1 exactly to 2^53
    with pytest.raises(DataError, match=r"'y' \(counts\) sums.*too large to be exact.*"
                                        r"\(group: sum\): 'a': 9007199254740993\."):
        exact_sums("y", "counts", np.array([2**53 - 1, 2, 5]), codes, groups)
    many = np.full(1100, MAX_EXACT, dtype=np.int64)  # the int64 sum would overflow
    with pytest.raises(DataError, match=f"'a': {1100 * 2**53}"):
        exact_sums("y", "counts", many, np.zeros(1100, dtype=np.int64), pd.Index(["a"]))


def test_distinct_pairs_with_and_without_a_key_agree():
    rng = np.random.default_rng(3)
    a = rng.integers(0, 5, 200) + np.array([0, 2**53 - 10])[rng.integers(0, 2, 200)]
    b = rng.integers(0, 3000, 200)
    ua, ub, inverse, count = distinct_pairs(a, b)
    ref, ref_inv, ref_count = np.unique(np.stack([a, b], 1), axis=0, return_inverse=True,
                                        return_counts=True)
    assert ua.tolist() == ref[:, 0].tolist() and ub.tolist() == ref[:, 1].tolist()
    assert inverse.tolist() == ref_inv.reshape(-1).tolist()
    assert count.tolist() == ref_count.tolist()
    small = distinct_pairs(a % 7, b)
    assert (small[0][small[2]] == a % 7).all() and (small[1][small[2]] == b).all()


def test_role_columns_from_a_frame_and_from_arrays():
    frame = pd.DataFrame({"lab": ["x", "y"], "k": [1, 2]}, index=[10, 20])
    cols = role_columns(frame, {"counts": "k", "exposure": "exposure"}, group="lab",
                        optional=("exposure",))
    assert cols.names == {"counts": "k"} and cols.group == "lab" and len(cols) == 2
    rows = role_columns(frame, {"counts": "k"}, group=None)
    assert list(rows.labels) == [10, 20] and rows.group is None
    arrays = role_columns(None, {"counts": [1, 2]}, group=["p", "q"])
    assert arrays.names == {"counts": "counts"} and list(arrays.labels) == ["p", "q"]


@pytest.mark.parametrize(
    ("data", "roles", "group", "pattern"),
    [
        ({"y": [1], "n": [2]}, {"successes": "y", "trials": "n"}, "y",
         r"Column 'y' is given as both `successes` and `group`"),
        ({"n": [1]}, {"successes": "n", "trials": "n"}, None,
         r"Column 'n' is given as both `successes` and `trials`"),
        (pd.DataFrame([[1, 2, 3]], columns=["y", "y", "n"]), {"successes": "y", "trials": "n"},
         None, r"Column 'y' \(`successes`\) appears 2 times"),
        (pd.DataFrame({"y": [1, 2], "n": [3, 4]}, index=[7, 7]),
         {"successes": "y", "trials": "n"}, None, r"index that labels them repeats 7"),
        (None, {"successes": pd.Series([1, 2], index=[0, 1]),
                "trials": pd.Series([3, 4], index=[1, 0])}, None,
         r"`successes` and `trials` are pandas Series with different indexes"),
        (None, {"counts": np.ones((2, 2))}, None, r"`counts` must be 1-d.*\(2, 2\)"),
        (None, {"counts": [1, 2], "exposure": [1.0]}, None,
         r"`counts` and `exposure` must have the same length; got 2 and 1"),
        ({"y": []}, {"counts": "y"}, None, "The data are empty"),
    ],
)
def test_role_columns_refuse_what_would_pair_rows_wrongly(data, roles, group, pattern):
    with pytest.raises(DataError, match=pattern):
        role_columns(data, roles, group=group)


def test_series_with_one_index_are_paired_like_arrays():
    index = pd.Index([5, 3, 9])
    cols = role_columns(None, {"successes": pd.Series([1, 2, 3], index=index),
                               "trials": pd.Series([4, 5, 6], index=index)},
                        group=pd.Series(["a", "b", "a"], index=index))
    assert cols.values["successes"].tolist() == [1, 2, 3]
    assert list(cols.labels) == ["a", "b", "a"]
