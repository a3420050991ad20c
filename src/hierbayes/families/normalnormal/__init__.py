"""Normal–Normal: estimates with known standard errors (MODEL.md §4)."""

from hierbayes.families.registry import FamilyInfo

__all__ = ["INFO"]

INFO = FamilyInfo(
    name="normal",
    title="Normal–Normal",
    dataset_family="normal-normal",
    model="NormalNormal",
    roles=("estimate", "std_error"),
    raw="estimate",
    theta="effect",
    size="1 / std_error²",
    design_range=(1e-100, 1e100),  # as the data checks (families.normalnormal.data)
    observed_max=1e100,
)
