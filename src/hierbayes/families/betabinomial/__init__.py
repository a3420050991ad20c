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
)
