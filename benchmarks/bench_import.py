"""Benchmark `openmodels import` on a large history file: rows per second and memory.

Not a test: it prints figures and never asserts on timings. Each phase is set against
plain Python doing the least the same work needs, in the same run: reading against a
bare `csv.reader` pass over the file, writing against plain `sqlite3.executemany` of
the same rows into the same tables.

    python benchmarks/bench_import.py [--days 500 --models 2000] [--quick]

The default file is 500 daily dates x 2,000 Qwen models = 1,000,000 rows, written to a
temporary folder removed at the end (unless --keep).
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openmodels.families import parse_families
from openmodels.history_import import import_history, read_history
from storage import open_store

FAMILIES = parse_families('[families.qwen]\nlabel = "Qwen"\norgs = ["Qwen"]\n', "benchmark")
DAY0 = datetime(2024, 1, 1, tzinfo=UTC)
NOW = datetime(2030, 1, 1, tzinfo=UTC)
HEADER = ["date", "repo_id", "downloads", "downloads_all_time", "likes", "derivatives"]


def write_file(path: Path, days: int, models: int) -> int:
    """A valid history file; returns its row count. Plain arithmetic, no randomness."""
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for d in range(days):
            day = (DAY0 + timedelta(days=d)).date().isoformat()
            writer.writerows(
                (day, f"Qwen/model-{m:05d}", m * 30 + d, m * 1_000 + d * m, m % 97, m % 13 + d)
                for m in range(models)
            )
    return days * models


def bare_read(path: Path) -> float:
    """Seconds for csv.reader to walk the file: the floor for parsing it."""
    start = time.perf_counter()
    with path.open(newline="") as lines:
        for _ in csv.reader(lines):
            pass
    return time.perf_counter() - start


def our_read(path: Path) -> float:
    start = time.perf_counter()
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as lines:
        read_history(lines, str(path), NOW)
    return time.perf_counter() - start


class Phases:
    """An import progress that notes when reading ended and writing finished."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.read_done = self.start
        self.done = self.start

    def read(self, rows: int) -> None:
        self.read_done = time.perf_counter()

    def wrote(self, snapshots: int, total: int) -> None:
        pass

    def finish(self) -> None:
        self.done = time.perf_counter()


def raw_write(path: Path, csv_path: Path, models: int) -> float:
    """Seconds for plain executemany of the file's rows in one transaction: the floor
    for writing them. Model ids are known up front and models inserted once."""
    open_store(path)  # the same schema, through the real migrations
    by_day: dict[str, list[list[str]]] = {}
    with csv_path.open(newline="") as lines:
        reader = csv.reader(lines)
        next(reader)
        for row in reader:
            by_day.setdefault(row[0], []).append(row)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    ids = {f"Qwen/model-{m:05d}": m + 1 for m in range(models)}
    start = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(
        "INSERT INTO models (id, repo_id, family) VALUES (?, ?, 'qwen')",
        [(i, repo_id) for repo_id, i in ids.items()],
    )
    for day, rows in by_day.items():
        snapshot_id = conn.execute(
            "INSERT INTO snapshots (taken_at, source, model_count) VALUES (?, 'import', ?)",
            (f"{day}T00:00:00Z", len(rows)),
        ).lastrowid
        values = [
            (snapshot_id, ids[r[1]], int(r[2]), int(r[3]), int(r[4]), int(r[5])) for r in rows
        ]
        conn.executemany("INSERT INTO model_counts VALUES (?, ?, ?, ?, ?, ?)", values)
        d30, all_time, likes, derived = (sum(v[k] for v in values) for k in (2, 3, 4, 5))
        conn.execute(
            "INSERT INTO family_totals VALUES (?, 'qwen', ?, ?, ?, ?, ?)",
            (snapshot_id, d30, all_time, likes, len(values), derived),
        )
    conn.execute("COMMIT")
    conn.close()
    return time.perf_counter() - start


def row(name: str, ours: str, raw: str, ratio: str) -> str:
    return f"{name:<30} {ours:>14} {raw:>14} {ratio:>12}"


def run(days: int, models: int, folder: Path) -> None:
    csv_path = folder / "history.csv"
    rows = write_file(csv_path, days, models)
    size_mb = csv_path.stat().st_size / 1e6
    print(f"import benchmark: {days} dates x {models:,} models = {rows:,} rows ({size_mb:.0f} MB)")

    bare_s = bare_read(csv_path)
    read_s = our_read(csv_path)
    phases = Phases()
    report = import_history(
        csv_path, open_store(folder / "ours.db"), FAMILIES, now=NOW, progress=phases
    )
    assert report.plan.rows == rows
    total_s = phases.done - phases.start
    write_s = phases.done - phases.read_done  # planning and writing, after the last row read
    # Taken before the baseline, which holds every row as strings at once.
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    raw_s = raw_write(folder / "raw.db", csv_path, models)

    print()
    print(row("figure", "ours", "plain python", "ours slower"))
    print(
        row(
            "read + validate, rows/s",
            f"{rows / read_s:,.0f}",
            f"{rows / bare_s:,.0f}",
            f"{read_s / bare_s:.1f}x",
        )
    )
    print(
        row(
            "plan + write, rows/s",
            f"{rows / write_s:,.0f}",
            f"{rows / raw_s:,.0f}",
            f"{write_s / raw_s:.1f}x",
        )
    )
    print(row("whole import, rows/s", f"{rows / total_s:,.0f}", "", ""))
    print(row("whole import, seconds", f"{total_s:.1f}", "", ""))
    print(row("peak memory, MB", f"{peak_mb:,.0f}", "", ""))
    print(
        "\nPlain reading is csv.reader alone; plain writing is executemany of pre-parsed rows "
        "with known model ids, in one transaction. Peak memory is the process's high-water "
        "mark through our read and import."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--days", type=int, default=500)
    parser.add_argument("--models", type=int, default=2_000)
    parser.add_argument("--quick", action="store_true", help="50 x 2,000: a smoke run")
    parser.add_argument("--dir", type=Path, help="work here instead of a temp dir")
    parser.add_argument("--keep", action="store_true", help="keep the files afterwards")
    args = parser.parse_args(argv)
    days = 50 if args.quick else args.days
    if days < 1 or args.models < 1 or days > 3650:
        parser.error("need 1..3650 days and at least one model")
    folder = Path(tempfile.mkdtemp(prefix="openmodels-import-", dir=args.dir))
    try:
        run(days, args.models, folder)
    finally:
        if args.keep:
            print(f"files kept in {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
