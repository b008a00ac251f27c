"""What every storage function is handed: one open transaction's connection, on either engine.

The storage modules write their SQL once, in the subset both engines read the same way
(`?` and `:name` parameters, `ON CONFLICT`, `RETURNING`, row values, window functions);
each engine's connection runs it. Where the engines differ in what a statement does,
not just how it is spelled, the storage function asks `db.engine` and the difference
is tested on both (tests/test_engines.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, Literal, Protocol

Params = Sequence[Any] | Mapping[str, Any]
EngineName = Literal["sqlite", "postgresql"]


class Cursor(Protocol):
    """The part of a DB-API cursor storage uses: rows as tuples, and the rows changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection inside one transaction (`Store.reading` or `Store.writing`)."""

    @property
    def engine(self) -> EngineName: ...

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        """Run one statement with `?` or `:name` parameters."""
        ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        """Run one statement once per row of parameters."""
        ...


@contextmanager
def planned_per_call(db: Connection) -> Iterator[None]:
    """Run the block's statements each planned for its parameters' values (PostgreSQL).

    psycopg prepares a statement run five times, and PostgreSQL may then keep one plan
    for any values. For a statement whose best plan depends on them, that plan can be
    ruinous: recount_returns' generic plan guessed one model first seen elsewhere than
    in the snapshot (all 20,000 are), and unpacked a snapshot's 20,000 ids once per
    model, 30 s a snapshot instead of 6 ms. (SQLite plans each statement as it comes.)
    """
    if db.engine != "postgresql":
        yield
        return
    db.execute("SET LOCAL plan_cache_mode = force_custom_plan")
    yield
    # Not on failure: the transaction is aborted then, and ends with the setting.
    db.execute("RESET plan_cache_mode")


def one_of(column: str, count: int) -> str:
    """`column IN (?, …)` for `count` parameters. An empty list is false on both engines
    (PostgreSQL refuses `IN ()`, which SQLite takes)."""
    return f"{column} IN ({','.join('?' * count)})" if count else "(0 = 1)"


# A quoted string or identifier, a comment, a `::` cast, a named parameter, `?` or `%`.
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|--[^\n]*|::|:([A-Za-z_]\w*)|\?|%")


@lru_cache(maxsize=2048)
def to_pyformat(sql: str) -> str:
    """`sql` with SQLite's `?` and `:name` parameters in psycopg's `%s` and `%(name)s`
    style, and every literal `%` doubled, in quoted text and comments too (psycopg reads
    placeholders everywhere). Otherwise quoted text, comments and `::` casts are left as
    they are."""

    def replace(match: re.Match[str]) -> str:
        token = match.group(0)
        if match.group(1):
            return f"%({match.group(1)})s"
        return {"?": "%s"}.get(token) or token.replace("%", "%%")

    return _TOKEN.sub(replace, sql)
