"""HTML of results for notebooks (``_repr_html_``): tables as Jupyter shows them.

Used by every layer that has a result to show (fits, comparisons, checks), so it
imports nothing of the package: pandas renders, this module only frames.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

__all__ = ["results_html"]

HEAD_ROWS = 20


def _table(title: str, frame: pd.DataFrame, rows: int = HEAD_ROWS) -> str:
    shown = frame if len(frame) <= rows else frame.head(rows)
    body = shown.to_html(float_format=lambda x: f"{x:.4g}", na_rep="–", border=0)
    more = ""
    if len(frame) > rows:
        more = (f"<p><em>{len(frame) - rows} more rows ({len(frame)} in all): the whole "
                "table is the attribute itself.</em></p>")
    return f"<h4>{html.escape(title)}</h4>{body}{more}"


def results_html(header: str, tables: Sequence[tuple[str, pd.DataFrame]]) -> str:
    """One block of HTML: a header line, then each (title, table) with its first rows.

    Examples
    --------
    >>> t = pd.DataFrame({"mean": [0.5]}, index=pd.Index(["a"], name="group"))
    >>> "<h4>Groups</h4>" in results_html("<Fit>", [("Groups", t)])
    True
    """
    parts = [f"<p><code>{html.escape(header)}</code></p>"]
    parts += [_table(title, frame) for title, frame in tables if len(frame)]
    return "<div class='hierbayes'>" + "".join(parts) + "</div>"
