"""Effect sizes: published metafor values, hand formulas, and bad-input errors."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from scipy.special import gammaln
from statsmodels.stats.meta_analysis import effectsize_smd

from hierbayes.errors import DataError
from hierbayes.meta import MEASURES, effect_sizes

# Colditz et al. (1994), 13 BCG trials, as R metadat `dat.bcg`; yi, vi are metafor's
# escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg) (no zero cells).
BCG = pd.read_csv(
    io.StringIO("""\
trial,tpos,tneg,cpos,cneg,yi,vi
1,4,119,11,128,-0.8893113339,0.325584765
2,6,300,29,274,-1.585388657,0.1945811214
3,3,228,11,209,-1.348073148,0.4153679654
4,62,13536,248,12619,-1.44155119,0.0200100319
5,33,5036,47,5761,-0.2175473222,0.05121017217
6,180,1361,372,1079,-0.7861155858,0.006905618456
7,8,2537,10,619,-1.620898224,0.2230172476
8,505,87886,499,87892,0.01195233352,0.003961579298
9,29,7470,45,7232,-0.4694176487,0.05643421046
10,17,1699,65,1600,-1.371344803,0.07302479361
11,186,50448,141,27197,-0.3393588283,0.01241221397
12,5,2493,3,2338,0.4459134006,0.5325058452
13,27,16886,29,17825,-0.01731394822,0.07140465968
""")
)

# Crins et al. (2014), acute rejection, as R bayesmeta `CrinsEtAl2014`; yi, vi are metafor's
# escalc(measure="OR", ai=exp.AR.events, n1i=exp.total, ci=cont.AR.events, n2i=cont.total)
# with 0.5 added to every cell of the one table with a zero cell (Gras 2008).
CRINS = pd.read_csv(
    io.StringIO("""\
publication,exp.AR.events,exp.total,cont.AR.events,cont.total,yi,vi,cc_applied
Heffron (2003),14,61,15,20,-2.309702561,0.3593718338,0
Gibelli (2004),16,28,19,28,-0.4595323294,0.3095760234,0
Schuller (2005),3,18,8,12,-2.302585093,0.775,0
Ganschow (2005),9,54,29,54,-1.757857918,0.207816092,0
Spada (2006),4,36,11,36,-1.25846099,0.4121590909,0
Gras (2008),0,50,3,34,-2.41789594,2.337262298,1
"""),
    index_col="publication",
)

BCG_ROLES = {"events_t": "tpos", "nonevents_t": "tneg", "events_c": "cpos", "nonevents_c": "cneg"}


def test_bcg_log_risk_ratio_matches_metafor():
    out = effect_sizes(BCG, "RR", **BCG_ROLES)
    np.testing.assert_allclose(out["yi"], BCG["yi"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(out["vi"], BCG["vi"], rtol=0, atol=1e-8)
    assert not out["corrected"].any()
    assert out.index.equals(BCG.index) and out.attrs["measure"] == "RR"


def test_bcg_totals_give_the_same_as_nonevents():
    data = BCG.assign(nt=BCG.tpos + BCG.tneg, nc=BCG.cpos + BCG.cneg)
    a = effect_sizes(data, "RR", **BCG_ROLES)
    b = effect_sizes(data, "RR", events_t="tpos", total_t="nt", events_c="cpos", total_c="nc")
    pd.testing.assert_frame_equal(a, b)


def test_crins_log_odds_ratio_with_correction_matches_metafor():
    out = effect_sizes(CRINS, "OR", events_t="exp.AR.events", total_t="exp.total",
                       events_c="cont.AR.events", total_c="cont.total")  # fmt: skip
    np.testing.assert_allclose(out["yi"], CRINS["yi"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(out["vi"], CRINS["vi"], rtol=0, atol=1e-8)
    assert out["corrected"].tolist() == CRINS["cc_applied"].astype(bool).tolist()
    assert out.index.equals(CRINS.index)


def _hand_2x2(a, b, c, d):
    """Textbook formulas, written out per table with Python floats."""
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    return {
        "OR": (np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d),
        "RR": (np.log(p1 / p2), 1 / a - 1 / n1 + 1 / c - 1 / n2),
        "RD": (p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2),
    }


@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
@pytest.mark.parametrize("correct", ["zero-only", "all"])
def test_two_by_two_against_hand_formulas(measure, correct):
    tables = [(3, 17, 9, 11), (0, 20, 4, 16), (12, 0, 7, 5), (1, 1, 1, 1), (40, 60, 25, 75)]
    data = pd.DataFrame(tables, columns=["a", "b", "c", "d"], index=list("vwxyz"))
    out = effect_sizes(data, measure, events_t="a", nonevents_t="b", events_c="c",
                       nonevents_c="d", correction=0.25, correct=correct)  # fmt: skip
    for label, (a, b, c, d) in zip(data.index, tables, strict=True):
        add = 0.25 if (correct == "all" or 0 in (a, b, c, d)) else 0.0
        yi, vi = _hand_2x2(a + add, b + add, c + add, d + add)[measure]
        assert out.loc[label, "yi"] == pytest.approx(yi, rel=1e-12, abs=1e-14)
        assert out.loc[label, "vi"] == pytest.approx(vi, rel=1e-12)
        assert out.loc[label, "corrected"] == (add > 0)


def test_single_proportions_against_hand_formulas():
    data = pd.DataFrame({"events": [3, 0, 10, 7], "total": [20, 15, 10, 7]})
    plo = effect_sizes(data, "PLO")
    pln = effect_sizes(data, "PLN")
    x = np.array([3, 0.5, 10.5, 7.5])
    m = np.array([17, 15.5, 0.5, 0.5])
    np.testing.assert_allclose(plo["yi"], np.log(x / m), rtol=1e-13)
    np.testing.assert_allclose(plo["vi"], 1 / x + 1 / m, rtol=1e-13)
    np.testing.assert_allclose(pln["yi"], np.log(x / (x + m)), rtol=1e-13)
    np.testing.assert_allclose(pln["vi"], 1 / x - 1 / (x + m), rtol=1e-13)
    assert plo["corrected"].tolist() == [False, True, True, True]


def _hand_smd(m1, s1, n1, m2, s2, n2):
    """Hedges' g with J from gammaln, and metafor's large-sample variance."""
    dof = n1 + n2 - 2
    j = np.exp(gammaln(dof / 2) - 0.5 * np.log(dof / 2) - gammaln((dof - 1) / 2))
    sp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / dof)
    g = j * (m1 - m2) / sp
    return g, 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2))


def test_smd_against_gammaln_hand_computation():
    rows = [
        (10.2, 2.1, 12, 8.9, 2.5, 14),
        (5.0, 1.0, 2, 4.0, 1.5, 2),
        (0.3, 0.9, 150, 0.5, 1.1, 90),
    ]
    data = pd.DataFrame(rows, columns=["mean_t", "sd_t", "n_t", "mean_c", "sd_c", "n_c"])
    out = effect_sizes(data, "SMD")
    for i, row in enumerate(rows):
        g, v = _hand_smd(*row)
        assert out["yi"].iloc[i] == pytest.approx(g, rel=1e-12)
        assert out["vi"].iloc[i] == pytest.approx(v, rel=1e-12)
    assert list(out.columns) == ["yi", "vi"]
    # statsmodels uses the approximation J ≈ 1 - 3/(4N - 9): close, but not equal, for n ≥ 10.
    sm_g, _ = effectsize_smd(*(data[c].to_numpy(float) for c in data.columns))
    np.testing.assert_allclose(out["yi"].iloc[[0, 2]], sm_g[[0, 2]], rtol=2e-4)


def test_hedges_j_limits():
    # J(2) = Γ(1)/(1·Γ(1/2)) = 1/√π exactly; J → 1 for large samples.
    data = pd.DataFrame({"mean_t": [1.0, 1.0], "sd_t": [1.0, 1.0], "n_t": [2, 10**6],
                         "mean_c": [0.0, 0.0], "sd_c": [1.0, 1.0], "n_c": [2, 10**6]})  # fmt: skip
    g = effect_sizes(data, "SMD")["yi"].to_numpy()
    assert g[0] == pytest.approx(1 / np.sqrt(np.pi), rel=1e-13)
    assert g[1] == pytest.approx(1 - 3 / (4 * (2 * 10**6 - 2) - 1), rel=1e-12)


def test_mean_difference():
    data = pd.DataFrame(
        {"m1": [5.0], "s1": [2.0], "k1": [10], "m2": [3.5], "s2": [1.0], "k2": [20]}
    )
    out = effect_sizes(data, "MD", mean_t="m1", sd_t="s1", n_t="k1",
                       mean_c="m2", sd_c="s2", n_c="k2")  # fmt: skip
    assert out["yi"].iloc[0] == pytest.approx(1.5)
    assert out["vi"].iloc[0] == pytest.approx(4 / 10 + 1 / 20)


def test_row_order_does_not_matter():
    shuffled = BCG.sample(frac=1.0, random_state=np.random.default_rng(3))
    a = effect_sizes(BCG, "OR", **BCG_ROLES)
    b = effect_sizes(shuffled, "OR", **BCG_ROLES)
    pd.testing.assert_frame_equal(a.loc[b.index], b)


# --- zero cells ----------------------------------------------------------------------------

DOUBLE = pd.DataFrame({"a": [2, 0, 5], "n1": [10, 12, 5], "c": [3, 0, 6], "n2": [11, 15, 6]},
                      index=["s1", "s2", "s3"])  # fmt: skip
DOUBLE_ROLES = {"events_t": "a", "total_t": "n1", "events_c": "c", "total_c": "n2"}


@pytest.mark.parametrize("measure", ["OR", "RR"])
def test_double_zero_table_is_an_error_by_default(measure):
    with pytest.raises(DataError, match=r"'a'.*'c'.*'s2': 0/12 vs 0/15, 's3': 5/5 vs 6/6"):
        effect_sizes(DOUBLE, measure, **DOUBLE_ROLES)


def test_double_zero_table_can_be_corrected():
    out = effect_sizes(DOUBLE, "OR", **DOUBLE_ROLES, double_zero="correct")
    yi, vi = _hand_2x2(0.5, 12.5, 0.5, 15.5)["OR"]
    assert out.loc["s2", "yi"] == pytest.approx(yi) and out.loc["s2", "vi"] == pytest.approx(vi)
    assert out["corrected"].tolist() == [False, True, True]
    with pytest.raises(DataError, match="correction > 0"):
        effect_sizes(DOUBLE, "OR", **DOUBLE_ROLES, double_zero="correct", correction=0)


def test_risk_difference_is_defined_for_double_zero_tables():
    out = effect_sizes(DOUBLE.iloc[:2], "RD", **DOUBLE_ROLES)
    yi, vi = _hand_2x2(0.5, 12.5, 0.5, 15.5)["RD"]
    assert out.loc["s2", "yi"] == pytest.approx(yi) and out.loc["s2", "vi"] == pytest.approx(vi)
    raw = effect_sizes(DOUBLE.iloc[:1], "RD", **DOUBLE_ROLES, correction=0)
    assert raw["yi"].iloc[0] == pytest.approx(2 / 10 - 3 / 11)
    with pytest.raises(DataError, match=r"zero variance.*'s2': 0/12 vs 0/15"):
        effect_sizes(DOUBLE.iloc[:2], "RD", **DOUBLE_ROLES, correction=0)


def test_correction_zero_refuses_zero_cells():
    data = CRINS.rename(columns={"exp.AR.events": "a", "exp.total": "n1",
                                 "cont.AR.events": "c", "cont.total": "n2"})  # fmt: skip
    with pytest.raises(DataError, match=r"correction=0.*'a'.*Gras \(2008\)': 0/50 vs 3/34"):
        effect_sizes(data, "OR", **DOUBLE_ROLES, correction=0)
    # RR with a zero in the non-event cell only is finite: no error
    ok = pd.DataFrame({"a": [5], "n1": [5], "c": [2], "n2": [6]})
    rr = effect_sizes(ok, "RR", **DOUBLE_ROLES, correction=0)
    assert rr["yi"].iloc[0] == pytest.approx(np.log(1 / (2 / 6))) and not rr["corrected"].iloc[0]
    with pytest.raises(DataError, match=r"'events'.*0/9"):
        effect_sizes({"events": [0], "total": [9]}, "PLO", correction=0)


# --- bad input -------------------------------------------------------------------------------


def _frame(**changes):
    data = pd.DataFrame({"a": [2, 3, 4], "n1": [10, 10, 10], "c": [1, 2, 3], "n2": [9, 9, 9]},
                        index=["x", "y", "z"])  # fmt: skip
    for col, (row, value) in changes.items():
        data[col] = data[col].astype(object)
        data.loc[row, col] = value
    return data


@pytest.mark.parametrize(
    ("changes", "pattern"),
    [
        ({"a": ("y", -1)}, r"Column 'a' \(`events_t`\) must not be negative.*'y': -1"),
        ({"c": ("z", 2.5)}, r"Column 'c' \(`events_c`\) must hold whole numbers.*'z': 2\.5"),
        ({"a": ("x", 11)}, r"Column 'a' \(`events_t`\) exceeds 'n1' \(`total_t`\).*'x': 11 > 10"),
        ({"n2": ("x", np.nan)}, r"Column 'n2' \(`total_c`\) has missing.*'x': nan"),
        ({"n1": ("z", 0)}, r"Column 'n1' \(`total_t`\) must be at least 1.*'z': 0"),
        ({"a": ("y", "many")}, r"Column 'a' \(`events_t`\) must hold numbers.*'y': 'many'"),
        ({"c": ("x", True)}, r"Column 'c' \(`events_c`\) must hold numbers; booleans"),
    ],
)
def test_bad_counts_name_column_row_and_value(changes, pattern):
    with pytest.raises(DataError, match=pattern):
        effect_sizes(_frame(**changes), "OR", **DOUBLE_ROLES)


def test_more_than_five_bad_rows_are_counted():
    data = pd.DataFrame({"a": [-1] * 8, "n1": [5] * 8, "c": [1] * 8, "n2": [5] * 8})
    with pytest.raises(DataError, match=r"0: -1, 1: -1, 2: -1, 3: -1, 4: -1 and 3 more\."):
        effect_sizes(data, "RR", **DOUBLE_ROLES)


@pytest.mark.parametrize(
    ("column", "value", "pattern"),
    [
        ("sd_t", 0.0, r"Column 'sd_t' \(`sd_t`\) must be positive.*1: 0\.0"),
        ("sd_c", -2.0, r"Column 'sd_c' \(`sd_c`\) must be positive.*1: -2\.0"),
        ("n_t", 1, r"Column 'n_t' \(`n_t`\) must be at least 2.*1: 1"),
        ("mean_c", np.nan, r"Column 'mean_c' \(`mean_c`\) has missing.*1: nan"),
        ("n_c", 7.5, r"Column 'n_c' \(`n_c`\) must hold whole numbers.*1: 7\.5"),
    ],
)
@pytest.mark.parametrize("measure", ["SMD", "MD"])
def test_bad_means_name_column_row_and_value(column, value, pattern, measure):
    data = pd.DataFrame({"mean_t": [1.0, 2.0], "sd_t": [1.0, 1.0], "n_t": [5, 6],
                         "mean_c": [0.0, 0.5], "sd_c": [1.0, 2.0], "n_c": [5, 7]})  # fmt: skip
    data[column] = data[column].astype(float)
    data.loc[1, column] = value
    with pytest.raises(DataError, match=pattern):
        effect_sizes(data, measure)


def test_argument_errors():
    with pytest.raises(ValueError, match=r"`measure` must be one of 'MD', 'OR'.*got 'LOR'"):
        effect_sizes(BCG, "LOR", **BCG_ROLES)
    with pytest.raises(ValueError, match="`correct` must be one of"):
        effect_sizes(BCG, "OR", **BCG_ROLES, correct="only0")
    with pytest.raises(ValueError, match="`correction` must be a finite number >= 0"):
        effect_sizes(BCG, "OR", **BCG_ROLES, correction=-0.5)
    with pytest.raises(ValueError, match="does not use `mean_t`"):
        effect_sizes(BCG, "OR", **BCG_ROLES, mean_t="tpos")
    with pytest.raises(ValueError, match="Give `total_t` or `nonevents_t`, not both"):
        effect_sizes(BCG, "OR", **BCG_ROLES, total_t="tpos")
    with pytest.raises(DataError, match=r"Column 'events_t' \(`events_t`\) is not in the data"):
        effect_sizes(BCG, "OR")
    with pytest.raises(TypeError, match="`data` must be a pandas DataFrame"):
        effect_sizes([1, 2], "OR")
    assert MEASURES == tuple(sorted(MEASURES))


def test_canonical_column_names_are_the_defaults():
    data = pd.DataFrame({"events_t": [3], "total_t": [10], "events_c": [5], "total_c": [10]})
    yi, vi = _hand_2x2(3, 7, 5, 5)["OR"]
    out = effect_sizes(data, "OR")
    assert out["yi"].iloc[0] == pytest.approx(yi) and out["vi"].iloc[0] == pytest.approx(vi)
