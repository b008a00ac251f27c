"""Downloads by size class: each class's total, share and leader, the ranking of the
families within a class, a family's downloads by class, and who took the lead in a class.

Every snapshot's downloads are summed by the sizes known now (`storage.model_sizes`), so
a size read later moves a model's downloads into its class in every snapshot alike: a
change by class is never a size newly read. A ranking within a class is judged as every
ranking is (`openmodels.standings`), and a change of leader within a class by the
overtake rules (`openmodels.overtakes`): both ask the comparability rule
(`openmodels.comparability`) which families two snapshots may compare, so a changed
families file or figures that went backwards make no change either.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from openmodels.overtakes import Point, replay
from openmodels.ranking import rank_families
from openmodels.sizes import (
    ALL_CLASSES,
    CLASSES,
    FROM_FILE,
    FROM_HUB,
    FROM_NAME,
    UNKNOWN,
    SizeClass,
)
from openmodels.timeline import Timeline
from storage import model_sizes as ms
from storage import queries as q
from storage.sql import Connection

BOUNDS = tuple((c.key, c.low or 0) for c in CLASSES)
SOURCES = (FROM_HUB, FROM_NAME, FROM_FILE, UNKNOWN)  # the order answers list them in
METRICS = ("all_time", "30d")


@dataclass(frozen=True)
class ClassFigures:
    """One snapshot's downloads by one metric: per size class and family, and per source
    of the sizes they were classed by."""

    by_class: Mapping[str, Mapping[str, int]]  # class key -> family -> downloads
    by_source: Mapping[str, int]  # size source -> downloads

    @property
    def total(self) -> int:
        return sum(self.by_source.values())

    def of_class(self, key: str) -> dict[str, int]:
        """family -> its downloads in the class `key`."""
        return dict(self.by_class.get(key, {}))

    def of_family(self, family: str) -> dict[str, int]:
        """class key -> the family's downloads in it, for classes it has downloads in."""
        return {
            key: values[family]
            for key, values in self.by_class.items()
            if values.get(family, 0) > 0
        }


def class_figures(rows: Sequence[ms.ClassDownloads], metric: str) -> ClassFigures:
    """The figures of one snapshot's rows (`storage.model_sizes.class_downloads`). Pure."""
    by_class: dict[str, dict[str, int]] = {}
    by_source: dict[str, int] = {}
    for row in rows:
        value = row.downloads_all_time if metric == "all_time" else row.downloads_30d
        families = by_class.setdefault(row.size_class, {})
        families[row.family] = families.get(row.family, 0) + value
        by_source[row.source] = by_source.get(row.source, 0) + value
    return ClassFigures(by_class, by_source)


def read_class_figures(
    db: Connection,
    snapshot_ids: Sequence[int],
    metric: str,
    families: Sequence[str] | None = None,
) -> dict[int, ClassFigures]:
    """Per snapshot, its downloads by `metric` by size class (of `families`, or all)."""
    rows = ms.class_downloads(db, snapshot_ids, BOUNDS, families)
    return {i: class_figures(rows[i], metric) for i in snapshot_ids}


@dataclass(frozen=True)
class ClassSummary:
    """A size class in one snapshot: its downloads, its share of every class's, and the
    family with most downloads in it (None when two share the top)."""

    size_class: SizeClass
    downloads: int
    share: float
    leader: str | None
    leader_downloads: int
    families: int  # families with downloads in the class

    @property
    def leader_share(self) -> float:
        return self.leader_downloads / self.downloads if self.downloads else 0.0


def summarize(figures: ClassFigures) -> list[ClassSummary]:
    """Every class with downloads, smallest first and the unknown class last. Pure."""
    total = figures.total
    found = []
    for size_class in ALL_CLASSES:
        values = {f: v for f, v in figures.of_class(size_class.key).items() if v > 0}
        if not values:
            continue
        ranking = rank_families(values)
        top = ranking[0]
        tied = len(ranking) > 1 and ranking[1].value == top.value
        downloads = sum(values.values())
        found.append(
            ClassSummary(
                size_class,
                downloads,
                downloads / total if total else 0.0,
                None if tied else top.family,
                top.value,
                len(values),
            )
        )
    return found


def source_shares(figures: ClassFigures) -> dict[str, float]:
    """Each size source's share of the downloads, in SOURCES order, those with any."""
    total = figures.total
    return {
        source: figures.by_source[source] / total
        for source in SOURCES
        if total and figures.by_source.get(source)
    }


def class_values(
    db: Connection, metric: str, key: str
) -> Callable[[Sequence[int]], dict[int, dict[str, int]]]:
    """A reader of each family's downloads by `metric` from its models of class `key`,
    per snapshot id (families with none left out): what `top --size` ranks, its changes
    judged by `standings.read_standings` as any ranking's are."""

    def read(snapshot_ids: Sequence[int]) -> dict[int, dict[str, int]]:
        figures = read_class_figures(db, snapshot_ids, metric)
        return {
            i: {f: v for f, v in found.of_class(key).items() if v > 0}
            for i, found in figures.items()
        }

    return read


# -- who took the lead in a class ------------------------------------------------------------


@dataclass(frozen=True)
class LeaderChange:
    """`leader` took the lead among `size_class` models on `metric` from `former`;
    values are from the newest snapshot."""

    metric: str
    size_class: str
    leader: str
    former: str
    leader_value: int
    former_value: int


def class_metric(metric: str, key: str) -> str:
    """The name a class's figures go by in an overtake replay: 'all_time/1-5b'."""
    return f"{metric}/{key}"


def class_values_of(figures: Mapping[str, ClassFigures]) -> dict[str, Mapping[str, int]]:
    """One snapshot's figures per metric (metric -> ClassFigures) as an overtake point's
    values: class metric -> family -> downloads, for every known class."""
    return {
        class_metric(metric, c.key): found.of_class(c.key)
        for metric, found in figures.items()
        for c in CLASSES
    }


def leader_changes(
    points: Sequence[Point], start: int, confirm: int = 1, metrics: Sequence[str] = METRICS
) -> list[LeaderChange]:
    """Classes whose leader changed from points[start-1] to the last point, by the
    overtake rules: the new leader must have overtaken the former one (confirmed over
    `confirm` snapshots, never across figures the comparability rule sets aside). Pure.

    Each point's values hold every class metric (`class_values_of`); points[:start]
    settle the orders silently.
    """
    if start < 1 or start >= len(points):
        return []
    keys = [class_metric(m, c.key) for m in metrics for c in CLASSES]
    judged = replay(points, start, confirm=confirm, metrics=keys)
    passes = {(o.metric, o.passer, o.passed) for o in judged.overtakes}
    found = []
    for key in keys:
        before = _leader(points[start - 1].values.get(key, {}))
        after = _leader(points[-1].values.get(key, {}))
        if before is None or after is None or before == after:
            continue
        if (key, after, before) in passes:
            metric, _, size_class = key.partition("/")
            latest = points[-1].values[key]
            found.append(
                LeaderChange(metric, size_class, after, before, latest[after], latest[before])
            )
    return found


def _leader(values: Mapping[str, int]) -> str | None:
    """The family strictly ahead of every other; None on a tie or with none."""
    ranked = rank_families({f: v for f, v in values.items() if v > 0})
    if not ranked or (len(ranked) > 1 and ranked[1].value == ranked[0].value):
        return None
    return ranked[0].family


def week_leader_changes(
    db: Connection,
    timeline: Timeline,
    latest: q.Snapshot,
    baseline: q.Snapshot | None,
    confirm: int = 1,
) -> list[LeaderChange]:
    """The classes whose leader changed from `baseline` to `latest`, among snapshots of
    `latest`'s source (as the digest's overtakes), judged over the week and the
    `confirm` snapshots before it."""
    if baseline is None:
        return []
    snapshots = [
        s
        for s in q.list_snapshots(db)
        if s.source == latest.source and (s.taken_at, s.id) <= (latest.taken_at, latest.id)
    ]
    after = [(s.taken_at, s.id) > (baseline.taken_at, baseline.id) for s in snapshots]
    if True not in after:
        return []
    first = after.index(True)
    window = snapshots[max(0, first - confirm) :]
    ids = [s.id for s in window]
    rows = ms.class_downloads(db, ids, BOUNDS)
    points = [
        Point(class_values_of({m: class_figures(rows[i], m) for m in METRICS}), timeline.at(i))
        for i in ids
    ]
    return leader_changes(points, first - max(0, first - confirm), confirm)
