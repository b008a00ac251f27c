"""Reads keep their thread's connection open between them, yet every read sees what was
committed before it began, from the file the store's path names now."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from datetime import timedelta

import pytest

from storage import open_store
from storage.queries import latest_snapshot
from storage.snapshots import write_snapshot
from tests.builders import DAY0, record, store_with


def latest_id(store):
    with store.reading() as db:
        latest = latest_snapshot(db)
    return latest.id if latest else None


def test_a_read_sees_every_snapshot_committed_before_it(tmp_path):
    store = store_with(tmp_path / "s.db", [[record("Qwen/A", "qwen", 1)]])
    first = latest_id(store)

    write_snapshot(store, DAY0 + timedelta(days=1), "hub", [record("Qwen/A", "qwen", 2)])

    assert latest_id(store) == first + 1


def test_a_snapshot_committed_by_another_process_is_seen(tmp_path):
    store = store_with(tmp_path / "s.db", [[record("Qwen/A", "qwen", 1)]])
    first = latest_id(store)

    writer = sqlite3.connect(store.path)  # another writer, as a collection's process is
    writer.execute(
        "INSERT INTO snapshots (taken_at, source, model_count) VALUES ('2027-01-01T06:00:00Z',"
        " 'hub', 0)"
    )
    writer.commit()
    writer.close()

    assert latest_id(store) == first + 1


def test_a_store_replaced_by_another_file_is_read_from_the_new_file(tmp_path):
    store = store_with(tmp_path / "s.db", [[record("Qwen/A", "qwen", 1)]])
    other = store_with(tmp_path / "other.db", [[record("Qwen/A", "qwen", d)] for d in range(3)])
    assert latest_id(store) == 1

    shutil.copyfile(other.path, tmp_path / "restored.db")
    (tmp_path / "restored.db").replace(store.path)  # as a restore from a backup would

    assert latest_id(store) == 3


def test_a_failed_read_leaves_the_next_one_working(tmp_path):
    store = store_with(tmp_path / "s.db", [[record("Qwen/A", "qwen", 1)]])
    with pytest.raises(sqlite3.OperationalError), store.reading() as db:
        db.execute("SELECT * FROM no_such_table")

    assert latest_id(store) == 1


def test_threads_reading_at_once_never_share_a_connection(tmp_path):
    store = open_store(tmp_path / "s.db")
    both_inside = threading.Barrier(2, timeout=10)
    seen = []

    def read():
        with store.reading() as db:
            seen.append(db.conn)
            both_inside.wait()

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(seen) == 2 and seen[0] is not seen[1]
