"""What a chart shows, as plain data: the core builds it, the edges draw and describe it."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

Value = int | float
Point = tuple[str, Value]  # (ISO 8601 UTC timestamp, value)
P = TypeVar("P", bound=tuple[str, float])  # a point of any kind of value

# What a chart's values are: a metric's value over time, the all-time downloads gained
# per week (`openmodels.momentum.weekly`, drawn as steps that hold from each point to the
# next), or a share of every tracked family's all-time downloads (a fraction).
TOTAL, WEEKLY, SHARE = "total", "weekly", "share"


@dataclass(frozen=True)
class Projection:
    """A forecast pass drawn ahead of the lines: from the latest snapshot (`start`), each
    family at its own pace over the forecast's window, dashed, up to where they meet
    (`at`), with the pass's 80% range (`low` to `high`). Values per day."""

    leader: str  # line labels
    trailer: str
    start: str
    leader_value: Value
    trailer_value: Value
    leader_pace: float
    trailer_pace: float
    at: str
    low: str
    high: str


@dataclass(frozen=True)
class ChartSpec:
    """What to draw: series per line label. Rendering happens at the edge.

    `view` says what the values are (TOTAL: `metric`'s figure; WEEKLY; SHARE). `breaks`
    holds, per label, the times from which its line counts afresh (a definition change, a
    count fallen for good: `openmodels.comparability`; for a sum or a share, also where
    what it adds up changed): the line is drawn apart there, with a marker, and no
    crossing is drawn across it, so the step never reads as growth. `estimated` holds
    the times of points from the day-one estimate (`openmodels.estimate`): drawn hollow,
    the stretch from them dashed, said in the chart's note (`estimate_label`), and no
    crossing is judged from them. `unsure` holds, per label, the times its figure is
    missing data (an anomaly: `openmodels.comparability`): drawn as they are, but no
    crossing is judged from them either. `projections` are forecast passes to draw ahead.

    A race (`race` not empty) draws, per launch label, its downloads since first seen
    by days since first seen (day 0 aligned), instead of `series` over dates, with a
    mark at `race_age`, the age the race is judged at.
    """

    title: str
    series: Mapping[str, Sequence[Point]]
    metric: str
    snapshot_date: str
    alt_text: str
    filename: str
    sample: bool = False
    breaks: dict[str, list[str]] = field(default_factory=dict)
    view: str = TOTAL
    estimated: list[str] = field(default_factory=list)
    estimate_label: str = ""
    projections: list[Projection] = field(default_factory=list)
    race: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    race_age: float | None = None
    unsure: dict[str, list[str]] = field(default_factory=dict)

    def segments(self, label: str) -> list[list[Point]]:
        """The line of `label` in the pieces drawn: split at each of its breaks, so each
        piece after the first starts at the first snapshot counted afresh."""
        return split_at(self.series.get(label, []), self.breaks.get(label, ()))


def split_at(points: Sequence[P], breaks: Sequence[str]) -> list[list[P]]:
    """`points` (in time order) in pieces, apart at each time of `breaks`: a piece after
    the first starts at the first point at or after a break."""
    pieces: list[list[P]] = []
    cuts = sorted(breaks)
    cut = 0
    for point in points:
        starts = not pieces
        while cut < len(cuts) and cuts[cut] <= point[0]:
            cut += 1
            starts = True
        if starts:
            pieces.append([])
        pieces[-1].append(point)
    return pieces


def judged(
    series: Mapping[str, Sequence[P]],
    estimated: Collection[str],
    unsure: Mapping[str, Collection[str]],
) -> dict[str, list[P]]:
    """Each line's points that a crossing may be judged from: neither the estimate's
    (what it says of the order is no overtake) nor the line's own missing data (an
    organisation not listed for a day is no overtake either)."""
    return {
        label: [p for p in points if p[0] not in estimated and p[0] not in unsure.get(label, ())]
        for label, points in series.items()
    }


def chart_key(spec: ChartSpec, style: str) -> str:
    """A chart's identity: a hash of what is drawn (title, series, metric, snapshot date,
    the sample mark, the breaks in its lines, the view, the estimate's points and label,
    the projected passes, a race's lines and mark) and of `style`, the version of how it
    is drawn. Equal keys draw the same PNG; the alt text and the file name are not drawn,
    so they take no part."""
    import hashlib  # here: every answer imports this module, and only the bot hashes
    from dataclasses import astuple

    breaks = {label: sorted(times) for label, times in sorted(spec.breaks.items()) if times}
    drawn = [
        style,
        spec.title,
        dict(spec.series),
        spec.metric,
        spec.snapshot_date,
        spec.sample,
        breaks,
        spec.view,
        sorted(spec.estimated),
        spec.estimate_label,
        [astuple(p) for p in spec.projections],
    ]
    if any(spec.unsure.values()):  # the crossings drawn leave these out
        drawn.append({label: sorted(t) for label, t in sorted(spec.unsure.items()) if t})
    if spec.race:  # a race's lines are what is drawn instead of the series
        drawn += [spec.race, spec.race_age]
    text = json.dumps(drawn, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
