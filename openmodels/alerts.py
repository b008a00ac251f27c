"""Overtake alerts: after each committed snapshot, queue one message per subscribed
channel for every family that passed another.

Only the planning lives here; `bot.outbox_sender` delivers what is queued. The rules
are `openmodels.overtakes`; this module feeds them from the store. Each check judges
every live snapshot not checked yet against the orders settled by the last check (kept
in `pair_orders`), so a snapshot whose check never ran (a kill just after its commit, a
locked store, a failed job) is made up by the next check, once per pair. Checked
snapshots are recorded in `alert_checks` and each alert has a unique outbox key, so a
restart or a second run never alerts twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from commands import blocks as bk
from commands.format import METRIC_NAMES, family_link, human
from openmodels.definitions import definition_changes
from openmodels.families import Families
from openmodels.overtakes import Anomaly, Overtake, Point, anomalies, replay
from storage import Store, pair_orders
from storage import outbox as ob
from storage import queries as q
from storage import subscriptions as subs
from storage.snapshots import format_timestamp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertCheck:
    """What one check found and queued."""

    snapshot_id: int | None
    overtakes: list[Overtake]
    anomalies: list[Anomaly]
    queued: int
    reason: str = ""


def alert_message(o: Overtake, families: Families, snapshot: q.Snapshot) -> dict[str, Any]:
    """The Slack message for one overtake. Pure."""

    metric = METRIC_NAMES[o.metric]
    text = (
        f"{families.label(o.passer)} passed {families.label(o.passed)} in {metric}: "
        f"{human(o.passer_value)} vs {human(o.passed_value)}"
    )
    blocks = [
        bk.section(
            f":rotating_light: *{family_link(families, o.passer)}* passed "
            f"*{family_link(families, o.passed)}* in "
            f"{metric}: *{human(o.passer_value)}* vs {human(o.passed_value)}"
        ),
        bk.context(
            f"Snapshot {snapshot.date} · `/openmodels compare {o.passer} {o.passed}` for the chart"
        ),
    ]
    return {"text": text, "blocks": blocks}


def event_key(o: Overtake, snapshot_id: int) -> str:
    return f"overtake:{o.metric}:{o.passer}>{o.passed}:s{snapshot_id}"


NEVER_ALERTS = {
    "sample": "sample data never alerts",
    "import": "imported history never alerts",
}


def check_overtakes(
    store: Store, families: Families, *, confirm: int = 1, now: datetime
) -> AlertCheck:
    """Judge every live snapshot not yet checked and queue alerts; idempotent.

    An overtake must hold for `confirm` snapshots in a row. Only live snapshots (taken
    from the Hub) are compared, and only with each other.
    """
    if confirm < 1:
        raise ValueError("confirm must be at least 1")
    stamp = format_timestamp(now)
    with store.writing() as db:
        latest = q.latest_snapshot(db)
        if latest is None:
            return AlertCheck(None, [], [], 0, "no snapshots")
        if q.is_checked(db, latest.id):
            return AlertCheck(latest.id, [], [], 0, "already checked")
        if not latest.is_live:
            _record_checked(db, [latest.id], stamp, 0)
            reason = NEVER_ALERTS.get(latest.source, f"{latest.source} snapshots never alert")
            return AlertCheck(latest.id, [], [], 0, reason)
        pending = q.live_snapshots_after(db, q.last_checked_live(db))
        # Enough older snapshots for the confirmation windows reaching back before the
        # first pending one, and for settling the orders when none are stored yet.
        context = q.live_snapshots_before(db, pending[0], confirm + 1)
        snapshots = context + pending
        points = _points(db, [s.id for s in snapshots])
        drops = _note_breaks(db, snapshots, points, start=len(context))
        judged = replay(points, len(context), confirm=confirm, orders=pair_orders.load(db) or None)
        pair_orders.replace(db, judged.orders)
        found = judged.overtakes
        queued = 0
        for sub in subs.of_kind(db, "alerts"):
            for o in found:
                if sub.families and not {o.passer, o.passed} & set(sub.families):
                    continue
                queued += ob.enqueue(
                    db,
                    sub.team_id,
                    sub.channel_id,
                    "alert",
                    event_key(o, latest.id),
                    alert_message(o, families, latest),
                    stamp,
                )
        _record_checked(db, [s.id for s in pending[:-1]], stamp, 0)
        _record_checked(db, [latest.id], stamp, len(found))
    if len(pending) > 1:
        log.info(
            "checked %d snapshots not checked before (%s to %s)",
            len(pending),
            pending[0].taken_at,
            latest.taken_at,
        )
    for o in found:
        log.info("overtake: %s passed %s in %s", o.passer, o.passed, METRIC_NAMES[o.metric])
    reason = "first snapshot" if not context and len(pending) == 1 else ""
    return AlertCheck(latest.id, found, drops, queued, reason)


def _points(db: Database, snapshot_ids: list[int]) -> list[Point]:
    figures = q.figures_of(db, snapshot_ids)
    definitions = q.definitions_of(db, snapshot_ids)
    return [Point(figures[i], definitions[i]) for i in snapshot_ids]


def _note_breaks(
    db: Database, snapshots: list[q.Snapshot], points: list[Point], start: int
) -> list[Anomaly]:
    """Log, and record for `status`, what breaks the comparison into each judged snapshot:
    figures going backwards, and changed family definitions."""
    found: list[Anomaly] = []
    for j in range(max(1, start), len(points)):
        before, after, snapshot = points[j - 1], points[j], snapshots[j]
        for a in anomalies(before.values["all_time"], after.values["all_time"]):
            log.warning(
                "%s: all-time downloads went backwards (%s -> %s) at snapshot %s; "
                "no alert is drawn from it",
                a.family,
                a.previous,
                "missing" if a.current is None else a.current,
                snapshot.taken_at,
            )
            db.execute(
                """INSERT OR IGNORE INTO anomalies (snapshot_id, family, metric, previous, current)
                   VALUES (?, ?, ?, ?, ?)""",
                [snapshot.id, a.family, a.metric, a.previous, a.current],
            )
            found.append(a)
        changed = definition_changes(before.definitions, after.definitions)
        if changed and not before.definitions:
            log.info(
                "snapshot %s is the first to record the families' definitions; "
                "no alert is drawn across it",
                snapshot.taken_at,
            )
        elif changed:
            log.info(
                "definition changed at snapshot %s for %s; no alert involving %s is drawn "
                "across it",
                snapshot.taken_at,
                ", ".join(c.family for c in changed),
                "it" if len(changed) == 1 else "them",
            )
    return found


def _record_checked(db: Database, snapshot_ids: list[int], stamp: str, found: int) -> None:
    db.conn.executemany(
        "INSERT INTO alert_checks (snapshot_id, checked_at, overtakes) VALUES (?, ?, ?)",
        [(i, stamp, found) for i in snapshot_ids],
    )
