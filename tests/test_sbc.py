"""Simulation-based calibration, the fast subset of ``python validation/sbc.py``.

Each test simulates R data sets from a proper prior (hyperparameters, then
theta_j, then data), fits the model with that same prior and checks that the
rank of every true value among L = 99 posterior draws is uniform and that the
exact 50% / 90% intervals cover at their nominal rate (Talts et al. 2018).

Thresholds (those of validation/sbc.py): a chi-square or KS p-value below
0.001, or a coverage more than 4 standard errors from nominal, rejects. Seeds
are fixed, so the outcome is deterministic; at these R the tests catch gross
miscalibration (a wrong conditional, swapped parameters, a truncated grid —
see the negative control), and the full run (500 replications per setting,
recorded in validation/sbc.py) is the fine check. The p-values each setting
gives at these seeds are noted beside it.
"""

import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

_PATH = Path(__file__).resolve().parents[1] / "validation" / "sbc.py"


@pytest.fixture(scope="module")
def sbc():
    spec = importlib.util.spec_from_file_location("hierbayes_sbc", _PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses need the module registered
    spec.loader.exec_module(module)
    return module


def _rows(sbc, setting, reps, bins, seed, hyper_intervals=True):
    if isinstance(setting, str):
        setting = sbc._BY_NAME[setting]
    results = [sbc.replicate(setting, (seed, r), 99, hyper_intervals) for r in range(reps)]
    errors = [r["error"] for r in results if "error" in r]
    assert not errors, errors[:3]
    return {r.parameter: r for r in sbc.summarise(setting, results, 99, bins)}


def _check(rows, expect_params):
    assert set(rows) == {"theta[0]", "theta[all]", *expect_params}
    for row in rows.values():
        assert row.ok, row


@pytest.mark.parametrize(
    ("name", "reps", "bins", "hyper_intervals"),
    [
        # 60 replications of 5 groups with 2-10 trials, about 15 s. At seed 7:
        # chi2/KS p theta[0] 0.89/0.80, mu 0.067/0.096, kappa 0.77/0.59
        ("binomial/few-small", 60, 10, True),
        # 100 replications of 40 groups with standard errors 0.5-2, about 5 s:
        # theta[0] 0.38/0.54, mu 0.11/0.19, tau 0.64/0.25
        ("normal/many-large", 100, 10, True),
        # 60 replications of 5 groups, exposures 0.2-2, about 9 s; fit.hyper (0.4 s a
        # fit) left out: theta[0] 0.18/0.19 (cov50 0.35, 2.3 se low), mean 0.62/0.73,
        # alpha 0.88/0.95
        ("poisson/few-small", 60, 5, False),
    ],
)
def test_ranks_uniform_and_intervals_cover(sbc, name, reps, bins, hyper_intervals):
    rows = _rows(sbc, name, reps, bins, seed=7, hyper_intervals=hyper_intervals)
    _check(rows, sbc._BY_NAME[name].hyper)
    assert rows["theta[all]"].reps == reps * sbc._BY_NAME[name].groups


def test_negative_control_complete_pooling_is_rejected(sbc):
    """The same thresholds reject a model that ignores between-group spread."""
    import hierbayes as hb

    setting = dataclasses.replace(
        sbc._BY_NAME["binomial/many-large"],
        model=lambda: hb.BetaBinomial(pooling="complete", probs=sbc.PROBS),
        hyper=(),
    )
    rows = _rows(sbc, setting, 30, 10, seed=7)
    assert not rows["theta[0]"].ok
    assert rows["theta[0]"].chi2_p < 1e-6
    assert rows["theta[all]"].cov90 < 0.5  # intervals far too narrow


def test_rank_tests_detect_a_shifted_histogram(sbc):
    rng = np.random.default_rng(0)
    uniform = rng.integers(0, 100, 400)
    p_chi, p_ks, hist = sbc.rank_tests(uniform, 99, 10)
    assert p_chi > 0.01 and p_ks > 0.01 and hist.sum() == 400
    biased = np.minimum(uniform + 15, 99)  # posterior too low: truth ranks high
    assert max(sbc.rank_tests(biased, 99, 10)[:2]) < 1e-6
    with pytest.raises(ValueError, match="divide"):
        sbc.rank_tests(uniform, 99, 7)
    assert sbc.sparkline(np.array([0, 4, 8])) == " ▄█"


def test_replications_are_deterministic_and_coverage_uses_summary_intervals(sbc):
    a = sbc.replicate("binomial/few-small", (3, 1), 19)
    b = sbc.replicate("binomial/few-small", (3, 1), 19)
    assert np.array_equal(a["ranks"]["theta"], b["ranks"]["theta"])
    assert a["ranks"]["kappa"] == b["ranks"]["kappa"]
    # the intervals are those of fit.summary(prob): re-derive one replication by hand
    setting = sbc._BY_NAME["binomial/few-small"]
    rng = np.random.default_rng([3, 1])
    truth, data = setting.simulate(rng)
    s90 = setting.model().fit(**data).summary(prob=0.9)
    inside = (s90.lower <= truth["theta"]) & (truth["theta"] <= s90.upper)
    assert np.array_equal(inside.to_numpy(), a["in90"]["theta"])
