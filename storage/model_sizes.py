"""Model sizes in the store: one row per model, and downloads summed by size class.

A size is kept per model (`model_sizes`), not per snapshot: every snapshot's downloads
are summed by the sizes known now, so a size read later moves a model's downloads into
its class in every snapshot alike. The classes are the caller's (`openmodels.sizes`):
this module only sums by the bounds it is given. Plain SQL, in the subset SQLite and
PostgreSQL read alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

UNKNOWN = "unknown"  # the class and the source of a model without a known size


class Size(Protocol):
    """What the store keeps of a model's size (`openmodels.sizes.ModelSize` is one)."""

    @property
    def parameters(self) -> int | None: ...

    @property
    def active(self) -> int | None: ...

    @property
    def source(self) -> str: ...


class SizeRow(NamedTuple):
    """A model's total parameters (None: unknown), active parameters per token when
    known, and where the figure came from."""

    parameters: int | None
    active: int | None
    source: str


def record_sizes(db: Any, sizes: Mapping[str, Size]) -> None:
    """Set the size of each model of `sizes` (by repo id) that the store holds, inside
    the caller's write transaction. A row whose size is unchanged is not rewritten."""
    rows = [(s.parameters, s.active, s.source, repo_id) for repo_id, s in sorted(sizes.items())]
    db.conn.executemany(
        """
        INSERT INTO model_sizes (model_id, parameters, active_parameters, source)
        SELECT id, ?, ?, ? FROM models WHERE repo_id = ?
        ON CONFLICT (model_id) DO UPDATE SET
            parameters = excluded.parameters,
            active_parameters = excluded.active_parameters,
            source = excluded.source
        WHERE coalesce(model_sizes.parameters, -1) <> coalesce(excluded.parameters, -1)
           OR coalesce(model_sizes.active_parameters, -1)
              <> coalesce(excluded.active_parameters, -1)
           OR model_sizes.source <> excluded.source
        """,
        rows,
    )


def unsized(db: Any) -> list[str]:
    """Repo ids of the stored models that have no size row yet (stored before sizes
    were kept, or only in imported history)."""
    rows = db.execute(
        """SELECT m.repo_id FROM models m
           WHERE NOT EXISTS (SELECT 1 FROM model_sizes z WHERE z.model_id = m.id)
           ORDER BY m.repo_id"""
    )
    return [r[0] for r in rows]


def size_of(db: Any, repo_id: str) -> SizeRow | None:
    """The size recorded for one model, if any."""
    row = db.execute(
        """SELECT z.parameters, z.active_parameters, z.source
           FROM model_sizes z JOIN models m ON m.id = z.model_id WHERE m.repo_id = ?""",
        [repo_id],
    ).fetchone()
    return SizeRow(*row) if row else None


def parameters_of(db: Any, model_ids: Sequence[int]) -> dict[int, int | None]:
    """Total parameters of each model of `model_ids` that has a size row (None: unknown)."""
    found: dict[int, int | None] = {}
    unique = sorted(set(model_ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        rows = db.execute(
            f"""SELECT model_id, parameters FROM model_sizes
                WHERE model_id IN ({",".join("?" * len(chunk))})""",
            chunk,
        )
        found.update({model_id: parameters for model_id, parameters in rows})
    return found


@dataclass(frozen=True)
class ClassDownloads:
    """A family's downloads in one snapshot from its models of one size class whose size
    came from one source."""

    family: str
    size_class: str
    source: str
    downloads_all_time: int
    downloads_30d: int


def class_downloads(
    db: Any,
    snapshot_ids: Sequence[int],
    bounds: Sequence[tuple[str, int]],
    families: Sequence[str] | None = None,
) -> dict[int, list[ClassDownloads]]:
    """Per snapshot, downloads summed by family, size class and size source.

    `bounds` are the classes as (key, fewest parameters), smallest first: a model is in
    the last class whose bound it reaches; one without a known size is in UNKNOWN.
    `families` (None: every family) narrows it to some families.
    """
    found: dict[int, list[ClassDownloads]] = {i: [] for i in snapshot_ids}
    if not snapshot_ids or families == []:
        return found
    cases = " ".join("WHEN z.parameters >= ? THEN ?" for _ in bounds)
    case_params = [value for key, low in reversed(bounds) for value in (low, key)]
    wanted = "" if families is None else f"AND m.family IN ({','.join('?' * len(families))})"
    rows = db.execute(
        f"""SELECT c.snapshot_id, m.family,
                   CASE WHEN z.parameters IS NULL THEN ? {cases} ELSE ? END AS size_class,
                   coalesce(z.source, ?) AS size_source,
                   sum(c.downloads_all_time), sum(c.downloads_30d)
            FROM model_counts c
            JOIN models m ON m.id = c.model_id
            LEFT JOIN model_sizes z ON z.model_id = c.model_id
            WHERE c.snapshot_id IN ({",".join("?" * len(snapshot_ids))}) {wanted}
            GROUP BY c.snapshot_id, m.family, size_class, size_source""",
        [UNKNOWN, *case_params, bounds[0][0], UNKNOWN, *snapshot_ids, *(families or ())],
    )
    for snapshot_id, family, size_class, source, all_time, thirty in rows:
        found[snapshot_id].append(
            ClassDownloads(family, size_class, source, int(all_time), int(thirty))
        )
    return found
