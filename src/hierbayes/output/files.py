"""The command line's files: reading the data (CSV, parquet, Dask) and writing outputs."""

from __future__ import annotations

import csv
import glob as globbing
import io
import os
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import pandas as pd

from hierbayes import datasets
from hierbayes.errors import DataError

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

def read_data(path: str | None, dataset: str | None, *,
              text: tuple[str, ...] = ()) -> pd.DataFrame:
    """The data of a file, a directory or glob of files, or a bundled data set.

    The CSV columns named in ``text`` (the group column) are read as text:
    see :func:`read_csv`.
    """
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
            pd.read_parquet(f) if is_parquet(f) else read_csv(f, text=text)
            for f in files
        ]
    except DataError:
        raise
    except Exception as exc:  # unreadable file: say so in one line
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="DATA") from exc
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


# pandas' default missing-value markers, kept for every column but the text ones
_MISSING = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
            "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")


def read_csv(path: str, *, text: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV with its delimiter sniffed from the first lines (',' if none is found).

    pandas' own sniffing (sep=None) looks at the first line only, so a one-column
    file lost its header ('Unnamed: 0', 'Unnamed: 1'). A header naming one
    column twice is refused (pandas would rename the copy 'x.1' and the first
    would be used without a word). The columns in ``text`` are kept as written:
    labels ``01`` and ``1``, or ``1e3`` and ``1000``, stay distinct, ``7``
    stays ``7`` (not ``7.0``), and ``NA`` or ``null`` are labels; only an
    empty field is missing.
    """
    with open(path, newline="", encoding="utf-8") as fh:
        sample = fh.read(1 << 16)
    try:
        sep = csv.Sniffer().sniff(sample, delimiters=",;\t|: ").delimiter
    except csv.Error:
        sep = ","
    return pd.read_csv(path, sep=sep, **_text_options(_header(sample, sep, path), text))


def _header(sample: str, sep: str, path: str) -> list[str]:
    """The column names on a CSV's first line; a name given twice is a DataError."""
    names = next(csv.reader(io.StringIO(sample), delimiter=sep), [])
    twice = [(name, k) for name, k in Counter(names).items() if k > 1]
    if twice:
        name, k = twice[0]
        raise DataError(
            f"Column {name!r} appears {k} times in the header of {path}; rename the copies "
            f"(they would be read as {name!r}, {name + '.1'!r}, ..., and only the first used)."
        )
    return names


def _text_options(header: list[str], text: tuple[str, ...]) -> dict[str, Any]:
    """read_csv options that keep the columns in ``text`` as written (see read_csv)."""
    kept = [c for c in dict.fromkeys(text) if c in header]
    if not kept:
        return {}
    return {
        "dtype": dict.fromkeys(kept, str),
        "keep_default_na": False,
        "na_values": {c: [""] if c in kept else list(_MISSING) for c in header},
    }


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


def read_dask(path: str, *, text: tuple[str, ...] = ()) -> Any:
    """A lazy Dask DataFrame over parquet or CSV files (nothing is read yet).

    CSV headers are checked and the columns in ``text`` kept as written, as
    by :func:`read_csv`.
    """
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
        options: dict[str, Any] = {}
        for f in files:
            with open(f, newline="", encoding="utf-8") as fh:
                options = _text_options(_header(fh.readline(), ",", f), text)
        return dd.read_csv(files, **options)
    except DataError:
        raise
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
