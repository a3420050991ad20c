"""Beta–Binomial: rates with trials (MODEL.md §3)."""

from hierbayes.families.registry import FamilyInfo

__all__ = ["INFO"]

INFO = FamilyInfo(
    name="binomial",
    title="Beta–Binomial",
    dataset_family="beta-binomial",
    model="BetaBinomial",
    roles=("successes", "trials"),
    raw="successes / trials",
    theta="probability",
    size="trials",
    totals=True,
    bounded=True,
    dask=True,
    design_range=(0.0, 2.0**53),  # as the data checks (data.columns.MAX_EXACT)
    observed_max=2.0**53,
)
