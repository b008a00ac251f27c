"""Running callbacks at a given time, a few at a time.

The timer of the answers' lanes (bot.posting): a private answer's text, due about two
seconds after the command, and the rest of a step that waited (for Slack to process an
upload, say) are put back on their lanes when their time comes. One waiting thread
serves every deadline and hands what is due to a small pool, instead of a timer thread
per answer: under a burst of commands, hundreds of timer threads would run at once.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)


class Deadline:
    """One scheduled callback; `cancel()` stops it if it has not started."""

    def __init__(self, callback: Callable[[], None]) -> None:
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Deadlines:
    """Calls each callback once its time (on `clock`) has come, on `workers` threads."""

    def __init__(
        self, workers: int = 4, clock: Callable[[], float] = time.monotonic, name: str = "text"
    ) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._closed = False
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix=f"openmodels-{name}")
        self._thread = threading.Thread(
            target=self._run, name=f"openmodels-{name}-deadlines", daemon=True
        )
        self._thread.start()

    def now(self) -> float:
        """The current reading of the clock deadlines are given on."""
        return self._clock()

    def at(self, when: float, callback: Callable[[], None]) -> Deadline:
        """Call `callback` at `when` (a reading of `clock`), or at once if that has passed."""
        deadline = Deadline(callback)
        with self._changed:
            if self._closed:
                raise RuntimeError("deadlines are closed")
            heapq.heappush(self._heap, (when, next(self._order), deadline))
            self._changed.notify()
        return deadline

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._closed and not self._due():
                    wait = self._heap[0][0] - self._clock() if self._heap else None
                    self._changed.wait(wait)
                if self._closed:
                    return
                _, _, deadline = heapq.heappop(self._heap)
            if not deadline.cancelled:
                self._pool.submit(self._call, deadline)

    def _due(self) -> bool:
        return bool(self._heap) and self._heap[0][0] <= self._clock()

    @staticmethod
    def _call(deadline: Deadline) -> None:
        if deadline.cancelled:
            return
        try:
            deadline.callback()
        except Exception:  # one failing callback must not stop the others
            log.exception("a scheduled callback failed")

    def close(self) -> None:
        """Run what is still scheduled now, then stop."""
        with self._changed:
            self._closed = True
            pending = [d for _, _, d in self._heap if not d.cancelled]
            self._heap.clear()
            self._changed.notify()
        self._thread.join()
        for deadline in pending:
            self._pool.submit(self._call, deadline)
        self._pool.shutdown(wait=True)
