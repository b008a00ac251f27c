"""What a chart shows, as plain data: the core builds it, the edges draw and describe it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ChartSpec:
    """What to draw: cumulative series per family label. Rendering happens at the edge.

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
    race: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    race_age: float | None = None
