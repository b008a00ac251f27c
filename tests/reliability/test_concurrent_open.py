"""Promise: any number of processes may open a new store at the same moment; each one
gets a migrated store, none fails with "table already exists" or "database is locked"
(on PostgreSQL: with a duplicate key or a half-made schema).

`serve` and a cron `openmodels collect` starting together on a fresh install is the
real case. Each round starts several processes that import everything first, wait at
a common start line (a file appearing), then all call `open_store` on the same new path.
"""

from __future__ import annotations

import subprocess
import sys
import time

from storage import open_store
from storage.port import applied_migrations
from storage.schema import known_migration_names
from tests.reliability.conftest import scale
from tests.reliability.helpers import REPO, program_env

OPENER = """
import sys, time
from pathlib import Path
from storage import open_store
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
open_store(sys.argv[1])
"""


def test_processes_opening_a_new_store_at_once_all_succeed(tmp_path, store_location):
    rounds, processes = scale(8, 40), 4
    failures = []
    for n in range(rounds):
        db, go = store_location(f"new-{n}"), tmp_path / f"go-{n}"
        openers = [
            subprocess.Popen(
                [sys.executable, "-c", OPENER, str(db), str(go)],
                env=program_env(),
                cwd=REPO,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(processes)
        ]
        time.sleep(0.5)  # let every opener finish its imports and wait at the line
        go.touch()
        for opener in openers:
            _, stderr = opener.communicate(timeout=60)
            if opener.returncode != 0:
                failures.append(stderr.strip().splitlines()[-1])
        with open_store(db).reading() as conn:
            applied = [name for name, _ in applied_migrations(conn)]
        assert sorted(applied) == sorted(known_migration_names())  # each applied once

    assert failures == []
