"""Fixtures shared by the suite: a real store on disk, a fake Hub, instant Hub retries,
the Slack stand-in."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from localslack.server import LocalSlack
from storage import Store, open_store
from tests.fakes import FakeHub

# huggingface_hub keeps files under HF_HOME (its agent harness registry, fetched from the
# Hub a fake answers): in a folder of the test run's, never in the user's home. Set at
# import, before huggingface_hub reads it, and inherited by every program a test starts.
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="openmodels-tests-hf-")


@pytest.fixture(autouse=True)
def no_real_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every test, and every program a test starts, away from the real Hub.

    Port 9 on loopback refuses connections at once: a test that forgot its fake Hub
    fails fast instead of reaching the network. Tests that need a Hub set HF_ENDPOINT
    to their fake.
    """
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.delenv("HF_TOKEN", raising=False)


@pytest.fixture
def tmp_store(tmp_path: Path) -> Store:
    """A fresh store, migrated, in a real SQLite file."""
    return open_store(tmp_path / "t.db")


def record_sleeps(monkeypatch: pytest.MonkeyPatch, module: object) -> list[float]:
    """Make `module`'s time.sleep instant; return the delays it asked for.

    Only the name `time` inside `module` is replaced (by a copy of the time module whose
    `sleep` records instead of sleeping), so nothing else in the process is affected.
    """
    slept: list[float] = []
    fake_time = SimpleNamespace(**{n: getattr(time, n) for n in dir(time) if not n.startswith("_")})
    fake_time.sleep = slept.append
    monkeypatch.setattr(module, "time", fake_time)
    return slept


@pytest.fixture
def instant_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Make huggingface_hub's retry back-off instant; returns the delays it asked for.

    The fake Hub's own stalls are unaffected.
    """
    from huggingface_hub.utils import _http

    return record_sleeps(monkeypatch, _http)


@pytest.fixture
def fake_hub(instant_sleep: list[float]) -> Iterator[FakeHub]:
    """A running fake Hub (page size 3). Retries against it never really sleep."""
    with FakeHub(page_size=3) as hub:
        yield hub


@pytest.fixture
def slack() -> Iterator[LocalSlack]:
    """The Slack stand-in, serving on 127.0.0.1."""
    with LocalSlack() as server:
        yield server
