"""Writing snapshots: one transaction holds every model count and the family totals."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter

from storage.model_sizes import Size, record_sizes
from storage.returns import recount_returns
from storage.schema_postgresql import COUNTS_BLOCK
from storage.sql import Connection, Params, one_of
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
    db: Connection,
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
    stamp = format_timestamp(taken_at)
    snapshot_id = int(
        db.execute(
            "INSERT INTO snapshots (taken_at, source, model_count) VALUES (?, ?, ?) RETURNING id",
            [stamp, source, len(rows)],
        ).fetchone()[0]
    )
    if db.engine == "postgresql":
        _insert_models_by_copy(db, snapshot_id, stamp, rows)  # and the family totals
    else:
        _insert_models(db, snapshot_id, stamp, rows)
        db.executemany(
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


# A model seen again keeps its id; its family, and its creation date and task when the
# source gives them, follow the latest snapshot. Its first sighting moves to this
# snapshot only if it is older than the one recorded: imported history may be written
# after the live snapshots it precedes.
_MODEL_UPSERT = """
    ON CONFLICT (repo_id) DO UPDATE SET
        family = excluded.family,
        created_at = coalesce(excluded.created_at, models.created_at),
        pipeline_tag = coalesce(excluded.pipeline_tag, models.pipeline_tag),
        first_snapshot_id = CASE WHEN models.first_seen_at IS NULL
                                   OR excluded.first_seen_at < models.first_seen_at
            THEN excluded.first_snapshot_id ELSE models.first_snapshot_id END,
        first_seen_at = CASE WHEN models.first_seen_at IS NULL
                               OR excluded.first_seen_at < models.first_seen_at
            THEN excluded.first_seen_at ELSE models.first_seen_at END
"""


def _insert_models(
    db: Connection, snapshot_id: int, stamp: str, rows: Sequence[ModelRecord]
) -> None:
    """The models and their counts, row by row (SQLite: no round trips to save)."""
    db.executemany(
        """INSERT INTO models (repo_id, family, created_at, pipeline_tag, first_snapshot_id,
                               first_seen_at)
           VALUES (?, ?, ?, ?, ?, ?)"""
        + _MODEL_UPSERT,
        [(r.repo_id, r.family, r.created_at, r.pipeline_tag, snapshot_id, stamp) for r in rows],
    )
    ids = model_ids(db, [r.repo_id for r in rows])
    db.executemany(
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


_INCOMING = (
    "repo_id",
    "family",
    "created_at",
    "pipeline_tag",
    "downloads_30d",
    "downloads_all_time",
    "likes",
    "derivatives",
)


# Whether an incoming model (i) differs from the stored one (m) in what the upsert
# above would change: its family, creation date or task, or its first sighting.
_CHANGED = """(m.family IS DISTINCT FROM i.family
               OR coalesce(i.created_at, m.created_at) IS DISTINCT FROM m.created_at
               OR coalesce(i.pipeline_tag, m.pipeline_tag) IS DISTINCT FROM m.pipeline_tag
               OR m.first_seen_at IS NULL OR :stamp < m.first_seen_at)"""


def _insert_models_by_copy(
    db: Connection, snapshot_id: int, stamp: str, rows: Sequence[ModelRecord]
) -> None:
    """The models, and their counts packed by block of ids, through one COPY into a
    scratch table (PostgreSQL: see storage/schema_postgresql.py).

    A statement per model costs a round trip each, tens of thousands per snapshot; COPY
    sends them all at once. Then one pass matches the incoming models with the stored
    ones, packs the counts of those stored, and says whether any is new or changed; only
    then are those upserted (PostgreSQL writes a new row version for every row an UPDATE
    touches, even one set to what it was) and the new ones' counts packed. A day like
    most, with no model new or changed, costs one match instead of two.
    """
    from storage.engines.postgres import PostgresConnection

    assert isinstance(db, PostgresConnection)
    # The scratch table stays with the connection, emptied at every commit: made once
    # per connection, not per snapshot (making and dropping a table writes the system
    # catalogues: 3 ms of a 50 ms write, measured). A transaction writing several
    # snapshots (an import, a day-one estimate) empties it between them.
    db.execute(
        """CREATE TEMPORARY TABLE IF NOT EXISTS incoming_models (
               repo_id text COLLATE "C", family text, created_at text, pipeline_tag text,
               downloads_30d bigint, downloads_all_time bigint, likes integer,
               derivatives integer
           ) ON COMMIT DELETE ROWS"""
    )
    if "incoming_models" in db.filled:
        db.execute("TRUNCATE incoming_models")
    db.filled.add("incoming_models")
    db.copy_rows(
        "incoming_models",
        _INCOMING,
        map(attrgetter(*_INCOMING), rows),  # a tuple per record, made in C
        types=("text", "text", "text", "text", "int8", "int8", "int4", "int4"),
    )
    given = {"snapshot": snapshot_id, "stamp": stamp}
    # The family totals, summed where the rows are (family_totals' sums, in SQL: a sum
    # of no known derivatives is NULL in both).
    db.execute(
        """INSERT INTO family_totals (snapshot_id, family, downloads_30d, downloads_all_time,
                                      likes, model_count, derivatives)
           SELECT :snapshot, family, sum(downloads_30d), sum(downloads_all_time), sum(likes),
                  count(*), sum(derivatives)
           FROM incoming_models GROUP BY family""",
        given,
    )
    # The models stored already: their counts packed, and whether any has changed. The
    # scratch table has no statistics: PostgreSQL, expecting a block per model, would
    # sort the 20,000 joined rows to group them (a tenth of the write, measured) where
    # a hash of the 80 blocks does; so no sort, for this statement only.
    stored = f"""SELECT :snapshot AS snapshot_id, m.id AS model_id, i.downloads_30d,
                        i.downloads_all_time, i.likes, i.derivatives, {_CHANGED} AS changed
                 FROM incoming_models i JOIN models m ON m.repo_id = i.repo_id"""
    db.execute("SET LOCAL enable_sort = off")
    [(packed, changed)] = db.execute(
        f"""WITH blocks AS MATERIALIZED ({_blocks(stored, "bool_or(changed) AS changed")}),
                 written AS (INSERT INTO model_count_blocks ({_BLOCK_COLUMNS})
                             SELECT {_BLOCK_COLUMNS} FROM blocks)
            SELECT coalesce(sum(cardinality(model_ids)), 0)::integer,
                   coalesce(bool_or(changed), false)
            FROM blocks""",
        given,
    ).fetchall()
    db.execute("RESET enable_sort")
    if packed == len(rows) and not changed:
        return
    # New models, and changed ones if any (matched again, which only a change costs).
    db.execute(
        """INSERT INTO models (repo_id, family, created_at, pipeline_tag, first_snapshot_id,
                               first_seen_at)
           SELECT i.repo_id, i.family, i.created_at, i.pipeline_tag, :snapshot, :stamp
           FROM incoming_models i """
        + (
            f"LEFT JOIN models m ON m.repo_id = i.repo_id WHERE m.id IS NULL OR {_CHANGED}"
            if changed
            else "WHERE NOT EXISTS (SELECT FROM models m WHERE m.repo_id = i.repo_id)"
        )
        + _MODEL_UPSERT,
        given,
    )
    if packed == len(rows):
        return
    # The models seen for the first time: stored now, first seen in this snapshot, and
    # (when some were packed above) not among those (a model whose first sighting moved
    # to this snapshot was stored before, and packed). Their ids may share a block
    # packed above.
    not_packed = f"""AND NOT EXISTS (
        SELECT FROM model_count_blocks b
        WHERE b.snapshot_id = :snapshot AND b.block = m.id / {COUNTS_BLOCK}
          AND m.id = ANY (b.model_ids))"""
    pack_counts(
        db,
        f"""SELECT :snapshot AS snapshot_id, m.id AS model_id, i.downloads_30d,
                   i.downloads_all_time, i.likes, i.derivatives
            FROM incoming_models i JOIN models m ON m.repo_id = i.repo_id
            WHERE m.first_snapshot_id = :snapshot {not_packed if packed else ""}""",
        given,
    )


_BLOCK_COLUMNS = (
    "snapshot_id, block, model_ids, downloads_30d, downloads_all_time, likes, derivatives"
)


def _blocks(counts: str, *extra: str) -> str:
    """The model counts `counts` selects (snapshot_id, model_id, downloads_30d,
    downloads_all_time, likes, derivatives), grouped into PostgreSQL's packed blocks
    (the columns of model_count_blocks, and `extra` aggregates).

    The arrays of a block need no order, only the same one: the aggregates of one row
    of a grouped query take its rows in one sequence, so the n-th element of each array
    belongs to the n-th model id. (An ORDER BY in each aggregate would sort each apart:
    a third of a snapshot's write, measured.)
    """
    return f"""SELECT snapshot_id, model_id / {COUNTS_BLOCK} AS block,
                      array_agg(model_id) AS model_ids, array_agg(downloads_30d) AS downloads_30d,
                      array_agg(downloads_all_time) AS downloads_all_time,
                      array_agg(likes) AS likes, array_agg(derivatives) AS derivatives
                      {"".join(", " + e for e in extra)}
               FROM ({counts}) AS counted
               GROUP BY snapshot_id, model_id / {COUNTS_BLOCK}"""


def pack_counts(db: Connection, counts: str, params: Params = ()) -> None:
    """Write the model counts `counts` selects (snapshot_id, model_id, downloads_30d,
    downloads_all_time, likes, derivatives) into PostgreSQL's packed blocks; a block
    the snapshot has already gets them added to its arrays."""
    db.execute(
        f"""INSERT INTO model_count_blocks AS b ({_BLOCK_COLUMNS})
            SELECT {_BLOCK_COLUMNS} FROM ({_blocks(counts)}) AS packed
            ON CONFLICT (snapshot_id, block) DO UPDATE SET
                model_ids = b.model_ids || excluded.model_ids,
                downloads_30d = b.downloads_30d || excluded.downloads_30d,
                downloads_all_time = b.downloads_all_time || excluded.downloads_all_time,
                likes = b.likes || excluded.likes,
                derivatives = b.derivatives || excluded.derivatives""",
        params,
    )


def insert_definitions(db: Connection, snapshot_id: int, definitions: Mapping[str, str]) -> None:
    """Record each family's definition for one snapshot; equal texts are stored once."""
    texts = sorted(set(definitions.values()))
    db.executemany(
        "INSERT INTO family_definitions (definition) VALUES (?) ON CONFLICT DO NOTHING",
        [(t,) for t in texts],
    )
    db.executemany(
        """
        INSERT INTO snapshot_definitions (snapshot_id, family, definition_id)
        SELECT ?, ?, id FROM family_definitions WHERE definition = ?
        """,
        [(snapshot_id, family, text) for family, text in sorted(definitions.items())],
    )


def model_ids(db: Connection, repo_ids: Sequence[str]) -> dict[str, int]:
    """Map repo ids to their integer ids, in chunks under SQLite's variable limit."""
    found: dict[str, int] = {}
    for start in range(0, len(repo_ids), 500):
        chunk = repo_ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(f"SELECT id, repo_id FROM models WHERE repo_id IN ({marks})", chunk):
            found[row[1]] = row[0]
    return found


def set_derivatives(db: Connection, snapshot_id: int, counts: Mapping[str, int]) -> int:
    """Record the derivative counts of some models in the snapshot just written, and
    make its family totals the sum of the counts now known (NULL where none is).

    Run inside the caller's write transaction. Models of `counts` not in the snapshot are
    ignored; returns how many model rows were set.
    """
    ids = model_ids(db, list(counts))
    by_id = {model_id: counts[repo_id] for repo_id, model_id in ids.items()}
    if db.engine == "postgresql":
        set_rows = _set_packed_derivatives(db, snapshot_id, by_id)
    else:
        cursor = db.executemany(
            "UPDATE model_counts SET derivatives = ? WHERE snapshot_id = ? AND model_id = ?",
            [(n, snapshot_id, model_id) for model_id, n in by_id.items()],
        )
        set_rows = max(cursor.rowcount, 0)
    sums = db.execute(
        """SELECT m.family, sum(c.derivatives)
           FROM model_counts c JOIN models m ON m.id = c.model_id
           WHERE c.snapshot_id = ? GROUP BY m.family""",
        [snapshot_id],
    ).fetchall()
    db.executemany(
        "UPDATE family_totals SET derivatives = ? WHERE snapshot_id = ? AND family = ?",
        [(total, snapshot_id, family) for family, total in sums],
    )
    return set_rows


def _set_packed_derivatives(db: Connection, snapshot_id: int, counts: Mapping[int, int]) -> int:
    """Set derivative counts (model id -> count) in one snapshot's packed blocks
    (PostgreSQL); returns how many models of the snapshot were set."""
    blocks = sorted({model_id // COUNTS_BLOCK for model_id in counts})
    found = db.execute(
        f"""SELECT block, model_ids, derivatives FROM model_count_blocks
            WHERE snapshot_id = ? AND {one_of("block", len(blocks))} FOR UPDATE""",
        [snapshot_id, *blocks],
    ).fetchall()
    updates, set_rows = [], 0
    for block, ids, derivatives in found:
        changed = [counts.get(model_id, n) for model_id, n in zip(ids, derivatives, strict=True)]
        set_rows += sum(model_id in counts for model_id in ids)
        updates.append((changed, snapshot_id, block))
    db.executemany(
        """UPDATE model_count_blocks SET derivatives = ?::integer[]
           WHERE snapshot_id = ? AND block = ?""",
        updates,
    )
    return set_rows
