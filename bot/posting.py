"""Posting to Slack so that no answer waits behind another's network.

Answers are made one at a time (bot.acks_first says why), but what happens to each on
its way to Slack is apart: every answer gets a `Lane`, and a lane's posts (the response
URL, chat.postMessage, the file upload and the files.info polls) run in order, on a
pool of threads shared by every lane. A response URL that takes 6 s to answer holds
one thread for 6 s and delays the rest of its own answer, nobody else's; past the
pool's bound (`POST_THREADS`), posts wait for a free thread, so a Slack that stalls
every post cannot make the bot start hundreds of threads.

The waits between posts hold no thread at all: a step of a lane is a generator, and
each number it yields is a wait in seconds, after which the timer puts the rest of the
step back on its lane. Meanwhile the lane runs whatever else its answer has queued
(say, the text, due while the chart's upload is still being processed). Slack's staff
advise polling files.info for about 31 s (bot.delivery); a burst of charts would
otherwise hold a thread per chart for all that time. A 429's Retry-After is such a wait
too (bot.slack_client.paced): the lanes' clients carry no retry handler that sleeps,
so one workspace over its rate limit holds none of the threads the others post on.

When the bot stops, a step still waiting is cancelled (logged; its `finally` blocks
run), never run early: its wait is Slack's pace, and a share polled six times in a row
would only be said missing when it may still land.

`run_now` runs the same steps on the calling thread, sleeping for each wait: the outbox
delivery (a scheduled job, one item after another) and the tests use it.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Protocol, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
# A step that may wait: each float yielded is a pause in seconds; its return is its result.
Steps = Generator[float, None, T]
# What a lane runs: a function doing its posts, or returning Steps that wait between them.
Work = Callable[[], Iterator[float] | None]
# Posts in flight at once, across every answer. Each is a thread blocked on Slack's
# answer (network I/O, which leaves the interpreter to the acknowledging threads); a
# slow post holds one, so this many slow response URLs at the same moment make the
# others queue.
POST_THREADS = 16


class Scheduled(Protocol):
    """A callback the timer will make, unless cancelled first."""

    def cancel(self) -> None: ...


class Timer(Protocol):
    """Calls back at a moment of its clock (bot.deadlines.Deadlines; a fake in tests).

    `at` raises RuntimeError once the timer is closed; `close` runs what is still
    scheduled at once (Lanes cancel their waiting steps before)."""

    def now(self) -> float: ...

    def at(self, when: float, callback: Callable[[], None]) -> Scheduled: ...

    def close(self) -> None: ...


def at_once(value: T) -> Steps[T]:
    """Steps that wait for nothing: `value`, where steps are expected."""
    yield from ()
    return value


def run_now(steps: Steps[T], sleep: Callable[[float], None]) -> T:
    """Run `steps` on this thread, sleeping for each wait; return its result."""
    while True:
        try:
            wait = next(steps)
        except StopIteration as done:
            result: T = done.value
            return result
        sleep(wait)


class Lanes:
    """The shared posting threads and timer; `lane()` for each answer."""

    def __init__(self, timer: Timer | None = None, pool: Executor | None = None) -> None:
        from bot.deadlines import Deadlines

        # The timer only puts steps back on their lanes: one thread of its own is plenty.
        self.timer: Timer = timer or Deadlines(workers=1, name="post")
        self._pool = pool or ThreadPoolExecutor(POST_THREADS, thread_name_prefix="openmodels-post")
        self._lock = threading.Lock()
        self._waiting: dict[int, tuple[Scheduled, Iterator[float], float]] = {}
        self._ids = itertools.count()
        self._closing = False

    def lane(self) -> Lane:
        """A new lane, for one answer's posts."""
        return Lane(self)

    def close(self) -> None:
        """Cancel the steps waiting on the timer, run what else is due there now (a
        private answer's text), finish every post queued, stop the threads.

        A waiting step is cancelled, not run early: its wait is Slack's pace (files.info
        polls, users.conversations calls, a 429's Retry-After), and cut short it would
        poll a share six times in a row and then say the chart did not land, or fire a
        refresh's remaining calls at once. Its `finally` blocks run; each is logged."""
        with self._lock:
            self._closing = True
            waiting, self._waiting = list(self._waiting.values()), {}
        for scheduled, steps, wait in waiting:
            scheduled.cancel()
            _cancel(steps, wait)
        self.timer.close()
        self._pool.shutdown(wait=True)

    def _wait(self, lane: Lane, steps: Iterator[float], wait: float) -> None:
        """Put `steps` back on `lane` after `wait` seconds, or cancel it if stopping."""
        key = next(self._ids)

        def resume() -> None:
            with self._lock:
                if self._waiting.pop(key, None) is None:
                    return  # cancelled meanwhile
            lane._enqueue(steps)

        with self._lock:
            if not self._closing:
                try:
                    scheduled = self.timer.at(self.timer.now() + wait, resume)
                except RuntimeError:  # the timer is closed: the bot is stopping
                    pass
                else:
                    self._waiting[key] = (scheduled, steps, wait)
                    return
        _cancel(steps, wait)

    def _submit(self, run: Callable[[], None]) -> None:
        try:
            self._pool.submit(run)
        except RuntimeError:  # shut down (the bot is stopping): post on this thread
            run()


class Lane:
    """One answer's posts: run in the order queued, one at a time, on the shared threads.

    `run(work)` queues work; if it returns a generator, each float it yields frees the
    lane for that many seconds, then the rest of it is queued again.
    """

    def __init__(self, lanes: Lanes) -> None:
        self._lanes = lanes
        self._lock = threading.Lock()
        self._queue: deque[Iterator[float]] = deque()
        self._running = False

    def run(self, work: Work) -> None:
        """Queue `work` after everything queued on this lane so far."""
        self._enqueue(_started(work))

    def _enqueue(self, steps: Iterator[float]) -> None:
        with self._lock:
            self._queue.append(steps)
            if self._running:
                return
            self._running = True
        self._lanes._submit(self._drain)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._queue:
                    self._running = False
                    return
                steps = self._queue.popleft()
            self._advance(steps)

    def _advance(self, steps: Iterator[float]) -> None:
        try:
            wait = next(steps)
        except StopIteration:
            return
        except Exception:  # one answer's failure must not stop its lane, nor the pool
            log.exception("posting an answer failed")
            return
        self._lanes._wait(self, steps, wait)


def _cancel(steps: Iterator[float], wait: float) -> None:
    """Stop a step that was to wait `wait` seconds (the bot is stopping); its `finally`
    blocks run. Logged with the step that waited, e.g. confirm_share."""
    log.info("stopping: cancelled %s, which was to wait %.1f s", _waiting_in(steps), wait)
    try:
        close = getattr(steps, "close", None)
        if close is not None:
            close()
    except Exception:  # its clean-up failed: the others are still cancelled
        log.exception("cancelling a waiting post failed")


def _waiting_in(steps: Iterator[float]) -> str:
    """What `steps` was doing: the generators it waits in, outermost first (say,
    "chart > share_chart > confirm_share")."""
    names = []
    inner: object = steps
    while inner is not None:
        code = getattr(inner, "gi_code", None)
        if code is not None and code.co_name not in ("_started", "guarded"):
            names.append(code.co_name)
        inner = getattr(inner, "gi_yieldfrom", None)
    return " > ".join(names) or "a post"


def _started(work: Work) -> Iterator[float]:
    """`work` as steps: it runs at the first step; its own waits, if any, follow."""
    waits = work()
    if waits is not None:
        yield from waits
