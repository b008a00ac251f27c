"""What a chart shows, as plain data: the core builds it, the edges draw and describe it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChartSpec:
    """What to draw: cumulative series per family label. Rendering happens at the edge."""

    title: str
    series: dict[str, list[tuple[str, int]]]
    metric: str
    snapshot_date: str
    alt_text: str
    filename: str
    sample: bool = False
