"""Movers: who gained most all-time downloads between two snapshots. Pure functions.

All-time downloads only grow, so the gain between two snapshots is downloads that
happened in between. A family is ranked only when that difference means it, which is
the comparability rule's to say (`openmodels.comparability`: in both snapshots, by the
same definition, neither an anomaly). The others are set aside with the rule's reason,
never silently dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from openmodels.comparability import Why

Totals = Mapping[str, int]


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
    reason: Why


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


def family_movers(before: Totals, after: Totals, aside: Mapping[str, Why]) -> Movers:
    """Rank families by all-time downloads gained from `before` to `after`.

    `aside` holds every family of either snapshot whose figures do not compare between
    them, with the rule's reason (`comparability.set_aside`); the rest are ranked.
    """
    ranked = [
        Gain(family, before[family], after[family])
        for family in sorted(before.keys() & after.keys())
        if family not in aside
    ]
    ranked.sort(key=lambda g: (-g.gained, g.family))
    return Movers(ranked, [SetAside(family, aside[family]) for family in sorted(aside)])
