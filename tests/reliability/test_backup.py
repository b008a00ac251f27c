"""Promise: `openmodels backup` writes a consistent copy while collections commit."""

from __future__ import annotations

import sqlite3
import threading
from datetime import timedelta

from openmodels.cli import main
from storage import open_store
from storage.snapshots import write_snapshot
from tests.builders import DAY0, record
from tests.reliability.test_collection_crashes import check_store


def snapshot_rows(path) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT id, taken_at, model_count FROM snapshots ORDER BY id"
        ).fetchall()


def test_a_backup_taken_during_writes_restores_to_a_consistent_store(tmp_path, capsys):
    source = tmp_path / "live.db"
    store = open_store(source)
    stop = threading.Event()

    def keep_collecting() -> None:
        day = 0
        while not stop.is_set() and day < 400:
            records = [record(f"Qwen/m{i}", "qwen", 1_000 * day + i) for i in range(2_000)]
            write_snapshot(store, DAY0 + timedelta(days=day), "hub", records)
            day += 1

    writer = threading.Thread(target=keep_collecting)
    writer.start()
    copies = []
    try:
        for n in range(5):
            copy = tmp_path / f"backup-{n}.db"
            assert main(["backup", "--db", str(source), str(copy)]) == 0
            copies.append(copy)
    finally:
        stop.set()
        writer.join()
    capsys.readouterr()

    final = snapshot_rows(source)
    for copy in copies:
        restored = open_store(copy)  # opens as a normal store: migrations known, WAL back on
        check_store(restored.path)
        rows = snapshot_rows(copy)
        assert rows == final[: len(rows)]  # a prefix of the live history: one moment in time
