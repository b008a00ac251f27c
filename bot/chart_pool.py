"""Drawing charts in worker processes that never hold up acknowledgements.

Why this shape (benchmarks/bench_load.py measures it from outside the bot):
- matplotlib's Agg drawing and PNG encoding run in C while holding the interpreter
  lock, so a chart drawn on one of the bot's threads stalls every other thread,
  acknowledgements included. Charts are drawn in spawned worker processes (spawn, not
  fork: forking a process full of threads can copy locks other threads hold).
- Workers run at a lower scheduling priority (`niceness`, 10 by default): when the
  cores are busy, the process that acknowledges Slack gets them first and charts take
  what is left. Without it, 50 compares in flight on 2 cores made the acking process
  wait its turn for a core behind the chart workers.
- The pool holds `workers` processes (OPENMODELS_CHART_WORKERS; by default one fewer
  than the cores, 1 to 4), so a small machine keeps a core for acknowledging.
- The queue is bounded by time: a chart is refused at once (`ChartsBusy`), and its
  answer says so in a one-line note, when the charts ahead of it would take the workers
  more than `max_wait` seconds (20) to draw, at the pace they drew lately; a chart is
  then not promised minutes late. (It was bounded by count, eight a worker, before
  charts were shared by content, bot.chart_cache: now the queue holds distinct charts
  only, each answering every request for it, and a burst of 300 commands asking for 24
  charts found most of them refused.) A digest's chart is not refused: the scheduler's
  job waits its turn (`render`).
- A chart drawn for longer than `timeout` seconds has its worker killed and replaced,
  and a worker that dies is replaced; that chart fails (`ChartError`) and its answer
  falls back to the text with a note. `close()` leaves no process or thread behind.

One dispatcher thread starts, feeds, watches and replaces the workers; the threads
that ask for charts only queue them and get a Future.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from commands.answer import ChartSpec
from openmodels.charts import render_chart
from openmodels.config import default_chart_workers

log = logging.getLogger(__name__)

Renderer = Callable[[ChartSpec], bytes]
# Imported by each worker as it starts, so the first chart does not pay for them.
MATPLOTLIB = ("matplotlib.backends.backend_agg", "matplotlib.figure")
_RESTART_WAIT = 1.0  # seconds before trying again to start a worker that failed to start
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class ChartError(Exception):
    """A chart the pool could not draw: the renderer failed, its worker died or hung."""


class ChartsBusy(ChartError):
    """Too many charts are already waiting for a worker: this one is refused at once."""


class ChartPoolClosed(ChartError):
    """The pool is closing: no more charts are drawn."""


@dataclass
class _Job:
    spec: ChartSpec
    future: Future[bytes]
    started: bool = False  # handed to a worker at least once (its Future is running)


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(
        self, context: Any, renderer: Renderer, niceness: int, preload: Sequence[str]
    ) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_serve,
            args=(child, renderer, niceness, tuple(preload), os.getpid()),
            name="openmodels-chart",
            daemon=True,  # a backstop: multiprocessing ends daemon workers at exit
        )
        self.process.start()
        child.close()
        self.job: _Job | None = None
        self.deadline = 0.0
        self.started = 0.0  # when it was handed its chart

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        """End an idle worker: it holds nothing worth a polite goodbye."""
        self.process.terminate()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        self.conn.close()


class ChartPool:
    """Charts drawn by `renderer` in `workers` processes. A callable renderer, too.

    `submit(spec)` queues a chart and returns a Future of its PNG bytes, or raises
    `ChartsBusy` when too much drawing is queued ahead of it; `pool(spec)` waits its
    turn instead and returns the bytes. Workers start at the first chart, or at
    `warm_up()`.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        timeout: float = 30.0,
        max_wait: float = 20.0,
        queue_limit: int | None = None,
        renderer: Renderer = render_chart,
        niceness: int = 10,
        preload: Sequence[str] = MATPLOTLIB,
    ) -> None:
        self.workers = workers or default_chart_workers()
        self.timeout = timeout
        self.max_wait = max_wait
        # Also at most this many charts waiting, if given (the tests fill the queue so).
        self.queue_limit = queue_limit
        # Seconds a chart took to draw lately (a moving average); a guess until one is.
        self.drawing_seconds = 1.0
        self.renderer = renderer
        self.niceness = niceness
        self.preload = tuple(preload)
        self.replaced = 0  # workers killed (hung) or found dead, and started afresh
        self._context = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._queue: deque[_Job] = deque()
        self._idle: list[_Worker] = []
        self._busy: list[_Worker] = []
        self._missing = 0  # workers that failed to start, tried again every second
        self._started = False
        self._ready = threading.Event()  # the first workers have been started
        self._closing = False
        self._wake_out, self._wake_in = self._context.Pipe(duplex=False)
        self._thread: threading.Thread | None = None

    # -- asking for charts ------------------------------------------------------------

    def submit(self, spec: ChartSpec, *, bounded: bool = True) -> Future[bytes]:
        """Queue `spec`; its Future gets the PNG bytes, or a ChartError.

        With `bounded` (answers), a chart that would wait more than `max_wait` seconds
        for the charts ahead of it (or find `queue_limit` waiting) is refused at once
        with ChartsBusy.
        """
        future: Future[bytes] = Future()
        with self._lock:
            if self._closing:
                raise ChartPoolClosed("the chart pool is closed")
            self._start()
            # Charts that would wait: those queued beyond the workers not drawing (idle, or
            # still starting).
            waiting = len(self._queue) - (self.workers - len(self._busy))
            wait = max(0, waiting + 1) * self.drawing_seconds / self.workers
            full = self.queue_limit is not None and waiting >= self.queue_limit
            if bounded and (full or wait > self.max_wait):
                raise ChartsBusy(
                    f"{len(self._queue)} charts are already waiting for "
                    f"{self.workers} chart worker{'s' if self.workers > 1 else ''} "
                    f"(about {wait:.0f} s of drawing)"
                )
            self._queue.append(_Job(spec, future))
        self._wake()
        return future

    def __call__(self, spec: ChartSpec) -> bytes:
        """Draw `spec`, waiting for a worker however many charts are queued."""
        return self.submit(spec, bounded=False).result()

    def warm_up(self) -> None:
        """Start the workers now (they import matplotlib), not at the first chart."""
        with self._lock:
            if self._closing:
                return
            self._start()
        self._ready.wait(30)

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for the tests and the logs)."""
        with self._lock:
            return [w.pid for w in (*self._idle, *self._busy) if w.pid is not None]

    # -- closing ------------------------------------------------------------------------

    def close(self, grace: float = 5.0) -> None:
        """Refuse queued charts, give those being drawn `grace` seconds to finish (`docker
        stop` waits 10 s), then stop every worker and the dispatcher thread."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            dropped = list(self._queue)
            self._queue.clear()
            last = time.monotonic() + grace
            for worker in self._busy:
                worker.deadline = min(worker.deadline, last)
        for job in dropped:
            _fail(job, ChartPoolClosed("the bot is stopping"))
        self._wake()
        if self._thread is not None:
            self._thread.join()
        self._wake_out.close()
        self._wake_in.close()

    def __enter__(self) -> ChartPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the dispatcher -------------------------------------------------------------------

    def _start(self) -> None:
        """Start the dispatcher, once (the lock is held); it starts the workers.

        Every worker is started from the dispatcher thread: on Linux a worker is told to
        die with the thread that started it (see `_serve`), and that thread lives as long
        as the pool.
        """
        if self._started:
            return
        self._started = True
        self._thread = threading.Thread(target=self._run, name="openmodels-charts", daemon=True)
        self._thread.start()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):  # closed: nobody is waiting any more
            self._wake_in.send_bytes(b"!")

    def _run(self) -> None:
        try:
            with self._lock:
                for _ in range(self.workers):
                    self._add_worker()
            self._ready.set()
            while self._step():
                pass
        except Exception:  # a bug here must not leave answers waiting for ever
            log.exception("the chart pool failed; charts are refused from now on")
            with self._lock:
                self._closing = True
                stranded = list(self._queue) + [w.job for w in self._busy if w.job]
                self._queue.clear()
            for job in stranded:
                _fail(job, ChartError("the chart pool failed"))
        finally:
            with self._lock:
                workers, self._idle, self._busy = [*self._idle, *self._busy], [], []
            for worker in workers:
                worker.stop()

    def _step(self) -> bool:
        """Feed idle workers, wait for something to happen, handle it. False: stop."""
        with self._lock:
            if self._missing and not self._closing:
                self._restart_missing()
            while self._queue and self._idle:
                self._send(self._idle.pop(), self._queue.popleft())
            if self._closing and not self._busy and not self._queue:
                return False
            waitables: list[Any] = [self._wake_out]
            for worker in (*self._idle, *self._busy):
                waitables.append(worker.process.sentinel)
            waitables += [w.conn for w in self._busy]
            timeout = min((w.deadline for w in self._busy), default=None)
            if timeout is not None:
                timeout = max(0.0, timeout - time.monotonic())
            if self._missing:
                timeout = min(timeout if timeout is not None else _RESTART_WAIT, _RESTART_WAIT)
        ready = wait(waitables, timeout)
        settled: list[tuple[_Job, bytes | BaseException]] = []
        with self._lock:
            if self._wake_out in ready:
                while self._wake_out.poll():
                    self._wake_out.recv_bytes()
            now = time.monotonic()
            for worker in list(self._busy):
                if worker.conn in ready or worker.process.sentinel in ready:
                    self._receive(worker, settled)
                elif now >= worker.deadline:
                    self._kill_hung(worker, settled)
            for worker in list(self._idle):
                if worker.process.sentinel in ready:
                    self._idle.remove(worker)
                    log.warning(
                        "chart worker %s exited while idle (code %s); starting another",
                        worker.pid,
                        worker.process.exitcode,
                    )
                    worker.conn.close()
                    self._replace()
        _settle(settled)
        return True

    def _send(self, worker: _Worker, job: _Job) -> None:
        if not job.started:
            if not job.future.set_running_or_notify_cancel():
                self._idle.append(worker)  # cancelled while queued: nothing to draw
                return
            job.started = True
        try:
            worker.conn.send(job.spec)
        except OSError:  # the worker died as it was handed the chart: give it to another
            self._queue.appendleft(job)
            log.warning("chart worker %s was gone; starting another", worker.pid)
            worker.conn.close()
            self._replace()
            return
        worker.started = time.monotonic()
        worker.job, worker.deadline = job, worker.started + self.timeout
        self._busy.append(worker)

    def _receive(self, worker: _Worker, settled: list[tuple[_Job, bytes | BaseException]]) -> None:
        job = worker.job
        assert job is not None
        self._busy.remove(worker)
        worker.job = None
        try:
            kind, value = worker.conn.recv()
        except (EOFError, OSError):
            worker.process.join(5)
            log.warning(
                "chart worker %s died (exit code %s) drawing %s; starting another",
                worker.pid,
                worker.process.exitcode,
                job.spec.filename,
            )
            worker.conn.close()
            settled.append((job, ChartError("the chart worker died drawing it")))
            self._replace()
            return
        self._idle.append(worker)
        took = time.monotonic() - worker.started
        self.drawing_seconds = 0.7 * self.drawing_seconds + 0.3 * took
        if kind == "ok":
            settled.append((job, value))
        else:
            log.warning("chart %s could not be drawn: %s", job.spec.filename, value)
            settled.append((job, ChartError(str(value))))

    def _kill_hung(
        self, worker: _Worker, settled: list[tuple[_Job, bytes | BaseException]]
    ) -> None:
        job = worker.job
        assert job is not None
        self._busy.remove(worker)
        if self._closing:
            log.warning("chart worker %s still drawing %s: killed", worker.pid, job.spec.filename)
            why = "the bot stopped while it was drawn"
        else:
            log.warning(
                "chart worker %s drew %s for over %.0f s: killed, and another started",
                worker.pid,
                job.spec.filename,
                self.timeout,
            )
            why = f"drawing it took over {self.timeout:.0f} s"
        worker.kill()
        settled.append((job, ChartError(why)))
        self._replace()

    def _replace(self) -> None:
        self.replaced += 1
        if not self._closing:
            self._add_worker()

    def _add_worker(self) -> None:
        try:
            self._idle.append(_Worker(self._context, self.renderer, self.niceness, self.preload))
        except OSError:
            log.exception("could not start a chart worker; trying again in a second")
            self._missing += 1

    def _restart_missing(self) -> None:
        missing, self._missing = self._missing, 0
        for _ in range(missing):
            self._add_worker()


def _settle(settled: list[tuple[_Job, bytes | BaseException]]) -> None:
    """Resolve futures outside the pool's lock: their callbacks may do anything."""
    for job, outcome in settled:
        if isinstance(outcome, BaseException):
            _fail(job, outcome)
        else:
            with contextlib.suppress(InvalidStateError):  # cancelled: nobody is waiting
                job.future.set_result(outcome)
    settled.clear()


def _fail(job: _Job, error: BaseException) -> None:
    with contextlib.suppress(InvalidStateError):  # cancelled: nobody is waiting
        job.future.set_exception(error)


# -- in the worker process ------------------------------------------------------------------


def _die_with(parent: int) -> None:
    """Linux: ask the kernel to kill this process when the thread that started it ends
    (the pool's dispatcher, or the whole bot, even killed with -9)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the bot died before the request was made
        os._exit(0)


def _serve(
    conn: Connection, renderer: Renderer, niceness: int, preload: tuple[str, ...], parent: int
) -> None:
    """A worker's life: draw each spec received, send back ("ok", png) or ("error", why).

    Ctrl-C reaches every process of the terminal's group; the bot stops its workers
    itself, so they ignore it. A closed pipe (the bot is gone) ends an idle worker; on
    Linux the kernel also kills a worker whose bot died, even one stuck drawing.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with(parent)
    if niceness and hasattr(os, "nice"):
        os.nice(niceness)
    for module in preload:
        __import__(module)
    while True:
        try:
            spec = conn.recv()
        except (EOFError, OSError):
            return
        try:
            outcome: tuple[str, Any] = ("ok", renderer(spec))
        except Exception as exc:
            outcome = ("error", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(outcome)
        except OSError:
            return
