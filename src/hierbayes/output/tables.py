"""The command line's tables: one code path for every command's table, CSV and JSON output."""

from __future__ import annotations

import json
import math
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import click
import pandas as pd

from hierbayes.output.files import PARQUET, is_directory_output, write_parquet
from hierbayes.output.numbers import format_number

__all__ = [
    "FORMATS",
    "NONFINITE",
    "emit",
    "json_document",
    "json_value",
    "make_console",
    "print_table",
    "records",
    "resolve_format",
    "rich_table",
    "sort_groups",
]

# ---- output: one code path for every command's tables --------------------------------------
FORMATS = ("table", "csv", "json")
NONFINITE = "NaN is null; +inf and -inf are the strings 'inf' and '-inf'"


def rich_table(title: str, frame: pd.DataFrame) -> Any:
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    table.add_column(frame.index.name or "", justify="left")
    for col in frame.columns:
        table.add_column(str(col), justify="right")
    for idx, row in zip(frame.index, frame.itertuples(index=False, name=None), strict=True):
        table.add_row(str(idx), *(format_number(v, minus="-") for v in row))
    return table


def make_console(frame: pd.DataFrame, file: Any = None) -> Any:
    from rich.console import Console

    width = max(100, 12 * (len(frame.columns) + 1))
    if file is None:
        return Console(width=width)
    return Console(file=file, width=width, no_color=True, highlight=False)


def print_table(title: str, frame: pd.DataFrame) -> None:
    """One aligned rich table on stdout."""
    make_console(frame).print(rich_table(title, frame))


def sort_groups(frame: pd.DataFrame, column: str | None, descending: bool = False) -> pd.DataFrame:
    """``frame`` sorted by a column or its index name (stable; NaN last); as is if None."""
    if column is None:
        return frame
    index_name = frame.index.name or "group"
    if column == index_name:
        return frame.sort_index(ascending=not descending, kind="stable", key=_label_order)
    if column not in frame.columns:
        names = ", ".join([index_name, *map(str, frame.columns)])
        raise click.BadParameter(f"no column {column!r} to sort by; choose from {names}",
                                 param_hint="--sort")
    return frame.sort_values(column, ascending=not descending, kind="stable",
                             na_position="last")


def _label_order(labels: pd.Index) -> pd.Index:
    """Group labels as sort keys: numbers when every label is a number written as text
    (a CSV's labels are read as text, and '10' should follow '9'), else the labels."""
    if pd.api.types.is_string_dtype(labels.dtype) and len(labels):
        numbers = pd.to_numeric(pd.Series(labels, dtype=object), errors="coerce")
        if not numbers.isna().any():
            return pd.Index(numbers)
    return labels


def json_value(x: Any) -> Any:
    """A JSON-safe scalar: NaN -> None, ±inf -> 'inf' / '-inf', NumPy scalars -> Python."""
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        x = x.item()
    if isinstance(x, float):
        if math.isnan(x):
            return None
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if x is pd.NA or x is pd.NaT:
        return None
    return str(x)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of ``frame`` (index first, under its name) as JSON-safe dicts."""
    flat = frame.reset_index()
    cols = [str(c) for c in flat.columns]
    return [{c: json_value(v) for c, v in zip(cols, row, strict=True)}
            for row in flat.itertuples(index=False, name=None)]


def json_document(tables: dict[str, pd.DataFrame], metadata: dict[str, Any]) -> dict[str, Any]:
    """``{"metadata": {...}, <table name>: [row, ...], ...}``, JSON-safe."""
    meta = {k: json_value(v) if not isinstance(v, (dict, list, tuple)) else v
            for k, v in metadata.items()}
    return {"metadata": {**meta, "nonfinite": NONFINITE},
            **{name: records(t) for name, t in tables.items()}}


def resolve_format(fmt: str | None, output: str | None) -> str:
    """--format if given, else from the --output suffix (.json, .parquet, a directory, else
    CSV), else 'table'."""
    if fmt is not None:
        return fmt
    if output is None:
        return "table"
    if Path(output).suffix.lower() == ".json":
        return "json"
    if Path(output).suffix.lower() in PARQUET or is_directory_output(output):
        return "parquet"
    return "csv"


def emit(
    tables: dict[str, pd.DataFrame],
    fmt: str | None = None,
    *,
    output: str | None = None,
    primary: str | None = None,
    titles: dict[str, str] | None = None,
    metadata: dict[str, Any] | None = None,
    header: str | None = None,
    echo: tuple[str, ...] = (),
) -> None:
    """Write a command's tables in one format, to stdout or to ``output``.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        Named tables in display order (e.g. ``hyper`` then ``groups``); each
        index becomes the first column.
    fmt : {'table', 'csv', 'json'} or None
        ``table``: aligned rich tables (empty ones skipped); ``csv``: the
        ``primary`` table; ``json``: one document ``{"metadata": ...,
        <name>: [rows], ...}`` with NaN as null and ±inf as ``"inf"`` /
        ``"-inf"``. None: from the suffix of ``output`` (``.json``;
        ``.parquet`` or a directory writes the primary table as parquet;
        otherwise CSV), or ``table`` without one.
    output : str, optional
        File to write instead of stdout; the terminal then shows ``header``
        and the tables named in ``echo``, and stderr says what was written.
    primary : str, optional
        The table of the CSV and parquet formats (default: the last).
    titles : dict of str to str, optional
        Titles of the rich tables (default: the names).
    metadata : dict, optional
        The JSON document's ``metadata`` (command, model, data, ...).
    header : str, optional
        A line shown above the rich tables (e.g. the fit's repr).
    echo : tuple of str
        Tables shown on the terminal when the output goes to a file.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"mean": [0.5, float("inf")]}, index=pd.Index(["a", "b"], name="group"))
    >>> emit({"groups": t}, "csv")
    group,mean
    a,0.5
    b,inf
    >>> emit({"groups": t}, "json", metadata={"command": "demo"})  # doctest: +ELLIPSIS
    {
     "metadata": {
      "command": "demo",
    ...
     "groups": [
      {
       "group": "a",
       "mean": 0.5
      },
    ...
    """
    fmt = resolve_format(fmt, output)
    primary = primary if primary is not None else list(tables)[-1]
    titles = titles or {}
    if output is not None and fmt != "table":
        if header:
            click.echo(header)
        for name in echo:
            if name != primary and len(tables[name]):
                print_table(titles.get(name, name), tables[name])
    if fmt == "table":
        shown = {n: t for n, t in tables.items() if len(t) or n == primary}
        widest = max(shown.values(), key=lambda t: len(t.columns))
        with open(output, "w") if output else nullcontext() as f:
            console = make_console(widest, f)
            if header:
                console.print(header, markup=False, highlight=False)
            for name, t in shown.items():
                console.print(rich_table(titles.get(name, name), t))
        if output:
            click.echo(f"wrote {len(tables[primary])} rows to {output}", err=True)
        return
    if fmt == "parquet":
        write_parquet(tables[primary], output)  # type: ignore[arg-type]
        return
    if fmt == "csv":
        text = tables[primary].reset_index().to_csv(index=False)
        rows = len(tables[primary])
    else:
        doc = json_document(tables, metadata or {})
        text = json.dumps(doc, indent=1, allow_nan=False, ensure_ascii=False) + "\n"
        rows = " and ".join(f"{len(t)} {name}" for name, t in tables.items())
    if output is None:
        click.echo(text, nl=False)
    else:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"wrote {rows} rows to {output}", err=True)
