"""Classical meta-analysis: metafor's published BCG numbers, independent oracles, invariants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats
from statsmodels.stats.meta_analysis import combine_effects

from hierbayes.errors import DataError
from hierbayes.meta import classical_meta, typical_variance

# Log risk ratios of the 13 BCG trials (Colditz et al. 1994; R metadat `dat.bcg`), from
# metafor's escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg).
BCG = pd.DataFrame(
    {
        "yi": [-0.8893113339, -1.585388657, -1.348073148, -1.44155119, -0.2175473222,
               -0.7861155858, -1.620898224, 0.01195233352, -0.4694176487, -1.371344803,
               -0.3393588283, 0.4459134006, -0.01731394822],
        "vi": [0.325584765, 0.1945811214, 0.4153679654, 0.0200100319, 0.05121017217,
               0.006905618456, 0.2230172476, 0.003961579298, 0.05643421046, 0.07302479361,
               0.01241221397, 0.5325058452, 0.07140465968],
    }
)  # fmt: skip


@pytest.fixture(scope="module")
def bcg():
    return classical_meta(BCG)


def test_bcg_published_metafor_values(bcg):
    # Published (metafor): rma(yi, vi, data=dat.bcg) (REML): tau² = 0.3132, mu = -0.7145
    # (SE 0.1798), Q(df = 12) = 152.2330; method="DL": tau² = 0.3088; method="EE": -0.4303.
    t = bcg.table
    assert round(bcg.q, 4) == 152.2330 and bcg.df == 12
    assert round(t.loc["REML", "tau2"], 4) == 0.3132
    assert round(t.loc["DL", "tau2"], 4) == 0.3088
    assert round(t.loc["equal-effects", "estimate"], 4) == -0.4303
    assert round(t.loc["REML", "estimate"], 4) == -0.7145
    assert round(t.loc["REML", "std_error"], 4) == 0.1798


def test_bcg_metafor_printed_output(bcg):
    # The rest of metafor's printed rma(yi, vi, data=dat.bcg) output: tau = 0.5597,
    # I² = 92.22%, H² = 12.86, 95% CI -1.0669 to -0.3622.
    reml = bcg.table.loc["REML"]
    assert round(reml["tau"], 4) == 0.5597
    assert round(100 * reml["i2"], 2) == 92.22 and round(reml["h2"], 2) == 12.86
    assert (round(reml["lower"], 4), round(reml["upper"], 4)) == (-1.0669, -0.3622)


def test_against_statsmodels_and_textbook_formulas(bcg):
    y, v = BCG["yi"].to_numpy(), BCG["vi"].to_numpy()
    w = 1 / v
    mu_ee = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - mu_ee) ** 2)
    tau2_dl = (q - 12) / (w.sum() - np.sum(w**2) / w.sum())
    t = bcg.table
    assert bcg.q == pytest.approx(q, rel=1e-12)
    assert bcg.p_value == pytest.approx(stats.chi2.sf(q, 12), rel=1e-10)
    assert bcg.i2 == pytest.approx((q - 12) / q) and bcg.h2 == pytest.approx(q / 12)
    assert t.loc["DL", "tau2"] == pytest.approx(tau2_dl, rel=1e-12)
    assert t.loc["equal-effects", "std_error"] == pytest.approx(w.sum() ** -0.5, rel=1e-12)
    sm = combine_effects(y, v, method_re="dl")
    assert t.loc["DL", "estimate"] == pytest.approx(sm.mean_effect_re, rel=1e-12)
    assert t.loc["DL", "std_error"] == pytest.approx(sm.sd_eff_w_re, rel=1e-12)
    # For DL the tau²-based I² equals the Q-based one.
    assert t.loc["DL", "i2"] == pytest.approx(bcg.i2, rel=1e-10)


def _reml_oracle(y, v):
    """REML with the general matrix form: -1/2 [log|V| + log|X'V⁻¹X| + r'Pr], bounded Brent."""
    x = np.ones((y.size, 1))

    def negloglik(tau2):
        vinv = np.diag(1 / (v + tau2))
        xtvx = x.T @ vinv @ x
        p = vinv - vinv @ x @ np.linalg.inv(xtvx) @ x.T @ vinv
        logdet_v = np.linalg.slogdet(np.diag(v + tau2))[1]
        return 0.5 * (logdet_v + np.linalg.slogdet(xtvx)[1] + y @ p @ y)

    grid = np.linspace(0, 10 * np.var(y) + 10 * v.max(), 2001)
    i = int(np.argmin([negloglik(g) for g in grid]))
    lo, hi = grid[max(i - 1, 0)], grid[i + 1]
    return optimize.minimize_scalar(negloglik, bounds=(lo, hi), method="bounded",
                                    options={"xatol": 1e-12}).x  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reml_against_matrix_form_oracle(seed):
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.01, 0.5, size=9)
    y = rng.normal(0.3, np.sqrt(v + 0.2))
    res = classical_meta({"yi": y, "vi": v})
    assert res.table.loc["REML", "tau2"] == pytest.approx(_reml_oracle(y, v), abs=1e-7)


def test_paule_mandel_solves_its_equation(bcg):
    y, v = BCG["yi"].to_numpy(), BCG["vi"].to_numpy()
    tau2 = bcg.table.loc["PM", "tau2"]
    w = 1 / (v + tau2)
    mu = np.sum(w * y) / w.sum()
    assert np.sum(w * (y - mu) ** 2) == pytest.approx(12, abs=1e-9)
    assert bcg.table.loc["PM", "estimate"] == pytest.approx(mu, rel=1e-12)
    # statsmodels' Newton iteration (default atol 1e-5 on the Q scale) agrees closely.
    sm = combine_effects(y, v, method_re="iterated")
    assert tau2 == pytest.approx(sm.tau2, abs=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paule_mandel_on_simulated_data(seed):
    # Seed 0 is a case where statsmodels' iteration with atol=1e-10 falls back to 0.
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.01, 0.5, size=9)
    y = rng.normal(0.3, np.sqrt(v + 0.2))
    res = classical_meta({"yi": y, "vi": v})
    tau2 = res.table.loc["PM", "tau2"]
    w = 1 / (v + tau2)
    if res.q <= res.df:  # no root: PM is 0
        assert tau2 == 0.0
    else:
        assert np.sum(w * (y - np.sum(w * y) / w.sum()) ** 2) == pytest.approx(8, abs=1e-9)


def test_homogeneous_studies_give_zero_tau2():
    res = classical_meta({"yi": [0.10, 0.12, 0.09, 0.11], "vi": [0.04, 0.05, 0.03, 0.06]})
    assert res.q < res.df and res.i2 == 0.0
    t = res.table
    assert (t["tau2"] == 0).all()
    assert np.allclose(t["estimate"], t.loc["equal-effects", "estimate"], rtol=0, atol=1e-15)


def test_invariant_to_row_order_and_equivariant_to_scale(bcg):
    shuffled = BCG.sample(frac=1, random_state=np.random.default_rng(5))
    pd.testing.assert_frame_equal(classical_meta(shuffled).table, bcg.table, rtol=1e-9)
    scaled = classical_meta({"yi": 3 * BCG["yi"], "vi": 9 * BCG["vi"]}).table
    np.testing.assert_allclose(scaled["tau2"], 9 * bcg.table["tau2"], rtol=1e-7)
    np.testing.assert_allclose(scaled["estimate"], 3 * bcg.table["estimate"], rtol=1e-7)
    np.testing.assert_allclose(scaled[["i2", "h2"]], bcg.table[["i2", "h2"]], rtol=1e-7)


def test_typical_variance():
    v = BCG["vi"].to_numpy()
    w = 1 / v
    assert typical_variance(v) == pytest.approx(12 * w.sum() / (w.sum() ** 2 - (w**2).sum()))
    assert typical_variance([0.2] * 5) == pytest.approx(0.2)


def test_bad_input():
    with pytest.raises(DataError, match="at least 2 studies; got 1"):
        classical_meta({"yi": [0.1], "vi": [0.2]})
    with pytest.raises(DataError, match=r"Column 'vi' \(`variance`\) must be positive.*1: 0\.0"):
        classical_meta({"yi": [0.1, 0.2], "vi": [0.2, 0.0]})
    with pytest.raises(DataError, match=r"Column 'y' \(`effect`\) has missing.*'b': nan"):
        classical_meta(pd.DataFrame({"y": [0.1, np.nan], "vi": [0.2, 0.1]}, index=["a", "b"]),
                       effect="y")  # fmt: skip
    with pytest.raises(ValueError, match="`prob` must lie strictly between 0 and 1"):
        classical_meta(BCG, prob=1.0)
