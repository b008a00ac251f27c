"""The PostgreSQL engine: a store several `openmodels serve` replicas share.

psycopg 3, one connection pool per store and process (a spawned child, such as a
collection, makes its own). This module is imported only for a `postgresql://` store,
so psycopg never loads for a store on SQLite.

What each kind of transaction promises, as on SQLite:
- a read is one REPEATABLE READ, READ ONLY transaction: every query of an answer sees
  the same committed data, however many replicas write meanwhile;
- a write first takes the store's write lock, a transaction-scoped advisory lock:
  writers follow one another as BEGIN IMMEDIATE makes them on SQLite, so a write that
  reads before it decides (a job's lease, a subscription, the alert check) sees what
  every earlier writer committed, and nothing changes under it until it commits;
- a claim (`claiming`) takes no store-wide lock: it locks only the rows it takes, with
  `FOR UPDATE SKIP LOCKED`, so two replicas delivering at once share the outbox row by
  row, and neither waits behind a collection writing its snapshot.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from openmodels.errors import StoreError
from storage.locations import display_location
from storage.schema import known_migration_names
from storage.schema_postgresql import (
    BASELINE,
    BASELINE_NAMES,
    DELTAS,
    MIGRATIONS_TABLE,
    backfill,
)
from storage.sql import EngineName, Params, to_pyformat

# Connections one process keeps to one store at most: the Slack listeners, the answer
# thread, the scheduler, delivery and the lease's heartbeat, with room to spare. Two
# replicas stay far below PostgreSQL's default max_connections (100).
POOL_MAX = 10
POOL_TIMEOUT_SECONDS = 30.0
CONNECT_TIMEOUT_SECONDS = 10
# Advisory lock keys are per database; the second half names the schema, so stores in
# two schemas of one database (as the tests make) have a write lock each.
LOCK_SPACE = 0x6F6D  # "om"
_WRITE_LOCK = f"SELECT pg_advisory_xact_lock({LOCK_SPACE}, hashtext(current_schema()))"
_MIGRATION_LOCK = f"SELECT pg_advisory_xact_lock({LOCK_SPACE + 1}, hashtext(current_schema()))"
# A named lock (`locked`): its name hashed with the schema's. Two names that hash alike
# only wait for each other needlessly.
_NAMED_LOCK = (
    f"SELECT pg_advisory_xact_lock({LOCK_SPACE + 2}, hashtext(current_schema() || '/' || ?))"
)


class PostgresConnection:
    """A psycopg connection inside one transaction, taking SQLite's parameter style."""

    engine: EngineName = "postgresql"

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        # The connection's scratch tables (temporary, emptied at commit) this
        # transaction has filled: one filled again must be emptied first.
        self.filled: set[str] = set()

    def execute(self, sql: str, params: Params = ()) -> psycopg.Cursor[Any]:
        return self.conn.execute(to_pyformat(sql), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> psycopg.Cursor[Any]:
        cursor = self.conn.cursor()
        cursor.executemany(to_pyformat(sql), rows)
        return cursor

    def copy_rows(
        self,
        table: str,
        columns: Sequence[str],
        rows: Iterable[Sequence[Any]],
        types: Sequence[str] | None = None,
    ) -> None:
        """Write `rows` into `table` with COPY: the bulk path of a snapshot's rows. With
        the columns' `types`, in COPY's binary format, which the server reads in about
        two thirds of the time of text (measured on a 20,000-model snapshot)."""
        names = ", ".join(columns)
        statement = f"COPY {table} ({names}) FROM STDIN" + (" (FORMAT BINARY)" if types else "")
        with self.conn.cursor() as cursor, cursor.copy(statement) as copy:
            if types:
                copy.set_types(list(types))
            for row in rows:
                copy.write_row(row)


@dataclass(frozen=True)
class PostgresEngine:
    """A store in a PostgreSQL database, named by a libpq URL (`postgresql://…`)."""

    url: str
    read_only = False

    @property
    def location(self) -> str:
        return self.url

    @property
    def display(self) -> str:
        return display_location(self.url)

    def pool(self) -> ConnectionPool:
        return _pools.get(self.url)

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[PostgresConnection]:
        try:
            with self.pool().connection() as conn:
                conn.execute(begin)
                try:
                    yield PostgresConnection(conn)
                except BaseException:
                    with suppress(psycopg.Error):  # a lost connection: the pool drops it
                        conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                _last_used[conn] = time.monotonic()
        except PoolTimeout as exc:
            raise StoreError(f"cannot reach the store at {self.display}: {exc}") from None

    def reading(self) -> AbstractContextManager[PostgresConnection]:
        """A read-only transaction that sees one committed state throughout."""
        return self._transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def writing(self) -> AbstractContextManager[PostgresConnection]:
        """A write transaction holding the store's write lock until it ends."""
        # Without parameters psycopg sends the text as one simple query: one round trip.
        return self._transaction(f"BEGIN; {_WRITE_LOCK}")

    def claiming(self) -> AbstractContextManager[PostgresConnection]:
        """A write transaction without the store's write lock, for statements that lock
        the rows they change themselves (FOR UPDATE SKIP LOCKED)."""
        return self._transaction("BEGIN")

    @contextmanager
    def locked(self, name: str) -> Iterator[None]:
        """Hold the lock called `name` of this store, which every process sharing the
        database sees: a transaction-scoped advisory lock, on a connection of the pool
        held until the block ends (a process that dies lets it go with its connection)."""
        with self._transaction("BEGIN") as db:
            db.execute(_NAMED_LOCK, [name])
            yield

    def size_bytes(self) -> int:
        """The store's tables with their indexes and TOAST, in bytes."""
        with self.reading() as db:
            row = db.execute(
                """SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
                   WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace"""
            ).fetchone()
        return int(row[0]) if row else 0

    def close(self) -> None:
        """Close this process's pool to the store."""
        _pools.close(self.url)

    def open(self) -> None:
        """Connect, refuse a store of a newer openmodels, and apply what is pending.

        On a connection of its own, not the pool's: a server that cannot be reached or
        refuses the login is reported at once, in the server's words.
        """
        try:
            with psycopg.connect(
                self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
            ) as conn:
                conn.execute(f"BEGIN; {_MIGRATION_LOCK}")
                _migrate(PostgresConnection(conn), self.display)
                conn.execute("COMMIT")
        except psycopg.Error as exc:
            reason = _first_line(exc)
            raise StoreError(f"cannot open the store at {self.display}: {reason}") from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def applied_migrations(db: PostgresConnection) -> list[tuple[str, str]]:
    """(name, applied_at) of every migration recorded in the store, in order."""
    found = db.execute("SELECT to_regclass(?)", [MIGRATIONS_TABLE]).fetchone()
    if found is None or found[0] is None:
        return []
    rows = db.execute(f"SELECT name, applied_at FROM {MIGRATIONS_TABLE} ORDER BY id").fetchall()
    return [(name, applied_at) for name, applied_at in rows]


def _migrate(db: PostgresConnection, display: str) -> None:
    """Bring the schema up to date inside the caller's transaction (holding the
    migration lock, so two replicas starting at once migrate once)."""
    applied = [name for name, _ in applied_migrations(db)]
    unknown = set(applied) - known_migration_names()
    if unknown:
        raise StoreError(
            f"the store at {display} was written by a newer openmodels (schema "
            f"{max(unknown)}); upgrade openmodels or point OPENMODELS_DB at another store"
        )
    if not applied:
        db.execute(
            f"""CREATE TABLE {MIGRATIONS_TABLE} (
                    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    name text NOT NULL UNIQUE,
                    applied_at text NOT NULL
                )"""
        )
        db.conn.execute(BASELINE)
        record_migrations(db, BASELINE_NAMES)
    for name, statements in DELTAS:
        if name not in applied:
            db.conn.execute(statements)
            if (fill := backfill(name)) is not None:
                fill(db)
            record_migrations(db, [name])


def record_migrations(
    db: PostgresConnection, names: Iterable[str], applied_at: Iterable[str] | None = None
) -> None:
    """Record migrations as applied (now, unless `applied_at` gives their own times)."""
    names = list(names)
    times = list(applied_at) if applied_at is not None else [None] * len(names)
    db.executemany(
        f"""INSERT INTO {MIGRATIONS_TABLE} (name, applied_at)
            VALUES (?, coalesce(?, to_char(now() AT TIME ZONE 'UTC',
                                           'YYYY-MM-DD HH24:MI:SS.US+00:00')))""",
        list(zip(names, times, strict=True)),
    )


# When each pooled connection last finished a transaction. One idle longer than this
# is checked (a round trip) before it is handed out: the server may have dropped it
# (a restart, a failover, an idle timeout). One used just now is not: the check would
# add a tenth to every answer's round trips, to catch what a moment ago was working.
CHECK_IDLE_SECONDS = 5.0
_last_used: weakref.WeakKeyDictionary[psycopg.Connection[Any], float] = weakref.WeakKeyDictionary()


def _check_if_idle(conn: psycopg.Connection[Any]) -> None:
    if time.monotonic() - _last_used.get(conn, 0.0) > CHECK_IDLE_SECONDS:
        ConnectionPool.check_connection(conn)


def _configure(conn: psycopg.Connection[Any]) -> None:
    """Each new connection: no JIT compilation. The store's statements run for
    milliseconds, and PostgreSQL, misjudging a scratch table's rows, compiled a
    snapshot's write for 20 ms of its 80 (measured with EXPLAIN ANALYZE)."""
    conn.execute("SET jit = off")


class _Pools:
    """This process's connection pools, one per store URL; a forked child makes its own."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pools: dict[tuple[int, str], ConnectionPool] = {}

    def get(self, url: str) -> ConnectionPool:
        key = (os.getpid(), url)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = ConnectionPool(
                    url,
                    min_size=1,
                    max_size=POOL_MAX,
                    timeout=POOL_TIMEOUT_SECONDS,
                    kwargs={"autocommit": True, "application_name": "openmodels"},
                    # A connection idle a while is checked when taken: one the server
                    # dropped is replaced, not found out by the query that needed it.
                    check=_check_if_idle,
                    configure=_configure,
                    name="openmodels",
                    open=True,
                )
                self._pools[key] = pool
            return pool

    def close(self, url: str) -> None:
        with self._lock:
            pool = self._pools.pop((os.getpid(), url), None)
        if pool is not None:
            pool.close()

    def close_all(self) -> None:
        with self._lock:
            pools = [p for (pid, _), p in self._pools.items() if pid == os.getpid()]
            self._pools.clear()
        for pool in pools:
            pool.close()


_pools = _Pools()
atexit.register(_pools.close_all)
