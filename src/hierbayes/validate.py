"""Argument checks shared by every public entry point, in one wording."""

from __future__ import annotations

import math
import operator
import os
from collections.abc import Iterable, Sequence
from typing import Any

from hierbayes.errors import HierBayesError

__all__ = ["check_choice", "check_memory", "check_positive_int", "check_prob", "check_probs",
           "check_tol"]


class ArgumentError(HierBayesError, ValueError):
    """An argument has a value outside its allowed set."""


def check_choice(name: str, value: Any, options: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``options``; raise otherwise.

    >>> check_choice("pooling", "none", ("complete", "none", "partial"))
    'none'
    """
    if not isinstance(value, str):
        raise TypeError(f"`{name}` must be a string; got {type(value).__name__}.")
    if value not in options:
        opts = ", ".join(repr(o) for o in options)
        raise ArgumentError(f"`{name}` must be one of {opts}; got {value!r}.")
    return value


def check_prob(name: str, value: Any) -> float:
    """Return ``value`` as a float strictly between 0 and 1.

    >>> check_prob("prob", 0.9)
    0.9
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a number in (0, 1); got {type(value).__name__}.")
    value = float(value)
    if not (0.0 < value < 1.0):
        raise ArgumentError(f"`{name}` must lie strictly between 0 and 1; got {value!r}.")
    return value


def check_probs(name: str, values: Iterable[Any]) -> tuple[float, ...]:
    """Return a tuple of probabilities, each strictly in (0, 1), without duplicates."""
    if isinstance(values, (int, float)):
        values = (values,)
    out = tuple(check_prob(name, v) for v in values)
    if not out:
        raise ArgumentError(f"`{name}` must hold at least one probability; got none.")
    if len(set(out)) != len(out):
        raise ArgumentError(f"`{name}` must not repeat a probability; got {out!r}.")
    return out


def check_positive_int(name: str, value: Any) -> int:
    """Return ``value`` as a Python int if it is a positive integer (NumPy integers too).

    >>> import numpy as np
    >>> check_positive_int("size", np.int64(10))
    10
    """
    if isinstance(value, (bool, float)) or not hasattr(value, "__index__"):
        raise TypeError(f"`{name}` must be a positive integer; got {type(value).__name__}.")
    value = operator.index(value)
    if value <= 0:
        raise ArgumentError(f"`{name}` must be a positive integer; got {value!r}.")
    return value


def check_tol(name: str, value: Any) -> float:
    """Return a tolerance in [1e-14, 1e-2]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"`{name}` must be a number; got {type(value).__name__}.")
    value = float(value)
    if not (math.isfinite(value) and 1e-14 <= value <= 1e-2):
        raise ArgumentError(f"`{name}` must lie between 1e-14 and 1e-2; got {value!r}.")
    return value


def _available_bytes() -> float:
    """Memory this process may still take: MemAvailable on Linux, else all physical memory."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024.0
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, ValueError, OSError):
        return math.inf


def _gb(nbytes: float) -> str:
    gb = nbytes / 1e9
    return f"{gb:,.0f}" if gb >= 100 else f"{gb:.3g}"


def check_memory(what: str, nbytes: float, advice: str) -> None:
    """Refuse, before any work, a request that would need more memory than is free.

    ``what`` names the request (``"4000 draws of 71 groups"``), ``nbytes`` is the
    memory it would hold at once, ``advice`` says how to ask for less.

    >>> check_memory("10 draws of 3 groups", 240, "ask for fewer draws")
    >>> check_memory("1e9 draws", 8e15, "ask for fewer draws")
    Traceback (most recent call last):
    ...
    hierbayes.validate.ArgumentError: 1e9 draws would need 8,000,000 GB of memory, ...
    """
    free = _available_bytes()
    if nbytes > free:
        raise ArgumentError(
            f"{what} would need {_gb(nbytes)} GB of memory, more than the "
            f"{_gb(free)} GB free on this machine; {advice}."
        )
