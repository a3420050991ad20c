"""The command line's tables: one code path for every command's table, CSV and JSON output.

On a terminal, tables fit its width (``shutil.get_terminal_size``, which
honours ``COLUMNS``): a table too wide for it is split into blocks of whole
columns, each repeating the first column, so no header is cut or wrapped;
long text (the data sets' descriptions) wraps between words. Piped or
written to a file, a table is one block at its natural width: plain lines,
never wrapped. pandas is only touched by the functions that receive a
DataFrame, so ``hierbayes datasets`` runs without it.
"""

from __future__ import annotations

import json
import math
import shutil
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from hierbayes.output.files import check_output, replacing, write_parquet
from hierbayes.output.numbers import format_number

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "FORMATS",
    "NONFINITE",
    "Grid",
    "emit",
    "emit_text",
    "json_document",
    "json_value",
    "print_table",
    "records",
    "render",
    "sort_groups",
    "terminal_width",
]

# ---- output: one code path for every command's tables --------------------------------------
FORMATS = ("table", "csv", "json")
NONFINITE = "NaN is null; +inf and -inf are the strings 'inf' and '-inf'"
_UNLIMITED = 100_000  # the width of piped output: nothing wraps
_WRAP_AT = 24  # a text column whose cells are longer than this may wrap on a terminal


@dataclass(frozen=True)
class Grid:
    """A table as strings, ready to lay out: the first column, then the others."""

    index: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]  # each row: its index label, then one cell per column
    numeric: tuple[bool, ...]  # per column: right-aligned numbers (else left-aligned text)

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Grid:
        """The cells of a DataFrame: numbers by :func:`format_number`, text as it is."""
        from pandas.api.types import is_numeric_dtype

        rows = tuple(
            (str(idx), *(format_number(v, minus="-") for v in row))
            for idx, row in zip(frame.index, frame.itertuples(index=False, name=None),
                                strict=True)
        )
        return cls(frame.index.name or "", tuple(map(str, frame.columns)), rows,
                   tuple(is_numeric_dtype(frame[c]) for c in frame.columns))


def terminal_width() -> int | None:
    """The width tables must fit: the terminal's for a terminal, None (no limit) when piped."""
    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size().columns


def _blocks(grid: Grid, width: int | None) -> list[list[int]]:
    """Columns (by position) of each block: as many whole columns as fit in ``width``."""
    from rich.cells import cell_len

    if width is None or not grid.columns:
        return [list(range(len(grid.columns)))]

    def need(j: int) -> int:  # the column's width on the screen, with its padding and rule
        head = cell_len(grid.columns[j])
        cells = max((cell_len(r[j + 1]) for r in grid.rows), default=0)
        if not grid.numeric[j] and cells > _WRAP_AT:
            cells = max(head, _WRAP_AT)  # long text wraps
        return max(head, cells) + 3

    first = max([cell_len(grid.index), *(cell_len(r[0]) for r in grid.rows)]) + 4
    blocks: list[list[int]] = [[]]
    used = first
    for j in range(len(grid.columns)):
        if blocks[-1] and used + need(j) > width:
            blocks.append([])
            used = first
        blocks[-1].append(j)
        used += need(j)
    return blocks


def render(console: Any, title: str, grid: Grid, width: int | None,
           note: str | None = None) -> None:
    """Print ``title``, the table in blocks that fit ``width`` (None: one block), ``note``."""
    from rich.table import Table
    from rich.text import Text

    blocks = _blocks(grid, width)
    console.print(Text(title, style="bold"), soft_wrap=width is None)
    for k, block in enumerate(blocks):
        if k:
            console.print(Text(f"{title} (continued)", style="bold"))
        table = Table()
        table.add_column(grid.index, justify="left", no_wrap=width is None)
        for j in block:
            wraps = width is not None and not grid.numeric[j]
            table.add_column(grid.columns[j], justify="right" if grid.numeric[j] else "left",
                             no_wrap=not wraps, min_width=len(grid.columns[j]))
        for row in grid.rows:
            table.add_row(row[0], *(row[j + 1] for j in block))
        console.print(table)
    if note:
        console.print(Text(note), soft_wrap=width is None)


def _console(file: Any = None, width: int | None = None) -> Any:
    """A terminal's console, ``width`` wide; else a plain one wide enough for any table
    (a table is drawn at its natural width, lines are not padded)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:  # rich would exit 1; the reader left (| head)
            raise BrokenPipeError

    if file is None and width is not None:
        return _Console(width=width)
    return _Console(file=file, width=_UNLIMITED, no_color=True, highlight=False)


def print_table(title: str, frame: pd.DataFrame) -> None:
    """One table on stdout, fitted to the terminal (plain when piped)."""
    width = terminal_width()
    render(_console(width=width), title, Grid.of(frame), width)


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
    import pandas as pd

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
    import pandas as pd  # only for pandas' missing values, and only here

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
    notes: dict[str, str] | None = None,
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
        ``"-inf"``. None: from the suffix of ``output`` (``.csv``, ``.json``;
        ``.parquet`` or a directory writes the primary table as parquet; see
        :func:`~hierbayes.output.files.check_output`), or ``table`` without one.
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
    notes : dict of str to str, optional
        A line under a rich table saying what its rows mean.

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
    fmt = check_output(output, fmt)
    primary = primary if primary is not None else list(tables)[-1]
    titles = titles or {}
    if output is not None and fmt != "table":
        if header:
            click.echo(header)
        for name in echo:
            if name != primary and name in tables and len(tables[name]):
                print_table(titles.get(name, name), tables[name])
    if fmt == "table":
        shown = {n: Grid.of(t) for n, t in tables.items() if len(t) or n == primary}
        _write_tables(shown, titles, notes or {}, header, output)
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
        text = _json_text(json_document(tables, metadata or {}))
        rows = " and ".join(f"{len(t)} {name}" for name, t in tables.items())
    _write_text(text, output, f"{rows} rows")


def emit_text(name: str, grid: Grid, fmt: str | None = None, *, output: str | None = None,
              title: str | None = None, metadata: dict[str, Any] | None = None) -> None:
    """:func:`emit` for one table of text, without pandas (``hierbayes datasets``)."""
    import csv
    import io

    fmt = check_output(output, fmt, parquet=False)
    if fmt == "table":
        _write_tables({name: grid}, {name: title or name}, {}, None, output)
        if output:
            click.echo(f"wrote {len(grid.rows)} rows to {output}", err=True)
        return
    header = (grid.index, *grid.columns)
    if fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([header, *grid.rows])
        text = buf.getvalue()
    else:
        doc = {"metadata": {**(metadata or {}), "nonfinite": NONFINITE},
               name: [dict(zip(header, row, strict=True)) for row in grid.rows]}
        text = _json_text(doc)
    _write_text(text, output, f"{len(grid.rows)} rows")


def _json_text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, allow_nan=False, ensure_ascii=False) + "\n"


def _write_text(text: str, output: str | None, what: str) -> None:
    """``text`` on stdout, or into ``output`` whole (see :func:`replacing`)."""
    if output is None:
        click.echo(text, nl=False)
        return
    with replacing(output) as tmp:
        tmp.write_text(text, encoding="utf-8")
    click.echo(f"wrote {what} to {output}", err=True)


def _write_tables(grids: dict[str, Grid], titles: dict[str, str], notes: dict[str, str],
                  header: str | None, output: str | None) -> None:
    """Tables one after another on the terminal (fitted to it) or, plain, into ``output``."""
    from contextlib import nullcontext

    width = terminal_width() if output is None else None
    with replacing(output) if output else nullcontext() as tmp:
        with open(tmp, "w", encoding="utf-8") if tmp else nullcontext() as f:
            console = _console(f, width)
            if header:
                console.print(header, markup=False, highlight=False, soft_wrap=True)
            for k, (name, grid) in enumerate(grids.items()):
                if k:
                    console.print()
                render(console, titles.get(name, name), grid, width, notes.get(name))
