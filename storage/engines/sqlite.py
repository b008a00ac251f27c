"""The SQLite engine: one store file in WAL mode, through sqlite-utils.

No connection is ever shared: the Slack handler threads, the scheduler and a
collection each use their own. Reads run inside one deferred transaction so an answer
sees a single consistent snapshot; writes start with BEGIN IMMEDIATE so they take the
write lock up front instead of failing half-way with SQLITE_BUSY in WAL mode.

A write opens a connection and closes it. A read uses its thread's own read
connection, kept open between reads: measured (benchmarks/bench_load.py, the `top`
figure), opening a connection, reading the schema and, when it was the last one open,
checkpointing and deleting the WAL file on close cost more than the answer itself, and
every answer on an idle bot paid it. Each read still begins its own transaction, so it
sees every snapshot committed before it, as on a fresh connection; nothing is cached
but SQLite's own pages and statements, which it checks against the WAL at every
transaction. A kept connection is dropped after an error, and when the store's file is
no longer the file it was opened on (the store replaced by a restored copy).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openmodels.errors import StoreError
from storage.connection import Connection as Database
from storage.schema import (
    MIGRATION_SET,
    MIGRATIONS_TABLE,
    applied_migration_names,
    known_migration_names,
)
from storage.sql import EngineName, Params

BUSY_TIMEOUT_MS = 30_000
LOCK_SUFFIX = "-lock"  # the file beside the store that `locked` takes


class SQLiteConnection:
    """A sqlite3 connection inside one transaction (`db`: the plain connection the store
    opened, storage.connection; sqlite-utils is loaded only to migrate)."""

    engine: EngineName = "sqlite"

    def __init__(self, db: Database) -> None:
        self.db = db
        self.conn = db.conn

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> sqlite3.Cursor:
        return self.conn.executemany(sql, rows)


@dataclass(frozen=True)
class SQLiteEngine:
    """A SQLite store file. `read_only` opens it immutable (the bundled sample)."""

    path: Path
    read_only: bool = False

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def display(self) -> str:
        return str(self.path)

    def connect(self, *, writing: bool = True) -> Database:
        """A new connection in autocommit mode; callers open transactions explicitly.

        A connection only for reading skips what only writes need (foreign key checks):
        every answer opens one, so its set-up counts.
        """
        try:
            if self.read_only:
                uri = f"file:{self.path}?mode=ro&immutable=1"
                conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            else:
                # `timeout` is SQLite's busy timeout: wait up to 30 s for another writer.
                conn = sqlite3.connect(
                    str(self.path),
                    timeout=BUSY_TIMEOUT_MS / 1000,
                    isolation_level=None,
                    check_same_thread=False,
                )
            if writing:
                conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from None
        return Database(conn)

    @contextmanager
    def reading(self) -> Iterator[SQLiteConnection]:
        """This thread's read connection inside one read transaction: every query sees the
        same data, committed before the transaction began."""
        db = _readers.take(self)
        healthy = True  # the caller's own failures (a usage error) leave it so
        try:
            db.execute("BEGIN")
            yield SQLiteConnection(db)
        except sqlite3.Error:
            healthy = False
            raise
        finally:
            try:
                if db.conn.in_transaction:
                    db.execute("ROLLBACK")
            except sqlite3.Error:
                healthy = False
            if healthy:
                _readers.keep(db)
            else:
                db.close()

    @contextmanager
    def writing(self) -> Iterator[SQLiteConnection]:
        """A connection inside one write transaction, committed only if the block succeeds.

        BEGIN IMMEDIATE takes the store's one write lock: writers follow one another."""
        db = self.connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield SQLiteConnection(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    # Claims lock their own rows on PostgreSQL; SQLite has one write lock for everything.
    claiming = writing

    @contextmanager
    def locked(self, name: str) -> Iterator[None]:
        """Hold the store's lock called `name`, which every process and thread using the
        file sees: an exclusive flock on a file beside the store (`<store>-lock`; each
        holder opens it afresh, so threads wait for one another too, and a process that
        dies lets it go). One lock serves every name: a store on SQLite serves one machine
        and few workspaces, and what it guards (a token's refresh) is rare and short."""
        import fcntl

        del name  # one lock for all names
        with open(f"{self.path}{LOCK_SUFFIX}", "ab") as held:
            fcntl.flock(held, fcntl.LOCK_EX)  # closing the file lets the lock go
            yield

    def size_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal"):
            candidate = Path(f"{self.path}{suffix}")
            if candidate.exists():
                total += candidate.stat().st_size
        return total

    def close(self) -> None:
        """Nothing to release: each write closes its connection, each thread its reader."""

    def open(self) -> None:
        """Create the file if needed and bring its schema up to date (or, read-only,
        check that it is up to date)."""
        if self.read_only:
            self._check_schema()
            return
        if self.path.exists() and self.path.is_dir():
            raise StoreError(f"store path {self.path} is a directory, not a file")
        if not self.path.parent.exists():
            raise StoreError(
                f"cannot create store {self.path}: folder {self.path.parent} does not exist"
            )
        try:
            db = self.connect()
            try:
                _refuse_newer_schema(db, self.path)
                mode = _switch_to_wal(db)
                if str(mode).lower() != "wal":
                    raise StoreError(f"cannot switch store {self.path} to WAL mode (got {mode})")
                if _pending(db):
                    _migrate(db, self.path)
            finally:
                db.close()
        except sqlite3.DatabaseError as exc:
            raise StoreError(_describe(exc, self.path)) from None

    def _check_schema(self) -> None:
        try:
            db = self.connect()
            try:
                _refuse_newer_schema(db, self.path)
                if _pending(db):
                    raise StoreError(
                        f"store {self.path} is from an older openmodels and is read-only"
                    )
            finally:
                db.close()
        except sqlite3.DatabaseError as exc:
            raise StoreError(_describe(exc, self.path)) from None


class _Readers(threading.local):
    """Each thread's idle read connection: one, for the store it read last."""

    def __init__(self) -> None:
        self.db: Database | None = None
        self.engine: SQLiteEngine | None = None
        self.identity: tuple[int, int] | None = None

    def take(self, engine: SQLiteEngine) -> Database:
        """The thread's kept connection to `engine`'s file, else a new one."""
        db, self.db = self.db, None
        identity = _identity(engine.path)
        if db is not None and (self.engine != engine or self.identity != identity):
            db.close()
            db = None
        if db is None:
            db = engine.connect(writing=False)
        self.engine, self.identity = engine, identity
        return db

    def keep(self, db: Database) -> None:
        """Keep `db`, just used for the store last taken, for the thread's next read."""
        if self.db is not None:  # a read nested in another took a connection of its own
            self.db.close()
        self.db = db


def _identity(path: Path) -> tuple[int, int] | None:
    """Which file `path` names now (None: none yet), to notice a replaced store."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


_readers = _Readers()


def _switch_to_wal(db: Database) -> str:
    """Switch a store to WAL mode (a no-op once it is), waiting for other processes.

    While another connection writes to a file not yet in WAL mode (a second process
    creating the same new store), SQLite answers the switch with "database is locked"
    at once: it skips the busy handler because this statement already holds a read
    lock. The switch changes nothing when repeated, so wait and try again.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.01
    while True:
        try:
            return str(db.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


def _migrate(db: Database, path: Path) -> None:
    """Apply the pending migrations under the write lock, checking again once it is held.

    Two processes opening a new store at once both see migrations pending; the second
    waits here for the first to commit, then finds nothing left to do.
    """
    # sqlite-utils applies them: imported only now (storage.connection says why).
    from sqlite_utils import Database as SqliteUtils

    from storage.schema import all_migrations

    db.execute("BEGIN IMMEDIATE")
    try:
        _refuse_newer_schema(db, path)
        if _pending(db):
            # Each migration nests as a savepoint in this transaction.
            all_migrations().apply(
                SqliteUtils(db.conn, execute_plugins=False, recursive_triggers=False)
            )
    except BaseException:
        if db.conn.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _pending(db: Database) -> bool:
    """Whether this version knows migrations the store has not had."""
    return bool(known_migration_names() - applied_migration_names(db))


def applied_migrations(db: Database) -> list[tuple[str, str]]:
    """(name, applied_at) of every migration recorded in the store, in the order applied."""
    if not applied_migration_names(db):
        return []
    rows = db.execute(
        f"SELECT name, applied_at FROM {MIGRATIONS_TABLE} WHERE migration_set = ? ORDER BY rowid",
        [MIGRATION_SET],
    )
    return [(str(name), str(applied_at)) for name, applied_at in rows]


def _refuse_newer_schema(db: Database, path: Path) -> None:
    unknown = applied_migration_names(db) - known_migration_names()
    if unknown:
        raise StoreError(
            f"store {path} was written by a newer openmodels (schema {max(unknown)}); "
            "upgrade openmodels or point --db at another store"
        )


def _describe(exc: sqlite3.DatabaseError, path: Path) -> str:
    message = str(exc)
    if "not a database" in message or "malformed" in message:
        return f"store {path} is not a readable openmodels SQLite store ({message})"
    if "readonly" in message or "unable to open" in message:
        return f"cannot write store {path} ({message}); check the file's permissions"
    return f"store {path}: {message}"
