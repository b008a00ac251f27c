"""Workspaces: what openmodels keeps about each beside Slack's installation record,
stopping one that has no usable token until it installs again, and forgetting one that
uninstalled.

A workspace's data is every row keyed by its team id, in the tables of TEAM_TABLES; the
store holds nothing else of it. (Snapshots, models and figures belong to no workspace.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from storage import outbox
from storage.sql import Connection

ChangesBy = Literal["anyone", "admins"]
# Why a workspace's subscriptions stopped (`stop`) until it installs again.
NO_TOKEN = "openmodels has no usable token in this workspace (revoked or uninstalled)"
# Every table with rows that belong to one workspace, keyed by team_id, in the order a
# forgotten workspace's rows are deleted (the workspace's own row last).
TEAM_TABLES = ("subscriptions", "mutes", "outbox", "announcements", "home_visits", "workspaces")
# slack_sdk's tables of a workspace's install (storage.schema.m014_slack_installations):
# slack_sdk's installation store deletes a workspace's rows from them (bot.uninstall).
INSTALLATION_TABLES = ("slack_installations", "slack_bots")


@dataclass(frozen=True)
class Workspace:
    team_id: str
    enterprise_id: str | None = None
    installed_by: str | None = None  # the user who installed openmodels (OAuth installs)
    installed_at: str | None = None
    changes_by: ChangesBy = "anyone"  # who may change its channels' subscriptions and mutes
    changes_set_by: str | None = None
    changes_set_at: str | None = None


_COLS = (
    "team_id, enterprise_id, installed_by, installed_at, changes_by, changes_set_by, changes_set_at"
)


def get(db: Connection, team_id: str) -> Workspace | None:
    row = db.execute(f"SELECT {_COLS} FROM workspaces WHERE team_id = ?", [team_id]).fetchone()
    return Workspace(*row) if row else None


def record_install(
    db: Connection, team_id: str, enterprise_id: str | None, installed_by: str | None, now: str
) -> None:
    """Remember an install (or a reinstall) of openmodels in `team_id`; its settings stay,
    and its subscriptions stopped for want of a token take up again (`resume`)."""
    resume(db, team_id)
    db.execute(
        """INSERT INTO workspaces (team_id, enterprise_id, installed_by, installed_at)
           VALUES (?, ?, ?, ?)
           ON CONFLICT (team_id) DO UPDATE SET enterprise_id = excluded.enterprise_id,
               installed_by = excluded.installed_by, installed_at = excluded.installed_at""",
        [team_id, enterprise_id, installed_by, now],
    )


def set_changes_by(db: Connection, team_id: str, who: ChangesBy, user_id: str, now: str) -> bool:
    """Set who may change `team_id`'s subscriptions and mutes. True if that changed it."""
    before = get(db, team_id)
    db.execute(
        """INSERT INTO workspaces (team_id, changes_by, changes_set_by, changes_set_at)
           VALUES (?, ?, ?, ?)
           ON CONFLICT (team_id) DO UPDATE SET changes_by = excluded.changes_by,
               changes_set_by = excluded.changes_set_by,
               changes_set_at = excluded.changes_set_at""",
        [team_id, who, user_id, now],
    )
    return (before.changes_by if before else "anyone") != who


def stop(db: Connection, team_id: str, now: str) -> dict[str, int]:
    """Queue nothing more for `team_id` until it installs again: it has no usable bot
    token. Its subscriptions not failing already are marked failing (NO_TOKEN), so no
    alert, digest or launch message is queued for them, and its undelivered outbox items
    are failed, so none of them bursts out after a reinstall. Returns how many of each."""
    marked = db.execute(
        """UPDATE subscriptions SET failing_since = ?, failure = ?
           WHERE team_id = ? AND failing_since IS NULL""",
        [now, NO_TOKEN, team_id],
    ).rowcount
    dropped = outbox.fail_channel(db, team_id, None, now, NO_TOKEN)
    return {"subscriptions": marked, "outbox": dropped}


def resume(db: Connection, team_id: str | None = None) -> int:
    """The subscriptions `stop` stopped take up again: `team_id`'s (every workspace's when
    None). What was dropped stays dropped: a workspace starts afresh. Returns how many."""
    return db.execute(
        """UPDATE subscriptions SET failing_since = NULL, failure = NULL
           WHERE failure = ? AND coalesce(?, team_id) = team_id""",
        [NO_TOKEN, team_id],
    ).rowcount


def forget(db: Connection, team_id: str) -> dict[str, int]:
    """Delete every row of `team_id` (TEAM_TABLES): its subscriptions, mutes, outbox
    items sent or not, announcements, App Home visits and settings. Rows of other
    workspaces are untouched. Returns how many rows of each table went."""
    return {
        table: db.execute(f"DELETE FROM {table} WHERE team_id = ?", [team_id]).rowcount
        for table in TEAM_TABLES
    }
