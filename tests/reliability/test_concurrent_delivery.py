"""Promise: two deliverers running at once (the scheduler in `serve`, a cron
`openmodels deliver` or `openmodels collect`) post each queued item once between them.

Two real `openmodels deliver` processes start together against one store and the
local Slack stand-in. Posts to one channel are spaced a second apart, so each run
lasts several seconds and the two overlap for most of it: without claims both would
read the same pending items and post them twice.
"""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest

from storage import open_store
from storage import outbox as ob
from storage import subscriptions as subs
from tests.reliability.helpers import program_env, start_openmodels

CHANNELS = ("C1", "C2", "C3")
PER_CHANNEL = 4
NOW = "2026-01-05T06:00:00Z"


@pytest.fixture
def db(store_location):
    path = store_location("s")
    store = open_store(path)
    with store.writing() as conn:
        for channel in CHANNELS:
            subs.subscribe(conn, "T1", channel, "alerts", (), NOW)
            for n in range(PER_CHANNEL):
                text = f"alert {n} for {channel}"
                ob.enqueue(conn, "T1", channel, "alert", f"e{n}", {"text": text}, NOW)
    return path


def test_two_deliverers_at_once_post_each_item_once_and_share_the_work(db, slack):
    env = program_env(SLACK_BOT_TOKEN="xoxb-test", SLACK_API_URL=slack.api_url)
    # Both wait on the store's write lock, held here (on PostgreSQL their first write
    # after a claim does), so they deliver together.
    with open_store(db).writing():
        deliverers = [start_openmodels("deliver", "--db", str(db), env=env) for _ in range(2)]
        time.sleep(1.5)  # both start and wait here; a late one still overlaps the other
    outputs = [d.communicate(timeout=120) for d in deliverers]

    for deliverer, (_stdout, stderr) in zip(deliverers, outputs, strict=True):
        assert deliverer.returncode == 0, stderr
    posted = Counter(m["text"] for ms in slack.channel_messages.values() for m in ms)
    expected = {f"alert {n} for {c}" for c in CHANNELS for n in range(PER_CHANNEL)}
    assert set(posted) == expected
    assert [text for text, n in posted.items() if n > 1] == []  # no item twice
    sent = [int(re.match(r"(\d+) sent", stdout)[1]) for stdout, _ in outputs]  # type: ignore[index]
    print(f"\nitems sent by each deliverer: {sent}")
    assert sum(sent) == len(expected)
    with open_store(db).reading() as conn:
        assert {i.status for i in ob.all_items(conn)} == {"sent"}
        assert {i.claimed_by for i in ob.all_items(conn)} == {None}
