"""Effect sizes and their sampling variances from raw study data (as metafor's ``escalc``).

One public function, :func:`effect_sizes`, turns per-study summaries into the
``yi``/``vi`` pairs that a normal–normal meta-analysis needs. The two-group
binary measures (``OR``, ``RR``, ``RD``) use statsmodels'
:func:`~statsmodels.stats.meta_analysis.effectsize_2proportions` on the
(corrected) counts; the rest are written here because statsmodels has no
single-proportion measures and its ``effectsize_smd`` uses the approximate
bias correction ``1 - 3/(4N - 9)`` and a different variance from metafor's
``SMD``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.special import poch
from statsmodels.stats.meta_analysis import effectsize_2proportions

from hierbayes.errors import DataError
from hierbayes.validate import ArgumentError, check_choice

from ._validate import (
    MAX_LISTED,
    as_frame,
    check_nonnegative,
    check_positive,
    count_column,
    listing,
    listing_text,
    real_column,
)

__all__ = ["MEASURES", "effect_sizes"]

MEASURES = ("MD", "OR", "PLN", "PLO", "RD", "RR", "SMD")
"""The measures :func:`effect_sizes` computes (metafor's names)."""

_TWO_BY_TWO = ("OR", "RR", "RD")
_PROPORTION = ("PLN", "PLO")
_MEANS = ("MD", "SMD")
_ROLES = {
    "two_by_two": ("events_t", "total_t", "nonevents_t", "events_c", "total_c", "nonevents_c"),
    "proportion": ("events", "total", "nonevents"),
    "means": ("mean_t", "sd_t", "n_t", "mean_c", "sd_c", "n_c"),
}
_STATISTIC = {"OR": "odds-ratio", "RR": "risk-ratio", "RD": "diff"}


def effect_sizes(
    data: pd.DataFrame,
    measure: str,
    *,
    events_t: Any = None,
    total_t: Any = None,
    nonevents_t: Any = None,
    events_c: Any = None,
    total_c: Any = None,
    nonevents_c: Any = None,
    events: Any = None,
    total: Any = None,
    nonevents: Any = None,
    mean_t: Any = None,
    sd_t: Any = None,
    n_t: Any = None,
    mean_c: Any = None,
    sd_c: Any = None,
    n_c: Any = None,
    correction: float = 0.5,
    correct: Literal["zero-only", "all"] = "zero-only",
    double_zero: Literal["error", "correct"] = "error",
) -> pd.DataFrame:
    r"""Effect sizes ``yi`` and sampling variances ``vi``, one row per study.

    Parameters
    ----------
    data : pandas.DataFrame or mapping of columns
        One row per study. The result keeps its index.
    measure : {'OR', 'RR', 'RD', 'PLO', 'PLN', 'SMD', 'MD'}
        ``'OR'`` log odds ratio, ``'RR'`` log risk ratio, ``'RD'`` risk
        difference (treatment minus control, from two arms of counts);
        ``'PLO'`` logit and ``'PLN'`` log of a single proportion;
        ``'SMD'`` standardised mean difference (Hedges' *g*); ``'MD'`` raw
        mean difference (treatment minus control).
    events_t, events_c : column label, optional
        Event counts in the treatment and control arms (OR, RR, RD).
    total_t, total_c : column label, optional
        Arm sizes. Give either these or ``nonevents_t``/``nonevents_c``
        (the counts without the event), not both, per arm.
    nonevents_t, nonevents_c : column label, optional
        Counts without the event, instead of the totals.
    events, total, nonevents : column label, optional
        The same roles for single proportions (PLO, PLN).
    mean_t, sd_t, n_t, mean_c, sd_c, n_c : column label, optional
        Means, standard deviations and sizes of the two arms (SMD, MD).
    correction : float, default 0.5
        Continuity correction added to every cell of a corrected table (for
        count measures). ``0`` refuses to correct: a table whose measure is
        then undefined is an error.
    correct : {'zero-only', 'all'}, default 'zero-only'
        Which tables are corrected: those with a zero cell (metafor's
        ``to="only0"``) or all of them (``to="all"``).
    double_zero : {'error', 'correct'}, default 'error'
        What to do, for OR and RR, with a table whose arms both have no
        events (or both only events): the odds ratio and risk ratio are not
        identified by such a table, so by default it is an error naming the
        rows; ``'correct'`` applies the continuity correction to it like
        to any other table with a zero cell (metafor's default, with
        ``drop00=FALSE``). Ignored for RD, which such tables do define.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``data``, with float columns ``yi`` and ``vi`` and, for
        count measures, a boolean column ``corrected`` that is true where the
        continuity correction was added. ``attrs["measure"]`` holds the
        measure.

    Raises
    ------
    DataError
        A column is missing, or has missing, non-numeric or infinite values,
        negative or non-integer counts, events above the total, an arm
        without participants, a standard deviation ``<= 0``, an arm size
        below 2, or a table whose measure is undefined (see ``correction``
        and ``double_zero``). The message names the column, its role, and up
        to five rows with their values.
    ArgumentError
        An unknown ``measure``, ``correct`` or ``double_zero``, a negative
        ``correction``, or a column role that the measure does not use.

    Notes
    -----
    With arm counts :math:`a, b` (events, non-events; :math:`n_1 = a + b`)
    and :math:`c, d` (:math:`n_2 = c + d`), after adding the correction to
    all four cells of a corrected table:

    * OR: :math:`y = \log\frac{ad}{bc}`, :math:`v = 1/a + 1/b + 1/c + 1/d`;
    * RR: :math:`y = \log\frac{a/n_1}{c/n_2}`, :math:`v = 1/a - 1/n_1 + 1/c - 1/n_2`;
    * RD: :math:`y = p_1 - p_2`, :math:`v = p_1(1-p_1)/n_1 + p_2(1-p_2)/n_2`;
    * PLO: :math:`y = \log(x/(n-x))`, :math:`v = 1/x + 1/(n-x)`;
    * PLN: :math:`y = \log(x/n)`, :math:`v = 1/x - 1/n`.

    SMD (metafor's ``measure="SMD"``, ``vtype="LS"``): with the pooled SD
    :math:`s_p^2 = ((n_1-1)s_1^2 + (n_2-1)s_2^2)/m`, :math:`m = n_1+n_2-2`,
    :math:`g = J(m)(\bar x_1 - \bar x_2)/s_p` with Hedges' exact correction
    :math:`J(m) = \Gamma(m/2) / (\sqrt{m/2}\,\Gamma((m-1)/2))`, and
    :math:`v = 1/n_1 + 1/n_2 + g^2/(2(n_1+n_2))`.
    MD: :math:`y = \bar x_1 - \bar x_2`, :math:`v = s_1^2/n_1 + s_2^2/n_2`
    (metafor's default, unequal variances).

    References
    ----------
    Viechtbauer W (2010). Conducting meta-analyses in R with the metafor
    package. J Stat Softw 36(3):1–48 (``escalc``).
    Hedges LV (1981). Distribution theory for Glass's estimator of effect size
    and related estimators. J Educ Stat 6:107–128.

    Examples
    --------
    The first BCG trial (Aronson 1948), log risk ratio:

    >>> import pandas as pd
    >>> bcg = pd.DataFrame({"tpos": [4], "tneg": [119], "cpos": [11], "cneg": [128]})
    >>> effect_sizes(bcg, "RR", events_t="tpos", nonevents_t="tneg",
    ...              events_c="cpos", nonevents_c="cneg").round(4)
           yi      vi  corrected
    0 -0.8893  0.3256      False
    """
    frame = as_frame(data)
    measure = check_choice("measure", measure, MEASURES)
    correct = check_choice("correct", correct, ("zero-only", "all"))
    double_zero = check_choice("double_zero", double_zero, ("error", "correct"))
    correction = check_nonnegative("correction", correction)
    given = {
        "events_t": events_t, "total_t": total_t, "nonevents_t": nonevents_t,
        "events_c": events_c, "total_c": total_c, "nonevents_c": nonevents_c,
        "events": events, "total": total, "nonevents": nonevents,
        "mean_t": mean_t, "sd_t": sd_t, "n_t": n_t,
        "mean_c": mean_c, "sd_c": sd_c, "n_c": n_c,
    }  # fmt: skip
    kind = (
        "two_by_two" if measure in _TWO_BY_TWO
        else "proportion" if measure in _PROPORTION
        else "means"
    )  # fmt: skip
    unused = [role for role, col in given.items() if col is not None and role not in _ROLES[kind]]
    if unused:
        roles = ", ".join(f"`{r}`" for r in _ROLES[kind])
        raise ArgumentError(
            f"Measure {measure!r} does not use {', '.join(f'`{u}`' for u in unused)}; "
            f"its column roles are {roles}."
        )
    if kind == "means":
        yi, vi = _means(frame, measure, given)
        out = pd.DataFrame({"yi": yi, "vi": vi}, index=frame.index.copy())
    else:
        settings = (measure, correction, correct, double_zero)
        if kind == "two_by_two":
            yi, vi, corrected = _two_by_two(frame, given, *settings)
        else:
            yi, vi, corrected = _proportion(frame, given, *settings)
        out = pd.DataFrame({"yi": yi, "vi": vi, "corrected": corrected}, index=frame.index.copy())
    out.attrs["measure"] = measure
    return out


def _arm(frame: pd.DataFrame, given: dict[str, Any], suffix: str) -> tuple[np.ndarray, ...]:
    """Events and non-events of one arm (``suffix`` '_t', '_c' or ''), validated."""
    ev_role, tot_role, non_role = f"events{suffix}", f"total{suffix}", f"nonevents{suffix}"
    ev_name = ev_role if given[ev_role] is None else given[ev_role]
    if given[tot_role] is not None and given[non_role] is not None:
        raise ArgumentError(f"Give `{tot_role}` or `{non_role}`, not both.")
    ev = count_column(frame, ev_name, ev_role)
    labels = frame.index
    if given[non_role] is not None:
        non_name = given[non_role]
        non = count_column(frame, non_name, non_role)
        empty = ev + non == 0
        if empty.any():
            raise DataError(
                f"Columns {ev_name!r} (`{ev_role}`) and {non_name!r} (`{non_role}`) are both 0, "
                f"an arm without participants, in rows (row: events): "
                f"{listing(labels, frame[ev_name].to_numpy(object), empty)}."
            )
        return ev, non, ev_name
    tot_name = tot_role if given[tot_role] is None else given[tot_role]
    tot = count_column(frame, tot_name, tot_role, minimum=1)
    over = ev > tot
    if over.any():
        texts = [f"{e:.0f} > {t:.0f}" for e, t in zip(ev, tot, strict=True)]
        raise DataError(
            f"Column {ev_name!r} (`{ev_role}`) exceeds {tot_name!r} (`{tot_role}`) in rows "
            f"(row: events > total): {listing_text(labels, texts, over)}."
        )
    return ev, tot - ev, ev_name


def _added(zero: np.ndarray, correction: float, correct: str) -> np.ndarray:
    """Continuity correction per row: ``correction`` where corrected, else 0."""
    where = zero if correct == "zero-only" else np.ones_like(zero)
    return correction * where.astype(float)


def _two_by_two(
    frame: pd.DataFrame, given: dict[str, Any], measure: str, correction: float, correct: str,
    double_zero: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    a, b, ev_t = _arm(frame, given, "_t")
    c, d, ev_c = _arm(frame, given, "_c")
    labels = frame.index

    def rows(bad: np.ndarray) -> str:
        texts = {
            i: f"{a[i]:.0f}/{a[i] + b[i]:.0f} vs {c[i]:.0f}/{c[i] + d[i]:.0f}"
            for i in np.flatnonzero(bad)[:MAX_LISTED]
        }
        return listing_text(labels, texts, bad)

    where = f"columns {ev_t!r} (`events_t`) and {ev_c!r} (`events_c`)"
    if measure != "RD":
        double = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
        if double.any() and (double_zero == "error" or correction == 0.0):
            how = (
                "pass double_zero='correct' to add the continuity correction to these tables, "
                "or drop them"
                if correction > 0.0
                else "they need a continuity correction > 0 and double_zero='correct', "
                "or must be dropped"
            )
            raise DataError(
                f"Measure {measure!r} is undefined for a table with no events in either arm, "
                f"or only events in both ({where}); rows (row: events/total treatment vs "
                f"control): {rows(double)}. Such a table carries no "
                f"information on the {measure}: {how}."
            )
    if correction == 0.0:
        undefined = {
            "OR": (a == 0) | (b == 0) | (c == 0) | (d == 0),
            "RR": (a == 0) | (c == 0),
            "RD": ((a == 0) | (b == 0)) & ((c == 0) | (d == 0)),
        }[measure]
        if undefined.any():
            what = "zero variance" if measure == "RD" else "an infinite log ratio"
            raise DataError(
                f"Measure {measure!r} without continuity correction (correction=0) gives "
                f"{what} for tables with zero cells ({where}); rows (row: events/total "
                f"treatment vs control): {rows(undefined)}."
            )
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    add = _added(zero, correction, correct)
    yi, vi = effectsize_2proportions(
        a + add, a + b + 2 * add, c + add, c + d + 2 * add, statistic=_STATISTIC[measure]
    )
    return np.asarray(yi, float), np.asarray(vi, float), add > 0


def _proportion(
    frame: pd.DataFrame, given: dict[str, Any], measure: str, correction: float, correct: str,
    double_zero: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    del double_zero  # a single proportion has no double-zero table
    x, m, ev_name = _arm(frame, given, "")
    zero = (x == 0) | (m == 0)
    if correction == 0.0 and zero.any():
        texts = [f"{e:.0f}/{e + f:.0f}" for e, f in zip(x, m, strict=True)]
        what = "an infinite logit" if measure == "PLO" else "an infinite log or zero variance"
        raise DataError(
            f"Measure {measure!r} without continuity correction (correction=0) gives {what} "
            f"when column {ev_name!r} (`events`) is 0 or equals the total; rows "
            f"(row: events/total): {listing_text(frame.index, texts, zero)}."
        )
    add = _added(zero, correction, correct)
    x, m = x + add, m + add
    if measure == "PLO":
        yi, vi = np.log(x) - np.log(m), 1.0 / x + 1.0 / m
    else:
        yi, vi = np.log(x) - np.log(x + m), 1.0 / x - 1.0 / (x + m)
    return yi, vi, add > 0


def _means(frame: pd.DataFrame, measure: str, given: dict[str, Any]) -> tuple[np.ndarray, ...]:
    cols: dict[str, np.ndarray] = {}
    for role in _ROLES["means"]:
        name = role if given[role] is None else given[role]
        if role.startswith("n_"):
            cols[role] = count_column(frame, name, role, minimum=2)
        else:
            cols[role] = real_column(frame, name, role)
            if role.startswith("sd_"):
                check_positive(name, role, frame, cols[role])
    n1, n2 = cols["n_t"], cols["n_c"]
    s1, s2 = cols["sd_t"], cols["sd_c"]
    diff = cols["mean_t"] - cols["mean_c"]
    if measure == "MD":
        return diff, s1**2 / n1 + s2**2 / n2
    dof = n1 + n2 - 2.0
    pooled = np.sqrt(((n1 - 1.0) * s1**2 + (n2 - 1.0) * s2**2) / dof)
    g = _hedges_j(dof) * diff / pooled
    return g, 1.0 / n1 + 1.0 / n2 + g**2 / (2.0 * (n1 + n2))


def _hedges_j(dof: np.ndarray | float) -> np.ndarray:
    r"""Hedges' exact small-sample correction :math:`\Gamma(m/2)/(\sqrt{m/2}\,\Gamma((m-1)/2))`.

    The gamma ratio is Pochhammer's symbol ``poch((m-1)/2, 1/2)``, accurate
    to ~1e-13 for every ``m``, where a difference of ``gammaln`` loses digits
    for large ``m`` (1e-9 at ``m = 2e6``).

    >>> round(float(_hedges_j(18.0)), 6)
    0.957646
    """
    half = 0.5 * np.asarray(dof, dtype=float)
    return poch(half - 0.5, 0.5) / np.sqrt(half)
