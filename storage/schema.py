"""Schema of the store, changed only through `sqlite_utils.Migrations`.

The migrations are listed here without importing sqlite-utils (see storage.connection:
it imports numpy): opening an up-to-date store only compares their names with those
recorded in the store's `_sqlite_migrations` table. `migrations`, the sqlite-utils
Migrations that apply them, is built on first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from storage.connection import Database

if TYPE_CHECKING:
    from sqlite_utils.migrations import Migrations

MIGRATION_SET = "openmodels"
MIGRATIONS_TABLE = "_sqlite_migrations"  # sqlite_utils.Migrations.migrations_table
Migration = Callable[[Database], None]
_MIGRATIONS: list[Migration] = []


def migration(function: Migration) -> Migration:
    """Register `function` (named m001_…, in order) as the next migration."""
    _MIGRATIONS.append(function)
    return function


@cache
def all_migrations() -> Migrations:
    """The sqlite-utils Migrations that apply every migration of this version."""
    from sqlite_utils.migrations import Migrations

    found = Migrations(MIGRATION_SET)
    for function in _MIGRATIONS:
        found()(function)
    return found


def __getattr__(name: str) -> Migrations:
    # `from storage.schema import migrations` (the tests, scripts) still works, building
    # the sqlite-utils object only then.
    if name == "migrations":
        return all_migrations()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@migration
def m001_snapshots(db: Database) -> None:
    # Integer model ids keep the per-snapshot rows small: a year of daily snapshots of
    # tens of thousands of models is mostly these rows.
    db.execute(
        """
        CREATE TABLE snapshots (
            id INTEGER PRIMARY KEY,
            taken_at TEXT NOT NULL,          -- ISO 8601, UTC, e.g. 2026-01-05T06:00:00Z
            source TEXT NOT NULL,            -- 'hub' for live data, 'sample' for synthetic
            model_count INTEGER NOT NULL
        )
        """
    )
    db.execute("CREATE INDEX snapshots_taken_at ON snapshots (taken_at)")
    db.execute(
        """
        CREATE TABLE models (
            id INTEGER PRIMARY KEY,
            repo_id TEXT NOT NULL UNIQUE,
            family TEXT NOT NULL,
            created_at TEXT,
            pipeline_tag TEXT
        )
        """
    )
    db.execute("CREATE INDEX models_family ON models (family)")
    db.execute(
        """
        CREATE TABLE model_counts (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
            model_id INTEGER NOT NULL REFERENCES models(id),
            downloads_30d INTEGER NOT NULL,
            downloads_all_time INTEGER NOT NULL,
            likes INTEGER NOT NULL,
            PRIMARY KEY (snapshot_id, model_id)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX model_counts_model ON model_counts (model_id, snapshot_id)")
    db.execute(
        """
        CREATE TABLE family_totals (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
            family TEXT NOT NULL,
            downloads_30d INTEGER NOT NULL,
            downloads_all_time INTEGER NOT NULL,
            likes INTEGER NOT NULL,
            model_count INTEGER NOT NULL,
            PRIMARY KEY (snapshot_id, family)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX family_totals_family ON family_totals (family, snapshot_id)")


def known_migration_names() -> frozenset[str]:
    """Names of every migration this version of openmodels knows."""
    return frozenset(function.__name__ for function in _MIGRATIONS)


def applied_migration_names(db: Database) -> frozenset[str]:
    """Names of the migrations recorded in the store (read as sqlite-utils writes them)."""
    if not db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [MIGRATIONS_TABLE]
    ).fetchone():
        return frozenset()
    rows = db.execute(
        f"SELECT name FROM {MIGRATIONS_TABLE} WHERE migration_set = ?", [MIGRATION_SET]
    )
    return frozenset(str(name) for (name,) in rows)


@migration
def m002_delivery(db: Database) -> None:
    # Subscriptions are per workspace and channel. `last_digest` keeps the rankings
    # sent in the previous digest, so the next one is sent only if they changed.
    db.execute(
        """
        CREATE TABLE subscriptions (
            team_id TEXT NOT NULL,
            channel_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('digest', 'alerts')),
            families TEXT NOT NULL DEFAULT '[]',   -- JSON list of family keys; [] = all
            created_at TEXT NOT NULL,
            created_by TEXT,
            failing_since TEXT,                    -- set when Slack refuses the channel
            failure TEXT,
            last_digest TEXT,                      -- JSON rankings of the last digest
            PRIMARY KEY (team_id, channel_id, kind)
        )
        """
    )
    # The outbox: every alert and digest is written here first, keyed so that the
    # same event for the same channel can exist only once, then delivered from here.
    db.execute(
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            team_id TEXT NOT NULL,
            channel_id TEXT NOT NULL,
            kind TEXT NOT NULL,                    -- 'alert' | 'digest'
            event TEXT NOT NULL,                   -- e.g. overtake:all_time:qwen>llama:s12
            payload TEXT NOT NULL,                 -- JSON: text, blocks, chart
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            sent_at TEXT,
            slack_ts TEXT,
            UNIQUE (team_id, channel_id, kind, event)
        )
        """
    )
    db.execute("CREATE INDEX outbox_status ON outbox (status, id)")
    db.execute(
        """
        CREATE TABLE job_runs (
            job TEXT PRIMARY KEY,
            last_started TEXT,
            last_finished TEXT,
            last_ok TEXT,
            last_error TEXT
        )
        """
    )
    # Snapshots already checked for overtakes: a rerun never alerts twice.
    db.execute(
        """
        CREATE TABLE alert_checks (
            snapshot_id INTEGER PRIMARY KEY REFERENCES snapshots(id),
            checked_at TEXT NOT NULL,
            overtakes INTEGER NOT NULL
        )
        """
    )
    # Families whose figures went backwards between two snapshots: shown in status,
    # and never the source of an alert.
    db.execute(
        """
        CREATE TABLE anomalies (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
            family TEXT NOT NULL,
            metric TEXT NOT NULL,
            previous INTEGER,
            current INTEGER,
            PRIMARY KEY (snapshot_id, family, metric)
        )
        """
    )


@migration
def m003_chart_shares(db: Database) -> None:
    # A digest's chart is shared into the channel apart from its message, and Slack
    # may show that share late or never while answering ok. So each outbox item keeps
    # the chart it uploaded and whether files.info has shown it in the channel:
    # chart_status is NULL (no chart, or not uploaded yet), 'unconfirmed' (shared,
    # not shown yet: checked again on each delivery run), 'landed' or 'failed'
    # (could not be drawn, or never shown after every upload allowed).
    db.execute("ALTER TABLE outbox ADD COLUMN chart_file_id TEXT")
    db.execute("ALTER TABLE outbox ADD COLUMN chart_uploaded_at TEXT")
    db.execute("ALTER TABLE outbox ADD COLUMN chart_status TEXT")
    db.execute("ALTER TABLE outbox ADD COLUMN chart_uploads INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX outbox_chart_status ON outbox (chart_status, id)")


@migration
def m004_family_definitions(db: Database) -> None:
    # What each snapshot counted as each family. Editing the families file moves a
    # family's totals with no real growth, so two snapshots compare like with like only
    # where the family's definition is the same. Snapshots taken before this migration
    # have no rows: their definitions are "not recorded".
    db.execute(
        """
        CREATE TABLE family_definitions (
            id INTEGER PRIMARY KEY,
            definition TEXT NOT NULL UNIQUE   -- canonical JSON: orgs, match, yields_to
        )
        """
    )
    db.execute(
        """
        CREATE TABLE snapshot_definitions (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
            family TEXT NOT NULL,
            definition_id INTEGER NOT NULL REFERENCES family_definitions(id),
            PRIMARY KEY (snapshot_id, family)
        ) WITHOUT ROWID
        """
    )
    # The overtake rules' memory: per metric and pair of families, the one last known
    # to be strictly ahead, as of the newest checked snapshot. Each check judges a pair
    # against it, so an overtake in a snapshot whose check never ran is made up at the
    # next check, once. A pair with no row has no settled order yet.
    db.execute(
        """
        CREATE TABLE pair_orders (
            metric TEXT NOT NULL,
            family_a TEXT NOT NULL,
            family_b TEXT NOT NULL,
            leader TEXT NOT NULL,
            PRIMARY KEY (metric, family_a, family_b),
            CHECK (family_a < family_b AND leader IN (family_a, family_b))
        ) WITHOUT ROWID
        """
    )


@migration
def m005_claims_and_leases(db: Database) -> None:
    # An outbox item is claimed by one deliverer at a time: `claimed_by` names the
    # process, `claim_expires` ends the claim if that process dies. Another deliverer
    # skips an item under a live claim, and takes over one in 'sending' only after its
    # claim has expired.
    db.execute("ALTER TABLE outbox ADD COLUMN claimed_by TEXT")
    db.execute("ALTER TABLE outbox ADD COLUMN claim_expires TEXT")
    # A scheduled job is owed once per slot (its scheduled moment). `done_slot` is the
    # latest slot a run completed; a run in progress holds a lease (`lease_owner`,
    # renewed until `lease_expires`) so that no other runner starts it again, and a
    # run that failed or never finished is retried at `retry_at` (`failures` in a row
    # for `slot`) until it succeeds or the next slot comes.
    for column in (
        "slot TEXT",
        "done_slot TEXT",
        "failures INTEGER NOT NULL DEFAULT 0",
        "retry_at TEXT",
        "lease_owner TEXT",
        "lease_expires TEXT",
    ):
        db.execute(f"ALTER TABLE job_runs ADD COLUMN {column}")
    # Runs recorded before leases counted as done once started: keep that for them.
    db.execute("UPDATE job_runs SET done_slot = last_started WHERE last_started IS NOT NULL")


@migration
def m006_derivatives(db: Database) -> None:
    # Derivatives: how many models on the Hub name a model as their base (its
    # `childrenModelCount`). NULL means not measured (snapshots taken before this
    # column, or a source that does not report it): never read it as zero. The family
    # figure is summed at ingest over the models that have one, NULL when none has.
    db.execute("ALTER TABLE model_counts ADD COLUMN derivatives INTEGER")
    db.execute("ALTER TABLE family_totals ADD COLUMN derivatives INTEGER")


# The kinds a channel may subscribe to, before and after launch messages were added.
_KINDS_BEFORE_LAUNCHES = "CHECK (kind IN ('digest', 'alerts'))"
_KINDS_WITH_LAUNCHES = "CHECK (kind IN ('digest', 'alerts', 'launches'))"


@migration
def m008_launches(db: Database) -> None:
    # Launch messages are a third kind of subscription. SQLite cannot change a CHECK
    # constraint in place, so the table is rebuilt the way SQLite documents for such
    # changes (https://www.sqlite.org/lang_altertable.html#otheralter): a new table from
    # the same definition with the wider CHECK, every column and row copied, the old
    # table dropped, the new one renamed and the old one's indexes made again. The
    # definition is read back from the store, so columns added since are kept.
    _rebuild_with(db, "subscriptions", _KINDS_BEFORE_LAUNCHES, _KINDS_WITH_LAUNCHES)
    # Launches: the snapshot that first listed each model (the earliest by time taken,
    # whatever order snapshots were written in, since history may be imported after
    # live snapshots). Kept on the model so finding the models first seen in a period
    # reads a few rows through an index instead of every snapshot's counts.
    db.execute("ALTER TABLE models ADD COLUMN first_snapshot_id INTEGER REFERENCES snapshots(id)")
    db.execute("ALTER TABLE models ADD COLUMN first_seen_at TEXT")  # that snapshot's taken_at
    db.execute(
        """
        UPDATE models SET (first_snapshot_id, first_seen_at) = (
            SELECT s.id, s.taken_at FROM model_counts c JOIN snapshots s ON s.id = c.snapshot_id
            WHERE c.model_id = models.id ORDER BY s.taken_at, s.id LIMIT 1
        )
        """
    )
    db.execute("CREATE INDEX models_first_seen ON models (first_seen_at)")


def _rebuild_with(db: Database, table: str, old: str, new: str) -> None:
    """Rebuild `table` with the text `old` of its definition replaced by `new`."""
    row = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]
    ).fetchone()
    definition = row[0] if row else ""
    if definition.count(old) != 1:
        raise RuntimeError(f"table {table} is not defined as expected: cannot find {old}")
    # A table once renamed is stored as CREATE TABLE "name" (…): accept both spellings.
    head = re.match(rf'CREATE TABLE\s+("?){table}\1\s*\(', definition)
    if head is None:
        raise RuntimeError(f"table {table} is not defined as expected: {definition[:60]}")
    indexes = [
        sql
        for (sql,) in db.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
            "AND sql IS NOT NULL",
            [table],
        )
    ]
    columns = ", ".join(f'"{r[1]}"' for r in db.execute(f'PRAGMA table_info("{table}")'))
    rebuilt = f"{table}_rebuilt"
    db.execute(f"CREATE TABLE {rebuilt} (" + definition[head.end() :].replace(old, new))
    db.execute(f"INSERT INTO {rebuilt} ({columns}) SELECT {columns} FROM {table}")
    db.execute(f"DROP TABLE {table}")
    db.execute(f"ALTER TABLE {rebuilt} RENAME TO {table}")
    for sql in indexes:
        db.execute(sql)


@migration
def m009_alert_flow(db: Database) -> None:
    # Only new columns and tables: the subscriptions table may have been rebuilt just
    # before (to allow more kinds), and these columns follow it whatever it holds.
    #
    # Which metrics an alerts subscription follows: a JSON list of "all_time" and
    # "30d". Subscriptions from before the choice existed keep both; new ones are
    # written with their own choice (all-time unless asked). `always` makes a digest
    # subscription receive the digest in quiet weeks too.
    db.execute(
        """ALTER TABLE subscriptions ADD COLUMN metrics TEXT NOT NULL
           DEFAULT '["all_time", "30d"]'"""
    )
    db.execute("ALTER TABLE subscriptions ADD COLUMN always INTEGER NOT NULL DEFAULT 0")
    # Pairs of families a channel does not want alerts about, in either direction.
    db.execute(
        """
        CREATE TABLE mutes (
            team_id TEXT NOT NULL,
            channel_id TEXT NOT NULL,
            family_a TEXT NOT NULL,
            family_b TEXT NOT NULL,
            muted_at TEXT NOT NULL,
            muted_by TEXT,
            PRIMARY KEY (team_id, channel_id, family_a, family_b),
            CHECK (family_a < family_b)
        ) WITHOUT ROWID
        """
    )
    # The latest announcement of each pair in each channel: when, the message's ts and
    # the ts of the thread it belongs to (its own ts when it started one). An alert
    # whose pairs were all announced within 30 days goes into the newest such thread.
    db.execute(
        """
        CREATE TABLE announcements (
            team_id TEXT NOT NULL,
            channel_id TEXT NOT NULL,
            family_a TEXT NOT NULL,
            family_b TEXT NOT NULL,
            announced_at TEXT NOT NULL,
            message_ts TEXT NOT NULL,
            thread_ts TEXT NOT NULL,
            outbox_id INTEGER,
            PRIMARY KEY (team_id, channel_id, family_a, family_b),
            CHECK (family_a < family_b)
        ) WITHOUT ROWID
        """
    )
    # The thread an outbox item is posted in, written (committed) before the post, so
    # that a delivery interrupted after it looks for the post in that thread: Slack's
    # channel history does not list thread replies.
    db.execute("ALTER TABLE outbox ADD COLUMN thread_ts TEXT")


@migration
def m010_home_visits(db: Database) -> None:
    # Who opened the bot's App Home tab, and when last: the tab is published again after
    # each snapshot for those who opened it in the last 7 days. `channel_id` is the
    # user's direct-message channel with the bot, where they may have subscribed too.
    db.execute(
        """
        CREATE TABLE home_visits (
            team_id TEXT NOT NULL,
            user_id TEXT NOT NULL,
            channel_id TEXT,
            opened_at TEXT NOT NULL,
            PRIMARY KEY (team_id, user_id)
        ) WITHOUT ROWID
        """
    )
    db.execute("CREATE INDEX home_visits_opened_at ON home_visits (opened_at)")


@migration
def m011_model_sizes(db: Database) -> None:
    # Each model's size: its total parameters (NULL: unknown), where that figure came
    # from ('safetensors' from the Hub, 'name' read from the model's name, 'file' set by
    # hand in the families file, 'unknown'), and its active parameters per token when
    # its name gives them. Kept per model, not per snapshot: a size does not change with
    # downloads, and a size read later applies to every snapshot alike, so a figure by
    # size class never moves because a size was newly read.
    db.execute(
        """
        CREATE TABLE model_sizes (
            model_id INTEGER PRIMARY KEY REFERENCES models(id),
            parameters INTEGER,
            active_parameters INTEGER,
            source TEXT NOT NULL
        )
        """
    )


@migration
def m012_workspaces(db: Database) -> None:
    # The workspaces openmodels is installed in through Slack's OAuth flow, and settings
    # that belong to a workspace rather than a channel. Slack's own record of each
    # install (its tokens) is kept by slack_sdk's installation store in its own tables;
    # this row holds what openmodels needs beside it: the Enterprise Grid organisation the
    # workspace belongs to (the installation store is keyed by both), who installed it,
    # and who may change its channels' subscriptions and mutes ('anyone', or only
    # 'admins': the workspace's admins and owners and the installer).
    db.execute(
        """
        CREATE TABLE workspaces (
            team_id TEXT PRIMARY KEY,
            enterprise_id TEXT,
            installed_by TEXT,
            installed_at TEXT,
            changes_by TEXT NOT NULL DEFAULT 'anyone' CHECK (changes_by IN ('anyone', 'admins')),
            changes_set_by TEXT,
            changes_set_at TEXT
        )
        """
    )


@migration
def m013_estimates(db: Database) -> None:
    # The day-one estimate: a snapshot (source 'estimate') dated 30 days before the live
    # snapshot it was worked out from (`based_on`), holding each model's all-time count
    # then: its all-time count minus its 30-day count. It knows nothing else, so its rows
    # hold 0 for the 30-day count and likes (the columns require a value) and every query
    # of those leaves estimates out. `floored` counts the models whose 30-day count was
    # above their all-time count, counted as zero; `whole` is 1 when it holds every family
    # of that snapshot (a store's first collection), 0 when it holds only families newly
    # added, which makes it no baseline for a ranking and no point of a sum of families.
    db.execute(
        """
        CREATE TABLE estimates (
            snapshot_id INTEGER PRIMARY KEY REFERENCES snapshots(id),
            based_on INTEGER NOT NULL REFERENCES snapshots(id),
            floored INTEGER NOT NULL,
            whole INTEGER NOT NULL
        )
        """
    )


@migration
def m014_slack_installations(db: Database) -> None:
    # The tables of slack_sdk's SQLite installation and state stores (each workspace's
    # tokens, and the install links' states), which Bolt's OAuth flow reads and writes
    # through those stores (bot.slack_stores). The stores would make them on first use;
    # made here, every store has its whole schema from its migrations, as a store on
    # PostgreSQL has (storage/schema_postgresql.py), and `openmodels port-db` finds them
    # to copy. The statements are slack_sdk's own (slack_sdk/oauth/installation_store/
    # sqlite3, slack_sdk/oauth/state_store/sqlite3; tests/test_slack_stores.py checks
    # they make what slack_sdk makes); IF NOT EXISTS keeps the tables of a store whose
    # stores made them already.
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS slack_installations (
            id integer primary key autoincrement,
            client_id text not null,
            app_id text not null,
            enterprise_id text not null default '',
            enterprise_name text,
            enterprise_url text,
            team_id text not null default '',
            team_name text,
            bot_token text,
            bot_id text,
            bot_user_id text,
            bot_scopes text,
            bot_refresh_token text,
            bot_token_expires_at datetime,
            user_id text not null,
            user_token text,
            user_scopes text,
            user_refresh_token text,
            user_token_expires_at datetime,
            incoming_webhook_url text,
            incoming_webhook_channel text,
            incoming_webhook_channel_id text,
            incoming_webhook_configuration_url text,
            is_enterprise_install boolean not null default 0,
            token_type text,
            installed_at datetime not null default current_timestamp
        )
        """
    )
    db.execute(
        """
        CREATE INDEX IF NOT EXISTS slack_installations_idx ON slack_installations (
            client_id, enterprise_id, team_id, user_id, installed_at
        )
        """
    )
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS slack_bots (
            id integer primary key autoincrement,
            client_id text not null,
            app_id text not null,
            enterprise_id text not null default '',
            enterprise_name text,
            team_id text not null default '',
            team_name text,
            bot_token text not null,
            bot_id text not null,
            bot_user_id text not null,
            bot_scopes text,
            bot_refresh_token text,
            bot_token_expires_at datetime,
            is_enterprise_install boolean not null default 0,
            installed_at datetime not null default current_timestamp
        )
        """
    )
    db.execute(
        """
        CREATE INDEX IF NOT EXISTS slack_bots_idx ON slack_bots (
            client_id, enterprise_id, team_id, installed_at
        )
        """
    )
    db.execute(
        """
        CREATE TABLE IF NOT EXISTS oauth_states (
            id integer primary key autoincrement,
            state text not null,
            expire_at datetime not null
        )
        """
    )


@migration
def m015_returned_models(db: Database) -> None:
    # Per snapshot and family, how many of its models came back: listed in an earlier
    # snapshot, missing from the one just before (storage.returns). Counted when a
    # snapshot is written, since finding them reads every model row; counted here for
    # the snapshots already held.
    db.execute(
        """
        CREATE TABLE returned_models (
            snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
            family TEXT NOT NULL,
            models INTEGER NOT NULL,
            PRIMARY KEY (snapshot_id, family)
        ) WITHOUT ROWID
        """
    )
    from storage.connection import Connection
    from storage.engines.sqlite import SQLiteConnection
    from storage.returns import recount_all

    recount_all(SQLiteConnection(Connection(db.conn)))
