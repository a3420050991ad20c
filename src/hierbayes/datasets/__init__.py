"""Classic published grouped data sets that ship with hierbayes.

Each loader returns a DataFrame whose columns carry the canonical names of
its family (Beta–Binomial: ``group, successes, trials``; Normal–Normal:
``group, estimate, std_error``; Gamma–Poisson: ``group, counts, exposure``), so that
``model.fit(load(name))`` works as it is. Sources are in ``data/SOURCES.md``
and in :data:`DATASETS`.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING

from hierbayes.validate import check_choice

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DATASETS", "Dataset", "columns", "load"]


@dataclass(frozen=True)
class Dataset:
    """What ships: file, family, column renaming to canonical names, source."""

    name: str
    family: str
    file: str
    columns: dict[str, str]
    description: str
    source: str


DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset(
            "rats",
            "beta-binomial",
            "rats.csv",
            {"experiment": "group", "tumors": "successes", "rats": "trials"},
            "71 experiments: rats with endometrial stromal polyps; row 71 is the current "
            "experiment (4 of 14). Σ tumors 267, Σ rats 1739.",
            "Tarone (1982); Gelman et al., Bayesian Data Analysis 3rd ed., Table 5.1.",
        ),
        Dataset(
            "eight_schools",
            "normal-normal",
            "eight_schools.csv",
            {"school": "group", "effect": "estimate", "std_error": "std_error"},
            "8 schools: estimated coaching effect on SAT-V and its standard error.",
            "Rubin (1981); Gelman et al., Bayesian Data Analysis 3rd ed., Table 5.2.",
        ),
        Dataset(
            "beta_blockers",
            "normal-normal",
            "beta_blockers.csv",
            {"trial": "group", "log_odds_ratio": "estimate", "std_error": "std_error"},
            "22 trials of beta-blockers after myocardial infarction: deaths per arm, "
            "empirical log odds ratio and its standard error.",
            "Yusuf et al. (1985); Gelman et al., Bayesian Data Analysis 3rd ed., Table 5.4.",
        ),
        Dataset(
            "bcg",
            "normal-normal",
            "bcg.csv",
            {"trial": "group", "yi": "estimate", "std_error": "std_error"},
            "13 BCG vaccine trials: 2x2 counts (tpos, tneg, cpos, cneg), absolute latitude "
            "ablat, year, allocation; estimate = log risk ratio yi, std_error = sqrt(vi). "
            "A covariate data set: covariates='~ ablat' is the classic meta-regression.",
            "Colditz et al. (1994), JAMA 271:698-702; as R metadat's dat.bcg. metafor REML: "
            "tau² 0.3132, mu -0.7145; on ablat: tau² 0.0764, intercept 0.2515, slope -0.0291.",
        ),
        Dataset(
            "milk",
            "normal-normal",
            "milk.csv",
            {"SmallArea": "group", "yi": "estimate", "SD": "std_error"},
            "43 small areas: direct estimate of average milk expenditure, its standard "
            "error SD (var = SD²), sample size ni, MajorArea (4 regions). A covariate data "
            "set: covariates='~ C(MajorArea)' is the Fay–Herriot model of the sae package.",
            "Arora & Lahiri (1997); as in R sae's milk (Molina & Marhuenda 2015).",
        ),
        Dataset(
            "seeds",
            "beta-binomial",
            "seeds.csv",
            {"plate": "group", "r": "successes", "n": "trials"},
            "21 plates: seeds germinated (r) of n; x1 seed variety (0 = O. aegyptiaca 75, "
            "1 = O. aegyptiaca 73), x2 root extract (0 = bean, 1 = cucumber). A covariate "
            "data set: covariates='~ x1 * x2' is the BUGS 'Seeds' regression.",
            "Crowder (1978), Appl. Statist. 27:34-37; BUGS Examples Vol. 1 'Seeds' (a "
            "logit-normal model there: alpha0 -0.548, alpha1 0.060, alpha2 1.360, "
            "alpha12 -0.834, sigma 0.354 — a plausibility check, not a target).",
        ),
        Dataset(
            "lip_cancer",
            "gamma-poisson",
            "lip_cancer.csv",
            {"district": "group", "observed": "counts", "expected": "exposure"},
            "56 Scottish districts, male lip cancer 1975-80: observed and expected cases, "
            "aff_pct (% in agriculture, fishing, forestry), coordinates, neighbours. A "
            "covariate data set: covariates='~ aff_pct' as in Clayton & Kaldor (1987).",
            "Clayton & Kaldor (1987), Biometrics 43:671-681; data of Kemp et al. (1985), as "
            "in R SpatialEpi.",
        ),
        Dataset(
            "pumps",
            "gamma-poisson",
            "pumps.csv",
            {"pump": "group", "failures": "counts", "kilohours": "exposure"},
            "10 power-plant pumps: failures and operating time in thousands of hours.",
            "Gaver & O'Muircheartaigh (1987); George, Makov & Smith (1993); BUGS Vol. 1 "
            "'Pumps'.",
        ),
        Dataset(
            "baseball_efron_morris",
            "beta-binomial",
            "baseball_efron_morris.csv",
            {"player": "group", "hits": "successes", "at_bats": "trials"},
            "18 players: hits in the first 45 at-bats of 1970, and the rest of the season.",
            "Efron & Morris (1975).",
        ),
        Dataset(
            "surgical",
            "beta-binomial",
            "surgical.csv",
            {"hospital": "group", "deaths": "successes", "operations": "trials"},
            "12 hospitals: deaths in infant cardiac surgery.",
            'BUGS Examples Vol. 1, "Surgical".',
        ),
        Dataset(
            "cancer_mortality",
            "beta-binomial",
            "cancer_mortality.csv",
            {"city": "group", "deaths": "successes", "at_risk": "trials"},
            "20 cities: cancer deaths among those at risk (rare events, one huge group).",
            "Albert, Bayesian Computation with R, Section 5.6.",
        ),
    )
}


def columns(name: str) -> tuple[str, ...]:
    """The columns of :func:`load` ``(name)``, read from the file's header alone.

    No pandas: ``hierbayes datasets`` lists them without loading the data.

    Examples
    --------
    >>> columns("rats")
    ('group', 'successes', 'trials', 'current')
    """
    check_choice("name", name, tuple(DATASETS))
    ds = DATASETS[name]
    with resources.files(__package__).joinpath("data", ds.file).open(
            "r", encoding="utf-8", newline="") as fh:
        header = [ds.columns.get(c, c) for c in next(csv.reader(fh))]
    first = list(ds.columns.values())
    return tuple(first + [c for c in header if c not in first])


def load(name: str) -> pd.DataFrame:
    """Load a bundled data set with canonical column names.

    Parameters
    ----------
    name : str
        One of ``hierbayes.datasets.DATASETS``.

    Returns
    -------
    pandas.DataFrame
        The canonical columns first, then any other columns of the file.

    Examples
    --------
    >>> rats = load("rats")
    >>> list(rats.columns[:3]), len(rats), int(rats["successes"].sum())
    (['group', 'successes', 'trials'], 71, 267)
    """
    import pandas as pd  # here, not above: listing the data sets needs no pandas

    check_choice("name", name, tuple(DATASETS))
    ds = DATASETS[name]
    with resources.files(__package__).joinpath("data", ds.file).open("r") as fh:
        frame = pd.read_csv(fh)
    frame = frame.rename(columns=ds.columns)
    first = list(ds.columns.values())
    return frame[first + [c for c in frame.columns if c not in first]]
