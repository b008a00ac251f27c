"""Lanes: each answer's posts in order, no answer behind another's, waits holding no thread.

The timer is a fake whose clock the test moves; where threads matter, events say when
a post is under way and when it may finish. Nothing here sleeps or times anything.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

import pytest

from bot.posting import Lanes, run_now


class FakeTimer:
    """A timer on a clock the test moves; callbacks run as `advance` passes them."""

    def __init__(self) -> None:
        self.clock = 0.0
        self.scheduled: list[tuple[float, Callable[[], None]]] = []
        self.closed = False

    def now(self) -> float:
        return self.clock

    def at(self, when: float, callback: Callable[[], None]) -> None:
        if self.closed:
            raise RuntimeError("closed")
        self.scheduled.append((when, callback))

    def advance(self, seconds: float) -> None:
        self.clock += seconds
        due = sorted((w, c) for w, c in self.scheduled if w <= self.clock)
        self.scheduled = [(w, c) for w, c in self.scheduled if w > self.clock]
        for _, callback in due:
            callback()

    def close(self) -> None:
        self.closed = True
        due, self.scheduled = self.scheduled, []
        for _, callback in due:
            callback()


class Inline(Executor):
    """Runs each task at once, on the submitting thread."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        fn(*args, **kwargs)


@pytest.fixture
def timer() -> FakeTimer:
    return FakeTimer()


def test_an_answers_posts_run_in_the_order_queued(timer):
    lanes, done = Lanes(timer, Inline()), []
    lane = lanes.lane()

    for name in ("text", "chart", "note"):
        lane.run(lambda name=name: done.append(name))

    assert done == ["text", "chart", "note"]


def test_a_wait_frees_the_lane_for_what_is_queued_behind_it(timer):
    lanes, done = Lanes(timer, Inline()), []
    lane = lanes.lane()

    def chart() -> Iterator[float]:
        done.append("uploaded")
        yield 16.0  # files.info says: not processed yet
        done.append("shown")

    lane.run(chart)
    lane.run(lambda: done.append("text"))  # due at 2 s, while the chart is processed

    assert done == ["uploaded", "text"]
    timer.advance(15.9)
    assert done == ["uploaded", "text"]
    timer.advance(0.1)
    assert done == ["uploaded", "text", "shown"]


def test_a_post_that_hangs_holds_up_no_other_answer(timer):
    slow_posting, release = threading.Event(), threading.Event()
    other_posted = threading.Event()
    lanes = Lanes(timer, ThreadPoolExecutor(2))

    def slow() -> None:
        slow_posting.set()
        assert release.wait(10)

    slow_lane = lanes.lane()
    slow_lane.run(slow)
    slow_lane.run(lambda: None)  # its own next post waits behind it
    assert slow_posting.wait(10)
    lanes.lane().run(other_posted.set)

    assert other_posted.wait(10)  # answered while the slow post still hangs
    release.set()
    lanes.close()


def test_waiting_holds_no_thread(timer):
    # One posting thread, two answers waiting 16 s each: a third answer still posts.
    lanes, done = Lanes(timer, ThreadPoolExecutor(1)), threading.Event()

    def polls() -> Iterator[float]:
        yield 16.0

    lanes.lane().run(polls)
    lanes.lane().run(polls)
    lanes.lane().run(done.set)

    assert done.wait(10)
    lanes.close()


def test_a_failing_post_is_logged_and_the_lane_goes_on(timer, caplog):
    lanes, done = Lanes(timer, Inline()), []
    lane = lanes.lane()

    def broken() -> None:
        raise RuntimeError("Slack said no")

    lane.run(broken)
    lane.run(lambda: done.append("next"))

    assert done == ["next"]
    assert "posting an answer failed" in caplog.text


def test_closing_cuts_the_waits_short_and_finishes_every_post(timer):
    lanes, done = Lanes(timer, Inline()), []

    def chart() -> Iterator[float]:
        yield 16.0
        yield 8.0  # the timer is closed by now: no wait
        done.append("shown")

    lanes.lane().run(chart)
    lanes.close()

    assert done == ["shown"]


def test_run_now_sleeps_for_each_wait_and_returns_the_result():
    slept: list[float] = []

    def steps() -> Iterator[float]:
        yield 1.0
        yield 2.0
        return "landed"

    assert run_now(steps(), slept.append) == "landed"
    assert slept == [1.0, 2.0]
