"""Benchmark the launch answers (`new`, `race`, `model`) against the plain SQL reads
they need, on a store with a year of launches.

Not a test: it prints figures and never asserts on timings. Each answer is timed turn
about with the same SQL statements run bare through sqlite3 (the window's first
sightings, the definitions they are judged by, their figures as of the latest snapshot,
every family's earlier launches with their definitions and sizes, and those launches'
figures at the same age; for a race, each family's launches and each runner's history;
for `model`, its history and sighting too), so the ratio is what judging, describing
and Block Kit cost on top of the reads.

    python benchmarks/bench_launches.py [--families 20 --models 1000 --days 365] [--quick]

The store holds `--models` models per family from the first day, and each family
launches a new model every LAUNCH_EVERY days (created an hour before the snapshot that
first lists it), so a year holds about 120 launches a family. Launches take their
sizes in turn from four size classes, so each is judged against its class.
"""

from __future__ import annotations

import argparse
import bisect
import importlib
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench_store import paired_median_ms  # beside this file

from openmodels.families import parse_families
from openmodels.sizes import FROM_HUB, ModelSize
from storage import open_store
from storage.snapshots import ModelRecord, format_timestamp, insert_snapshot

DAY0 = datetime(2025, 1, 1, 6, 0, tzinfo=UTC)
LAUNCH_EVERY = 3
QUICK = {"families": 5, "models": 200, "days": 60}
ANSWERS = (
    "new",
    "new --days 30",
    "new fam00",
    "race fam00 fam03",
    "race org00/launch-0010 org01/launch-0010",
    "model org00/launch-0015",
)
B = 1_000_000_000
LAUNCH_SIZES = (3 * B, 7 * B, 30 * B, 400 * B)  # one of four classes, in turn


def families_toml(count: int) -> str:
    return "\n".join(
        f'[families.fam{i:02d}]\nlabel = "Fam{i:02d}"\norgs = ["org{i:02d}"]\n'
        for i in range(count)
    )


def records(families: int, models: int, day: int) -> list[ModelRecord]:
    """Every model listed on `day`: the first day's, and the launches so far."""
    out = []
    for f in range(families):
        for m in range(models):
            daily = (families - f) * (10 + (m * 7919) % 1000)
            out.append(
                ModelRecord(
                    f"org{f:02d}/model-{m:05d}",
                    f"fam{f:02d}",
                    daily * 30,
                    1_000_000 + daily * (day + 1),
                    created_at="2024-01-01T00:00:00.000Z",
                )
            )
        # Launch n comes out on day n * LAUNCH_EVERY + f % LAUNCH_EVERY; each starts at its
        # own pace, so some beat every launch before them.
        for n in range(day // LAUNCH_EVERY + 1):
            born = n * LAUNCH_EVERY + f % LAUNCH_EVERY
            if born == 0 or born > day:
                continue
            pace = 50 + (n * 7_919 + f * 104_729) % 5_000
            created = DAY0 + timedelta(days=born, hours=-1)
            out.append(
                ModelRecord(
                    f"org{f:02d}/launch-{n:04d}",
                    f"fam{f:02d}",
                    pace * 30,
                    pace * (day - born + 1),
                    created_at=created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                )
            )
    return out


def size_of(repo_id: str) -> ModelSize:
    """A model's size: 7B for those of the first day, the launches' in turn."""
    if "/launch-" not in repo_id:
        return ModelSize(7 * B, FROM_HUB)
    n = int(repo_id.rsplit("-", 1)[1])
    return ModelSize(LAUNCH_SIZES[n % len(LAUNCH_SIZES)], FROM_HUB)


def build(path: Path, families: int, models: int, days: int) -> float:
    """Write the store, each snapshot with its models' sizes; seconds spent."""
    store = open_store(path)
    definitions = parse_families(families_toml(families), "bench").definitions()
    started = time.perf_counter()
    for day in range(days):
        listed = records(families, models, day)
        sizes = {r.repo_id: size_of(r.repo_id) for r in listed}
        with store.writing() as db:
            insert_snapshot(db, DAY0 + timedelta(days=day), "hub", listed, definitions, sizes)
        if (day + 1) % max(1, days // 10) == 0:
            print(f"  day {day + 1}/{days}", file=sys.stderr, flush=True)
    return time.perf_counter() - started


SIGHTINGS_SQL = """
    SELECT m.id, m.family, m.created_at, s.id, s.taken_at, s.source, c.downloads_all_time,
           m.repo_id
    FROM models m JOIN snapshots s ON s.id = m.first_snapshot_id
    JOIN model_counts c ON c.snapshot_id = s.id AND c.model_id = m.id
    WHERE m.first_seen_at > ? AND m.first_seen_at <= ? {families}
    ORDER BY m.first_seen_at, s.id, m.repo_id
"""
DEFINITIONS_SQL = """
    SELECT s.snapshot_id, s.family, d.definition
    FROM snapshot_definitions s JOIN family_definitions d ON d.id = s.definition_id
    WHERE s.snapshot_id IN ({marks})
"""
PAIRS_SQL = """
    WITH wanted (snapshot_id, model_id) AS (VALUES {values})
    SELECT c.snapshot_id, c.model_id, c.downloads_all_time FROM wanted w
    JOIN model_counts c ON c.snapshot_id = w.snapshot_id AND c.model_id = w.model_id
"""
SIZES_SQL = "SELECT model_id, parameters FROM model_sizes WHERE model_id IN ({marks})"
HISTORY_SQL = """
    SELECT s.taken_at, c.downloads_30d, c.downloads_all_time, c.likes
    FROM model_counts c JOIN models m ON m.id = c.model_id
    JOIN snapshots s ON s.id = c.snapshot_id
    WHERE m.repo_id = ? ORDER BY s.taken_at, s.id
"""
MODEL_SQL = "SELECT repo_id, family, created_at, pipeline_tag FROM models WHERE repo_id = ?"


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class Reads:
    """The bare reads of one answer, on one connection in one read transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.snapshots = conn.execute(
            "SELECT id, taken_at, source, model_count FROM snapshots ORDER BY taken_at, id"
        ).fetchall()
        self.times = [at(s[1]) for s in self.snapshots]
        self.latest_id, self.latest_at = self.snapshots[-1][0], self.snapshots[-1][1]

    def in_chunks(self, sql: str, ids: list[int]) -> list[Any]:
        rows: list[Any] = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            rows += self.conn.execute(sql.format(marks=",".join("?" * len(chunk))), chunk)
        return rows

    def pairs(self, wanted: list[tuple[int, int]]) -> list[Any]:
        rows: list[Any] = []
        for start in range(0, len(wanted), 400):
            chunk = wanted[start : start + 400]
            values = ",".join("(?, ?)" for _ in chunk)
            flat = [n for pair in chunk for n in pair]
            rows += self.conn.execute(PAIRS_SQL.format(values=values), flat).fetchall()
        return rows

    def sightings(self, after: str, until: str, fams: list[str] | None) -> list[Any]:
        where = "" if fams is None else f"AND m.family IN ({','.join('?' * len(fams))})"
        sql = SIGHTINGS_SQL.format(families=where)
        found = self.conn.execute(sql, [after, until, *(fams or ())]).fetchall()
        # Their snapshots' definitions and their baselines' (the snapshot before).
        ids = sorted({r[3] for r in found} | {r[3] - 1 for r in found})
        self.in_chunks(DEFINITIONS_SQL, ids)
        return found

    def compared(self, found: list[Any]) -> object:
        """What judging the starts of `found` (sightings) reads: the earlier sightings up
        to the newest of them, every one's size, the definitions of those of a family
        or class of theirs, and their figures near each one's age."""
        latest = at(self.latest_at)
        young = [r for r in found if latest - at(r[4]) > timedelta(0)]
        if not young:
            return []
        until = max(r[4] for r in young)
        sql = SIGHTINGS_SQL.format(families="")
        earlier = self.conn.execute(sql, [self.snapshots[0][1], until]).fetchall()
        sizes = dict(self.in_chunks(SIZES_SQL, sorted({r[0] for r in (*earlier, *young)})))
        families = {r[1] for r in young}
        classes = {sizes.get(r[0]) for r in young} - {None}
        rivals = [e for e in earlier if e[1] in families or sizes.get(e[0]) in classes]
        self.in_chunks(DEFINITIONS_SQL, sorted({e[3] for e in rivals} | {e[3] - 1 for e in rivals}))
        near: set[tuple[int, int]] = set()
        for r in young:
            age = latest - at(r[4])
            for e in (e for e in rivals if e[4] < r[4]):
                if e[1] != r[1] and sizes.get(e[0]) != sizes.get(r[0]):
                    continue  # neither its family's nor its class's
                target = at(e[4]) + age
                lo = bisect.bisect_left(self.times, target - timedelta(days=1))
                hi = bisect.bisect_right(self.times, target + timedelta(days=1))
                near.update((s[0], e[0]) for s in self.snapshots[lo:hi])
        return self.pairs(sorted(near))


def raw_reads(path: Path, text: str) -> Callable[[], object]:
    """The SQL the answer to `text` runs, bare, in one read transaction."""
    words = text.split()

    def new(reads: Reads) -> object:
        days = 30 if "--days 30" in text else 7
        only = ["fam00"] if "fam00" in text else None
        start = format_timestamp(at(reads.latest_at) - timedelta(days=days))
        found = reads.sightings(start, reads.latest_at, only)
        now = reads.pairs([(reads.latest_id, r[0]) for r in found])
        return found, now, reads.compared(found)

    def sighting(reads: Reads, name: str) -> Any:
        """A runner's sighting: a model's own, or its family's newest launch's."""
        if "/" in name:
            reads.conn.execute(MODEL_SQL, [name]).fetchall()
            sql = SIGHTINGS_SQL.format(families="AND m.repo_id = ?")
            return reads.conn.execute(sql, ["", reads.latest_at, name]).fetchall()[0]
        return reads.sightings(reads.snapshots[0][1], reads.latest_at, [name])[-1]

    def race(reads: Reads) -> object:
        # Every runner's sighting, its figure now and its history; the earlier launches
        # they are judged against, read once for all of them.
        found = [sighting(reads, name) for name in words[1:]]
        now = reads.pairs([(reads.latest_id, r[0]) for r in found])
        histories = [reads.conn.execute(HISTORY_SQL, [r[7]]).fetchall() for r in found]
        return found, now, histories, reads.compared(found)

    def model(reads: Reads, repo_id: str) -> object:
        history = reads.conn.execute(HISTORY_SQL, [repo_id]).fetchall()
        found = sighting(reads, repo_id)
        return history, reads.pairs([(reads.latest_id, found[0])]), reads.compared([found])

    def run() -> object:
        conn = sqlite3.connect(path)
        try:
            conn.execute("BEGIN")
            reads = Reads(conn)
            if words[0] == "new":
                out = new(reads)
            elif words[0] == "race":
                out = race(reads)
            else:
                out = model(reads, words[1])
                reads.in_chunks(SIZES_SQL, [1])  # its size
            conn.execute("ROLLBACK")
            return out
        finally:
            conn.close()

    return run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--families", type=int, default=20)
    parser.add_argument("--models", type=int, default=1000, help="models per family")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help=f"small store: {QUICK}")
    parser.add_argument("--keep", type=Path, help="build the store in this folder, keep it")
    args = parser.parse_args(argv)
    size = QUICK if args.quick else {k: getattr(args, k) for k in QUICK}
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-launches-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "launches.db"
    path.unlink(missing_ok=True)
    try:
        print(f"launch benchmark: {size}, a launch per family every {LAUNCH_EVERY} days")
        seconds = build(path, **size)
        store = open_store(path)
        families = parse_families(families_toml(size["families"]), "bench")
        commands: Any = importlib.import_module("commands")
        context = commands.AnswerContext(store=store, families=families)
        with sqlite3.connect(path) as conn:
            launched = conn.execute(
                "SELECT count(*) FROM models WHERE repo_id LIKE '%/launch-%'"
            ).fetchone()[0]
        print(f"built in {seconds:.0f}s: {launched:,} launches in the store\n")
        print(f"{'answer':<18} {'ours ms':>10} {'raw SQL ms':>12} {'ratio':>8}  first line")
        for text in ANSWERS:
            answer = lambda text=text: commands.answer_text(text, context)  # noqa: E731
            ours, raw = paired_median_ms(answer, raw_reads(path, text), args.runs)
            first = answer().text[:70]
            print(f"{text:<18} {ours:>10.2f} {raw:>12.2f} {ours / raw:>7.2f}x  {first}")
        print(f"\nmedians over {args.runs} runs, turn about; each opens its own connection.")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
