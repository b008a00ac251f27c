"""Slack events the replicas have taken to answer (PostgreSQL only: see bot.conversations).

Slack delivers an event again when its first delivery was not acknowledged in time, and
with several replicas the retry may reach another one than the first. Each replica asks
here before answering: the first to record an event id answers it.
"""

from __future__ import annotations

from storage.sql import Connection


def first_time(db: Connection, event_id: str, now: str, forget_before: str) -> bool:
    """Record `event_id` as taken at `now`; True only for the first to record it. Ids
    recorded before `forget_before` are forgotten (Slack's retries come within minutes).

    Run in `Store.claiming`: it locks only the row it writes, so it never waits for a
    collection holding the store's write lock, and an event is acknowledged at once.
    """
    db.execute("DELETE FROM seen_events WHERE seen_at < ?", [forget_before])
    inserted = db.execute(
        "INSERT INTO seen_events (event_id, seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
        [event_id, now],
    )
    return inserted.rowcount > 0
