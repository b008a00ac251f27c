"""Overtake alerts: after each committed snapshot, queue one message per subscribed
channel for every family that passed another.

Only the planning lives here; `bot.outbox_sender` delivers what is queued. A snapshot
is checked once (recorded in `alert_checks`) and each alert has a unique outbox key,
so a restart or a second run never alerts twice.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from commands import blocks as bk
from commands.format import METRIC_NAMES, family_link, human
from openmodels.families import Families
from openmodels.overtakes import Anomaly, Overtake, anomalies, overtakes
from storage import Store
from storage import outbox as ob
from storage import queries as q
from storage import subscriptions as subs
from storage.snapshots import format_timestamp

log = logging.getLogger(__name__)

METRICS = ("all_time", "30d")


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


def check_overtakes(
    store: Store, families: Families, *, confirm: int = 1, now: datetime
) -> AlertCheck:
    """Check the newest snapshot for overtakes and queue alerts; idempotent."""
    if confirm < 1:
        raise ValueError("confirm must be at least 1")
    stamp = format_timestamp(now)
    with store.writing() as db:
        latest = q.latest_snapshot(db)
        if latest is None:
            return AlertCheck(None, [], [], 0, "no snapshots")
        done = db.execute(
            "SELECT 1 FROM alert_checks WHERE snapshot_id = ?", [latest.id]
        ).fetchone()
        if done:
            return AlertCheck(latest.id, [], [], 0, "already checked")

        def record(found: int) -> None:
            db.execute(
                "INSERT INTO alert_checks (snapshot_id, checked_at, overtakes) VALUES (?, ?, ?)",
                [latest.id, stamp, found],
            )

        if latest.is_sample:
            record(0)
            return AlertCheck(latest.id, [], [], 0, "sample data never alerts")
        if latest.is_history:
            record(0)
            return AlertCheck(latest.id, [], [], 0, "imported history never alerts")
        # Live snapshots are compared with live ones only: imported history may cover
        # other models, so a change against it is no overtake.
        window = q.recent_snapshots(db, confirm + 1, history=False)
        if len(window) < 2:
            record(0)
            return AlertCheck(latest.id, [], [], 0, "first snapshot")

        all_time = [q.values_at(db, s.id, "all_time") for s in window]
        drops = anomalies(all_time[-2], all_time[-1])
        for a in drops:
            log.warning(
                "%s: all-time downloads went backwards (%s -> %s) at snapshot %s; "
                "no alert is drawn from it",
                a.family,
                a.previous,
                "missing" if a.current is None else a.current,
                latest.taken_at,
            )
            db.execute(
                """INSERT OR IGNORE INTO anomalies (snapshot_id, family, metric, previous, current)
                   VALUES (?, ?, ?, ?, ?)""",
                [latest.id, a.family, a.metric, a.previous, a.current],
            )
        if len(window) < confirm + 1:
            record(0)
            return AlertCheck(latest.id, [], drops, 0, f"fewer than {confirm + 1} snapshots")
        untrusted = frozenset(
            a.family
            for older, newer in itertools.pairwise(all_time)
            for a in anomalies(older, newer)
        )
        found: list[Overtake] = []
        for metric in METRICS:
            values = (
                all_time
                if metric == "all_time"
                else [q.values_at(db, s.id, metric) for s in window]
            )
            found += overtakes(values, metric, untrusted)
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
        record(len(found))
    for o in found:
        log.info("overtake: %s passed %s in %s", o.passer, o.passed, METRIC_NAMES[o.metric])
    return AlertCheck(latest.id, found, drops, queued)
