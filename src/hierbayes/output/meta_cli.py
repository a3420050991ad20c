"""``hierbayes meta``: a Bayesian random-effects meta-analysis from a table of studies.

Registered on the command group by :mod:`hierbayes.output.cli`. The library
(SciPy, pandas) is imported when the command runs.
"""

from __future__ import annotations

from typing import Any

import click

from hierbayes.output.files import check_output, read_data
from hierbayes.output.options import output_options, prob_option
from hierbayes.output.tables import emit, json_value

__all__ = ["meta", "parse_priors"]

META_EPILOG = """\b
Examples:
  hierbayes meta data.csv --estimate yi --sampling-variance vi
  hierbayes meta data.csv --estimate yi --sampling-variance vi \\
      --prior tau=halfnorm:0.5 --prior mu=norm:0,4
  hierbayes meta data.csv --estimate logor --std-error se --study trial --format json
  hierbayes meta data.csv --sampling-variance vi --format csv --table studies

\b
Priors: --prior tau=FORM with FORM one of halfnorm:scale, halfcauchy:scale,
halft:df,scale, exp:scale, lnorm:meanlog,sdlog; --prior mu=norm:mean,sd.
Without --prior tau, tau is uniform on [0, inf) (needs 3 studies, or 2 with a
Normal prior on mu); without --prior mu, mu is flat. Bayes factors and the log
evidence are printed when both priors are proper.

\b
Tables: summary (mu, tau, I2, H2, theta_new: mean, sd, median, central and
shortest intervals of mass --prob), studies (shrinkage estimates and posterior
weights), classical (Q, I2, H2, tau2 by DL and REML, the equal-effects
estimate) and, with proper priors, bayes_factors. --format csv writes one
table (--table); json one document with every table.
Exit codes: 0 ok, 2 bad input, 1 other failure; --debug shows tracebacks."""


def parse_priors(values: tuple[str, ...]) -> dict[str, str] | None:
    """``('tau=halfnorm:0.5', 'mu=norm:0,4')`` -> ``{'tau': ..., 'mu': ...}``; a usage error
    for anything else (the forms themselves are checked by the library)."""
    out: dict[str, str] = {}
    for value in values:
        name, sep, form = value.partition("=")
        name = name.strip()
        if not sep or name not in ("mu", "tau") or not form.strip():
            raise click.BadParameter(f"expected mu=FORM or tau=FORM (e.g. tau=halfnorm:0.5); "
                                     f"got {value!r}", param_hint="--prior")
        if name in out:
            raise click.BadParameter(f"{name} is given twice", param_hint="--prior")
        out[name] = form.strip()
    return out or None


@click.command(epilog=META_EPILOG)
@click.argument("data", required=False)
@click.option("--dataset", help="Use a bundled data set instead of a file.")
@click.option("--estimate", default="yi", show_default=True,
              help="Column of the studies' effect estimates.")
@click.option("--sampling-variance", "sampling_variance", default=None,
              help="Column of their sampling variances (default: 'vi' when there is one).")
@click.option("--std-error", "std_error", default=None,
              help="Column of their standard errors (instead of --sampling-variance).")
@click.option("--study", default=None, help="Column of study labels (default: row numbers).")
@click.option("--prior", "priors", multiple=True, metavar="PARAM=FORM",
              help="A prior: tau=halfnorm:0.5, mu=norm:0,4, tau=uniform-shrinkage, "
                   "tau=uniform-i2, tau=turner:OUTCOME,COMPARISON, tau=rhodes (repeatable).")
@prob_option
@output_options(tables=("studies", "classical", "bayes_factors", "summary"), sort=False)
def meta(data, dataset, estimate, sampling_variance, std_error, study, priors, prob, fmt,
         output, table) -> None:
    """Bayesian random-effects meta-analysis (exact): mu, tau, I2, prediction, studies.

    DATA is a CSV or parquet file with one row per study (or - for CSV on
    standard input): an estimate column and a sampling-variance or
    standard-error column.
    """
    from hierbayes.errors import PriorError
    from hierbayes.meta.analysis import meta_analysis

    fmt = check_output(output, fmt, data=data)
    prior = parse_priors(priors)
    frame = read_data(data, dataset, text=(study,) if study else ())
    ma = meta_analysis(frame, estimate=estimate, sampling_variance=sampling_variance,
                       std_error=std_error, study=study, prior=prior, prob=prob)
    tables: dict[str, Any] = {"summary": ma.summary, "studies": ma.studies,
                              "classical": ma.classical_table}
    lines = [repr(ma), f"P(mu > 0 | y) = {ma.prob_mu_greater(0.0):.6g}"]
    try:
        evidence: float | None = ma.log_evidence()
        tables["bayes_factors"] = ma.bayes_factors()
        lines.append(f"log evidence log p(y) = {evidence:.6g}")
    except PriorError:
        evidence = None
        if table == "bayes_factors":
            raise click.UsageError("--table bayes_factors needs proper priors on mu and tau "
                                   "(--prior mu=norm:M,S --prior tau=FORM)") from None
    emit(
        tables,
        fmt,
        output=output,
        primary=table,
        titles={"summary": f"Posterior summary ({prob:.0%} central and shortest intervals)",
                "studies": f"Studies: shrinkage estimates ({prob:.0%} intervals), posterior "
                           "weights",
                "classical": "Classical companions (frequentist)",
                "bayes_factors": "Bayes factors (BF01: evidence for the hypothesis)"},
        metadata={"command": "meta", "prior": ma.fit.model._prior.describe(), "prob": prob,
                  "data": f"dataset:{dataset}" if dataset else data,
                  "columns": {"estimate": estimate, "sampling_variance": sampling_variance,
                              "std_error": std_error, "study": study},
                  "n_studies": len(ma.labels), "numerical_error": json_value(ma.fit.error),
                  "log_evidence": json_value(evidence),
                  "prob_mu_greater_0": ma.prob_mu_greater(0.0)},
        header="\n".join(lines),
        echo=("summary",),
        notes={"summary": "I2 = tau²/(tau² + s²), H2 = (tau² + s²)/s², s² the typical "
                          f"within-study variance {ma.typical_variance:.4g} (Higgins & "
                          "Thompson 2002); theta_new: a new study's effect"},
    )
