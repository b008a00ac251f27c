"""A timer on a clock the test moves, and an executor that runs tasks at once: the
answers' lanes (bot.posting) driven without a thread or a sleep."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any


class Scheduled:
    """One callback on the FakeTimer; `cancel` stops it."""

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when, self.callback, self.cancelled = when, callback, False

    def cancel(self) -> None:
        self.cancelled = True


class FakeTimer:
    """A timer on a clock the test moves; callbacks run as `advance` passes them.
    Closing runs what is still scheduled at once, as bot.deadlines does."""

    def __init__(self) -> None:
        self.clock = 0.0
        self.scheduled: list[Scheduled] = []
        self.closed = False

    def now(self) -> float:
        return self.clock

    def at(self, when: float, callback: Callable[[], None]) -> Scheduled:
        if self.closed:
            raise RuntimeError("closed")
        scheduled = Scheduled(when, callback)
        self.scheduled.append(scheduled)
        return scheduled

    def advance(self, seconds: float) -> None:
        self.clock += seconds
        self._run([s for s in self.scheduled if s.when <= self.clock])

    def close(self) -> None:
        self.closed = True
        self._run(list(self.scheduled))

    def _run(self, due: list[Scheduled]) -> None:
        self.scheduled = [s for s in self.scheduled if s not in due]
        for scheduled in sorted(due, key=lambda s: s.when):
            if not scheduled.cancelled:
                scheduled.callback()


class Inline(Executor):
    """Runs each task at once, on the submitting thread."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        fn(*args, **kwargs)
