"""The ``hierbayes`` command line: fit, compare and list data sets.

Errors are one readable line and exit code 2 for bad input, 1 otherwise;
``--debug`` shows the traceback.
"""

from __future__ import annotations

import glob as globbing
import json
import math
import os
import sys
from contextlib import contextmanager, nullcontext
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
    files = _files(path)
    try:
        frames = [
            pd.read_parquet(f) if _is_parquet(f) else pd.read_csv(f, sep=None, engine="python")
            for f in files
        ]
    except Exception as exc:  # unreadable file: say so in one line
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="DATA") from exc
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


_PARQUET = (".parquet", ".pq")
_GLOB_CHARS = set("*?[")


def _is_parquet(path: str) -> bool:
    return Path(path).suffix.lower() in _PARQUET


def _files(path: str) -> list[str]:
    """The data files named by a path, a directory (its data files) or a glob pattern."""
    p = Path(path)
    if _GLOB_CHARS & set(path):
        files = sorted(globbing.glob(path))
        if not files:
            raise click.BadParameter(f"no files match {path}", param_hint="DATA")
        return files
    if p.is_dir():
        files = sorted(
            str(f) for f in p.iterdir() if f.suffix.lower() in (*_PARQUET, ".csv", ".tsv")
        )
        if not files:
            raise click.BadParameter(f"no .parquet or .csv files in {path}", param_hint="DATA")
        kinds = {_is_parquet(f) for f in files}
        if len(kinds) > 1:
            raise click.BadParameter(
                f"{path} mixes parquet and CSV files; point to one kind, e.g. "
                f"'{Path(path) / '*.parquet'}'",
                param_hint="DATA",
            )
        return files
    if not p.exists():
        raise click.BadParameter(f"no such file: {path}", param_hint="DATA")
    return [path]


def _memory_bytes() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):  # not POSIX: assume 8 GB
        return 8e9


def _use_dask(path: str | None, engine: str) -> bool:
    """'dask' when asked, or for 'auto' on a glob, a directory, or a file above 1/4 of memory."""
    if engine != "auto" or path is None:
        return engine == "dask"
    if _GLOB_CHARS & set(path) or Path(path).is_dir():
        return True
    p = Path(path)
    return p.exists() and p.stat().st_size > _memory_bytes() / 4


def _read_dask(path: str) -> Any:
    """A lazy Dask DataFrame over parquet or CSV files (nothing is read yet)."""
    try:
        import dask.dataframe as dd
    except ImportError:
        raise click.UsageError(
            "--engine dask (or a glob/directory of files) needs Dask: "
            "pip install 'hierbayes[dask]'"
        ) from None
    files = _files(path)
    try:
        if all(_is_parquet(f) for f in files):
            return dd.read_parquet(files)
        if any(_is_parquet(f) for f in files):
            raise ValueError("mixes parquet and CSV files")
        return dd.read_csv(files)
    except Exception as exc:  # unreadable files: say so in one line
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="DATA") from exc


@contextmanager
def _progress_bar():
    """Show a bar on stderr for reported phases that run longer than a second."""
    import time

    from rich.progress import Progress

    from .progress import reporting

    start = time.monotonic()
    bar = Progress(transient=True, disable=not sys.stderr.isatty())
    tasks: dict[str, Any] = {}

    def update(task: str, done: int, total: int) -> None:
        if time.monotonic() - start < 1.0 and not tasks:
            return
        if not tasks:
            bar.start()
        if task not in tasks:
            tasks[task] = bar.add_task(task, total=total)
        bar.update(tasks[task], completed=done)

    try:
        with reporting(update):
            yield
    finally:
        if tasks:
            bar.stop()


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        if math.isnan(x):
            return "–"
        if math.isinf(x):
            return "∞" if x > 0 else "-∞"
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
    elif out.suffix.lower() in _PARQUET:
        frame.reset_index().to_parquet(out, index=False)
    elif _is_directory_output(output):
        out.mkdir(parents=True, exist_ok=True)
        out = out / "part.0.parquet"
        frame.reset_index().to_parquet(out, index=False)
    else:
        frame.reset_index().to_csv(out, index=False)
    click.echo(f"wrote {len(frame)} rows to {out}", err=True)


def _is_directory_output(output: str) -> bool:
    return output.endswith(("/", os.sep)) or Path(output).is_dir()


def _check_dask_output(output: str | None) -> None:
    if output is not None and Path(output).suffix.lower() in (".json", *_PARQUET):
        raise click.BadParameter(
            f"with the Dask engine, --output must be a directory (parquet files are written "
            f"there) or a .csv file; got {output}",
            param_hint="--output",
        )


def _write_dask(frame: Any, output: str, n_groups: int) -> None:
    """Per-group results of a Dask fit: parquet files in a directory, or one CSV file."""
    out = Path(output)
    table = frame.reset_index()
    if out.suffix.lower() == ".csv":
        table.to_csv(str(out), single_file=True, index=False)
    else:
        table.to_parquet(str(out), write_index=False)
        out = Path(output)
    click.echo(f"wrote {n_groups} rows to {out}", err=True)


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
      hierbayes fit 'data/*.parquet' --successes clicks --trials views --output out/
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
@click.option("--output", "-o", help="Write the per-group table to a .csv, .json or .parquet "
              "file, or to a directory (parquet).")
@click.option("--engine", type=click.Choice(["auto", "pandas", "dask"]), default="auto",
              show_default=True, help="Read and reduce the data in memory (pandas) or with "
              "Dask; auto picks Dask for a glob, a directory or a file above 1/4 of memory.")
@click.option("--scheduler", default=None, help="Address of a dask.distributed scheduler "
              "(default: Dask's local threads).")
@click.option("--intervals/--no-intervals", default=True, show_default=True,
              help="Per-group quantiles; without, only means, sds and shrinkage (much faster "
              "for millions of groups).")
def fit(data, dataset, family, group, pooling, method, prob, output, engine, scheduler,
        intervals, **given) -> None:
    """Fit a hierarchical model; print hyperparameters and groups.

    DATA is a .csv or .parquet file, a directory of them, or a quoted glob
    such as 'data/*.parquet' (read lazily with Dask).
    """
    cls, info = _model_class(family, dataset)
    roles = _roles(group, info["roles"], given)
    tail = (1 - prob) / 2
    model = cls(pooling=pooling, method=method, probs=(tail, 0.5, 1 - tail))
    if _use_dask(data, engine) and dataset is None:
        if info["roles"] != ("successes", "trials"):
            raise click.UsageError("the Dask engine supports the binomial family only")
        _fit_dask(model, data, roles, output, scheduler, intervals)
        return
    frame = _read(data, dataset)
    result = model.fit(frame, **roles)
    click.echo(repr(result))
    if len(result.hyper):
        _print_table("Hyperparameters", result.hyper)
    with _progress_bar():
        groups = result.groups if intervals else result.moments
    if output:
        _write(groups, output)
    else:
        _print_table("Groups", groups)


def _fit_dask(model: Any, data: str, roles: dict[str, Any], output: str | None,
              scheduler: str | None, intervals: bool) -> None:
    """The fit command on Dask: reduce on the workers, write per-group parquet from them."""
    _check_dask_output(output)
    ddf = _read_dask(data)
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
            _print_table("Hyperparameters", result.hyper)
        groups = result.groups if intervals else result.moments
        if output:
            _write_dask(groups, output, result.n_groups)
        else:
            shown = groups.partitions[0].compute().head(20)
            _print_table(f"Groups (first {len(shown)} of {result.n_groups}; give --output "
                         "to write all)", shown)


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
