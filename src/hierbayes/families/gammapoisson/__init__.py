"""Gamma–Poisson: counts with exposures (MODEL.md §5)."""

from hierbayes.families.registry import FamilyInfo

__all__ = ["INFO"]

INFO = FamilyInfo(
    name="poisson",
    title="Gamma–Poisson",
    dataset_family="gamma-poisson",
    model="GammaPoisson",
    roles=("counts", "exposure"),
    raw="counts / exposure",
    theta="rate per unit exposure",
    size="exposure",
    totals=True,
    design_range=(1e-100, 1e100),  # as the data checks (families.gammapoisson.data)
    observed_max=2.0**53,
)
