"""Which figures two snapshots may compare: the one rule every figure spanning time asks.

A family's figures in two snapshots compare like with like, and their difference is
downloads that happened in between, only when:

- the family has models in both;
- both counted it by the same definition (its rules in the families file, as each
  snapshot recorded them). A snapshot that recorded none compares only with others
  that recorded none: nothing says the rules were the same;
- neither snapshot is an anomaly for it. All-time downloads only grow, so a figure
  below one the family had earlier under the same definition is missing data there
  (an organisation renamed or not listed, a partial listing), not a decline. It stays
  an anomaly until the family is back above that figure, so a recovery never counts
  as growth either;
- both hold it at the same level. A fall that lasts `LASTING` snapshots in a row is no
  gap in the data but a loss for good (a model deleted or made private, a count the
  Hub corrected): the family is counted afresh from the fall on, as after a change of
  definition, so it has changes, forecasts and alerts again, measured from the fall.
  Likewise when models come back (listed before, missing from the snapshot just
  before): the family is counted afresh from their return, since their whole all-time
  count arrives at once. A renamed organisation lists no repositories for a while; its
  models' return is bookkeeping, never growth.

A snapshot's source decides nothing: imported history, the bundled sample, live
collections and any other source compare by this same test, so history stays
comparable with what follows it wherever the definitions match.

The rule takes snapshots as plain data (`Counted`: their definitions, which families
they hold, which are anomalies, at which level, their source), and `findings` finds the
anomalies and the levels from the figures, so the store, the tests and any new source
of snapshots feed it alike.
Ranking changes and arrows, movers, regions, forecasts, the digest, App Home, alerts
and charts all decide what spans time here; finer rules sit on top (a launch needs the
model itself to be new; alerts judge live snapshots only).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from openmodels.periods import A_DAY

MIN_SPAN = A_DAY  # the least a change since a break must cover to be shown
# How many snapshots in a row a family's all-time figure must stay below its earlier
# high for the fall to be a new level rather than missing data. A partial listing is
# gone by the next collection or the one after (the Hub listed the organisation again);
# a deleted model stays deleted. Three daily snapshots keep a family without changes,
# forecasts and alerts for two days at most, while a gap in the data must last two days
# before it is mistaken for a loss. Should the missing models come back after that,
# their return starts another level: it never reads as growth.
LASTING = 3


@dataclass(frozen=True)
class Counted:
    """One snapshot as the rule sees it."""

    id: int
    taken_at: str  # ISO 8601 UTC, as the store keeps it
    source: str
    definitions: Mapping[str, str] = field(default_factory=dict)  # family -> definition
    present: frozenset[str] = frozenset()  # families with models in it
    anomalous: frozenset[str] = frozenset()  # families whose figures there are missing data
    # family -> id of the snapshot its count fell at for good, for a family counted at a
    # new level since (under its definition here); absent before any such fall
    levels: Mapping[str, int] = field(default_factory=dict)
    # family -> why the level it is counted at here began (DROPPED or RETURNED)
    level_why: Mapping[str, Why] = field(default_factory=dict)

    @property
    def date(self) -> str:
        return self.taken_at[:10]


class Why(StrEnum):
    """Why a family's figures in two snapshots do not compare."""

    NEW = "new"  # no models in the earlier snapshot
    GONE = "gone"  # no models in the later snapshot
    REDEFINED = "redefined"  # counted by another definition (the families file changed)
    UNRECORDED = "unrecorded"  # the earlier snapshot recorded no definitions, the later does
    FELL = "fell"  # an anomaly at either end: its all-time figure fell (missing data)
    DROPPED = "dropped"  # its count fell for good between them: a new level from the fall
    RETURNED = "returned"  # models missing before came back between them: a new level


# Why a family is counted afresh from a snapshot on (a break), as against FELL: its line
# goes on from there, so a change since that snapshot can be given.
COUNTED_AFRESH = frozenset({Why.REDEFINED, Why.UNRECORDED, Why.DROPPED, Why.RETURNED})


def why_not(earlier: Counted, later: Counted, family: str) -> Why | None:
    """Why `family`'s figures in `earlier` and `later` do not compare; None if they do."""
    if family not in earlier.present:
        return Why.NEW
    if family not in later.present:
        return Why.GONE
    if not same_definition(earlier.definitions, later.definitions, family):
        return Why.UNRECORDED if not earlier.definitions else Why.REDEFINED
    if earlier.levels.get(family) != later.levels.get(family):
        return later.level_why.get(family, earlier.level_why.get(family, Why.DROPPED))
    if family in earlier.anomalous or family in later.anomalous:
        return Why.FELL
    return None


def comparable(earlier: Counted, later: Counted, family: str) -> bool:
    """Whether `family`'s figures in the two snapshots compare like with like."""
    return why_not(earlier, later, family) is None


def set_aside(earlier: Counted, later: Counted, families: Collection[str]) -> dict[str, Why]:
    """The families of `families` that do not compare between the two snapshots, and why."""
    found = {f: why_not(earlier, later, f) for f in sorted(families)}
    return {f: why for f, why in found.items() if why is not None}


def same_definition(earlier: Mapping[str, str], later: Mapping[str, str], family: str) -> bool:
    """Whether two snapshots' definitions (family -> definition, {} where none were
    recorded) count `family` by the same rules. "Not recorded" is a value like any other:
    two snapshots that recorded none compare, one that did with one that did not never."""
    return earlier.get(family) == later.get(family)


# -- anomalies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """One snapshot's all-time figures and definitions: what `falls` reads."""

    all_time: Mapping[str, int]
    definitions: Mapping[str, str] = field(default_factory=dict)
    # families some of whose models came back here (listed before, not just before)
    returned: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Fall:
    """A family's all-time figure below one it had earlier under the same definition."""

    family: str
    previous: int  # the highest earlier figure under the same definition (and level)
    current: int | None  # None: it has no models, having had some in the snapshot before


@dataclass(frozen=True)
class Findings:
    """What the figures of a run of snapshots say about each, oldest first.

    `falls`: per snapshot, its anomalies (figures that are missing data there). `drops`:
    per snapshot, the families whose count fell there for good (it stayed below for
    `LASTING` snapshots): each is counted at a new level from that snapshot on.
    `returns`: per snapshot, the families counted at a new level from it because models
    came back there. `levels`: per snapshot, family -> the index (in the run) of the
    snapshot its level started at, for each family counted at a new level there.
    """

    falls: list[list[Fall]]
    drops: list[list[Fall]]
    levels: list[dict[str, int]]
    returns: list[list[str]] = field(default_factory=list)

    def level_why(self, family: str, start: int) -> Why:
        """Why `family`'s level starting at snapshot `start` began."""
        return Why.RETURNED if family in self.returns[start] else Why.DROPPED


def findings(history: Sequence[Figures], lasting: int = LASTING) -> Findings:
    """The anomalies and new levels of each snapshot of `history` (oldest first).

    A figure below the highest the family had in any earlier snapshot counted by the
    same definition (at the same level) is an anomaly; so is a family with no models
    right after a snapshot in which it had some, counted by the same definition. When
    `lasting` snapshots holding the family in a row are all below that high, the fall is
    for good: the family is counted at a new level from the first of them, which are
    then no anomalies (later figures below the new level's own high still are). A
    change of definition starts the family afresh: a narrower glob lowers its totals
    legitimately. A snapshot in which some of the family's models came back starts a new
    level too: their whole count arrives there at once.
    """
    found = Findings(
        [[] for _ in history], [[] for _ in history], [{} for _ in history], [[] for _ in history]
    )
    families = sorted({family for snapshot in history for family in snapshot.all_time})
    for family in families:
        _walk(family, history, lasting, found)
    for here in found.falls:
        here.sort(key=lambda fall: fall.family)
    return found


def falls(history: Sequence[Figures], lasting: int = LASTING) -> list[list[Fall]]:
    """For each snapshot of `history` (oldest first), the families that are anomalies in
    it (`findings`)."""
    return findings(history, lasting).falls


@dataclass
class _Level:
    high: int  # the highest figure so far at this level
    start: int | None  # where the level began (a fall for good, a return); None: the first


def _walk(family: str, history: Sequence[Figures], lasting: int, found: Findings) -> None:
    """`findings` for one family: walk its figures, and walk again from a fall found to
    be for good, at the new level."""
    levels: dict[str | None, _Level] = {}  # per definition, the level it is counted at
    run: list[int] = []  # snapshots in a row below the high, under `run_definition`
    run_definition: str | None = None
    anomalies: dict[int, Fall] = {}
    i = 0
    while i < len(history):
        snapshot = history[i]
        definition = snapshot.definitions.get(family)
        value = snapshot.all_time.get(family)
        level = levels.get(definition)
        if value is None:
            before = history[i - 1] if i else None
            if (
                before is not None
                and family in before.all_time
                and before.definitions.get(family) == definition
                and level is not None
            ):
                anomalies[i] = Fall(family, level.high, None)
            i += 1
            continue
        if run and definition != run_definition:
            run = []
        if level is None:
            levels[definition] = _Level(value, None)
        elif family in snapshot.returned:
            levels[definition] = _Level(value, i)
            found.returns[i].append(family)
            run = []
        elif value < level.high:
            run.append(i)
            run_definition = definition
            if len(run) < lasting:
                anomalies[i] = Fall(family, level.high, value)
            else:
                start = run[0]
                fallen_to = _value_at(history, start, family)
                found.drops[start].append(Fall(family, level.high, fallen_to))
                for j in [j for j in anomalies if j >= start]:
                    del anomalies[j]
                levels[definition] = _Level(fallen_to, start)
                found.levels[start][family] = start
                run = []
                i = start + 1
                continue
        else:
            level.high = value
            run = []
        started = levels[definition].start
        if started is None:
            found.levels[i].pop(family, None)
        else:
            found.levels[i][family] = started
        i += 1
    for j, fall in anomalies.items():
        found.falls[j].append(fall)


def _value_at(history: Sequence[Figures], i: int, family: str) -> int:
    return history[i].all_time[family]


# -- breaks and where a change starts ------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """`family` is counted afresh from snapshot `at` on: by another definition, or at a
    new level after its count fell for good."""

    family: str
    at: Counted
    # REDEFINED, UNRECORDED for the first snapshot to record definitions, DROPPED, RETURNED
    why: Why


def breaks(snapshots: Sequence[Counted], family: str) -> list[Break]:
    """Each snapshot (oldest first) whose definition of `family` differs from the one its
    previous figure was counted by, where its count fell for good, or where models came
    back: where its line changes what it counts."""
    found: list[Break] = []
    last: Counted | None = None  # the latest snapshot holding the family so far
    for snapshot in snapshots:
        if family not in snapshot.present:
            continue
        if last is not None and not same_definition(last.definitions, snapshot.definitions, family):
            why = Why.UNRECORDED if not last.definitions else Why.REDEFINED
            found.append(Break(family, snapshot, why))
        elif last is not None and last.levels.get(family) != snapshot.levels.get(family):
            found.append(Break(family, snapshot, snapshot.level_why.get(family, Why.DROPPED)))
        last = snapshot
    return found


def last_break(snapshots: Sequence[Counted], family: str, upto: Counted) -> Break | None:
    """The latest break of `family` at or before snapshot `upto`, if any."""
    found = [b for b in breaks(snapshots, family) if _key(b.at) <= _key(upto)]
    return found[-1] if found else None


def comparable_run(snapshots: Sequence[Counted], family: str, latest: Counted) -> list[Counted]:
    """The snapshots a trend of `family` up to `latest` may use: those since its last
    break whose figures compare with the latest's (none if the latest is an anomaly)."""
    since = last_break(snapshots, family, latest)
    start = _key(since.at) if since else ("", -1)
    return [
        s for s in snapshots if start <= _key(s) <= _key(latest) and comparable(s, latest, family)
    ]


@dataclass(frozen=True)
class Basis:
    """Where `family`'s change up to the latest snapshot is measured from.

    `why` is None when it runs from the baseline asked for. Otherwise it says why not:
    for REDEFINED and UNRECORDED, `at` is the first snapshot counted by its current
    definition; for DROPPED, the snapshot its count fell at for good; for RETURNED, the
    snapshot models came back in; for FELL, the
    snapshot whose figure is an anomaly. `start` is the
    earliest later snapshot whose figures compare with the latest's, at least
    MIN_SPAN before it; None when there is none (no figure to give).
    """

    family: str
    start: Counted | None
    why: Why | None = None
    at: Counted | None = None


def basis(
    snapshots: Sequence[Counted],
    family: str,
    baseline: Counted,
    latest: Counted,
    min_span: timedelta = MIN_SPAN,
) -> Basis:
    """Where `family`'s change from `baseline` to `latest` may be measured from
    (`snapshots`: the timeline holding both, oldest first)."""
    why = why_not(baseline, latest, family)
    if why is None:
        return Basis(family, baseline)
    if why in (Why.NEW, Why.GONE):
        return Basis(family, None, why)
    if family in latest.anomalous:
        return Basis(family, None, Why.FELL, latest)
    at = baseline if why is Why.FELL else _break_at(snapshots, family, latest)
    limit = _moment(latest.taken_at) - min_span
    start = next(
        (
            s
            for s in snapshots
            if _key(baseline) < _key(s) < _key(latest)
            and _moment(s.taken_at) <= limit
            and comparable(s, latest, family)
        ),
        None,
    )
    return Basis(family, start, why, at)


def _break_at(snapshots: Sequence[Counted], family: str, latest: Counted) -> Counted:
    found = last_break(snapshots, family, latest)
    return found.at if found is not None else latest


def _key(snapshot: Counted) -> tuple[str, int]:
    # Time order; the id orders snapshots taken in the same second.
    return (snapshot.taken_at, snapshot.id)


def _moment(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp)
