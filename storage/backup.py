"""A consistent copy of the store while it is in use, through SQLite's online backup."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from openmodels.errors import StoreError
from storage.store import Store


def backup(store: Store, destination: Path) -> int:
    """Copy `store` to `destination` (which must not exist); return the copy's size.

    SQLite's backup API copies pages under a read lock, so the copy is one consistent
    state even while a collection writes. It is written beside the destination and
    renamed into place, so a crash never leaves a half-written file at that path.
    """
    destination = Path(destination)
    if destination.exists():
        raise StoreError(f"backup target {destination} already exists; choose a new path")
    if not destination.parent.is_dir():
        raise StoreError(f"backup folder {destination.parent} does not exist")
    partial = destination.with_name(destination.name + ".partial")
    source = store.connect()
    try:
        target = sqlite3.connect(partial)
        try:
            source.conn.backup(target)
            target.execute("PRAGMA journal_mode = DELETE")
            check = target.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise StoreError(f"backup of {store.path} failed its integrity check: {check}")
        finally:
            target.close()
        os.replace(partial, destination)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot back up {store.path} to {destination}: {exc}") from None
    finally:
        source.close()
        if partial.exists():
            partial.unlink()
    return destination.stat().st_size
