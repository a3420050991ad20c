"""New-group predictions far outside the data: right or refused (issue 16)."""

import math

import numpy as np
import pytest
from scipy import stats

import hierbayes as hb
from hierbayes.errors import DataError
from hierbayes.output.cli import main


@pytest.fixture(scope="module")
def rats():
    return hb.BetaBinomial().fit(hb.datasets.load("rats"))


@pytest.fixture(scope="module")
def pumps():
    return hb.GammaPoisson().fit(hb.datasets.load("pumps"))


def _mixture_quantile(cdf, q, k_max):
    """Smallest k with P(Y <= k) >= q, by a plain scan (the slow obvious loop)."""
    values = cdf(np.arange(k_max + 1))
    return float(np.flatnonzero(values >= q)[0])


def test_binomial_y_interval_against_scipy_betabinom_mixture(rats):
    # oracle: scipy.stats.betabinom summed over the hyperposterior points
    a, b = rats._new_prior()
    w = rats.points.weight
    n = 50
    got = rats.predict_new(trials=n).loc["y"]

    def cdf(k):
        with np.errstate(over="ignore"):  # pmf terms of components with huge shapes
            return w @ stats.betabinom.cdf(k[None, :], n, a[:, None], b[:, None])

    assert got["lower"] == _mixture_quantile(cdf, 0.025, n)
    assert got["upper"] == _mixture_quantile(cdf, 0.975, n)


def test_binomial_y_at_a_trillion_trials_is_theta_times_trials(rats):
    # y / n differs from theta by binomial noise sd sqrt(theta (1 - theta) / n) ~ 4e-7
    got = rats.predict_new(trials=1e12)
    y, theta = got.loc["y"] / 1e12, got.loc["theta"]
    for col in ("lower", "upper"):
        q = theta[col]
        assert abs(y[col] - q) <= 5 * math.sqrt(q * (1 - q) / 1e12)


@pytest.mark.parametrize("trials", [1e17, 1e18, 2.0**53 + 2])
def test_binomial_trials_past_2_53_are_refused(rats, trials):
    # were intervals of 0.25 to 0.45 per trial at 1e17 and 1e18 (theta's is 0.019 to 0.36)
    with pytest.raises(DataError, match=r"`trials` of the new group is .* outside the range "
                                        r"the fit computes in \(0 to 9007199254740992"):
        rats.predict_new(trials=trials)


def test_cli_predict_design_1e18_is_a_one_line_error(capsys):
    assert main(["predict", "--dataset", "rats", "--design", "1e18"]) == 2
    err = capsys.readouterr().err
    assert "`trials` of the new group is 1e+18, outside the range" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("exposure", [1e17, 1e30, 1e99])
def test_poisson_y_at_huge_exposures_is_theta_times_exposure(pumps, exposure):
    # 1e30 and 1e99 were a TypeError (integers past 2^63 reached scipy as objects)
    got = pumps.predict_new(exposure=exposure)
    for col in ("lower", "upper"):  # Poisson noise, or the quantiles' own error (fit error 2e-12)
        q = got.loc["theta", col]
        rel = max(5 / math.sqrt(q * exposure), 1e-10)
        assert got.loc["y", col] / exposure == pytest.approx(q, rel=rel)


def test_poisson_y_against_scipy_nbinom_mixture(pumps):
    a, b = pumps._new_prior()
    w, t = pumps.points.weight, 10.5
    got = pumps.predict_new(exposure=t).loc["y"]

    def cdf(k):
        return w @ stats.nbinom.cdf(k[None, :], a[:, None], (b / (b + t))[:, None])

    assert got["lower"] == _mixture_quantile(cdf, 0.025, 2000)
    assert got["upper"] == _mixture_quantile(cdf, 0.975, 2000)


def test_zero_exposure_or_trials_predict_exactly_zero(pumps, rats):
    # exposure 0 gave sd = inf (the population's variance does not exist; y ≡ 0 here)
    for fit, design in ((pumps, {"exposure": 0}), (rats, {"trials": 0})):
        assert fit.predict_new(**design).loc["y"].tolist() == [0.0, 0.0, 0.0, 0.0]


@pytest.mark.parametrize("exposure", [1e-300, 1e-101, 1e101, 1e300])
def test_poisson_exposures_outside_the_data_range_are_refused(pumps, exposure):
    # 1e300 was an OverflowError
    with pytest.raises(DataError, match=r"`exposure` of the new group .* \(1e-100 \(or 0\) to "
                                        r"1e\+100, as for the data\)"):
        pumps.predict_new(exposure=exposure)


def test_counts_past_2_53_and_normal_std_errors_out_of_range_are_refused(pumps):
    with pytest.raises(DataError,
                       match=r"`counts` of the new group is 1e\+17, beyond .* \(9007199254740992"):
        pumps.predict_new(exposure=1.0, counts=1e17)
    y = [28, 8, -3, 7, -1, 1, 18, 12]
    nn = hb.NormalNormal(method="eb").fit(estimate=y, std_error=[15, 10, 16, 11, 9, 11, 10, 18])
    for se in (1e-300, 1e200):  # 1e200 was "The function value at x=-inf is NaN"
        with pytest.raises(DataError, match="`std_error` of the new group"):
            nn.predict_new(std_error=se)
    assert np.isfinite(nn.predict_new(std_error=1e100).loc["y", "upper"])
