"""Model sizes in the store: one row per model, and downloads summed by size class.

A size is kept per model (`model_sizes`), not per snapshot: every snapshot's downloads
are summed by the sizes known now, so a size read later moves a model's downloads into
its class in every snapshot alike. The classes are the caller's (`openmodels.sizes`):
this module only sums by the bounds it is given. Plain SQL, in the subset SQLite and
PostgreSQL read alike; on PostgreSQL the sizes recorded with a snapshot go through COPY,
as its counts do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol, TypeVar

from storage.sql import Connection, one_of

UNKNOWN = "unknown"  # the class and the source of a model without a known size


class Size(Protocol):
    """What the store keeps of a model's size (`openmodels.sizes.ModelSize` is one)."""

    @property
    def parameters(self) -> int | None: ...

    @property
    def active(self) -> int | None: ...

    @property
    def source(self) -> str: ...


SizeT = TypeVar("SizeT", bound=Size)


class SizeRow(NamedTuple):
    """A model's total parameters (None: unknown), active parameters per token when
    known, and where the figure came from."""

    parameters: int | None
    active: int | None
    source: str


# A model's size row, inserted, or rewritten only where it differs from the one stored
# (a collection sends only sizes that differ, but another writer may have set the same).
_SIZE_UPSERT = """
    ON CONFLICT (model_id) DO UPDATE SET
        parameters = excluded.parameters,
        active_parameters = excluded.active_parameters,
        source = excluded.source
    WHERE coalesce(model_sizes.parameters, -1) <> coalesce(excluded.parameters, -1)
       OR coalesce(model_sizes.active_parameters, -1) <> coalesce(excluded.active_parameters, -1)
       OR model_sizes.source <> excluded.source
"""


def record_sizes(db: Connection, sizes: Mapping[str, Size]) -> None:
    """Set the size of each model of `sizes` (by repo id) that the store holds, inside
    the caller's write transaction. A row whose size is unchanged is not rewritten."""
    rows = [(repo_id, s.parameters, s.active, s.source) for repo_id, s in sorted(sizes.items())]
    if db.engine == "postgresql":
        _record_sizes_by_copy(db, rows)
        return
    db.executemany(
        """
        INSERT INTO model_sizes (model_id, parameters, active_parameters, source)
        SELECT id, ?, ?, ? FROM models WHERE repo_id = ?
        """
        + _SIZE_UPSERT,
        [(parameters, active, source, repo_id) for repo_id, parameters, active, source in rows],
    )


def _record_sizes_by_copy(
    db: Connection, rows: Sequence[tuple[str, int | None, int | None, str]]
) -> None:
    """The sizes through one COPY into a scratch table and one statement (PostgreSQL).

    The first collection, or an import, sizes every model at once: a statement per model
    would cost the server one each, tens of thousands, where COPY and one join cost a
    few milliseconds. Only sizes new or changed reach the upsert: PostgreSQL locks, and
    so rewrites, every row an ON CONFLICT meets.
    """
    from storage.engines.postgres import PostgresConnection

    assert isinstance(db, PostgresConnection)
    db.execute(
        """CREATE TEMPORARY TABLE incoming_sizes (
               repo_id text COLLATE "C", parameters bigint, active_parameters bigint,
               source text COLLATE "C"
           ) ON COMMIT DROP"""
    )
    db.copy_rows(
        "incoming_sizes",
        ("repo_id", "parameters", "active_parameters", "source"),
        rows,
        types=("text", "int8", "int8", "text"),
    )
    db.execute(
        """INSERT INTO model_sizes (model_id, parameters, active_parameters, source)
           SELECT m.id, i.parameters, i.active_parameters, i.source
           FROM incoming_sizes i JOIN models m ON m.repo_id = i.repo_id
           LEFT JOIN model_sizes z ON z.model_id = m.id
           WHERE z.model_id IS NULL
              OR z.parameters IS DISTINCT FROM i.parameters
              OR z.active_parameters IS DISTINCT FROM i.active_parameters
              OR z.source IS DISTINCT FROM i.source"""
        + _SIZE_UPSERT
    )
    db.execute("DROP TABLE incoming_sizes")


def stored_sizes(db: Connection) -> dict[str, SizeRow | None]:
    """Every stored model's size by repo id (None: it has no size row yet)."""
    rows = db.execute(
        """SELECT m.repo_id, z.parameters, z.active_parameters, z.source
           FROM models m LEFT JOIN model_sizes z ON z.model_id = m.id"""
    )
    return {r[0]: None if r[3] is None else SizeRow(r[1], r[2], r[3]) for r in rows}


def changed_sizes(
    sizes: Mapping[str, SizeT], stored: Mapping[str, SizeRow | None]
) -> dict[str, SizeT]:
    """Those of `sizes` that differ from the size `stored` for their model, or whose
    model has none (or is not stored yet): all a snapshot needs to record. Pure."""
    return {
        repo_id: size
        for repo_id, size in sizes.items()
        if stored.get(repo_id) != (size.parameters, size.active, size.source)
    }


def unsized(db: Connection) -> list[str]:
    """Repo ids of the stored models that have no size row yet (stored before sizes
    were kept, or only in imported history)."""
    rows = db.execute(
        """SELECT m.repo_id FROM models m
           WHERE NOT EXISTS (SELECT 1 FROM model_sizes z WHERE z.model_id = m.id)
           ORDER BY m.repo_id"""
    )
    return [r[0] for r in rows]


def size_of(db: Connection, repo_id: str) -> SizeRow | None:
    """The size recorded for one model, if any."""
    row = db.execute(
        """SELECT z.parameters, z.active_parameters, z.source
           FROM model_sizes z JOIN models m ON m.id = z.model_id WHERE m.repo_id = ?""",
        [repo_id],
    ).fetchone()
    return SizeRow(*row) if row else None


def parameters_of(db: Connection, model_ids: Sequence[int]) -> dict[int, int | None]:
    """Total parameters of each model of `model_ids` that has a size row (None: unknown)."""
    found: dict[int, int | None] = {}
    unique = sorted(set(model_ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        rows = db.execute(
            f"SELECT model_id, parameters FROM model_sizes WHERE {one_of('model_id', len(chunk))}",
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
    db: Connection,
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
    wanted = "" if families is None else "AND " + one_of("m.family", len(families))
    rows = db.execute(
        f"""SELECT c.snapshot_id, m.family,
                   CASE WHEN z.parameters IS NULL THEN ? {cases} ELSE ? END AS size_class,
                   coalesce(z.source, ?) AS size_source,
                   sum(c.downloads_all_time), sum(c.downloads_30d)
            FROM model_counts c
            JOIN models m ON m.id = c.model_id
            LEFT JOIN model_sizes z ON z.model_id = c.model_id
            WHERE {one_of("c.snapshot_id", len(snapshot_ids))} {wanted}
            GROUP BY c.snapshot_id, m.family, size_class, size_source""",
        [UNKNOWN, *case_params, bounds[0][0], UNKNOWN, *snapshot_ids, *(families or ())],
    )
    for snapshot_id, family, size_class, source, all_time, thirty in rows:
        found[snapshot_id].append(
            ClassDownloads(family, size_class, source, int(all_time), int(thirty))
        )
    return found
