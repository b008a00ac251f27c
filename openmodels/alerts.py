"""Overtake alerts: after each committed snapshot, queue for each subscribed channel one
message holding every overtake that snapshot produced which the channel wants.

Only the planning lives here; `bot.outbox_sender` delivers what is queued (and decides,
as it posts, whether the message goes into the thread of an earlier announcement). The
rules are `openmodels.overtakes`; this module feeds them from the store. Each check
judges every live snapshot not checked yet against the orders settled by the last check
(kept in `pair_orders`), so a snapshot whose check never ran (a kill just after its
commit, a locked store, a failed job) is made up by the next check, once per pair.
Checked snapshots are recorded in `alert_checks` and each channel's message has a
unique outbox key, so a restart or a second run never alerts twice.

What a channel wants: overtakes in the metrics it follows, involving the families it
named (any, if none), of pairs it has not muted. The words come from the caller's
`message` function (`commands.alert_message`): the core never builds them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from openmodels.comparability import LASTING, Counted, Fall, Why, set_aside
from openmodels.families import Families
from openmodels.overtakes import Overtake, Point, replay
from openmodels.timeline import Timeline, read_timeline
from storage import Store, pair_orders
from storage import mutes as mu
from storage import outbox as ob
from storage import queries as q
from storage import subscriptions as subs
from storage.snapshots import format_timestamp
from storage.sql import Connection

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertCheck:
    """What one check found and queued."""

    snapshot_id: int | None
    overtakes: list[Overtake]
    anomalies: list[Fall]
    queued: int
    reason: str = ""


# The words and Block Kit of one channel's message: commands.alert_message.alert_message.
AlertMessage = Callable[[Sequence[Overtake], Families, q.Snapshot], dict[str, Any]]


def event_key(snapshot_id: int) -> str:
    """The outbox key of the message of snapshot `snapshot_id`'s overtakes, per channel."""
    return f"overtakes:s{snapshot_id}"


def pairs_of(overtakes: Sequence[Overtake]) -> list[tuple[str, str]]:
    """The pairs of families in `overtakes`, each once (sorted keys), in their order."""
    pairs: list[tuple[str, str]] = []
    for o in overtakes:
        pair = mu.pair_of(o.passer, o.passed)
        if pair not in pairs:
            pairs.append(pair)
    return pairs


def wanted_by(
    sub: subs.Subscription, found: Sequence[Overtake], muted: frozenset[tuple[str, str]]
) -> list[Overtake]:
    """The overtakes of `found` that subscription `sub` wants. Pure."""
    return [
        o
        for o in found
        if o.metric in sub.metrics
        and (not sub.families or {o.passer, o.passed} & set(sub.families))
        and mu.pair_of(o.passer, o.passed) not in muted
    ]


NEVER_ALERTS = {
    "sample": "sample data never alerts",
    "import": "imported history never alerts",
}


def check_overtakes(
    store: Store,
    families: Families,
    *,
    message: AlertMessage,
    confirm: int = 1,
    now: datetime,
) -> AlertCheck:
    """Judge every live snapshot not yet checked and queue alerts; idempotent.

    An overtake must hold for `confirm` snapshots in a row. Only live snapshots (taken
    from the Hub) are compared, and only with each other. Each channel that wants any
    of the overtakes gets one message, `message(its overtakes, families, snapshot)`.
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
        timeline = read_timeline(db)
        points = _points(db, timeline, [s.id for s in snapshots])
        drops = _note_breaks(db, snapshots, timeline, start=len(context))
        judged = replay(points, len(context), confirm=confirm, orders=pair_orders.load(db) or None)
        pair_orders.replace(db, judged.orders)
        found = judged.overtakes
        queued = 0
        muted = mu.muted_pairs(db) if found else {}
        for sub in subs.of_kind(db, "alerts") if found else []:
            wanted = wanted_by(sub, found, muted.get((sub.team_id, sub.channel_id), frozenset()))
            if not wanted:
                continue
            payload = message(wanted, families, latest)
            # What it announces goes with the message: delivery threads it by its pairs.
            payload["pairs"] = [list(p) for p in pairs_of(wanted)]
            payload["overtakes"] = [[o.metric, o.passer, o.passed] for o in wanted]
            queued += ob.enqueue(
                db, sub.team_id, sub.channel_id, "alert", event_key(latest.id), payload, stamp
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
        log.info("overtake: %s passed %s (%s)", o.passer, o.passed, o.metric)
    reason = "first snapshot" if not context and len(pending) == 1 else ""
    return AlertCheck(latest.id, found, drops, queued, reason)


def _points(db: Connection, timeline: Timeline, snapshot_ids: list[int]) -> list[Point]:
    figures = q.figures_of(db, snapshot_ids)
    return [Point(figures[i], timeline.at(i)) for i in snapshot_ids]


def _note_breaks(
    db: Connection, snapshots: list[q.Snapshot], timeline: Timeline, start: int
) -> list[Fall]:
    """Log, and record for `status`, what breaks the comparison into each judged snapshot:
    anomalies (figures below earlier ones) and changed family definitions."""
    found: list[Fall] = []
    for j in range(max(1, start), len(snapshots)):
        before, snapshot = timeline.at(snapshots[j - 1]), snapshots[j]
        after = timeline.at(snapshot)
        for a in timeline.falls.get(snapshot.id, []):
            log.warning(
                "%s: all-time downloads went backwards (%s -> %s) at snapshot %s; "
                "no alert is drawn from it",
                a.family,
                a.previous,
                "missing" if a.current is None else a.current,
                snapshot.taken_at,
            )
            db.execute(
                """INSERT INTO anomalies (snapshot_id, family, metric, previous, current)
                   VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""",
                [snapshot.id, a.family, "all_time", a.previous, a.current],
            )
            found.append(a)
        for drop, at in _drops_decided_at(timeline, snapshot.id):
            log.warning(
                "%s: all-time downloads stayed below %s since snapshot %s (%s): a loss for "
                "good, not missing data; its figures are compared afresh from then",
                drop.family,
                drop.previous,
                at.taken_at,
                drop.current,
            )
        aside = set_aside(before, after, before.present & after.present)
        for family in sorted(f for f, why in aside.items() if why is Why.RETURNED):
            log.warning(
                "%s: models missing from the snapshot before came back at snapshot %s; "
                "their count is no growth, and no alert is drawn across it",
                family,
                snapshot.taken_at,
            )
        changed = sorted(f for f, why in aside.items() if why in (Why.REDEFINED, Why.UNRECORDED))
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
                ", ".join(changed),
                "it" if len(changed) == 1 else "them",
            )
    return found


def _drops_decided_at(timeline: Timeline, snapshot_id: int) -> list[tuple[Fall, Counted]]:
    """The falls for good that snapshot `snapshot_id` made lasting: those whose family it
    holds as the LASTING-th snapshot in a row from the fall, with the fall's snapshot."""
    found = []
    position = {s.id: i for i, s in enumerate(timeline.snapshots)}
    here = position[snapshot_id]
    for start_id, drops in timeline.drops.items():
        start = position[start_id]
        if start > here:
            continue
        for drop in drops:
            holding = [s for s in timeline.snapshots[start : here + 1] if drop.family in s.present]
            if len(holding) == LASTING and holding[-1].id == snapshot_id:
                found.append((drop, timeline.snapshots[start]))
    return found


def _record_checked(db: Connection, snapshot_ids: list[int], stamp: str, found: int) -> None:
    db.executemany(
        "INSERT INTO alert_checks (snapshot_id, checked_at, overtakes) VALUES (?, ?, ?)",
        [(i, stamp, found) for i in snapshot_ids],
    )
