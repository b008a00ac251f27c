"""Slack's installation and state stores live in the store's own database: slack_sdk's
SQLite stores in a SQLite store's file, slack_sdk's SQLAlchemy stores in a PostgreSQL
store's database, their tables made by the store's migrations exactly as slack_sdk
makes them; and SQLAlchemy loads only for a store on PostgreSQL."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from bot.slack_stores import open_slack_stores, sqlalchemy_engine, sqlalchemy_url
from storage import Store, open_store
from storage.port import column_names
from storage.store import store_at
from tests.builders import slack_installation
from tests.reliability.helpers import REPO, program_env

CLIENT_ID = "1234.5678"
SLACK_TABLES = ("slack_installations", "slack_bots", "oauth_states")


def test_each_engine_keeps_installations_and_states_in_the_stores_database(tmp_store):
    stores = open_slack_stores(tmp_store, CLIENT_ID, 600)
    stores.installations.save(slack_installation())
    state = stores.states.issue()

    found = stores.installations.find_installation(enterprise_id=None, team_id="T2")
    with tmp_store.reading() as db:  # the store's own connection sees them
        teams = [r[0] for r in db.execute("SELECT team_id FROM slack_installations")]
        bots = [r[0] for r in db.execute("SELECT bot_token FROM slack_bots")]

    assert found is not None and found.bot_token == "xoxb-T2"
    assert found.bot_scopes == ["chat:write", "commands"]
    assert teams == ["T2"] and bots == ["xoxb-T2"]
    assert stores.states.consume(state) is True
    assert stores.states.consume(state) is False  # good once


def test_on_postgresql_the_stores_are_slack_sdks_sqlalchemy_stores(postgresql_store):
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    stores = open_slack_stores(postgresql_store, CLIENT_ID, 600)

    assert isinstance(stores.installations, SQLAlchemyInstallationStore)
    assert isinstance(stores.states, SQLAlchemyOAuthStateStore)


@pytest.mark.parametrize(
    ("store", "engine"),
    [
        ("postgresql://u@db.internal:5432/om?sslmode=require", "postgresql+psycopg://u@db"),
        ("postgres://u:p%40ss@h/om?options=-csearch_path%3Dt1", "postgresql+psycopg://u:p%40ss"),
    ],
)
def test_sqlalchemy_reaches_the_stores_database_by_the_same_url(store, engine):
    assert sqlalchemy_url(store).startswith(engine)
    assert sqlalchemy_url(store).split("://")[1] == store.split("://")[1]


LEAN = """
import sys
from bot.slack_stores import open_slack_stores
from storage import open_store
stores = open_slack_stores(open_store(sys.argv[1]), "1234.5678", 600)
print(type(stores.installations).__mro__[1].__name__)  # ours waits longer: its base
print(sorted({m.split(".")[0] for m in sys.modules} & {"sqlalchemy", "psycopg", "greenlet"}))
"""


def test_on_sqlite_the_stores_are_slack_sdks_sqlite_stores_and_load_no_sqlalchemy(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", LEAN, str(tmp_path / "s.db")],
        env=program_env(),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    kind, loaded = done.stdout.splitlines()
    assert kind == "SQLite3InstallationStore"
    assert ast.literal_eval(loaded) == []


# -- the migrations make slack_sdk's tables -------------------------------------------------


def sqlite_shape(path: Path) -> dict[str, object]:
    """Each slack_sdk table's columns (name, type, not null, default, key) and indexes."""
    import sqlite3

    with sqlite3.connect(path) as db:
        return {
            table: (
                [row[1:] for row in db.execute(f"PRAGMA table_info({table})")],
                sorted(
                    (i[1], [c[2] for c in db.execute(f"PRAGMA index_info({i[1]})")])
                    for i in db.execute(f"PRAGMA index_list({table})")
                ),
            )
            for table in SLACK_TABLES
        }


def test_on_sqlite_the_migration_makes_the_tables_slack_sdk_makes(tmp_path):
    from slack_sdk.oauth.installation_store.sqlite3 import SQLite3InstallationStore
    from slack_sdk.oauth.state_store.sqlite3 import SQLite3OAuthStateStore

    open_store(tmp_path / "ours.db")
    theirs = str(tmp_path / "theirs.db")
    SQLite3InstallationStore(database=theirs, client_id=CLIENT_ID).init()
    SQLite3OAuthStateStore(database=theirs, expiration_seconds=600).init()

    assert sqlite_shape(tmp_path / "ours.db") == sqlite_shape(Path(theirs))


def postgresql_shape(store: Store) -> dict[str, object]:
    with store.reading() as db:
        return {
            table: (
                db.execute(
                    """SELECT column_name, data_type, character_maximum_length, is_nullable,
                              column_default
                       FROM information_schema.columns
                       WHERE table_schema = current_schema() AND table_name = ?
                       ORDER BY ordinal_position""",
                    [table],
                ).fetchall(),
                db.execute(
                    """SELECT indexname, replace(indexdef, current_schema() || '.', '')
                       FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ?
                       ORDER BY indexname""",
                    [table],
                ).fetchall(),
            )
            for table in SLACK_TABLES
        }


def test_on_postgresql_the_migration_makes_the_tables_slack_sdk_makes(postgresql_url):
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    from tests.conftest import let_go, postgresql_schema

    ours = open_store(postgresql_schema(postgresql_url))
    bare = postgresql_schema(postgresql_url)  # an empty schema: slack_sdk makes its own
    engine = sqlalchemy_engine(bare)
    try:
        SQLAlchemyInstallationStore(client_id=CLIENT_ID, engine=engine).create_tables()
        SQLAlchemyOAuthStateStore(600, engine, table_name="oauth_states").create_tables()
        theirs = store_at(bare)
        assert postgresql_shape(ours) == postgresql_shape(theirs)
        with theirs.reading() as db:
            assert all(column_names(db, t) for t in SLACK_TABLES)
    finally:
        let_go(ours.location)
        let_go(bare)
