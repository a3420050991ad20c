"""How hierbayes writes a number for a person: one formatter for the terminal and the report."""

from __future__ import annotations

import math
import numbers
from typing import Any

__all__ = ["format_number"]


def format_number(x: Any, *, minus: str = "−") -> str:
    """Four significant digits; NaN as "–", infinities as "∞" (with ``minus`` for −∞).

    Integers and booleans are written in full, anything else as ``str``.

    Examples
    --------
    >>> format_number(0.123456), format_number(float("nan")), format_number(-math.inf, minus="-")
    ('0.1235', '–', '-∞')
    >>> import numpy as np
    >>> format_number(np.int64(12345678)), format_number(np.bool_(True))
    ('12345678', 'True')
    """
    # numbers' ABCs cover NumPy's scalars without importing NumPy (`hierbayes datasets`)
    if isinstance(x, bool) or getattr(getattr(x, "dtype", None), "kind", "") == "b":
        return str(x)
    if isinstance(x, numbers.Integral):
        return str(int(x))
    if isinstance(x, numbers.Real) and not isinstance(x, numbers.Rational):
        x = float(x)
        if math.isnan(x):
            return "–"
        if math.isinf(x):
            return "∞" if x > 0 else f"{minus}∞"
        return f"{x:.4g}"
    return str(x)
