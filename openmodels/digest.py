"""The weekly digest: rankings, movers, the week's overtakes, shares, biggest gainer.

The week's overtakes follow the alert rules (`openmodels.overtakes`): ties, figures
going backwards and changed family definitions are judged as the alerts judge them,
and a family whose figures broke during the week is never its biggest gainer.
`digest_content` is pure; `plan_digests` queues one digest per subscribed channel
whose rankings changed since the digest it last received, keyed by its slot (the
scheduled moment it belongs to) so a second run for the same slot queues nothing,
however late it ran. A channel's last digest moves on only when a digest is delivered.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from commands import blocks as bk
from commands.answer import ChartSpec
from commands.format import arrow, escape, family_link, human, percent, signed
from openmodels.definitions import definition_changes
from openmodels.families import Families
from openmodels.overtakes import Overtake, Point, replay, untrusted
from openmodels.periods import change_period
from openmodels.ranking import RankedFamily, rank_families
from storage import Store
from storage import outbox as ob
from storage import queries as q
from storage import subscriptions as subs
from storage.snapshots import format_timestamp, parse_timestamp

log = logging.getLogger(__name__)

CHART_FAMILIES = 6
CHART_DAYS = 90


@dataclass(frozen=True)
class Digest:
    """One week's digest, the same for every channel."""

    week: str  # ISO week, e.g. 2026-W03
    rankings: dict[str, list[str]]  # metric -> family keys in rank order
    text: str
    blocks: list[bk.Block]
    chart: ChartSpec

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks, "chart": asdict(self.chart)}


@dataclass
class DigestPlan:
    queued: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (channel, why)
    digest: Digest | None = None


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class WeekChanges:
    """What changed between the baseline and the latest snapshot, by the alert rules."""

    overtakes: list[Overtake]
    broken: frozenset[str]  # figures went backwards or definition changed: not like with like
    redefined: frozenset[str]  # of those, counted by an edited definition


def digest_content(
    families: Families,
    all_time: list[RankedFamily],
    thirty: list[RankedFamily],
    week: WeekChanges,
    latest: q.Snapshot,
    baseline: q.Snapshot | None,
) -> tuple[str, list[bk.Block]]:
    """The digest's summary text and blocks. Pure."""

    since = f" since {baseline.date}" if baseline else ""
    lines = []
    for r in all_time:
        change = f" {signed(r.value_change)}" if r.value_change is not None else ""
        if r.family in week.redefined and r.value_change is not None:
            change = " (families file changed)"
        name = family_link(families, r.family)
        lines.append(
            f"{r.rank}. {arrow(r.rank_change)} *{name}*  {human(r.value)} "
            f"({percent(r.share)}){change}"
        )
    ranking_text = "*All-time downloads*\n" + bk.bulleted(lines, limit=2900, noun="families")

    words = {"all_time": "all-time", "30d": "30-day"}
    moves = [
        f"• {escape(families.label(o.passer))} passed {escape(families.label(o.passed))} "
        f"in {words[o.metric]} downloads"
        for o in week.overtakes
    ]
    if baseline is None:
        overtakes_text = "*Overtakes*\nNone yet: there is no earlier snapshot to compare with."
    else:
        overtakes_text = f"*Overtakes {change_period(latest.date, baseline.date)}*\n" + (
            "\n".join(moves[:20]) if moves else "None: the order held."
        )
    if len(moves) > 20:
        overtakes_text += f"\n_…and {len(moves) - 20} more not shown_"

    gainers = [r for r in thirty if r.value_change is not None and r.family not in week.broken]
    gainer_text = ""
    if gainers:
        best = max(gainers, key=lambda r: (r.value_change or 0, r.family))
        gainer_text = (
            f"*Biggest gainer:* {family_link(families, best.family)}, 30-day downloads "
            f"{signed(best.value_change or 0)}{since} (now {human(best.value)})."
        )
    leader = all_time[0] if all_time else None
    headline = (
        f"{families.label(leader.family)} leads with {human(leader.value)} all-time downloads "
        f"({percent(leader.share)} of tracked families)."
        if leader
        else "No families in the latest snapshot."
    )
    blocks = [
        bk.header(f"openmodels weekly digest — {latest.date}"),
        bk.section(escape(headline)),
        bk.section(ranking_text),
        bk.section(overtakes_text),
    ]
    if gainer_text:
        blocks.append(bk.section(gainer_text))
    context = f"Snapshot {latest.date}{' · changes' + since if since else ''}"
    blocks.append(bk.context(context))
    text = f"openmodels weekly digest ({latest.date}): {headline}"
    if moves:
        text += " " + "; ".join(m.lstrip("• ") for m in moves[:3]) + "."
    return text, bk.fit(blocks)


def week_changes(
    db: Any, latest: q.Snapshot, baseline: q.Snapshot | None, confirm: int = 1
) -> WeekChanges:
    """The overtakes from `baseline` to `latest` by the alert rules, and the families whose
    figures broke in between.

    Like the alerts, it compares snapshots of one source only (live with live), and
    replays that history from its start, so each pair is judged against the order
    settled before the week, however long ago.
    """
    if baseline is None:
        return WeekChanges([], frozenset(), frozenset())
    snapshots = [
        s
        for s in q.list_snapshots(db)
        if s.source == latest.source and (s.taken_at, s.id) <= (latest.taken_at, latest.id)
    ]
    ids = [s.id for s in snapshots]
    figures, definitions = q.figures_of(db, ids), q.definitions_of(db, ids)
    points = [Point(figures[i], definitions[i]) for i in ids]
    after_baseline = [(s.taken_at, s.id) > (baseline.taken_at, baseline.id) for s in snapshots]
    start = after_baseline.index(True) if True in after_baseline else len(snapshots)
    broken: set[str] = set()
    redefined: set[str] = set()
    for before, after in itertools.pairwise(points[max(0, start - 1) :]):
        broken |= untrusted(before, after)
        if before.definitions:  # not the first snapshot to record them: a real edit
            redefined |= {
                c.family for c in definition_changes(before.definitions, after.definitions)
            }
    judged = replay(points, start, confirm=confirm)
    return WeekChanges(judged.overtakes, frozenset(broken), frozenset(redefined))


def build_digest(db: Any, families: Families, now: datetime, *, confirm: int = 1) -> Digest | None:
    """The digest for the newest snapshot, or None when there is nothing to report on.

    `confirm` is the alerts' confirmation: how many snapshots a new order must hold.
    """
    latest = q.latest_snapshot(db)
    if latest is None:
        return None
    baseline = q.snapshot_near(db, latest, days=7)
    rankings = {}
    ranked = {}
    for metric in ("all_time", "30d"):
        current = q.values_at(db, latest.id, metric)
        before = q.values_at(db, baseline.id, metric) if baseline else None
        ranked[metric] = rank_families(current, before)
        rankings[metric] = [r.family for r in ranked[metric]]
    text, blocks = digest_content(
        families,
        ranked["all_time"],
        ranked["30d"],
        week_changes(db, latest, baseline, confirm),
        latest,
        baseline,
    )
    top = rankings["all_time"][:CHART_FAMILIES]
    start = format_timestamp(parse_timestamp(latest.taken_at) - timedelta(days=CHART_DAYS))
    series = {
        families.label(f): [p for p in points if p[0] >= start]
        for f, points in q.family_series(db, top, "all_time").items()
    }
    chart = ChartSpec(
        title="Top families: cumulative downloads",
        series=series,
        metric="all_time",
        snapshot_date=latest.date,
        alt_text=(
            f"Line chart of cumulative Hub downloads over {CHART_DAYS} days up to {latest.date} "
            "for " + ", ".join(f"{k} ({human(v[-1][1])})" for k, v in series.items() if v) + "."
        ),
        filename=f"openmodels-digest-{iso_week(now)}.png",
        sample=latest.is_sample,
    )
    return Digest(iso_week(now), rankings, text, blocks, chart)


def plan_digests(
    store: Store, families: Families, now: datetime, *, slot: datetime, confirm: int = 1
) -> DigestPlan:
    """Queue the digest of schedule slot `slot` for each subscribed channel whose
    rankings differ from those of the last digest it received.

    The item carries its rankings; the outbox sender records them as the channel's last
    digest once Slack has it, so a digest that fails or is refused holds nothing back.
    """
    plan = DigestPlan()
    stamp = format_timestamp(now)
    slot_stamp = format_timestamp(slot)
    with store.writing() as db:
        digest = build_digest(db, families, now, confirm=confirm)
        plan.digest = digest
        latest = q.latest_snapshot(db)
        for sub in subs.of_kind(db, "digest"):
            if digest is None:
                plan.skipped.append((sub.channel_id, "no snapshots yet"))
                continue
            if latest is not None and latest.is_history:
                plan.skipped.append((sub.channel_id, "the newest snapshot is imported history"))
                continue
            if sub.last_digest == digest.rankings:
                plan.skipped.append((sub.channel_id, "rankings unchanged since the last digest"))
                continue
            event = f"digest:{slot_stamp}"
            if ob.has_event(db, sub.team_id, sub.channel_id, "digest", event):
                plan.skipped.append((sub.channel_id, f"digest for {slot_stamp} already queued"))
                continue
            waiting = ob.undelivered(db, sub.team_id, sub.channel_id, "digest")
            if any(item.payload.get("rankings") == digest.rankings for item in waiting):
                plan.skipped.append(
                    (sub.channel_id, "a digest with these rankings is waiting for delivery")
                )
                continue
            ob.enqueue(
                db,
                sub.team_id,
                sub.channel_id,
                "digest",
                event,
                {**digest.payload(), "rankings": digest.rankings},
                stamp,
            )
            plan.queued.append(sub.channel_id)
    for channel, why in plan.skipped:
        log.info("digest for %s not sent: %s", channel, why)
    return plan
