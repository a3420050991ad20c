"""The command line's files: reading the data (CSV, parquet, Dask) and writing outputs."""

from __future__ import annotations

import glob as globbing
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import pandas as pd

from hierbayes import datasets

__all__ = [
    "PARQUET",
    "check_dask_output",
    "is_directory_output",
    "is_parquet",
    "list_files",
    "memory_bytes",
    "progress_bar",
    "read_csv",
    "read_dask",
    "read_data",
    "use_dask",
    "write_dask",
    "write_parquet",
]

def read_data(path: str | None, dataset: str | None) -> pd.DataFrame:
    if (path is None) == (dataset is None):
        raise click.UsageError("Give either a data file or --dataset NAME (not both).")
    if dataset is not None:
        if dataset not in datasets.DATASETS:
            raise click.BadParameter(
                f"unknown data set {dataset!r}; choose from {', '.join(datasets.DATASETS)}",
                param_hint="--dataset",
            )
        return datasets.load(dataset)
    files = list_files(path)
    try:
        frames = [
            pd.read_parquet(f) if is_parquet(f) else read_csv(f)
            for f in files
        ]
    except Exception as exc:  # unreadable file: say so in one line
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="DATA") from exc
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def read_csv(path: str) -> pd.DataFrame:
    """A CSV with its delimiter sniffed from the first lines (',' if none is found).

    pandas' own sniffing (sep=None) looks at the first line only, so a one-column
    file lost its header ('Unnamed: 0', 'Unnamed: 1').
    """
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        sample = fh.read(1 << 16)
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=",;\t|: ").delimiter
    except csv.Error:
        sep = ","
    return pd.read_csv(path, sep=sep)


PARQUET = (".parquet", ".pq")
_GLOB_CHARS = set("*?[")


def is_parquet(path: str) -> bool:
    return Path(path).suffix.lower() in PARQUET


def list_files(path: str) -> list[str]:
    """The data files named by a path, a directory (its data files) or a glob pattern."""
    p = Path(path)
    if _GLOB_CHARS & set(path):
        files = sorted(globbing.glob(path))
        if not files:
            raise click.BadParameter(f"no files match {path}", param_hint="DATA")
        return files
    if p.is_dir():
        files = sorted(
            str(f) for f in p.iterdir() if f.suffix.lower() in (*PARQUET, ".csv", ".tsv")
        )
        if not files:
            raise click.BadParameter(f"no .parquet or .csv files in {path}", param_hint="DATA")
        kinds = {is_parquet(f) for f in files}
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


def memory_bytes() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (AttributeError, OSError, ValueError):  # not POSIX: assume 8 GB
        return 8e9


def use_dask(path: str | None, engine: str) -> bool:
    """'dask' when asked, or for 'auto' on a glob, a directory, or a file above 1/4 of memory."""
    if engine != "auto" or path is None:
        return engine == "dask"
    if _GLOB_CHARS & set(path) or Path(path).is_dir():
        return True
    p = Path(path)
    return p.exists() and p.stat().st_size > memory_bytes() / 4


def read_dask(path: str) -> Any:
    """A lazy Dask DataFrame over parquet or CSV files (nothing is read yet)."""
    try:
        import dask.dataframe as dd
    except ImportError:
        raise click.UsageError(
            "--engine dask (or a glob/directory of files) needs Dask: "
            "pip install 'hierbayes[dask]'"
        ) from None
    files = list_files(path)
    try:
        if all(is_parquet(f) for f in files):
            return dd.read_parquet(files)
        if any(is_parquet(f) for f in files):
            raise ValueError("mixes parquet and CSV files")
        return dd.read_csv(files)
    except Exception as exc:  # unreadable files: say so in one line
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="DATA") from exc


@contextmanager
def progress_bar():
    """Show a bar on stderr for reported phases that run longer than a second."""
    import time

    from rich.progress import Progress

    from hierbayes.progress import reporting

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


def write_parquet(frame: pd.DataFrame, output: str) -> None:
    out = Path(output)
    if is_directory_output(output):
        out.mkdir(parents=True, exist_ok=True)
        out = out / "part.0.parquet"
    frame.reset_index().to_parquet(out, index=False)
    click.echo(f"wrote {len(frame)} rows to {out}", err=True)


def is_directory_output(output: str) -> bool:
    return output.endswith(("/", os.sep)) or Path(output).is_dir()


def check_dask_output(output: str | None) -> None:
    if output is not None and Path(output).suffix.lower() in (".json", *PARQUET):
        raise click.BadParameter(
            f"with the Dask engine, --output must be a directory (parquet files are written "
            f"there) or a .csv file; got {output}",
            param_hint="--output",
        )


def write_dask(frame: Any, output: str, n_groups: int) -> None:
    """Per-group results of a Dask fit: parquet files in a directory, or one CSV file."""
    out = Path(output)
    table = frame.reset_index()
    if out.suffix.lower() == ".csv":
        table.to_csv(str(out), single_file=True, index=False)
    else:
        table.to_parquet(str(out), write_index=False)
        out = Path(output)
    click.echo(f"wrote {n_groups} rows to {out}", err=True)
