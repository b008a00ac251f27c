"""Opening the store: path, WAL mode, busy timeout, migrations, transactions.

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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from openmodels.errors import StoreError
from storage.connection import Connection
from storage.schema import applied_migration_names, known_migration_names

BUSY_TIMEOUT_MS = 30_000
SAMPLE_READ_ONLY = "the bundled sample store is read-only; collect into your own store"


@dataclass(frozen=True)
class Store:
    """A SQLite store file. `sample` marks the read-only synthetic store we ship."""

    path: Path
    sample: bool = False

    def connect(self, *, writing: bool = True) -> Connection:
        """A new connection in autocommit mode; callers open transactions explicitly.

        A connection only for reading skips what only writes need (foreign key checks):
        every answer opens one, so its set-up counts.
        """
        try:
            if self.sample:
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
        return Connection(conn)

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """This thread's read connection inside one read transaction: every query sees the
        same data, committed before the transaction began."""
        db = _readers.take(self)
        healthy = True  # the caller's own failures (a usage error) leave it so
        try:
            db.execute("BEGIN")
            yield db
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
    def writing(self) -> Iterator[Connection]:
        """A connection inside one write transaction, committed only if the block succeeds."""
        if self.sample:
            raise StoreError(SAMPLE_READ_ONLY)
        db = self.connect()
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    @property
    def size_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal"):
            candidate = Path(f"{self.path}{suffix}")
            if candidate.exists():
                total += candidate.stat().st_size
        return total


class _Readers(threading.local):
    """Each thread's idle read connection: one, for the store it read last."""

    def __init__(self) -> None:
        self.db: Connection | None = None
        self.store: Store | None = None
        self.identity: tuple[int, int] | None = None

    def take(self, store: Store) -> Connection:
        """The thread's kept connection to `store`'s file, else a new one."""
        db, self.db = self.db, None
        identity = _identity(store.path)
        if db is not None and (self.store != store or self.identity != identity):
            db.close()
            db = None
        if db is None:
            db = store.connect(writing=False)
        self.store, self.identity = store, identity
        return db

    def keep(self, db: Connection) -> None:
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


def open_store(path: str | Path, *, sample: bool = False) -> Store:
    """Open (creating if needed) the store at `path` and bring its schema up to date.

    Refuses, with a StoreError, a file that is not SQLite, a store written by a newer
    openmodels, and a location that cannot be written.
    """
    store = Store(Path(path), sample=sample)
    if sample:
        _check_schema(store)
        return store
    if store.path.exists() and store.path.is_dir():
        raise StoreError(f"store path {store.path} is a directory, not a file")
    if not store.path.parent.exists():
        raise StoreError(
            f"cannot create store {store.path}: folder {store.path.parent} does not exist"
        )
    try:
        db = store.connect()
        try:
            _refuse_newer_schema(db, store.path)
            mode = _switch_to_wal(db)
            if str(mode).lower() != "wal":
                raise StoreError(f"cannot switch store {store.path} to WAL mode (got {mode})")
            if _pending(db):
                _migrate(db, store.path)
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(_describe(exc, store.path)) from None
    return store


def _pending(db: Connection) -> bool:
    """Whether this version knows migrations the store has not had."""
    return bool(known_migration_names() - applied_migration_names(db))


def _switch_to_wal(db: Connection) -> str:
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


def _migrate(db: Connection, path: Path) -> None:
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


def _check_schema(store: Store) -> None:
    try:
        db = store.connect()
        try:
            _refuse_newer_schema(db, store.path)
            if _pending(db):
                raise StoreError(f"store {store.path} is from an older openmodels and is read-only")
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(_describe(exc, store.path)) from None


def _refuse_newer_schema(db: Connection, path: Path) -> None:
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
