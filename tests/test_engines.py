"""The two engines keep the same promises: one SQL, the same migrations, readers that see
one committed state, writers that follow one another, claims that never collide; and
PostgreSQL's driver loads only for a store on PostgreSQL."""

from __future__ import annotations

import ast
import subprocess
import sys
import threading
from datetime import timedelta

import pytest

from storage import open_store
from storage import outbox as ob
from storage.queries import latest_snapshot
from storage.schema import known_migration_names
from storage.schema_postgresql import migration_names
from storage.snapshots import write_snapshot
from storage.sql import to_pyformat
from tests.builders import DAY0, record
from tests.reliability.helpers import REPO, program_env


@pytest.mark.parametrize(
    ("sqlite", "postgresql"),
    [
        ("SELECT 1 FROM t WHERE a = ? AND b = ?", "SELECT 1 FROM t WHERE a = %s AND b = %s"),
        ("UPDATE t SET a = :a WHERE id = :id", "UPDATE t SET a = %(a)s WHERE id = %(id)s"),
        (
            "SELECT '?', ':x', 'it''s ?' FROM t WHERE a = ?",
            "SELECT '?', ':x', 'it''s ?' FROM t WHERE a = %s",
        ),
        (
            "SELECT x::text FROM t WHERE a LIKE '%' || ?",
            "SELECT x::text FROM t WHERE a LIKE '%%' || %s",
        ),
        ('SELECT 100 % 7, "odd?" FROM t', 'SELECT 100 %% 7, "odd?" FROM t'),
        ("WHERE a LIKE ? ESCAPE '\\'", "WHERE a LIKE %s ESCAPE '\\'"),
        (
            "SELECT a -- 100% the model's id?\nFROM t WHERE b = ?",
            "SELECT a -- 100%% the model's id?\nFROM t WHERE b = %s",
        ),
    ],
)
def test_parameters_are_written_once_and_run_on_postgresql(sqlite, postgresql):
    assert to_pyformat(sqlite) == postgresql


def test_a_percent_sign_in_quoted_text_and_comments_runs_with_parameters(tmp_store):
    with tmp_store.reading() as db:
        row = db.execute("SELECT 'a%b' LIKE 'a%', ? -- 100%\n", [7]).fetchone()

    assert bool(row[0]) is True and row[1] == 7


def test_every_migration_has_its_postgresql_statements():
    assert set(migration_names()) == known_migration_names()


def test_a_read_sees_one_committed_state_while_others_write(tmp_store):
    write_snapshot(tmp_store, DAY0, "hub", [record("Qwen/A", "qwen", 1)])

    with tmp_store.reading() as db:
        before = latest_snapshot(db)
        # Another thread commits a snapshot in the middle of this read.
        writer = threading.Thread(
            target=write_snapshot,
            args=(tmp_store, DAY0 + timedelta(days=1), "hub", [record("Qwen/A", "qwen", 2)]),
        )
        writer.start()
        writer.join()
        assert latest_snapshot(db) == before

    with tmp_store.reading() as db:
        latest = latest_snapshot(db)
    assert latest is not None and before is not None and latest.id == before.id + 1


def test_writers_follow_one_another(tmp_store):
    first_inside = threading.Event()
    order: list[str] = []

    def second() -> None:
        first_inside.wait()
        with tmp_store.writing() as db:
            order.append("second")
            db.execute("SELECT 1")

    thread = threading.Thread(target=second)
    thread.start()
    with tmp_store.writing() as db:
        first_inside.set()
        # The second writer is waiting for this one: give it every chance to cut in.
        thread.join(timeout=0.5)
        order.append("first")
        db.execute("SELECT 1")
    thread.join()

    assert order == ["first", "second"]


def queued(store, n: int = 1) -> list[int]:
    with store.writing() as db:
        for i in range(n):
            ob.enqueue(db, "T1", "C1", "alert", f"e{i}", {"text": "hi"}, "2026-01-01T00:00:00Z")
        return [item.id for item in ob.all_items(db)]


def test_a_claim_on_postgresql_skips_a_row_another_claim_holds(postgresql_store):
    # (On SQLite a claim holds the write lock: a second one waits for it.)
    store = postgresql_store
    [item] = queued(store)

    with store.claiming() as db:
        mine = ob.claim(db, item, "me", "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")
        with store.claiming() as other:  # another deliverer, while this claim is open
            theirs = ob.claim(other, item, "you", "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")

    assert mine is not None and theirs is None
    with store.reading() as db:
        assert ob.get(db, item).claimed_by == "me"  # type: ignore[union-attr]


def test_a_claim_on_postgresql_does_not_wait_for_a_long_write(postgresql_store):
    # (On SQLite every write, claims included, waits for the write lock.)
    store = postgresql_store
    [item] = queued(store)

    # A collection writing its snapshot holds the write lock, say.
    with store.writing(), store.claiming() as db:
        claimed = ob.claim(db, item, "me", "2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")

    assert claimed is not None


LEAN_START = """
import sys
from storage import open_store
from storage.queries import latest_snapshot
store = open_store(sys.argv[1])
with store.reading() as db:
    latest_snapshot(db)
print(sorted(m for m in sys.modules if m.split(".")[0] in ("psycopg", "psycopg_pool")))
"""


def test_the_postgresql_driver_loads_only_for_a_store_on_postgresql(store_location, engine):
    done = subprocess.run(
        [sys.executable, "-c", LEAN_START, store_location("lean")],
        env=program_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    loaded = ast.literal_eval(done.stdout)
    assert ("psycopg" in loaded) == (engine == "postgresql")


def test_the_returns_of_each_snapshot_are_counted_with_a_plan_for_its_own_ids(postgresql_url):
    # psycopg prepares a statement run five times, and PostgreSQL may then plan it once
    # for any values: for the count of returned models such a plan unpacked a
    # snapshot's ids once per model (30 s a snapshot of 20,000). Each count is planned
    # for its own snapshots, even on a server set to prefer one plan for all.
    from tests.conftest import let_go, postgresql_schema

    location = postgresql_schema(postgresql_url).replace(
        "options=", "options=-cplan_cache_mode%3Dforce_generic_plan%20"
    )
    store = open_store(location)
    try:
        # 16 snapshots: the pool hands its connections out in turn, each must see 6.
        for d in range(16):
            write_snapshot(store, DAY0 + timedelta(days=d), "hub", [record("Qwen/a", "qwen", d)])
        with store.reading() as db:
            plans = db.execute(
                """SELECT generic_plans, custom_plans FROM pg_prepared_statements
                   WHERE statement LIKE '%INSERT INTO returned_models%'"""
            ).fetchall()
    finally:
        let_go(location)

    assert plans, "the count was run often enough to be prepared"
    assert all(generic == 0 and custom >= 1 for generic, custom in plans)
