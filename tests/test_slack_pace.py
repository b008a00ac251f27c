"""At Slack's real pace, through the real app: no answer waits behind another's network,
a post whose answer was lost is not made twice, and each distinct chart is drawn once.

Slack's slowness is the stand-in's: a post held until the test lets it through (an
Event, never a sleep), an answer dropped after Slack acted on the request.
"""

from __future__ import annotations

import threading
from dataclasses import replace

import pytest

from bot.chart_cache import ChartCache
from bot.outbox_sender import deliver
from bot.slack_client import make_web_client
from commands.answer import ChartSpec
from localslack.server import LocalSlack
from storage import outbox as ob
from storage import subscriptions as subs
from tests.builders import growing_store
from tests.slack_helpers import QUICK, running_bot, tiny_png

PATIENT = replace(QUICK, text_wait=30.0)


@pytest.fixture
def store(tmp_path):
    return growing_store(tmp_path / "s.db")


class CountingRender:
    """Draws a tiny PNG and counts the drawings, per chart title."""

    def __init__(self) -> None:
        self.drawn: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, spec: ChartSpec) -> bytes:
        with self._lock:
            self.drawn.append(spec.title)
        return tiny_png(spec)


def images(message):
    return [b for b in message.get("blocks") or [] if b["type"] == "image"]


# -- no answer waits behind another's network --------------------------------------------


def test_other_users_are_answered_while_one_response_url_hangs(store):
    slack, gate = LocalSlack(), threading.Event()
    with running_bot(store, slack=slack, delivery=PATIENT) as bot:
        slow_url = slack.response_url()
        slack.slow_response_url(slow_url, gate)
        slow = bot.command("top", user_id="U0SLOW", wait=False, response_url=slow_url)

        others = [
            bot.command(text, user_id=f"U0{n}")
            for n, text in enumerate(["top", "help", "family qwen"])
        ]

        assert all(exchange.visible for exchange in others)  # each answered in full
        assert [images(o.visible[0]) != [] for o in others] == [False, False, True]
        assert slack.posts(slow.response_url) == []  # still hanging
        gate.set()
        bot.wait_done(slow.response_url)
        assert len(slack.posts(slow.response_url)) == 1


def test_a_subscription_confirmation_slow_to_post_holds_up_no_other_answer(store):
    slack, gate = LocalSlack(), threading.Event()
    slack.delay("chat.postMessage", gate, times=1)
    with running_bot(store, slack=slack, delivery=PATIENT) as bot:
        subscribing = bot.command("subscribe digest", channel_id="C0OTHER", wait=False)

        top = bot.command("top", user_id="U0OTHER")

        assert "Qwen" in top.visible[0]["text"]
        assert slack.posts(subscribing.response_url) == []
        gate.set()
        bot.wait_done(subscribing.response_url)
    [confirmation] = slack.channel_messages["C0OTHER"]
    assert "digest" in confirmation["text"]


# -- a post whose answer never came is not made again -------------------------------------


@pytest.mark.parametrize("text", ["top", "compare qwen llama"])
def test_an_answer_slack_took_but_never_confirmed_shows_once(store, text, caplog):
    slack = LocalSlack()
    slack.lose_answers("response_url")
    with running_bot(store, slack=slack, delivery=PATIENT) as bot:
        exchange = bot.command(text)

    [shown] = exchange.visible  # no plain-text copy after it
    assert "Qwen" in shown["text"]
    assert "may have arrived, so it is not made again" in caplog.text


# -- each distinct chart drawn once ---------------------------------------------------------


def test_a_chart_many_ask_for_at_once_is_drawn_once(store):
    render = CountingRender()
    with running_bot(store, render=render, delivery=PATIENT) as bot:
        exchanges = [bot.command("compare qwen llama", wait=False) for _ in range(6)]
        family = bot.command("family qwen")
        for exchange in exchanges:
            bot.wait_done(exchange.response_url)
            [message] = bot.slack.visible(exchange.response_url)
            assert images(message)  # every answer carries its chart
        uploads = len(bot.slack.files)

    assert images(family.visible[0])
    assert sorted(render.drawn) == sorted({*render.drawn}) and len(render.drawn) == 2
    assert uploads == 7  # one file per answer: Slack shows a file to whom it is shared


def test_a_digest_to_many_channels_draws_its_chart_once(tmp_path):
    from storage import open_store

    store = open_store(tmp_path / "d.db")
    chart = {
        "title": "Top families",
        "series": {"Qwen": [["2026-01-01T06:00:00Z", 1], ["2026-01-05T06:00:00Z", 5]]},
        "metric": "all_time",
        "snapshot_date": "2026-01-05",
        "alt_text": "a line",
        "filename": "digest.png",
        "sample": False,
    }
    now = "2026-01-05T06:00:00Z"
    channels = ["C1", "C2", "C3", "C4"]
    with store.writing() as db:
        for channel in channels:
            subs.subscribe(db, "T1", channel, "digest", (), now)
            payload = {"text": "The week", "blocks": None, "chart": chart}
            ob.enqueue(db, "T1", channel, "digest", "digest:2026-W02", payload, now)
    render = CountingRender()

    with LocalSlack() as slack:
        report = deliver(
            store,
            make_web_client("xoxb-test", slack.api_url),
            render=ChartCache(render, tmp_path / "d.db-charts"),
            pause=lambda _s: None,
        )
        shown = {channel: len(slack.channel_messages[channel]) for channel in channels}

    assert render.drawn == ["Top families"]
    assert len(report.charts) == 4 and len(slack.files) == 4  # uploaded to each channel
    assert shown == {channel: 2 for channel in channels}  # the message and its chart
