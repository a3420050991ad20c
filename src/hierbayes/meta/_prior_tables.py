"""Published empirical heterogeneity priors: Turner et al. (2015) and Rhodes et al. (2015).

Both tables give a distribution for the between-study VARIANCE tau² (not tau):

* Turner RM, Jackson D, Wei Y, Thompson SG, Higgins JPT (2015). Predictive
  distributions for between-study heterogeneity and simple methods for their
  application in Bayesian meta-analysis. Stat Med 34(6):984–998,
  doi:10.1002/sim.6381. Table IV: log tau² ~ Normal(mu, sigma²) for log odds
  ratios, 16 outcome types × 5 intervention-comparison types; the general
  (marginal) setting LN(−2.56, 1.74²).
* Rhodes KM, Turner RM, Higgins JPT (2015). Predictive distributions were
  developed for the extent of heterogeneity in meta-analyses of continuous
  outcome data. J Clin Epidemiol 68(1):52–60, doi:10.1016/j.jclinepi.2014.08.012.
  Table 3 (medical areas other than respiratory and cancer) and appendix
  Tables A.3.1 (respiratory) and A.3.2 (cancer): log tau² ~ t_5(location,
  scale) for standardised mean differences, 8 outcome groups × 3 comparison
  types; the general setting t_5(−3.44, 2.59).

Provenance of the numbers: the papers could not be consulted here; the values
are those of two independent software transcriptions that agree entry by entry
(R package bayesmeta 3.4 by C. Röver, ``TurnerEtAlParameters`` and
``RhodesEtAlParameters``; R package rnmamod by L. Spineli,
``table_tau2_prior``). Both tables come from additive models (outcome effect
+ comparison effect [+ area effect] on the location), which lets the entries
be cross-checked; three Rhodes entries fail that check or differ between the
two transcriptions and are left out (``None``), see ``RHODES2015_EXCLUDED``.
"""

from __future__ import annotations

__all__ = [
    "RHODES2015",
    "RHODES2015_COMPARISONS",
    "RHODES2015_EXCLUDED",
    "RHODES2015_GENERAL",
    "RHODES2015_OUTCOMES",
    "TURNER2015",
    "TURNER2015_COMPARISONS",
    "TURNER2015_GENERAL",
    "TURNER2015_OUTCOMES",
]

# --- Turner et al. (2015), Table IV -----------------------------------------------------
TURNER2015_OUTCOMES = {
    "all-cause-mortality": "all-cause mortality",
    "obstetric": "obstetric outcomes",
    "cause-specific-mortality": "cause-specific mortality / major morbidity event / "
    "composite (mortality or morbidity)",
    "resource-use": "resource use / hospital stay / process",
    "surgical-device": "surgical / device related success / failure",
    "withdrawals": "withdrawals / drop-outs",
    "internal-structure": "internal / structure-related outcomes",
    "general-physical-health": "general physical health indicators",
    "adverse-events": "adverse events",
    "infection": "infection / onset of new disease",
    "signs-symptoms": "signs / symptoms reflecting continuation / end of condition",
    "pain": "pain",
    "quality-of-life": "quality of life / functioning (dichotomized)",
    "mental-health": "mental health indicators",
    "biological-markers": "biological markers (dichotomized)",
    "subjective": "subjective outcomes (various)",
}
TURNER2015_COMPARISONS = {
    "pharma-vs-placebo": "pharmacological vs placebo / control",
    "pharma-vs-pharma": "pharmacological vs pharmacological",
    "nonpharma-vs-placebo": "non-pharmacological vs placebo / control",
    "nonpharma-vs-pharma": "non-pharmacological vs pharmacological",
    "nonpharma-vs-nonpharma": "non-pharmacological vs non-pharmacological",
}
# (mu, sigma) of log tau², one tuple per comparison, outcomes in TURNER2015_OUTCOMES order.
_TURNER_MU = {
    "pharma-vs-placebo": (-3.95, -3.52, -3.71, -2.34, -2.14, -2.99, -2.71, -2.29,
                          -1.87, -2.49, -2.06, -1.83, -2.54, -2.12, -1.77, -2.70),
    "pharma-vs-pharma": (-4.18, -3.75, -3.95, -2.58, -2.37, -3.23, -2.94, -2.53,
                         -2.10, -2.73, -2.29, -2.06, -2.78, -2.35, -2.00, -2.93),
    "nonpharma-vs-placebo": (-4.17, -3.74, -3.93, -2.56, -2.36, -3.21, -2.93, -2.51,
                             -2.10, -2.71, -2.28, -2.05, -2.77, -2.34, -1.99, -2.92),
    "nonpharma-vs-pharma": (-2.92, -2.49, -2.68, -1.31, -1.11, -1.96, -1.67, -1.26,
                            -0.84, -1.46, -1.03, -0.80, -1.51, -1.09, -0.74, -1.67),
    "nonpharma-vs-nonpharma": (-3.50, -3.08, -3.27, -1.90, -1.69, -2.55, -2.26, -1.85,
                               -1.43, -2.05, -1.61, -1.38, -2.10, -1.67, -1.33, -2.26),
}  # fmt: skip
_TURNER_SIGMA = {
    "pharma-vs-placebo": (1.34, 1.74, 1.74, 1.74, 1.74, 1.74, 1.74, 1.53,
                          1.52, 1.52, 1.51, 1.52, 1.54, 1.53, 1.52, 1.52),
    "pharma-vs-pharma": (1.41, 1.79, 1.79, 1.79, 1.79, 1.79, 1.79, 1.58,
                         1.58, 1.58, 1.58, 1.58, 1.60, 1.60, 1.58, 1.58),
    "nonpharma-vs-placebo": (1.55, 1.91, 1.91, 1.91, 1.91, 1.91, 1.92, 1.72,
                             1.71, 1.71, 1.71, 1.71, 1.73, 1.72, 1.71, 1.71),
    "nonpharma-vs-pharma": (1.02, 1.50, 1.51, 1.50, 1.50, 1.51, 1.51, 1.25,
                            1.24, 1.24, 1.24, 1.25, 1.27, 1.27, 1.24, 1.25),
    "nonpharma-vs-nonpharma": (1.26, 1.68, 1.68, 1.68, 1.68, 1.68, 1.68, 1.46,
                               1.45, 1.45, 1.45, 1.45, 1.47, 1.47, 1.45, 1.45),
}  # fmt: skip
TURNER2015 = {
    (outcome, comparison): (_TURNER_MU[comparison][i], _TURNER_SIGMA[comparison][i])
    for comparison in TURNER2015_COMPARISONS
    for i, outcome in enumerate(TURNER2015_OUTCOMES)
}
"""``(outcome, comparison) -> (mu, sigma)``: log tau² ~ Normal(mu, sigma²)."""
TURNER2015_GENERAL = (-2.56, 1.74)

# --- Rhodes et al. (2015), Tables 3, A.3.1, A.3.2 ------------------------------------------
RHODES2015_OUTCOMES = {
    "obstetric": "obstetric outcome",
    "resource-use": "resource use and hospital stay / process",
    "internal-structure": "internal and external structure-related outcome",
    "general-physical-health": "general physical health, adverse event, pain, "
    "quality of life / functioning",
    "signs-symptoms": "signs / symptoms reflecting continuation / end of condition, "
    "infection / onset of new acute / chronic disease",
    "mental-health": "mental health outcome",
    "biological-markers": "biological marker",
    "subjective": "various subjectively measured outcomes",
}
RHODES2015_COMPARISONS = {
    "pharma-vs-placebo": "pharmacological vs placebo / control",
    "pharma-vs-pharma": "pharmacological vs pharmacological",
    "nonpharma": "non-pharmacological (vs any)",
}
# (location, scale) of log tau² ~ t_5; per area, per comparison, outcomes in order above.
_RHODES_LOCATION: dict[str, dict[str, tuple[float | None, ...]]] = {
    "other": {
        "pharma-vs-placebo": (-4.13, -2.55, -2.43, -3.16, -3.00, -2.99, -3.41, -2.76),
        "pharma-vs-pharma": (-4.40, -2.83, -2.70, -3.44, -3.27, -3.27, -3.68, -3.03),
        "nonpharma": (-3.99, -2.41, -2.29, -3.02, -2.86, None, -3.27, -2.62),
    },
    "respiratory": {
        "pharma-vs-placebo": (-6.03, -4.46, -4.33, -5.07, -4.90, -4.90, -5.31, -4.66),
        "pharma-vs-pharma": (-6.31, -4.73, -4.61, -5.34, -5.18, -5.17, -5.59, -4.94),
        "nonpharma": (-5.89, -4.32, -4.19, -4.93, -4.76, -4.76, -5.17, -4.52),
    },
    "cancer": {
        "pharma-vs-placebo": (-1.57, None, None, -0.60, -0.44, -0.43, -0.85, -0.20),
        "pharma-vs-pharma": (-1.85, -0.27, -0.14, -0.88, -0.71, -0.71, -1.13, -0.48),
        "nonpharma": (-1.43, 0.15, 0.27, -0.46, -0.30, -0.29, -0.71, -0.06),
    },
}
_RHODES_SCALE: dict[str, dict[str, tuple[float, ...]]] = {
    "other": {
        "pharma-vs-placebo": (2.34, 2.73, 2.50, 2.50, 2.50, 2.16, 2.83, 2.58),
        "pharma-vs-pharma": (2.31, 2.70, 2.46, 2.44, 2.47, 2.14, 2.78, 2.59),
        "nonpharma": (2.11, 2.57, 2.32, 2.27, 2.33, 1.93, 2.66, 2.41),
    },
    "respiratory": {
        "pharma-vs-placebo": (2.36, 2.74, 2.51, 2.51, 2.50, 2.17, 2.83, 2.59),
        "pharma-vs-pharma": (2.31, 2.70, 2.46, 2.45, 2.47, 2.14, 2.78, 2.59),
        "nonpharma": (2.21, 2.57, 2.33, 2.28, 2.33, 1.94, 2.66, 2.41),
    },
    "cancer": {
        "pharma-vs-placebo": (2.45, 2.83, 2.61, 2.61, 2.60, 2.28, 2.93, 2.68),
        "pharma-vs-pharma": (2.41, 2.79, 2.56, 2.55, 2.57, 2.25, 2.87, 2.68),
        "nonpharma": (2.24, 2.68, 2.45, 2.40, 2.46, 2.08, 2.78, 2.53),
    },
}
RHODES2015 = {
    (outcome, comparison, area): (_RHODES_LOCATION[area][comparison][i],
                                  _RHODES_SCALE[area][comparison][i])
    for area in _RHODES_LOCATION
    for comparison in RHODES2015_COMPARISONS
    for i, outcome in enumerate(RHODES2015_OUTCOMES)
    if _RHODES_LOCATION[area][comparison][i] is not None
}  # fmt: skip
"""``(outcome, comparison, area) -> (location, scale)``: log tau² ~ t_5(location, scale)."""
RHODES2015_GENERAL = (-3.44, 2.59)
RHODES2015_EXCLUDED = {
    ("mental-health", "nonpharma", "other"): (
        "transcribed as location −3.85, which breaks the additive structure of the table "
        "(every other outcome has nonpharma = pharma-vs-placebo + 0.14, giving −2.85, and the "
        "respiratory and cancer tables imply −2.85); likely a misprint"
    ),
    ("resource-use", "pharma-vs-placebo", "cancer"): (
        "the two transcriptions disagree on the sign (+0.01 / −0.01)"
    ),
    ("internal-structure", "pharma-vs-placebo", "cancer"): (
        "transcribed as location −0.13, but the rest of the row (−0.14 for pharma-vs-pharma, "
        "+0.27 for nonpharma) and the other areas imply +0.13; likely a lost sign"
    ),
}
"""Entries left out, with the reason."""
