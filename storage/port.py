"""Moving a SQLite store into an empty PostgreSQL database: `openmodels port-db`.

As Synapse's port script does: the target gets the schema through its own migrations,
then every table's rows are copied, parents before the tables that refer to them, in
one transaction on the target, and the record of migrations is copied as it was. The
row counts of every table are compared with the source's before that transaction
commits, so a port either leaves the target holding exactly the source's data or
leaves it empty. The source is only read, in one read transaction, so a bot may go on
using it meanwhile (what it writes after the port began is not copied).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from openmodels.errors import StoreError
from storage.schema import MIGRATIONS_TABLE as SQLITE_MIGRATIONS
from storage.schema_postgresql import (
    MIGRATIONS_TABLE,
    PACKED,
    POSTGRESQL_ONLY,
    VIEW_ONLY_COLUMNS,
)
from storage.snapshots import pack_counts
from storage.sql import Connection, one_of
from storage.store import Store

# progress(table, rows copied so far, rows in the table)
Progress = Callable[[str, int, int], None]
PROGRESS_EVERY = 50_000  # rows between two progress reports of one table


@dataclass(frozen=True)
class PortReport:
    tables: dict[str, int]  # table -> rows copied (and found in the target)
    migrations: list[str]  # the migrations recorded in the target


def table_names(db: Connection) -> list[str]:
    """The store's tables, as SQLite's schema names them, in name order, without the
    record of migrations. (On PostgreSQL a packed table is its view: schema_postgresql.)"""
    if db.engine == "sqlite":
        rows = db.execute(
            """SELECT name FROM sqlite_master WHERE type = 'table'
               AND name NOT LIKE 'sqlite_%' AND name != ? ORDER BY name""",
            [SQLITE_MIGRATIONS],
        )
    else:
        hidden = [MIGRATIONS_TABLE, *PACKED.values(), *POSTGRESQL_ONLY]
        rows = db.execute(
            f"""SELECT table_name FROM information_schema.tables
                WHERE table_schema = current_schema() AND table_type IN ('BASE TABLE', 'VIEW')
                AND NOT {one_of("table_name", len(hidden))} ORDER BY table_name""",
            hidden,
        )
    return [str(r[0]) for r in rows]


def column_names(db: Connection, table: str) -> list[str]:
    """A table's columns as SQLite's schema has them, in their order."""
    if db.engine == "sqlite":
        return [str(r[1]) for r in db.execute(f'PRAGMA table_info("{table}")')]
    rows = db.execute(
        """SELECT column_name FROM information_schema.columns
           WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position""",
        [table],
    )
    return [str(r[0]) for r in rows if r[0] not in VIEW_ONLY_COLUMNS.get(table, ())]


def row_count(db: Connection, table: str) -> int:
    return int(db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def applied_migrations(db: Connection) -> list[tuple[str, str]]:
    """(name, applied_at) of the migrations a store records, in the order applied."""
    if db.engine == "sqlite":
        from storage.engines.sqlite import SQLiteConnection
        from storage.engines.sqlite import applied_migrations as sqlite_applied

        assert isinstance(db, SQLiteConnection)
        return sqlite_applied(db.db)
    from storage.engines.postgres import PostgresConnection
    from storage.engines.postgres import applied_migrations as postgresql_applied

    assert isinstance(db, PostgresConnection)
    return postgresql_applied(db)


def _parents_first(db: Connection, tables: list[str]) -> list[str]:
    """`tables` ordered so that each comes after every table its foreign keys name."""
    refers: dict[str, set[str]] = {t: set() for t in tables}
    presented_as = {packed: view for view, packed in PACKED.items()}
    for child, parent in db.execute(
        """SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint
           WHERE contype = 'f' AND connamespace = current_schema()::regnamespace"""
    ):
        child = presented_as.get(child, child)
        if child in refers and parent != child:
            refers[child].add(parent)
    ordered: list[str] = []
    while refers:
        ready = sorted(t for t, parents in refers.items() if parents <= set(ordered))
        if not ready:
            raise StoreError(f"cannot order tables by their foreign keys: {sorted(refers)}")
        ordered += ready
        for t in ready:
            del refers[t]
    return ordered


def port(source: Store, target: Store, progress: Progress = lambda *_: None) -> PortReport:
    """Copy every row of the SQLite store `source` into `target`, a PostgreSQL store
    whose tables are all empty (just migrated). All or nothing; counts verified."""
    if source.engine_name != "sqlite" or target.engine_name != "postgresql":
        raise StoreError("port-db copies a SQLite store into a PostgreSQL database")
    with source.reading() as src, target.writing() as dst:
        migrations = applied_migrations(src)
        if {name for name, _ in migrations} != {name for name, _ in applied_migrations(dst)}:
            raise StoreError(
                f"{source.display} is not at this openmodels' schema: open it once with this "
                f"version (e.g. `openmodels status --db {source.display}`), then port it"
            )
        tables = table_names(src)
        if set(tables) != set(table_names(dst)):
            raise StoreError(
                f"the tables of {source.display} and {target.display} differ: "
                f"{sorted(set(tables) ^ set(table_names(dst)))}"
            )
        holding = {t: n for t in tables if (n := row_count(dst, t))}
        if holding:
            table, n = next(iter(holding.items()))
            raise StoreError(
                f"{target.display} already holds data ({n:,} rows in {table}); port-db only "
                "fills an empty database: create a new one, or drop this one's tables"
            )
        expected = {t: row_count(src, t) for t in tables}
        for table in _parents_first(dst, tables):
            _copy_table(src, dst, table, expected[table], progress)
        _record_migrations(dst, migrations)
        _restart_identities(dst, tables)
        found = {t: row_count(dst, t) for t in tables}
        if found != expected:
            wrong = {t: (expected[t], found[t]) for t in tables if found[t] != expected[t]}
            raise StoreError(f"the copy's row counts differ from the source's: {wrong}")
    return PortReport(found, [name for name, _ in migrations])


def _copy_table(
    src: Connection, dst: Connection, table: str, total: int, progress: Progress
) -> None:
    columns = column_names(src, table)
    if set(columns) != set(column_names(dst, table)):
        raise StoreError(f"table {table} has other columns in the target: cannot copy it")
    from storage.engines.postgres import PostgresConnection

    assert isinstance(dst, PostgresConnection)
    names = ", ".join(f'"{c}"' for c in columns)
    rows = src.execute(f'SELECT {names} FROM "{table}"')
    copied = [0]

    convert = _converters(table, columns)

    def counted() -> Iterator[Any]:
        for row in rows:
            yield convert(row)
            copied[0] += 1
            if copied[0] % PROGRESS_EVERY == 0:
                progress(table, copied[0], total)

    if table not in PACKED:
        dst.copy_rows(table, [f'"{c}"' for c in columns], counted())
    else:  # through a scratch table, then packed as a snapshot's counts are
        dst.execute(f'CREATE TEMPORARY TABLE incoming_{table} (LIKE "{table}") ON COMMIT DROP')
        dst.copy_rows(f"incoming_{table}", [f'"{c}"' for c in columns], counted())
        pack_counts(dst, f"SELECT {names} FROM incoming_{table}")
    progress(table, copied[0], total)


def _no_organisation(value: Any) -> Any:
    """SQLite's store writes '' for no organisation (or workspace); SQLAlchemy's, NULL."""
    return value or None


def _utc(value: Any) -> datetime | None:
    """A time as SQLite's stores write it (Unix seconds, or SQLite's UTC text
    'YYYY-MM-DD HH:MM:SS') as SQLAlchemy's write it: a naive UTC timestamp."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        moment = datetime.fromtimestamp(value, UTC)
    else:
        moment = datetime.fromisoformat(str(value))
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return moment.astimezone(UTC).replace(tzinfo=None)


# slack_sdk's tables (storage.schema.m014_slack_installations) have the same columns on
# both engines, each in what its own store writes and reads back (SQLite's stores and
# SQLAlchemy's): what each column's value becomes on the way.
_SLACK_INSTALL: dict[str, Callable[[Any], Any]] = {
    "enterprise_id": _no_organisation,
    "team_id": _no_organisation,
    "bot_token_expires_at": _utc,
    "installed_at": _utc,
    "is_enterprise_install": bool,
}
CONVERTED: dict[str, dict[str, Callable[[Any], Any]]] = {
    "slack_installations": _SLACK_INSTALL | {"user_token_expires_at": _utc},
    "slack_bots": _SLACK_INSTALL,
    "oauth_states": {"expire_at": _utc},
}


def _converters(table: str, columns: list[str]) -> Callable[[Sequence[Any]], Sequence[Any]]:
    """What turns a row of `table`'s `columns` on SQLite into the row PostgreSQL takes."""
    by_column = CONVERTED.get(table)
    if by_column is None:
        return lambda row: row
    steps = [by_column.get(c) for c in columns]
    return lambda row: [v if f is None else f(v) for f, v in zip(steps, row, strict=True)]


def _record_migrations(dst: Connection, migrations: list[tuple[str, str]]) -> None:
    """The target records the source's migrations, with the times they were applied."""
    from storage.engines.postgres import PostgresConnection, record_migrations
    from storage.schema_postgresql import MIGRATIONS_TABLE

    assert isinstance(dst, PostgresConnection)
    dst.execute(f"DELETE FROM {MIGRATIONS_TABLE}")
    record_migrations(dst, [n for n, _ in migrations], [a for _, a in migrations])


def _restart_identities(dst: Connection, tables: list[str]) -> None:
    """Each identity column's next value (or serial column's, in slack_sdk's tables)
    follows the largest id copied."""
    for table, column in dst.execute(
        """SELECT table_name, column_name FROM information_schema.columns
           WHERE table_schema = current_schema()
             AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')"""
    ).fetchall():
        if table in tables:
            dst.execute(
                f"""SELECT setval(pg_get_serial_sequence(?, ?),
                                  coalesce(max("{column}"), 0) + 1, false) FROM "{table}" """,
                [table, column],
            )
