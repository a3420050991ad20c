"""Efron & Morris (1975): predict the rest of the 1970 season from the first 45 at-bats.

Run: python examples/efron_morris.py

Each of 18 players' batting average after 45 at-bats is estimated under
complete, no and partial pooling (Beta–Binomial, default prior). The estimates
are then scored against what happened in the rest of the season: the squared
error of the posterior mean against the rest-of-season average, and the exact
log posterior predictive probability of the rest-of-season hits,
log p(ỹ_j | y) = log Σ_k w_k BetaBinomial(ỹ_j; ñ_j, alpha_k + y_j, beta_k + n_j − y_j).
Partial pooling wins on both, the classic demonstration of shrinkage.
"""

from __future__ import annotations

import pandas as pd

import hierbayes as hb


def main() -> pd.DataFrame:
    data = hb.datasets.load("baseball_efron_morris")
    rest_y, rest_n = data["remaining_hits"], data["remaining_at_bats"]
    truth = (rest_y / rest_n).to_numpy()
    comparison = hb.compare_pooling(data[["group", "successes", "trials"]])
    rows = {}
    for level, fit in comparison.fits.items():
        mean = fit.moments["mean"].to_numpy()
        lpd = fit.log_predictive_groups(trials=rest_n.to_numpy(), successes=rest_y.to_numpy())
        rows[level] = {
            "sum_sq_error": float(((mean - truth) ** 2).sum()),
            "log_pred_rest_of_season": float(lpd.sum()),
            "elpd_logo_first_45": float(comparison.elpd.loc[level, "elpd_logo"]),
        }
    return pd.DataFrame(rows).T


if __name__ == "__main__":
    print(main().to_string(float_format=lambda x: f"{x:.4f}"))
