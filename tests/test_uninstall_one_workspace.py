"""One workspace (SLACK_BOT_TOKEN) that removes the app is forgotten too: its token is
dead, and its channels' subscriptions with it. One whose token is revoked gets nothing
queued until the bot starts with a token Slack takes. Signed events into the real app."""

from __future__ import annotations

from storage import subscriptions as subs
from storage import workspaces as ws
from tests.builders import growing_store
from tests.slack_helpers import CHANNEL, TEAM, new_event_id, running_bot

NOW = "2026-01-05T06:00:00Z"


def test_an_uninstall_forgets_the_workspace_and_no_other(new_store):
    store = growing_store(new_store("s"))
    with store.writing() as db:
        subs.subscribe(db, "T0ELSEWHERE", "C9", "digest", (), NOW)
    with running_bot(store) as bot:
        bot.command("subscribe digest")
        event_id = new_event_id()

        assert bot.post_event({"type": "app_uninstalled"}, event_id).status == 200
        bot.wait_done(event_id)

    with store.reading() as db:
        assert subs.for_channel(db, TEAM, CHANNEL) == []
        assert subs.get(db, "T0ELSEWHERE", "C9", "digest") is not None


def test_a_revoked_token_keeps_the_workspaces_data_but_queues_nothing_more(new_store):
    store = growing_store(new_store("s"))
    with running_bot(store) as bot:
        bot.command("subscribe digest")
        event_id = new_event_id()
        revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BOT"]}}

        assert bot.post_event(revoked, event_id).status == 200
        bot.wait_done(event_id)

    with store.reading() as db:
        kept = subs.get(db, TEAM, CHANNEL, "digest")
        assert kept is not None and kept.failure == ws.NO_TOKEN
        assert subs.of_kind(db, "digest") == []  # what the digest, alerts and launches read
        assert ws.get(db, TEAM) is None


def test_a_token_slack_takes_at_start_up_takes_the_stopped_subscriptions_up_again(tmp_path):
    store = growing_store(tmp_path / "s.db")
    with store.writing() as db:
        subs.subscribe(db, TEAM, CHANNEL, "digest", (), NOW)
        subs.subscribe(db, TEAM, "C0GONE", "digest", (), NOW)
        subs.mark_failing(db, TEAM, "C0GONE", "channel_not_found", NOW)
        ws.stop(db, TEAM, NOW)

    with running_bot(store):  # serve, started with a token Slack takes (auth.test)
        pass

    with store.reading() as db:
        assert [s.channel_id for s in subs.of_kind(db, "digest")] == [CHANNEL]
        # A channel Slack refused stays refused: only a person can fix that.
        refused = subs.get(db, TEAM, "C0GONE", "digest")
        assert refused is not None and refused.failure == "channel_not_found"
