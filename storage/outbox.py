"""The outbox: alerts and digests waiting for, or done with, delivery to Slack.

An item is written once per (team, channel, kind, event) — the UNIQUE key makes a
second write of the same event a no-op — and moves pending -> sending -> sent, or to
failed when Slack refuses the channel for good. A deliverer claims an item (status
'sending', its owner, an expiry) in one statement before posting it, so two
deliverers running at once never both post it. An item left in 'sending' after its
claim expired was interrupted mid-post: it is the only state in which a duplicate is
possible.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from storage.sql import Connection

MAX_ATTEMPTS = 8


@dataclass(frozen=True)
class OutboxItem:
    id: int
    team_id: str
    channel_id: str
    kind: str
    event: str
    payload: dict[str, Any]
    status: str
    attempts: int
    last_error: str | None
    created_at: str
    updated_at: str
    sent_at: str | None
    slack_ts: str | None
    claimed_by: str | None = None
    claim_expires: str | None = None
    thread_ts: str | None = None  # the thread it is posted in; None: the channel itself


_COLS = (
    "id, team_id, channel_id, kind, event, payload, status, attempts, last_error, "
    "created_at, updated_at, sent_at, slack_ts, claimed_by, claim_expires, thread_ts"
)


def _row(r: tuple[Any, ...]) -> OutboxItem:
    return OutboxItem(
        id=r[0],
        team_id=r[1],
        channel_id=r[2],
        kind=r[3],
        event=r[4],
        payload=json.loads(r[5]),
        status=r[6],
        attempts=r[7],
        last_error=r[8],
        created_at=r[9],
        updated_at=r[10],
        sent_at=r[11],
        slack_ts=r[12],
        claimed_by=r[13],
        claim_expires=r[14],
        thread_ts=r[15],
    )


def enqueue(
    db: Connection,
    team_id: str,
    channel_id: str,
    kind: str,
    event: str,
    payload: dict[str, Any],
    now: str,
) -> bool:
    """Add an item unless the same event is already there for this channel. True if added."""
    cursor = db.execute(
        """INSERT INTO outbox (team_id, channel_id, kind, event, payload, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (team_id, channel_id, kind, event) DO NOTHING""",
        [team_id, channel_id, kind, event, json.dumps(payload), now, now],
    )
    return cursor.rowcount > 0


# Who may claim an item: nobody holds it, or its holder's claim has run out.
_CLAIMABLE = (
    "status IN ('pending', 'sending') AND (claimed_by IS NULL OR claim_expires IS NULL "
    "OR claim_expires <= :now)"
)


def deliverable(db: Connection, now: str) -> list[OutboxItem]:
    """Items to (re)try, oldest first: pending ones and those interrupted mid-post,
    leaving out those another deliverer holds under a live claim."""
    rows = db.execute(f"SELECT {_COLS} FROM outbox WHERE {_CLAIMABLE} ORDER BY id", {"now": now})
    return [_row(r) for r in rows]


def held(db: Connection, now: str) -> list[OutboxItem]:
    """Items another deliverer is delivering right now (a live claim)."""
    rows = db.execute(
        f"""SELECT {_COLS} FROM outbox WHERE status = 'sending' AND claimed_by IS NOT NULL
            AND claim_expires > :now ORDER BY id""",
        {"now": now},
    )
    return [_row(r) for r in rows]


def claim(db: Connection, item_id: int, owner: str, now: str, until: str) -> OutboxItem | None:
    """Claim item `item_id` for `owner` until `until`, marking it 'sending'.

    Returns the item as it was just before the claim (its status tells whether an
    earlier delivery was interrupted), or None when it is no longer claimable: sent,
    failed, or held by another deliverer whose claim is live. Run it in `Store.claiming`
    so the check and the claim are one step for every other process: on SQLite the
    transaction holds the write lock; on PostgreSQL the row is locked as it is read, and
    a row another transaction has locked (a deliverer claiming it this very moment) is
    skipped, as held, rather than waited for.
    """
    lock = " FOR UPDATE SKIP LOCKED" if db.engine == "postgresql" else ""
    row = db.execute(
        f"SELECT {_COLS} FROM outbox WHERE id = :id AND {_CLAIMABLE}{lock}",
        {"id": item_id, "now": now},
    ).fetchone()
    if row is None:
        return None
    db.execute(
        """UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?,
               claimed_by = ?, claim_expires = ?
           WHERE id = ?""",
        [now, owner, until, item_id],
    )
    return _row(row)


def has_event(db: Connection, team_id: str, channel_id: str, kind: str, event: str) -> bool:
    """True if this event was ever queued for this channel, whatever became of it."""
    row = db.execute(
        "SELECT 1 FROM outbox WHERE team_id = ? AND channel_id = ? AND kind = ? AND event = ?",
        [team_id, channel_id, kind, event],
    ).fetchone()
    return row is not None


def undelivered(db: Connection, team_id: str, channel_id: str, kind: str) -> list[OutboxItem]:
    """A channel's items of `kind` still waiting for delivery (pending or in flight)."""
    rows = db.execute(
        f"""SELECT {_COLS} FROM outbox WHERE team_id = ? AND channel_id = ? AND kind = ?
            AND status IN ('pending', 'sending') ORDER BY id""",
        [team_id, channel_id, kind],
    )
    return [_row(r) for r in rows]


def get(db: Connection, item_id: int) -> OutboxItem | None:
    row = db.execute(f"SELECT {_COLS} FROM outbox WHERE id = ?", [item_id]).fetchone()
    return _row(row) if row else None


def all_items(db: Connection) -> list[OutboxItem]:
    return [_row(r) for r in db.execute(f"SELECT {_COLS} FROM outbox ORDER BY id")]


def set_thread(db: Connection, item_id: int, thread_ts: str | None) -> None:
    """Record the thread item `item_id` is about to be posted in (None: the channel)."""
    db.execute("UPDATE outbox SET thread_ts = ? WHERE id = ?", [thread_ts, item_id])


def mark_sent(db: Connection, item_id: int, now: str, slack_ts: str | None) -> bool:
    """Mark item `item_id` sent. False if it is gone (its workspace was forgotten
    meanwhile)."""
    cursor = db.execute(
        """UPDATE outbox SET status = 'sent', sent_at = ?, updated_at = ?, slack_ts = ?,
           last_error = NULL, claimed_by = NULL, claim_expires = NULL WHERE id = ?""",
        [now, now, slack_ts, item_id],
    )
    return cursor.rowcount > 0


def mark_retry(db: Connection, item_id: int, now: str, error: str) -> None:
    """Back to pending for the next run, or failed once it has used its attempts."""
    db.execute(
        """UPDATE outbox SET
               status = CASE WHEN attempts >= ? THEN 'failed' ELSE 'pending' END,
               last_error = ?, updated_at = ?, claimed_by = NULL, claim_expires = NULL
           WHERE id = ?""",
        [MAX_ATTEMPTS, error, now, item_id],
    )


def release(db: Connection, item: OutboxItem, error: str, *, interrupted: bool = False) -> None:
    """Undo a claim on `item` (the item as it was before the claim), keeping only
    `error`: no attempt is spent, since nothing about the item itself failed. An
    interrupted item stays interrupted, and `interrupted` makes it so (its post may have
    reached Slack): either way it is looked for before it is posted again."""
    if interrupted:
        # updated_at stays the claim's moment, just before the post: the look-up for
        # the post starts from it.
        db.execute(
            """UPDATE outbox SET status = 'sending', attempts = ?, last_error = ?,
                   claimed_by = NULL, claim_expires = NULL
               WHERE id = ?""",
            [item.attempts, error, item.id],
        )
        return
    db.execute(
        """UPDATE outbox SET status = ?, attempts = ?, last_error = ?, updated_at = ?,
               claimed_by = NULL, claim_expires = NULL
           WHERE id = ?""",
        [item.status, item.attempts, error, item.updated_at, item.id],
    )


def mark_failed(db: Connection, item_id: int, now: str, error: str) -> None:
    db.execute(
        """UPDATE outbox SET status = 'failed', last_error = ?, updated_at = ?,
               claimed_by = NULL, claim_expires = NULL WHERE id = ?""",
        [error, now, item_id],
    )


def fail_channel(db: Connection, team_id: str, channel_id: str | None, now: str, error: str) -> int:
    """Stop retrying every undelivered item of a channel Slack refused (of every channel
    of the workspace when `channel_id` is None). Returns how many."""
    cursor = db.execute(
        """UPDATE outbox SET status = 'failed', last_error = ?, updated_at = ?,
               claimed_by = NULL, claim_expires = NULL
           WHERE team_id = ? AND coalesce(?, channel_id) = channel_id
             AND status IN ('pending', 'sending')""",
        [error, now, team_id, channel_id],
    )
    return cursor.rowcount
