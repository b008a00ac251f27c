"""Progress of a collection or an import, shown as one line rewritten in place on a terminal."""

from __future__ import annotations

import threading
from typing import Protocol, TextIO


class Progress(Protocol):
    """What a collection reports as it goes. Called from several worker threads."""

    def start(self, total_orgs: int) -> None: ...

    def page(self, org: str, models_seen_total: int) -> None: ...

    def org_done(self, org: str) -> None: ...

    def finish(self) -> None: ...


def progress_line(orgs_done: int, total_orgs: int, models_seen: int) -> str:
    """The progress line, e.g. 'orgs 3/14 done, 1,234 models seen'. Pure."""
    return f"orgs {orgs_done}/{total_orgs} done, {models_seen:,} models seen"


class TerminalProgress:
    """Rewrites one terminal line with `\\r` as organisations are listed."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()  # pages arrive from several worker threads
        self._total = 0
        self._done = 0
        self._models = 0
        self._width = 0

    def start(self, total_orgs: int) -> None:
        with self._lock:
            self._total, self._done, self._models = total_orgs, 0, 0
            self._render()

    def page(self, org: str, models_seen_total: int) -> None:
        with self._lock:
            # Reports from different threads may arrive out of order; never count down.
            self._models = max(self._models, models_seen_total)
            self._render()

    def org_done(self, org: str) -> None:
        with self._lock:
            self._done += 1
            self._render()

    def finish(self) -> None:
        with self._lock:
            self._stream.write("\n")
            self._stream.flush()

    def _render(self) -> None:
        line = progress_line(self._done, self._total, self._models)
        # Pad so a shorter line fully covers the longer one it replaces.
        self._stream.write("\r" + line.ljust(self._width))
        self._stream.flush()
        self._width = max(self._width, len(line))


class ImportProgress(Protocol):
    """What a history import reports as it goes: rows read, then snapshots written."""

    def read(self, rows: int) -> None: ...

    def wrote(self, snapshots: int, total: int) -> None: ...

    def finish(self) -> None: ...


def import_progress_line(rows: int, written: int | None = None, total: int | None = None) -> str:
    """The import's progress line, e.g. 'read 120,000 rows, wrote 3/365 snapshots'. Pure."""
    line = f"read {rows:,} rows"
    if written is not None and total is not None:
        line += f", wrote {written:,}/{total:,} snapshots"
    return line


class TerminalImportProgress:
    """Rewrites one terminal line with `\\r` as a history file is read and written."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._rows = 0
        self._written: int | None = None
        self._total: int | None = None
        self._width = 0

    def read(self, rows: int) -> None:
        self._rows = rows
        self._render()

    def wrote(self, snapshots: int, total: int) -> None:
        self._written, self._total = snapshots, total
        self._render()

    def finish(self) -> None:
        self._stream.write("\n")
        self._stream.flush()

    def _render(self) -> None:
        line = import_progress_line(self._rows, self._written, self._total)
        self._stream.write("\r" + line.ljust(self._width))
        self._stream.flush()
        self._width = max(self._width, len(line))
