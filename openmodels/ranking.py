"""Ranking arithmetic: order, rank change, share and lead. Pure functions over numbers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class RankedFamily:
    """A family's place in one ranking, and how it changed over the period compared.

    The changes are only those the caller found comparable (`openmodels.comparability`):
    `value_change` runs from the baseline, or from a later snapshot the caller names;
    `rank_change` is the places gained among the families compared over the whole
    period, so a family whose figures do not compare moves no one.
    """

    family: str
    rank: int
    value: int
    share: float
    value_change: int | None = None
    rank_change: int | None = None  # positive = moved up
    share_change: float | None = None  # share among the families compared, now minus then


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


def places_gained(now: Mapping[str, int], then: Mapping[str, int]) -> dict[str, int]:
    """Places each key of both `now` and `then` gained, ranked among those keys only."""
    both = now.keys() & then.keys()
    before = {key: i for i, (key, _) in enumerate(order({k: then[k] for k in both}))}
    return {key: before[key] - i for i, (key, _) in enumerate(order({k: now[k] for k in both}))}


def rank_families(
    current: Mapping[str, int],
    baseline: Mapping[str, int] | None = None,
    since: Mapping[str, int] | None = None,
) -> list[RankedFamily]:
    """Rank `current` values, with share of their total and their changes.

    `baseline` holds the earlier values of the families compared over the whole period:
    their value changes, and their rank changes among themselves. `since` holds, for
    families whose change runs from a later snapshot, their value there: a value change,
    no rank change. A family in neither has no change.
    """
    total = sum(current.values())
    baseline = baseline or {}
    since = since or {}
    moved = places_gained({f: v for f, v in current.items() if f in baseline}, baseline)
    ranked = []
    for i, (family, value) in enumerate(order(current)):
        earlier = baseline.get(family, since.get(family))
        ranked.append(
            RankedFamily(
                family=family,
                rank=i + 1,
                value=value,
                share=value / total if total else 0.0,
                value_change=None if earlier is None else value - earlier,
                rank_change=moved.get(family),
            )
        )
    return ranked


def lead(ranking: list[RankedFamily]) -> Lead | None:
    """The leader against the sum of the families after it; None with fewer than two."""
    if len(ranking) < 2:
        return None
    rest = ranking[1:]
    return Lead(ranking[0].family, ranking[0].value, sum(r.value for r in rest), len(rest))
