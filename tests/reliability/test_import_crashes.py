"""Promise: killing `openmodels import` at any moment leaves the store as it was, or with
the whole file imported; never a part of it.

An import writes every snapshot of a file in one transaction. A failpoint kills the
program (os._exit, as kill -9) after its first snapshot is written but before the
commit; random SIGKILLs hit a large import wherever it happens to be. After each kill
the store passes PRAGMA integrity_check and holds either none or all of the file.
OPENMODELS_FULL=1 kills 20 times at random; the default run, 4.
"""

from __future__ import annotations

import itertools
import random
import sqlite3
import time
from contextlib import closing
from datetime import date, timedelta

import pytest

from storage import open_store
from storage.snapshots import write_snapshot
from tests.builders import DAY0, dump, record
from tests.reliability.conftest import scale
from tests.reliability.helpers import openmodels, program_env, start_openmodels

KILLS = scale(4, 20)
DAYS, MODELS = 30, 800


@pytest.fixture
def history(tmp_path):
    path = tmp_path / "history.csv"
    start = date(2025, 1, 1)
    with path.open("w") as out:
        out.write("date,repo_id,downloads,downloads_all_time\n")
        for d in range(DAYS):
            day = (start + timedelta(days=d)).isoformat()
            for m in range(MODELS):
                out.write(f"{day},Qwen/m{m},{m},{m * 10 + d}\n")
    return path


@pytest.fixture
def new_db(store_location):
    """Make a new store with one live snapshot, which every outcome must keep."""
    names = itertools.count()

    def make() -> str:
        location = store_location(f"s{next(names)}")
        write_snapshot(open_store(location), DAY0, "hub", [record("Qwen/live", "qwen", 5)])
        return location

    return make


@pytest.fixture
def db(new_db):
    return new_db()


def imported_snapshots(location) -> int:
    store = open_store(location)
    if store.engine_name == "sqlite":
        with closing(sqlite3.connect(location)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with store.reading() as conn:
        return int(
            conn.execute("SELECT count(*) FROM snapshots WHERE source = 'import'").fetchone()[0]
        )


def test_a_crash_after_the_first_snapshot_writes_nothing(history, db):
    before = dump(open_store(db))
    env = program_env(OPENMODELS_FAILPOINT="after_snapshot")

    crashed = openmodels("import", str(history), "--db", str(db), env=env)

    assert crashed.returncode == 137, crashed.stderr
    assert "failpoint after_snapshot reached" in crashed.stderr
    assert imported_snapshots(db) == 0
    assert dump(open_store(db)) == before
    # The same import, uninterrupted, then writes the whole file.
    finished = openmodels("import", str(history), "--db", str(db), env=program_env())
    assert finished.returncode == 0, finished.stderr
    assert imported_snapshots(db) == DAYS


def test_kill_9_at_random_moments_imports_all_or_nothing(history, db, new_db):
    env = program_env()
    scratch = new_db()
    started = time.monotonic()
    timed = openmodels("import", str(history), "--db", str(scratch), env=env)
    assert timed.returncode == 0, timed.stderr
    duration = time.monotonic() - started

    rng = random.Random(20260201)
    outcomes = []
    for _ in range(KILLS):
        child = start_openmodels("import", str(history), "--db", str(db), env=env)
        time.sleep(rng.uniform(0.1, duration * 1.1))
        child.kill()  # SIGKILL: no cleanup, no atexit
        child.wait(timeout=30)
        count = imported_snapshots(db)
        assert count in (0, DAYS)
        outcomes.append(count)
        if count:
            db = new_db()  # imported whole: the next kill starts from a store as it was
    print(f"{KILLS} kills: {outcomes.count(0)} left no trace, {outcomes.count(DAYS)} had committed")
