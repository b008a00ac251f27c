"""Promise: several `openmodels serve` replicas share one PostgreSQL store. Any of them
answers a command; the scheduled jobs run on one replica at a time; a replica killed
with SIGKILL in the middle of delivery is taken over by another once its lease has
expired, and nothing queued is lost or posted twice.

The replicas are real `openmodels serve --http` processes on one store, with a job
lease of 2 s (OPENMODELS_JOB_LEASE_SECONDS) and delivery claims of 1 s, so a takeover
is waited for in seconds rather than the default five minutes.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from storage.snapshots import format_timestamp
from tests.builders import growing_store
from tests.reliability.conftest import scale
from tests.reliability.replicas import (
    Replica,
    delivery_holder,
    queue_deliveries,
    undelivered,
    wait_until,
)
from tests.slack_helpers import post, signed, slash_form

KILLS = scale(3, 20)
FAST = {"OPENMODELS_JOB_LEASE_SECONDS": "2", "OPENMODELS_DELIVERY_CLAIM_SECONDS": "1"}


def now() -> str:
    return format_timestamp(datetime.now(UTC))


def test_every_replica_answers_commands(postgresql_store, slack, tmp_path):
    growing_store(postgresql_store)
    replicas = [Replica(postgresql_store.location, slack.api_url, tmp_path / "r.log") for _ in "ab"]
    try:
        for replica in replicas:
            response_url = slack.response_url()
            form = slash_form("top", response_url)  # signed as sent: each has its trigger id
            reply = post(replica.url(), form, signed(form))
            assert reply.status == 200
            assert wait_until(lambda url=response_url: slack.posts(url), timeout=30)
            [answer] = slack.posts(response_url)
            assert "Qwen" in answer["text"]
    finally:
        for replica in replicas:
            replica.stop()


def test_killing_the_delivering_replica_loses_nothing_and_posts_nothing_twice(
    postgresql_store, slack, tmp_path
):
    store = postgresql_store
    texts = queue_deliveries(store, [f"C{i}" for i in range(6)], per_channel=5)
    log = tmp_path / "replicas.log"
    replicas = {
        r.pid: r for r in (Replica(store.location, slack.api_url, log, **FAST) for _ in "ab")
    }
    takeovers = []
    try:
        for _ in range(KILLS):
            # Wait for a replica to be delivering, and to have posted something since
            # the last kill, then kill it in the middle of the job.
            before = sum(len(m) for m in slack.channel_messages.values())
            assert wait_until(
                lambda: delivery_holder(store, now()) in replicas or not undelivered(store), 60
            ), f"no replica took the delivery job; see {log}"
            if not undelivered(store):
                break
            wait_until(
                lambda b=before: sum(len(m) for m in slack.channel_messages.values()) > b, 10
            )
            holder = delivery_holder(store, now())
            if holder not in replicas:
                continue
            replicas.pop(holder).kill()
            fresh = Replica(store.location, slack.api_url, log, **FAST)
            replicas[fresh.pid] = fresh
            # Another replica takes the job over once the dead one's lease expires.
            assert wait_until(
                lambda h=holder: (
                    delivery_holder(store, now()) not in (None, h) or not undelivered(store)
                ),
                60,
            ), f"nobody took over from replica {holder}; see {log}"
            takeovers.append(holder)
        assert wait_until(lambda: not undelivered(store), 120), f"items left; see {log}"
    finally:
        for replica in replicas.values():
            replica.stop()

    posted = Counter(m["text"] for ms in slack.channel_messages.values() for m in ms)
    assert [t for t in texts if posted[t] == 0] == []  # nothing lost
    assert [t for t, n in posted.items() if n > 1] == []  # nothing twice
    assert len(takeovers) >= 1
    print(
        f"\n{len(takeovers)} replicas killed while delivering {len(texts)} alerts, each taken "
        f"over by another: {len(texts) - len(set(posted) & set(texts))} lost, "
        f"{sum(n > 1 for n in posted.values())} posted twice"
    )
