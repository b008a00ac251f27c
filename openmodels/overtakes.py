"""Who passed whom, and which figures cannot be trusted. Pure functions over totals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

Totals = Mapping[str, int]


@dataclass(frozen=True)
class Overtake:
    """`passer` moved ahead of `passed` on `metric`; values are from the newest snapshot."""

    metric: str
    passer: str
    passed: str
    passer_value: int
    passed_value: int


@dataclass(frozen=True)
class Anomaly:
    """A family whose figure went backwards (or vanished) between two snapshots."""

    family: str
    metric: str
    previous: int
    current: int | None  # None: the family had no models in the newer snapshot


def anomalies(previous: Totals, current: Totals, metric: str = "all_time") -> list[Anomaly]:
    """Families whose cumulative figure fell or disappeared from `previous` to `current`.

    All-time downloads only grow, so a fall means missing data (an org renamed or
    removed, a partial listing), not a real decline.
    """
    found = []
    for family, before in sorted(previous.items()):
        now = current.get(family)
        if now is None or now < before:
            found.append(Anomaly(family, metric, before, now))
    return found


def overtakes(
    window: Sequence[Totals], metric: str, untrusted: frozenset[str] = frozenset()
) -> list[Overtake]:
    """Overtakes confirmed by `window` = [before, s1, …, sK], oldest first.

    A passed B when B was strictly ahead in `before` and A is strictly ahead in every
    one of s1…sK (K >= 1): with K > 1 a brief swap that flips back gives no alert.
    Families in `untrusted` take part in no overtake.
    """
    if len(window) < 2:
        return []
    before, confirming = window[0], window[1:]
    latest = confirming[-1]
    candidates = [f for f in latest if f not in untrusted and all(f in s for s in window)]
    found = []
    for a in candidates:
        for b in candidates:
            if a == b or not before[b] > before[a]:
                continue
            if all(s[a] > s[b] for s in confirming):
                found.append(Overtake(metric, a, b, latest[a], latest[b]))
    found.sort(key=lambda o: (-o.passer_value, o.passer, o.passed))
    return found


def flips(before: Sequence[str], after: Sequence[str]) -> list[tuple[str, str]]:
    """Pairs (a, b) where a ranks above b in `after` but below it in `before`."""
    position = {f: i for i, f in enumerate(before)}
    pairs = []
    for i, a in enumerate(after):
        for b in after[i + 1 :]:
            if a in position and b in position and position[a] > position[b]:
                pairs.append((a, b))
    return pairs
