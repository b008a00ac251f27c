"""Lanes: each answer's posts in order, no answer behind another's, waits holding no thread.

The timer is a fake whose clock the test moves; where threads matter, events say when
a post is under way and when it may finish. Nothing here sleeps or times anything.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from slack_bolt.context.respond import Respond

from bot.delivery import deliver_text, share_chart
from bot.posting import Lanes, run_now
from bot.slack_client import make_web_client
from commands import blocks as bk
from commands.answer import Answer
from localslack.server import LocalSlack
from tests.slack_helpers import CHANNEL, CHART, tiny_png
from tests.timers import FakeTimer, Inline

ANSWER = Answer(text="Qwen leads", blocks=[bk.section("Qwen leads")], chart=CHART, public=True)


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


def test_closing_cancels_the_waiting_steps_and_finishes_every_post(timer, caplog):
    caplog.set_level(logging.INFO, logger="bot.posting")
    lanes, done = Lanes(timer, Inline()), []

    def confirm_share() -> Iterator[float]:
        try:
            done.append("polled")
            yield 16.0  # Slack has not shown the share yet
            done.append("polled again")  # never early: a poll now would see nothing new
        finally:
            done.append("cleaned up")

    lanes.lane().run(confirm_share)
    lanes.lane().run(lambda: done.append("text"))
    lanes.close()

    assert done == ["polled", "text", "cleaned up"]
    assert "cancelled" in caplog.text and "confirm_share" in caplog.text


def test_a_step_that_asks_to_wait_while_the_bot_stops_is_cancelled_not_run_early(timer):
    lanes, done = Lanes(timer, Inline()), []
    lane = lanes.lane()

    def refresh() -> Iterator[float]:
        for user in ("U1", "U2", "U3"):
            done.append(user)
            yield 1.5

    timer.close()  # the timer stops first, as when the bot is stopping
    lane.run(refresh)
    lanes.close()

    assert done == ["U1"]


def test_closing_still_runs_what_was_due_on_the_timer_that_is_no_step(timer):
    lanes, done = Lanes(timer, Inline()), []
    lane = lanes.lane()
    # A private answer's text, due two seconds after the command: it goes, at once.
    timer.at(2.0, lambda: lane.run(lambda: done.append("text")))

    lanes.close()

    assert done == ["text"]


def test_a_share_being_confirmed_when_the_bot_stops_gets_no_false_note(timer, caplog):
    caplog.set_level(logging.INFO, logger="bot.posting")
    # Slack shows the share only after many files.info polls: it is still being confirmed.
    with LocalSlack(share_polls=100) as slack:
        url = slack.response_url()
        posted = deliver_text(ANSWER, respond=Respond(response_url=url))
        client = make_web_client("xoxb-1-test", slack.api_url)
        lanes = Lanes(timer, Inline())
        steps = partial(share_chart, posted, client=client, channel_id=CHANNEL, render=tiny_png)
        lanes.lane().run(steps)

        lanes.close()

        assert len(slack.calls_to("files.info")) == 1  # not six polls in a row
        assert len(slack.posts(url)) == 1  # the answer, and no "did not land" note
    assert "cancelled" in caplog.text


def test_run_now_sleeps_for_each_wait_and_returns_the_result():
    slept: list[float] = []

    def steps() -> Iterator[float]:
        yield 1.0
        yield 2.0
        return "landed"

    assert run_now(steps(), slept.append) == "landed"
    assert slept == [1.0, 2.0]
