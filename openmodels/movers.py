"""Movers: who gained most all-time downloads between two snapshots. Pure functions.

All-time downloads only grow, so the gain between two snapshots is downloads that
happened in between. A family is ranked only when that difference means it: it was
in both snapshots, its total did not fall (a fall is missing data, as in
`overtakes.anomalies`), and its definition did not change in between (new orgs or
globs add models that were downloaded long before). The others are set aside with
the reason, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

Totals = Mapping[str, int]


class AsideReason(StrEnum):
    """Why a family's gain is not ranked."""

    NEW = "new"  # not in the earlier snapshot: its whole total would look like a gain
    GONE = "gone"  # not in the later snapshot
    FELL = "fell"  # its all-time total went down: missing data, not a real decline
    REDEFINED = "redefined"  # its definition changed between the two snapshots


@dataclass(frozen=True)
class Gain:
    """A family's all-time downloads in the two snapshots compared."""

    family: str
    before: int
    after: int

    @property
    def gained(self) -> int:
        return self.after - self.before

    @property
    def growth(self) -> float | None:
        """The gain as a fraction of the earlier total; None when that was zero."""
        return self.gained / self.before if self.before else None


@dataclass(frozen=True)
class SetAside:
    family: str
    reason: AsideReason


@dataclass(frozen=True)
class Movers:
    """Families ranked by absolute gain, largest first, and those not ranked."""

    ranked: list[Gain]
    set_aside: list[SetAside]

    @property
    def fastest(self) -> Gain | None:
        """The ranked family with the highest growth in percent, if any grew."""
        growing = [g for g in self.ranked if g.growth is not None and g.gained > 0]
        return max(growing, key=lambda g: (g.growth, g.gained, g.family), default=None)


def family_movers(before: Totals, after: Totals, redefined: frozenset[str] = frozenset()) -> Movers:
    """Rank families by all-time downloads gained from `before` to `after`.

    `redefined` holds the families whose definition changed between the two
    snapshots; they are set aside whatever their figures say.
    """
    ranked: list[Gain] = []
    aside: list[SetAside] = []
    for family in sorted(set(before) | set(after)):
        if family in redefined:
            aside.append(SetAside(family, AsideReason.REDEFINED))
        elif family not in before:
            aside.append(SetAside(family, AsideReason.NEW))
        elif family not in after:
            aside.append(SetAside(family, AsideReason.GONE))
        elif after[family] < before[family]:
            aside.append(SetAside(family, AsideReason.FELL))
        else:
            ranked.append(Gain(family, before[family], after[family]))
    ranked.sort(key=lambda g: (-g.gained, g.family))
    return Movers(ranked, aside)
