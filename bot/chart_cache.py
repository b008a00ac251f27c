"""Charts known by their content: each distinct chart drawn once, however many ask.

A chart's identity is a hash of what it shows and of the drawing's style version
(openmodels.chart_spec.chart_key). Under a burst of commands most ask for the same
few charts: 300 chart commands over 12 families ask for 24 different charts, and a
digest to N channels for one. So:
- a chart already drawn is served from memory, or from a directory beside the store
  (`openmodels.db-charts/`, so a restart keeps them too), each bounded in bytes, the
  least recently used going first;
- a request for a chart that is being drawn waits for that one drawing (its Future);
- only a chart nobody has drawn or is drawing goes to the renderer: the chart pool
  (bot.chart_pool, whose queue bound still refuses a chart that would come too late),
  or a plain function, drawn on one of two threads of this cache.
Uploads are not shared: Slack wants a file per channel or user.

A PNG found on disk is served as it is: its name is its content's hash, written whole
(to a temporary name, then renamed), so a crash never leaves half a chart under a key.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from openmodels.chart_spec import ChartSpec, chart_key
from openmodels.charts import STYLE

if TYPE_CHECKING:
    from storage import Store

log = logging.getLogger(__name__)

Renderer = Callable[[ChartSpec], bytes]


class Drawer(Protocol):
    """What draws apart and hands back a Future: bot.chart_pool.ChartPool."""

    def submit(self, spec: ChartSpec, *, bounded: bool = True) -> Future[bytes]: ...


MEMORY_BYTES = 32 * 1024 * 1024  # a chart is 50 to 150 KB: some hundreds of charts
DISK_BYTES = 256 * 1024 * 1024


def cache_directory(store: Store) -> Path | None:
    """Where the charts of `store` are kept on disk: beside its file, named after it as
    SQLite names its own files (`openmodels.db-wal`). None for a store on PostgreSQL:
    its replicas keep their charts in memory, having no file of their own beside it."""
    if store.engine_name != "sqlite":
        return None
    return Path(f"{store.path}-charts")


class ChartCache:
    """Charts by content over `draw` (a ChartPool or a renderer). A renderer too.

    `submit(spec)` returns a Future of the PNG; it raises what the pool raises when it
    refuses a new drawing (ChartsBusy). `cache(spec)` waits for the PNG.
    """

    def __init__(
        self,
        draw: Drawer | Renderer,
        directory: Path | None = None,
        *,
        style: str = STYLE,
        memory_bytes: int = MEMORY_BYTES,
        disk_bytes: int = DISK_BYTES,
    ) -> None:
        self.draw = draw
        self.directory = directory  # None: kept in memory only
        self.style = style
        self.memory_bytes = memory_bytes
        self.disk_bytes = disk_bytes
        self.drawn = 0  # charts drawn (PNGs the renderer made)
        self.served = 0  # requests answered from memory or disk
        self.joined = 0  # requests that waited for a drawing already under way
        self.refused = 0  # requests the chart pool refused (too much drawing ahead)
        self._lock = threading.Lock()
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._memory_size = 0
        self._drawing: dict[str, Future[bytes]] = {}
        self._disk = _Disk(directory, disk_bytes) if directory is not None else None
        self._threads: ThreadPoolExecutor | None = None  # a plain renderer draws here

    def submit(self, spec: ChartSpec, *, bounded: bool = True) -> Future[bytes]:
        """The PNG of `spec`: kept, being drawn, or drawn now (see the module docstring)."""
        key = chart_key(spec, self.style)
        with self._lock:
            png = self._remembered(key)
            if png is None and key in self._drawing:
                self.joined += 1
                return self._drawing[key]
            if png is None:
                ours: Future[bytes] = Future()
                self._drawing[key] = ours
        if png is not None:
            return _done(png)
        png = self._disk.read(key) if self._disk is not None else None
        if png is not None:
            with self._lock:
                self.served += 1
                self._remember(key, png)
                del self._drawing[key]
            ours.set_result(png)
            return ours
        try:
            drawing = self._start(spec, bounded)
        except BaseException as exc:  # refused (ChartsBusy), or the pool is closed
            with self._lock:
                self.refused += 1
                del self._drawing[key]
            ours.set_exception(exc)
            raise
        drawing.add_done_callback(lambda done: self._drawn(key, ours, done))
        return ours

    def __call__(self, spec: ChartSpec) -> bytes:
        """The PNG of `spec`, waiting for a drawing however many are queued (digests)."""
        return self.submit(spec, bounded=False).result()

    def close(self) -> None:
        """Stop the renderer (a chart pool) and this cache's drawing threads."""
        close = getattr(self.draw, "close", None)
        if callable(close):
            close()
        if self._threads is not None:
            self._threads.shutdown(wait=True)

    def __enter__(self) -> ChartCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- inside ------------------------------------------------------------------------

    def _remembered(self, key: str) -> bytes | None:
        png = self._memory.get(key)
        if png is not None:
            self._memory.move_to_end(key)
            self.served += 1
        return png

    def _remember(self, key: str, png: bytes) -> None:
        if key in self._memory or len(png) > self.memory_bytes:
            return
        self._memory[key] = png
        self._memory_size += len(png)
        while self._memory_size > self.memory_bytes:
            _, old = self._memory.popitem(last=False)
            self._memory_size -= len(old)

    def _start(self, spec: ChartSpec, bounded: bool) -> Future[bytes]:
        submit = getattr(self.draw, "submit", None)
        if submit is not None:  # a chart pool: it draws apart, and may refuse
            drawing: Future[bytes] = submit(spec, bounded=bounded)
            return drawing
        with self._lock:
            if self._threads is None:
                self._threads = ThreadPoolExecutor(2, thread_name_prefix="openmodels-draw")
        assert callable(self.draw)
        return self._threads.submit(self.draw, spec)

    def _drawn(self, key: str, ours: Future[bytes], drawing: Future[bytes]) -> None:
        """Settle `ours` with what `drawing` gave, whatever else goes wrong: this runs as
        a done-callback, where an exception is only logged by concurrent.futures, and a
        Future left unsettled would hold every later request for the chart (and a
        digest waiting on it) for good."""
        error = CancelledError() if drawing.cancelled() else drawing.exception()
        png = drawing.result() if error is None else b""
        try:
            if error is None and self._disk is not None:
                # First: once anyone has the chart, so has the disk.
                self._disk.write(key, png)
        except Exception:  # the disk cache failed: the chart is drawn all the same
            log.exception("could not keep chart %s in %s", key[:12], self.directory)
        finally:
            with self._lock:
                if error is None:
                    self.drawn += 1
                    self._remember(key, png)
                self._drawing.pop(key, None)
            if error is None:
                ours.set_result(png)
            else:
                ours.set_exception(error)


def _done(png: bytes) -> Future[bytes]:
    future: Future[bytes] = Future()
    future.set_result(png)
    return future


class _Disk:
    """PNGs named by their key in one directory, at most `limit` bytes in all; a file's
    modification time is when it was last used, and the oldest go first."""

    def __init__(self, directory: Path, limit: int) -> None:
        self.directory = directory
        self.limit = limit
        self._lock = threading.Lock()
        self._size: int | None = None  # bytes in the directory, counted on first write

    def read(self, key: str) -> bytes | None:
        path = self.directory / f"{key}.png"
        try:
            png = path.read_bytes()
            os.utime(path)  # used now: the last to go
        except OSError:
            return None
        return png

    def write(self, key: str, png: bytes) -> None:
        """Keep `png` (never raises: a cache that cannot write only draws more)."""
        path = self.directory / f"{key}.png"
        part = path.with_name(f".{key}.{os.getpid()}.{threading.get_ident()}.part")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            part.write_bytes(png)
            os.replace(part, path)
        except OSError as exc:
            log.warning("could not keep chart %s in %s: %s", key[:12], self.directory, exc)
            with contextlib.suppress(OSError):
                part.unlink()
            return
        with self._lock:
            if self._size is None:
                self._size = self._count()
            else:
                self._size += len(png)
            if self._size > self.limit:
                self._size = self._trim()

    def _files(self) -> list[os.DirEntry[str]]:
        with os.scandir(self.directory) as entries:
            return [e for e in entries if e.name.endswith(".png") and e.is_file()]

    def _stats(self) -> list[tuple[os.DirEntry[str], os.stat_result]]:
        """The PNGs and their stat, oldest use first. Another process sharing the
        directory (`serve` and a cron digest) may delete a file between the listing and
        the look at it: a file gone by then is simply not there."""
        found = []
        for entry in self._files():
            try:
                found.append((entry, entry.stat()))
            except OSError:  # vanished meanwhile
                continue
        return sorted(found, key=lambda pair: pair[1].st_mtime)

    def _count(self) -> int:
        return sum(stat.st_size for _, stat in self._stats())

    def _trim(self) -> int:
        """Remove the least recently used files until the rest take at most 90% of the
        limit (so that the next few writes need no trimming); the size left."""
        files = self._stats()
        size = sum(stat.st_size for _, stat in files)
        for entry, stat in files:
            if size <= 0.9 * self.limit:
                break
            size -= stat.st_size  # removed by us, or already by another process
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
        return size
