"""Where two plotted lines cross: the overtakes a chart shows. Pure functions.

Each pair of series is compared at the snapshots both hold. A crossing is a change
of which one is strictly ahead; lines that touch and part on the same side do not
cross. Between two snapshots the lines are drawn straight, so the crossing point is
where those segments meet; where the lines were level at a snapshot, it is there.
Where either line counts by another definition from a snapshot on (a break, see
`openmodels.comparability`), its figures do not compare across it: the order is taken
afresh there, and a change of order across the break is no crossing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

Point = tuple[str, int]  # (ISO 8601 UTC timestamp, value)


@dataclass(frozen=True)
class Crossing:
    """`passer` went ahead of `passed`."""

    passer: str
    passed: str
    at: datetime  # where the straight segments between the snapshots meet
    value: float  # the level at which they meet
    seen: str  # timestamp of the first snapshot with the new order

    @property
    def date(self) -> str:
        """The day the new order was first seen, YYYY-MM-DD: what a label says."""
        return self.seen[:10]


def pair_crossings(
    a: str,
    a_points: Sequence[Point],
    b: str,
    b_points: Sequence[Point],
    breaks: Sequence[str] = (),
) -> list[Crossing]:
    """Every crossing of series `a` and `b`, oldest first; `breaks`: the timestamps from
    which either counts by another definition."""
    return _crossings(a, dict(a_points), b, dict(b_points), sorted(breaks))


def crossings(
    series: Mapping[str, Sequence[Point]], breaks: Mapping[str, Sequence[str]] | None = None
) -> list[Crossing]:
    """Every crossing of every pair of series, in time order; `breaks` holds, per series,
    the timestamps from which it counts by another definition."""
    breaks = breaks or {}
    lookup = {name: dict(points) for name, points in series.items()}
    found = [
        c
        for a, b in combinations(lookup, 2)
        for c in _crossings(
            a, lookup[a], b, lookup[b], sorted({*breaks.get(a, ()), *breaks.get(b, ())})
        )
    ]
    return sorted(found, key=lambda c: (c.at, c.passer, c.passed))


def _crossings(
    a: str, va: Mapping[str, int], b: str, vb: Mapping[str, int], breaks: Sequence[str]
) -> list[Crossing]:
    times = sorted(va.keys() & vb.keys())
    found: list[Crossing] = []
    previous: int | None = None  # index of the last snapshot where one was strictly ahead
    level_since: int | None = None  # first snapshot of a run where the two were level
    cut = 0  # breaks[:cut] are behind us
    for i, t in enumerate(times):
        if cut < len(breaks) and breaks[cut] <= t:
            while cut < len(breaks) and breaks[cut] <= t:
                cut += 1
            previous = level_since = None  # the order is taken afresh across a break
        gap = va[t] - vb[t]
        if gap == 0:
            if level_since is None:
                level_since = i
            continue
        if previous is not None and (gap > 0) != (va[times[previous]] > vb[times[previous]]):
            passer, passed = (a, b) if gap > 0 else (b, a)
            if level_since is not None:
                at, value = _parse(times[level_since]), float(va[times[level_since]])
            else:
                at, value = _meet(times[previous], t, va, vb)
            found.append(Crossing(passer, passed, at, value, t))
        previous, level_since = i, None
    return found


def _meet(t0: str, t1: str, va: Mapping[str, int], vb: Mapping[str, int]) -> tuple[datetime, float]:
    """Where the segments of a and b from t0 to t1 meet (their order differs at the ends)."""
    start, end = _parse(t0), _parse(t1)
    gap0, gap1 = va[t0] - vb[t0], va[t1] - vb[t1]
    fraction = gap0 / (gap0 - gap1)
    at = start + (end - start) * fraction
    return at, va[t0] + (va[t1] - va[t0]) * fraction


def _parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)
