"""Charts shared into channels with outbox items, and whether Slack has shown them.

Slack can show a channel share late, or drop it while answering ok, so a chart is
'unconfirmed' from its upload until files.info shows it in the channel ('landed').
The delivery run decides what to do about one; this module only records it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from storage.sql import Connection

UNCONFIRMED, LANDED, FAILED = "unconfirmed", "landed", "failed"


@dataclass(frozen=True)
class ChartShare:
    """The chart of one outbox item, as far as Slack has shown it."""

    item_id: int
    team_id: str
    channel_id: str
    kind: str
    event: str
    file_id: str | None  # the latest upload
    uploaded_at: str | None
    status: str | None  # None | unconfirmed | landed | failed
    uploads: int


_COLS = (
    "id, team_id, channel_id, kind, event, chart_file_id, chart_uploaded_at, chart_status, "
    "chart_uploads"
)


def _row(r: tuple[Any, ...]) -> ChartShare:
    return ChartShare(*r)


def get(db: Connection, item_id: int) -> ChartShare | None:
    """The chart state of outbox item `item_id` (all None for an item without a chart)."""
    row = db.execute(f"SELECT {_COLS} FROM outbox WHERE id = ?", [item_id]).fetchone()
    return _row(row) if row else None


def record_upload(db: Connection, item_id: int, file_id: str, now: str) -> None:
    """A chart was uploaded and shared: unconfirmed until files.info shows it."""
    db.execute(
        """UPDATE outbox SET chart_file_id = ?, chart_uploaded_at = ?, chart_status = ?,
               chart_uploads = chart_uploads + 1
           WHERE id = ?""",
        [file_id, now, UNCONFIRMED, item_id],
    )


def mark(db: Connection, item_id: int, status: str) -> None:
    """Set the chart's state: LANDED once shown in its channel, or FAILED."""
    db.execute("UPDATE outbox SET chart_status = ? WHERE id = ?", [status, item_id])


def unconfirmed(db: Connection) -> list[ChartShare]:
    """Charts of delivered items still waiting to show in their channel, oldest first."""
    rows = db.execute(
        f"""SELECT {_COLS} FROM outbox
            WHERE chart_status = ? AND status = 'sent' ORDER BY id""",
        [UNCONFIRMED],
    )
    return [_row(r) for r in rows]


def not_landed(
    db: Connection, team_id: str | None = None, channel_id: str | None = None
) -> list[ChartShare]:
    """Charts not (yet) shown in their channel, for status and subscriptions."""
    where = "chart_status IN (?, ?)"
    params: list[Any] = [UNCONFIRMED, FAILED]
    if team_id is not None and channel_id is not None:
        where += " AND team_id = ? AND channel_id = ?"
        params += [team_id, channel_id]
    rows = db.execute(f"SELECT {_COLS} FROM outbox WHERE {where} ORDER BY id", params)
    return [_row(r) for r in rows]
