"""Models that came back: listed in a snapshot, missing from the one before, listed earlier.

A model's all-time count is everything it was ever downloaded, so when a model comes
back (an organisation renamed back, a listing that skipped it, a repository made public
again) its family's total rises by its whole count at once: no figure may read that as
growth. Finding such models takes every model row, far too many to read on each answer,
so each snapshot's are counted when it is written (`recount_returns`) and kept per
family in `returned_models`; the comparability rule reads them from there
(`openmodels.comparability`).
"""

from __future__ import annotations

from collections.abc import Sequence

from storage.sql import Connection, planned_per_call


def recount_returns(db: Connection, taken_at: str, snapshot_id: int) -> None:
    """Count afresh the models that came back in each snapshot from the one taken at
    `taken_at` (id `snapshot_id`) on, inside the caller's open transaction.

    A snapshot written before others changes what the one after it follows, and may be
    the earlier listing that makes a later one a return, so every later snapshot is
    counted again; a collection writes the newest snapshot, which counts itself alone.
    """
    position = [taken_at, snapshot_id]
    before = db.execute(
        """SELECT id FROM snapshots WHERE (taken_at, id) < (?, ?)
           ORDER BY taken_at DESC, id DESC LIMIT 1""",
        position,
    ).fetchone()
    later = [
        int(r[0])
        for r in db.execute(
            "SELECT id FROM snapshots WHERE (taken_at, id) >= (?, ?) ORDER BY taken_at, id",
            position,
        )
    ]
    db.execute(
        """DELETE FROM returned_models WHERE snapshot_id IN
           (SELECT id FROM snapshots WHERE (taken_at, id) >= (?, ?))""",
        position,
    )
    previous = int(before[0]) if before else None
    with planned_per_call(db):
        for current in later:
            if previous is not None:
                _count(db, previous, current)
            previous = current


def recount_all(db: Connection) -> None:
    """Count the models that came back in every snapshot the store holds (a store made
    before they were counted: its migration on either engine)."""
    first = db.execute("SELECT taken_at, id FROM snapshots ORDER BY taken_at, id LIMIT 1")
    row = first.fetchone()
    if row is not None:
        recount_returns(db, row[0], int(row[1]))


def _count(db: Connection, previous: int, current: int) -> None:
    # A model of `current` missing from `previous` that some snapshot listed before it
    # (its first listing is not `current`) came back. Only families `previous` holds
    # count: a snapshot holding some families alone (an estimate for families newly
    # added) says nothing of the others' models.
    if db.engine == "postgresql":
        _count_packed(db, previous, current)
        return
    db.execute(
        """INSERT INTO returned_models (snapshot_id, family, models)
           SELECT c.snapshot_id, m.family, count(*)
           FROM model_counts c JOIN models m ON m.id = c.model_id
           WHERE c.snapshot_id = ? AND m.first_snapshot_id != c.snapshot_id
             AND NOT EXISTS (SELECT 1 FROM model_counts p
                             WHERE p.snapshot_id = ? AND p.model_id = c.model_id)
             AND EXISTS (SELECT 1 FROM family_totals t
                         WHERE t.snapshot_id = ? AND t.family = m.family)
           GROUP BY m.family""",
        [current, previous, previous],
    )


def _count_packed(db: Connection, previous: int, current: int) -> None:
    """`_count` on PostgreSQL's packed counts (storage/schema_postgresql.py). A model's
    block is its id's, in every snapshot: a block whose ids are those of the snapshot
    before, in the same order (as a steady day writes them), holds no model that came
    back, and only the other blocks' ids are unpacked and compared. Without that, the
    count unpacked and matched both snapshots' ids: a sixth of a snapshot's write."""
    db.execute(
        """WITH changed AS MATERIALIZED (
               SELECT b.model_ids AS listed, p.model_ids AS before
               FROM model_count_blocks b LEFT JOIN model_count_blocks p
                 ON p.snapshot_id = ? AND p.block = b.block
               WHERE b.snapshot_id = ? AND b.model_ids IS DISTINCT FROM p.model_ids)
           INSERT INTO returned_models (snapshot_id, family, models)
           SELECT ?, m.family, count(*)
           FROM changed CROSS JOIN LATERAL unnest(changed.listed) AS c (model_id)
           JOIN models m ON m.id = c.model_id
           WHERE m.first_snapshot_id != ?
             AND c.model_id NOT IN (SELECT unnest(before) FROM changed)
             AND EXISTS (SELECT 1 FROM family_totals t
                         WHERE t.snapshot_id = ? AND t.family = m.family)
           GROUP BY m.family""",
        [previous, current, current, current, previous],
    )


def listed_ids(db: Connection) -> str:
    """A query of the ids (`model_id`) of the models one snapshot lists, its one parameter
    the snapshot's id. On PostgreSQL read from the packed ids alone: the view
    `model_counts` would unpack every count beside them, four times the work
    (storage/schema_postgresql.py)."""
    if db.engine == "postgresql":
        return "SELECT unnest(model_ids) AS model_id FROM model_count_blocks WHERE snapshot_id = ?"
    return "SELECT model_id FROM model_counts WHERE snapshot_id = ?"


def returned_families(db: Connection, snapshot_ids: Sequence[int]) -> dict[int, frozenset[str]]:
    """Per snapshot of `snapshot_ids`, the families some of whose models came back in it."""
    found: dict[int, set[str]] = {i: set() for i in snapshot_ids}
    for snapshot_id, family in db.execute("SELECT snapshot_id, family FROM returned_models"):
        if snapshot_id in found:
            found[snapshot_id].add(family)
    return {i: frozenset(families) for i, families in found.items()}
