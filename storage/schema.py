"""Schema of the store, changed only through `sqlite_utils.Migrations`."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATION_SET = "openmodels"
migrations = Migrations(MIGRATION_SET)


@migrations()
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
    return frozenset(m.name for m in migrations.pending(Database(memory=True)))
