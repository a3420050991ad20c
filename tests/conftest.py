"""Shared by the test tree: this folder is on sys.path, so tests in sub-folders import the
independent oracles (``oracle_*.py``) that live here."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "slow: long-running check, skipped unless HB_SLOW=1 (a fast version exists)")
