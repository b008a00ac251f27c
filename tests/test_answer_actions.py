"""The buttons under answers, pressed through the real app: the metric toggle replaces the
answer in place, "Compare with…" and "Top models" answer beside it, and a forged value
changes nothing. In HTTP mode (signed requests) and in Socket Mode (envelopes)."""

from __future__ import annotations

import pytest

from bot.answer_actions import REFUSED
from commands.next_steps import COMPARE_WITH_ACTION, TOGGLE_ACTION, TOP_MODELS_ACTION
from localslack.payloads import message_actions_payload
from storage import subscriptions as subs
from tests.builders import growing_store
from tests.slack_helpers import CHANNEL, TEAM, interaction_body, running_bot
from tests.socket_helpers import running_socket_bot


@pytest.fixture
def store(tmp_path):
    return growing_store(tmp_path / "actions.db")


def header(message: dict) -> str:
    return message["blocks"][0]["text"]["text"]


def action_ids(message: dict) -> list[str]:
    return [
        element["action_id"]
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_the_toggle_replaces_the_answer_in_place(store):
    with running_bot(store) as bot:
        [answer] = bot.command("top 3").visible
        clicked = bot.press(answer, TOGGLE_ACTION)

    # The click's response URL replaces the message the button was on.
    [shown] = clicked.posts
    assert shown["replace_original"] is True
    assert header(shown) == "Top 3 model families by 30-day downloads"
    toggle = next(e for b in shown["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert (toggle["value"], toggle["text"]["text"]) == ("top 3", "All-time")
    assert action_ids(shown) == [TOGGLE_ACTION, "share_in_channel"]


def test_the_toggle_on_an_answer_with_a_chart_replaces_it_and_keeps_its_chart(store):
    with running_bot(store) as bot:
        answer = bot.command("compare qwen llama").visible[0]
        clicked = bot.press(answer, TOGGLE_ACTION)

    assert clicked.posts[0]["replace_original"] is True
    assert header(clicked.visible[0]) == "Qwen vs Llama — 30-day downloads"
    assert any(b["type"] == "image" for m in clicked.visible for b in m["blocks"])


def test_compare_with_answers_the_comparison_beside_the_answer(store):
    with running_bot(store) as bot:
        answer = bot.command("family qwen").visible[0]
        clicked = bot.press(answer, COMPARE_WITH_ACTION, "compare qwen deepseek")

    assert clicked.posts[0]["replace_original"] is False
    assert header(clicked.visible[0]) == "Qwen vs DeepSeek — all-time downloads"
    share = next(
        e
        for b in clicked.visible[0]["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "share_in_channel"
    )
    assert share["value"] == "compare qwen deepseek"


def test_top_models_lists_the_familys_models_in_full(store):
    with running_bot(store) as bot:
        answer = bot.command("family qwen --30d").visible[0]
        clicked = bot.press(answer, TOP_MODELS_ACTION)

    [shown] = clicked.visible
    assert header(shown) == "Qwen: top models by 30-day downloads"
    text = "\n".join(b["text"]["text"] for b in shown["blocks"] if b["type"] == "section")
    assert text.index("Qwen/Qwen3-8B") < text.index("Qwen/Qwen2.5-7B")
    assert TOP_MODELS_ACTION not in action_ids(shown)


def test_an_answer_for_the_whole_channel_carries_no_buttons(store):
    with running_bot(store) as bot:
        [public] = bot.command("top --public").visible

    assert action_ids(public) == []


@pytest.mark.parametrize("value", ["subscribe digest", "unsubscribe alerts"])
def test_a_forged_button_value_is_refused_and_changes_nothing(store, value):
    with running_bot(store) as bot:
        action = {"type": "button", "action_id": TOGGLE_ACTION, "block_id": "b", "value": value}
        clicked = bot.send(
            lambda url: interaction_body(
                message_actions_payload(
                    action, url, trigger_id="1.2.3", channel_id=CHANNEL, team_id=TEAM
                )
            ),
            kind="action",
        )

    [message] = clicked.visible
    assert message["text"] == REFUSED
    assert bot.slack.channel_messages == {}
    with store.reading() as db:
        assert subs.get(db, TEAM, CHANNEL, "digest") is None


def test_socket_mode_toggle_compare_with_and_top_models(store):
    with running_socket_bot(store) as bot:
        answer = bot.command("family qwen").posts[0]
        toggled = bot.press(answer, TOGGLE_ACTION)
        compared = bot.press(answer, COMPARE_WITH_ACTION, "compare qwen llama")
        models = bot.press(answer, TOP_MODELS_ACTION)

    assert toggled.acked and compared.acked and models.acked
    assert header(models.posts[0]) == "Qwen: top models by all-time downloads"
    assert toggled.posts[0]["replace_original"] is True
    assert header(toggled.posts[0]) == "Qwen family"
    assert "30-day downloads" in str(toggled.posts[0]["blocks"])
    assert header(compared.posts[0]) == "Qwen vs Llama — all-time downloads"
