"""The ``hierbayes`` command line: fit, compare and list data sets.

Errors are one readable line and exit code 2 for bad input, 1 otherwise;
``--debug`` shows the traceback.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import click
import pandas as pd

from . import datasets
from .errors import HierBayesError
from .pooling import compare_pooling

__all__ = ["main"]


def _read(path: str | None, dataset: str | None) -> pd.DataFrame:
    if (path is None) == (dataset is None):
        raise click.UsageError("Give either a data file or --dataset NAME (not both).")
    if dataset is not None:
        if dataset not in datasets.DATASETS:
            raise click.BadParameter(
                f"unknown data set {dataset!r}; choose from {', '.join(datasets.DATASETS)}",
                param_hint="--dataset",
            )
        return datasets.load(dataset)
    p = Path(path)
    if not p.exists():
        raise click.BadParameter(f"no such file: {path}", param_hint="DATA")
    try:
        if p.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(p)
        return pd.read_csv(p, sep=None, engine="python")
    except Exception as exc:  # unreadable file: say so in one line
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="DATA") from exc


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        if math.isnan(x):
            return "–"
        if math.isinf(x):
            return "∞"
        return f"{x:.4g}"
    return str(x)


def _print_table(title: str, frame: pd.DataFrame) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column(frame.index.name or "", justify="left")
    for col in frame.columns:
        table.add_column(str(col), justify="right")
    for idx, row in frame.iterrows():
        table.add_row(str(idx), *(_fmt(v) for v in row.tolist()))
    Console(width=max(100, 12 * (len(frame.columns) + 1))).print(table)


def _write(frame: pd.DataFrame, output: str) -> None:
    out = Path(output)
    if out.suffix.lower() == ".json":
        records = json.loads(frame.reset_index().to_json(orient="records"))
        out.write_text(json.dumps(records, indent=1) + "\n")
    else:
        frame.reset_index().to_csv(out, index=False)
    click.echo(f"wrote {len(frame)} rows to {out}", err=True)


# family name -> (module, class, column roles); a family's roles default to canonical names.
FAMILIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "binomial": ("hierbayes.betabinomial", "BetaBinomial", ("successes", "trials")),
    "normal": ("hierbayes.normalnormal", "NormalNormal", ("estimate", "std_error")),
    "poisson": ("hierbayes.gammapoisson", "GammaPoisson", ("counts", "exposure")),
}
_DATASET_FAMILY = {"beta-binomial": "binomial", "normal-normal": "normal",
                   "gamma-poisson": "poisson"}

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


def _model_class(family: str | None, dataset: str | None) -> tuple[type, dict[str, Any]]:
    if family is None:
        family = "binomial"
        if dataset is not None and dataset in datasets.DATASETS:
            family = _DATASET_FAMILY[datasets.DATASETS[dataset].family]
    module, name, roles = FAMILIES[family]
    import importlib

    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise click.UsageError(f"the {family!r} family is not available: {exc}") from exc
    return cls, {"roles": roles}


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
      hierbayes fit data.csv --family normal --estimate y --std-error se
      hierbayes fit data.csv --family poisson --counts failures --exposure hours
      hierbayes compare data.csv --successes y --trials n
      hierbayes datasets
    """
    ctx.obj = {"debug": debug}


@cli.command()
@click.argument("data", required=False)
@click.option("--dataset", help="Use a bundled data set instead of a file.")
@_with_columns
@click.option("--pooling", type=click.Choice(["partial", "complete", "none"]),
              default="partial", show_default=True)
@click.option("--method", type=click.Choice(["exact", "eb"]), default="exact", show_default=True,
              help="Exact full Bayes, or empirical Bayes.")
@click.option("--prob", type=float, default=0.95, show_default=True,
              help="Mass of the equal-tailed intervals.")
@click.option("--output", "-o", help="Write the per-group table to a .csv or .json file.")
def fit(data, dataset, family, group, pooling, method, prob, output, **given) -> None:
    """Fit a hierarchical model; print hyperparameters and groups."""
    frame = _read(data, dataset)
    cls, info = _model_class(family, dataset)
    roles = _roles(group, info["roles"], given)
    tail = (1 - prob) / 2
    model = cls(pooling=pooling, method=method, probs=(tail, 0.5, 1 - tail))
    result = model.fit(frame, **roles)
    click.echo(repr(result))
    if len(result.hyper):
        _print_table("Hyperparameters", result.hyper)
    groups = result.groups
    if output:
        _write(groups, output)
    else:
        _print_table("Groups", groups)


@cli.command()
@click.argument("data", required=False)
@click.option("--dataset", help="Use a bundled data set instead of a file.")
@_with_columns
@click.option("--prob", type=float, default=0.95, show_default=True)
@click.option("--output", "-o", help="Write the table to a .csv or .json file.")
def compare(data, dataset, family, group, prob, output, **given) -> None:
    """Complete, no and partial pooling side by side."""
    frame = _read(data, dataset)
    cls, info = _model_class(family, dataset)
    table = compare_pooling(frame, prob=prob, model=cls(), **_roles(group, info["roles"], given))
    if output:
        _write(table, output)
    else:
        _print_table(f"Pooling comparison (means and {prob:.0%} intervals)", table)


@cli.command(name="datasets")
def list_datasets() -> None:
    """List the bundled data sets and their sources."""
    frame = pd.DataFrame(
        [(d.name, d.family, d.description, d.source) for d in datasets.DATASETS.values()],
        columns=["name", "family", "description", "source"],
    ).set_index("name")
    _print_table("Bundled data sets", frame)


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
        exc.show()
        return 2
    except HierBayesError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        click.echo("hint: check the column names and counts; --help lists the options.", err=True)
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
