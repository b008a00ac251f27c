"""Ranking arithmetic: order, rank change, share and lead. Pure functions over numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RankedFamily:
    """A family's place in one ranking, and where it stood in the baseline ranking."""

    family: str
    rank: int
    value: int
    share: float
    previous_rank: int | None = None
    previous_value: int | None = None

    @property
    def rank_change(self) -> int | None:
        """Places gained since the baseline (positive = moved up), None if it was absent."""
        if self.previous_rank is None:
            return None
        return self.previous_rank - self.rank

    @property
    def value_change(self) -> int | None:
        if self.previous_value is None:
            return None
        return self.value - self.previous_value


@dataclass(frozen=True)
class Lead:
    """How the leader compares with the sum of every family after it."""

    leader: str
    leader_value: int
    rest_value: int
    rest_count: int

    @property
    def ratio(self) -> float | None:
        return self.leader_value / self.rest_value if self.rest_value else None


def order(values: Mapping[str, int]) -> list[tuple[str, int]]:
    """Families by value, largest first; ties broken by name so the order is stable."""
    return sorted(values.items(), key=lambda item: (-item[1], item[0]))


def rank_families(
    current: Mapping[str, int], baseline: Mapping[str, int] | None = None
) -> list[RankedFamily]:
    """Rank `current` values, with share of their total and change against `baseline`."""
    total = sum(current.values())
    previous_ranks = {f: i + 1 for i, (f, _) in enumerate(order(baseline))} if baseline else {}
    ranked = []
    for i, (family, value) in enumerate(order(current)):
        ranked.append(
            RankedFamily(
                family=family,
                rank=i + 1,
                value=value,
                share=value / total if total else 0.0,
                previous_rank=previous_ranks.get(family),
                previous_value=baseline.get(family) if baseline else None,
            )
        )
    return ranked


def lead(ranking: list[RankedFamily]) -> Lead | None:
    """The leader against the sum of the families after it; None with fewer than two."""
    if len(ranking) < 2:
        return None
    rest = ranking[1:]
    return Lead(ranking[0].family, ranking[0].value, sum(r.value for r in rest), len(rest))
