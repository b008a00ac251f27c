"""Regions: families grouped by the `region` their definition carries. Pure functions.

A region is free text from the families file, shown as written. Names that differ
only in case are one region, spelled as the first family (in file order) spells it,
so a stray "china" does not split China in two. A family without a region, or one
the families file no longer defines, counts under "Other".

A region's change over a period adds up the changes of its families whose figures
compare over it (`openmodels.comparability`); the others are set aside and named, so
a widened glob is never a region's growth.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from openmodels.comparability import Why
from openmodels.families import Family
from openmodels.ranking import RankedFamily, places_gained, rank_families

OTHER = "Other"

Point = tuple[str, int]  # (ISO 8601 UTC timestamp, value), as the store keeps them


def region_names(families: Iterable[Family]) -> dict[str, str]:
    """family key -> its region's display name, one spelling per region."""
    spelling: dict[str, str] = {}
    regions: dict[str, str] = {}
    for family in families:
        name = family.region or OTHER
        regions[family.key] = spelling.setdefault(name.casefold(), name)
    return regions


def region_of(regions: Mapping[str, str], family: str) -> str:
    """The region family `family` counts under (Other if the mapping does not know it)."""
    return regions.get(family, OTHER)


def region_totals(values: Mapping[str, int], regions: Mapping[str, str]) -> dict[str, int]:
    """Sum per-family `values` into their regions."""
    totals: dict[str, int] = {}
    for family, value in values.items():
        region = region_of(regions, family)
        totals[region] = totals.get(region, 0) + value
    return totals


def region_members(
    values: Mapping[str, int], regions: Mapping[str, str]
) -> dict[str, list[tuple[str, int]]]:
    """Per region, its families with their values, largest first (ties by key)."""
    members: dict[str, list[tuple[str, int]]] = {}
    for family, value in sorted(values.items(), key=lambda item: (-item[1], item[0])):
        members.setdefault(region_of(regions, family), []).append((family, value))
    return members


def region_series(
    series: Mapping[str, Sequence[Point]], regions: Mapping[str, str]
) -> dict[str, list[Point]]:
    """Per region, the sum at each snapshot of the values of its families in that snapshot.

    A family missing from a snapshot adds nothing to it: the sum is what the store
    holds, not an estimate.
    """
    sums: dict[str, dict[str, int]] = {}
    for family, points in series.items():
        by_time = sums.setdefault(region_of(regions, family), {})
        if not by_time:
            by_time.update(points)
            continue
        get = by_time.get  # a year of daily snapshots of every family: keep the loop lean
        for taken_at, value in points:
            by_time[taken_at] = get(taken_at, 0) + value
    return {region: sorted(by_time.items()) for region, by_time in sums.items()}


def region_ranking(
    current: Mapping[str, int],
    compared_before: Mapping[str, int] | None,
    regions: Mapping[str, str],
) -> list[RankedFamily]:
    """Regions ranked by the sum of their families' `current` values.

    `compared_before` holds the earlier values of the families compared over the period
    (None: no earlier snapshot). A region's change adds up those families' changes; its
    rank change is the places its sum of them gained, and its share change is its share
    of them now minus then. A region with none of them has no change.
    """
    ranked = rank_families(region_totals(current, regions))
    if compared_before is None:
        return ranked
    kept = [f for f in current if f in compared_before]
    now = region_totals({f: current[f] for f in kept}, regions)
    then = region_totals({f: compared_before[f] for f in kept}, regions)
    moved = places_gained(now, then)
    all_now, all_then = sum(now.values()), sum(then.values())
    return [
        replace(
            r,
            value_change=now[r.family] - then[r.family],
            rank_change=moved[r.family],
            share_change=now[r.family] / all_now - then[r.family] / all_then
            if all_now and all_then
            else None,
        )
        if r.family in then
        else r
        for r in ranked
    ]


def region_set_aside(
    why: Mapping[str, Why], regions: Mapping[str, str]
) -> dict[str, dict[str, Why]]:
    """Per region, its families not compared over the period (`why`: family -> reason)."""
    found: dict[str, dict[str, Why]] = {}
    for family, reason in sorted(why.items()):
        found.setdefault(region_of(regions, family), {})[family] = reason
    return found
