"""Launches: models new on the Hub, told apart from models merely new to the store. Pure.

A model's *sighting* is the snapshot that first listed it. It is a *launch* when:

- an earlier snapshot of the same source exists (the sighting's baseline). The store's
  first snapshot lists models that were there all along, and so does the first snapshot
  of a source after another: the first live snapshot after imported history, or the
  first imported one after live snapshots, lists every model the other source did not
  cover, new or not. Only live snapshots record family definitions, imported history is
  classified by one families file, and the sample is synthetic: each is judged against
  its own kind, never against another;
- its family's definition did not change between the baseline and the sighting in a way
  that counts it newly (`definitions.counted_because_redefined`): a wider glob or another
  organisation adds models that existed long before;
- the Hub created it at most `days` before the sighting. Where the store has no creation
  date (imported history), the sighting decides.

A period's launches are those whose creation date (the sighting where unknown) falls in
the period, among models sighted by its end; `days` is then the period's length, so a
model counts when "first seen and created in the last N days".

*Fastest start*: a launch's start at an age is the all-time downloads it gained from its
sighting to the snapshot nearest that many days after it (within a day of it). A launch
`d` old (from its sighting to the snapshot the launches are read at) has the fastest
start when its own start beats, strictly, the start at age `d` of every earlier launch
of its family (sighted before it) that has a snapshot within a day of that age, and at
least one does. A launch sighted in the latest snapshot is too young to be compared.

*Relative adoption* (as the ATOM Project judges a new model): the same start at age `d`
divided by the median start at age `d` of the earlier launches of its size class, from
every tracked family, measured the same way. It is given once at least
MIN_CLASS_LAUNCHES of them are measured at that age; a launch of unknown size has no
class to be judged against. The *best start for its size* among some launches is the
highest ratio above 1×: one behind or level with its class's median is never named so,
however it ranks among the others.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol, TypeVar

from openmodels.definitions import Definitions, counted_because_redefined

NEW_DAYS = 7  # the default period of `new`, and the one a launch message covers
AGE_TOLERANCE = timedelta(days=1)  # how far the snapshot that measures a start may be
MIN_CLASS_LAUNCHES = 5  # earlier launches of a size class measured before a ratio is given


def moment(text: str) -> datetime | None:
    """An ISO 8601 timestamp as an aware datetime (UTC when it names no offset); None
    for a date the store cannot read, which is then treated as unknown."""
    try:
        parsed = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Sighting:
    """A model and the snapshot that first listed it."""

    repo_id: str
    family: str
    created_at: str | None  # the Hub's creation date; None when unknown
    first_seen: str  # taken_at of the snapshot that first listed it
    downloads: int  # its all-time downloads then

    @property
    def seen(self) -> datetime:
        return _moment(self.first_seen)

    @property
    def created(self) -> datetime | None:
        return moment(self.created_at) if self.created_at else None

    @property
    def launched(self) -> datetime:
        """When it was launched, as far as the store knows: created, else first seen."""
        return self.created or self.seen


def baselines(snapshots: Sequence[tuple[int, str]]) -> dict[int, int | None]:
    """For snapshots given as (id, source) in time order, the id of the latest earlier
    snapshot of the same source, or None for the first of its source."""
    last: dict[str, int] = {}
    found: dict[int, int | None] = {}
    for snapshot_id, source in snapshots:
        found[snapshot_id] = last.get(source)
        last[source] = snapshot_id
    return found


def is_launch(
    sighting: Sighting,
    before: Definitions | None,
    at: Definitions,
    within: timedelta = timedelta(days=NEW_DAYS),
) -> bool:
    """Whether `sighting` is a launch: created at most `within` before it was first seen.

    `before` holds the family definitions of its baseline, None when it has none; `at`,
    those of the sighting's own snapshot.
    """
    if before is None:
        return False
    if counted_because_redefined(before, at, sighting.family, sighting.repo_id):
        return False
    created = sighting.created
    return created is None or sighting.seen - created <= within


def in_period(sighting: Sighting, start: datetime, end: datetime) -> bool:
    """Launched in (start, end] and sighted by `end`."""
    return sighting.seen <= end and start < sighting.launched <= end


def newest_first(sightings: Iterable[Sighting]) -> list[Sighting]:
    """Latest sighting first, then the latest creation, then by name."""
    ordered = sorted(sightings, key=lambda s: s.repo_id.lower())
    ordered.sort(key=lambda s: (s.seen, s.launched), reverse=True)
    return ordered


def start_at_age(
    sighting: Sighting, points: Iterable[tuple[str, int]], age: timedelta
) -> int | None:
    """All-time downloads gained from the sighting to the point nearest `age` after it.

    `points` are (taken_at, all-time downloads) of the model in snapshots around that
    age. None when none lies within AGE_TOLERANCE of it: not known at that age.
    """
    target = sighting.seen + age
    best: tuple[timedelta, datetime, int] | None = None
    for taken_at, downloads in points:
        when = moment(taken_at)
        if when is None:
            continue
        candidate = (abs(when - target), when, downloads)  # ties: the earlier snapshot
        if best is None or candidate[:2] < best[:2]:
            best = candidate
    if best is None or best[0] > AGE_TOLERANCE:
        return None
    return best[2] - sighting.downloads


@dataclass(frozen=True)
class FastestStart:
    """A launch's start beat every earlier launch of its family at the same age."""

    age: timedelta
    gained: int
    compared: int  # earlier launches measured at that age
    runner_up: str  # the earlier launch with the best start at that age
    runner_up_gained: int


def fastest_start(
    gained: int, age: timedelta, earlier: Mapping[str, int | None]
) -> FastestStart | None:
    """Judge a start of `gained` downloads at `age` against the starts at the same age
    of the earlier launches (repo id -> start; None where not known at that age)."""
    measured = {repo_id: start for repo_id, start in earlier.items() if start is not None}
    if age <= timedelta(0) or not measured:
        return None
    runner_up = max(sorted(measured), key=lambda repo_id: measured[repo_id])
    if gained <= measured[runner_up]:
        return None
    return FastestStart(age, gained, len(measured), runner_up, measured[runner_up])


@dataclass(frozen=True)
class Adoption:
    """A launch's start against the starts of the earlier launches of its size class at
    the same age: `median` of the `compared` ones measured (None with none)."""

    size_class: str | None  # its class's key; None: its size is unknown
    age: timedelta
    gained: int
    compared: int
    median: float | None

    @property
    def enough(self) -> bool:
        return self.size_class is not None and self.compared >= MIN_CLASS_LAUNCHES

    @property
    def ratio(self) -> float | None:
        """Its start over the class's median start; None without enough of them, or
        when their median is no download at all."""
        if not self.enough or not self.median:
            return None
        return self.gained / self.median

    @property
    def ahead(self) -> bool:
        """Whether it started better than its class's median: a start worth naming as a
        best start, which one at 0.35× is not, however it ranks among this week's."""
        return self.ratio is not None and self.ratio > 1


def relative_adoption(
    gained: int, age: timedelta, size_class: str | None, earlier: Mapping[str, int | None]
) -> Adoption:
    """Judge a start of `gained` downloads at `age` against the starts at the same age of
    the earlier launches of its size class (repo id -> start; None where not known at
    that age)."""
    if size_class is None:
        return Adoption(None, age, gained, 0, None)
    measured = sorted(start for start in earlier.values() if start is not None)
    return Adoption(
        size_class, age, gained, len(measured), statistics.median(measured) if measured else None
    )


class Rated(Protocol):
    """A launch as the digest or an answer holds it, with its relative adoption."""

    @property
    def repo_id(self) -> str: ...

    @property
    def adoption(self) -> Adoption | None: ...


RatedT = TypeVar("RatedT", bound=Rated)


def best_for_its_size(launches: Iterable[RatedT]) -> RatedT | None:
    """The launch with the highest relative adoption among those ahead of their class's
    median (`Adoption.ahead`; ties: the first by repo id); None when none is."""
    best: tuple[float, str, RatedT] | None = None
    for launch in launches:
        adoption = launch.adoption
        if adoption is None or adoption.ratio is None or not adoption.ahead:
            continue
        if best is None or (-adoption.ratio, launch.repo_id) < (-best[0], best[1]):
            best = (adoption.ratio, launch.repo_id, launch)
    return best[2] if best else None


@dataclass(frozen=True)
class Launch:
    """A launch as of one snapshot (`as_of`): what the answers and the digest show."""

    repo_id: str
    family: str
    created_at: str | None
    first_seen: str
    downloads_at_first: int  # all-time downloads when first seen
    downloads_now: int | None  # all-time downloads as of `as_of`; None if no longer listed
    as_of: str
    fastest: FastestStart | None = None
    adoption: Adoption | None = None  # None: not compared (too young, or no longer listed)

    @property
    def gained(self) -> int | None:
        """All-time downloads since first seen; None when it is no longer listed."""
        if self.downloads_now is None:
            return None
        return self.downloads_now - self.downloads_at_first

    @property
    def age(self) -> timedelta:
        """From the sighting to `as_of`."""
        return _moment(self.as_of) - _moment(self.first_seen)


def _moment(text: str) -> datetime:
    found = moment(text)
    if found is None:
        raise ValueError(f"unreadable snapshot time {text!r}")
    return found
