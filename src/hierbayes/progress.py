"""Progress reports for long phases, off unless a caller asks for them.

Library code calls :func:`report` after each block of a long computation;
nothing happens unless a reporter was installed with :func:`reporting` (the
CLI does this, drawing a bar only for phases that last more than a second).
Results never depend on it.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["report", "reporting"]

Reporter = Callable[[str, int, int], None]
_current: contextvars.ContextVar[Reporter | None] = contextvars.ContextVar(
    "hierbayes_progress", default=None
)


def report(task: str, done: int, total: int) -> None:
    """Tell the installed reporter, if any, that ``done`` of ``total`` units of ``task`` are done.

    Examples
    --------
    >>> seen = []
    >>> with reporting(lambda task, done, total: seen.append((task, done, total))):
    ...     report("quantiles", 1, 2)
    >>> report("quantiles", 2, 2)  # no reporter installed: nothing happens
    >>> seen
    [('quantiles', 1, 2)]
    """
    reporter = _current.get()
    if reporter is not None:
        reporter(task, done, total)


@contextmanager
def reporting(reporter: Reporter) -> Iterator[None]:
    """Install ``reporter`` for the duration of the ``with`` block."""
    token = _current.set(reporter)
    try:
        yield
    finally:
        _current.reset(token)
