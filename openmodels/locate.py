"""Which store a command uses: --db, OPENMODELS_DB, ./openmodels.db, else the bundled sample."""

from __future__ import annotations

from pathlib import Path

from openmodels.config import DEFAULT_DB, Config
from openmodels.errors import StoreError
from storage import Store, open_store
from storage.store import SAMPLE_READ_ONLY


def sample_store_path() -> Path:
    # A file beside the package's modules (see openmodels.families.load_families).
    return Path(__file__).resolve().parent / "sample" / "sample.db"


def is_sample(path: Path) -> bool:
    """Whether `path` is the bundled sample: named by --db or OPENMODELS_DB, it stays the
    read-only sample (opened as any store, its file would be switched to WAL)."""
    try:
        return path.resolve() == sample_store_path()
    except OSError:
        return False


def store_for_writing(config: Config) -> Store:
    """The store a collection writes to; created if missing. Never the sample."""
    path = config.db_path or Path(DEFAULT_DB)
    if is_sample(path):
        raise StoreError(f"{path}: {SAMPLE_READ_ONLY}")
    return open_store(path)


def store_for_reading(config: Config, cwd: Path | None = None) -> Store:
    """The store answers read from: the configured one, or the sample when none exists."""
    if config.db_path is not None:
        return open_store(config.db_path, sample=is_sample(config.db_path))
    default = (cwd or Path.cwd()) / DEFAULT_DB
    if default.exists():
        return open_store(default)
    return open_store(sample_store_path(), sample=True)
