"""Views of momentum: all-time downloads gained per week, and shares of everything
tracked, over time. Pure functions over (timestamp, value) series.

Cumulative lines are nearly straight and hide who is accelerating; these views show it,
and follow the comparability rule as every figure over time does: a gain is measured
only between snapshots whose figures compare (within a run between breaks, without
anomalies), and a share only where the tracked total is what it was, its changes (a
family added, one redefined) drawn as breaks rather than as moves.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from openmodels.chart_spec import split_at

Point = tuple[str, int]  # (ISO 8601 UTC timestamp, value)
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Steps:
    """Downloads gained per week, as steps: each point's value holds from its time to the
    next point's, the last point closing the last step. `starts`: the times where a run
    after the first starts (its figures do not compare with the run before)."""

    points: list[tuple[str, float]] = field(default_factory=list)
    starts: list[str] = field(default_factory=list)


def runs(points: Sequence[Point], breaks: Collection[str] = (), skip: Collection[str] = ()
         ) -> list[list[Point]]:  # fmt: skip
    """`points` cut into runs whose figures compare: apart at each break (a time from which
    the series counts afresh), without the points at the times of `skip` (anomalies)."""
    pieces = split_at(points, sorted(breaks))
    kept = [[p for p in piece if p[0] not in skip] for piece in pieces]
    return [run for run in kept if run]


def weekly(points: Sequence[Point], breaks: Collection[str] = (), skip: Collection[str] = ()
           ) -> Steps:  # fmt: skip
    """All-time downloads gained per week along a cumulative series, run by run.

    Going back from each run's last snapshot, each step ends where the one after it
    starts and starts at the latest snapshot at least a week before its end (or at the
    run's first snapshot, for a shorter last step back); its value is its gain over its
    length, per seven days. Daily snapshots give weekly gains ending at the latest one,
    the figures `movers` ranks; two snapshots 30 days apart give one step, the month's
    average week.
    """
    steps = Steps()
    for run in runs(points, breaks, skip):
        if len(run) < 2:
            continue
        anchors = [run[-1]]
        rest = run[:-1]
        while rest:
            limit = _moment(anchors[-1][0]) - WEEK
            earlier = [p for p in rest if _moment(p[0]) <= limit]
            anchor = earlier[-1] if earlier else rest[0]
            anchors.append(anchor)
            rest = [p for p in rest if p[0] < anchor[0]]
        anchors.reverse()
        if steps.points:  # a run after one already drawn: apart from it
            steps.starts.append(anchors[0][0])
        for (t0, v0), (t1, v1) in pairwise(anchors):
            days = (_moment(t1) - _moment(t0)).total_seconds() / 86_400
            steps.points.append((t0, (v1 - v0) / days * 7))
        steps.points.append((anchors[-1][0], steps.points[-1][1]))
    return steps


def shares(
    series: Mapping[str, Sequence[Point]],
    groups: Mapping[str, Collection[str]],
    skip: Collection[str] = (),
    breaks: Mapping[str, Collection[str]] | None = None,
) -> tuple[dict[str, list[tuple[str, float]]], list[str]]:
    """Each group's share of everything tracked, over time, and where that total changed
    what it adds up.

    `series` holds every tracked family's figures; `groups` names, per line, the families
    it adds up (one for a family's line, a region's families for a region's). At each
    snapshot not in `skip` (an anomaly of any family, an estimate of only some), a line's
    share is its families' sum over the sum of every family there. The second value is
    the times at which the tracked total changed what it counts (a family appearing or
    disappearing, or counted afresh at one of `breaks`): a share moves there for no
    download, so its line is drawn apart.
    """
    by_time: dict[str, dict[str, int]] = {}
    for family, points in series.items():
        for t, value in points:
            if t not in skip:
                by_time.setdefault(t, {})[family] = value
    counted_afresh = {t for times in (breaks or {}).values() for t in times}
    found: dict[str, list[tuple[str, float]]] = {label: [] for label in groups}
    changes: list[str] = []
    before: frozenset[str] | None = None
    for t in sorted(by_time):
        values = by_time[t]
        present = frozenset(values)
        if before is not None and (present != before or t in counted_afresh):
            changes.append(t)
        before = present
        total = sum(values.values())
        if not total:
            continue
        for label, members in groups.items():
            held = [values[f] for f in members if f in values]
            if held:
                found[label].append((t, sum(held) / total))
    return found, changes


def membership_changes(
    series: Mapping[str, Sequence[Point]], skip: Collection[str] = ()
) -> list[str]:
    """The times at which the set of `series` holding a point changes (after the first
    time any holds one): where a sum of them steps for no download."""
    holding: dict[str, set[str]] = {}
    for name, points in series.items():
        for t, _ in points:
            if t not in skip:
                holding.setdefault(t, set()).add(name)
    changes: list[str] = []
    before: set[str] | None = None
    for t in sorted(holding):
        if before is not None and holding[t] != before:
            changes.append(t)
        before = holding[t]
    return changes


def _moment(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)
