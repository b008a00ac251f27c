"""Holding answers back while commands are still arriving, so that acknowledgements come
first.

CPython gives no thread priority over another: the thread making an answer shares the
interpreter lock with the threads acknowledging Slack, turn and turn about. Measured with
benchmarks/bench_load.py (1,000 commands, 50 in flight, on 2 cores), even one answer
thread at work kept the acks at about twice what Bolt and waitress alone cost (the
floor). Held back while the commands came, it left them at 1.2 to 1.4 times the floor.

So the answer thread starts an answer only once no command has arrived for `quiet`
seconds, or once it has waited `longest`, so that a steady stream of commands never
starves the answers. A lone command's answer waits `quiet` (5 ms); a burst is
acknowledged first and answered right after.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class AcksFirst:
    """Told of each command as it arrives; makes the answer thread wait its turn."""

    def __init__(
        self,
        quiet: float = 0.005,
        longest: float = 0.05,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.quiet = quiet
        self.longest = longest
        self._clock = clock
        self._sleep = sleep
        self._last = float("-inf")  # one float, written whole: no lock needed

    def arrived(self) -> None:
        """A command has arrived: it is being acknowledged."""
        self._last = self._clock()

    def wait_turn(self) -> None:
        """Return once no command has arrived for `quiet` seconds, or after `longest`."""
        now = self._clock()
        give_up = now + self.longest
        while now < give_up:
            calm = now - self._last
            if calm >= self.quiet:
                return
            self._sleep(min(self.quiet - calm, give_up - now))
            now = self._clock()
