"""The weekly digest: what changed in a week, as plain data, and which channels get it.

The digest holds the rankings with their changes, the week's overtakes, the regions,
the week's biggest mover, the nearest forecast pass, the week's launches, any change of
leader within a size class and the week's best launch for its size, each only when
there is something to say. Every section that spans time asks the comparability
rule (`openmodels.comparability`): the rankings' changes and arrows as `top` shows them
(`openmodels.standings`), the overtakes as the alerts judge them
(`openmodels.overtakes`), a new leader within a size class by the same rules
(`openmodels.size_classes`, whose figures are summed by the sizes known now at every
snapshot, so a size newly read never makes one), the regions' changes from their
families' comparable changes, the biggest mover as `movers` ranks
(`openmodels.movers`), the forecast from comparable runs, and the chart marks where a
line's definition changed.

`build_digest` decides the content; the words come from the caller's `message`
function (`commands.digest_message`). `plan_digests` queues one digest per subscribed
channel whose rankings changed since the digest it last received (or every week, for a
channel subscribed with `--always`, saying when nothing changed), keyed by its slot
(the scheduled moment it belongs to) so a second run for the same slot queues nothing,
however late it ran. A channel's last digest moves on only when a digest is delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from openmodels.comparability import Basis, Break, Why
from openmodels.families import Families
from openmodels.forecast import WINDOW_DAYS, Forecast, Outlook, adjacent_forecasts
from openmodels.launch_finder import week_launches
from openmodels.launches import Adoption, best_for_its_size
from openmodels.movers import Gain, family_movers
from openmodels.overtakes import Overtake, Point, replay
from openmodels.ranking import RankedFamily
from openmodels.regions import OTHER, region_names
from openmodels.size_classes import LeaderChange, week_leader_changes
from openmodels.standings import Standings, read_standings, region_standings
from openmodels.timeline import Timeline, family_runs, read_timeline
from storage import Store
from storage import outbox as ob
from storage import queries as q
from storage import subscriptions as subs
from storage.snapshots import format_timestamp, parse_timestamp

log = logging.getLogger(__name__)

CHART_FAMILIES = 6
CHART_DAYS = 90


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass(frozen=True)
class DigestLaunch:
    """A model launched during the digest's week, as the digest lists it.

    The planner passes these in: launch detection is its own module; the digest only
    shows what it is given.
    """

    repo_id: str
    family: str
    first_seen: str  # ISO 8601 timestamp of the first snapshot that held it
    downloads: int  # downloads since it was first seen
    adoption: Adoption | None = None  # its start against its size class's, if judged


@dataclass(frozen=True)
class DigestContent:
    """One week's digest, the same for every channel: what to say, not how."""

    week: str  # ISO week of the digest, e.g. 2026-W03
    latest: q.Snapshot
    baseline: q.Snapshot | None
    all_time: list[RankedFamily]
    thirty: list[RankedFamily]
    bases: dict[str, Basis]  # where each family's change runs from (comparability)
    overtakes: list[Overtake]  # the week's, by the alert rules
    # Regions ranked by all-time downloads (RankedFamily.family is the region's name);
    # empty when the families carry no regions. Their changes add up their families'
    # comparable changes; `regions_aside` names, per region, the families set aside.
    regions: list[RankedFamily]
    regions_aside: dict[str, dict[str, Why]]
    mover: Gain | None  # the family that gained most all-time downloads, if any did
    forecast: Forecast | None  # the nearest projected pass within the horizon, if any
    launches: tuple[DigestLaunch, ...]  # the week's launches, as the planner passed them
    chart_series: dict[str, list[tuple[str, int]]]  # family key -> (taken_at, all-time)
    chart_breaks: dict[str, list[Break]]  # family key -> its definition changes
    # Size classes whose leading family changed in the week, by the overtake rules.
    class_leaders: list[LeaderChange] = field(default_factory=list)
    # The week's launch with the highest relative adoption, when one is ahead of its
    # class's median (`launches.best_for_its_size`).
    best_launch: DigestLaunch | None = None
    # family key -> the times its figures are missing data: drawn, no crossing judged there
    chart_unsure: dict[str, list[str]] = field(default_factory=dict)

    @property
    def rankings(self) -> dict[str, list[str]]:
        """metric -> family keys in rank order: what tells one digest from the next."""
        return {
            "all_time": [r.family for r in self.all_time],
            "30d": [r.family for r in self.thirty],
        }


# The words and Block Kit of the digest, given whether the channel's week was quiet
# (rankings as in its last digest): commands.digest_message.digest_message.
DigestMessage = Callable[[DigestContent, Families, bool], dict[str, Any]]


@dataclass
class DigestPlan:
    queued: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (channel, why)
    digest: DigestContent | None = None


def week_overtakes(
    db: Any, timeline: Timeline, latest: q.Snapshot, baseline: q.Snapshot | None, confirm: int = 1
) -> list[Overtake]:
    """The overtakes from `baseline` to `latest` by the alert rules.

    Like the alerts, it compares snapshots of one source only (live with live), and
    replays that history from its start, so each pair is judged against the order
    settled before the week, however long ago.
    """
    if baseline is None:
        return []
    snapshots = [
        s
        for s in q.list_snapshots(db)
        if s.source == latest.source and (s.taken_at, s.id) <= (latest.taken_at, latest.id)
    ]
    ids = [s.id for s in snapshots]
    figures = q.figures_of(db, ids)
    points = [Point(figures[i], timeline.at(i)) for i in ids]
    after_baseline = [(s.taken_at, s.id) > (baseline.taken_at, baseline.id) for s in snapshots]
    start = after_baseline.index(True) if True in after_baseline else len(snapshots)
    return replay(points, start, confirm=confirm).overtakes


def build_digest(
    db: Any,
    families: Families,
    now: datetime,
    *,
    confirm: int = 1,
    launches: Sequence[DigestLaunch] = (),
) -> DigestContent | None:
    """The digest for the newest snapshot, or None when there is nothing to report on.

    `confirm` is the alerts' confirmation: how many snapshots a new order must hold.
    `launches` are the week's launches, listed as given.
    """
    timeline = read_timeline(db)
    # The day-one estimate never makes a digest: its changes run from measured snapshots.
    all_time = read_standings(db, "all_time", timeline, estimates=False)
    if all_time is None:
        return None
    thirty = read_standings(db, "30d", timeline, all_time.latest)
    assert thirty is not None
    latest, baseline = all_time.latest, all_time.baseline
    top = [r.family for r in all_time.ranking[:CHART_FAMILIES]]
    start = format_timestamp(parse_timestamp(latest.taken_at) - timedelta(days=CHART_DAYS))
    regions, aside = week_regions(db, families, all_time)
    return DigestContent(
        week=iso_week(now),
        latest=latest,
        baseline=baseline,
        all_time=all_time.ranking,
        thirty=thirty.ranking,
        bases=all_time.bases,
        overtakes=week_overtakes(db, timeline, latest, baseline, confirm),
        regions=regions,
        regions_aside=aside,
        mover=biggest_mover(db, timeline, all_time),
        forecast=nearest_forecast(db, latest, [r.family for r in all_time.ranking], timeline),
        launches=tuple(launches),
        chart_series=q.family_series(db, top, "all_time", since=start, estimates=False),
        chart_breaks={family: timeline.breaks(family) for family in top},
        class_leaders=week_leader_changes(db, timeline, latest, baseline, confirm),
        best_launch=best_for_its_size(launches),
        chart_unsure={family: sorted(timeline.anomalous_times(family)) for family in top},
    )


def digest_launches(db: Any, now: datetime, families: Families) -> tuple[DigestLaunch, ...]:
    """The models launched in the seven days up to `now`, as the digest lists them, each
    judged against the earlier launches of its size class; those no longer listed are
    left out."""
    found = week_launches(db, now - timedelta(days=7), now, families.keys)
    return tuple(
        DigestLaunch(
            launch.repo_id, launch.family, launch.first_seen, launch.gained, launch.adoption
        )
        for launch in found
        if launch.gained is not None
    )


def week_regions(
    db: Any, families: Families, standings: Standings
) -> tuple[list[RankedFamily], dict[str, dict[str, Why]]]:
    """Regions ranked by all-time downloads, with their comparable changes and the
    families each set aside; empty when no family of the snapshot carries a region
    (everything would be "Other")."""
    names = region_names(families)
    if {names.get(r.family, OTHER) for r in standings.ranking} <= {OTHER}:
        return [], {}
    regional = region_standings(db, standings, names)
    return regional.ranking, regional.aside


def biggest_mover(db: Any, timeline: Timeline, standings: Standings) -> Gain | None:
    """The family that gained most all-time downloads over the week, by the `movers`
    rules: only a family whose figures compare from the baseline to the latest snapshot
    is ranked. None when no family gained."""
    latest, baseline = standings.latest, standings.baseline
    if baseline is None:
        return None
    values = q.values_of(db, [baseline.id, latest.id], "all_time")
    before, after = values[baseline.id], values[latest.id]
    movers = family_movers(before, after, timeline.set_aside(baseline, latest, {*before, *after}))
    best = movers.ranked[0] if movers.ranked else None
    return best if best is not None and best.gained > 0 else None


def ranking_outlooks(
    db: Any, latest: q.Snapshot, ranking: list[str], timeline: Timeline
) -> list[Outlook]:
    """An outlook for each adjacent pair of `ranking` (the all-time order, leader first),
    fitted over the comparable snapshots of the forecasts' window up to `latest`: for the
    digest, `forecast` and the App Home."""
    since = format_timestamp(parse_timestamp(latest.taken_at) - timedelta(days=WINDOW_DAYS))
    series = q.family_series(db, ranking, "all_time", since=since)
    runs = family_runs(timeline, series, latest)
    return adjacent_forecasts(ranking, runs.series, changed=runs.changed, fell=runs.fell)


def nearest_forecast(
    db: Any, latest: q.Snapshot, ranking: list[str], timeline: Timeline
) -> Forecast | None:
    """The projected pass due soonest among neighbours in the all-time ranking (`ranking`,
    leader first), if any is on course within the forecasts' horizon."""
    return soonest(ranking_outlooks(db, latest, ranking, timeline))


def soonest(outlooks: Sequence[Outlook]) -> Forecast | None:
    """The projected pass due soonest among `outlooks`, if any."""
    found = [o for o in outlooks if isinstance(o, Forecast)]
    return min(found, key=lambda f: (f.days, f.trailer)) if found else None


def plan_digests(
    store: Store,
    families: Families,
    now: datetime,
    *,
    slot: datetime,
    message: DigestMessage,
    confirm: int = 1,
    launches: Sequence[DigestLaunch] = (),
) -> DigestPlan:
    """Queue the digest of schedule slot `slot` for each subscribed channel whose
    rankings differ from those of the last digest it received, and for each channel
    subscribed `always` (saying, in a quiet week, that nothing changed).

    The item carries its rankings; the outbox sender records them as the channel's last
    digest once Slack has it, so a digest that fails or is refused holds nothing back.
    `launches` are the week's launches, for the digest's launches section.
    """
    plan = DigestPlan()
    stamp = format_timestamp(now)
    slot_stamp = format_timestamp(slot)
    payloads: dict[bool, dict[str, Any]] = {}  # quiet -> the message
    with store.writing() as db:
        digest = build_digest(db, families, now, confirm=confirm, launches=launches)
        plan.digest = digest
        latest = q.latest_snapshot(db)
        for sub in subs.of_kind(db, "digest"):
            if digest is None:
                plan.skipped.append((sub.channel_id, "no snapshots yet"))
                continue
            if latest is not None and latest.is_history:
                plan.skipped.append((sub.channel_id, "the newest snapshot is imported history"))
                continue
            quiet = sub.last_digest == digest.rankings
            if quiet and not sub.always:
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
            if quiet not in payloads:
                payloads[quiet] = message(digest, families, quiet)
            ob.enqueue(
                db,
                sub.team_id,
                sub.channel_id,
                "digest",
                event,
                {**payloads[quiet], "rankings": digest.rankings},
                stamp,
            )
            plan.queued.append(sub.channel_id)
    for channel, why in plan.skipped:
        log.info("digest for %s not sent: %s", channel, why)
    return plan
