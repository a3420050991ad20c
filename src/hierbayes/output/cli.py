"""The ``hierbayes`` command line: fit, compare and list data sets.

Errors are one readable line and exit code 2 for bad input, 1 otherwise;
``--debug`` shows the traceback. Warnings are one ``warning: ...`` line each
on stderr. The models (SciPy) and pandas are imported by the commands that
use them, so ``--help``, ``--version`` and ``datasets`` start fast.
"""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import nullcontext
from typing import Any

import click

from hierbayes import datasets
from hierbayes._version import __version__
from hierbayes.errors import DataError, HierBayesError, PriorError
from hierbayes.output.files import (
    STDIN,
    check_dask_output,
    check_output,
    check_place,
    progress_bar,
    read_dask,
    replacing,
    use_dask,
    write_dask,
)
from hierbayes.output.meta_cli import meta
from hierbayes.output.options import (
    DRAWS,
    FAMILIES,
    central_probs,
    check_prob,
    column_roles,
    data_options,
    json_metadata,
    make_model,
    method_option,
    model_class,
    output_options,
    pooling_option,
    prob_option,
    read_roles,
)
from hierbayes.output.tables import Grid, emit, emit_text, json_value, print_table, sort_groups

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="hierbayes",
                      message="%(prog)s %(version)s")
@click.option("--debug", is_flag=True, help="Show tracebacks (and warnings with their "
              "source lines).")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Exact hierarchical Bayesian models for grouped data.

    \b
    Examples:
      hierbayes fit --dataset rats
      hierbayes fit data.csv --successes y --trials n --group lab --output groups.csv
      cat data.csv | hierbayes fit - --successes y --trials n
      hierbayes fit 'data/*.parquet' --successes clicks --trials views --output out/
      hierbayes fit data.csv --family normal --estimate y --std-error se
      hierbayes fit data.csv --family poisson --counts failures --exposure hours
      hierbayes fit --dataset rats --format json --sort mean
      hierbayes compare data.csv --successes y --trials n
      hierbayes check --dataset rats
      hierbayes rank --dataset rats --above 0.2 --fdr 0.1
      hierbayes predict --dataset rats --design 14
      hierbayes report --dataset rats -o report.html
      hierbayes meta studies.csv --estimate yi --sampling-variance vi --prior tau=halfnorm:0.5
      hierbayes datasets

    Run 'hierbayes COMMAND --help' for a command's options and examples.
    """
    ctx.obj = {"debug": debug}


_OUTPUT_NOTE = """\b
Output: --format table (aligned tables), csv (one table: --table) or json (one
document: {"metadata": {...}, "hyper": [rows], "groups": [rows]}; NaN is null,
+inf/-inf are the strings "inf"/"-inf"). Without --format, the --output suffix
decides (.csv, .json, .parquet, or a directory ending in '/' for parquet; other
suffixes are refused); the file is written whole or not at all. Tables fit the
terminal's width, splitting into blocks of columns; piped, they are plain lines.
DATA - reads CSV from standard input.
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
@data_options
@pooling_option
@method_option
@prob_option
@click.option("--engine", type=click.Choice(["auto", "pandas", "dask"]), default="auto",
              show_default=True, help="Read and reduce the data in memory (pandas) or with "
              "Dask; auto picks Dask for a glob, a directory or a file above 1/4 of memory.")
@click.option("--scheduler", default=None, help="Address of a dask.distributed scheduler "
              "(default: Dask's local threads).")
@click.option("--intervals/--no-intervals", default=True, show_default=True,
              help="Per-group quantiles; without, only means, sds and shrinkage (much faster "
              "for millions of groups).")
@click.option("--covariates", "--formula", "covariates", default=None,
              help="Group-level covariates (regression toward x'beta; every family): a "
                   "formula such as '~ ablat + C(alloc)', or columns separated by commas. "
                   "Adds the coefficients table.")
@output_options(tables=("coefficients", "hyper", "groups"))
def fit(data, dataset, family, group, pooling, method, prob, engine, scheduler, intervals,
        covariates, fmt, output, table, sort, descending, **given) -> None:
    """Fit a hierarchical model; print hyperparameters and groups.

    DATA is a .csv or .parquet file, a directory of them, a quoted glob
    such as 'data/*.parquet' (read lazily with Dask), or - for CSV on
    standard input. Column options name the
    data's columns; they default to the canonical names (group, successes,
    trials, ...), so bundled data sets need none.
    """
    cls, info = model_class(family, dataset)
    roles = column_roles(group, info["roles"], given)
    model = make_model(cls, given, pooling=pooling, method=method, probs=central_probs(prob))
    if data == STDIN and engine == "dask":
        raise click.UsageError("standard input is read in memory: use --engine pandas")
    if use_dask(data, engine) and dataset is None:
        if not info["dask"]:
            dask_ok = [name for name, f in FAMILIES.items() if f.dask]
            raise click.UsageError(f"the Dask engine supports the {', '.join(dask_ok)} "
                                   "family only")
        if fmt == "json" or sort or table != "groups" or (
                fmt == "csv" and not str(output).lower().endswith(".csv")):
            raise click.UsageError(
                "with the Dask engine the group table goes to --output (a directory for "
                "parquet, or a .csv file); --format json, --sort and --table hyper need "
                "--engine pandas")
        _fit_dask(model, data, roles, output, scheduler, intervals)
        return
    fmt = check_output(output, fmt, data=data)
    if covariates is not None:
        import inspect

        if "covariates" not in inspect.signature(cls.fit).parameters:
            raise click.UsageError(f"the {info['family']} family takes no covariates yet")
        roles["covariates"] = (covariates if "~" in covariates
                               else [c.strip() for c in covariates.split(",") if c.strip()])
    result = model.fit(read_roles(data, dataset, roles, group), **roles)
    with progress_bar():
        groups = result.groups if intervals else result.moments
    tables = {"hyper": result.hyper, "groups": sort_groups(groups, sort, descending)}
    if hasattr(result, "coefficients"):
        tables = {"coefficients": result.coefficients, **tables}
    elif table == "coefficients":
        raise click.UsageError("--table coefficients needs --covariates")
    emit(
        tables,
        fmt,
        output=output,
        primary=table,
        titles={"coefficients": "Coefficients", "hyper": "Hyperparameters",
                "groups": "Groups"},
        metadata=json_metadata("fit", model, info, data, dataset, roles, fit=result),
        header=repr(result),
        echo=("coefficients", "hyper"),
    )


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
@data_options
@prob_option
@output_options(tables=("elpd", "pooling"))
def compare(data, dataset, family, group, prob, fmt, output, table, sort, descending,
            **given) -> None:
    """Complete, no and partial pooling side by side, and which predicts best.

    First the exact leave-one-group-out comparison (elpd_logo, its standard
    error, and the difference from the best level with its standard error),
    then one row per group with <pooling>_mean, <pooling>_lower and
    <pooling>_upper for complete, none and partial pooling (equal-tailed
    intervals of mass --prob).
    """
    from hierbayes.models import compare_pooling

    fmt = check_output(output, fmt, data=data)
    cls, info = model_class(family, dataset)
    roles = column_roles(group, info["roles"], given)
    frame = read_roles(data, dataset, roles, group)
    model = make_model(cls, given)
    result = compare_pooling(frame, prob=prob, model=model, **roles)
    groups = result.groups
    emit(
        {"elpd": result.elpd, "pooling": sort_groups(groups, sort, descending)},
        fmt,
        output=output,
        primary=table,
        titles={"elpd": "Leave-one-group-out predictive comparison (exact)",
                "pooling": f"Pooling comparison (means and {prob:.0%} intervals)"},
        metadata=json_metadata("compare", model, info, data, dataset, roles, prob=prob,
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

The log evidence log p(y) is printed above the table (and is "log_evidence"
in the JSON metadata) when the prior is proper, e.g. --pooling complete for
binomial data; under an improper prior (the default hyperpriors) p(y) is
defined only up to a constant, and the line says so.
"""


@cli.command(epilog=CHECK_EPILOG)
@data_options
@pooling_option
@click.option("--draws", type=DRAWS, default=4000, show_default=True,
              help="Replicated data sets.")
@click.option("--seed", type=int, default=0, show_default=True)
@output_options(sort=False)
def check(data, dataset, family, group, pooling, draws, seed, fmt, output, **given) -> None:
    """Posterior predictive checks: test statistics of replicated data and their p-values.

    Data sets are replicated from exact joint posterior draws; the log
    evidence is printed when the prior is proper.
    """
    fmt = check_output(output, fmt, data=data)
    cls, info = model_class(family, dataset)
    roles = column_roles(group, info["roles"], given)
    model = make_model(cls, given, pooling=pooling)
    result = model.fit(read_roles(data, dataset, roles, group), **roles)
    ppc = result.ppc(draws=draws, seed=seed)
    try:
        evidence: float | None = float(result.log_evidence())
        line = f"log evidence log p(y) = {evidence:.6g}"
    except PriorError:
        evidence = None
        line = "log evidence: not defined, the prior is improper (p(y) only up to a constant)"
    emit(
        {"ppc": ppc.table},
        fmt,
        output=output,
        titles={"ppc": f"Posterior predictive checks ({draws} replications)"},
        metadata=json_metadata("check", model, info, data, dataset, roles, draws=draws,
                           seed=seed, log_evidence=json_value(evidence)),
        header=f"{result!r}\n{line}",
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
@data_options
@click.option("--draws", type=DRAWS, default=4000, show_default=True,
              help="Joint posterior draws for the ranks.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--top", type=click.IntRange(min=1), default=3, show_default=True,
              help="Report P(rank <= TOP).")
@click.option("--prob", type=float, default=0.95, show_default=True, callback=check_prob,
              help="Mass of the rank intervals, in (0, 1).")
@click.option("--ascending", is_flag=True, help="Rank 1 is the smallest theta.")
@click.option("--above", type=float, default=None, help="Flag groups with theta above this.")
@click.option("--below", type=float, default=None, help="Flag groups with theta below this.")
@click.option("--fdr", type=float, default=0.05, show_default=True, callback=check_prob,
              help="False discovery rate for --above / --below, in (0, 1).")
@click.option("--exact-best", is_flag=True,
              help="p_best by exact quadrature (binomial, poisson; seconds) instead of draws.")
@output_options(sort=False)
def rank(data, dataset, family, group, draws, seed, top, prob, ascending, above, below,
         fdr, exact_best, fmt, output, **given) -> None:
    """League table: each group's posterior rank, P(best), P(top k), and FDR flags.

    Groups are listed by mean rank.
    """
    if above is not None and below is not None:
        raise click.UsageError("give --above or --below, not both")
    fmt = check_output(output, fmt, data=data)
    cls, info = model_class(family, dataset)
    roles = column_roles(group, info["roles"], given)
    model = make_model(cls, given)
    result = model.fit(read_roles(data, dataset, roles, group), **roles)
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
        metadata=json_metadata("rank", model, info, data, dataset, roles, draws=draws, seed=seed),
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

The table has one row per quantity: theta, the new group's parameter, and
(with --design) y, the data it will show: its successes in DESIGN trials,
counts in DESIGN exposure, or estimate with standard error DESIGN. With
--observed, y is a further data set of the same design from that group.
"""


@cli.command(epilog=PREDICT_EPILOG)
@data_options
@click.option("--design", type=float, default=None,
              help="The new group's trials, exposure or std_error.")
@click.option("--observed", type=float, default=None,
              help="The new group's successes, counts or estimate.")
@prob_option
@output_options(sort=False)
def predict(data, dataset, family, group, design, observed, prob, fmt, output,
            **given) -> None:
    """Posterior predictive of a new group: its theta and its data."""
    fmt = check_output(output, fmt, data=data)
    cls, info = model_class(family, dataset)
    roles = column_roles(group, info["roles"], given)
    model = make_model(cls, given)
    result = model.fit(read_roles(data, dataset, roles, group), **roles)
    args = {}
    if design is not None:
        args[result.design_name] = design
    if observed is not None:
        args[result.observed_name] = observed
    table = result.predict_new(prob=prob, **args)
    table.index.name = "quantity"
    meaning = _predict_rows(result, design, observed)
    header = repr(result)
    if design is not None and observed is not None:
        header += f"\nlog p(observed | data) = {result.log_predictive_new(**args):.6g}"
    emit(
        {"new_group": table},
        fmt,
        output=output,
        titles={"new_group": "A new group" + (" with its data" if observed is not None
                                               else "")},
        metadata=json_metadata("predict", model, info, data, dataset, roles, prob=prob,
                           **args, quantities=meaning),
        header=header,
        notes={"new_group": "; ".join(f"{k}: {v}" for k, v in meaning.items())},
    )


def _predict_rows(result: Any, design: float | None, observed: float | None) -> dict[str, str]:
    """What each row of the predict table is, in words."""
    obs, size = result.observed_name, result.design_name
    given = f", given {obs} = {observed:g}" if observed is not None else ""
    rows = {"theta": f"the new group's {result.family_info.theta}{given}"}
    if design is not None:
        again = " (a replicate of the observed data)" if observed is not None else ""
        rows["y"] = f"its {obs} in new data with {size} = {design:g}{again}"
    return rows


@cli.command(epilog="""\b
Examples:
  hierbayes report --dataset rats -o rats.html
  hierbayes report data.csv --successes y --trials n --group lab -o report.html
  hierbayes report data.csv --family poisson --counts failures --exposure hours
""")
@data_options
@pooling_option
@method_option
@prob_option
@click.option("--output", "-o", default="report.html", show_default=True,
              help="The HTML file to write.")
@click.option("--title", default=None,
              help="Page title (default: family, data name, number of groups).")
@click.option("--draws", type=DRAWS, default=4000, show_default=True,
              help="Monte Carlo draws for the predictive checks and ranks.")
@click.option("--seed", type=int, default=0, show_default=True)
def report(data, dataset, family, group, pooling, method, prob, output, title, draws, seed,
           **given) -> None:
    """Fit a model and write a self-contained HTML report (tables, plots, checks).

    DATA and the column options as for 'hierbayes fit'. The report is one
    file (plots embedded, no network access needed) to open in a browser.
    """
    from hierbayes.output.report import write_report

    check_place(output, data=data)
    cls, info = model_class(family, dataset)
    roles = column_roles(group, info["roles"], given)
    tail = (1 - prob) / 2
    model = make_model(cls, given, pooling=pooling, method=method, probs=(tail, 0.5, 1 - tail))
    result = model.fit(read_roles(data, dataset, roles, group), **roles)
    with progress_bar(), replacing(output) as tmp:
        write_report(result, tmp, title=title, prob=prob, draws=draws, seed=seed,
                     data_name=dataset or ("standard input" if data == STDIN else
                                           os.path.basename(data)))
    click.echo(f"wrote {output}", err=True)


@cli.command(name="datasets", epilog="""\b
Examples:
  hierbayes datasets
  hierbayes datasets --format json""")
@output_options(sort=False)
def list_datasets(fmt, output) -> None:
    """List the bundled data sets: family, columns (as --dataset NAME gives them), sources."""
    rows = tuple((d.name, d.family, ", ".join(datasets.columns(d.name)), d.description,
                  d.source) for d in datasets.DATASETS.values())
    grid = Grid("name", ("family", "columns", "description", "source"), rows,
                (False,) * 4)
    emit_text("datasets", grid, fmt, output=output, title="Bundled data sets",
              metadata={"command": "datasets"})


cli.add_command(meta)


def _error(message: str, hint: str) -> None:
    """An error as one line on stderr, then one line of hint."""
    click.echo("error: " + " ".join(message.split()), err=True)
    click.echo(f"hint: {hint}", err=True)


def _usage_hint(exc: click.ClickException) -> str:
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "hierbayes"
    return f"run '{path} --help' for the options and examples."


def _command_hint(args: list[str]) -> str:
    """The usage hint for an error raised inside a command (not by click)."""
    name = next((a for a in args if a in cli.commands), None)
    path = f"hierbayes {name}" if name else "hierbayes"
    return f"run '{path} --help' for the options and examples."


def _warning_printer():
    """A ``warnings.showwarning`` that prints each distinct warning once, as one line."""
    seen: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = " ".join(str(message).split())
        if text not in seen:
            seen.add(text)
            click.echo(f"warning: {text}", err=True)

    return show


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``hierbayes`` console script; returns the exit code."""
    args = list(argv if argv is not None else sys.argv[1:])
    debug = "--debug" in args
    try:
        with warnings.catch_warnings():
            if not debug:  # --debug keeps Python's format, with the source line
                warnings.showwarning = _warning_printer()
            cli.main(args=args, prog_name="hierbayes", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except BrokenPipeError:  # the reader went away (| head): not an error of ours
        _silence_stdout()
        return 0
    except click.Abort:
        click.echo("aborted", err=True)
        return 1
    except click.ClickException as exc:
        if debug:
            raise
        _error(exc.format_message(), _usage_hint(exc))
        return 2
    except DataError as exc:
        if debug:
            raise
        _error(str(exc), "check the column names and values; " + _command_hint(args))
        return 2
    except HierBayesError as exc:  # a refused model or argument: not about the columns
        if debug:
            raise
        _error(str(exc), _command_hint(args))
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


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit raises no second
    BrokenPipeError (Python's advice for SIGPIPE, docs: signal, 'Note on SIGPIPE')."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (a test's captured stdout)
        pass


def run() -> None:
    """Console-script wrapper: exit with :func:`main`'s code."""
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    sys.exit(code)
