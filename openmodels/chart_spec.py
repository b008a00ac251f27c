"""What a chart shows, as plain data: the core builds it, the edges draw and describe it."""

from __future__ import annotations

import hashlib
import json
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


def chart_key(spec: ChartSpec, style: str) -> str:
    """A chart's identity: a hash of what is drawn (title, series, metric, snapshot date,
    the sample mark) and of `style`, the version of how it is drawn. Equal keys draw
    the same PNG; the alt text and the file name are not drawn, so they take no part."""
    drawn = [style, spec.title, spec.series, spec.metric, spec.snapshot_date, spec.sample]
    text = json.dumps(drawn, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
