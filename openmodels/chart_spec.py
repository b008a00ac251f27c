"""What a chart shows, as plain data: the core builds it, the edges draw and describe it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChartSpec:
    """What to draw: cumulative series per family label. Rendering happens at the edge.

    `breaks` holds, per label, the times from which its line counts by another
    definition (`openmodels.comparability`): the line is drawn apart there, with a
    marker, and no crossing is drawn across it, so the step never reads as growth.

    A race (`race` not empty) draws, per launch label, its downloads since first seen
    by days since first seen (day 0 aligned), instead of `series` over dates, with a
    mark at `race_age`, the age the race is judged at.
    """

    title: str
    series: dict[str, list[tuple[str, int]]]
    metric: str
    snapshot_date: str
    alt_text: str
    filename: str
    sample: bool = False
    breaks: dict[str, list[str]] = field(default_factory=dict)
    race: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    race_age: float | None = None

    def segments(self, label: str) -> list[list[tuple[str, int]]]:
        """The line of `label` in the pieces drawn: split at each of its breaks, so each
        piece after the first starts at the first snapshot counted by a new definition."""
        pieces: list[list[tuple[str, int]]] = []
        cuts = sorted(self.breaks.get(label, ()))
        cut = 0
        for point in self.series.get(label, []):
            starts = not pieces
            while cut < len(cuts) and cuts[cut] <= point[0]:
                cut += 1
                starts = True
            if starts:
                pieces.append([])
            pieces[-1].append(point)
        return pieces


def chart_key(spec: ChartSpec, style: str) -> str:
    """A chart's identity: a hash of what is drawn (title, series, metric, snapshot date,
    the sample mark, the breaks in its lines, a race's lines and mark) and of `style`, the
    version of how it is drawn. Equal keys draw the same PNG; the alt text and the file
    name are not drawn, so they take no part."""
    import hashlib  # here: every answer imports this module, and only the bot hashes

    breaks = {label: sorted(times) for label, times in sorted(spec.breaks.items()) if times}
    drawn = [style, spec.title, spec.series, spec.metric, spec.snapshot_date, spec.sample, breaks]
    if spec.race:  # a race's lines are what is drawn instead of the series
        drawn += [spec.race, spec.race_age]
    text = json.dumps(drawn, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
