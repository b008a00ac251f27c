"""Who opened the App Home tab, and when they last did: whose tab to refresh."""

from __future__ import annotations

from dataclasses import dataclass

from storage.sql import Connection


@dataclass(frozen=True)
class HomeVisit:
    team_id: str
    user_id: str
    channel_id: str | None  # the user's direct-message channel with the bot
    opened_at: str


def record(
    db: Connection, team_id: str, user_id: str, channel_id: str | None, opened_at: str
) -> None:
    """Remember that `user_id` opened the tab at `opened_at` (the latest visit wins)."""
    db.execute(
        """INSERT INTO home_visits (team_id, user_id, channel_id, opened_at)
           VALUES (?, ?, ?, ?)
           ON CONFLICT (team_id, user_id) DO UPDATE SET
               channel_id = coalesce(excluded.channel_id, home_visits.channel_id),
               opened_at = CASE WHEN excluded.opened_at > home_visits.opened_at
                   THEN excluded.opened_at ELSE home_visits.opened_at END""",
        [team_id, user_id, channel_id, opened_at],
    )


def since(db: Connection, opened_after: str) -> list[HomeVisit]:
    """Every visitor whose last visit was at or after `opened_after`, oldest first."""
    rows = db.execute(
        """SELECT team_id, user_id, channel_id, opened_at FROM home_visits
           WHERE opened_at >= ? ORDER BY opened_at, team_id, user_id""",
        [opened_after],
    )
    return [HomeVisit(*row) for row in rows]


def forget_before(db: Connection, opened_before: str) -> int:
    """Drop visits older than `opened_before`: their tabs are no longer refreshed."""
    return db.execute("DELETE FROM home_visits WHERE opened_at < ?", [opened_before]).rowcount
