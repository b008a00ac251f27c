"""Renderers for the chart pool's tests, each failing as a real renderer can, and the
waits the tests use beside them.

A chart pool's worker is a spawned process: it imports its renderer by name, so these
are plain module-level functions (or `functools.partial`s of them), never patches of
the pool's internals.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from commands.answer import ChartSpec
from tests.slack_helpers import tiny_png


def tiny(spec: ChartSpec) -> bytes:
    """Draws at once: a valid 1x1 PNG."""
    return tiny_png(spec)


def crash(spec: ChartSpec) -> bytes:
    """Dies as a worker killed by the kernel would: no exception, no cleanup."""
    os._exit(3)


def hang(spec: ChartSpec) -> bytes:
    """Never finishes: only the pool's timeout ends it."""
    while True:
        time.sleep(60)


def fail(spec: ChartSpec) -> bytes:
    """Raises, as matplotlib does on a chart it cannot draw."""
    raise ValueError("no fonts today")


def gated(gate: str, spec: ChartSpec) -> bytes:
    """Draws once the file `gate` exists: the test decides when the worker is free.

    It says it has started by creating `gate`.drawing.
    """
    Path(f"{gate}.drawing").touch()
    while not Path(gate).exists():
        time.sleep(0.01)
    return tiny_png(spec)


def crash_on(title: str, spec: ChartSpec) -> bytes:
    """Crashes on the chart titled `title`, draws every other."""
    if spec.title == title:
        os._exit(3)
    return tiny_png(spec)


# -- on the tests' side ------------------------------------------------------------------


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait for a state (of the pool, of a file); the bound only turns a bug into a failure."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "never got there"
        time.sleep(0.01)


def alive(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie left for its new parent to reap does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:  # no /proc here: it exists, so it runs
        return True
