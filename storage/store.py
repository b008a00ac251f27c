"""Opening the store, on SQLite (a file path) or PostgreSQL (a `postgresql://` URL).

Every storage function takes the connection of one transaction (`storage.sql.Connection`)
and runs the same SQL on either engine. A store hands out three kinds of transaction:
`reading` (one consistent view of committed data), `writing` (writers follow one
another: SQLite's BEGIN IMMEDIATE, PostgreSQL's write lock) and `claiming` (on
PostgreSQL, a write that locks only the rows it takes). Each engine's module says how.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from openmodels.errors import StoreError
from storage.engines.sqlite import SQLiteEngine
from storage.locations import is_postgresql
from storage.sql import Connection, EngineName

if TYPE_CHECKING:
    from storage.engines.postgres import PostgresEngine

SAMPLE_READ_ONLY = "the bundled sample store is read-only; collect into your own store"


@dataclass(frozen=True)
class Store:
    """A store on one engine. `sample` marks the read-only synthetic store we ship."""

    engine: SQLiteEngine | PostgresEngine

    @property
    def sample(self) -> bool:
        return self.engine.read_only

    @property
    def engine_name(self) -> EngineName:
        return "sqlite" if isinstance(self.engine, SQLiteEngine) else "postgresql"

    @property
    def location(self) -> str:
        """The path or URL, password included: what another process opens it by."""
        return self.engine.location

    @property
    def display(self) -> str:
        """The path or URL without its password: what messages show."""
        return self.engine.display

    @property
    def path(self) -> Path:
        """The SQLite file (the things only a file has: backups, the file's size)."""
        if not isinstance(self.engine, SQLiteEngine):
            raise StoreError(f"the store at {self.display} is on PostgreSQL: it has no file")
        return self.engine.path

    def reading(self) -> AbstractContextManager[Connection]:
        """A connection inside one read transaction: every query sees the same data,
        committed before the transaction began."""
        return self.engine.reading()

    def writing(self) -> AbstractContextManager[Connection]:
        """A connection inside one write transaction, committed only if the block succeeds;
        no other write runs until it ends."""
        self._refuse_writes()
        return self.engine.writing()

    def claiming(self) -> AbstractContextManager[Connection]:
        """A write transaction for claims that lock their own rows (FOR UPDATE SKIP
        LOCKED): on PostgreSQL other writes go on meanwhile; on SQLite it is `writing`."""
        self._refuse_writes()
        return self.engine.claiming()

    def locked(self, name: str) -> AbstractContextManager[None]:
        """Hold the store's lock called `name` for the block: no other thread or process
        using the store holds the same lock meanwhile (on PostgreSQL, no other replica).
        It guards work outside the store's own transactions, such as a call to Slack
        whose result is then written (a token's refresh)."""
        self._refuse_writes()
        return self.engine.locked(name)

    @property
    def size_bytes(self) -> int:
        return self.engine.size_bytes()

    def close(self) -> None:
        """Release what this process holds open to the store (PostgreSQL's pool)."""
        self.engine.close()

    def _refuse_writes(self) -> None:
        if self.sample:
            raise StoreError(SAMPLE_READ_ONLY)


def store_at(location: str | Path, *, sample: bool = False) -> Store:
    """The store at `location`, neither opened nor migrated (`open_store` does both)."""
    if is_postgresql(location):
        if sample:
            raise StoreError("only a SQLite file can be opened as the read-only sample")
        from storage.engines.postgres import PostgresEngine  # loads psycopg: PostgreSQL only

        return Store(PostgresEngine(str(location)))
    return Store(SQLiteEngine(Path(location), read_only=sample))


def open_store(location: str | Path, *, sample: bool = False) -> Store:
    """Open (creating if needed) the store at `location` and bring its schema up to date.

    `location` is a SQLite file's path or a `postgresql://` URL. Refuses, with a
    StoreError, a file that is not SQLite, a database it cannot reach, a store written
    by a newer openmodels, and a location that cannot be written.
    """
    store = store_at(location, sample=sample)
    store.engine.open()
    return store
