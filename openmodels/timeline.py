"""The store's snapshots as the comparability rule sees them, read once per answer.

`read_timeline` reads every snapshot's definitions and all-time totals inside the
caller's read transaction, finds the anomalies and new levels (`comparability.findings`)
and keeps each snapshot as a `comparability.Counted`. Everything that spans time asks
`openmodels.comparability` through it: a ranking's changes, movers, regions, the
runs forecasts fit, the breaks charts mark, the pairs alerts judge.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property

from openmodels.comparability import (
    Basis,
    Break,
    Counted,
    Fall,
    Figures,
    Why,
    basis,
    breaks,
    comparable_run,
    findings,
    set_aside,
)
from openmodels.forecast import WINDOW_DAYS, Change
from openmodels.regions import region_of
from storage import queries as q
from storage.returns import returned_families
from storage.snapshots import format_timestamp, parse_timestamp
from storage.sql import Connection

Point = tuple[str, int]  # (ISO 8601 UTC timestamp, value), as the store keeps them


@dataclass(frozen=True)
class Timeline:
    """Every snapshot of the store, oldest first, as the rule sees it.

    Questions about a period look only at the snapshots in it, so an answer costs the
    same in a store a year old as in a new one.
    """

    snapshots: list[Counted]
    falls: dict[int, list[Fall]] = field(default_factory=dict)  # snapshot id -> its anomalies
    # snapshot id -> the families whose count fell there for good (a new level from it)
    drops: dict[int, list[Fall]] = field(default_factory=dict)

    @cached_property
    def _position(self) -> dict[int, int]:
        return {s.id: i for i, s in enumerate(self.snapshots)}

    @cached_property
    def _times(self) -> list[str]:
        return [s.taken_at for s in self.snapshots]

    @cached_property
    def _breaks(self) -> dict[str, list[Break]]:
        return {}  # family -> its breaks, found once per family

    def at(self, snapshot: q.Snapshot | int) -> Counted:
        """The snapshot `snapshot` (or of that id) as the rule sees it."""
        return self.snapshots[self._where(snapshot)]

    def basis(self, family: str, baseline: q.Snapshot, latest: q.Snapshot) -> Basis:
        """Where `family`'s change from `baseline` to `latest` may be measured from."""
        period = self.snapshots[self._where(baseline) : self._where(latest) + 1]
        return basis(period, family, period[0], period[-1])

    def set_aside(
        self, earlier: q.Snapshot, later: q.Snapshot, families: Collection[str]
    ) -> dict[str, Why]:
        """The families of `families` that do not compare between the two, and why."""
        return set_aside(self.at(earlier), self.at(later), families)

    def breaks(self, family: str) -> list[Break]:
        """Where `family` starts counting by another definition, oldest first."""
        found = self._breaks.get(family)
        if found is None:
            found = self._breaks[family] = breaks(self.snapshots, family)
        return found

    def last_break(self, family: str, latest: q.Snapshot) -> Break | None:
        """The latest break of `family` at or before `latest`."""
        upto = self._where(latest)
        found = [b for b in self.breaks(family) if self._position[b.at.id] <= upto]
        return found[-1] if found else None

    def run(self, family: str, latest: q.Snapshot, since: str = "") -> list[Counted]:
        """The snapshots a trend of `family` up to `latest` may use, from `since` on (a
        timestamp: earlier ones are not looked at)."""
        start = bisect_left(self._times, since)
        return comparable_run(
            self.snapshots[start : self._where(latest) + 1], family, self.at(latest)
        )

    def anomalous_times(self, family: str) -> set[str]:
        """The times of the snapshots whose figures of `family` are missing data."""
        return {s.taken_at for s in self.snapshots if family in s.anomalous}

    def _where(self, snapshot: q.Snapshot | int) -> int:
        return self._position[snapshot if isinstance(snapshot, int) else snapshot.id]


class TimelineCache:
    """The timeline last read from one store, kept while the store holds the same
    snapshots, for a process that answers many questions (`commands.AnswerContext`).

    Snapshots are only ever added, never changed or removed but for an estimate replaced
    by measured history, so their count, their estimates' count, the newest id and the
    newest time tell whether the timeline read before still holds (`q.snapshots_mark`):
    an answer then costs one small query instead of a read of every snapshot. Safe
    across threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kept: tuple[tuple[int, int, int, str], Timeline] | None = None

    def read(self, db: Connection) -> Timeline:
        """The timeline of the snapshots `db`'s read transaction sees."""
        mark = q.snapshots_mark(db)
        with self._lock:
            if self._kept is not None and self._kept[0] == mark:
                return self._kept[1]
        timeline = read_timeline(db)
        with self._lock:
            self._kept = (mark, timeline)
        return timeline


def read_timeline(db: Connection) -> Timeline:
    """Every snapshot of the store as the rule sees it, from one read transaction."""
    snapshots = q.list_snapshots(db)
    ids = [s.id for s in snapshots]
    all_time = {i: figures["all_time"] for i, figures in q.figures_of(db, ids).items()}
    definitions = q.definitions_of(db, ids)
    returned = returned_families(db, ids)
    found = findings([Figures(all_time[i], definitions[i], returned[i]) for i in ids])
    counted = [
        Counted(
            s.id,
            s.taken_at,
            s.source,
            definitions[s.id],
            frozenset(all_time[s.id]),
            frozenset(f.family for f in fell),
            {family: ids[start] for family, start in levels.items()},
            {family: found.level_why(family, start) for family, start in levels.items()},
        )
        for s, fell, levels in zip(snapshots, found.falls, found.levels, strict=True)
    ]
    return Timeline(
        counted,
        {s.id: fell for s, fell in zip(snapshots, found.falls, strict=True) if fell},
        {s.id: drop for s, drop in zip(snapshots, found.drops, strict=True) if drop},
    )


@dataclass(frozen=True)
class Runs:
    """Series cut to their comparable runs, for forecasts: each key's points since its
    last definition change without anomalies, the change that started the run, and the
    keys whose latest figure is an anomaly."""

    series: dict[str, list[Point]]
    changed: dict[str, Change]
    fell: frozenset[str]


def family_runs(
    timeline: Timeline, series: Mapping[str, Sequence[Point]], latest: q.Snapshot
) -> Runs:
    """Each family's series up to `latest`, cut to the snapshots its trend may use
    within the forecasts' window."""
    since = format_timestamp(parse_timestamp(latest.taken_at) - timedelta(days=WINDOW_DAYS))
    cut: dict[str, list[Point]] = {}
    changed: dict[str, Change] = {}
    fell: set[str] = set()
    for family, points in series.items():
        run = {s.taken_at for s in timeline.run(family, latest, since)}
        cut[family] = [p for p in points if p[0] in run]
        last = timeline.last_break(family, latest)
        if last is not None:
            changed[family] = Change(family, last.at.taken_at, last.why)
        if family in timeline.at(latest).anomalous:
            fell.add(family)
    return Runs(cut, changed, frozenset(fell))


def region_runs(
    timeline: Timeline,
    series: Mapping[str, Sequence[Point]],
    regions: Mapping[str, str],
    latest: q.Snapshot,
) -> Runs:
    """Each region's summed series up to `latest`, at the snapshots every one of its
    families (those with models in `latest`) may use: since the last definition change
    of any of them, without anomalies."""
    members: dict[str, list[str]] = {}
    for family in series:
        members.setdefault(region_of(regions, family), []).append(family)
    runs = family_runs(timeline, series, latest)
    summed: dict[str, list[Point]] = {}
    changed: dict[str, Change] = {}
    fell: set[str] = set()
    for region, families in members.items():
        shared = set.intersection(*({t for t, _ in runs.series[f]} for f in families))
        totals: dict[str, int] = {}
        for f in families:
            for t, value in runs.series[f]:
                if t in shared:
                    totals[t] = totals.get(t, 0) + value
        summed[region] = sorted(totals.items())
        found = [runs.changed[f] for f in families if f in runs.changed]
        if found:
            changed[region] = max(found, key=lambda c: (c.at, c.family))
        if runs.fell & set(families):
            fell.add(region)
    return Runs(summed, changed, frozenset(fell))
