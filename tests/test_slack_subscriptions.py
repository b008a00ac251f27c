"""Subscribing a channel from Slack: stored, confirmed in the channel, or told to invite."""

from __future__ import annotations

import pytest

from localslack.server import LocalSlack
from storage import subscriptions as subs
from tests.builders import growing_store
from tests.slack_helpers import CHANNEL, TEAM, USER, running_bot


@pytest.fixture
def store(new_store):
    return growing_store(new_store("s"))


def channel_texts(slack: LocalSlack, channel: str = CHANNEL) -> list[str]:
    return [m["text"] for m in slack.channel_messages.get(channel, [])]


def test_subscribe_is_stored_and_confirmed_for_everyone_in_the_channel(store):
    with running_bot(store) as bot:
        [answer] = bot.command("subscribe alerts qwen").posts

        assert answer["text"].startswith("Subscribed this channel to overtake alerts for Qwen")
        assert channel_texts(bot.slack) == [
            f"<@{USER}> subscribed this channel to overtake alerts for Qwen in all-time downloads "
            "(checked after each collection, daily at 06:00 UTC)."
        ]
    with store.reading() as db:
        assert subs.get(db, TEAM, CHANNEL, "alerts").families == ("qwen",)


def test_a_channel_the_bot_is_not_in_is_marked_failing_and_the_user_told_to_invite(store):
    with running_bot(store, slack=LocalSlack(members={"C_OTHER"})) as bot:
        [answer] = bot.command("subscribe digest").posts
        listing = bot.command("subscriptions").posts[0]["text"]

    assert "I cannot post in this channel (`not_in_channel`)" in answer["text"]
    assert "/invite @openmodels" in answer["text"]
    assert "delivery failing since" in listing
    with store.reading() as db:
        assert subs.get(db, TEAM, CHANNEL, "digest").failure == "not_in_channel"


def test_unsubscribe_is_confirmed_in_the_channel(store):
    with running_bot(store) as bot:
        bot.command("subscribe digest")
        bot.command("unsubscribe digest")
        assert channel_texts(bot.slack)[-1] == (
            f"<@{USER}> unsubscribed this channel from the weekly digest."
        )


def test_listing_subscriptions_posts_nothing_in_the_channel(store):
    with running_bot(store) as bot:
        bot.command("subscriptions")
        assert channel_texts(bot.slack) == []
