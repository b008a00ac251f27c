"""slack_sdk's installation and state stores, in the same database as the store.

Bolt's OAuth flow keeps each workspace's tokens in an installation store and the install
links' states in a state store; openmodels uses slack_sdk's own stores, in the tables
its store's migrations make for them (storage.schema.m014_slack_installations), so one
backup, one port and one database hold everything:
- a store on SQLite: slack_sdk's SQLite stores, in the store's file;
- a store on PostgreSQL: slack_sdk's SQLAlchemy stores, on an engine of SQLAlchemy's
  over psycopg 3 to the same database (and schema), from the store's own URL. Every
  replica reads and writes the same tokens. SQLAlchemy and these stores are imported
  only here, only for a store on PostgreSQL: a bot on SQLite never loads them.
The state store's table is `oauth_states` on both engines (SQLite's store's own name),
so the two schemas name the same tables alike.

slack_sdk's SQLite stores open their connections with sqlite3's default busy timeout,
5 s, where the store's own wait 30 s for another writer: a long `openmodels import`
holds the write lock longer than 5 s, and a refreshed token's save would fail (Slack has
revoked the old refresh token by then). Here they wait as long as the store's own.
"""

from __future__ import annotations

import atexit
import logging
import os
import sqlite3
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openmodels.errors import StoreError
from storage import Store
from storage.engines.sqlite import BUSY_TIMEOUT_MS

if TYPE_CHECKING:
    from slack_sdk.oauth.installation_store import InstallationStore
    from slack_sdk.oauth.state_store import OAuthStateStore
    from sqlalchemy.engine import Engine

STATES_TABLE = "oauth_states"
# SQLAlchemy's own pool per process, for the installation and state stores only: a
# lookup per request and a refresh now and then. Connections idle a while are checked
# before use, as the store's own pool does (storage.engines.postgres).
POOL_SIZE = 2
POOL_OVERFLOW = 4


@dataclass(frozen=True)
class SlackStores:
    """The installation store (each workspace's tokens) and the state store (install
    links), both in `store`'s database."""

    store: Store
    installations: InstallationStore
    states: OAuthStateStore


def open_slack_stores(
    store: Store, client_id: str, state_seconds: int, busy_timeout_ms: int = BUSY_TIMEOUT_MS
) -> SlackStores:
    """slack_sdk's stores in `store`'s database: SQLite's in its file (waiting up to
    `busy_timeout_ms` for another writer), SQLAlchemy's in its PostgreSQL database. Their
    tables are made by the store's migrations."""
    installations_log = logging.getLogger("bot.installations.store")
    states_log = logging.getLogger("bot.oauth.states")
    if store.engine_name == "sqlite":
        from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore
        from slack_sdk.oauth.state_store.sqlite3 import SQLite3OAuthStateStore

        seconds = busy_timeout_ms / 1000

        class WaitingInstallationStore(SQLite3InstallationStore):
            def connect(self) -> sqlite3.Connection:
                return _connect_waiting(self, seconds)

        class WaitingStateStore(SQLite3OAuthStateStore):
            def connect(self) -> sqlite3.Connection:
                return _connect_waiting(self, seconds)

        path = str(store.path)
        installations = WaitingInstallationStore(
            database=path, client_id=client_id, logger=installations_log
        )
        states = WaitingStateStore(
            database=path, expiration_seconds=state_seconds, logger=states_log
        )
        installations.init()  # finds the tables, so its first request makes none
        states.init()
        return SlackStores(store, installations, states)

    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    engine = sqlalchemy_engine(store.location)
    return SlackStores(
        store,
        SQLAlchemyInstallationStore(client_id=client_id, engine=engine, logger=installations_log),
        SQLAlchemyOAuthStateStore(
            expiration_seconds=state_seconds,
            engine=engine,
            logger=states_log,
            table_name=STATES_TABLE,
        ),
    )


def _connect_waiting(sdk_store: Any, seconds: float) -> sqlite3.Connection:
    """What slack_sdk's SQLite stores' `connect` does, but for the busy timeout."""
    if not sdk_store.init_called:
        sdk_store.init()
    return sqlite3.connect(database=sdk_store.database, timeout=seconds)


def store_errors(store: Store) -> tuple[type[Exception], ...]:
    """What the installation and state stores of `store` raise when its database cannot
    be read or written just now (a lock held too long, a server gone): on SQLite,
    sqlite3's errors; on PostgreSQL, SQLAlchemy's and psycopg's. The store's own too."""
    if store.engine_name == "sqlite":
        return (StoreError, sqlite3.Error)
    import psycopg
    from sqlalchemy.exc import SQLAlchemyError

    return (StoreError, SQLAlchemyError, psycopg.Error)


def sqlalchemy_url(location: str) -> str:
    """A `postgresql://` store URL as SQLAlchemy names the same database through psycopg
    3 (`postgresql+psycopg://`), every parameter kept (a schema's search_path, sslmode)."""
    return "postgresql+psycopg://" + location.split("://", 1)[1]


def sqlalchemy_engine(location: str) -> Engine:
    """SQLAlchemy's engine for the database of the store at `location`: one per process
    and store, as the store's own pool is (a forked child makes its own)."""
    from sqlalchemy import create_engine

    key = (os.getpid(), location)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = create_engine(
                sqlalchemy_url(location),
                pool_size=POOL_SIZE,
                max_overflow=POOL_OVERFLOW,
                pool_pre_ping=True,
                connect_args={"application_name": "openmodels-slack"},
            )
    return engine


def close_engine(location: str) -> None:
    """Close this process's connections to the database of the store at `location`."""
    with _engines_lock:
        engine = _engines.pop((os.getpid(), location), None)
    if engine is not None:
        engine.dispose()


def _close_all() -> None:
    with _engines_lock:
        mine = [key for key in _engines if key[0] == os.getpid()]
    for _, location in mine:
        close_engine(location)


_engines: dict[tuple[int, str], Engine] = {}
_engines_lock = threading.Lock()
atexit.register(_close_all)
