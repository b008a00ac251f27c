"""Promise: a crash during delivery never drops a message, and duplicates one only in
the window between Slack accepting a post and the store recording it, and only when
the channel's history (or, for an alert posted in a thread, the thread) cannot be read
to find it.

Each case kills `openmodels deliver` (os._exit, as kill -9) at a failpoint, restarts it
once the dead run's claim has expired, and counts what reached the local Slack. The
crashed run claims for one second (OPENMODELS_DELIVERY_CLAIM_SECONDS) so the test waits
that long instead of the default five minutes.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from bot.slack_client import make_web_client
from storage import announcements as an
from storage import open_store
from storage import outbox as ob
from storage import subscriptions as subs
from storage.snapshots import format_timestamp
from tests.reliability.helpers import openmodels, program_env

CHANNELS = ("C1", "C2", "C3")
NOW = "2026-01-05T06:00:00Z"


@pytest.fixture
def db(store_location):
    path = store_location("s")
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
        extra["OPENMODELS_DELIVERY_CLAIM_SECONDS"] = "1"
    return openmodels("deliver", "--db", str(db), env=program_env(**extra))


def wait_for_claims_to_expire(db) -> None:
    """Wait (at most a couple of seconds) until no claim in the store is live."""
    with open_store(db).reading() as conn:
        latest = conn.execute("SELECT max(claim_expires) FROM outbox").fetchone()[0]
    while latest and format_timestamp(datetime.now(UTC)) < latest:
        time.sleep(0.05)


def received(slack) -> Counter[str]:
    return Counter(m["text"] for ms in slack.channel_messages.values() for m in ms)


def statuses(db):
    with open_store(db).reading() as conn:
        return [i.status for i in ob.all_items(conn)]


@pytest.mark.parametrize("failpoint", ["before_post", "after_post", "after_record"])
def test_a_crash_at_any_point_delivers_each_alert_exactly_once(db, slack, failpoint):
    crashed = deliver(db, slack, failpoint)
    assert crashed.returncode == 137, crashed.stderr
    wait_for_claims_to_expire(db)
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
    wait_for_claims_to_expire(db)
    assert deliver(db, slack).returncode == 0
    counts = received(slack)
    assert set(counts) == {f"alert for {c}" for c in CHANNELS}  # nothing lost
    assert sum(counts.values()) - len(CHANNELS) == duplicates


def test_an_item_under_a_live_claim_is_left_to_its_deliverer_until_the_claim_expires(db, slack):
    crashed = openmodels(
        "deliver",
        "--db",
        str(db),
        env=program_env(
            SLACK_BOT_TOKEN="xoxb-test",
            SLACK_API_URL=slack.api_url,
            OPENMODELS_FAILPOINT="before_post",
            OPENMODELS_DELIVERY_CLAIM_SECONDS="3600",
        ),
    )
    assert crashed.returncode == 137

    too_soon = deliver(db, slack)  # the claim still runs: the item is not taken over

    assert too_soon.returncode == 0, too_soon.stderr
    assert "1 left to another deliverer" in too_soon.stdout
    assert statuses(db) == ["sending", "sent", "sent"]
    with open_store(db).writing() as conn:  # an hour later
        conn.execute("UPDATE outbox SET claim_expires = ? WHERE status = 'sending'", [NOW])
    assert deliver(db, slack).returncode == 0
    assert received(slack) == Counter({f"alert for {c}": 1 for c in CHANNELS})


# -- an alert posted as a reply in a thread -----------------------------------------------


@pytest.fixture
def threaded(tmp_path, slack):
    """A store whose one alert follows up a pair announced in C1 an hour ago, in the
    thread of that announcement (posted in the stand-in)."""
    path = tmp_path / "t.db"
    parent = make_web_client("xoxb-test", slack.api_url).chat_postMessage(
        channel="C1", text="Qwen passed Llama"
    )["ts"]
    an_hour_ago = format_timestamp(datetime.now(UTC) - timedelta(hours=1))
    with open_store(path).writing() as conn:
        subs.subscribe(conn, "T1", "C1", "alerts", (), NOW)
        an.record(
            conn, "T1", "C1", [("llama", "qwen")], announced_at=an_hour_ago,
            message_ts=parent, thread_ts=parent,
        )  # fmt: skip
        payload = {"text": "Llama passed Qwen", "pairs": [["llama", "qwen"]]}
        ob.enqueue(conn, "T1", "C1", "alert", "overtakes:s2", payload, NOW)
    return path, parent


def thread_texts(slack, parent: str) -> list[str]:
    return [m["text"] for m in slack.thread("C1", parent)]


@pytest.mark.parametrize("failpoint", ["before_post", "after_post", "after_record"])
def test_a_crash_around_a_threaded_post_posts_it_exactly_once(threaded, slack, failpoint):
    db, parent = threaded

    assert deliver(db, slack, failpoint).returncode == 137
    wait_for_claims_to_expire(db)
    restarted = deliver(db, slack)

    assert restarted.returncode == 0, restarted.stderr
    assert thread_texts(slack, parent) == ["Llama passed Qwen"]
    assert statuses(db) == ["sent"]
    if failpoint == "after_post":  # found in its thread, not in the channel's history
        assert "1 found already posted" in restarted.stdout
        assert slack.calls_to("conversations.replies")


@pytest.mark.parametrize(
    ("failpoint", "duplicates"), [("before_post", 0), ("after_post", 1), ("after_record", 0)]
)
def test_without_thread_replies_only_the_post_to_record_window_can_duplicate_a_reply(
    threaded, slack, failpoint, duplicates
):
    db, parent = threaded
    slack.fail("conversations.replies", "missing_scope", times=10)

    assert deliver(db, slack, failpoint).returncode == 137
    wait_for_claims_to_expire(db)
    assert deliver(db, slack).returncode == 0

    assert thread_texts(slack, parent) == ["Llama passed Qwen"] * (1 + duplicates)
