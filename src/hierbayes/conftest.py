"""Doctest collection of the package: skip the Dask engine's module when Dask is absent."""

try:
    import dask.dataframe  # noqa: F401
except ImportError:
    collect_ignore = ["dask_engine.py"]
