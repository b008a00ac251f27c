"""The charts answers carry, in each view: a metric's figure over time, the all-time
downloads gained per week, or a share of everything tracked.

Each line adds up some families (one for `compare` and `family`, a region's for
`regions`). Whatever the view, a line is drawn apart where what it counts changes (a
definition changed, a count fell for good, a family joined the sum), each such place is
named in the alt text, the day-one estimate's points are marked and labelled, and
gains and crossings are judged only between figures that compare
(`openmodels.comparability`, `openmodels.momentum`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from commands.common import ChartMarks, chart_alt_text, chart_marks, estimate_label
from openmodels.chart_spec import SHARE, TOTAL, WEEKLY, ChartSpec, Projection
from openmodels.forecast import Forecast, own_paces
from openmodels.momentum import membership_changes, shares, weekly
from openmodels.timeline import Timeline
from storage import queries as q
from storage.estimates import estimate_notes
from storage.snapshots import format_timestamp, parse_timestamp
from storage.sql import Connection

# What each view's chart shows, said in its title ("Qwen vs Llama: cumulative downloads").
WHAT = {
    (TOTAL, "all_time"): "cumulative downloads",
    (TOTAL, "30d"): "downloads in the last 30 days",
    (WEEKLY, "all_time"): "all-time downloads gained per week",
    (SHARE, "all_time"): "share of all tracked downloads",
}
# The same, as the alt text says it ("Line chart of cumulative Hub downloads up to …").
_ALT = {
    (TOTAL, "all_time"): "cumulative Hub downloads",
    (TOTAL, "30d"): "Hub downloads in the last 30 days",
    (WEEKLY, "all_time"): "Hub all-time downloads gained per week",
    (SHARE, "all_time"): "shares of all tracked Hub downloads",
}


@dataclass(frozen=True)
class Line:
    """One line of a chart: `label`, adding up the families `keys` (named `names`, in the
    same order, where the chart names one: a region's line)."""

    label: str
    keys: tuple[str, ...]
    names: tuple[str, ...] = ()

    def name(self, key: str) -> str:
        """How the chart names family `key` of this line: a family's line, by its own label."""
        if len(self.keys) == 1:
            return self.label
        return self.names[self.keys.index(key)] if self.names else key


def lines_chart(
    db: Connection,
    timeline: Timeline,
    latest: q.Snapshot,
    lines: Sequence[Line],
    *,
    title: str,
    filename: str,
    metric: str = "all_time",
    view: str = TOTAL,
    projections: Sequence[Projection] = (),
    since: str | None = None,
) -> ChartSpec:
    """The chart of `lines` by `metric` in `view`, up to the latest snapshot (from `since`,
    a timestamp, when given)."""
    notes = estimate_notes(db)
    partial = {n.taken_at for n in notes if not n.whole}
    keys = sorted({k for line in lines for k in line.keys})
    every = q.family_series(db, None if view == SHARE else keys, metric, since=since)
    series: dict[str, list[tuple[str, float]]] = {}
    breaks: dict[str, list[str]] = {}
    joined: dict[str, list[str]] = {}  # per line, where a family joined or left its sum
    unsure: dict[str, list[str]] = {}  # per line, its missing data: drawn, never judged
    if view == SHARE:
        skip = partial | {t for f in every for t in timeline.anomalous_times(f)}
        found, changes = shares(
            every,
            {line.label: line.keys for line in lines},
            skip,
            {f: [b.at.taken_at for b in timeline.breaks(f)] for f in every},
        )
        for line in lines:
            series[line.label] = found[line.label]
            breaks[line.label] = changes
    else:
        for line in lines:
            summed, joins = _sum(every, line.keys, partial if len(line.keys) > 1 else set())
            own = sorted({b.at.taken_at for f in line.keys for b in timeline.breaks(f)})
            joined[line.label] = joins
            if view == WEEKLY:
                skip = {t for f in line.keys for t in timeline.anomalous_times(f)}
                steps = weekly(summed, [*own, *joins], skip)
                series[line.label] = steps.points
                breaks[line.label] = steps.starts
            else:
                series[line.label] = [(t, float(v)) for t, v in summed]
                breaks[line.label] = sorted({*own, *joins})
                unsure[line.label] = sorted(
                    {t for f in line.keys for t in timeline.anomalous_times(f)}
                )
    marks = _marks(timeline, lines, series, breaks, joined, view)
    shown = {t for points in series.values() for t, _ in points}
    estimated = [n for n in notes if n.taken_at in shown]
    label = estimate_label(estimated) if estimated else ""
    return ChartSpec(
        title=f"{title}: {WHAT[view, metric]}",
        series=series,
        metric=metric,
        snapshot_date=latest.date,
        alt_text=chart_alt_text(
            series,
            latest.date,
            _ALT[view, metric],
            marks,
            view=view,
            estimated=[n.taken_at for n in estimated],
            estimate=label,
            projections=projections,
            unsure=unsure,
        ),
        filename=filename,
        sample=latest.is_sample,
        breaks=marks.breaks,
        view=view,
        estimated=[n.taken_at for n in estimated],
        estimate_label=label,
        unsure=unsure,
        projections=list(projections) if view == TOTAL and metric == "all_time" else [],
    )


def _sum(
    every: dict[str, list[tuple[str, int]]], keys: Sequence[str], skip: set[str]
) -> tuple[list[tuple[str, int]], list[str]]:
    """The sum of `keys`' series at each time one of them holds (but `skip`), and the
    times at which the set they add up changes."""
    if len(keys) == 1:
        return list(every.get(keys[0], [])), []
    members = {k: every.get(k, []) for k in keys}
    totals: dict[str, int] = {}
    for points in members.values():
        for t, value in points:
            if t not in skip:
                totals[t] = totals.get(t, 0) + value
    return sorted(totals.items()), membership_changes(members, skip)


def _marks(
    timeline: Timeline,
    lines: Sequence[Line],
    series: dict[str, list[tuple[str, float]]],
    breaks: dict[str, list[str]],
    joined: dict[str, list[str]],
    view: str,
) -> ChartMarks:
    """The breaks each line is drawn apart at, and a sentence naming each."""
    if view == TOTAL:
        found = {
            line.label: [(line.name(k), b) for k in line.keys for b in timeline.breaks(k)]
            for line in lines
        }
        marks = chart_marks(found, series)  # type: ignore[arg-type]
    else:
        marks = ChartMarks()
    kept = {label: set(marks.breaks.get(label, [])) for label in series}
    sentences = list(marks.sentences)
    for line in lines:
        points = series.get(line.label) or []
        inside = {t for t, _ in points[1:]}
        for t in breaks.get(line.label, []):
            if t not in inside or t in kept[line.label]:
                continue
            kept[line.label].add(t)
            if view == SHARE:
                continue
            if t in joined.get(line.label, []):
                sentences.append(f"{line.label} adds up other families from {t[:10]}")
            elif view == WEEKLY:
                sentences.append(f"{line.label} is counted afresh from {t[:10]}")
    if view == SHARE:
        changed = sorted({t for found in kept.values() for t in found})
        if changed:
            days = ", ".join(dict.fromkeys(t[:10] for t in changed))
            sentences.append(f"the tracked total changed what it counts on {days}")
    return ChartMarks({label: sorted(times) for label, times in kept.items() if times}, sentences)


def projection(
    forecast: Forecast,
    labels: dict[str, str],
    points: dict[str, list[tuple[str, int]]],
) -> Projection:
    """A forecast pass to draw ahead of its two lines (`labels`: key -> line label,
    `points`: each key's comparable figures over the forecast's window)."""
    leader_pace, trailer_pace = own_paces(
        forecast, points[forecast.leader], points[forecast.trailer]
    )
    last = forecast.trend.last
    low, high = forecast.range_days()
    start = parse_timestamp(last)
    return Projection(
        leader=labels[forecast.leader],
        trailer=labels[forecast.trailer],
        start=last,
        leader_value=dict(points[forecast.leader])[last],
        trailer_value=dict(points[forecast.trailer])[last],
        leader_pace=leader_pace,
        trailer_pace=trailer_pace,
        at=format_timestamp(forecast.moment()),
        low=format_timestamp(start + timedelta(days=low)),
        high=format_timestamp(start + timedelta(days=high)),
    )
