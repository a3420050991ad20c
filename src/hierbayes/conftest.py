"""Doctest collection of the package: skip modules whose optional extra is absent."""

import importlib.util

collect_ignore = [
    module
    for module, extra in (
        ("families/betabinomial/dask.py", "dask"),
        ("output/arviz.py", "arviz_base"),
    )
    if importlib.util.find_spec(extra) is None
]
