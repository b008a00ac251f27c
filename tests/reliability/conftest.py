"""Every test in this folder is marked `reliability`; OPENMODELS_FULL=1 runs full sizes."""

import os

import pytest

FULL = os.environ.get("OPENMODELS_FULL") == "1"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/reliability" in str(item.fspath):
            item.add_marker(pytest.mark.reliability)


def scale(default: int, full: int) -> int:
    """The count a scenario uses: small in the default CI run, large with OPENMODELS_FULL=1."""
    return full if FULL else default
