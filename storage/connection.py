"""The plain sqlite3 connection the SQLite engine opens, and what its migrations use.

The SQLite engine (storage.engines.sqlite) opens this wrapper rather than sqlite-utils'
Database: importing sqlite-utils costs more than a whole answer (it imports numpy:
about 0.1 s of every `openmodels ask`), so sqlite-utils is imported only where it is
used, to apply migrations (storage.schema), whose functions take either. The storage
functions themselves take a storage.sql.Connection, on either engine.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any, Protocol


class Database(Protocol):
    """A connection to the store, as the SQL of this package uses it (sqlite-utils'
    Database fits it too, as the migrations and some tests use)."""

    @property
    def conn(self) -> sqlite3.Connection: ...

    def execute(
        self, sql: str, parameters: Sequence[Any] | dict[str, Any] | None = None
    ) -> sqlite3.Cursor: ...

    def close(self) -> None: ...


class Connection:
    """A sqlite3 connection with the `Database` interface."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @property
    def conn(self) -> sqlite3.Connection:
        return self._conn

    def execute(
        self, sql: str, parameters: Sequence[Any] | dict[str, Any] | None = None
    ) -> sqlite3.Cursor:
        if parameters is None:
            return self._conn.execute(sql)
        return self._conn.execute(sql, parameters)

    def close(self) -> None:
        self._conn.close()
