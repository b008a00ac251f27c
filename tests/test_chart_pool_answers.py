"""Answers whose chart pool fails them: through the real app, with real worker processes.

Whatever becomes of a chart in the pool (its worker crashes or hangs, the queue is
full), the user gets the answer's text exactly once and a one-line note saying why
there is no chart, the pool goes on drawing the next charts, and stopping the bot
leaves no worker process or thread behind.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from functools import partial
from pathlib import Path

import pytest

from bot.chart_pool import ChartPool
from bot.delivery import CHART_NOT_DRAWN, CHARTS_BUSY
from tests import chart_renderers
from tests.builders import growing_store
from tests.chart_renderers import alive, wait_until
from tests.slack_helpers import CHANNEL, QUICK, running_bot

ANSWER = "Qwen leads Llama by 53.0K all-time downloads"
COMPARE_TITLE = "Qwen vs Llama: cumulative downloads"
# Wide enough that the text always waits for whatever becomes of its chart.
PATIENT = replace(QUICK, text_wait=30.0)


@pytest.fixture
def store(tmp_path):
    return growing_store(tmp_path / "s.db")


def pool(renderer, **options) -> ChartPool:
    return ChartPool(renderer=renderer, preload=(), **{"workers": 1, **options})


def images(message):
    return [b for b in message.get("blocks") or [] if b["type"] == "image"]


def test_a_crashed_worker_leaves_the_text_and_a_note_and_the_next_chart_is_drawn(store):
    charts = pool(partial(chart_renderers.crash_on, COMPARE_TITLE))
    with running_bot(store, render=charts, delivery=PATIENT) as bot:
        crashed = bot.command("compare qwen llama")
        drawn = bot.command("family qwen")

    text_alone, note = crashed.visible
    assert ANSWER in text_alone["text"] and images(text_alone) == []
    assert note["text"] == CHART_NOT_DRAWN
    [with_chart] = drawn.visible  # the pool recovered
    assert images(with_chart)
    assert charts.replaced == 1


def test_a_hung_worker_is_replaced_its_answer_gets_a_note_and_nothing_is_left(store):
    charts = pool(chart_renderers.hang, timeout=0.5)
    with running_bot(store, render=charts, delivery=PATIENT) as bot:
        charts.warm_up()
        [hung] = charts.worker_pids()
        exchange = bot.command("compare qwen llama")
        replacement = charts.worker_pids()

    text_alone, note = exchange.visible
    assert ANSWER in text_alone["text"] and note["text"] == CHART_NOT_DRAWN
    assert not alive(hung) and replacement and hung not in replacement
    # Stopping the bot stopped the pool: no worker, no dispatcher thread.
    assert not any(alive(pid) for pid in replacement)
    assert not [t for t in threading.enumerate() if t.name == "openmodels-charts"]


def test_with_the_queue_full_the_answer_comes_at_once_with_a_note(store, tmp_path):
    gate = tmp_path / "gate"
    charts = pool(partial(chart_renderers.gated, str(gate)), queue_limit=0)
    with running_bot(store, render=charts, delivery=PATIENT) as bot:
        first = bot.command("compare qwen llama", wait=False)
        wait_until(Path(f"{gate}.drawing").exists)  # the only worker is drawing its chart

        refused = bot.command("family qwen")  # answered while the first chart is drawn
        gate.touch()
        bot.wait_done(first.response_url)
        [first_answer] = bot.slack.visible(first.response_url)

    text_alone, note = refused.visible
    assert text_alone["text"].startswith("Qwen: #1") and images(text_alone) == []
    assert note["text"] == CHARTS_BUSY
    assert ANSWER in first_answer["text"] and images(first_answer)


def test_a_public_chart_drawn_in_the_pool_lands_in_the_channel(store):
    charts = pool(chart_renderers.tiny)
    with running_bot(store, render=charts, delivery=PATIENT) as bot:
        exchange = bot.command("compare qwen llama --public")

    [message] = exchange.visible
    assert message["response_type"] == "in_channel"
    [file] = bot.slack.files.values()
    assert file.channels == [CHANNEL]
