"""Fixtures shared by the suite: a real store on either engine, a fake Hub, instant Hub
retries, the Slack stand-in.

Tests that take `tmp_store` or `new_store` run twice: on a SQLite file, and on
PostgreSQL, in a schema of its own in one throwaway cluster started for the session
(tests/pg_cluster.py). Without PostgreSQL's server binaries the PostgreSQL cases are
skipped, with one line saying so, unless OPENMODELS_TEST_POSTGRESQL=require (CI), where
a cluster that cannot start fails them.
"""

from __future__ import annotations

import itertools
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from localslack.server import LocalSlack
from storage import Store, open_store
from storage.store import store_at
from tests.fakes import FakeHub
from tests.pg_cluster import Cluster, ClusterError, find_bindir

REQUIRE_POSTGRESQL = os.environ.get("OPENMODELS_TEST_POSTGRESQL") == "require"
ENGINES = ("sqlite", "postgresql")


POSTGRESQL_FIXTURES = {"postgresql_url", "postgresql_store"}
NO_SERVER = "no PostgreSQL server binaries (initdb, pg_ctl) on this machine"
_LEFT_OUT = pytest.StashKey[int]()  # how many PostgreSQL cases were left out


def pytest_report_header() -> str:
    bindir = find_bindir()
    if bindir is None:
        return f"postgresql: {NO_SERVER}: its cases are skipped"
    return f"postgresql: {bindir} (one throwaway cluster for the session)"


def needs_postgresql(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    engine = callspec.params.get("engine") if callspec is not None else None
    return engine == "postgresql" or bool(POSTGRESQL_FIXTURES & set(item.fixturenames))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without PostgreSQL's binaries (and unless it is required), leave its cases out:
    one line at the end says so, instead of a skip line per test."""
    if find_bindir() is not None or REQUIRE_POSTGRESQL:
        return
    left_out = [item for item in items if needs_postgresql(item)]
    if left_out:
        items[:] = [item for item in items if not needs_postgresql(item)]
        config.hook.pytest_deselected(items=left_out)
        config.stash[_LEFT_OUT] = len(left_out)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if left_out := config.stash.get(_LEFT_OUT, 0):
        terminalreporter.write_line(f"{NO_SERVER}: its {left_out} cases were skipped")


@pytest.fixture(scope="session")
def postgresql_url() -> Iterator[str]:
    """A database in a cluster started for this session; its URL."""
    bindir = find_bindir()
    if bindir is None:
        if REQUIRE_POSTGRESQL:
            pytest.fail(NO_SERVER + ", and OPENMODELS_TEST_POSTGRESQL=require")
        pytest.skip(NO_SERVER)
    try:
        cluster = Cluster.start(bindir)
    except ClusterError as exc:
        if REQUIRE_POSTGRESQL:
            pytest.fail(f"PostgreSQL could not start: {exc}")
        pytest.skip(f"PostgreSQL could not start ({str(exc).splitlines()[0]}): skipped")
    try:
        import psycopg

        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE openmodels_test")
        yield cluster.url("openmodels_test")
    finally:
        cluster.stop()


_schemas = itertools.count(1)


def postgresql_schema(base_url: str) -> str:
    """A new, empty schema in the session's database; the URL of a store in it."""
    import psycopg

    name = f"t{next(_schemas)}"
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    return f"{base_url}?options=-csearch_path%3D{name}"


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The engine a store test runs on: each such test runs on both."""
    return str(request.param)


@pytest.fixture
def store_location(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[str], str]]:
    """Locations for fresh, empty stores on the test's engine: a file in the test's
    folder, or a new schema in the session's PostgreSQL database. After the test, this
    process lets go of each (PostgreSQL: closes its connection pool)."""
    if engine == "sqlite":
        yield lambda name="store": str(tmp_path / f"{name}.db")
        return
    base = request.getfixturevalue("postgresql_url")
    made: list[str] = []

    def make(name: str = "store") -> str:
        made.append(postgresql_schema(base))
        return made[-1]

    yield make
    for location in made:
        let_go(location)


def let_go(location: str) -> None:
    """Close this process's connections to the store at `location`: its pool, and
    slack_sdk's stores' engine if they were opened."""
    store_at(location).close()
    if "bot.slack_stores" in sys.modules:
        sys.modules["bot.slack_stores"].close_engine(location)


@pytest.fixture
def new_store(store_location: Callable[[str], str]) -> Iterator[Callable[..., Store]]:
    """Make fresh, migrated stores on the test's engine; each is closed after the test."""
    made: list[Store] = []

    def make(name: str = "store") -> Store:
        store = open_store(store_location(name))
        made.append(store)
        return store

    yield make
    for store in made:
        store.close()


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
def postgresql_store(postgresql_url: str) -> Iterator[Store]:
    """A fresh store on PostgreSQL, for what only PostgreSQL does."""
    store = open_store(postgresql_schema(postgresql_url))
    yield store
    let_go(store.location)  # every Store of this location shares this process's pool


@pytest.fixture
def tmp_store(new_store: Callable[..., Store]) -> Store:
    """A fresh store, migrated, on the test's engine (each test runs on both)."""
    return new_store("t")


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
