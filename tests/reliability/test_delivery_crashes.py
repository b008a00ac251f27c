"""Promise: a crash during delivery never drops a message, and duplicates one only in
the window between Slack accepting a post and the store recording it, and only when
the channel's history cannot be read to find it.

Each case kills `openmodels deliver` (os._exit, as kill -9) at a failpoint, restarts it,
and counts what reached the local Slack.
"""

from __future__ import annotations

from collections import Counter

import pytest

from bot.local_slack import LocalSlack
from storage import open_store
from storage import outbox as ob
from storage import subscriptions as subs
from tests.reliability.helpers import openmodels, program_env

CHANNELS = ("C1", "C2", "C3")
NOW = "2026-01-05T06:00:00Z"


@pytest.fixture
def slack():
    with LocalSlack() as server:
        yield server


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "s.db"
    store = open_store(path)
    with store.writing() as conn:
        for channel in CHANNELS:
            subs.subscribe(conn, "T1", channel, "alerts", (), NOW)
            ob.enqueue(conn, "T1", channel, "alert", "e1", {"text": f"alert for {channel}"}, NOW)
    return path


def deliver(db, slack, failpoint=None):
    extra = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": slack.api_url}
    if failpoint:
        extra["OPENMODELS_FAILPOINT"] = failpoint
    return openmodels("deliver", "--db", str(db), env=program_env(**extra))


def received(slack) -> Counter[str]:
    return Counter(m["text"] for ms in slack.channel_messages.values() for m in ms)


def statuses(db):
    with open_store(db).reading() as conn:
        return [i.status for i in ob.all_items(conn)]


@pytest.mark.parametrize("failpoint", ["before_post", "after_post", "after_record"])
def test_a_crash_at_any_point_delivers_each_alert_exactly_once(db, slack, failpoint):
    crashed = deliver(db, slack, failpoint)
    assert crashed.returncode == 137, crashed.stderr
    restarted = deliver(db, slack)
    assert restarted.returncode == 0, restarted.stderr
    assert received(slack) == Counter({f"alert for {c}": 1 for c in CHANNELS})
    assert statuses(db) == ["sent"] * 3


@pytest.mark.parametrize(
    ("failpoint", "duplicates"), [("before_post", 0), ("after_post", 1), ("after_record", 0)]
)
def test_without_channel_history_only_the_post_to_record_window_can_duplicate(
    db, slack, failpoint, duplicates
):
    slack.fail("conversations.history", "missing_scope", times=10)
    assert deliver(db, slack, failpoint).returncode == 137
    assert deliver(db, slack).returncode == 0
    counts = received(slack)
    assert set(counts) == {f"alert for {c}" for c in CHANNELS}  # nothing lost
    assert sum(counts.values()) - len(CHANNELS) == duplicates
