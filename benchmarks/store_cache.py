"""The 365-day benchmark store, built once by bench_store.py's builder and kept on disk.

Building 20 families x 1,000 models x 365 days takes minutes; the benchmarks that only
read it (or add a snapshot to a copy) reuse the file under benchmarks/.cache/ (ignored
by git). The file name carries the size and a digest of the builder's source, so a
change to the synthetic data builds a new store instead of reusing a stale one.

    python benchmarks/store_cache.py [--families 20 --models 1000 --days 365]
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import shutil
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

import bench_store  # the store builder, beside this file

from storage import open_store

CACHE = Path(__file__).resolve().parent / ".cache"


def cache_path(size: bench_store.Size) -> Path:
    """Where the store of `size` is kept: named by size and by the builder's source."""
    source = inspect.getsource(bench_store.Catalogue) + inspect.getsource(bench_store.families_toml)
    source += inspect.getsource(bench_store.ingest_storage)
    digest = hashlib.sha256(source.encode()).hexdigest()[:10]
    return CACHE / f"store-{size.families}x{size.models}x{size.days}-{digest}.db"


def cached_store(size: bench_store.Size) -> Path:
    """The benchmark store of `size`, built now if it is not on disk yet.

    Built under a temporary name and renamed once complete, so an interrupted build is
    never mistaken for a store.
    """
    path = cache_path(size)
    if path.exists():
        return path
    CACHE.mkdir(parents=True, exist_ok=True)
    building = path.with_suffix(".building")
    for stale in (building, Path(f"{building}-wal"), Path(f"{building}-shm")):
        stale.unlink(missing_ok=True)
    print(
        f"building the benchmark store ({size.families} families x {size.models:,} models x "
        f"{size.days} days = {size.rows:,} rows) into {path}; later runs reuse it",
        file=sys.stderr,
        flush=True,
    )
    store = open_store(building)
    catalogue = bench_store.Catalogue.of(size)
    bench_store.ingest_storage(
        store, catalogue, size.days, bench_store.progress_printer("store", size.days)
    )
    _checkpoint(building)
    building.rename(path)
    return path


def working_copy(size: bench_store.Size, folder: Path) -> Path:
    """A copy of the cached store in `folder`, for a run that writes to it."""
    target = folder / "bench.db"
    shutil.copyfile(cached_store(size), target)
    return target


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the file, so the one file is the whole store."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--families", type=int, default=20)
    parser.add_argument("--models", type=int, default=1000, help="models per family")
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args(argv)
    print(cached_store(bench_store.Size(args.families, args.models, args.days)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
