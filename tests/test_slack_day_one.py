"""The first day in Slack: signed slash commands and button presses into the real Bolt
app, answered on the local Slack, from a store holding one collection from the fake Hub
and its day-one estimate (tests.test_day_one's Hub: Qwen 570.5M now and 490M on 18 Dec
2025, Llama 550M and 518M, Kimi 10M and 7M, with the bundled families)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from commands.next_steps import SUGGESTED_ACTIONS, VIEW_ACTIONS
from openmodels.charts import render_chart
from openmodels.collector import collect_snapshot
from openmodels.families import load_families
from openmodels.hub import HubClient
from tests.slack_helpers import all_strings, running_bot
from tests.test_day_one import LABEL, the_hub

DAY_ONE = datetime(2026, 1, 17, 6, 0, tzinfo=UTC)


@pytest.fixture
def store(fake_hub, new_store):
    store = new_store("team")
    collect_snapshot(load_families(), HubClient(the_hub(fake_hub).url), store, now=DAY_ONE)
    return store


def everything(messages) -> str:
    return " ".join(all_strings(messages)).replace("\n", " ")


def images(messages):
    return [b for m in messages for b in m.get("blocks") or [] if b["type"] == "image"]


def test_compare_on_day_one_answers_with_a_two_point_trend_and_the_estimate_label(store):
    with running_bot(store, render=render_chart) as bot:
        exchange = bot.command("compare qwen llama")

    said = everything(exchange.visible)
    assert "Qwen leads Llama by 20.5M all-time downloads" in said
    assert "Change: +80.5M since 18 Dec 2025" in said
    assert f"changes since 2025-12-18, {LABEL}" in said
    [image] = images(exchange.visible)
    assert "Qwen from 490.0M on 2025-12-18 to 570.5M on 2026-01-17" in image["alt_text"]
    assert (
        "The points of 2025-12-18 are estimated from the Hub's 30-day counts" in (image["alt_text"])
    )
    [png] = [f.data for f in bot.slack.files.values()]
    assert png is not None and png.startswith(b"\x89PNG")


def test_movers_over_30_days_rank_families_in_slack(store):
    with running_bot(store) as bot:
        said = everything(bot.command("movers 30").visible)

    assert "1. *<https://huggingface.co/Qwen|Qwen>*  +80.5M" in said
    assert "2025-12-18 → 2026-01-17" in said


def test_the_weekly_button_replaces_the_answer_with_its_weekly_chart(store):
    with running_bot(store) as bot:
        [answer, *_] = bot.command("compare qwen llama").visible
        clicked = bot.press(answer, VIEW_ACTIONS["weekly"])

    assert clicked.posts[0]["replace_original"] is True
    [image] = images(clicked.visible)
    assert image["alt_text"].startswith(
        "Step chart of Hub all-time downloads gained per week up to 2026-01-17"
    )


def test_compare_with_one_family_offers_its_neighbours_and_the_button_compares_them(store):
    with running_bot(store) as bot:
        [answer, *_] = bot.command("compare llama").visible
        clicked = bot.press(answer, SUGGESTED_ACTIONS[0])

    assert "Llama's neighbours in the ranking are Qwen (#1) and Kimi (#3)" in everything([answer])
    assert clicked.posts[0]["replace_original"] is False
    header = clicked.visible[0]["blocks"][0]["text"]["text"]
    assert header == "Qwen vs Llama vs Kimi — all-time downloads"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("families", "Tracked families (11)"),
        ("who is winning?", "“who is winning?” is not a command I know. Perhaps:"),
        ("model Qwen3-8B", "Qwen/Qwen3-8B"),
        ("top 500", "All 3 tracked families by all-time downloads"),
        ("new 14", "New models: launched in the last 14 days"),
    ],
)
def test_a_newcomers_questions_are_answered_in_slack(store, text, said):
    with running_bot(store) as bot:
        assert said in everything(bot.command(text).visible)
