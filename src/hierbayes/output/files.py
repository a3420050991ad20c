"""The command line's files: reading the data (CSV, parquet, Dask) and writing outputs.

Outputs are checked before any work (:func:`check_output`) and written to a
temporary name beside the target, renamed onto it only when complete
(:func:`replacing`): a failed or interrupted run leaves no file that looks
finished. pandas is imported by the functions that read or write tables, so
that commands which need none start fast.
"""

from __future__ import annotations

import csv
import glob as globbing
import importlib.util
import io
import os
import shutil
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hierbayes import datasets
from hierbayes.errors import DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "OUTPUT_SUFFIXES",
    "PARQUET",
    "PARQUET_HINT",
    "STDIN",
    "check_dask_output",
    "check_output",
    "check_place",
    "is_directory_output",
    "is_parquet",
    "list_files",
    "memory_bytes",
    "progress_bar",
    "read_csv",
    "read_dask",
    "read_data",
    "replacing",
    "use_dask",
    "write_dask",
    "write_parquet",
]

STDIN = "-"  # the DATA argument that reads CSV from standard input


def read_data(path: str | None, dataset: str | None, *,
              text: tuple[str, ...] = ()) -> pd.DataFrame:
    """The data of a command: a bundled data set, CSV on stdin (``-``), or files
    (a file, a directory or a glob of files).

    The CSV columns named in ``text`` (the group column) are read as text:
    see :func:`read_csv`.
    """
    import pandas as pd

    if (path is None) == (dataset is None):
        raise click.UsageError("Give either a data file or --dataset NAME (not both).")
    if dataset is not None:
        if dataset not in datasets.DATASETS:
            raise click.BadParameter(
                f"unknown data set {dataset!r}; choose from {', '.join(datasets.DATASETS)}",
                param_hint="--dataset",
            )
        return datasets.load(dataset)
    if path == STDIN:
        try:
            return _read_csv_text(sys.stdin.read(), text=text)
        except Exception as exc:  # undecodable or malformed input: one line
            raise click.BadParameter(f"cannot read CSV from stdin: {exc}",
                                     param_hint="DATA") from exc
    files = list_files(path)
    if any(is_parquet(f) for f in files) and not _has_parquet_engine():
        raise click.BadParameter(f"reading {path} needs pyarrow; {PARQUET_HINT}",
                                 param_hint="DATA")
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
    return _read(path, sample, path, text)


def _read_csv_text(text_in: str, *, text: tuple[str, ...] = ()) -> pd.DataFrame:
    """A CSV held in a string (standard input), read as :func:`read_csv` reads a file."""
    return _read(io.StringIO(text_in), text_in[:1 << 16], "standard input", text)


def _read(source: Any, sample: str, name: str, text: tuple[str, ...]) -> pd.DataFrame:
    import pandas as pd

    sep = _sniff(sample)
    return pd.read_csv(source, sep=sep, **_text_options(_header(sample, sep, name), text))


def _sniff(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|: ").delimiter
    except csv.Error:
        return ","


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


# ---- outputs: checked before any work, written whole or not at all -------------------------
# --output suffix -> format, when --format is not given (a directory means parquet)
OUTPUT_SUFFIXES = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}
PARQUET_HINT = 'install it with: pip install "hierbayes[parquet]"'


def _has_parquet_engine() -> bool:
    return any(importlib.util.find_spec(m) is not None for m in ("pyarrow", "fastparquet"))


def _suffixes() -> str:
    return ", ".join(OUTPUT_SUFFIXES) + " or a directory ending in '/' (parquet)"


def check_output(output: str | None, fmt: str | None, *, parquet: bool = True,
                 data: str | None = None) -> str:
    """The output format of ``--format`` / ``--output``, checked before any work is done.

    Without ``--format`` the suffix decides (:data:`OUTPUT_SUFFIXES`; a
    directory means parquet); an unknown suffix, a suffix that names another
    format than ``--format``, a directory that does not exist, a directory
    output that is not empty, the input ``data`` itself (or a path inside an
    input directory), or parquet without pyarrow is refused here, with a
    message that says what to do.

    Examples
    --------
    >>> check_output(None, None), check_output("groups.json", None)
    ('table', 'json')
    >>> check_output("groups.txt", None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: cannot tell the format of 'groups.txt' from its suffix; ...
    """
    if output is None:
        return fmt or "table"
    out = Path(output)
    suffix = out.suffix.lower()
    directory = is_directory_output(output)
    named = "parquet" if directory else OUTPUT_SUFFIXES.get(suffix)
    if suffix in (".xlsx", ".xls", ".ods"):
        raise click.BadParameter(
            f"cannot write spreadsheet files ({output!r}); supported: {_suffixes()} "
            "(spreadsheet programs open .csv)", param_hint="--output")
    if fmt is None:
        if named is None:
            raise click.BadParameter(
                f"cannot tell the format of {output!r} from its suffix; supported: "
                f"{_suffixes()}, or give --format", param_hint="--output")
        fmt = named
    elif named is not None and named != fmt:
        where = "a directory" if directory else f"a {suffix} file"
        raise click.BadParameter(
            f"--format {fmt} does not write {where} ({output!r}); drop --format to write "
            f"{named}, or change the name", param_hint="--output")
    if fmt == "parquet":
        if not parquet:
            raise click.BadParameter(f"this command does not write parquet ({output!r}); "
                                     "use .csv or .json", param_hint="--output")
        if not _has_parquet_engine():
            raise click.BadParameter(f"writing parquet ({output!r}) needs pyarrow; "
                                     f"{PARQUET_HINT}", param_hint="--output")
    check_place(output, directory=directory, data=data)
    return fmt


def check_place(output: str, *, directory: bool = False, data: str | None = None) -> None:
    """The folder that will hold ``output`` exists; a file output is not a directory; a
    directory output is new or empty; the output is not the input ``data`` (nor inside it)."""
    out = Path(output)
    if data is not None and data != "-":
        source, target = Path(data).resolve(), out.resolve()
        if target == source or source in target.parents or target in source.parents:
            holds = " or holds it" if target != source else ""
            raise click.BadParameter(
                f"{output!r} is the input data ({data!r}){holds}; writing there would "
                "destroy it. Name another file", param_hint="--output")
    parent = out.parent if not directory else Path(output.rstrip("/" + os.sep) or ".").parent
    if not parent.is_dir():
        raise click.BadParameter(f"the directory {str(parent)!r} of {output!r} does not exist",
                                 param_hint="--output")
    if directory and out.is_dir() and any(out.iterdir()):
        raise click.BadParameter(
            f"the directory {output!r} is not empty; name a new or empty directory (its "
            "files would be read together with the ones written)", param_hint="--output")
    if not directory and out.is_dir():
        raise click.BadParameter(f"{output!r} is a directory; name a file",
                                 param_hint="--output")


@contextmanager
def replacing(output: str | Path) -> Iterator[Path]:
    """A temporary path beside ``output``, renamed onto it when the block succeeds.

    When the block fails or is interrupted, the temporary file (or directory)
    is removed and ``output`` is left as it was: no half-written file under
    the name the user asked for.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     with replacing(Path(d) / "a.csv") as tmp:
    ...         _ = tmp.write_text("x,y")
    ...     sorted(p.name for p in Path(d).iterdir())
    ['a.csv']
    """
    out = Path(str(output).rstrip("/" + os.sep) or ".")
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def write_parquet(frame: pd.DataFrame, output: str) -> None:
    out = Path(output)
    if is_directory_output(output):
        with replacing(output) as tmp:
            tmp.mkdir()
            frame.reset_index().to_parquet(tmp / "part.0.parquet", index=False)
        out = out / "part.0.parquet"
    else:
        with replacing(output) as tmp:
            frame.reset_index().to_parquet(tmp, index=False)
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
    if output is not None:
        check_place(output, directory=Path(output).suffix.lower() != ".csv")


def write_dask(frame: Any, output: str, n_groups: int) -> None:
    """Per-group results of a Dask fit: parquet files in a directory, or one CSV file."""
    out = Path(output)
    table = frame.reset_index()
    with replacing(output) as tmp:
        if out.suffix.lower() == ".csv":
            table.to_csv(str(tmp), single_file=True, index=False)
        else:
            table.to_parquet(str(tmp), write_index=False)
    click.echo(f"wrote {n_groups} rows to {out}", err=True)
