"""Promise: killing `openmodels collect` at any moment never damages the store.

A slow fake Hub makes each collection last long enough to be killed mid-listing or
mid-commit (or while its derivative counts are looked up and written); after every
`kill -9` the store passes PRAGMA integrity_check, its newest snapshot is complete or
absent, and every family total (derivatives included) equals the sum of its models.
OPENMODELS_FULL=1 kills 50 times; the default run, 12.
"""

from __future__ import annotations

import random
import sqlite3
import time

import pytest

from storage import open_store
from storage.port import row_count
from tests.fakes import FakeHub, hub_model
from tests.reliability.conftest import scale
from tests.reliability.helpers import openmodels, program_env, start_openmodels

KILLS = scale(12, 50)
FAMILIES = """
[families.qwen]
orgs = ["Qwen"]

[families.llama]
orgs = ["meta-llama"]
"""


@pytest.fixture
def slow_hub():
    hub = FakeHub(page_size=100)
    for org, prefix, n in (("Qwen", "Qwen/Qwen-", 1500), ("meta-llama", "meta-llama/Llama-", 1500)):
        hub.add(org, *(hub_model(f"{prefix}{i}", downloads=i, all_time=10 * i) for i in range(n)))
        hub.inject(org, stall=0.01)  # every page answers after 10 ms
    with hub:
        yield hub


def check_store(location) -> int:
    """Assert the store's invariants; return its count of live snapshots (the first
    collection writes its day-one estimate beside its snapshot, in the same commit)."""
    store = open_store(location)
    if store.engine_name == "sqlite":
        with sqlite3.connect(location) as file:
            assert file.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with store.reading() as conn:
        incomplete = conn.execute(
            """SELECT s.id FROM snapshots s
               WHERE s.model_count != (
                   SELECT count(*) FROM model_counts c WHERE c.snapshot_id = s.id)"""
        ).fetchall()
        assert incomplete == []
        wrong_totals = conn.execute(
            """SELECT t.snapshot_id, t.family FROM family_totals t
               WHERE t.downloads_all_time != (
                   SELECT coalesce(sum(c.downloads_all_time), 0) FROM model_counts c
                   JOIN models m ON m.id = c.model_id
                   WHERE c.snapshot_id = t.snapshot_id AND m.family = t.family)
               OR t.model_count != (
                   SELECT count(*) FROM model_counts c JOIN models m ON m.id = c.model_id
                   WHERE c.snapshot_id = t.snapshot_id AND m.family = t.family)
               OR t.derivatives IS DISTINCT FROM (
                   SELECT sum(c.derivatives) FROM model_counts c JOIN models m ON m.id = c.model_id
                   WHERE c.snapshot_id = t.snapshot_id AND m.family = t.family)"""
        ).fetchall()
        assert wrong_totals == []
        live = conn.execute("SELECT count(*) FROM snapshots WHERE source = 'hub'").fetchone()
        return int(live[0])


def test_kill_9_at_random_moments_never_damages_the_store(slow_hub, tmp_path, store_location):
    db = store_location("s")
    families = tmp_path / "families.toml"
    families.write_text(FAMILIES)
    env = program_env(HF_ENDPOINT=slow_hub.url, OPENMODELS_FAMILIES=str(families))

    started = time.monotonic()
    first = openmodels("collect", "--db", str(db), env=env)
    assert first.returncode == 0, first.stderr
    duration = time.monotonic() - started
    snapshots = check_store(db)
    assert snapshots == 1
    with open_store(db).reading() as conn:  # the day-one estimate, committed with it
        assert row_count(conn, "estimates") == 1

    rng = random.Random(20260115)
    committed = 0
    for _ in range(KILLS):
        child = start_openmodels("collect", "--db", str(db), env=env)
        time.sleep(rng.uniform(0.05, duration * 1.1))
        child.kill()  # SIGKILL: no cleanup, no atexit
        child.wait(timeout=30)
        after = check_store(db)
        assert after in (snapshots, snapshots + 1)
        committed += after - snapshots
        snapshots = after
    # A last, uninterrupted run still works on the store the kills left behind.
    assert openmodels("collect", "--db", str(db), env=env).returncode == 0
    assert check_store(db) == snapshots + 1
    print(
        f"{KILLS} kills over {duration:.2f}s runs: {committed} had committed, "
        f"{KILLS - committed} left no trace"
    )
