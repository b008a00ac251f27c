"""Promise: killing `openmodels import` at any moment leaves the store as it was, or with
the whole file imported; never a part of it.

An import writes every snapshot of a file in one transaction. A failpoint kills the
program (os._exit, as kill -9) after its first snapshot is written but before the
commit; random SIGKILLs hit a large import wherever it happens to be. After each kill
the store passes PRAGMA integrity_check and holds either none or all of the file.
OPENMODELS_FULL=1 kills 20 times at random; the default run, 4.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import time
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

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
def db(tmp_path):
    """A store with one live snapshot, which every outcome must keep."""
    path = tmp_path / "s.db"
    write_snapshot(open_store(path), DAY0, "hub", [record("Qwen/live", "qwen", 5)])
    return path


def checkpoint(path) -> None:
    """Fold the WAL into the file, so copying the file copies the store."""
    # closing(): a sqlite3 connection used as a context manager ends its transaction but
    # stays open, and the file is replaced under it below.
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def imported_snapshots(path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
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


def test_kill_9_at_random_moments_imports_all_or_nothing(history, db, tmp_path):
    env = program_env()
    scratch = tmp_path / "scratch.db"
    write_snapshot(open_store(scratch), DAY0, "hub", [record("Qwen/live", "qwen", 5)])
    started = time.monotonic()
    timed = openmodels("import", str(history), "--db", str(scratch), env=env)
    assert timed.returncode == 0, timed.stderr
    duration = time.monotonic() - started

    pristine = tmp_path / "pristine.db"
    checkpoint(db)
    shutil.copy(db, pristine)
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
            # Imported whole: start the next kill from the store as it was.
            shutil.copy(pristine, db)
            for side in ("-wal", "-shm"):
                Path(f"{db}{side}").unlink(missing_ok=True)
    print(f"{KILLS} kills: {outcomes.count(0)} left no trace, {outcomes.count(DAYS)} had committed")
