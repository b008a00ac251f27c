"""Finding launches in the store: read through `storage.queries`, judged by the rules of
`openmodels.launches`, returned as plain `Launch` values for answers, digests and
launch messages to put into words.

Each function takes an open `Database`, so a caller reads everything it shows in one
transaction. Models are found through their recorded first sighting (`models.
first_seen_at`, indexed), so a period's launches cost a few rows, not a scan of every
snapshot's counts.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from openmodels.launches import (
    AGE_TOLERANCE,
    NEW_DAYS,
    FastestStart,
    Launch,
    Sighting,
    baselines,
    fastest_start,
    in_period,
    is_launch,
    newest_first,
    start_at_age,
)
from storage import queries as q
from storage import subscriptions as subs
from storage.connection import Database
from storage.snapshots import format_timestamp, parse_timestamp


def week_launches(
    db: Database, start: datetime, end: datetime, families: Collection[str]
) -> list[Launch]:
    """The launches of `families` (keys) launched after `start` and at or before `end`,
    newest first, read as of the newest snapshot taken by `end`: for the digest."""
    return launches_between(db, start, end, families)


def launches_between(
    db: Database, start: datetime, end: datetime, families: Collection[str] | None = None
) -> list[Launch]:
    """Launches whose creation date (first sighting where unknown) falls in (start, end],
    of `families` (keys; every family when None), newest first.

    A launch must have been created at most the period's length before it was first seen,
    and the fastest start compares it with earlier launches judged the same way. Figures
    are as of the newest snapshot taken by `end`.
    """
    as_of = q.snapshot_at_or_before(db, format_timestamp(end))
    if as_of is None:
        return []
    reader = _Reader(db, end - start, families)
    found = reader.launches(format_timestamp(start), as_of.taken_at)
    return reader.described([s for s in found if in_period(reader.sighting(s), start, end)], as_of)


def snapshot_launches(
    db: Database,
    snapshot: q.Snapshot,
    families: Collection[str] | None = None,
    reader: _Reader | None = None,
) -> list[Launch]:
    """The launches a snapshot found: models it was the first to list, created at most
    NEW_DAYS before it, and judged launches by the rules. As of that snapshot.

    `reader`: one already made for `families` and NEW_DAYS, to share its reads."""
    reader = reader or _Reader(db, timedelta(days=NEW_DAYS), families)
    after = format_timestamp(parse_timestamp(snapshot.taken_at) - timedelta(seconds=1))
    found = [s for s in reader.launches(after, snapshot.taken_at) if s.snapshot.id == snapshot.id]
    return reader.described(found, snapshot, compare=False)


@dataclass(frozen=True)
class LaunchNotice:
    """The launches one live snapshot found that one subscribed channel wants."""

    team_id: str
    channel_id: str
    snapshot: q.Snapshot
    launches: list[Launch]

    @property
    def event(self) -> str:
        """The outbox key: one message per channel and snapshot, however often queued."""
        return f"launches:s{self.snapshot.id}"


def launch_notices(db: Database, families: Collection[str]) -> list[LaunchNotice]:
    """What each `launches` subscription should hear: for every live snapshot of the
    last NEW_DAYS up to the newest live one, the launches of its families it found.

    Only live snapshots post launches (imported history and the sample never do), and a
    channel hears only of snapshots taken since it subscribed. Looking back a few days
    makes up a snapshot whose messages were never queued (the process stopped after its
    commit); the outbox's key keeps what was queued from being queued again.
    """
    wanting = subs.of_kind(db, "launches")
    if not wanting:
        return []
    reader = _Reader(db, timedelta(days=NEW_DAYS), families)  # shared by every snapshot
    live = [s for s in reader.snapshots if s.is_live]
    if not live:
        return []
    since = format_timestamp(parse_timestamp(live[-1].taken_at) - timedelta(days=NEW_DAYS))
    notices: list[LaunchNotice] = []
    for snapshot in (s for s in live if s.taken_at >= since):
        found = snapshot_launches(db, snapshot, families, reader)
        for sub in wanting:
            if not found or sub.created_at > snapshot.taken_at:
                continue
            theirs = [x for x in found if not sub.families or x.family in sub.families]
            if theirs:
                notices.append(LaunchNotice(sub.team_id, sub.channel_id, snapshot, theirs))
    return notices


class _Reader:
    """One question's reads: the snapshots, their baselines and definitions, the
    sightings judged, and the figures a launch is described with."""

    def __init__(self, db: Database, within: timedelta, families: Collection[str] | None) -> None:
        self.db = db
        self.within = within
        self.families = None if families is None else sorted(families)
        self.snapshots = q.list_snapshots(db)
        # An estimate lists models that were there 30 days before a collection: it is no
        # launch's sighting, and no baseline for one (`.get` finds no baseline for it).
        self.baseline = baselines([(s.id, s.source) for s in self.snapshots if not s.is_estimate])
        self._times = [parse_timestamp(s.taken_at) for s in self.snapshots]
        self._definitions: dict[int, dict[str, str]] = {}

    def sighting(self, found: q.FirstSeen) -> Sighting:
        return Sighting(
            found.repo_id,
            found.family,
            found.created_at,
            found.snapshot.taken_at,
            found.downloads_all_time,
        )

    def launches(self, after: str, until: str) -> list[q.FirstSeen]:
        """Models first seen in (after, until] that are launches by the rules."""
        if self.families == []:
            return []
        sightings = q.first_seen_between(self.db, after, until, self.families)
        self._load_definitions(sightings)
        return [s for s in sightings if self._is_launch(s)]

    def described(
        self, found: Sequence[q.FirstSeen], as_of: q.Snapshot, compare: bool = True
    ) -> list[Launch]:
        """`found` as launches as of `as_of`, newest first, fastest starts marked."""
        now = q.all_time_at(self.db, [(as_of.id, s.model_id) for s in found])
        by_repo = {s.repo_id: s for s in found}
        launches = [
            Launch(
                repo_id=s.repo_id,
                family=s.family,
                created_at=s.created_at,
                first_seen=s.snapshot.taken_at,
                downloads_at_first=s.downloads_all_time,
                downloads_now=now.get((as_of.id, s.model_id)),
                as_of=as_of.taken_at,
            )
            for s in found
        ]
        if compare:
            launches = self._mark_fastest(launches, as_of)
        order = newest_first(self.sighting(by_repo[launch.repo_id]) for launch in launches)
        place = {s.repo_id: i for i, s in enumerate(order)}
        return sorted(launches, key=lambda launch: place[launch.repo_id])

    # -- the rules ------------------------------------------------------------------------

    def _load_definitions(self, sightings: Sequence[q.FirstSeen]) -> None:
        wanted = set()
        for s in sightings:
            wanted.add(s.snapshot.id)
            before = self.baseline.get(s.snapshot.id)
            if before is not None:
                wanted.add(before)
        missing = sorted(wanted - set(self._definitions))
        if missing:
            self._definitions.update(q.definitions_of(self.db, missing))

    def _is_launch(self, found: q.FirstSeen) -> bool:
        before = self.baseline.get(found.snapshot.id)
        return is_launch(
            self.sighting(found),
            None if before is None else self._definitions[before],
            self._definitions[found.snapshot.id],
            self.within,
        )

    # -- fastest starts -------------------------------------------------------------------

    def _mark_fastest(self, launches: list[Launch], as_of: q.Snapshot) -> list[Launch]:
        """Mark each launch whose start beats every earlier launch of its family at its
        age. Earlier launches are read once per family, their figures in one batch."""
        young = [x for x in launches if x.gained is not None and x.age > timedelta(0)]
        if not young:
            return launches
        first = self.snapshots[0].taken_at
        earlier: dict[str, list[q.FirstSeen]] = {}
        for family in sorted({x.family for x in young}):
            sightings = q.first_seen_between(self.db, first, as_of.taken_at, [family])
            self._load_definitions(sightings)
            earlier[family] = [s for s in sightings if self._is_launch(s)]
        # For each young launch, each earlier launch of its family and the snapshots
        # near the age it has now.
        near = {
            id(launch): [
                (e, self._snapshots_near(parse_timestamp(e.snapshot.taken_at) + launch.age, as_of))
                for e in self._earlier(earlier[launch.family], launch)
            ]
            for launch in young
        }
        figures = q.all_time_at(
            self.db,
            [(sid, e.model_id) for pairs in near.values() for e, ids in pairs for sid in ids],
        )
        taken = {s.id: s.taken_at for s in self.snapshots}
        marked: list[Launch] = []
        for launch in launches:
            if launch.gained is None or launch.age <= timedelta(0):
                marked.append(launch)
                continue
            starts: dict[str, int | None] = {}
            for e, ids in near[id(launch)]:
                points = [
                    (taken[sid], figures[(sid, e.model_id)])
                    for sid in ids
                    if (sid, e.model_id) in figures
                ]
                starts[e.repo_id] = start_at_age(self.sighting(e), points, launch.age)
            best: FastestStart | None = fastest_start(launch.gained, launch.age, starts)
            marked.append(replace(launch, fastest=best))
        return marked

    @staticmethod
    def _earlier(candidates: Sequence[q.FirstSeen], launch: Launch) -> list[q.FirstSeen]:
        return [e for e in candidates if e.snapshot.taken_at < launch.first_seen]

    def _snapshots_near(self, target: datetime, as_of: q.Snapshot) -> list[int]:
        """Ids of the snapshots within AGE_TOLERANCE of `target`, none after `as_of`."""
        lo = bisect.bisect_left(self._times, target - AGE_TOLERANCE)
        hi = bisect.bisect_right(self._times, target + AGE_TOLERANCE)
        return [
            s.id for s in self.snapshots[lo:hi] if (s.taken_at, s.id) <= (as_of.taken_at, as_of.id)
        ]
