"""The day-one estimate: each model's all-time count 30 days before a snapshot. Pure.

The Hub gives each model two counts: its downloads of all time and of the last 30 days
(a rolling count). Their difference is its all-time count 30 days before. Summed per
family, that is a second point for every trend on a store's first day, so `compare`,
`movers --days 30` and every chart have something to show before a month of daily
collections has passed.

What it cannot know is said or left out:
- a model the Hub created within those 30 days did not exist then: it is left out of
  the estimate, as it would be of a snapshot taken then;
- a model whose 30-day count is above its all-time count (the Hub counts the two
  separately, and they do not always agree) would be estimated below zero: it is
  counted as zero, and the answers say how many were;
- it knows no 30-day counts, likes or derivative counts of that day, only all-time
  counts (`storage.schema.m012_estimates`).

Which families get one (`fresh_families`): those the store holds no figure of from the
30 days the estimate spans: every family at a store's first collection, and afterwards
a family newly added to the families file (or a new key for an old one). A family whose
definition widened keeps no estimate: the store holds its figures by the old definition
over those 30 days, and an estimate by the new one among them would change its line's
definition twice; the comparability rule compares it from the change on instead.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from openmodels.launches import moment
from storage.snapshots import ModelRecord

ESTIMATE_DAYS = 30  # what the Hub's rolling count covers


@dataclass(frozen=True)
class Estimate:
    """All-time counts as of `taken_at`, worked out from a snapshot 30 days later."""

    taken_at: datetime
    records: list[ModelRecord]
    floored: int  # models whose estimate came out below zero, counted as zero

    @property
    def families(self) -> frozenset[str]:
        return frozenset(r.family for r in self.records)


def estimate_before(
    records: Sequence[ModelRecord],
    taken_at: datetime,
    families: Collection[str] | None = None,
    days: int = ESTIMATE_DAYS,
) -> Estimate:
    """Each model's all-time count `days` before `taken_at`, from a snapshot's `records`
    (of `families` only, when given): its all-time count minus its 30-day count.

    A model created after that moment is left out; one whose estimate would be negative
    is counted as zero (and in `floored`). The estimate holds all-time counts only: its
    30-day counts, likes and derivative counts are unknown (0, 0 and None).
    """
    then = taken_at - timedelta(days=days)
    estimated: list[ModelRecord] = []
    floored = 0
    for r in records:
        if families is not None and r.family not in families:
            continue
        created = moment(r.created_at) if r.created_at else None
        if created is not None and created > then:
            continue
        value = r.downloads_all_time - r.downloads_30d
        if value < 0:
            floored += 1
            value = 0
        estimated.append(
            replace(r, downloads_30d=0, downloads_all_time=value, likes=0, derivatives=None)
        )
    return Estimate(then, estimated, floored)


def fresh_families(present: Collection[str], counted_lately: Collection[str]) -> set[str]:
    """The families of a snapshot (`present`: those with models in it) to estimate: those
    of which the store holds no figure from the 30 days before it (`counted_lately`)."""
    return set(present) - set(counted_lately)
