"""Benchmark the store at a year's scale: ingest, the answers and bytes on disk.

Not a test: it prints figures and never asserts on timings, which depend on the
machine. Each figure is set against plain sqlite3 doing the same work in the same run,
so the ratio says what our layers cost, whatever the machine.

    python benchmarks/bench_store.py [--families 20 --models 1000 --days 365] [--quick]

The default builds 20 families x 1,000 models x 365 daily snapshots (7.3M model-count
rows) twice, once through `storage.snapshots.insert_snapshot` and once with plain
`executemany`, in a temporary folder removed at the end (unless --keep). Every model
has a size, recorded with each snapshot: more than a collection writes, which records
only the sizes new or changed (`storage.model_sizes.changed_sizes`). Each answer
(`top`, `regions`, `movers`, `forecast`, a `compare` that carries a forecast, `sizes`,
`top --size 1-5B`) is timed beside the plain SQL reads it needs, on a connection opened
for them.
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from openmodels.families import Families, parse_families
from openmodels.ranking import rank_families
from openmodels.size_classes import BOUNDS
from openmodels.sizes import FROM_HUB, FROM_NAME, UNKNOWN, ModelSize
from storage import Store, open_store
from storage import queries as q
from storage.snapshots import ModelRecord, format_timestamp, insert_snapshot

DAY0 = datetime(2025, 1, 1, 6, 0, tzinfo=UTC)
QUICK = {"families": 5, "models": 200, "days": 60}
TOP_SQL = """
    SELECT family, downloads_all_time FROM family_totals
    WHERE snapshot_id = (SELECT id FROM snapshots ORDER BY taken_at DESC LIMIT 1)
    ORDER BY 2 DESC
"""
# The reads the `top` answer needs, in plain SQL: the latest snapshot; the snapshots
# either side of a week before it, of which the closer is the baseline (as
# storage.queries.snapshot_near); the totals of both.
TOP_LATEST_SQL = "SELECT id, taken_at FROM snapshots ORDER BY taken_at DESC, id DESC LIMIT 1"
TOP_BEFORE_SQL = """
    SELECT id, taken_at FROM snapshots WHERE taken_at <= ? AND id != ?
    ORDER BY taken_at DESC LIMIT 1
"""
TOP_AFTER_SQL = """
    SELECT id, taken_at FROM snapshots WHERE taken_at > ? AND taken_at < ?
    ORDER BY taken_at ASC LIMIT 1
"""
TOP_TOTALS_SQL = """
    SELECT snapshot_id, family, downloads_all_time FROM family_totals
    WHERE snapshot_id IN (?, ?)
"""


@dataclass(frozen=True)
class Size:
    families: int
    models: int  # per family
    days: int

    @property
    def total_models(self) -> int:
        return self.families * self.models

    @property
    def rows(self) -> int:
        return self.total_models * self.days


# -- synthetic data ---------------------------------------------------------------------


REGIONS = ("China", "US", "Europe", None)  # every fourth family has none: Other
B = 1_000_000_000
SIZES = (500_000_000, 3 * B, 7 * B, 8 * B, 32 * B, 70 * B, 120 * B, 4 * B, 671 * B, None)


def families_toml(count: int) -> str:
    """A families file with fam00.., one organisation each, in regions by turn."""
    return "\n".join(
        f'[families.fam{i:02d}]\nlabel = "Fam{i:02d}"\norgs = ["org{i:02d}"]\n'
        + (f'region = "{REGIONS[i % 4]}"\n' if REGIONS[i % 4] else "")
        for i in range(count)
    )


@dataclass(frozen=True)
class Catalogue:
    """Every model's fixed traits: (repo_id, family, daily downloads, all-time base)."""

    models: tuple[tuple[str, str, int, int], ...]

    @classmethod
    def of(cls, size: Size) -> Catalogue:
        # Plain arithmetic rather than random numbers: generating 7.3M rows must stay
        # cheap next to storing them. Earlier families download more, so no ties.
        # fam01 starts far enough ahead that fam00 passes it a month after the last
        # day: `compare fam00 fam01` carries a forecast.
        models = []
        for f in range(size.families):
            for m in range(size.models):
                daily = (size.families - f) * (10 + (m * 7919) % 1000)
                base = (f * 100_003 + m * 3_571) % 1_000_000
                if f == 1:  # fam00's base, and 30 days of fam00's lead on it
                    base = (m * 3_571) % 1_000_000 + (10 + (m * 7919) % 1000) * (size.days + 30)
                models.append((f"org{f:02d}/model-{m:05d}", f"fam{f:02d}", daily, base))
        return cls(tuple(models))

    def sizes(self) -> dict[str, ModelSize]:
        """Every model's size: classes in turn, from the Hub's count or the name, and
        every tenth unknown."""
        found = {}
        for i, (repo_id, *_rest) in enumerate(self.models):
            parameters = SIZES[i % len(SIZES)]
            source = UNKNOWN if parameters is None else (FROM_HUB if i % 3 else FROM_NAME)
            found[repo_id] = ModelSize(parameters, source)
        return found

    def figures(self, day: int) -> list[tuple[str, str, int, int, int, int]]:
        """(repo_id, family, downloads_30d, downloads_all_time, likes, derivatives) on `day`.

        Every model gets a derivative count, most in the hundreds: more bytes than the
        Hub's real spread (where most models have none), so the size is an upper bound.
        """
        return [
            (
                repo_id,
                family,
                daily * 30,
                base + daily * (day + 1),
                base // 1000 + day // 7,
                base % 997 + day // 3,
            )
            for repo_id, family, daily, base in self.models
        ]


def taken_at(day: int) -> datetime:
    return DAY0 + timedelta(days=day)


# -- (a) ingest ---------------------------------------------------------------------------


def ingest_storage(
    store: Store, catalogue: Catalogue, days: int, progress: Callable[[int], None]
) -> float:
    """Seconds spent in insert_snapshot, one write transaction per snapshot; every
    model's size is recorded with each (a collection records only those changed)."""
    spent = 0.0
    sizes = catalogue.sizes()
    for day in range(days):
        # Building the records is the collector's work, not the store's: not timed.
        records = [
            ModelRecord(
                repo_id, family, d30, all_time, likes, "2024-01-01T00:00:00.000Z", None, derived
            )
            for repo_id, family, d30, all_time, likes, derived in catalogue.figures(day)
        ]
        start = time.perf_counter()
        with store.writing() as db:
            insert_snapshot(db, taken_at(day), "bench", records, sizes=sizes)
        spent += time.perf_counter() - start
        progress(day)
    return spent


def ingest_raw(
    path: Path, catalogue: Catalogue, days: int, progress: Callable[[int], None]
) -> float:
    """Seconds for plain executemany of the same rows, one transaction per snapshot.

    The floor our path is measured against: model ids are known up front (models are
    inserted once), and foreign keys are on as in our connections, so the difference
    is our Python work (upserting models, looking up ids, summing families).
    """
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    ids = {repo_id: i + 1 for i, (repo_id, *_rest) in enumerate(catalogue.models)}
    spent = 0.0
    try:
        for day in range(days):
            figures = catalogue.figures(day)
            start = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            cursor = conn.execute(
                "INSERT INTO snapshots (taken_at, source, model_count) VALUES (?, ?, ?)",
                (format_timestamp(taken_at(day)), "bench", len(figures)),
            )
            snapshot_id = cursor.lastrowid
            if day == 0:
                conn.executemany(
                    "INSERT INTO models (id, repo_id, family, created_at) VALUES (?, ?, ?, ?)",
                    [(ids[r[0]], r[0], r[1], "2024-01-01T00:00:00.000Z") for r in figures],
                )
                conn.executemany(
                    "INSERT INTO model_sizes VALUES (?, ?, NULL, ?)",
                    [(ids[r], z.parameters, z.source) for r, z in catalogue.sizes().items()],
                )
            conn.executemany(
                "INSERT INTO model_counts VALUES (?, ?, ?, ?, ?, ?)",
                [(snapshot_id, ids[r[0]], r[2], r[3], r[4], r[5]) for r in figures],
            )
            sums: dict[str, list[int]] = {}
            for _, family, d30, all_time, likes, derived in figures:
                s = sums.setdefault(family, [0, 0, 0, 0, 0])
                s[0] += d30
                s[1] += all_time
                s[2] += likes
                s[3] += 1
                s[4] += derived
            conn.executemany(
                "INSERT INTO family_totals VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(snapshot_id, family, *s) for family, s in sums.items()],
            )
            conn.execute("COMMIT")
            spent += time.perf_counter() - start
            progress(day)
    finally:
        conn.close()
    return spent


# -- (b) the `top` answer ------------------------------------------------------------------


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm the page cache and imports once, outside the figures
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def storage_top(store: Store) -> Callable[[], object]:
    """The reads the `top` answer makes through storage.queries, and the ranking."""

    def run() -> object:
        with store.reading() as db:
            latest = q.latest_snapshot(db)
            assert latest is not None
            baseline = q.snapshot_near(db, latest, days=7)
            ids = [latest.id] if baseline is None else [latest.id, baseline.id]
            values = q.values_of(db, ids, "all_time")
            return rank_families(values[latest.id], values[baseline.id] if baseline else None)

    return run


def answer_top(store: Store, families: Families) -> Callable[[], object] | None:
    """The full `top` answer (parse, read, rank, blocks), if `commands` is importable."""
    try:
        commands: Any = importlib.import_module("commands")
        context = commands.AnswerContext(store=store, families=families)
    except (ImportError, AttributeError):
        return None
    return lambda: commands.answer_text("top", context)


def raw_top_fresh(path: Path) -> Callable[[], object]:
    """The reads `top` needs in plain SQL (the TOP_…_SQL statements), in one read
    transaction as the answer makes them, on a connection opened for them: what `top` is
    held to (an answer reads on its thread's kept connection: see storage.engines.sqlite)."""

    def run() -> object:
        conn = sqlite3.connect(path)
        try:
            conn.execute("BEGIN")
            latest, taken_at = conn.execute(TOP_LATEST_SQL).fetchone()
            target = datetime.fromisoformat(taken_at) - timedelta(days=7)
            text = target.strftime("%Y-%m-%dT%H:%M:%SZ")
            candidates = [
                *conn.execute(TOP_BEFORE_SQL, [text, latest]),
                *conn.execute(TOP_AFTER_SQL, [text, taken_at]),
            ]
            baseline = min(
                candidates,
                key=lambda c: (abs(datetime.fromisoformat(c[1]) - target), c[1]),
                default=(None,),
            )
            rows = conn.execute(TOP_TOTALS_SQL, [latest, baseline[0]]).fetchall()
            conn.execute("ROLLBACK")
            return rows
        finally:
            conn.close()

    return run


def raw_top_open(path: Path, runs: int) -> float:
    """Median ms of the one SQL query on a connection kept open: SQLite's floor.

    The connection is closed before anything else is timed: while any connection is
    open, closing another no longer checkpoints and removes the WAL, which would flatter
    whatever is measured alongside it.
    """
    conn = sqlite3.connect(path)
    try:
        return median_ms(lambda: conn.execute(TOP_SQL).fetchall(), runs)
    finally:
        conn.close()


# -- (c) the analytics answers against the plain SQL reads they need ------------------------

ANSWERS = ("regions", "movers", "forecast", "compare fam00 fam01", "sizes", "top --size 1-5B")
SNAPSHOT_SQL = "SELECT id, taken_at FROM snapshots ORDER BY taken_at DESC, id DESC LIMIT 1"
NEAR_SQL = "SELECT id FROM snapshots WHERE taken_at <= ? ORDER BY taken_at DESC LIMIT 1"
TOTALS_SQL = "SELECT family, downloads_all_time FROM family_totals WHERE snapshot_id = ?"
SERIES_SQL = """
    SELECT t.family, s.taken_at, t.downloads_all_time
    FROM family_totals t JOIN snapshots s ON s.id = t.snapshot_id
    WHERE s.taken_at >= ? ORDER BY s.taken_at, s.id
"""
PAIR_SERIES_SQL = """
    SELECT t.family, s.taken_at, t.downloads_all_time
    FROM family_totals t JOIN snapshots s ON s.id = t.snapshot_id
    WHERE t.family IN (?, ?) ORDER BY s.taken_at, s.id
"""
GAINS_SQL = """
    SELECT m.repo_id, m.family, b.downloads_all_time, c.downloads_all_time
    FROM model_counts c JOIN models m ON m.id = c.model_id
    LEFT JOIN model_counts b ON b.snapshot_id = ? AND b.model_id = c.model_id
    WHERE c.snapshot_id = ? AND (b.model_id IS NOT NULL OR m.created_at > ?)
      AND c.downloads_all_time > coalesce(b.downloads_all_time, 0)
    ORDER BY c.downloads_all_time - coalesce(b.downloads_all_time, 0) DESC, m.repo_id
    LIMIT 10
"""


CLASS_CASE = " ".join(f"WHEN z.parameters >= {low} THEN '{key}'" for key, low in reversed(BOUNDS))
CLASSES_SQL = f"""
    SELECT c.snapshot_id, m.family,
           CASE WHEN z.parameters IS NULL THEN 'unknown' {CLASS_CASE} END AS size_class,
           coalesce(z.source, 'unknown') AS size_source,
           sum(c.downloads_all_time), sum(c.downloads_30d)
    FROM model_counts c JOIN models m ON m.id = c.model_id
    LEFT JOIN model_sizes z ON z.model_id = c.model_id
    WHERE c.snapshot_id IN ({{marks}})
    GROUP BY c.snapshot_id, m.family, size_class, size_source
"""


def days_before(timestamp: str, days: int) -> str:
    moment = datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ") - timedelta(days=days)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def raw_reads(path: Path, text: str) -> Callable[[], object]:
    """The plain SQL reads answer `text` needs, in one read transaction, nothing computed."""

    def run() -> object:
        conn = sqlite3.connect(path)
        try:
            conn.execute("BEGIN")
            latest_id, latest_at = conn.execute(SNAPSHOT_SQL).fetchone()
            if text == "sizes":  # one snapshot's downloads by class, family and source
                rows: list[Any] = [
                    conn.execute(CLASSES_SQL.format(marks="?"), [latest_id]).fetchall()
                ]
                conn.execute("ROLLBACK")
                return rows
            week = conn.execute(NEAR_SQL, [days_before(latest_at, 7)]).fetchone()
            if text.startswith("top --size"):  # the same at the latest and its baseline
                ids = [latest_id, week[0]]
                rows = [conn.execute(CLASSES_SQL.format(marks="?, ?"), ids).fetchall()]
                conn.execute("ROLLBACK")
                return rows
            rows = [conn.execute(TOTALS_SQL, [latest_id]).fetchall()]
            if text == "regions":
                rows.append(conn.execute(TOTALS_SQL, [week[0]]).fetchall())
                rows.append(conn.execute(SERIES_SQL, [""]).fetchall())
            elif text == "movers":
                rows.append(conn.execute(TOTALS_SQL, [week[0]]).fetchall())
                before_at = conn.execute(
                    "SELECT taken_at FROM snapshots WHERE id = ?", [week[0]]
                ).fetchone()[0]
                rows.append(conn.execute(GAINS_SQL, [week[0], latest_id, before_at]).fetchall())
            elif text == "forecast":
                rows.append(conn.execute(SERIES_SQL, [days_before(latest_at, 14)]).fetchall())
            else:  # compare fam00 fam01
                rows.append(conn.execute(TOTALS_SQL, [week[0]]).fetchall())
                rows.append(conn.execute(PAIR_SERIES_SQL, ["fam00", "fam01"]).fetchall())
            conn.execute("ROLLBACK")
            return rows
        finally:
            conn.close()

    return run


def paired_median_ms(
    first: Callable[[], object], second: Callable[[], object], runs: int
) -> tuple[float, float]:
    """Median ms of each, timed turn about, so that a busy moment weighs on both alike."""
    first()
    second()
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(runs):
        for fn, out in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            fn()
            out.append(time.perf_counter() - start)
    return statistics.median(times[0]) * 1000, statistics.median(times[1]) * 1000


def answer_of(store: Store, families: Families, text: str) -> Callable[[], object] | None:
    """The full answer to `text` (parse, read, compute, blocks), if `commands` is importable."""
    try:
        commands: Any = importlib.import_module("commands")
        context = commands.AnswerContext(store=store, families=families)
    except (ImportError, AttributeError):
        return None
    return lambda: commands.answer_text(text, context)


# -- (d) bytes on disk ----------------------------------------------------------------------


def checkpointed_size(path: Path) -> int:
    """File size once the WAL is folded into it and truncated."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return path.stat().st_size


# -- report ---------------------------------------------------------------------------------


def progress_printer(label: str, days: int) -> Callable[[int], None]:
    started = time.perf_counter()
    step = max(1, days // 10)

    def report(day: int) -> None:
        if (day + 1) % step == 0 or day + 1 == days:
            elapsed = time.perf_counter() - started
            print(f"  {label}: day {day + 1}/{days}, {elapsed:.0f}s", file=sys.stderr, flush=True)

    return report


def row(name: str, ours: str, raw: str, ratio: str) -> str:
    return f"{name:<34} {ours:>14} {raw:>14} {ratio:>12}"


def run(size: Size, runs: int, folder: Path) -> None:
    families = parse_families(families_toml(size.families), "benchmark families")
    ours_path, raw_path = folder / "ours.db", folder / "raw.db"
    ours = open_store(ours_path)
    open_store(raw_path)  # the same schema, through the real migrations

    print(
        f"store benchmark: {size.families} families x {size.models:,} models x "
        f"{size.days} days = {size.rows:,} model-count rows",
        flush=True,
    )
    wall = time.perf_counter()
    catalogue = Catalogue.of(size)
    ours_s = ingest_storage(ours, catalogue, size.days, progress_printer("storage", size.days))
    raw_s = ingest_raw(raw_path, catalogue, size.days, progress_printer("raw", size.days))
    ours_rate, raw_rate = size.rows / ours_s, size.rows / raw_s

    # Each figure is taken with no other connection open, as in a quiet bot.
    answer = answer_top(ours, families)
    top_storage = median_ms(storage_top(ours), runs)
    top_answer: float | None = None
    if answer is not None:  # timed turn about with its raw reads
        top_answer, raw_fresh = paired_median_ms(answer, raw_top_fresh(ours_path), runs)
    else:
        raw_fresh = median_ms(raw_top_fresh(ours_path), runs)
    raw_open = raw_top_open(ours_path, runs)
    analytics = []
    for text in ANSWERS:
        answer_fn = answer_of(ours, families, text)
        if answer_fn is not None:
            analytics.append((text, *paired_median_ms(answer_fn, raw_reads(ours_path, text), runs)))

    ours_bytes, raw_bytes = checkpointed_size(ours_path), checkpointed_size(raw_path)
    model_days = size.total_models * size.days

    per_day = 1000 / size.days
    table = [
        ("figure", "ours", "plain sqlite3", "ours slower"),
        ("ingest, rows/s", f"{ours_rate:,.0f}", f"{raw_rate:,.0f}", f"{raw_rate / ours_rate:.2f}x"),
        ("ingest, seconds", f"{ours_s:.1f}", f"{raw_s:.1f}", ""),
        ("ingest, ms per snapshot", f"{ours_s * per_day:.1f}", f"{raw_s * per_day:.1f}", ""),
    ]
    tops = [("top via storage.queries", top_storage)]
    if top_answer is not None:
        tops.insert(0, ("top answer (commands)", top_answer))
    for name, ms in tops:
        table.append(
            (f"{name}, median ms", f"{ms:.2f}", f"{raw_open:.3f}", f"{ms / raw_open:.0f}x")
        )
        table.append(
            ("  raw reads incl. connect", "", f"{raw_fresh:.3f}", f"{ms / raw_fresh:.2f}x")
        )
    for text, ms, raw_ms in analytics:
        table.append((f"{text}, median ms", f"{ms:.2f}", f"{raw_ms:.3f}", f"{ms / raw_ms:.2f}x"))
    table += [
        (
            "bytes per model-day",
            f"{ours_bytes / model_days:.1f}",
            f"{raw_bytes / model_days:.1f}",
            "",
        ),
        ("file size, MB", f"{ours_bytes / 1e6:,.0f}", f"{raw_bytes / 1e6:,.0f}", ""),
    ]
    print()
    for cells in table:
        print(row(*cells))
    if top_answer is None:
        print("top answer: commands package not available")
    print(
        f"\nmedians over {runs} runs; wall time {time.perf_counter() - wall:.0f}s. Raw ingest "
        "inserts models once with known ids; ours upserts them every snapshot, as a "
        "collection does. Raw `top` is its one ranking query on an open connection: SQLite's "
        "floor. 'raw reads incl. connect' is every read the `top` answer makes (the latest "
        "snapshot, its baseline, both snapshots' totals) in plain SQL in one read "
        "transaction on a connection opened for them, timed "
        "turn about with the answer: the figure `top` is held to. The other answers are "
        "set against the plain SQL reads each needs, on a connection opened for them."
    )
    if analytics:
        print("\nsample answers on this store:")
        for text in ANSWERS:
            answer_fn = answer_of(ours, families, text)
            if answer_fn is not None:
                print(f"  {text}: {getattr(answer_fn(), 'text', '')[:160]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--families", type=int, default=20)
    parser.add_argument("--models", type=int, default=1000, help="models per family")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=200, help="timed runs of each query")
    parser.add_argument("--quick", action="store_true", help="5 x 200 x 60: a smoke run")
    parser.add_argument("--dir", type=Path, help="build the stores here instead of a temp dir")
    parser.add_argument("--keep", action="store_true", help="keep the stores afterwards")
    args = parser.parse_args(argv)
    size = Size(**QUICK) if args.quick else Size(args.families, args.models, args.days)
    if min(size.families, size.models, size.days) < 1 or size.families > 100:
        parser.error("need 1..100 families and at least one model and one day")
    folder = Path(tempfile.mkdtemp(prefix="openmodels-bench-", dir=args.dir))
    try:
        run(size, args.runs, folder)
    finally:
        if args.keep:
            print(f"stores kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
