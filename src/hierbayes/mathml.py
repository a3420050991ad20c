"""A few MathML building blocks, so that a model can be written as mathematics.

MathML Core renders natively in current browsers (Chromium ≥ 109, Firefox,
Safari) and needs no script or network, which keeps the HTML report
self-contained. Every piece is escaped text; the functions only nest tags.

Examples
--------
>>> row(sub("y", "j"), op("∼"), dist("Poisson", row(sub("θ", "j"), sub("t", "j"))))[:22]
'<mrow><msub><mi>y</mi>'
"""

from __future__ import annotations

import html

__all__ = ["block", "dist", "fn", "gap", "ident", "num", "op", "paren", "row", "sub", "sup",
           "text"]


def _esc(x: object) -> str:
    return html.escape(str(x), quote=True)


def ident(name: str) -> str:
    """An identifier: one letter in italics, a longer name (``logit``) upright."""
    variant = "" if len(name) == 1 else ' mathvariant="normal"'
    return f"<mi{variant}>{_esc(name)}</mi>"


def num(x: float | int | str) -> str:
    """A number, written as given (a float with up to 6 significant digits)."""
    return f"<mn>{_esc(f'{x:.6g}' if isinstance(x, float) else x)}</mn>"


def op(symbol: str) -> str:
    """An operator or relation (``∼``, ``=``, ``∝``, ``,``, ``+``)."""
    return f"<mo>{_esc(symbol)}</mo>"


def gap() -> str:
    """A comma and a wide space between two statements on one line."""
    return '<mo>,</mo><mspace width="1.2em"></mspace>'


def text(words: str) -> str:
    """Words inside a formula."""
    return f"<mtext>{_esc(words)}</mtext>"


def _piece(x: str) -> str:
    return x if x.startswith("<") else ident(x)


def row(*parts: str) -> str:
    """Pieces side by side (a plain string is an identifier)."""
    return "<mrow>" + "".join(_piece(p) for p in parts) + "</mrow>"


def sub(base: str, index: str) -> str:
    """``base`` with a subscript."""
    return f"<msub>{_piece(base)}{_piece(index)}</msub>"


def sup(base: str, power: str) -> str:
    """``base`` with a superscript."""
    return f"<msup>{_piece(base)}{_piece(power)}</msup>"


def paren(*parts: str) -> str:
    """Pieces in parentheses, separated by commas."""
    inner = op(",").join(_piece(p) for p in parts)
    return f"<mrow>{op('(')}{inner}{op(')')}</mrow>"


def fn(name: str, *args: str) -> str:
    """A function applied to arguments: ``name(a, b)``."""
    return row(ident(name), paren(*args))


def dist(name: str, *args: str) -> str:
    """A named distribution with its parameters: ``Beta(α, β)``."""
    return row(f'<mi mathvariant="normal">{_esc(name)}</mi>', paren(*args))


def block(*parts: str) -> str:
    """A displayed formula.

    >>> block(row("x", op("="), num(1)))
    '<math display="block"><mrow><mi>x</mi><mo>=</mo><mn>1</mn></mrow></math>'
    """
    return '<math display="block">' + "".join(_piece(p) for p in parts) + "</math>"
