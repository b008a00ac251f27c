"""Finding launches in the store: read through `storage.queries`, judged by the rules of
`openmodels.launches`, returned as plain `Launch` values for answers, digests and
launch messages to put into words.

Each function takes an open `Connection`, so a caller reads everything it shows in one
transaction. Models are found through their recorded first sighting (`models.
first_seen_at`, indexed), so a period's launches cost a few rows, not a scan of every
snapshot's counts.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from openmodels.definitions import counted_because_redefined
from openmodels.launches import (
    AGE_TOLERANCE,
    NEW_DAYS,
    Launch,
    Sighting,
    baselines,
    fastest_start,
    in_period,
    is_launch,
    newest_first,
    relative_adoption,
    start_at_age,
)
from openmodels.sizes import UNKNOWN, class_of
from storage import model_sizes as ms
from storage import queries as q
from storage import subscriptions as subs
from storage.snapshots import format_timestamp, parse_timestamp
from storage.sql import Connection


def week_launches(
    db: Connection, start: datetime, end: datetime, families: Collection[str]
) -> list[Launch]:
    """The launches of `families` (keys) launched after `start` and at or before `end`,
    newest first, read as of the newest snapshot taken by `end`: for the digest."""
    return launches_between(db, start, end, families, families)


def launches_between(
    db: Connection,
    start: datetime,
    end: datetime,
    families: Collection[str] | None = None,
    peers: Collection[str] | None = None,
) -> list[Launch]:
    """Launches whose creation date (first sighting where unknown) falls in (start, end],
    of `families` (keys; every family when None), newest first.

    A launch must have been created at most the period's length before it was first seen,
    and the fastest start and relative adoption compare it with earlier launches judged
    the same way, those of its size class from `peers` (keys; every family when None).
    Figures are as of the newest snapshot taken by `end`.
    """
    as_of = q.snapshot_at_or_before(db, format_timestamp(end))
    if as_of is None:
        return []
    reader = _Reader(db, end - start, families, peers)
    found = reader.launches(format_timestamp(start), as_of.taken_at)
    return reader.described([s for s in found if in_period(reader.sighting(s), start, end)], as_of)


def snapshot_launches(
    db: Connection,
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


class NotLaunched(StrEnum):
    """Why a model the store holds is no launch."""

    UNKNOWN = "unknown"  # the store has no such model (or not by the latest snapshot)
    THERE_ALL_ALONG = "there all along"  # first listed by the first snapshot of its kind
    REDEFINED = "redefined"  # counted only because the families file changed
    CREATED_EARLIER = "created earlier"  # created well before the store first listed it


@dataclass(frozen=True)
class NoLaunch:
    """A model that is no launch, and why: for the answers to say."""

    repo_id: str
    why: NotLaunched
    first_seen: str | None = None
    created_at: str | None = None


def launch_of(
    db: Connection, repo_id: str, peers: Collection[str] | None = None
) -> Launch | NoLaunch:
    """Model `repo_id` (as the store spells it) as a launch, as of the latest snapshot,
    with its starts judged against earlier launches (its size class's from `peers`, keys;
    every family when None); or why it is no launch. A launch here was created at most
    NEW_DAYS before the store first listed it, as for launch messages."""
    reader = LaunchReader(db, peers)
    found = reader.find(repo_id)
    return found if isinstance(found, NoLaunch) else reader.described([found])[0]


class LaunchReader:
    """Launches picked one by one (a model, or a family's latest launch) and then
    described together, as of the latest snapshot: a race's runners are judged against
    the earlier launches in one reading of them."""

    def __init__(self, db: Connection, peers: Collection[str] | None = None) -> None:
        self._reader = _Reader(db, timedelta(days=NEW_DAYS), None, peers)
        self._latest = self._reader.snapshots[-1] if self._reader.snapshots else None

    def find(self, repo_id: str) -> q.FirstSeen | NoLaunch:
        """Model `repo_id`'s sighting, if it is a launch by the rules of `launch_of`;
        else why it is none."""
        reader, latest = self._reader, self._latest
        if latest is None:
            return NoLaunch(repo_id, NotLaunched.UNKNOWN)
        found = q.first_seen_between(reader.db, "", latest.taken_at, None, repo_id)
        if not found:
            return NoLaunch(repo_id, NotLaunched.UNKNOWN)
        sighting = found[0]
        reader._load_definitions(found)
        if reader._is_launch(sighting):
            return sighting
        before = reader.baseline.get(sighting.snapshot.id)
        if before is None:
            why = NotLaunched.THERE_ALL_ALONG
        elif counted_because_redefined(
            reader._definitions[before],
            reader._definitions[sighting.snapshot.id],
            sighting.family,
            sighting.repo_id,
        ):
            why = NotLaunched.REDEFINED
        else:
            why = NotLaunched.CREATED_EARLIER
        return NoLaunch(repo_id, why, sighting.snapshot.taken_at, sighting.created_at)

    def latest_of(self, family: str) -> q.FirstSeen | None:
        """The sighting of `family`'s newest launch (by first sighting, then creation);
        None when it has none."""
        reader, latest = self._reader, self._latest
        if latest is None:
            return None
        first = reader.snapshots[0].taken_at
        found = reader._judged(q.first_seen_between(reader.db, first, latest.taken_at, [family]))
        if not found:
            return None
        newest = newest_first(reader.sighting(s) for s in found)[0]
        return next(s for s in found if s.repo_id == newest.repo_id)

    def described(self, sightings: Sequence[q.FirstSeen]) -> list[Launch]:
        """The launches of `sightings`, in their order, as of the latest snapshot, with
        their starts judged together against the earlier launches."""
        if self._latest is None or not sightings:
            return []
        found = {x.repo_id: x for x in self._reader.described(sightings, self._latest)}
        return [found[s.repo_id] for s in sightings]


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


def launch_notices(db: Connection, families: Collection[str]) -> list[LaunchNotice]:
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
    sightings judged, and the figures a launch is described with.

    `families` are those whose launches are asked for (None: every family); `peers`
    those whose launches a start is judged against by size class (None: every family)."""

    def __init__(
        self,
        db: Connection,
        within: timedelta,
        families: Collection[str] | None,
        peers: Collection[str] | None = None,
    ) -> None:
        self.db = db
        self.within = within
        self.families = None if families is None else sorted(families)
        self.peers = None if peers is None else sorted(peers)
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
        return self._judged(q.first_seen_between(self.db, after, until, self.families))

    def described(
        self, found: Sequence[q.FirstSeen], as_of: q.Snapshot, compare: bool = True
    ) -> list[Launch]:
        """`found` as launches as of `as_of`, newest first, with their starts judged
        against earlier launches' (`compare`)."""
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
            launches = self._compare_starts(launches, found, as_of)
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

    # -- starts at the same age ----------------------------------------------------------

    def _compare_starts(
        self, launches: list[Launch], found: Sequence[q.FirstSeen], as_of: q.Snapshot
    ) -> list[Launch]:
        """Judge each launch's start against the starts of earlier launches at its age:
        of its family (the fastest start) and of its size class from every peer family
        (relative adoption). The earlier launches are read once, and every figure both
        comparisons need in one batch."""
        young = [x for x in launches if x.gained is not None and x.age > timedelta(0)]
        if not young:
            return launches
        # Rivals were sighted before the young launch they are compared with: none after
        # the newest one. Only those of a young launch's family or class are judged.
        until = max(x.first_seen for x in young)
        sightings = q.first_seen_between(self.db, self.snapshots[0].taken_at, until, self.peers)
        sizes = ms.parameters_of(self.db, [e.model_id for e in (*sightings, *found)])
        size_class = {e.repo_id: class_of(sizes.get(e.model_id)).key for e in (*sightings, *found)}
        families = {x.family for x in young}
        classes = {size_class[x.repo_id] for x in young} - {UNKNOWN}
        earlier = self._judged(
            [e for e in sightings if e.family in families or size_class[e.repo_id] in classes]
        )
        # Each young launch's rivals: the earlier launches of its family, and those of
        # its size class (known sizes only); each with the snapshots near the age it has.
        rivals: dict[str, tuple[list[q.FirstSeen], list[q.FirstSeen]]] = {}
        for launch in young:
            before = [e for e in earlier if e.snapshot.taken_at < launch.first_seen]
            own = size_class[launch.repo_id]
            rivals[launch.repo_id] = (
                [e for e in before if e.family == launch.family],
                [e for e in before if own != UNKNOWN and size_class[e.repo_id] == own],
            )
        near: dict[tuple[str, str], list[int]] = {}
        for launch in young:
            for e in {r.repo_id: r for group in rivals[launch.repo_id] for r in group}.values():
                target = parse_timestamp(e.snapshot.taken_at) + launch.age
                near[(launch.repo_id, e.repo_id)] = self._snapshots_near(target, as_of)
        model_of = {e.repo_id: e.model_id for e in earlier}
        figures = q.all_time_at(
            self.db, [(sid, model_of[e]) for (_, e), ids in near.items() for sid in ids]
        )
        taken = {s.id: s.taken_at for s in self.snapshots}

        def starts(launch: Launch, group: Sequence[q.FirstSeen]) -> dict[str, int | None]:
            found_starts: dict[str, int | None] = {}
            for e in group:
                points = [
                    (taken[sid], figures[(sid, e.model_id)])
                    for sid in near[(launch.repo_id, e.repo_id)]
                    if (sid, e.model_id) in figures
                ]
                found_starts[e.repo_id] = start_at_age(self.sighting(e), points, launch.age)
            return found_starts

        judged: list[Launch] = []
        for launch in launches:
            if launch.gained is None or launch.age <= timedelta(0):
                judged.append(launch)
                continue
            family_rivals, class_rivals = rivals[launch.repo_id]
            own = size_class[launch.repo_id]
            judged.append(
                replace(
                    launch,
                    fastest=fastest_start(launch.gained, launch.age, starts(launch, family_rivals)),
                    adoption=relative_adoption(
                        launch.gained,
                        launch.age,
                        None if own == UNKNOWN else own,
                        starts(launch, class_rivals),
                    ),
                )
            )
        return judged

    def _judged(self, sightings: Sequence[q.FirstSeen]) -> list[q.FirstSeen]:
        """Those of `sightings` that are launches by the rules."""
        self._load_definitions(sightings)
        return [s for s in sightings if self._is_launch(s)]

    def _snapshots_near(self, target: datetime, as_of: q.Snapshot) -> list[int]:
        """Ids of the snapshots within AGE_TOLERANCE of `target`, none after `as_of`."""
        lo = bisect.bisect_left(self._times, target - AGE_TOLERANCE)
        hi = bisect.bisect_right(self._times, target + AGE_TOLERANCE)
        return [
            s.id for s in self.snapshots[lo:hi] if (s.taken_at, s.id) <= (as_of.taken_at, as_of.id)
        ]
