"""The ``hierbayes`` command line: fit, compare and list data sets.

Errors are one readable line and exit code 2 for bad input, 1 otherwise;
``--debug`` shows the traceback.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from typing import Any

import click
import pandas as pd

from hierbayes import datasets
from hierbayes.errors import HierBayesError
from hierbayes.families.registry import families, family_of_dataset
from hierbayes.models import compare_pooling
from hierbayes.output.files import (
    check_dask_output,
    progress_bar,
    read_dask,
    read_data,
    use_dask,
    write_dask,
)
from hierbayes.output.tables import FORMATS, emit, json_value, print_table, sort_groups

__all__ = ["main"]


def _output_options(*, tables: tuple[str, ...] = (), sort: bool = True):
    """--format, --output and (for a group table) --sort / --descending; --table to pick
    the CSV table when a command has several."""
    opts = [
        click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default=None,
                     help="table: aligned tables (the default without --output); csv: "
                     "the group table; json: one document with every table and the metadata "
                     "(NaN as null, ±inf as the strings 'inf'/'-inf'). Default: from the "
                     "--output suffix, else table."),
        click.option("--output", "-o", help="Write to this file instead of stdout (.csv, "
                     ".json, .parquet or a directory for parquet, when --format is not given)."),
    ]
    if tables:
        opts.append(click.option("--table", "table", type=click.Choice(tables),
                                 default=tables[-1], show_default=True,
                                 help="Which table the csv (or parquet) output holds."))
    if sort:
        opts += [
            click.option("--sort", "sort", metavar="COLUMN", default=None,
                         help="Sort the group table by this column (or 'group')."),
            click.option("--descending", is_flag=True, help="Sort in descending order."),
        ]

    def decorate(f):
        for opt in reversed(opts):
            f = opt(f)
        return f

    return decorate


FAMILIES = families()  # --family name -> FamilyInfo (hierbayes.families.registry)

_columns = [
    click.option("--family", type=click.Choice(list(FAMILIES)), default=None,
                 help="Model family (default: the data set's, else binomial)."),
    click.option("--group", default=None, help="Group column (default: 'group' if present, "
                 "else each row is a group)."),
    click.option("--successes", help="Column of success counts (binomial)."),
    click.option("--trials", help="Column of trials (binomial)."),
    click.option("--estimate", help="Column of group estimates (normal)."),
    click.option("--std-error", "std_error", help="Column of standard errors (normal)."),
    click.option("--counts", help="Column of event counts (poisson)."),
    click.option("--exposure", help="Column of exposures (poisson)."),
]


def _with_columns(f):
    for opt in reversed(_columns):
        f = opt(f)
    return f


def _data_options(f):
    """DATA, --dataset and the column options of every command that reads data."""
    f = _with_columns(f)
    f = click.option("--dataset", help="Use a bundled data set instead of a file.")(f)
    return click.argument("data", required=False)(f)


_pooling_option = click.option("--pooling", type=click.Choice(["partial", "complete", "none"]),
                               default="partial", show_default=True)
_method_option = click.option("--method", type=click.Choice(["exact", "eb"]), default="exact",
                              show_default=True, help="Exact full Bayes, or empirical Bayes.")
_prob_option = click.option("--prob", type=float, default=0.95, show_default=True,
                            help="Mass of the equal-tailed intervals.")


def _model_class(family: str | None, dataset: str | None) -> tuple[type, dict[str, Any]]:
    if family is None:
        family = "binomial"
        if dataset is not None and dataset in datasets.DATASETS:
            family = family_of_dataset(datasets.DATASETS[dataset].family).name
    info = FAMILIES[family]
    import hierbayes.models

    cls = getattr(hierbayes.models, info.model)
    return cls, {"roles": info.roles, "family": family}


def _roles(group: str | None, roles: tuple[str, ...], given: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"group": group if group is not None else "group"}
    for role in roles:
        out[role] = given.get(role) or role
    stray = [k for k, v in given.items() if v and k not in roles]
    if stray:
        raise click.UsageError(
            f"--{stray[0].replace('_', '-')} does not belong to this family; its columns are "
            + ", ".join(f"--{r.replace('_', '-')}" for r in roles)
        )
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Exact hierarchical Bayesian models for grouped data.

    \b
    Examples:
      hierbayes fit --dataset rats
      hierbayes fit data.csv --successes y --trials n --group lab --output groups.csv
      hierbayes fit 'data/*.parquet' --successes clicks --trials views --output out/
      hierbayes fit data.csv --family normal --estimate y --std-error se
      hierbayes fit data.csv --family poisson --counts failures --exposure hours
      hierbayes fit --dataset rats --format json --sort mean
      hierbayes compare data.csv --successes y --trials n
      hierbayes check --dataset rats
      hierbayes rank --dataset rats --above 0.2 --fdr 0.1
      hierbayes predict --dataset rats --design 14
      hierbayes report --dataset rats -o report.html
      hierbayes datasets

    Run 'hierbayes COMMAND --help' for a command's options and examples.
    """
    ctx.obj = {"debug": debug}


_OUTPUT_NOTE = """\b
Output: --format table (aligned tables), csv (one table: --table) or json (one
document: {"metadata": {...}, "hyper": [rows], "groups": [rows]}; NaN is null,
+inf/-inf are the strings "inf"/"-inf"). Without --format, the --output suffix
decides (.csv, .json, .parquet or a directory); tables go to the terminal.
Exit codes: 0 ok, 2 bad input, 1 other failure; --debug shows tracebacks."""

FIT_EPILOG = """\b
Examples:
  hierbayes fit --dataset rats
  hierbayes fit --dataset rats --sort mean --descending
  hierbayes fit --dataset rats --format csv > groups.csv
  hierbayes fit --dataset rats --format csv --table hyper
  hierbayes fit --dataset pumps --format json -o pumps.json
  hierbayes fit data.csv --successes y --trials n --group lab -o groups.parquet
  hierbayes fit data.csv --family normal --estimate y --std-error se --method eb
  hierbayes fit 'data/*.parquet' --successes clicks --trials views -o out/

""" + _OUTPUT_NOTE

COMPARE_EPILOG = """\b
Examples:
  hierbayes compare --dataset rats
  hierbayes compare --dataset eight_schools --sort partial_mean --descending
  hierbayes compare data.csv --successes y --trials n --format csv -o pooling.csv
  hierbayes compare --dataset pumps --prob 0.9 --format json
  hierbayes compare --dataset rats --format csv --table elpd

""" + _OUTPUT_NOTE.replace('"hyper": [rows], "groups": [rows]',
                          '"elpd": [rows], "pooling": [rows]')


@cli.command(epilog=FIT_EPILOG)
@_data_options
@_pooling_option
@_method_option
@_prob_option
@click.option("--engine", type=click.Choice(["auto", "pandas", "dask"]), default="auto",
              show_default=True, help="Read and reduce the data in memory (pandas) or with "
              "Dask; auto picks Dask for a glob, a directory or a file above 1/4 of memory.")
@click.option("--scheduler", default=None, help="Address of a dask.distributed scheduler "
              "(default: Dask's local threads).")
@click.option("--intervals/--no-intervals", default=True, show_default=True,
              help="Per-group quantiles; without, only means, sds and shrinkage (much faster "
              "for millions of groups).")
@_output_options(tables=("hyper", "groups"))
def fit(data, dataset, family, group, pooling, method, prob, engine, scheduler, intervals,
        fmt, output, table, sort, descending, **given) -> None:
    """Fit a hierarchical model; print hyperparameters and groups.

    DATA is a .csv or .parquet file, a directory of them, or a quoted glob
    such as 'data/*.parquet' (read lazily with Dask). Column options name the
    data's columns; they default to the canonical names (group, successes,
    trials, ...), so bundled data sets need none.
    """
    cls, info = _model_class(family, dataset)
    roles = _roles(group, info["roles"], given)
    model = cls(pooling=pooling, method=method, probs=_central_probs(prob))
    if use_dask(data, engine) and dataset is None:
        if info["roles"] != ("successes", "trials"):
            raise click.UsageError("the Dask engine supports the binomial family only")
        if fmt == "json" or sort or table != "groups" or (
                fmt == "csv" and not str(output).lower().endswith(".csv")):
            raise click.UsageError(
                "with the Dask engine the group table goes to --output (a directory for "
                "parquet, or a .csv file); --format json, --sort and --table hyper need "
                "--engine pandas")
        _fit_dask(model, data, roles, output, scheduler, intervals)
        return
    result = model.fit(read_data(data, dataset, text=(roles["group"],)), **roles)
    with progress_bar():
        groups = result.groups if intervals else result.moments
    emit(
        {"hyper": result.hyper, "groups": sort_groups(groups, sort, descending)},
        fmt,
        output=output,
        primary=table,
        titles={"hyper": "Hyperparameters", "groups": "Groups"},
        metadata=_metadata("fit", model, info, data, dataset, roles, fit=result),
        header=repr(result),
        echo=("hyper",),
    )


def _central_probs(prob: float) -> tuple[float, float, float]:
    """(tail, 0.5, 1 - tail) of an equal-tailed interval, without float dust: 0.95 gives
    exactly the library's default (0.025, 0.5, 0.975)."""
    tail = float(f"{(1 - prob) / 2:.12g}")
    return tail, 0.5, float(f"{1 - tail:.12g}")


def _metadata(command: str, model: Any, info: dict[str, Any], data: str | None,
              dataset: str | None, roles: dict[str, Any], *, fit: Any = None,
              **extra: Any) -> dict[str, Any]:
    """The JSON document's metadata: command, model, data source and column roles."""
    from hierbayes._version import __version__

    meta: dict[str, Any] = {
        "command": command,
        "hierbayes_version": __version__,
        "family": info["family"],
        "model": type(model).__name__,
        "pooling": model.pooling,
        "method": model.method,
        "prior": model._prior.describe(),
        "probs": [float(p) for p in model.probs],
        "data": f"dataset:{dataset}" if dataset is not None else data,
        "columns": dict(roles),
    }
    if fit is not None:
        meta["n_groups"] = len(fit.group_labels)
        meta["numerical_error"] = json_value(fit.error)
    return {**meta, **extra}


def _fit_dask(model: Any, data: str, roles: dict[str, Any], output: str | None,
              scheduler: str | None, intervals: bool) -> None:
    """The fit command on Dask: reduce on the workers, write per-group parquet from them."""
    check_dask_output(output)
    ddf = read_dask(data, text=(roles["group"],))
    if scheduler is not None:
        from distributed import Client

        context: Any = Client(scheduler)
    else:
        from dask.diagnostics import ProgressBar

        # on a terminal, for phases longer than a second
        tty = sys.stderr.isatty()
        context = ProgressBar(minimum=1.0, out=sys.stderr) if tty else nullcontext()
    with context:
        result = model.fit(ddf, **roles)
        click.echo(repr(result))
        if len(result.hyper):
            print_table("Hyperparameters", result.hyper)
        groups = result.groups if intervals else result.moments
        if output:
            write_dask(groups, output, result.n_groups)
        else:
            shown = groups.partitions[0].compute().head(20)
            print_table(f"Groups (first {len(shown)} of {result.n_groups}; give --output "
                         "to write all)", shown)


@cli.command(epilog=COMPARE_EPILOG)
@_data_options
@_prob_option
@_output_options(tables=("elpd", "pooling"))
def compare(data, dataset, family, group, prob, fmt, output, table, sort, descending,
            **given) -> None:
    """Complete, no and partial pooling side by side, and which predicts best.

    First the exact leave-one-group-out comparison (elpd_logo, its standard
    error, and the difference from the best level with its standard error),
    then one row per group with <pooling>_mean, <pooling>_lower and
    <pooling>_upper for complete, none and partial pooling (equal-tailed
    intervals of mass --prob).
    """
    cls, info = _model_class(family, dataset)
    roles = _roles(group, info["roles"], given)
    frame = read_data(data, dataset, text=(roles["group"],))
    model = cls()
    result = compare_pooling(frame, prob=prob, model=model, **roles)
    groups = result.groups
    emit(
        {"elpd": result.elpd, "pooling": sort_groups(groups, sort, descending)},
        fmt,
        output=output,
        primary=table,
        titles={"elpd": "Leave-one-group-out predictive comparison (exact)",
                "pooling": f"Pooling comparison (means and {prob:.0%} intervals)"},
        metadata=_metadata("compare", model, info, data, dataset, roles, prob=prob,
                           n_groups=len(groups)),
        echo=("elpd",),
    )


CHECK_EPILOG = """\b
Examples:
  hierbayes check --dataset rats
  hierbayes check --dataset pumps --draws 20000 --seed 3
  hierbayes check --dataset eight_schools --format json

Default statistics: for counts, the number of groups with zero counts and the
max, min and variance of the raw rates; for estimates, their max, min and
variance. p_value is P(T(y_rep) >= T(y) | y), p_value_le is P(T(y_rep) <= T(y) | y).
"""


@cli.command(epilog=CHECK_EPILOG)
@_data_options
@_pooling_option
@click.option("--draws", type=int, default=4000, show_default=True,
              help="Replicated data sets.")
@click.option("--seed", type=int, default=0, show_default=True)
@_output_options(sort=False)
def check(data, dataset, family, group, pooling, draws, seed, fmt, output, **given) -> None:
    """Posterior predictive checks: test statistics of replicated data and their p-values.

    Data sets are replicated from exact joint posterior draws; the log
    evidence is printed when the prior is proper.
    """
    cls, info = _model_class(family, dataset)
    roles = _roles(group, info["roles"], given)
    model = cls(pooling=pooling)
    result = model.fit(read_data(data, dataset, text=(roles["group"],)), **roles)
    ppc = result.ppc(draws=draws, seed=seed)
    emit(
        {"ppc": ppc.table},
        fmt,
        output=output,
        titles={"ppc": f"Posterior predictive checks ({draws} replications)"},
        metadata=_metadata("check", model, info, data, dataset, roles, draws=draws,
                           seed=seed),
        header=repr(result),
    )


RANK_EPILOG = """\b
Examples:
  hierbayes rank --dataset rats --top 5
  hierbayes rank --dataset eight_schools --ascending
  hierbayes rank --dataset rats --above 0.2 --fdr 0.1
  hierbayes rank --dataset pumps --format csv -o league.csv

--above C (or --below C) adds, per group, prob (that theta is above / below C),
pep (the posterior error probability), qvalue and flagged (qvalue <= --fdr).
"""


@cli.command(epilog=RANK_EPILOG)
@_data_options
@click.option("--draws", type=int, default=4000, show_default=True,
              help="Joint posterior draws for the ranks.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--top", type=int, default=3, show_default=True,
              help="Report P(rank <= TOP).")
@click.option("--prob", type=float, default=0.95, show_default=True,
              help="Mass of the rank intervals.")
@click.option("--ascending", is_flag=True, help="Rank 1 is the smallest theta.")
@click.option("--above", type=float, default=None, help="Flag groups with theta above this.")
@click.option("--below", type=float, default=None, help="Flag groups with theta below this.")
@click.option("--fdr", type=float, default=0.05, show_default=True,
              help="False discovery rate for --above / --below.")
@click.option("--exact-best", is_flag=True,
              help="p_best by exact quadrature (binomial, poisson; seconds) instead of draws.")
@_output_options(sort=False)
def rank(data, dataset, family, group, draws, seed, top, prob, ascending, above, below,
         fdr, exact_best, fmt, output, **given) -> None:
    """League table: each group's posterior rank, P(best), P(top k), and FDR flags.

    Groups are listed by mean rank.
    """
    if above is not None and below is not None:
        raise click.UsageError("give --above or --below, not both")
    cls, info = _model_class(family, dataset)
    roles = _roles(group, info["roles"], given)
    model = cls()
    result = model.fit(read_data(data, dataset, text=(roles["group"],)), **roles)
    table = result.ranks(draws=draws, seed=seed, top=top, prob=prob, descending=not ascending)
    table.insert(0, "mean", result.moments["mean"])
    if exact_best:
        table["p_best"] = result.prob_best(descending=not ascending)
        table = table.drop(columns="mc_se_best")
    if above is not None or below is not None:
        flags = result.flag(above if above is not None else below, fdr=fdr,
                            direction="greater" if above is not None else "less")
        table = table.join(flags)
    table = table.sort_values("mean_rank", kind="stable")
    emit(
        {"ranks": table},
        fmt,
        output=output,
        titles={"ranks": f"Posterior ranks ({draws} draws; rank 1 = "
                f"{'smallest' if ascending else 'largest'})"},
        metadata=_metadata("rank", model, info, data, dataset, roles, draws=draws, seed=seed),
        header=repr(result),
    )


PREDICT_EPILOG = """\b
Examples:
  hierbayes predict --dataset rats --design 14
  hierbayes predict --dataset rats --design 14 --observed 4
  hierbayes predict --dataset pumps --design 10.5
  hierbayes predict --dataset eight_schools --design 10

--design is the new group's trials (binomial), exposure (poisson) or
std_error (normal); --observed its successes, counts or estimate, to get the
posterior of a group added with its data and log p(observed | data).
"""


@cli.command(epilog=PREDICT_EPILOG)
@_data_options
@click.option("--design", type=float, default=None,
              help="The new group's trials, exposure or std_error.")
@click.option("--observed", type=float, default=None,
              help="The new group's successes, counts or estimate.")
@_prob_option
@_output_options(sort=False)
def predict(data, dataset, family, group, design, observed, prob, fmt, output,
            **given) -> None:
    """Posterior predictive of a new group: its theta and its data."""
    cls, info = _model_class(family, dataset)
    roles = _roles(group, info["roles"], given)
    model = cls()
    result = model.fit(read_data(data, dataset, text=(roles["group"],)), **roles)
    args = {}
    if design is not None:
        args[result.design_name] = design
    if observed is not None:
        args[result.observed_name] = observed
    table = result.predict_new(prob=prob, **args)
    header = repr(result)
    if design is not None and observed is not None:
        header += f"\nlog p(observed | data) = {result.log_predictive_new(**args):.6g}"
    emit(
        {"new_group": table},
        fmt,
        output=output,
        titles={"new_group": "A new group" + (" with its data" if observed is not None
                                               else "")},
        metadata=_metadata("predict", model, info, data, dataset, roles, prob=prob,
                           **args),
        header=header,
    )


@cli.command(epilog="""\b
Examples:
  hierbayes report --dataset rats -o rats.html
  hierbayes report data.csv --successes y --trials n --group lab -o report.html
  hierbayes report data.csv --family poisson --counts failures --exposure hours
""")
@_data_options
@_pooling_option
@_method_option
@_prob_option
@click.option("--output", "-o", default="report.html", show_default=True,
              help="The HTML file to write.")
@click.option("--title", default=None, help="Page title (default: family and number of groups).")
@click.option("--draws", type=int, default=4000, show_default=True,
              help="Monte Carlo draws for the predictive checks and ranks.")
@click.option("--seed", type=int, default=0, show_default=True)
def report(data, dataset, family, group, pooling, method, prob, output, title, draws, seed,
           **given) -> None:
    """Fit a model and write a self-contained HTML report (tables, plots, checks).

    DATA and the column options as for 'hierbayes fit'. The report is one
    file (plots embedded, no network access needed) to open in a browser.
    """
    from hierbayes.output.report import write_report

    cls, info = _model_class(family, dataset)
    roles = _roles(group, info["roles"], given)
    tail = (1 - prob) / 2
    model = cls(pooling=pooling, method=method, probs=(tail, 0.5, 1 - tail))
    result = model.fit(read_data(data, dataset, text=(roles["group"],)), **roles)
    with progress_bar():
        out = write_report(result, output, title=title, prob=prob, draws=draws, seed=seed)
    click.echo(f"wrote {out}", err=True)


@cli.command(name="datasets", epilog="""\b
Examples:
  hierbayes datasets
  hierbayes datasets --format json""")
@_output_options(sort=False)
def list_datasets(fmt, output) -> None:
    """List the bundled data sets and their sources."""
    frame = pd.DataFrame(
        [(d.name, d.family, d.description, d.source) for d in datasets.DATASETS.values()],
        columns=["name", "family", "description", "source"],
    ).set_index("name")
    emit({"datasets": frame}, fmt, output=output, titles={"datasets": "Bundled data sets"},
          metadata={"command": "datasets"})


def _error(message: str, hint: str) -> None:
    """An error as one line on stderr, then one line of hint."""
    click.echo("error: " + " ".join(message.split()), err=True)
    click.echo(f"hint: {hint}", err=True)


def _usage_hint(exc: click.ClickException) -> str:
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "hierbayes"
    return f"run '{path} --help' for the options and examples."


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hierbayes`` console script; returns the exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv[1:])
    try:
        cli.main(args=argv, prog_name="hierbayes", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.ClickException as exc:
        if debug:
            raise
        _error(exc.format_message(), _usage_hint(exc))
        return 2
    except HierBayesError as exc:
        if debug:
            raise
        _error(str(exc), "check the column names and counts; --help lists the options.")
        return 2
    except Exception as exc:
        if debug:
            raise
        click.echo(f"error: {type(exc).__name__}: {exc} (rerun with --debug for details)",
                   err=True)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def run() -> None:
    """Console-script wrapper: exit with :func:`main`'s code."""
    sys.exit(main())
