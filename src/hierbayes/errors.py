"""Exception and warning classes: one root for errors, one for warnings.

``HierBayesError`` is the root of every error hierbayes raises on purpose.
Wrong *values* raise a subclass that is also a :class:`ValueError`; wrong
*types* raise plain :class:`TypeError`.
"""

from __future__ import annotations

__all__ = [
    "AccuracyWarning",
    "DataError",
    "DegenerateDataWarning",
    "HierBayesError",
    "HierBayesWarning",
    "ImproperPosteriorError",
    "PriorError",
]


class HierBayesError(Exception):
    """Root of the errors raised by hierbayes."""


class DataError(HierBayesError, ValueError):
    """The data cannot be fitted: bad counts, missing columns, empty input."""


class PriorError(HierBayesError, ValueError):
    """A prior specification is malformed or unsupported."""


class ImproperPosteriorError(PriorError):
    """The prior together with the data gives an improper posterior."""


class HierBayesWarning(UserWarning):
    """Root of the warnings issued by hierbayes."""


class AccuracyWarning(HierBayesWarning):
    """A numerical tolerance could not be reached; the reason is in the message."""


class DegenerateDataWarning(HierBayesWarning):
    """Legal but degenerate data (a single group, all rates equal, ...)."""
