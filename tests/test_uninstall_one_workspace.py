"""One workspace (SLACK_BOT_TOKEN) that removes the app is forgotten too: its token is
dead, and its channels' subscriptions with it. Signed events into the real app."""

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


def test_a_revoked_token_keeps_the_workspaces_data(new_store):
    store = growing_store(new_store("s"))
    with running_bot(store) as bot:
        bot.command("subscribe digest")
        event_id = new_event_id()
        revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["U0BOT"]}}

        assert bot.post_event(revoked, event_id).status == 200
        bot.wait_done(event_id)

    with store.reading() as db:
        assert subs.get(db, TEAM, CHANNEL, "digest") is not None
        assert ws.get(db, TEAM) is None
