"""Shared by the test tree: this folder is on sys.path, so tests in sub-folders import the
independent oracles (``oracle_*.py``) that live here."""
