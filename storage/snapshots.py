"""Writing snapshots: one transaction holds every model count and the family totals."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.connection import Database
from storage.model_sizes import Size, record_sizes
from storage.returns import recount_returns
from storage.store import Store

# Where a snapshot came from (`snapshots.source`). Only live snapshots are checked for
# alerts; imported history, the synthetic sample and estimates never are.
SOURCE_HUB = "hub"  # taken from the Hub by a collection
SOURCE_IMPORT = "import"  # history written by `openmodels import`
SOURCE_SAMPLE = "sample"  # the synthetic bundled sample
SOURCE_ESTIMATE = "estimate"  # all-time counts 30 days back, worked out by a collection


@dataclass(frozen=True, slots=True)  # slots: an import may hold a million
class ModelRecord:
    """One model's figures as seen in one snapshot.

    `derivatives` is the number of models on the Hub that name this one as their base;
    None when the source did not report it (never the same as 0).
    """

    repo_id: str
    family: str
    downloads_30d: int
    downloads_all_time: int
    likes: int = 0
    created_at: str | None = None
    pipeline_tag: str | None = None
    derivatives: int | None = None


@dataclass(frozen=True)
class FamilyTotal:
    """A family's summed figures in one snapshot.

    `derivatives` sums the models whose count is known; None when no model's is.
    """

    family: str
    downloads_30d: int
    downloads_all_time: int
    likes: int
    model_count: int
    derivatives: int | None = None


def family_totals(records: Iterable[ModelRecord]) -> list[FamilyTotal]:
    """Sum records per family, in family-name order. Pure."""
    sums: dict[str, list[int]] = {}
    derivatives: dict[str, int] = {}
    for r in records:
        s = sums.setdefault(r.family, [0, 0, 0, 0])
        s[0] += r.downloads_30d
        s[1] += r.downloads_all_time
        s[2] += r.likes
        s[3] += 1
        if r.derivatives is not None:
            derivatives[r.family] = derivatives.get(r.family, 0) + r.derivatives
    return [
        FamilyTotal(f, sums[f][0], sums[f][1], sums[f][2], sums[f][3], derivatives.get(f))
        for f in sorted(sums)
    ]


def format_timestamp(moment: datetime) -> str:
    """UTC ISO 8601 with a Z, second precision: sorts as text and reads in Datasette."""
    if moment.tzinfo is None:
        raise ValueError("snapshot times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def parse_timestamp(text: str) -> datetime:
    """A timestamp as `format_timestamp` writes it, back to an aware UTC datetime."""
    # Every answer parses one: fromisoformat is an order of magnitude faster than
    # strptime, but reads forms we never write, so the form is checked first.
    if _TIMESTAMP.fullmatch(text):
        return datetime.fromisoformat(text)
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def write_snapshot(
    store: Store,
    taken_at: datetime,
    source: str,
    records: Sequence[ModelRecord],
    definitions: Mapping[str, str] | None = None,
    sizes: Mapping[str, Size] | None = None,
) -> int:
    """Commit one snapshot (all its model rows and family totals) atomically; return its id.

    `definitions` (family key -> canonical definition) records by which rules each family
    was counted, in the same transaction; without it the snapshot's are "not recorded".
    `sizes` (repo id -> size) sets models' sizes in the same transaction.
    Duplicate repo ids keep their first record, so a model listed twice (two pages that
    overlap while the Hub re-sorts) is not counted twice.
    """
    rows = unique_records(records)
    with store.writing() as db:
        snapshot_id = insert_snapshot(db, taken_at, source, rows, definitions, sizes)
    return snapshot_id


def unique_records(records: Iterable[ModelRecord]) -> list[ModelRecord]:
    """`records` with each repo id once, its first record kept."""
    unique: dict[str, ModelRecord] = {}
    for record in records:
        unique.setdefault(record.repo_id, record)
    return list(unique.values())


def insert_snapshot(
    db: Database,
    taken_at: datetime,
    source: str,
    rows: Sequence[ModelRecord],
    definitions: Mapping[str, str] | None = None,
    sizes: Mapping[str, Size] | None = None,
    *,
    recount: bool = True,
) -> int:
    """Insert one snapshot inside the caller's open transaction.

    With `recount` False the models that came back are not counted (`recount_returns`):
    a caller writing many snapshots counts them once after the last.
    """
    cursor = db.execute(
        "INSERT INTO snapshots (taken_at, source, model_count) VALUES (?, ?, ?)",
        [format_timestamp(taken_at), source, len(rows)],
    )
    snapshot_id = int(cursor.lastrowid or 0)
    stamp = format_timestamp(taken_at)
    # A model's first sighting moves to this snapshot only if it is older than the one
    # recorded: imported history may be written after the live snapshots it precedes.
    db.conn.executemany(
        """
        INSERT INTO models (repo_id, family, created_at, pipeline_tag, first_snapshot_id,
                            first_seen_at)
        VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (repo_id) DO UPDATE SET
            family = excluded.family,
            created_at = coalesce(excluded.created_at, models.created_at),
            pipeline_tag = coalesce(excluded.pipeline_tag, models.pipeline_tag),
            first_snapshot_id = CASE WHEN coalesce(excluded.first_seen_at < models.first_seen_at, 1)
                THEN excluded.first_snapshot_id ELSE models.first_snapshot_id END,
            first_seen_at = CASE WHEN coalesce(excluded.first_seen_at < models.first_seen_at, 1)
                THEN excluded.first_seen_at ELSE models.first_seen_at END
        """,
        [(r.repo_id, r.family, r.created_at, r.pipeline_tag, snapshot_id, stamp) for r in rows],
    )
    ids = model_ids(db, [r.repo_id for r in rows])
    db.conn.executemany(
        """
        INSERT INTO model_counts
            (snapshot_id, model_id, downloads_30d, downloads_all_time, likes, derivatives)
        VALUES (?, ?, ?, ?, ?, ?)
        """,
        [
            (
                snapshot_id,
                ids[r.repo_id],
                r.downloads_30d,
                r.downloads_all_time,
                r.likes,
                r.derivatives,
            )
            for r in rows
        ],
    )
    db.conn.executemany(
        """
        INSERT INTO family_totals (snapshot_id, family, downloads_30d, downloads_all_time,
                                   likes, model_count, derivatives)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        """,
        [
            (
                snapshot_id,
                t.family,
                t.downloads_30d,
                t.downloads_all_time,
                t.likes,
                t.model_count,
                t.derivatives,
            )
            for t in family_totals(rows)
        ],
    )
    if definitions:
        insert_definitions(db, snapshot_id, definitions)
    if sizes:
        record_sizes(db, sizes)
    if recount:
        recount_returns(db, stamp, snapshot_id)
    return snapshot_id


def insert_definitions(db: Database, snapshot_id: int, definitions: Mapping[str, str]) -> None:
    """Record each family's definition for one snapshot; equal texts are stored once."""
    texts = sorted(set(definitions.values()))
    db.conn.executemany(
        "INSERT INTO family_definitions (definition) VALUES (?) ON CONFLICT DO NOTHING",
        [(t,) for t in texts],
    )
    db.conn.executemany(
        """
        INSERT INTO snapshot_definitions (snapshot_id, family, definition_id)
        SELECT ?, ?, id FROM family_definitions WHERE definition = ?
        """,
        [(snapshot_id, family, text) for family, text in sorted(definitions.items())],
    )


def model_ids(db: Database, repo_ids: Sequence[str]) -> dict[str, int]:
    """Map repo ids to their integer ids, in chunks under SQLite's variable limit."""
    found: dict[str, int] = {}
    for start in range(0, len(repo_ids), 500):
        chunk = repo_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(f"SELECT id, repo_id FROM models WHERE repo_id IN ({marks})", chunk):
            found[row[1]] = row[0]
    return found


def set_derivatives(db: Database, snapshot_id: int, counts: Mapping[str, int]) -> int:
    """Record the derivative counts of some models in the snapshot just written, and
    make its family totals the sum of the counts now known (NULL where none is).

    Run inside the caller's write transaction. Models of `counts` not in the snapshot are
    ignored; returns how many model rows were set.
    """
    ids = model_ids(db, list(counts))
    rows = [(counts[repo_id], snapshot_id, model_id) for repo_id, model_id in ids.items()]
    cursor = db.conn.executemany(
        "UPDATE model_counts SET derivatives = ? WHERE snapshot_id = ? AND model_id = ?", rows
    )
    set_rows = max(cursor.rowcount, 0)
    sums = db.execute(
        """SELECT m.family, sum(c.derivatives)
           FROM model_counts c JOIN models m ON m.id = c.model_id
           WHERE c.snapshot_id = ? GROUP BY m.family""",
        [snapshot_id],
    ).fetchall()
    db.conn.executemany(
        "UPDATE family_totals SET derivatives = ? WHERE snapshot_id = ? AND family = ?",
        [(total, snapshot_id, family) for family, total in sums],
    )
    return set_rows
