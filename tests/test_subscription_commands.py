"""subscribe, unsubscribe and subscriptions, answered for the channel they were typed in."""

from datetime import UTC, datetime

import pytest

from commands import AnswerContext, answer_text
from commands.subscriptions import Channel
from openmodels.families import load_families
from storage import subscriptions as subs

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
HERE = Channel("T1", "C1", "U42")


@pytest.fixture
def store(new_store):
    return new_store("s")


def ask(store, text, channel=HERE):
    ctx = AnswerContext(store=store, families=load_families(), channel=channel, now=lambda: NOW)
    return answer_text(text, ctx)


def stored(store):
    with store.reading() as db:
        return subs.for_channel(db, "T1", "C1")


def test_subscribing_to_the_digest_is_stored_and_confirmed_in_the_channel(store):
    result = ask(store, "subscribe digest")
    assert result.extra["confirmation"].startswith(
        "<@U42> subscribed this channel to the weekly openmodels digest"
    )
    [sub] = stored(store)
    assert (sub.kind, sub.families, sub.created_at) == ("digest", (), "2026-01-05T12:00:00Z")


def test_alerts_can_be_limited_to_families_named_by_alias(store):
    result = ask(store, "subscribe alerts Alibaba llama qwen")
    assert "overtake alerts for Qwen, Llama" in result.text
    assert stored(store)[0].families == ("qwen", "llama")


def test_an_unknown_family_is_refused_with_a_suggestion(store):
    result = ask(store, "subscribe alerts qwne")
    assert result.error and "did you mean qwen?" in result.text
    assert stored(store) == []


def test_subscriptions_lists_what_the_channel_gets_and_failures(store):
    ask(store, "subscribe digest")
    ask(store, "subscribe alerts qwen")
    with store.writing() as db:
        subs.mark_failing(db, "T1", "C1", "not_in_channel", "2026-01-06T06:00:00Z")
    text = ask(store, "subscriptions").text
    assert "Weekly digest" in text and "Overtake alerts* for Qwen" in text
    assert "delivery failing since 2026-01-06T06:00:00Z (`not_in_channel`)" in text
    assert "/invite @openmodels" in text


def test_subscribing_again_clears_a_failing_mark(store):
    ask(store, "subscribe digest")
    with store.writing() as db:
        subs.mark_failing(db, "T1", "C1", "not_in_channel", "2026-01-06T06:00:00Z")
    ask(store, "subscribe digest")
    assert not stored(store)[0].failing


def test_unsubscribing(store):
    ask(store, "subscribe alerts")
    assert ask(store, "unsubscribe alerts").extra["confirmation"] == (
        "<@U42> unsubscribed this channel from overtake alerts."
    )
    assert (
        ask(store, "unsubscribe alerts").text
        == "This channel was not subscribed to overtake alerts."
    )
    assert stored(store) == []


def test_unsubscribing_from_some_families_says_how_and_changes_nothing(store):
    ask(store, "subscribe alerts qwen llama")

    result = ask(store, "unsubscribe alerts qwen")

    assert result.error
    assert "subscribe again with only those" in result.text
    assert [s.families for s in stored(store)] == [("qwen", "llama")]


def test_a_channel_without_subscriptions_is_offered_each_kind(store):
    text = ask(store, "subscriptions").text

    assert all(
        f"`/openmodels subscribe {kind}`" in text for kind in ("digest", "alerts", "launches")
    )


def test_other_channels_are_not_affected(store):
    ask(store, "subscribe digest", Channel("T1", "C2", "U1"))
    assert "no subscriptions" in ask(store, "subscriptions").text


def test_outside_slack_subscriptions_explain_themselves(store):
    result = answer_text("subscribe digest", AnswerContext(store=store, families=load_families()))
    assert result.error and "Slack channel" in result.text


def test_alerts_follow_all_time_downloads_unless_asked_and_the_listing_says_which(store):
    default = ask(store, "subscribe alerts")
    text = ask(store, "subscriptions").text
    both = ask(store, "subscribe alerts qwen --30d --all-time")

    assert "for every tracked family in all-time downloads" in default.text
    assert "Overtake alerts* for every tracked family in all-time downloads" in text
    assert "for Qwen in all-time and 30-day downloads" in both.text
    assert stored(store)[0].metrics == ("all_time", "30d")


def test_a_digest_every_week_is_stored_confirmed_and_listed(store):
    result = ask(store, "subscribe digest --always")

    assert "every week, saying so when nothing changed" in result.extra["confirmation"]
    assert stored(store)[0].always is True
    assert "Weekly digest*, every Monday at 09:00 UTC, every week (quiet ones too)" in (
        ask(store, "subscriptions").text
    )
    ask(store, "subscribe digest")  # subscribing again without it: changed weeks only
    assert stored(store)[0].always is False
