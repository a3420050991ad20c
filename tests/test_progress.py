import numpy as np

import hierbayes as hb
from hierbayes.progress import reporting


def test_quantile_phase_reports_progress_only_when_asked():
    fit = hb.BetaBinomial().fit(hb.datasets.load("rats"))
    seen = []
    with reporting(lambda task, done, total: seen.append((task, done, total))):
        q = fit.quantiles([0.1, 0.9])
    assert seen and seen[-1][1] == seen[-1][2] == 39  # 39 distinct (y, n) pairs
    assert all(task == "group quantiles" for task, _, _ in seen)
    # Results do not depend on reporting.
    assert np.array_equal(q.to_numpy(), fit.quantiles([0.1, 0.9]).to_numpy())
