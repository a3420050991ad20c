"""Argument checks shared by every public entry point, in one wording."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from hierbayes.errors import HierBayesError

__all__ = ["check_choice", "check_positive_int", "check_prob", "check_probs", "check_tol"]


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
    """Return ``value`` if it is a positive integer."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"`{name}` must be a positive integer; got {type(value).__name__}.")
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
