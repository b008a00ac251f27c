"""Estimated snapshots: written beside a collection, and what their label needs.

An estimate is a snapshot like any other (source `estimate`), so the comparability rule
and every series read it as they read the rest; this module keeps what is particular to
it (see `storage.schema.m012_estimates`): the snapshot it was worked out from, how many
models were counted as zero, and whether it holds every family of that snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.returns import listed_ids
from storage.snapshots import SOURCE_ESTIMATE, ModelRecord, insert_snapshot
from storage.sql import Connection, planned_per_call


@dataclass(frozen=True)
class EstimateNote:
    """What an estimated snapshot's label says."""

    snapshot_id: int
    taken_at: str  # 30 days before the snapshot it was worked out from
    based_on: int  # the live snapshot it was worked out from
    floored: int  # models whose estimate came out below zero, counted as zero
    whole: bool  # it holds every family of `based_on` (else only families newly added)


def insert_estimate(
    db: Connection,
    taken_at: datetime,
    rows: Sequence[ModelRecord],
    definitions: Mapping[str, str],
    *,
    based_on: int,
    floored: int,
    whole: bool,
) -> int:
    """Insert an estimated snapshot inside the caller's open transaction; return its id."""
    snapshot_id = insert_snapshot(db, taken_at, SOURCE_ESTIMATE, rows, definitions)
    db.execute(
        "INSERT INTO estimates (snapshot_id, based_on, floored, whole) VALUES (?, ?, ?, ?)",
        [snapshot_id, based_on, floored, int(whole)],
    )
    return snapshot_id


def estimate_notes(db: Connection) -> list[EstimateNote]:
    """Every estimated snapshot's note, oldest first (a store holds a handful)."""
    rows = db.execute(
        """SELECT e.snapshot_id, s.taken_at, e.based_on, e.floored, e.whole
           FROM estimates e JOIN snapshots s ON s.id = e.snapshot_id
           ORDER BY s.taken_at, s.id"""
    )
    return [EstimateNote(int(r[0]), r[1], int(r[2]), int(r[3]), bool(r[4])) for r in rows]


def delete_estimate(db: Connection, snapshot_id: int) -> None:
    """Remove estimated snapshot `snapshot_id` and all it holds, inside the caller's open
    transaction: measured history for its day replaces it (`openmodels.history_import`).
    The models first listed by it are first listed by their next snapshot then; the
    models that came back after it are counted again by the caller (`recount_returns`)."""
    counts = "model_count_blocks" if db.engine == "postgresql" else "model_counts"  # packed
    for table in (
        "estimates",
        counts,
        "family_totals",
        "snapshot_definitions",
        "returned_models",
        "anomalies",
        "alert_checks",
    ):
        db.execute(f"DELETE FROM {table} WHERE snapshot_id = ?", [snapshot_id])
    # The first other snapshot listing each model, in time order until none is left: most
    # are listed by the very next one. (One statement asking per model, as SQLite
    # could, would unpack every snapshot's counts per model on PostgreSQL.)
    others = db.execute(
        "SELECT id, taken_at FROM snapshots WHERE id != ? ORDER BY taken_at, id", [snapshot_id]
    ).fetchall()
    left = _first_listed_by(db, snapshot_id)
    with planned_per_call(db):
        for other, taken_at in others:
            if not left:
                break
            left -= db.execute(
                f"""UPDATE models SET first_snapshot_id = ?, first_seen_at = ?
                    WHERE first_snapshot_id = ? AND id IN ({listed_ids(db)})""",
                [other, taken_at, snapshot_id, other],
            ).rowcount
    db.execute(
        """UPDATE models SET first_snapshot_id = NULL, first_seen_at = NULL
           WHERE first_snapshot_id = ?""",
        [snapshot_id],
    )
    db.execute("DELETE FROM snapshots WHERE id = ?", [snapshot_id])


def _first_listed_by(db: Connection, snapshot_id: int) -> int:
    row = db.execute("SELECT count(*) FROM models WHERE first_snapshot_id = ?", [snapshot_id])
    return int(row.fetchone()[0])


def estimate_note(db: Connection, snapshot_id: int) -> EstimateNote | None:
    """The note of snapshot `snapshot_id`, if it is an estimate."""
    return next((n for n in estimate_notes(db) if n.snapshot_id == snapshot_id), None)


def families_counted_since(db: Connection, since: str, besides: int) -> set[str]:
    """The families with figures in a snapshot taken at or after `since` (a timestamp),
    other than snapshot `besides`."""
    rows = db.execute(
        """SELECT DISTINCT t.family FROM snapshots s JOIN family_totals t ON t.snapshot_id = s.id
           WHERE s.taken_at >= ? AND s.id != ?""",
        [since, besides],
    )
    return {r[0] for r in rows}
