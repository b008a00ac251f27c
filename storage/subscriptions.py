"""Channel subscriptions to the weekly digest, overtake alerts and launch messages."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from storage.sql import Connection

ALERT_METRICS = ("all_time", "30d")


@dataclass(frozen=True)
class Subscription:
    team_id: str
    channel_id: str
    kind: str  # "digest" | "alerts" | "launches"
    families: tuple[str, ...]  # alerts and launches only; () = every family
    created_at: str
    failing_since: str | None = None
    failure: str | None = None
    last_digest: dict[str, list[str]] | None = None
    metrics: tuple[str, ...] = ALERT_METRICS  # alerts only: the rankings it follows
    always: bool = False  # digest only: sent in quiet weeks too

    @property
    def failing(self) -> bool:
        return self.failing_since is not None


# The outbox kind of the messages each kind of subscription receives.
OUTBOX_KIND = {"digest": "digest", "alerts": "alert", "launches": "launch"}

_COLS = (
    "team_id, channel_id, kind, families, created_at, failing_since, failure, last_digest, "
    "metrics, always"
)


def _row(row: tuple[Any, ...]) -> Subscription:
    return Subscription(
        team_id=row[0],
        channel_id=row[1],
        kind=row[2],
        families=tuple(json.loads(row[3] or "[]")),
        created_at=row[4],
        failing_since=row[5],
        failure=row[6],
        last_digest=json.loads(row[7]) if row[7] else None,
        metrics=tuple(json.loads(row[8])),
        always=bool(row[9]),
    )


def subscribe(
    db: Connection,
    team_id: str,
    channel_id: str,
    kind: str,
    families: tuple[str, ...],
    now: str,
    user_id: str | None = None,
    *,
    metrics: tuple[str, ...] = ("all_time",),
    always: bool = False,
) -> bool:
    """Add or update a subscription; clears a failing mark. True if it was new.

    `metrics` (alerts: which rankings to follow) and `always` (digest: quiet weeks
    too) replace what an existing subscription had.
    """
    unknown = set(metrics) - set(ALERT_METRICS)
    if unknown or not metrics:
        raise ValueError(f"metrics must be some of {ALERT_METRICS}, got {metrics}")
    existed = get(db, team_id, channel_id, kind) is not None
    db.execute(
        """
        INSERT INTO subscriptions
            (team_id, channel_id, kind, families, created_at, created_by, metrics, always)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (team_id, channel_id, kind) DO UPDATE SET
            families = excluded.families, metrics = excluded.metrics,
            always = excluded.always, failing_since = NULL, failure = NULL
        """,
        [
            team_id,
            channel_id,
            kind,
            json.dumps(list(families)),
            now,
            user_id,
            json.dumps([m for m in ALERT_METRICS if m in metrics]),
            int(always),
        ],
    )
    return not existed


def unsubscribe(db: Connection, team_id: str, channel_id: str, kind: str) -> bool:
    """Remove a subscription and its undelivered items. True if there was one."""
    cursor = db.execute(
        "DELETE FROM subscriptions WHERE team_id = ? AND channel_id = ? AND kind = ?",
        [team_id, channel_id, kind],
    )
    outbox_kind = OUTBOX_KIND[kind]
    db.execute(
        """UPDATE outbox SET status = 'failed', last_error = 'unsubscribed'
           WHERE team_id = ? AND channel_id = ? AND kind = ? AND status = 'pending'""",
        [team_id, channel_id, outbox_kind],
    )
    return cursor.rowcount > 0


def get(db: Connection, team_id: str, channel_id: str, kind: str) -> Subscription | None:
    row = db.execute(
        f"SELECT {_COLS} FROM subscriptions WHERE team_id = ? AND channel_id = ? AND kind = ?",
        [team_id, channel_id, kind],
    ).fetchone()
    return _row(row) if row else None


def for_channel(db: Connection, team_id: str, channel_id: str) -> list[Subscription]:
    rows = db.execute(
        f"SELECT {_COLS} FROM subscriptions WHERE team_id = ? AND channel_id = ? ORDER BY kind",
        [team_id, channel_id],
    )
    return [_row(r) for r in rows]


def of_kind(db: Connection, kind: str, *, include_failing: bool = False) -> list[Subscription]:
    sql = f"SELECT {_COLS} FROM subscriptions WHERE kind = ?"
    if not include_failing:
        sql += " AND failing_since IS NULL"
    rows = db.execute(sql + " ORDER BY team_id, channel_id", [kind])
    return [_row(r) for r in rows]


def mark_failing(db: Connection, team_id: str, channel_id: str, error: str, now: str) -> None:
    """Mark every subscription of a channel Slack refused, keeping the first failure time."""
    db.execute(
        """UPDATE subscriptions SET failing_since = coalesce(failing_since, ?), failure = ?
           WHERE team_id = ? AND channel_id = ?""",
        [now, error, team_id, channel_id],
    )


def set_last_digest(
    db: Connection, team_id: str, channel_id: str, rankings: dict[str, list[str]]
) -> None:
    db.execute(
        """UPDATE subscriptions SET last_digest = ?
           WHERE team_id = ? AND channel_id = ? AND kind = 'digest'""",
        [json.dumps(rankings), team_id, channel_id],
    )
