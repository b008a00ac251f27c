"""Which store a command uses: --db, OPENMODELS_DB, ./openmodels.db, else the bundled sample."""

from __future__ import annotations

from pathlib import Path

from openmodels.config import DEFAULT_DB, Config
from storage import Store, open_store


def sample_store_path() -> Path:
    # A file beside the package's modules (see openmodels.families.load_families).
    return Path(__file__).resolve().parent / "sample" / "sample.db"


def store_for_writing(config: Config) -> Store:
    """The store a collection writes to; created if missing. Never the sample."""
    return open_store(config.db_path or Path(DEFAULT_DB))


def store_for_reading(config: Config, cwd: Path | None = None) -> Store:
    """The store answers read from: the configured one, or the sample when none exists."""
    if config.db_path is not None:
        return open_store(config.db_path)
    default = (cwd or Path.cwd()) / DEFAULT_DB
    if default.exists():
        return open_store(default)
    return open_store(sample_store_path(), sample=True)
