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

from storage.connection import Database


def recount_returns(db: Database, taken_at: str, snapshot_id: int) -> None:
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
    for current in later:
        if previous is not None:
            _count(db, previous, current)
        previous = current


def _count(db: Database, previous: int, current: int) -> None:
    # A model of `current` missing from `previous` that some snapshot listed before it
    # (its first listing is not `current`) came back. Only families `previous` holds
    # count: a snapshot holding some families alone (an estimate for families newly
    # added) says nothing of the others' models.
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


def returned_families(db: Database, snapshot_ids: Sequence[int]) -> dict[int, frozenset[str]]:
    """Per snapshot of `snapshot_ids`, the families some of whose models came back in it."""
    found: dict[int, set[str]] = {i: set() for i in snapshot_ids}
    for snapshot_id, family in db.execute("SELECT snapshot_id, family FROM returned_models"):
        if snapshot_id in found:
            found[snapshot_id].add(family)
    return {i: frozenset(families) for i, families in found.items()}
