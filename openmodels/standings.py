"""A ranking with its changes over a period, each asked of the comparability rule.

`top`, `compare`, `family`, the App Home and the digest show each family's value with
its change since the baseline (the snapshot nearest a week back) and its move in the
ranking. Only families whose figures compare over the whole period
(`openmodels.comparability`) are compared at the baseline and move in the ranking; a
family whose definition changed in the period shows its change since then (when at
least a day of it exists), and the reason travels with it (`Standings.bases`) for the
answer to say.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from openmodels.comparability import Basis, Why
from openmodels.ranking import RankedFamily, rank_families
from openmodels.regions import region_ranking, region_set_aside
from openmodels.timeline import Timeline, read_timeline
from storage import queries as q
from storage.estimates import EstimateNote, estimate_note
from storage.sql import Connection

BASELINE_DAYS = 7


@dataclass(frozen=True)
class Standings:
    """One metric's ranking in the latest snapshot, with changes since the baseline."""

    latest: q.Snapshot
    baseline: q.Snapshot | None
    ranking: list[RankedFamily]
    bases: dict[str, Basis] = field(default_factory=dict)  # per ranked family, with a baseline
    estimate: EstimateNote | None = None  # the baseline's, when it is the day-one estimate
    metric: str = "all_time"
    # Families shown without a change because their figure summed other models at the
    # earlier end (derivative counts, known for the models looked up in each snapshot).
    recounted: frozenset[str] = frozenset()

    def basis(self, family: str) -> Basis | None:
        """Where `family`'s change runs from; None without a baseline."""
        return self.bases.get(family)


# Per snapshot id, family -> the figure a ranking ranks by (families without one left out).
ValuesOf = Callable[[Sequence[int]], Mapping[int, Mapping[str, int]]]


def read_standings(
    db: Connection,
    metric: str,
    timeline: Timeline | None = None,
    latest: q.Snapshot | None = None,
    values: ValuesOf | None = None,
    *,
    estimates: bool = True,
) -> Standings | None:
    """The ranking by `metric` in the latest snapshot (or `latest`), with its changes;
    None when the store holds no snapshot. `timeline`: one already read, to share.
    `values`: the figures to rank instead of the families' totals by `metric` (their
    downloads from one size class, `size_classes.class_values`), changes judged alike.
    The baseline may be the day-one estimate (for all-time downloads, unless `estimates`
    is False), never an estimate holding only some families."""
    latest = latest or q.latest_snapshot(db)
    if latest is None:
        return None
    figures_of: ValuesOf = values or (lambda ids: q.values_of(db, ids, metric))
    baseline = q.snapshot_near(db, latest, days=BASELINE_DAYS, metric=metric, estimates=estimates)
    if baseline is None:
        current = figures_of([latest.id])[latest.id]
        return Standings(latest, None, rank_families(current), metric=metric)
    timeline = timeline or read_timeline(db)
    current = figures_of([latest.id])[latest.id]
    bases = {family: timeline.basis(family, baseline, latest) for family in current}
    starts = sorted({b.start.id for b in bases.values() if b.why and b.start})
    values_then = figures_of([baseline.id, *starts])
    compared = {
        family: values_then[baseline.id][family]
        for family, b in bases.items()
        if b.why is None and family in values_then[baseline.id]
    }
    since = {
        family: values_then[b.start.id][family]
        for family, b in bases.items()
        if b.why is not None and b.start is not None and family in values_then[b.start.id]
    }
    recounted: frozenset[str] = frozenset()
    if metric == "derivatives":
        earlier = {f: baseline.id for f in compared}
        earlier |= {f: b.start.id for f, b in bases.items() if f in since and b.start}
        recounted = _recounted(db, earlier, latest)
        compared = {f: v for f, v in compared.items() if f not in recounted}
        since = {f: v for f, v in since.items() if f not in recounted}
    estimate = estimate_note(db, baseline.id) if baseline.is_estimate else None
    ranking = rank_families(current, compared, since)
    return Standings(latest, baseline, ranking, bases, estimate, metric, recounted)


def _recounted(db: Connection, earlier: Mapping[str, int], latest: q.Snapshot) -> frozenset[str]:
    """The families of `earlier` (family -> the snapshot its change runs from) whose
    derivative figure there sums other models than in `latest`.

    A family's derivative count sums the models whose count was looked up (each family's
    most downloaded, `openmodels.derivative_counts`): when another model enters them, its
    whole count would read as models built on the family in the period. Said less: no
    change."""
    counted = q.derivatives_counted(db, sorted({*earlier.values(), latest.id}))
    now = counted[latest.id]
    return frozenset(f for f, i in earlier.items() if counted[i].get(f) != now.get(f))


@dataclass(frozen=True)
class RegionStandings:
    """Regions ranked by the sum of their families, with their comparable changes, and
    per region the families set aside from them (and why)."""

    ranking: list[RankedFamily]
    aside: dict[str, dict[str, Why]]


def region_standings(
    db: Connection, standings: Standings, regions: Mapping[str, str], metric: str = "all_time"
) -> RegionStandings:
    """`standings` (of `metric`) summed into `regions` (family -> region): each region's
    change adds up its families compared over the period, the others set aside."""
    latest, baseline = standings.latest, standings.baseline
    current = q.values_at(db, latest.id, metric)
    if baseline is None:
        return RegionStandings(region_ranking(current, None, regions), {})
    before = q.values_at(db, baseline.id, metric)
    compared = {f: before[f] for f, b in standings.bases.items() if b.why is None and f in before}
    why = {f: b.why for f, b in standings.bases.items() if b.why is not None}
    return RegionStandings(
        region_ranking(current, compared, regions), region_set_aside(why, regions)
    )
