"""Posterior predictive checks: statistics that return NaN (issue 16)."""

import numpy as np
import pytest
from scipy import stats

import hierbayes as hb
from hierbayes.errors import HierBayesError


@pytest.fixture(scope="module")
def fit():
    return hb.BetaBinomial().fit(successes=[1, 2, 3, 3], trials=[10] * 4)


def test_a_statistic_returning_nan_is_an_error_naming_it(fit):
    # was p = 0: NaN compares false with everything
    def ratio(y):  # undefined when some group has no successes
        low = y.min(axis=-1)
        return np.where(low == 0, np.nan, y.max(axis=-1) / np.maximum(low, 1))

    with pytest.raises(HierBayesError, match=r"'ratio'.*returned NaN on \d+ of 200 replicated"):
        fit.ppc({"ratio": ratio}, draws=200)
    with pytest.raises(HierBayesError, match="'always' returned NaN on the observed data"):
        fit.ppc({"always": lambda y: np.full(y.shape[:-1], np.nan)}, draws=50)


def test_default_statistics_are_defined_for_one_group():
    # a variance of one group is NaN: the default statistics leave it out
    prior = {"mu": stats.beta(1, 1), "kappa": stats.gamma(2, scale=10)}
    with pytest.warns(hb.errors.DegenerateDataWarning):
        one = hb.BetaBinomial(prior=prior).fit(successes=[3], trials=[10])
    table = one.ppc(draws=200).table
    assert "var_rate" not in table.index
    assert np.isfinite(table["p_value"]).all()
