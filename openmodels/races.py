"""Launch races: launches side by side from the day each was first seen, and who is
ahead at the same age. Pure functions over `openmodels.launches` values.

A runner's line is the all-time downloads it gained since the store first listed it,
at each snapshot since, by its age then (day 0: first seen). The race is judged at the
age every runner has reached, the youngest's: each runner's start at that age as
`launches.start_at_age` measures it (the snapshot nearest that age, within a day),
the same measure `new` judges starts by.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from openmodels.launches import Launch, Sighting, moment, start_at_age

DAY = timedelta(days=1)

AgePoint = tuple[float, int]  # (days since first seen, downloads gained since)


@dataclass(frozen=True)
class Race:
    """The runners' lines, and their starts at the age they have all reached."""

    age: timedelta  # the youngest runner's age
    lines: dict[str, list[AgePoint]]  # repo id -> its line, in the runners' order
    standings: list[tuple[str, int]]  # measured at `age`: (repo id, gained), most first
    unmeasured: list[str]  # runners with no snapshot within a day of `age`

    @property
    def leader(self) -> str | None:
        """The runner strictly ahead at `age`; None on a tie or with fewer than two."""
        if len(self.standings) < 2 or self.standings[0][1] == self.standings[1][1]:
            return None
        return self.standings[0][0]


def sighting_of(launch: Launch) -> Sighting:
    """The sighting a launch was first seen at, as the start measures read it."""
    return Sighting(
        launch.repo_id,
        launch.family,
        launch.created_at,
        launch.first_seen,
        launch.downloads_at_first,
    )


def age_line(launch: Launch, history: Sequence[tuple[str, int]]) -> list[AgePoint]:
    """A runner's line from its history (taken_at, all-time downloads): its points from
    first seen to the launch's `as_of`, as (days since first seen, downloads since)."""
    seen, until = moment(launch.first_seen), moment(launch.as_of)
    line = []
    for taken_at, downloads in history:
        when = moment(taken_at)
        if when is None or seen is None or until is None or not seen <= when <= until:
            continue
        line.append(((when - seen) / DAY, downloads - launch.downloads_at_first))
    return line


def judge_race(
    launches: Sequence[Launch], histories: Mapping[str, Sequence[tuple[str, int]]]
) -> Race:
    """The race of `launches` (at least one), each with its history by repo id."""
    age = min(launch.age for launch in launches)
    measured: list[tuple[str, int]] = []
    unmeasured: list[str] = []
    for launch in launches:
        history = histories.get(launch.repo_id, ())
        start = start_at_age(sighting_of(launch), history, age)
        if start is None:
            unmeasured.append(launch.repo_id)
        else:
            measured.append((launch.repo_id, start))
    measured.sort(key=lambda runner: -runner[1])  # stable: ties keep the runners' order
    lines = {x.repo_id: age_line(x, histories.get(x.repo_id, ())) for x in launches}
    return Race(age, lines, measured, unmeasured)
