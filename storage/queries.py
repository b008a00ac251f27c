"""Read-only queries over the store, returning plain data.

Rankings read the precomputed `family_totals` rows of two snapshots, never every
model. Each function takes an open `Connection` so a caller can run several inside
one read transaction (see `Store.reading`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from openmodels.periods import A_DAY
from storage.jobs import JobRun, all_runs
from storage.snapshots import (
    SOURCE_ESTIMATE,
    SOURCE_HUB,
    SOURCE_IMPORT,
    SOURCE_SAMPLE,
    FamilyTotal,
    format_timestamp,
    parse_timestamp,
)
from storage.sql import Connection, one_of

METRIC_COLUMNS = {
    "all_time": "downloads_all_time",
    "30d": "downloads_30d",
    "derivatives": "derivatives",  # NULL where not measured: such rows are left out
}
# An estimated snapshot knows all-time counts only (storage.schema.m012_estimates): every
# read of another metric leaves it out, as a derivative count not measured is left out.
ESTIMATED_METRICS = frozenset({"all_time"})
# The least a baseline may lie before the latest snapshot: a change over a period is
# a change over at least a day (give or take a daily collection's drift), never between
# two collections of the same morning.
MIN_BASELINE_AGE = A_DAY
_ESTIMATED_IDS = f"SELECT id FROM snapshots WHERE source = '{SOURCE_ESTIMATE}'"
_PARTIAL_IDS = "SELECT snapshot_id FROM estimates WHERE whole = 0"


def _measured(metric: str, column: str = "snapshot_id", estimates: bool = True) -> str:
    """A condition on `column` (a snapshot id) leaving out the snapshots that do not hold
    `metric`: estimates, for any metric but all-time downloads (or with `estimates`
    False, for every metric)."""
    if estimates and metric in ESTIMATED_METRICS:
        return ""
    return f"AND {column} NOT IN ({_ESTIMATED_IDS})"


@dataclass(frozen=True)
class Snapshot:
    id: int
    taken_at: str
    source: str
    model_count: int

    @property
    def is_sample(self) -> bool:
        return self.source == SOURCE_SAMPLE

    @property
    def is_history(self) -> bool:
        """Written by `openmodels import`: it shows trends but never alerts or digests."""
        return self.source == SOURCE_IMPORT

    @property
    def is_live(self) -> bool:
        """Taken from the Hub by a collection: the only kind that may raise an alert."""
        return self.source == SOURCE_HUB

    @property
    def is_estimate(self) -> bool:
        """Worked out from the next collection's 30-day counts: all-time counts only."""
        return self.source == SOURCE_ESTIMATE

    @property
    def date(self) -> str:
        return self.taken_at[:10]


@dataclass(frozen=True)
class ModelPoint:
    """A model's figures in one snapshot; an estimated one knows its all-time count only."""

    taken_at: str
    downloads_30d: int | None
    downloads_all_time: int
    likes: int | None
    estimated: bool = False


@dataclass(frozen=True)
class ModelRow:
    repo_id: str
    family: str
    downloads_30d: int
    downloads_all_time: int
    likes: int
    created_at: str | None
    pipeline_tag: str | None
    derivatives: int | None = None


@dataclass(frozen=True)
class StoreStats:
    snapshot_count: int
    first: Snapshot | None
    latest: Snapshot | None
    family_count: int
    model_count: int
    imported_count: int = 0
    estimated_count: int = 0


def _counts_of(db: Connection, counts: str, model_id: str) -> str:
    """The join condition of `counts` (model_counts) on one model's rows. PostgreSQL
    keeps the counts packed by block of model ids (storage/schema_postgresql.py): naming
    the block lets it read one block per snapshot instead of unpacking every count."""
    same = f"{counts}.model_id = {model_id}"
    if db.engine == "postgresql":
        from storage.schema_postgresql import COUNTS_BLOCK

        return f"{counts}.block = {model_id} / {COUNTS_BLOCK} AND {same}"
    return same


def _snapshot(row: tuple) -> Snapshot:
    return Snapshot(int(row[0]), row[1], row[2], int(row[3]))


_SNAPSHOT_COLS = "id, taken_at, source, model_count"


def latest_snapshot(db: Connection) -> Snapshot | None:
    row = db.execute(
        f"SELECT {_SNAPSHOT_COLS} FROM snapshots ORDER BY taken_at DESC, id DESC LIMIT 1"
    ).fetchone()
    return _snapshot(row) if row else None


def previous_snapshot(
    db: Connection, snapshot: Snapshot, *, estimates: bool = True
) -> Snapshot | None:
    """The snapshot just before `snapshot`, if any (without estimated ones if `estimates`
    is False)."""
    skip = "" if estimates else f"AND source != '{SOURCE_ESTIMATE}'"
    row = db.execute(
        f"""SELECT {_SNAPSHOT_COLS} FROM snapshots
            WHERE (taken_at, id) < (?, ?) {skip} ORDER BY taken_at DESC, id DESC LIMIT 1""",
        [snapshot.taken_at, snapshot.id],
    ).fetchone()
    return _snapshot(row) if row else None


def list_snapshots(db: Connection) -> list[Snapshot]:
    rows = db.execute(f"SELECT {_SNAPSHOT_COLS} FROM snapshots ORDER BY taken_at, id")
    return [_snapshot(r) for r in rows]


def snapshot_near(
    db: Connection,
    latest: Snapshot,
    days: int = 7,
    *,
    metric: str = "all_time",
    estimates: bool = True,
) -> Snapshot | None:
    """The earlier snapshot closest to `days` before `latest` (else the earliest one),
    among those taken at least `MIN_BASELINE_AGE` before it and holding `metric` for the
    whole store: an estimate holding only the families newly added then is never one,
    nor any estimate for a metric it does not know, nor any with `estimates` False.

    None when there is no such snapshot.
    """
    target = parse_timestamp(latest.taken_at) - timedelta(days=days)
    target_text = format_timestamp(target)
    old_enough = format_timestamp(parse_timestamp(latest.taken_at) - MIN_BASELINE_AGE)
    skip = (
        f"AND id NOT IN ({_ESTIMATED_IDS})"
        if not estimates or metric not in ESTIMATED_METRICS
        else f"AND id NOT IN ({_PARTIAL_IDS})"
    )
    at_or_before = db.execute(
        f"""SELECT {_SNAPSHOT_COLS} FROM snapshots WHERE taken_at <= ? {skip}
            ORDER BY taken_at DESC LIMIT 1""",
        [min(target_text, old_enough)],
    ).fetchone()
    # With no snapshot that old, the earliest one after the target (but old enough).
    after = db.execute(
        f"""SELECT {_SNAPSHOT_COLS} FROM snapshots WHERE taken_at > ? AND taken_at <= ? {skip}
            ORDER BY taken_at ASC LIMIT 1""",
        [target_text, old_enough],
    ).fetchone()
    candidates = [_snapshot(row) for row in (at_or_before, after) if row]
    if not candidates:
        return None
    return min(
        candidates,
        key=lambda s: (abs((parse_timestamp(s.taken_at) - target).total_seconds()), s.taken_at),
    )


def totals_at(db: Connection, snapshot_id: int) -> dict[str, FamilyTotal]:
    rows = db.execute(
        """SELECT family, downloads_30d, downloads_all_time, likes, model_count, derivatives
           FROM family_totals WHERE snapshot_id = ?""",
        [snapshot_id],
    )
    return {
        r[0]: FamilyTotal(
            r[0], int(r[1]), int(r[2]), int(r[3]), int(r[4]), None if r[5] is None else int(r[5])
        )
        for r in rows
    }


def family_series(
    db: Connection,
    families: list[str] | None,
    metric: str = "all_time",
    since: str | None = None,
    *,
    estimates: bool = True,
) -> dict[str, list[tuple[str, int]]]:
    """Per family, (taken_at, value) for every snapshot in which it had models.

    `families=None` reads every family. With `since` (a timestamp), only the snapshots
    taken at or after it. Estimated snapshots count for all-time downloads only, and not
    at all with `estimates` False.
    """
    column = METRIC_COLUMNS[metric]
    series: dict[str, list[tuple[str, int]]] = {f: [] for f in families or ()}
    if families == []:
        return series
    wanted = "" if families is None else "AND " + one_of("t.family", len(families))
    # A few families' whole history: through the family index. Every family, or a
    # recent stretch: snapshot by snapshot in time order (CROSS JOIN fixes that order
    # in SQLite; PostgreSQL plans either itself), so nothing is sorted and only the
    # stretch is read.
    source = (
        "family_totals t JOIN snapshots s ON s.id = t.snapshot_id"
        if families is not None and since is None
        else "snapshots s CROSS JOIN family_totals t"
    )
    rows = db.execute(
        f"""SELECT t.family, s.taken_at, t.{column} FROM {source}
            WHERE t.snapshot_id = s.id AND s.taken_at >= ? {wanted}
              {_measured(metric, "s.id", estimates)}
            ORDER BY s.taken_at, s.id""",
        [since or "", *(families or ())],
    )
    for family, taken_at, value in rows.fetchall():
        if value is None:  # a figure not measured in that snapshot: left out
            continue
        points = series.get(family)
        if points is None:
            points = series[family] = []
        points.append((taken_at, value))  # INTEGER columns come back as int
    return series


@dataclass(frozen=True)
class ModelGain:
    """A model's all-time downloads in two snapshots; `before` is None for a new model."""

    repo_id: str
    family: str
    before: int | None
    after: int

    @property
    def gained(self) -> int:
        return self.after - (self.before or 0)

    @property
    def growth(self) -> float | None:
        return self.gained / self.before if self.before else None


def model_gains(
    db: Connection,
    before: Snapshot,
    after: Snapshot,
    limit: int = 10,
    exclude_families: frozenset[str] = frozenset(),
) -> list[ModelGain]:
    """The `limit` models that gained most all-time downloads from `before` to `after`.

    A model in both snapshots gained the difference. A model only in `after` counts
    (with all its downloads) only if the Hub created it after `before` was taken:
    otherwise it was there all along, and appeared because the families file changed
    or an organisation was renamed, so its downloads were not gained in between.
    Models of `exclude_families`, and models that gained nothing, are left out.
    The ranking is done here, not in Python: a store holds tens of thousands of models.
    """
    excluded = sorted(exclude_families)
    rows = db.execute(
        f"""SELECT m.repo_id, m.family, b.downloads_all_time, c.downloads_all_time
            FROM model_counts c
            JOIN models m ON m.id = c.model_id
            LEFT JOIN model_counts b ON b.snapshot_id = ? AND b.model_id = c.model_id
            WHERE c.snapshot_id = ?
              AND (b.model_id IS NOT NULL OR m.created_at > ?)
              AND c.downloads_all_time > coalesce(b.downloads_all_time, 0)
              AND NOT {one_of("m.family", len(excluded))}
            ORDER BY c.downloads_all_time - coalesce(b.downloads_all_time, 0) DESC, m.repo_id
            LIMIT ?""",
        [before.id, after.id, before.taken_at, *excluded, limit],
    )
    return [ModelGain(r[0], r[1], None if r[2] is None else int(r[2]), int(r[3])) for r in rows]


def top_models(
    db: Connection, snapshot_id: int, family: str, metric: str = "all_time", limit: int = 10
) -> list[ModelRow]:
    column = METRIC_COLUMNS[metric]
    # Models without the figure are left out (a NULL derivative count is unknown, not 0).
    rows = db.execute(
        f"""SELECT m.repo_id, m.family, c.downloads_30d, c.downloads_all_time, c.likes,
                   m.created_at, m.pipeline_tag, c.derivatives
            FROM model_counts c JOIN models m ON m.id = c.model_id
            WHERE c.snapshot_id = ? AND m.family = ? AND c.{column} IS NOT NULL
            ORDER BY c.{column} DESC, m.repo_id LIMIT ?""",
        [snapshot_id, family, limit],
    )
    return [ModelRow(*r) for r in rows]


def derivatives_known(db: Connection, snapshot_id: int, family: str) -> int:
    """How many of a family's models have a derivative count in one snapshot."""
    row = db.execute(
        """SELECT count(*) FROM model_counts c JOIN models m ON m.id = c.model_id
           WHERE c.snapshot_id = ? AND m.family = ? AND c.derivatives IS NOT NULL""",
        [snapshot_id, family],
    ).fetchone()
    return int(row[0])


def derivatives_counted(
    db: Connection, snapshot_ids: Sequence[int]
) -> dict[int, dict[str, set[int]]]:
    """Per snapshot, family -> the ids of its models whose derivative count is known: the
    models its derivative figure sums there."""
    found: dict[int, dict[str, set[int]]] = {i: {} for i in snapshot_ids}
    rows = db.execute(
        f"""SELECT c.snapshot_id, m.family, c.model_id FROM model_counts c
            JOIN models m ON m.id = c.model_id
            WHERE {one_of("c.snapshot_id", len(snapshot_ids))} AND c.derivatives IS NOT NULL""",
        list(snapshot_ids),
    )
    for snapshot_id, family, model_id in rows:
        found[snapshot_id].setdefault(family, set()).add(model_id)
    return found


def derivatives_known_by_family(db: Connection, snapshot_id: int) -> dict[str, int]:
    """Per family, how many of its models have a derivative count in one snapshot."""
    rows = db.execute(
        """SELECT m.family, count(*) FROM model_counts c JOIN models m ON m.id = c.model_id
           WHERE c.snapshot_id = ? AND c.derivatives IS NOT NULL GROUP BY m.family""",
        [snapshot_id],
    )
    return {family: int(n) for family, n in rows}


def find_model(db: Connection, repo_id: str) -> tuple[str, str, str | None, str | None] | None:
    """(repo_id, family, created_at, pipeline_tag) for a model, matched case-insensitively
    (the exact spelling first)."""
    # lower() folds ASCII on both engines, as SQLite's NOCASE does; repo ids are ASCII.
    row = db.execute(
        """SELECT repo_id, family, created_at, pipeline_tag FROM models
           WHERE lower(repo_id) = lower(?) ORDER BY repo_id = ? DESC LIMIT 1""",
        [repo_id, repo_id],
    ).fetchone()
    return (row[0], row[1], row[2], row[3]) if row else None


def models_named(db: Connection, name: str, limit: int = 20) -> list[str]:
    """Repo ids whose name (after the organisation) is `name`, in any case."""
    # Ending in "/name": a repo id has one slash. (A LIKE both engines read alike:
    # PostgreSQL has no instr().)
    rows = db.execute(
        """SELECT repo_id FROM models WHERE lower(repo_id) LIKE ? ESCAPE '\\'
           ORDER BY repo_id LIMIT ?""",
        [f"%/{_like_text(name.lower())}", limit],
    )
    return [r[0] for r in rows]


def _like_text(text: str) -> str:
    """`text` to match literally in a LIKE pattern that escapes with a backslash."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def similar_models(db: Connection, latest: Snapshot, text: str, limit: int = 5) -> list[str]:
    """Repo ids containing `text` (case-insensitive), most downloaded first."""
    needle = _like_text(text)
    rows = db.execute(
        """SELECT m.repo_id FROM models m
           LEFT JOIN model_counts c ON c.model_id = m.id AND c.snapshot_id = ?
           WHERE lower(m.repo_id) LIKE lower(?) ESCAPE '\\'
           ORDER BY coalesce(c.downloads_all_time, 0) DESC LIMIT ?""",
        [latest.id, f"%{needle}%", limit],
    )
    return [r[0] for r in rows]


def model_history(db: Connection, repo_id: str) -> list[ModelPoint]:
    """A model's figures in every snapshot that lists it, oldest first."""
    rows = db.execute(
        f"""SELECT s.taken_at, c.downloads_30d, c.downloads_all_time, c.likes, s.source
            FROM models m
            JOIN model_counts c ON {_counts_of(db, "c", "m.id")}
            JOIN snapshots s ON s.id = c.snapshot_id
            WHERE m.repo_id = ? ORDER BY s.taken_at, s.id""",
        [repo_id],
    )
    return [
        ModelPoint(r[0], None, int(r[2]), None, True)
        if r[4] == SOURCE_ESTIMATE
        else ModelPoint(r[0], int(r[1]), int(r[2]), int(r[3]))
        for r in rows
    ]


def store_stats(db: Connection) -> StoreStats:
    count = int(db.execute("SELECT count(*) FROM snapshots").fetchone()[0])
    first_row = db.execute(
        f"SELECT {_SNAPSHOT_COLS} FROM snapshots ORDER BY taken_at, id LIMIT 1"
    ).fetchone()
    latest = latest_snapshot(db)
    families = 0
    models = 0
    if latest is not None:
        families = int(
            db.execute(
                "SELECT count(*) FROM family_totals WHERE snapshot_id = ?", [latest.id]
            ).fetchone()[0]
        )
        models = latest.model_count
    rows = db.execute("SELECT source, count(*) FROM snapshots GROUP BY source").fetchall()
    by_source = dict(rows)
    return StoreStats(
        count,
        _snapshot(first_row) if first_row else None,
        latest,
        families,
        models,
        int(by_source.get(SOURCE_IMPORT, 0)),
        int(by_source.get(SOURCE_ESTIMATE, 0)),
    )


def snapshots_mark(db: Connection) -> tuple[int, int, int, str]:
    """(count, estimates, newest id, newest time) of the snapshots: snapshots are only
    ever added, but for an estimate that measured history replaces (which changes the
    number of estimates), so an unchanged mark means the same snapshots."""
    row = db.execute(
        f"""SELECT count(*), count(CASE WHEN source = '{SOURCE_ESTIMATE}' THEN 1 END),
                   max(id), max(taken_at) FROM snapshots"""
    ).fetchone()
    return int(row[0]), int(row[1]), int(row[2] or 0), row[3] or ""


def snapshot_days(db: Connection, *, estimates: bool = True) -> set[str]:
    """The UTC days (YYYY-MM-DD) that hold at least one snapshot, of any source (but the
    estimates, with `estimates` False)."""
    skip = "" if estimates else f"WHERE source != '{SOURCE_ESTIMATE}'"
    rows = db.execute(f"SELECT DISTINCT substr(taken_at, 1, 10) FROM snapshots {skip}")
    return {r[0] for r in rows}


def repo_ids_by_lowercase(db: Connection) -> dict[str, str]:
    """Every stored repo id, keyed by its lower case: the Hub's ids ignore case."""
    return {r[0].lower(): r[0] for r in db.execute("SELECT repo_id FROM models ORDER BY id")}


def values_of(
    db: Connection, snapshot_ids: Sequence[int], metric: str
) -> dict[int, dict[str, int]]:
    """Per snapshot, family -> value of `metric`, for a few snapshots in one read.

    The rankings' read, made on every answer: that one column, nothing else. A family
    without the figure (a derivative count not measured) is left out, as in `values_at`.
    """
    column = METRIC_COLUMNS[metric]
    found: dict[int, dict[str, int]] = {i: {} for i in snapshot_ids}
    rows = db.execute(
        f"""SELECT snapshot_id, family, {column} FROM family_totals
            WHERE {one_of("snapshot_id", len(snapshot_ids))} AND {column} IS NOT NULL
            {_measured(metric)}""",
        snapshot_ids,
    )
    for snapshot_id, family, value in rows:
        found[snapshot_id][family] = value
    return found


def values_at(db: Connection, snapshot_id: int, metric: str) -> dict[str, int]:
    """family -> value of `metric` in one snapshot."""
    column = METRIC_COLUMNS[metric]
    rows = db.execute(
        f"SELECT family, {column} FROM family_totals WHERE snapshot_id = ? {_measured(metric)}",
        [snapshot_id],
    )
    return {family: int(value) for family, value in rows if value is not None}


def figures_of(db: Connection, snapshot_ids: Sequence[int]) -> dict[int, dict[str, dict[str, int]]]:
    """Per snapshot, metric -> family -> value, for every snapshot of `snapshot_ids` (an
    estimated snapshot has all-time figures only)."""
    found: dict[int, dict[str, dict[str, int]]] = {
        i: {metric: {} for metric in METRIC_COLUMNS} for i in snapshot_ids
    }
    for chunk in _chunks(snapshot_ids):
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            f"""SELECT t.snapshot_id, t.family, t.downloads_all_time, t.downloads_30d, s.source
                FROM family_totals t JOIN snapshots s ON s.id = t.snapshot_id
                WHERE t.snapshot_id IN ({marks})""",
            chunk,
        )
        for snapshot_id, family, all_time, thirty, source in rows:
            found[snapshot_id]["all_time"][family] = int(all_time)
            if source != SOURCE_ESTIMATE:  # an estimate knows all-time counts only
                found[snapshot_id]["30d"][family] = int(thirty)
    return found


def definitions_of(db: Connection, snapshot_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """Per snapshot, family -> the definition it was counted by ({} where not recorded)."""
    found: dict[int, dict[str, str]] = {i: {} for i in snapshot_ids}
    for chunk in _chunks(snapshot_ids):
        marks = ",".join("?" * len(chunk))
        rows = db.execute(
            f"""SELECT s.snapshot_id, s.family, d.definition
                FROM snapshot_definitions s JOIN family_definitions d ON d.id = s.definition_id
                WHERE s.snapshot_id IN ({marks})""",
            chunk,
        )
        for snapshot_id, family, definition in rows:
            found[snapshot_id][family] = definition
    return found


def first_snapshot_with_definitions(
    db: Connection, after: Snapshot, before: Snapshot
) -> Snapshot | None:
    """The earliest snapshot strictly between `after` and `before` that recorded the
    families' definitions, if any."""
    row = db.execute(
        f"""SELECT {_SNAPSHOT_COLS} FROM snapshots s
            WHERE taken_at > ? AND taken_at < ?
              AND EXISTS (SELECT 1 FROM snapshot_definitions d WHERE d.snapshot_id = s.id)
            ORDER BY taken_at ASC LIMIT 1""",
        [after.taken_at, before.taken_at],
    ).fetchone()
    return _snapshot(row) if row else None


def definitions_at(db: Connection, snapshot_id: int) -> dict[str, str]:
    """family -> the definition it was counted by in one snapshot ({} if not recorded).

    With `openmodels.definitions`, this tells whether a model appeared in a snapshot
    because the families file changed rather than because it is new on the Hub.
    """
    return definitions_of(db, [snapshot_id])[snapshot_id]


@dataclass(frozen=True)
class FirstSeen:
    """A model and the snapshot that first listed it, with its all-time downloads then."""

    model_id: int
    repo_id: str
    family: str
    created_at: str | None  # the Hub's creation date; None when no source gave one
    snapshot: Snapshot
    downloads_all_time: int


def first_seen_between(
    db: Connection,
    after: str,
    until: str,
    families: Sequence[str] | None = None,
    repo_id: str | None = None,
) -> list[FirstSeen]:
    """Models first listed by a snapshot taken after `after` and at or before `until`
    (timestamps), of `families` (every family when None), oldest sighting first; only
    model `repo_id` when given."""
    wanted = "" if families is None else "AND " + one_of("m.family", len(families))
    if repo_id is not None:
        wanted += " AND m.repo_id = ?"
    rows = db.execute(
        f"""SELECT m.id, m.repo_id, m.family, m.created_at, s.id, s.taken_at, s.source,
                   s.model_count, c.downloads_all_time
            FROM models m
            JOIN snapshots s ON s.id = m.first_snapshot_id
            JOIN model_counts c ON c.snapshot_id = s.id AND {_counts_of(db, "c", "m.id")}
            WHERE m.first_seen_at > ? AND m.first_seen_at <= ? {wanted}
            ORDER BY m.first_seen_at, s.id, m.repo_id""",
        [after, until, *(families or ()), *([repo_id] if repo_id is not None else [])],
    )
    return [FirstSeen(int(r[0]), r[1], r[2], r[3], _snapshot(r[4:8]), int(r[8])) for r in rows]


def snapshot_at_or_before(db: Connection, moment: str) -> Snapshot | None:
    """The newest snapshot taken at or before `moment` (a timestamp)."""
    row = db.execute(
        f"""SELECT {_SNAPSHOT_COLS} FROM snapshots WHERE taken_at <= ?
            ORDER BY taken_at DESC, id DESC LIMIT 1""",
        [moment],
    ).fetchone()
    return _snapshot(row) if row else None


def all_time_at(db: Connection, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """All-time downloads of each (snapshot id, model id) pair; pairs without a row (the
    model not in that snapshot) are left out."""
    found: dict[tuple[int, int], int] = {}
    unique = sorted(set(pairs))
    for start in range(0, len(unique), 400):
        chunk = unique[start : start + 400]
        values = ",".join("(?, ?)" for _ in chunk)
        rows = db.execute(
            f"""WITH wanted (snapshot_id, model_id) AS (VALUES {values})
                SELECT c.snapshot_id, c.model_id, c.downloads_all_time FROM wanted w
                JOIN model_counts c ON c.snapshot_id = w.snapshot_id
                     AND {_counts_of(db, "c", "w.model_id")}""",
            [n for pair in chunk for n in pair],
        )
        for snapshot_id, model_id, all_time in rows:
            found[(snapshot_id, model_id)] = int(all_time)
    return found


def top_models_by_family(db: Connection, snapshot_id: int, per_family: int) -> list[str]:
    """The repo ids of each family's `per_family` most downloaded models (all-time) in
    one snapshot."""
    rows = db.execute(
        """SELECT repo_id FROM (
               SELECT m.repo_id, row_number() OVER (
                   PARTITION BY m.family ORDER BY c.downloads_all_time DESC, m.repo_id
               ) AS place
               FROM model_counts c JOIN models m ON m.id = c.model_id
               WHERE c.snapshot_id = ?
           ) AS ranked WHERE place <= ? ORDER BY repo_id""",
        [snapshot_id, per_family],
    )
    return [r[0] for r in rows]


def _chunks(ids: Sequence[int], size: int = 500) -> list[Sequence[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


def last_checked_live(db: Connection) -> Snapshot | None:
    """The newest live snapshot already checked for overtakes."""
    row = db.execute(
        f"""SELECT {_SNAPSHOT_COLS} FROM snapshots
            WHERE source = 'hub' AND id IN (SELECT snapshot_id FROM alert_checks)
            ORDER BY taken_at DESC, id DESC LIMIT 1"""
    ).fetchone()
    return _snapshot(row) if row else None


def live_snapshots_after(db: Connection, after: Snapshot | None) -> list[Snapshot]:
    """Live snapshots newer than `after` (all of them when None), oldest first."""
    if after is None:
        rows = db.execute(
            f"SELECT {_SNAPSHOT_COLS} FROM snapshots WHERE source = 'hub' ORDER BY taken_at, id"
        )
    else:
        rows = db.execute(
            f"""SELECT {_SNAPSHOT_COLS} FROM snapshots
                WHERE source = 'hub' AND (taken_at, id) > (?, ?) ORDER BY taken_at, id""",
            [after.taken_at, after.id],
        )
    return [_snapshot(r) for r in rows]


def live_snapshots_before(db: Connection, before: Snapshot, n: int) -> list[Snapshot]:
    """The `n` live snapshots just older than `before`, oldest first."""
    rows = db.execute(
        f"""SELECT {_SNAPSHOT_COLS} FROM snapshots
            WHERE source = 'hub' AND (taken_at, id) < (?, ?)
            ORDER BY taken_at DESC, id DESC LIMIT ?""",
        [before.taken_at, before.id, n],
    ).fetchall()
    return [_snapshot(r) for r in reversed(rows)]


def is_checked(db: Connection, snapshot_id: int) -> bool:
    """Whether a snapshot was already checked for overtakes."""
    row = db.execute("SELECT 1 FROM alert_checks WHERE snapshot_id = ?", [snapshot_id])
    return row.fetchone() is not None


def recent_anomalies(
    db: Connection, limit: int = 20
) -> list[tuple[str, str, str, int | None, int | None]]:
    """(taken_at, family, metric, previous, current) of the latest flagged drops."""
    rows = db.execute(
        """SELECT s.taken_at, a.family, a.metric, a.previous, a.current
           FROM anomalies a JOIN snapshots s ON s.id = a.snapshot_id
           ORDER BY s.taken_at DESC, a.family LIMIT ?""",
        [limit],
    )
    return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


def job_runs(db: Connection) -> list[JobRun]:
    """Every scheduled job's state: its last run and error, a pending retry, a run in
    progress."""
    return all_runs(db)


def outbox_counts(db: Connection) -> dict[str, int]:
    """How many outbox items are in each state."""
    rows = db.execute("SELECT status, count(*) FROM outbox GROUP BY status")
    return {status: int(n) for status, n in rows}


@dataclass(frozen=True)
class ModelChanges:
    """How one snapshot's models differ from the one before it."""

    appeared: dict[str, int]  # family -> models new since the previous snapshot
    disappeared: dict[str, int]  # family -> models gone since the previous snapshot
    decreased: list[tuple[str, int, int]]  # (repo id, before, after) all-time went down


def model_changes(db: Connection, previous_id: int, current_id: int) -> ModelChanges:
    def per_family(sql: str, a: int, b: int) -> dict[str, int]:
        rows = db.execute(sql, [a, b])
        return {family: int(n) for family, n in rows}

    only_in = """
        SELECT m.family, count(*) FROM model_counts c JOIN models m ON m.id = c.model_id
        WHERE c.snapshot_id = ? AND c.model_id NOT IN
            (SELECT model_id FROM model_counts WHERE snapshot_id = ?)
        GROUP BY m.family ORDER BY m.family"""
    decreased = db.execute(
        """SELECT m.repo_id, p.downloads_all_time, c.downloads_all_time
           FROM model_counts c
           JOIN model_counts p ON p.model_id = c.model_id AND p.snapshot_id = ?
           JOIN models m ON m.id = c.model_id
           WHERE c.snapshot_id = ? AND c.downloads_all_time < p.downloads_all_time
           ORDER BY m.repo_id""",
        [previous_id, current_id],
    )
    return ModelChanges(
        appeared=per_family(only_in, current_id, previous_id),
        disappeared=per_family(only_in, previous_id, current_id),
        decreased=[(r[0], int(r[1]), int(r[2])) for r in decreased],
    )
