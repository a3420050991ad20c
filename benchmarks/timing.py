"""What every benchmark times with: the median of several runs (the machines are shared
and noisy), and the last result."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

__all__ = ["median_time"]


def median_time(fn: Callable[[], Any], repeat: int = 7) -> tuple[float, Any]:
    """Median wall time of ``repeat`` calls of ``fn`` and the last call's result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out
