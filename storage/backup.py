"""A consistent copy of the store while it is in use, through SQLite's online backup.

A store on PostgreSQL is backed up with PostgreSQL's own tool, `pg_dump`, which takes
one consistent snapshot of the database while replicas write to it; `backup` says so.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from pathlib import Path

from openmodels.errors import StoreError
from storage.engines.sqlite import SQLiteEngine
from storage.store import Store


def pg_dump_advice(store: Store, destination: Path) -> str:
    """One line: how to back up a store on PostgreSQL with pg_dump."""
    return (
        f"the store is on PostgreSQL: back it up with pg_dump, e.g. "
        f"pg_dump --format=custom --file={shlex.quote(str(destination))} "
        f"{shlex.quote(store.display)} (it reads the password from PGPASSWORD or ~/.pgpass)"
    )


def backup(store: Store, destination: Path) -> int:
    """Copy `store` to `destination` (which must not exist); return the copy's size.

    SQLite's backup API copies pages under a read lock, so the copy is one consistent
    state even while a collection writes. It is written beside the destination and
    renamed into place, so a crash never leaves a half-written file at that path.
    """
    destination = Path(destination)
    if not isinstance(store.engine, SQLiteEngine):
        raise StoreError(pg_dump_advice(store, destination))
    if destination.exists():
        raise StoreError(f"backup target {destination} already exists; choose a new path")
    if not destination.parent.is_dir():
        raise StoreError(f"backup folder {destination.parent} does not exist")
    partial = destination.with_name(destination.name + ".partial")
    source = store.engine.connect()
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
