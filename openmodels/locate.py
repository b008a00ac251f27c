"""Which store a command uses: --db, OPENMODELS_DB, ./openmodels.db, else the bundled sample."""

from __future__ import annotations

from pathlib import Path

from openmodels.config import DEFAULT_DB, Config
from openmodels.errors import StoreError
from storage import Store, open_store
from storage.locations import is_postgresql
from storage.store import SAMPLE_READ_ONLY


def sample_store_path() -> Path:
    # A file beside the package's modules (see openmodels.families.load_families).
    return Path(__file__).resolve().parent / "sample" / "sample.db"


def is_sample(location: str | Path) -> bool:
    """Whether `location` is the bundled sample: named by --db or OPENMODELS_DB, it stays
    the read-only sample (opened as any store, its file would be switched to WAL)."""
    if is_postgresql(location):
        return False
    try:
        return Path(location).resolve() == sample_store_path()
    except OSError:
        return False


def store_for_writing(config: Config) -> Store:
    """The store a collection writes to; created if missing. Never the sample."""
    location = config.db or DEFAULT_DB
    if is_sample(location):
        raise StoreError(f"{location}: {SAMPLE_READ_ONLY}")
    return open_store(location)


def store_for_reading(config: Config, cwd: Path | None = None) -> Store:
    """The store answers read from: the configured one, or the sample when none exists."""
    if config.db is not None:
        return open_store(config.db, sample=is_sample(config.db))
    default = (cwd or Path.cwd()) / DEFAULT_DB
    if default.exists():
        return open_store(default)
    return open_store(sample_store_path(), sample=True)
