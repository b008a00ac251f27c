"""What the channel may see: the share button only on answers that read, and no server
file paths from `status`. Through the real app, with signed requests."""

from __future__ import annotations

import pytest

from bot.handlers import NOT_SHAREABLE
from commands import AnswerContext, answer_text
from openmodels.families import load_families
from storage import subscriptions as subs
from tests.builders import growing_store
from tests.slack_helpers import CHANNEL, TEAM, all_strings, running_bot


@pytest.fixture
def store(tmp_path):
    return growing_store(tmp_path / "s.db")


def share_buttons(messages):
    return [
        element
        for message in messages
        for block in message.get("blocks") or []
        if block["type"] == "actions"
        for element in block["elements"]
        if element.get("action_id") == "share_in_channel"
    ]


@pytest.mark.parametrize(
    "text",
    [
        "top",
        "compare qwen llama",
        "family qwen",
        "model Qwen/Qwen3-8B",
        "regions",
        "movers --days 5",
        "forecast",
        "new",
        "help",
    ],
)
def test_answers_that_read_carry_share_in_channel(store, text):
    with running_bot(store) as bot:
        exchange = bot.command(text)

    [button] = share_buttons(exchange.visible)
    assert button["value"] == text


@pytest.mark.parametrize(
    "text",
    [
        "subscribe digest",
        "subscribe alerts qwen",
        "unsubscribe alerts",
        "subscriptions",
        "status",
        "frobnicate",  # help for an unknown command is an error answer
        "compare qwen nosuchfamily",
    ],
)
def test_other_answers_never_carry_it(store, text):
    with running_bot(store) as bot:
        exchange = bot.command(text)

    assert exchange.visible
    assert share_buttons(exchange.visible) == []


def test_a_share_click_naming_a_subscription_is_refused_and_changes_nothing(store):
    with running_bot(store) as bot:
        exchange = bot.click_share("subscribe digest")

    [message] = exchange.visible
    assert message["text"] == NOT_SHAREABLE and message["response_type"] == "ephemeral"
    assert bot.slack.channel_messages == {}  # nothing said in the channel
    with store.reading() as db:
        assert subs.get(db, TEAM, CHANNEL, "digest") is None


def test_status_in_slack_shows_no_server_file_paths(store, tmp_path):
    with store.writing() as db:
        db.execute(
            "INSERT INTO job_runs (job, last_started, last_error) VALUES (?, ?, ?)",
            ["collect", "2026-01-10T06:00:00Z", f"StoreError: cannot write {tmp_path}/s.db"],
        )
    with running_bot(store) as bot:
        [message] = bot.command("status").visible

    shown = " ".join(all_strings(message))
    assert "Snapshots:" in shown and "on disk" in shown
    assert str(tmp_path) not in shown and "s.db" not in shown
    assert "cannot write [path]" in shown


def test_status_at_the_terminal_keeps_the_path(store):
    answer = answer_text("status", AnswerContext(store=store, families=load_families()))

    assert store.location in answer.text
