"""The store's snapshots as the comparability rule sees them, read once per answer.

`read_timeline` reads every snapshot's definitions and all-time totals inside the
caller's read transaction, finds the anomalies (`comparability.falls`) and keeps each
snapshot as a `comparability.Counted`. Everything that spans time asks
`openmodels.comparability` through it: a ranking's changes, movers, regions, the
runs forecasts fit, the breaks charts mark, the pairs alerts judge.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from sqlite_utils import Database

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
    falls,
    last_break,
    set_aside,
)
from openmodels.forecast import Change
from openmodels.regions import region_of
from storage import queries as q

Point = tuple[str, int]  # (ISO 8601 UTC timestamp, value), as the store keeps them


@dataclass(frozen=True)
class Timeline:
    """Every snapshot of the store, oldest first, as the rule sees it."""

    snapshots: list[Counted]
    falls: dict[int, list[Fall]] = field(default_factory=dict)  # snapshot id -> its anomalies

    @cached_property
    def _by_id(self) -> dict[int, Counted]:
        return {s.id: s for s in self.snapshots}

    def at(self, snapshot: q.Snapshot | int) -> Counted:
        """The snapshot `snapshot` (or of that id) as the rule sees it."""
        return self._by_id[snapshot if isinstance(snapshot, int) else snapshot.id]

    def basis(self, family: str, baseline: q.Snapshot, latest: q.Snapshot) -> Basis:
        """Where `family`'s change from `baseline` to `latest` may be measured from."""
        return basis(self.snapshots, family, self.at(baseline), self.at(latest))

    def set_aside(
        self, earlier: q.Snapshot, later: q.Snapshot, families: Collection[str]
    ) -> dict[str, Why]:
        """The families of `families` that do not compare between the two, and why."""
        return set_aside(self.at(earlier), self.at(later), families)

    def breaks(self, family: str) -> list[Break]:
        return breaks(self.snapshots, family)

    def last_break(self, family: str, latest: q.Snapshot) -> Break | None:
        return last_break(self.snapshots, family, self.at(latest))

    def run(self, family: str, latest: q.Snapshot) -> list[Counted]:
        """The snapshots a trend of `family` up to `latest` may use."""
        return comparable_run(self.snapshots, family, self.at(latest))


def read_timeline(db: Database) -> Timeline:
    """Every snapshot of the store as the rule sees it, from one read transaction."""
    snapshots = q.list_snapshots(db)
    ids = [s.id for s in snapshots]
    all_time = {i: figures["all_time"] for i, figures in q.figures_of(db, ids).items()}
    definitions = q.definitions_of(db, ids)
    found = falls([Figures(all_time[i], definitions[i]) for i in ids])
    counted = [
        Counted(
            s.id,
            s.taken_at,
            s.source,
            definitions[s.id],
            frozenset(all_time[s.id]),
            frozenset(f.family for f in fell),
        )
        for s, fell in zip(snapshots, found, strict=True)
    ]
    return Timeline(counted, {s.id: fell for s, fell in zip(snapshots, found, strict=True) if fell})


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
    """Each family's series up to `latest`, cut to the snapshots its trend may use."""
    cut: dict[str, list[Point]] = {}
    changed: dict[str, Change] = {}
    fell: set[str] = set()
    for family, points in series.items():
        run = {s.taken_at for s in timeline.run(family, latest)}
        cut[family] = [p for p in points if p[0] in run]
        since = timeline.last_break(family, latest)
        if since is not None:
            changed[family] = Change(family, since.at.taken_at)
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
