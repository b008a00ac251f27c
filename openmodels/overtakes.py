"""Who passed whom, and which figures cannot be trusted. Pure functions over totals.

The rules, shared by the overtake alerts and the digest's "overtakes this week":

- Each pair of families has a settled order on each metric: the family last known to
  be strictly ahead. A tie is neither order: it settles nothing and undoes nothing.
- An order settles when one family is strictly ahead in each of the last K snapshots
  (K = the confirmation). A settled order replaced by the other one is an overtake.
- A pair's first order is no overtake (the first snapshot, a new family): it settles
  from a single snapshot.
- Where a family's figures do not compare from one snapshot to the next
  (`openmodels.comparability`: a change of its definition, an anomaly such as its
  all-time figure falling, or its models vanishing), its pairs are settled afresh from
  the figures on the far side, silently: no overtake is drawn across it.
- Judging several snapshots at once (a check that never ran is made up by the next),
  a pair whose order changed is one overtake, whatever happened in between: it is
  judged against its order before them, or against the order it was last settled to
  silently among them.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openmodels.comparability import Counted, set_aside

METRICS = ("all_time", "30d")

Totals = Mapping[str, int]
PairKey = tuple[str, str, str]  # (metric, family_a, family_b) with family_a < family_b
Orders = Mapping[PairKey, str]  # pair -> the family last known to be strictly ahead


@dataclass(frozen=True)
class Overtake:
    """`passer` moved ahead of `passed` on `metric`; values are from the newest snapshot."""

    metric: str
    passer: str
    passed: str
    passer_value: int
    passed_value: int


@dataclass(frozen=True)
class Point:
    """One snapshot as the rules see it: figures per metric, and the snapshot as the
    comparability rule sees it."""

    values: Mapping[str, Totals]  # metric -> family -> figure
    counted: Counted


@dataclass(frozen=True)
class Replay:
    """What judging a run of snapshots found, and the orders it leaves settled."""

    overtakes: list[Overtake]
    orders: dict[PairKey, str]


def distrusted(before: Point, after: Point) -> frozenset[str]:
    """Families whose figures do not compare from `before` to `after`."""
    families = before.counted.present | after.counted.present
    return frozenset(set_aside(before.counted, after.counted, families))


def leader(window: Sequence[Totals], a: str, b: str) -> str | None:
    """The one of `a`, `b` strictly ahead in every snapshot of `window`, if either is."""
    if not window or any(a not in s or b not in s for s in window):
        return None
    if all(s[a] > s[b] for s in window):
        return a
    if all(s[b] > s[a] for s in window):
        return b
    return None


def settle(
    orders: Orders, points: Sequence[Point], i: int, confirm: int, metrics: Sequence[str] = METRICS
) -> dict[PairKey, tuple[str | None, bool]]:
    """How points[i] changes `orders`: pair -> (its new leader or None, is it an overtake).

    A settled order is replaced only by the other one held in each snapshot of the
    window points[i-confirm+1 .. i]. A pair with no settled order takes the one in
    points[i], silently, as does a pair with a distrusted family: one whose figures
    do not compare (see `distrusted`) between any two snapshots from the one before the
    window to points[i], since a window straddling the break compares unlike figures.
    """
    first = i - confirm + 1
    broken = frozenset[str]().union(
        *(distrusted(points[j - 1], points[j]) for j in range(max(1, first), i + 1))
    )
    changes: dict[PairKey, tuple[str | None, bool]] = {}
    for metric in metrics:
        latest = points[i].values.get(metric, {})
        window = [p.values.get(metric, {}) for p in points[first : i + 1]] if first >= 0 else []
        keys = {k for k in orders if k[0] == metric}
        keys |= {(metric, a, b) for a, b in itertools.combinations(sorted(latest), 2)}
        for key in sorted(keys):
            _, a, b = key
            was = orders.get(key)
            if was is None or a in broken or b in broken:
                now = leader([latest], a, b)
                if now != was:
                    changes[key] = (now, False)  # a first order, or settled afresh
                continue
            now = leader(window, a, b)
            if now is not None and now != was:
                changes[key] = (now, True)
    return changes


def replay(
    points: Sequence[Point],
    start: int,
    *,
    confirm: int = 1,
    orders: Orders | None = None,
    metrics: Sequence[str] = METRICS,
) -> Replay:
    """Judge points[start:], oldest first, and report each pair whose order changed once.

    `orders` are the settled orders as of points[start-1]; points[:start] serve only as
    the confirmation windows reaching back before `start`. With `orders` None (nothing
    settled yet), the orders are first settled silently over points[:start]. Overtakes
    carry the newest snapshot's figures, in `metrics` order, largest passer first.
    """
    if confirm < 1:
        raise ValueError("confirm must be at least 1")
    current: dict[PairKey, str] = {}
    if orders is None:
        for i in range(min(start, len(points))):
            _apply(current, settle(current, points, i, confirm, metrics))
    else:
        current = dict(orders)
    # The order each pair is judged against: the one settled before `start`, or set
    # silently since (a first order, or settled afresh across a break).
    reference = dict(current)
    for i in range(start, len(points)):
        changes = settle(current, points, i, confirm, metrics)
        _apply(current, changes)
        _apply(reference, {k: change for k, change in changes.items() if not change[1]})
    latest = points[-1].values if points else {}
    found = []
    for key, now in current.items():
        was = reference.get(key)
        if was is None or was == now:
            continue
        metric, a, b = key
        passed = b if now == a else a
        values = latest.get(metric, {})
        found.append(Overtake(metric, now, passed, values.get(now, 0), values.get(passed, 0)))
    found.sort(key=lambda o: (metrics.index(o.metric), -o.passer_value, o.passer, o.passed))
    return Replay(found, current)


def _apply(orders: dict[PairKey, str], changes: Mapping[PairKey, tuple[str | None, bool]]) -> None:
    for key, (now, _) in changes.items():
        if now is None:
            orders.pop(key, None)
        else:
            orders[key] = now
