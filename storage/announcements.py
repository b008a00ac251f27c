"""When each pair of families was last announced in each channel, and in which thread."""

from __future__ import annotations

from collections.abc import Iterable

from storage.mutes import pair_of
from storage.sql import Connection

Announcement = tuple[str, str]  # (announced_at, thread_ts)


def latest(
    db: Connection, team_id: str, channel_id: str, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Announcement]:
    """The latest announcement of each of `pairs` in the channel (pairs never announced
    are left out)."""
    found: dict[tuple[str, str], Announcement] = {}
    for pair in pairs:
        a, b = pair_of(*pair)
        row = db.execute(
            """SELECT announced_at, thread_ts FROM announcements
               WHERE team_id = ? AND channel_id = ? AND family_a = ? AND family_b = ?""",
            [team_id, channel_id, a, b],
        ).fetchone()
        if row is not None:
            found[(a, b)] = (row[0], row[1])
    return found


def record(
    db: Connection,
    team_id: str,
    channel_id: str,
    pairs: Iterable[tuple[str, str]],
    *,
    announced_at: str,
    message_ts: str,
    thread_ts: str,
    outbox_id: int | None = None,
) -> None:
    """Record that one message announced `pairs`: each pair's latest announcement."""
    db.executemany(
        """INSERT INTO announcements (team_id, channel_id, family_a, family_b, announced_at,
               message_ts, thread_ts, outbox_id)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (team_id, channel_id, family_a, family_b) DO UPDATE SET
               announced_at = excluded.announced_at, message_ts = excluded.message_ts,
               thread_ts = excluded.thread_ts, outbox_id = excluded.outbox_id""",
        [
            (team_id, channel_id, *pair_of(*pair), announced_at, message_ts, thread_ts, outbox_id)
            for pair in pairs
        ],
    )
